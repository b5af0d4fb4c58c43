"""Checking against the instructor's notebook: only the student's solution regions count.

:func:`merge_solutions` builds the notebook that is executed: a copy of the instructor's
notebook in which each solution region is replaced by what the student wrote in its
place. The exercise list, the check cells and every other cell come from the instructor,
so deleting or editing a check cell, deleting an exercise, re-tagging cells or stripping
the metadata of the student's file changes nothing.

Matching a student's solution cell to the instructor's exercise ``N`` (first rule that
finds one):

1. the student cell with the same cell id as the instructor's solution cell (student
   versions keep the ids);
2. the cell tagged ``{"exercise": N, "role": "solution"}`` (a student version);
3. exercise ``N`` found by solution markers in the student's file (an instructor's
   notebook submitted as it is).

Rules 2 and 3 never pick a cell that carries the id of another exercise's solution cell.
Inside that cell, the student's region is what lies between the lines the instructor
wrote around the region (the lines before, between and after the regions must be
unchanged, white space at line ends ignored); if the cell still has the markers, the
lines between them (and the lines around them must be the instructor's too). A cell
that cannot be matched is an "error" for that exercise only.
"""

from __future__ import annotations

import copy

from .exercises import find_exercises
from .markers import REPLACEMENT, solution_regions
from .notebooks import METADATA_KEY, cell_source, is_code


class MatchError(ValueError):
    """The student's answer to one exercise could not be located."""


def region_bodies(source: str) -> list[list[str]]:
    """The lines inside each solution region of an instructor cell (markers excluded)."""
    lines = source.split("\n")
    return [lines[b : e - 1] for b, e in solution_regions(source)]


def _segments(source: str) -> list[list[str]]:
    """The lines outside the regions of an instructor cell: before, between, after."""
    lines = source.split("\n")
    segments, previous = [], 0
    for b, e in solution_regions(source):
        segments.append(lines[previous : b - 1])
        previous = e
    segments.append(lines[previous:])
    return segments


def _normalized_segments(source: str) -> list[list[str]]:
    """:func:`_segments` with line ends stripped and the blank lines that end the cell
    dropped (what :func:`extract_bodies` compares)."""
    segments = [[ln.rstrip() for ln in s] for s in _segments(source)]
    segments[0], segments[-1] = _norm(segments[0]), _norm(segments[-1])
    return segments


def _norm(lines):
    out = [ln.rstrip() for ln in lines]
    while out and not out[-1]:
        out.pop()
    return out


def _find(haystack, needle, start):
    """First index >= start where the list ``needle`` occurs in ``haystack``."""
    n = len(needle)
    for k in range(start, len(haystack) - n + 1):
        if haystack[k : k + n] == needle:
            return k
    return None


def _first_difference(first, last, lines) -> str:
    """Which expected line is missing or changed, for the error message."""
    for k, line in enumerate(first):
        if k >= len(lines) or lines[k] != line:
            return f"line {k + 1} should be {line.strip()!r}"
    tail = lines[len(lines) - len(last) :] if len(lines) >= len(last) else lines
    for k, line in enumerate(last):
        if k >= len(tail) or tail[k] != line:
            return f"the cell should end with {line.strip()!r}"
    return "the cell is too short"


def extract_bodies(instructor_source: str, student_source: str) -> list[list[str]]:
    """The student's replacement of each solution region of one instructor cell.

    Raises
    ------
    MatchError
        If the lines around the regions were changed, or the student's cell has a
        different number of regions.
    """
    n = len(solution_regions(instructor_source))
    try:
        student_regions = solution_regions(student_source)
    except ValueError as exc:
        raise MatchError(f"the solution markers of the student's cell are malformed: {exc}")
    segments = _normalized_segments(instructor_source)
    if student_regions:
        if len(student_regions) != n:
            raise MatchError(
                f"the student's cell has {len(student_regions)} solution region(s), "
                f"the instructor's {n}"
            )
        if _normalized_segments(student_source) != segments:
            raise MatchError(
                "the lines around the solution regions differ from the instructor's: "
                "this is not the cell of this exercise (only the code between the "
                "markers may differ)"
            )
        return region_bodies(student_source)
    lines = _norm(student_source.split("\n"))
    first, last = segments[0], segments[-1]
    if lines[: len(first)] != first or (last and lines[len(lines) - len(last) :] != last):
        raise MatchError(
            "the lines around the solution region were changed (only the code that "
            f"replaces the region may differ): {_first_difference(first, last, lines)}"
        )
    end = len(lines) - len(last)
    if end < len(first):
        raise MatchError("the student's cell is shorter than the lines around its regions")
    bodies, pos = [], len(first)
    for middle in segments[1:-1]:
        k = _find(lines[:end], middle, pos) if middle else pos
        if k is None:
            raise MatchError("the lines between two solution regions were changed")
        bodies.append(lines[pos:k])
        pos = k + len(middle)
    bodies.append(lines[pos:end])
    return bodies


