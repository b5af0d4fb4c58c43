"""Finding the exercises of a notebook: by solution markers, or by a student version's tags."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answers import is_written_solution
from .markers import solution_regions
from .notebooks import METADATA_KEY, as_notebook, cell_source, is_code, is_markdown

_HEADING_TITLE = re.compile(
    r"^\s{0,3}#{1,6}\s*(Exercise\s+\d+\b.*?)\s*#*\s*$", re.IGNORECASE | re.MULTILINE
)
_BOLD_TITLE = re.compile(r"\*\*\s*(Exercise\s+\d+\b.*?)\s*\*\*", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, as found by :func:`find_exercises`.

    Attributes
    ----------
    number : int
        1-based position among the notebook's exercises.
    title : str
        The ``Exercise N ...`` title of the markdown above it (LaTeX simplified), or
        ``"Exercise <number>"``.
    solution_cell : int or None
        Index of the solution cell in ``nb.cells`` (None only if a student deleted it).
    check_cells : tuple of int
        Indices of the check cells that follow the solution cell.
    """

    number: int
    title: str
    solution_cell: int | None
    check_cells: tuple[int, ...] = ()

    @property
    def cells(self) -> tuple[int, ...]:
        """All cell indices of the exercise, in notebook order."""
        first = () if self.solution_cell is None else (self.solution_cell,)
        return first + tuple(self.check_cells)


def find_exercises(nb, name: str | None = None, *, by: str = "auto") -> list[Exercise]:
    """List the exercises of a notebook (instructor version or student version).

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        An nbformat v4 notebook.
    name : str, optional
        The notebook's path or name, for error messages.
    by : {"auto", "markers", "tags"}
        ``"markers"``: solution cells are the code cells with solution markers, each
        followed by its check cells (see the package docstring). ``"tags"``: the cells
        tagged ``metadata["coursework"]`` by :func:`make_student_notebook`. ``"auto"``
        (default): tags if any cell is tagged (a student version), else markers.

    Returns
    -------
    list of Exercise
        In notebook order, numbered from 1.

    Raises
    ------
    TypeError, ValueError
        If ``nb`` is not an nbformat v4 notebook or ``by`` is unknown.
    MarkerError
        If the markers are malformed (when reading by markers).
    """
    nb = as_notebook(nb)
    if by not in ("auto", "markers", "tags"):
        raise ValueError(f"by must be 'auto', 'markers' or 'tags', got {by!r}")
    cells = nb.cells
    tagged = any(isinstance(c.get("metadata", {}).get(METADATA_KEY), dict) for c in cells)
    if by == "tags" or (by == "auto" and tagged):
        return _exercises_from_tags(cells)
    starts = [
        i
        for i, c in enumerate(cells)
        if is_code(c) and solution_regions(cell_source(c), notebook=name, cell=i)
    ]
    exercises = []
    for number, i in enumerate(starts, start=1):
        checks, k = [], i + 1
        while k < len(cells) and is_code(cells[k]) and k not in starts:
            checks.append(k)
            k += 1
        title = _title_above(cells, i, previous=max((s for s in starts if s < i), default=-1))
        exercises.append(Exercise(number, title or f"Exercise {number}", i, tuple(checks)))
    return exercises


def _title_above(cells, index: int, previous: int) -> str | None:
    """The exercise title of the nearest markdown cell above cell ``index`` that is not a
    written solution, if it comes after the ``previous`` solution cell."""
    j = index - 1
    while j >= 0 and (not is_markdown(cells[j]) or is_written_solution(cells[j])):
        j -= 1
    if j > previous:  # a markdown cell of its own, not the previous exercise's
        return _title_from_markdown(cell_source(cells[j]))
    return None


def _exercises_from_tags(cells) -> list[Exercise]:
    tagged: dict[int, dict] = {}
    for i, c in enumerate(cells):
        tag = c.get("metadata", {}).get(METADATA_KEY)
        if not isinstance(tag, dict) or not isinstance(tag.get("exercise"), int):
            continue
        entry = tagged.setdefault(tag["exercise"], {"solution": None, "checks": [], "title": None})
        if tag.get("role") == "solution" and entry["solution"] is None:
            entry["solution"] = i
        else:
            entry["checks"].append(i)
        entry["title"] = entry["title"] or tag.get("title")
    return [
        Exercise(n, e["title"] or f"Exercise {n}", e["solution"], tuple(e["checks"]))
        for n, e in sorted(tagged.items())
    ]


def _plain_title(text: str) -> str:
    """Drop the LaTeX decoration of a markdown title (``$\\mathbf{A}$`` -> ``A``)."""
    text = " ".join(text.split())
    for _ in range(3):
        text = re.sub(
            r"\\(?:mathbf|mathrm|boldsymbol|mathcal|operatorname|text|bm)\s*\{([^{}]*)\}",
            r"\1",
            text,
        )
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", text)
    for _ in range(3):
        text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"\1/\2", text)
    for cmd, rep in _LATEX_TEXT:
        text = text.replace(cmd, rep)
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(".:").strip()


_LATEX_TEXT = (
    ("\\times", "x"),
    ("\\dots", "..."),
    ("\\ldots", "..."),
    ("\\,", " "),
    ("\\;", " "),
    ("\\!", ""),
    ("\\cdot", "."),
    ("$", ""),
)


def _title_from_markdown(source: str) -> str | None:
    found = [(m.start(), m.group(1)) for m in _HEADING_TITLE.finditer(source)]
    found += [(m.start(), m.group(1)) for m in _BOLD_TITLE.finditer(source)]
    return _plain_title(max(found)[1]) if found else None
