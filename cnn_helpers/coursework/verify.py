"""Verified exercises: the stub is "not attempted", the solution passes, every recorded
wrong answer fails.

One kernel per notebook runs the notebook top to bottom once. At each exercise it first
runs the exercise's solution cell with the student-version stub, then with each recorded
wrong answer (:mod:`.wrong`), each time followed by the exercise's check cells; then the
instructor's solution and its check cells, which must pass, and the notebook goes on.
So every variant runs in exactly the state the solution runs in, and expensive set-up
(notebook 08 trains a network) runs once.
"""

from __future__ import annotations

import copy
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ._text import shorten
from .against import fill_regions, stub_bodies
from .exercises import validate_exercises
from .markers import solution_regions
from .notebooks import cell_source, collect_notebooks, is_code, read_notebook
from .errors import MarkerError
from .report import FAILED, NOT_ATTEMPTED, PASSED, TIMED_OUT, status_of
from .session import DEAD_ENAME, KernelSession, ReplayError
from .wrong import load_wrong_answers, wrong_answers_path


@dataclass
class ExerciseVerdict:
    """What verify saw for one exercise: ``(label, status, detail)`` per variant."""

    number: int
    title: str
    variants: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class NotebookVerdict:
    """What verify saw for one notebook: its exercises' verdicts, the errors of the cells
    outside the exercises, why it stopped early (or None) and the wall time in s."""

    notebook: str
    exercises: list = field(default_factory=list)
    other_errors: list = field(default_factory=list)
    aborted: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.exercises) and not self.other_errors and self.aborted is None

    def format(self) -> str:
        n = len(self.exercises)
        lines = [f"{self.notebook}: {n} exercise{'s' if n != 1 else ''} ({self.seconds:.1f} s)"]
        for e in self.exercises:
            lines.append(f"  {e.number}. {shorten(e.title, 60)}  {'OK' if e.ok else 'NOT OK'}")
            for label, status, detail in e.variants:
                lines.append(f"     {label}: {status}" + (f" ({detail})" if detail else ""))
            for p in e.problems:
                lines.append(f"     PROBLEM: {p}")
        for err in self.other_errors:
            lines.append(f"  cell {err.cell} outside the exercises raised: {err.summary(70)}")
        if self.aborted:
            lines.append(f"  stopped: {self.aborted}")
        lines.append(f"  -> {'OK' if self.ok else 'NOT OK'}")
        return "\n".join(lines)


def plan_notebook(path):
    """Read a notebook and its wrong answers and check that they fit together.

    Raises
    ------
    MarkerError
        Bad markers or headings; a wrong answer for an exercise that does not exist, or
        with a number of code blocks different from the solution cell's regions.
    """
    path = Path(path)
    nb = read_notebook(path)
    exercises = validate_exercises(nb, str(path))
    wrong = load_wrong_answers(path)
    by_number = {ex.number: ex for ex in exercises}
    where = str(wrong_answers_path(path))
    for w in wrong:
        ex = by_number.get(w.exercise)
        if ex is None:
            raise MarkerError(
                f"a wrong answer for exercise {w.exercise}, which {path.name} does not have",
                where,
                None,
                w.line,
            )
        n = len(solution_regions(cell_source(nb.cells[ex.solution_cell])))
        if len(w.bodies) != n:
            raise MarkerError(
                f"the wrong answer {w.mistake!r} has {len(w.bodies)} code block(s) but the "
                f"solution cell of exercise {w.exercise} has {n} region(s)",
                where,
                None,
                w.line,
            )
    return nb, exercises, wrong


def verify_notebook(path, timeout: float | None = 120) -> NotebookVerdict:
    """Verify one notebook (see the module docstring)."""
    start = time.perf_counter()
    path = Path(path)
    nb, exercises, wrong = plan_notebook(path)
    verdict = NotebookVerdict(str(path))
    by_solution = {ex.solution_cell: ex for ex in exercises}
    check_cells = {i for ex in exercises for i in ex.check_cells}
    for cell in nb.cells:
        if is_code(cell):
            cell.outputs = []
    with KernelSession(nb, path.resolve().parent, timeout) as session:
        try:
            for i, cell in enumerate(nb.cells):
                if not is_code(cell) or i in check_cells:
                    continue
                ex = by_solution.get(i)
                if ex is None:
                    error = session.run(cell, i)
                    if error is not None:
                        verdict.other_errors.append(error)
                    continue
                verdict.exercises.append(_verify_exercise(session, nb, ex, wrong))
        except ReplayError as exc:
            verdict.aborted = str(exc)
    verdict.seconds = time.perf_counter() - start
    return verdict


def _run_variant(session, cells, ex, source):
    cell = copy.deepcopy(cells[ex.solution_cell])
    cell.source = source
    first = session.run(cell, ex.solution_cell, remember=False)
    for k in ex.check_cells:
        error = session.run(copy.deepcopy(cells[k]), k, remember=False)
        first = first or error
    return first


def _verify_exercise(session, nb, ex, wrong) -> ExerciseVerdict:
    verdict = ExerciseVerdict(ex.number, ex.title)
    cells = {k: nb.cells[k] for k in ex.cells}  # nbclient puts the executed copy in nb.cells
    original = cell_source(cells[ex.solution_cell])
    error = _run_variant(session, cells, ex, fill_regions(original, stub_bodies(original)))
    status = status_of(error)
    verdict.variants.append(("stub", status, ""))
    if status != NOT_ATTEMPTED:
        verdict.problems.append(f"the stub is {status}, expected 'not attempted'")
    mine = [w for w in wrong if w.exercise == ex.number]
    if not mine:
        verdict.problems.append("no wrong answer recorded for this exercise")
    for w in mine:
        error = _run_variant(
            session, cells, ex, fill_regions(original, [list(b) for b in w.bodies])
        )
        status = status_of(error)
        detail = "" if error is None else error.summary(60)
        verdict.variants.append((f"wrong: {w.mistake}", status, detail))
        if status not in (FAILED, TIMED_OUT):
            verdict.problems.append(
                f"the wrong answer {w.mistake!r} is {status}: a check cell must reject it"
            )
    first = None
    for k in (ex.solution_cell, *ex.check_cells):
        error = session.run(cells[k], k)
        first = first or error
    status = status_of(first)
    verdict.variants.append(("solution", status, "" if first is None else first.summary(60)))
    if status != PASSED or (first is not None and first.ename == DEAD_ENAME):
        verdict.problems.append(f"the solution is {status}, expected 'passed'")
    return verdict


def default_jobs() -> int:
    """Notebooks verified at the same time: 2, or 1 on a single core."""
    return max(1, min(2, os.cpu_count() or 1))


def verify(
    sources, timeout: float | None = 120, progress=print, jobs: int | None = None
) -> list[NotebookVerdict]:
    """Verify every notebook of ``sources``; everything is read and validated first.

    ``jobs`` notebooks run at the same time, each in its own process and kernel (default
    :func:`default_jobs`); the verdicts come back, and are printed, in notebook order.
    """
    paths = collect_notebooks(sources)
    for p in paths:
        plan_notebook(p)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    verdicts = []
    if jobs == 1 or len(paths) == 1:
        for p in paths:
            verdicts.append(verify_notebook(p, timeout))
            progress(verdicts[-1].format())
        return verdicts
    # the longest notebooks first would be better; notebook order keeps the output stable
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for v in pool.map(verify_notebook, paths, [timeout] * len(paths)):
            verdicts.append(v)
            progress(v.format())
    return verdicts
