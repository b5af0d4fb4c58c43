"""Checking a notebook: execute it and classify every exercise."""

from __future__ import annotations

from pathlib import Path

from .._checks import as_float
from .against import merge_solutions
from .execute import Execution, run_notebook
from .exercises import find_exercises, validate_exercises
from .notebooks import cell_source, is_code, read_notebook
from .report import ERROR, NOT_RUN, CheckReport, ExerciseResult, status_of
from .session import KernelSession, ReplayError


def check_notebook(path, timeout: float | None = 600) -> CheckReport:
    """Execute a notebook and report which exercises pass, fail or were not attempted.

    The notebook runs top to bottom in a fresh ``python3`` kernel of the current Python
    environment, with the notebook's folder as working directory; execution continues
    after a cell raises. The notebook file is not modified.

    An exercise is *not attempted* if the first error among its cells (solution cell,
    then check cells) is a NotImplementedError, *failed* if it is any other error,
    *passed* if none of its cells raised, and *not run* if execution stopped before it.

    Parameters
    ----------
    path : str or Path
        The notebook (a student version or an instructor notebook).
    timeout : float or None
        Seconds allowed for each cell (default 600); None for no limit. A cell that
        takes longer stops the execution (reported in ``aborted``).

    Returns
    -------
    CheckReport
        ``report.exit_code`` is 0 if everything passed, else 1; ``print(report.format())``
        shows the table that the command line prints.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a notebook or its markers are malformed.
    TypeError
        If ``timeout`` is not a number.
    CheckError
        If no kernel could be started.
    """
    _check_timeout(timeout)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    nb = read_notebook(path)
    exercises = find_exercises(nb, str(path))
    run = run_notebook(nb, path.resolve().parent, timeout)
    return classify(str(path), exercises, run)


def _check_timeout(timeout) -> None:
    if timeout is not None:
        as_float("timeout", timeout, low=0.0)


def classify(
    notebook: str, exercises, run: Execution, problems=None, against: str | None = None
) -> CheckReport:
    """The report of one executed notebook: each exercise's status from the errors of its
    cells, and the errors of the cells outside the exercises. ``problems`` maps an
    exercise number to why its answer could not be matched (status "error")."""
    errors, stop, problems = run.errors, run.stopped_at, problems or {}
    results, in_exercise = [], set()
    for ex in exercises:
        in_exercise.update(ex.cells)
        first = next((errors[i] for i in ex.cells if i in errors), None)
        problem = problems.get(ex.number)
        if problem is not None:
            status = ERROR
        elif stop is not None and ex.cells and min(ex.cells) >= stop and first is None:
            status = NOT_RUN
        else:
            status = status_of(first)
        results.append(ExerciseResult(ex, status, first, problem))
    other = tuple(e for i, e in sorted(errors.items()) if i not in in_exercise)
    return CheckReport(notebook, tuple(results), other, run.aborted, against)


def run_resilient(nb, cwd, timeout: float | None = 120) -> Execution:
    """Execute every code cell of ``nb`` in place in one :class:`KernelSession`: a cell that
    times out or kills the kernel is recorded and execution goes on (interrupt, or restart
    and replay of the cells before it).

    Returns
    -------
    Execution
        ``aborted``/``stopped_at`` are set only if a replay after a restart failed.
    """
    errors = {}
    with KernelSession(nb, cwd, timeout) as session:
        for i, cell in enumerate(nb.cells):
            if not is_code(cell):
                continue
            try:
                error = session.run(cell, i)
            except ReplayError as exc:
                errors.setdefault(i, _replay_error(i, cell, exc))
                return Execution(errors, f"{exc}; the cells after cell {i} were not run", i + 1)
            if error is not None:
                errors[i] = error
    return Execution(errors)


def _replay_error(i, cell, exc):
    from .execute import CellError

    return CellError(i, "ReplayError", str(exc), "", cell_source(cell))


def instructor_for(student, against) -> Path:
    """The instructor's notebook for ``student``: ``against`` itself if it is a notebook,
    else the file of the same name in the folder ``against``.

    Raises
    ------
    FileNotFoundError
        If there is no such notebook or folder, or the folder has no file of that name.
    """
    against = Path(against)
    if against.is_dir():
        path = against / Path(student).name
        if not path.is_file():
            raise FileNotFoundError(
                f"{student}: the instructor's folder {against} has no notebook named "
                f"{Path(student).name}"
            )
        return path
    if against.is_file():
        return against
    raise FileNotFoundError(f"no such instructor notebook or folder: {against}")


def check_against(
    path, against, timeout: float | None = 120, *, instructor_nb=None, label=None
) -> CheckReport:
    """Check a submission against the instructor's notebook (see :mod:`.against`).

    The notebook executed is the instructor's with only the solution regions taken from
    the submission; it runs in a fresh kernel with the *instructor's* folder as working
    directory. A cell that times out or crashes the kernel fails its exercise ("timed
    out"/"failed") and the next exercise is still graded (interrupt, or restart and replay).

    Parameters
    ----------
    path : str or Path
        The submission.
    against : str or Path
        The instructor's notebook, or a folder holding a notebook of the same name.
    timeout : float or None
        Seconds allowed per cell (default 120).

    Returns
    -------
    CheckReport
        With ``against`` set to the instructor's notebook.

    Raises
    ------
    FileNotFoundError, ValueError
        For missing files, unreadable notebooks or malformed markers/headings in the
        instructor's notebook.
    """
    _check_timeout(timeout)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    source = instructor_for(path, against)
    instructor = instructor_nb if instructor_nb is not None else read_notebook(source)
    exercises = validate_exercises(instructor, str(source))
    student = read_notebook(path)
    merged, problems = merge_solutions(instructor, student, exercises)
    run = run_resilient(merged, source.resolve().parent, timeout)
    return classify(label or str(path), exercises, run, problems, against=str(source))
