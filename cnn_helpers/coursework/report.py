"""The outcome of checking a notebook: per-exercise results and the printed report."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import first_line, ranges, shorten
from .exercises import Exercise
from .execute import CellError
from .session import TIMEOUT_ENAME

PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN = "passed", "failed", "not attempted", "not run"
#: a cell of the exercise ran longer than the timeout
TIMED_OUT = "timed out"
#: the exercise could not be graded (its answer could not be matched to the instructor's)
ERROR = "error"
#: ``grade`` only: the student handed in no such notebook
MISSING = "missing"
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, TIMED_OUT, ERROR, NOT_RUN, MISSING)


def status_of(error: CellError | None) -> str:
    """An exercise's status from the first error among its cells (None: none raised):
    passed, not attempted (NotImplementedError, the stub), timed out, or failed."""
    if error is None:
        return PASSED
    if error.ename == "NotImplementedError":
        return NOT_ATTEMPTED
    if error.ename == TIMEOUT_ENAME:
        return TIMED_OUT
    return FAILED


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise: ``status`` is one of ``"passed"``, ``"failed"``,
    ``"not attempted"`` (a cell of it raised NotImplementedError), ``"timed out"``,
    ``"error"`` (its answer could not be matched, see ``problem``), ``"not run"``
    (execution stopped before it) or ``"missing"``; ``error`` is the first error in its
    cells."""

    exercise: Exercise
    status: str
    error: CellError | None = None
    problem: str | None = None

    @property
    def points(self):
        """The points earned: the exercise's points if it passed, else 0."""
        return self.exercise.points if self.status == PASSED else 0


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_notebook` found.

    Attributes
    ----------
    notebook : str
        The notebook's path as given.
    results : tuple of ExerciseResult
        One per exercise, in order.
    other_errors : tuple of CellError
        Errors in cells that belong to no exercise (set-up cells, later sections).
    aborted : str or None
        Why execution stopped early (a timeout, a dead kernel), or None.
    """

    notebook: str
    results: tuple[ExerciseResult, ...]
    other_errors: tuple[CellError, ...] = ()
    aborted: str | None = None
    against: str | None = None
    counts: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        counts = {s: 0 for s in STATUSES}
        for r in self.results:
            counts[r.status] += 1
        object.__setattr__(self, "counts", counts)

    @property
    def ok(self) -> bool:
        """True if every exercise passed and nothing else raised or stopped execution."""
        return (
            self.counts[PASSED] == len(self.results)
            and not self.other_errors
            and self.aborted is None
        )

    @property
    def exit_code(self) -> int:
        """0 if :attr:`ok`, else 1 (the command line's exit code for this notebook)."""
        return 0 if self.ok else 1

    def format(self, verbose: bool = False) -> str:
        """The human-readable report that ``check`` prints (tracebacks if verbose)."""
        n = len(self.results)
        lines = [f"{self.notebook}: {n} exercise{'s' if n != 1 else ''}"]
        if self.against:
            lines.append(
                f"checked against {self.against}: its exercises and check cells, "
                "the submission's solution regions"
            )
        else:
            lines.append(
                "trusting this file's own exercises and check cells "
                "(use --against to check against the instructor's notebooks)"
            )
        lines += _table(self.results)
        if self.other_errors:
            lines.append("errors outside the exercises:")
            for e in self.other_errors:
                lines.append(
                    f"  cell {e.cell} ({shorten(first_line(e.source), 40)}): {e.summary(70)}"
                )
        else:
            lines.append("errors outside the exercises: none")
        if self.aborted:
            lines.append(f"execution stopped: {self.aborted}")
        if verbose:
            errors = [r.error for r in self.results if r.error is not None]
            for e in sorted(errors + list(self.other_errors), key=lambda e: e.cell):
                lines.append(f"--- traceback of cell {e.cell} ---")
                lines.append(e.traceback.rstrip() or e.summary(10_000))
        lines.append(self._summary())
        return "\n".join(lines)

    def _summary(self) -> str:
        c, n = self.counts, len(self.results)
        summary = (
            f"summary: {c[PASSED]} passed, {c[FAILED]} failed, {c[NOT_ATTEMPTED]} not attempted"
        )
        for status in (TIMED_OUT, ERROR, NOT_RUN):
            if c[status]:
                summary += f", {c[status]} {status}"
        summary += f" (of {n})"
        if self.other_errors:
            summary += f"; {len(self.other_errors)} error(s) outside the exercises"
        return summary + (" -> OK" if self.ok else " -> NOT OK")

    def to_dict(self) -> dict:
        """A JSON-serializable form (what ``check --json`` writes)."""
        return {
            "notebook": self.notebook,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "counts": dict(self.counts),
            "aborted": self.aborted,
            "against": self.against,
            "exercises": [
                {
                    "number": r.exercise.number,
                    "title": r.exercise.title,
                    "solution_cell": r.exercise.solution_cell,
                    "check_cells": list(r.exercise.check_cells),
                    "points": r.exercise.points,
                    "optional": r.exercise.optional,
                    "status": r.status,
                    "error": _error_dict(r.error),
                    "problem": r.problem,
                }
                for r in self.results
            ],
            "other_errors": [_error_dict(e) for e in self.other_errors],
        }


def _error_dict(e: CellError | None) -> dict | None:
    return None if e is None else {"cell": e.cell, "ename": e.ename, "evalue": e.evalue}


def _table(results) -> list[str]:
    """The aligned table of the exercises (no lines if there is none)."""
    if not results:
        return []
    rows = [("#", "exercise", "cells", "status", "detail")]
    for r in results:
        detail = "" if r.error is None else f"cell {r.error.cell}: {r.error.summary(70)}"
        if r.status == NOT_RUN:
            detail = "execution stopped before this exercise"
        if r.problem:
            detail = r.problem
        title = shorten(r.exercise.title, 44)
        rows.append((str(r.exercise.number), title, ranges(r.exercise.cells), r.status, detail))
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    return [
        ("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4]).rstrip()
        for row in rows
    ]
