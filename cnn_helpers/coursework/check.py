"""Checking a notebook: execute it and classify every exercise."""

from __future__ import annotations

from pathlib import Path

from .._checks import as_float
from .execute import Execution, run_notebook
from .exercises import find_exercises
from .notebooks import read_notebook
from .report import FAILED, NOT_ATTEMPTED, NOT_RUN, PASSED, CheckReport, ExerciseResult


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


def classify(notebook: str, exercises, run: Execution) -> CheckReport:
    """The report of one executed notebook: each exercise's status from the errors of its
    cells, and the errors of the cells outside the exercises."""
    errors, stop = run.errors, run.stopped_at
    results, in_exercise = [], set()
    for ex in exercises:
        in_exercise.update(ex.cells)
        first = next((errors[i] for i in ex.cells if i in errors), None)
        if stop is not None and ex.cells and min(ex.cells) > stop:
            status = NOT_RUN
        elif first is None:
            status = PASSED
        elif first.ename == "NotImplementedError":
            status = NOT_ATTEMPTED
        else:
            status = FAILED
        results.append(ExerciseResult(ex, status, first))
    other = tuple(e for i, e in sorted(errors.items()) if i not in in_exercise)
    return CheckReport(notebook, tuple(results), other, run.aborted)