def fill_regions(instructor_source: str, bodies) -> str:
    """The instructor's cell with region ``k`` replaced by ``bodies[k]`` (lists of lines);
    the marker lines are dropped, every line outside the regions is the instructor's."""
    segments = _segments(instructor_source)
    if len(bodies) != len(segments) - 1:
        raise MatchError(f"{len(bodies)} replacement(s) for {len(segments) - 1} region(s)")
    out = list(segments[0])
    for body, segment in zip(bodies, segments[1:]):
        out.extend(body)
        out.extend(segment)
    return "\n".join(out)


def stub_bodies(instructor_source: str) -> list[list[str]]:
    """What the student version has in place of each region (the stub line)."""
    lines = instructor_source.split("\n")
    out = []
    for b, _ in solution_regions(instructor_source):
        marker = lines[b - 1]
        out.append([marker[: len(marker) - len(marker.lstrip())] + REPLACEMENT])
    return out


def student_solution_cell(student_nb, exercise, instructor_cell, taken=()) -> int:
    """Index of the student's cell that answers ``exercise`` (see the module docstring).

    Parameters
    ----------
    student_nb : nbformat.NotebookNode
        The submission.
    exercise : Exercise
        The instructor's exercise.
    instructor_cell : NotebookNode
        Its solution cell.
    taken : collection of int
        Student cells that carry the id of *another* exercise's solution cell: never
        matched by tag or markers (a deleted solution cell must not borrow a moved one).

    Raises
    ------
    MatchError
        If no cell matches.
    """
    cells = student_nb.cells
    cid = instructor_cell.get("id")
    if cid:
        for i, c in enumerate(cells):
            if c.get("id") == cid and is_code(c):
                return i
    for i, c in enumerate(cells):
        tag = c.get("metadata", {}).get(METADATA_KEY)
        if (
            is_code(c)
            and i not in taken
            and isinstance(tag, dict)
            and tag.get("exercise") == exercise.number
            and tag.get("role") == "solution"
        ):
            return i
    try:
        by_markers = find_exercises(student_nb, by="markers")
    except ValueError:
        by_markers = []
    for ex in by_markers:
        if ex.number == exercise.number and ex.solution_cell not in taken:
            return ex.solution_cell
    raise MatchError(
        "no cell of the submission matches its solution cell (same cell id, a "
        f"coursework tag for exercise {exercise.number}, or solution markers)"
    )


def merge_solutions(instructor_nb, student_nb, exercises):
    """The notebook to execute: the instructor's, with the student's regions.

    Returns
    -------
    (NotebookNode, dict)
        The merged notebook (outputs cleared) and ``{exercise number: problem}`` for the
        exercises whose answer could not be matched (their solution cell keeps the stub,
        so they cannot pass).
    """
    merged = copy.deepcopy(instructor_nb)
    problems = {}
    owner = {instructor_nb.cells[ex.solution_cell].get("id"): ex.number for ex in exercises}
    owner.pop(None, None)
    for ex in exercises:
        cell = instructor_nb.cells[ex.solution_cell]
        source = cell_source(cell)
        taken = {
            i
            for i, c in enumerate(student_nb.cells)
            if owner.get(c.get("id"), ex.number) != ex.number
        }
        k = None
        try:
            k = student_solution_cell(student_nb, ex, cell, taken)
            bodies = extract_bodies(source, cell_source(student_nb.cells[k]))
            new = fill_regions(source, bodies)
        except MatchError as exc:
            problems[ex.number] = str(exc) if k is None else f"cell {k} of the submission: {exc}"
            new = fill_regions(source, stub_bodies(source))
        merged.cells[ex.solution_cell].source = new
    for cell in merged.cells:
        if is_code(cell):
            cell.outputs = []
            cell.execution_count = None
    return merged, problems
