"""Finding the exercises of a notebook: by solution markers, or by a student version's tags."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answers import is_written_solution
from .errors import MarkerError
from .markers import solution_regions
from .notebooks import METADATA_KEY, as_notebook, cell_source, is_code, is_markdown
from .points import DEFAULT_POINTS, split_points

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
        The ``N`` of its ``Exercise N ...`` title, or (untitled) its 1-based position
        among the notebook's exercises.
    title : str
        The ``Exercise N ...`` title of the markdown above it (LaTeX simplified), or
        ``"Exercise <number>"``.
    solution_cell : int or None
        Index of the solution cell in ``nb.cells`` (None only if a student deleted it).
    check_cells : tuple of int
        Indices of the check cells that follow the solution cell.
    points : int or float
        What the exercise is worth (its heading's ``(N points)``; default 1).
    optional : bool
        True for a bonus exercise (``(optional)``): its points count when it passes but
        are not part of the maximum.
    """

    number: int
    title: str
    solution_cell: int | None
    check_cells: tuple[int, ...] = ()
    points: float = DEFAULT_POINTS
    optional: bool = False

    @property
    def max_points(self):
        """The points this exercise adds to the maximum (0 if optional)."""
        return 0 if self.optional else self.points

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
        In notebook order, numbered by their titles (else from 1 by position).

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
        found = _title_above(cells, i, previous=max((s for s in starts if s < i), default=-1))
        title, points, optional = f"Exercise {number}", DEFAULT_POINTS, False
        if found is not None:
            title, points, optional = split_points(found[0], name, found[1])
            # the number the student reads in the heading ("Exercise 5 — ..."), if any
            number = int(re.match(r"Exercise\s+(\d+)", title, re.IGNORECASE).group(1))
        if any(ex.number == number for ex in exercises):
            raise MarkerError(
                f"a second solution cell for exercise {number}: give each solution cell "
                "its own '### Exercise N — ...' heading",
                name,
                i,
            )
        exercises.append(Exercise(number, title, i, tuple(checks), points, optional))
    return exercises


def _title_above(cells, index: int, previous: int):
    """``(title, cell)`` of the nearest markdown cell above cell ``index`` that is not a
    written solution, if it comes after the ``previous`` solution cell (else None)."""
    j = index - 1
    while j >= 0 and (not is_markdown(cells[j]) or is_written_solution(cells[j])):
        j -= 1
    if j > previous:  # a markdown cell of its own, not the previous exercise's
        title = _title_from_markdown(cell_source(cells[j]))
        return None if title is None else (title, j)
    return None


def _exercises_from_tags(cells) -> list[Exercise]:
    tagged: dict[int, dict] = {}
    for i, c in enumerate(cells):
        tag = c.get("metadata", {}).get(METADATA_KEY)
        if not isinstance(tag, dict) or not isinstance(tag.get("exercise"), int):
            continue
        entry = tagged.setdefault(
            tag["exercise"], {"solution": None, "checks": [], "title": None, "tag": tag}
        )
        if tag.get("role") == "solution" and entry["solution"] is None:
            entry["solution"] = i
            entry["tag"] = tag
        else:
            entry["checks"].append(i)
        entry["title"] = entry["title"] or tag.get("title")
    return [
        Exercise(
            n,
            e["title"] or f"Exercise {n}",
            e["solution"],
            tuple(e["checks"]),
            _tag_points(e["tag"]),
            e["tag"].get("optional") is True,
        )
        for n, e in sorted(tagged.items())
    ]


def _tag_points(tag: dict):
    points = tag.get("points", DEFAULT_POINTS)
    ok = isinstance(points, (int, float)) and not isinstance(points, bool) and points > 0
    return points if ok else DEFAULT_POINTS


@dataclass(frozen=True)
class WrittenExercise:
    """A conceptual (prove/explain) exercise: an ``### Exercise N — ...`` heading followed by
    ``**Solution.**`` markdown cell(s) and no solution region. It is graded by hand.

    Attributes
    ----------
    number : int
        The ``N`` of its heading.
    title : str
        The heading's title (points removed).
    heading_cell : int
        Index of the heading's markdown cell.
    answer_cells : tuple of int
        The ``**Solution.**`` (or answer placeholder) cells up to the next exercise heading.
    points, optional
        As for :class:`Exercise`.
    """

    number: int
    title: str
    heading_cell: int
    answer_cells: tuple[int, ...]
    points: float = DEFAULT_POINTS
    optional: bool = False


_EXERCISE_HEADING = re.compile(r"^\s{0,3}###\s+(Exercise\s+(\d+)\b.*?)\s*#*\s*$", re.MULTILINE)


def exercise_headings(nb) -> list[tuple[int, int, str]]:
    """``(cell, N, raw title)`` of every ``### Exercise N ...`` heading, in order."""
    found = []
    for i, cell in enumerate(as_notebook(nb).cells):
        if is_markdown(cell):
            for m in _EXERCISE_HEADING.finditer(cell_source(cell)):
                found.append((i, int(m.group(2)), m.group(1)))
    return found


def find_written_exercises(nb, name: str | None = None) -> list[WrittenExercise]:
    """The written-only exercises of a notebook (instructor or student version).

    An exercise heading counts as written-only when no solution cell (a code cell with
    solution markers, or a cell tagged as a solution) lies between it and the next exercise
    heading, and at least one written answer cell does.

    Raises
    ------
    MarkerError
        For malformed markers, or a heading with neither a solution cell nor a written
        answer before the next exercise heading; :class:`PointsError` for bad points.
    """
    from .answers import is_answer_placeholder

    nb = as_notebook(nb)
    cells = nb.cells
    solution_cells = {ex.solution_cell for ex in find_exercises(nb, name)}
    headings = exercise_headings(nb)
    written = []
    for k, (cell, number, raw) in enumerate(headings):
        end = headings[k + 1][0] if k + 1 < len(headings) else len(cells)
        span = range(cell + 1, end) if end > cell else range(cell + 1, cell + 1)
        if any(i in solution_cells for i in span):
            continue
        answers = tuple(
            i for i in span if is_written_solution(cells[i]) or is_answer_placeholder(cells[i])
        )
        if not answers:
            raise MarkerError(
                f"the heading {raw!r} has neither a solution cell nor a written "
                "'**Solution.**' cell before the next exercise",
                name,
                cell,
            )
        title, points, optional = split_points(_plain_title(raw), name, cell)
        written.append(WrittenExercise(number, title, cell, answers, points, optional))
    return written


def validate_exercises(nb, name: str | None = None) -> list[Exercise]:
    """The exercises of an instructor notebook, after checking what grading relies on.

    Raises
    ------
    MarkerError
        For malformed markers, an exercise without a check cell, a misspelled written
        solution lead-in or a heading with nothing to grade; :class:`PointsError` for a
        heading whose points do not parse.
    """
    from .answers import written_solution_cells

    exercises = find_exercises(nb, name, by="markers")
    for ex in exercises:
        if not ex.check_cells:
            raise MarkerError(
                f"exercise {ex.number} ({ex.title}) has no check cell: the code cells right "
                "after its solution cell check it",
                name,
                ex.solution_cell,
            )
    written_solution_cells(nb, name)
    find_written_exercises(nb, name)
    return exercises


def _plain_title(text: str) -> str:
    """Drop the LaTeX decoration of a markdown title (``$\\mathbf{A}$`` -> ``A``)."""
    text = " ".join(text.split())
    for _ in range(3):
        text = re.sub(
            r"\\(?:mathbf|mathrm|mathsf|mathit|boldsymbol|mathcal|operatorname|text|bm)\s*\{([^{}]*)\}",
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
