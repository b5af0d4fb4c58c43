"""Notebook files and cells: reading, validating the argument, expanding folders."""

from __future__ import annotations

from pathlib import Path

import nbformat

#: cell metadata key that tags the exercise and answer cells of a student version
METADATA_KEY = "coursework"


def as_notebook(nb, what: str = "nb"):
    """Accept a NotebookNode or a plain dict of an nbformat v4 notebook."""
    if isinstance(nb, (str, Path)):
        raise TypeError(
            f"{what} must be a notebook object (nbformat.read(path, as_version=4)),"
            f" not a path: got {type(nb).__name__} {str(nb)!r}"
        )
    if not isinstance(nb, dict):
        raise TypeError(
            f"{what} must be an nbformat v4 notebook (NotebookNode or dict), "
            f"got {type(nb).__name__}"
        )
    if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ValueError(
            f"{what} must be an nbformat v4 notebook with a list of cells; got "
            f"nbformat={nb.get('nbformat')!r} (convert it with "
            "nbformat.read(path, as_version=4))"
        )
    return nb if isinstance(nb, nbformat.NotebookNode) else nbformat.from_dict(nb)


def cell_source(cell) -> str:
    """A cell's source as one string (nbformat allows a list of lines on disk)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_code(cell) -> bool:
    return cell.get("cell_type") == "code"


def is_markdown(cell) -> bool:
    return cell.get("cell_type") == "markdown"


def read_notebook(path: Path):
    """Read an nbformat v4 notebook; a clear FileNotFoundError or ValueError otherwise."""
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such notebook: {path}") from None
    except Exception as exc:  # malformed JSON, not a notebook, ...
        raise ValueError(f"cannot read {path} as a notebook: {exc}") from None


def collect_notebooks(sources, *, unique_names: bool = True) -> list[Path]:
    """Expand notebook files and folders (their ``*.ipynb``, not recursive) into paths.

    Parameters
    ----------
    sources : str, Path or list of them
        Notebooks and/or folders of notebooks.
    unique_names : bool
        Refuse two different files of the same name (default; outputs are named after
        their sources). ``check --against`` allows them: several students' copies of one
        notebook.

    Raises
    ------
    FileNotFoundError
        If a source does not exist.
    ValueError
        If a file is not a ``.ipynb`` notebook, a folder holds none, or (``unique_names``)
        two sources have the same file name.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths: list[Path] = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            found = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
            if not found:
                raise ValueError(f"no notebooks (*.ipynb) in the folder {src}")
            paths.extend(found)
        elif src.is_file():
            if src.suffix != ".ipynb":
                raise ValueError(f"not a notebook (expected a .ipynb file): {src}")
            paths.append(src)
        else:
            raise FileNotFoundError(f"no such notebook or folder: {src}")
    names: dict[str, Path] = {}
    for p in paths:
        if unique_names and p.name in names and names[p.name].resolve() != p.resolve():
            raise ValueError(f"two sources have the same name {p.name}: {names[p.name]} and {p}")
        names[p.name] = p
    unique = {p.resolve(): p for p in paths}
    return list(unique.values())
