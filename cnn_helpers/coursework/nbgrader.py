"""nbgrader source notebooks: copies of the instructor's notebooks with nbgrader metadata.

``nbgrader NOTEBOOK_OR_DIR... --out COURSE/source/ASSIGNMENT/`` writes, for each notebook,
a copy whose every cell carries ``metadata["nbgrader"]`` (schema version 3):

- solution cell of exercise N: ``solution: true, grade: false, locked: false``,
  ``grade_id: "<stem>-ex<N>-solution"``;
- its check cells: ``grade: true, locked: true, solution: false``, the exercise's points
  shared equally between them, ``grade_id: "<stem>-ex<N>-check<k>"``;
- a ``**Solution.**`` markdown cell: a manually graded answer (``solution: true, grade:
  true``) with ``grade_id: "<stem>-ex<N>-answer<k>"``: the points of its written-only
  exercise shared between its answer cells, or 0 points (feedback only) for the explanation
  a computation exercise asks for;
- every other cell read-only: ``locked: true, solution: false, grade: false``,
  ``grade_id: "<stem>-cell-<cell id>"``.

The grade ids depend on the notebook's name, the exercise number and the cell id only,
so re-generating gives the same ids. nbgrader's ``generate_assignment`` then replaces the
regions with its ``ClearSolutions.code_stub`` and the written answers with its
``text_stub``: set them to :data:`NBGRADER_CONFIG`'s values so the release looks like the
student version. nbgrader has no bonus points: an optional exercise's points are part of
nbgrader's maximum. Outputs are cleared; the wrong answers are never copied.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from .answers import ANSWER_PLACEHOLDER, written_solution_cells
from .errors import MarkerError
from .exercises import exercise_headings, find_written_exercises, validate_exercises
from .markers import BEGIN, END, REPLACEMENT
from .notebooks import METADATA_KEY, cell_source, collect_notebooks, is_code, read_notebook
from .student import _destinations

#: lines for the course's nbgrader_config.py so the release matches the student version
NBGRADER_CONFIG = (
    f"c.ClearSolutions.code_stub = {{'python': {REPLACEMENT!r}}}\n"
    f"c.ClearSolutions.text_stub = {ANSWER_PLACEHOLDER!r}\n"
)
_BAD_ID = re.compile(r"[^A-Za-z0-9_-]")


def _meta(grade_id, *, solution=False, grade=False, locked=True, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return meta


def _share(points, n):
    share = points / n
    return int(share) if float(share).is_integer() else round(share, 6)


def nbgrader_notebook(nb, name: str):
    """The nbgrader source version of an instructor notebook (a new notebook).

    Raises
    ------
    MarkerError
        Bad markers or headings, an exercise without a check cell, or a cell outside the
        solution cells that contains the words of nbgrader's markers (nbgrader would take
        it for a solution region).
    """
    stem = _BAD_ID.sub("_", Path(name).stem)
    exercises = validate_exercises(nb, name)
    written = {w.heading_cell: w for w in find_written_exercises(nb, name)}
    answers = written_solution_cells(nb, name)
    headings = exercise_headings(nb)
    out = copy.deepcopy(nb)
    solution_cells = {ex.solution_cell for ex in exercises}
    roles = {}
    for ex in exercises:
        roles[ex.solution_cell] = _meta(
            f"{stem}-ex{ex.number}-solution", solution=True, locked=False
        )
        for k, i in enumerate(ex.check_cells, start=1):
            roles[i] = _meta(
                f"{stem}-ex{ex.number}-check{k}",
                grade=True,
                points=_share(ex.points, len(ex.check_cells)),
            )
    for i in answers:
        above = [h for h in headings if h[0] < i]
        number = above[-1][1] if above else 0
        heading = above[-1][0] if above else None
        w = written.get(heading)
        share = _share(w.points, len(w.answer_cells)) if w is not None else 0
        k = (w.answer_cells.index(i) + 1) if w is not None else i
        roles[i] = _meta(
            f"{stem}-ex{number}-answer{k}", solution=True, grade=True, locked=False, points=share
        )
    for i, cell in enumerate(out.cells):
        text = cell_source(cell)
        if i not in solution_cells and any(w in text for w in ("BEGIN SOLUTION", "END SOLUTION")):
            raise MarkerError(
                "contains the words 'BEGIN SOLUTION' or 'END SOLUTION' outside a solution "
                "code cell: nbgrader would read them as a solution region (say 'the "
                "solution markers' instead)",
                name,
                i,
            )
        cell.metadata.pop(METADATA_KEY, None)
        cid = cell.get("id") or str(i)
        cell.metadata["nbgrader"] = roles.get(i) or _meta(f"{stem}-cell-{_BAD_ID.sub('_', cid)}")
        if is_code(cell):
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return out


def write_nbgrader_notebooks(sources, out_dir, force: bool = False) -> list[Path]:
    """Write the nbgrader source version of each notebook into ``out_dir``.

    Everything is converted before anything is written (a bad notebook leaves ``out_dir``
    untouched); the destination rules are those of the student versions.
    """
    paths = collect_notebooks(sources)
    out = Path(out_dir).resolve()
    targets = _destinations(paths, out, force)
    converted = [nbgrader_notebook(read_notebook(p), str(p)) for p in paths]
    out.mkdir(parents=True, exist_ok=True)
    for t, nb in zip(targets, converted):
        nbformat.write(nb, str(t), version=4)
    return targets


__all__ = ["BEGIN", "END", "NBGRADER_CONFIG", "nbgrader_notebook", "write_nbgrader_notebooks"]
