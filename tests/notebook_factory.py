"""Small notebooks built in memory for the coursework tests."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def notebook(*cells):
    """A notebook from ("md" | "code", source) pairs, kernel python3."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_markdown_cell(s) if kind == "md" else new_code_cell(s) for kind, s in cells]
    return nb
