"""Solution markers in code cells: finding the regions and stripping them."""

from __future__ import annotations

import re

from .errors import MarkerError

#: the marker line that opens a solution region (compared after stripping white space)
BEGIN = "### BEGIN SOLUTION"
#: the marker line that closes a solution region
END = "### END SOLUTION"
#: what a region becomes in the student version (indented like its BEGIN line)
REPLACEMENT = "raise NotImplementedError()"

# a comment-only line that looks like a marker (checked only when it is not exactly one)
_NEAR_MARKER = re.compile(r"#+\s*(BEGIN|END)[\s_]*SOLUTIONS?\b", re.IGNORECASE)


def solution_regions(
    source: str, *, notebook: str | None = None, cell: int | None = None
) -> list[tuple[int, int]]:
    """Find the solution regions of one code cell.

    Parameters
    ----------
    source : str
        The cell's source.
    notebook, cell : optional
        Named in the error message (the notebook's path, the cell's index).

    Returns
    -------
    list of (int, int)
        ``(begin_line, end_line)`` of every region, 1-based, marker lines included.

    Raises
    ------
    MarkerError
        For an END without BEGIN, a BEGIN inside a region (nesting), a BEGIN never
        closed, or a comment line that looks like a marker but is not exactly one.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    regions, open_line = [], None
    for number, line in enumerate(source.split("\n"), start=1):
        text = line.strip()
        if text == BEGIN:
            if open_line is not None:
                raise MarkerError(
                    f"nested '{BEGIN}': the region opened on line {open_line} "
                    f"is not closed by '{END}' before this BEGIN",
                    notebook,
                    cell,
                    number,
                )
            open_line = number
        elif text == END:
            if open_line is None:
                raise MarkerError(
                    f"'{END}' without a matching '{BEGIN}' before it", notebook, cell, number
                )
            regions.append((open_line, number))
            open_line = None
        elif _NEAR_MARKER.match(text):
            raise MarkerError(
                f"{text!r} looks like a solution marker but is not exactly "
                f"'{BEGIN}' or '{END}' on a line of its own",
                notebook,
                cell,
                number,
            )
    if open_line is not None:
        raise MarkerError(f"'{BEGIN}' is never closed by '{END}'", notebook, cell, open_line)
    return regions


def strip_solutions(source: str, *, notebook: str | None = None, cell: int | None = None) -> str:
    """Replace every solution region of a cell's source by ``raise NotImplementedError()``.

    The replacement line takes the indentation of the region's ``### BEGIN SOLUTION``
    line; every other line is kept as it is.

    Parameters
    ----------
    source : str
        The cell's source.
    notebook, cell : optional
        Named in error messages.

    Returns
    -------
    str
        The student version of the source (unchanged if it has no region).

    Raises
    ------
    MarkerError
        See :func:`solution_regions`; also if the cell was valid Python and the student
        version is not (a BEGIN marker indented differently from the code it replaces).
    """
    regions = solution_regions(source, notebook=notebook, cell=cell)
    if not regions:
        return source
    lines = source.split("\n")
    out, previous = [], 0
    for begin, end in regions:
        out.extend(lines[previous : begin - 1])
        marker = lines[begin - 1]
        out.append(marker[: len(marker) - len(marker.lstrip())] + REPLACEMENT)
        previous = end
    out.extend(lines[previous:])
    student = "\n".join(out)
    if _compiles(source) and not _compiles(student):
        raise MarkerError(
            "the student version of this cell is not valid Python: indent the "
            f"'{BEGIN}' line like the code it replaces",
            notebook,
            cell,
            regions[0][0],
        )
    return student


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
