"""The exceptions of the coursework tools."""

from __future__ import annotations


class MarkerError(ValueError):
    """Malformed solution markers (unbalanced, nested or misspelled), or a markdown cell
    that looks like a written solution but does not follow the convention.

    Attributes
    ----------
    notebook : str or None
        The notebook's path or name, if known.
    cell : int or None
        Index of the cell in ``nb.cells`` (0-based, markdown cells included).
    line : int
        Line number inside the cell (1-based).
    """

    def __init__(
        self,
        problem: str,
        notebook: str | None = None,
        cell: int | None = None,
        line: int | None = None,
    ):
        self.problem, self.notebook, self.cell, self.line = problem, notebook, cell, line
        where = []
        if notebook is not None:
            where.append(str(notebook))
        if cell is not None:
            where.append(f"cell {cell}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class CheckError(RuntimeError):
    """A notebook could not be checked at all (for example, the kernel did not start)."""
