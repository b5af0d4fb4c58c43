"""Grading a class: every ``SUBMISSIONS/<student>/NN_name.ipynb`` against the instructor.

Each submission is checked with :func:`check_against` (a fresh kernel per submission,
the per-cell timeout, interrupt or restart-and-replay after a timeout or crash). The
result is one row per student, notebook and exercise::

    student,notebook,exercise,points,max_points,status

``points`` is what the exercise earned (its points if passed, else 0); ``max_points`` is
its points, or 0 for an optional exercise (bonus: its points count when it passes but are
not part of the maximum). ``status`` is passed, failed, not attempted, timed out, error
(the answer could not be matched to the instructor's cell, or the kernel could not be
brought back after a crash, so the exercise was never run) or missing (no such notebook in
the student's folder). Written-only (conceptual) exercises are graded by hand: they have no
row, and the summary counts them.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

from .check import check_against
from .exercises import find_written_exercises, validate_exercises
from .notebooks import collect_notebooks, read_notebook
from .report import ERROR, MISSING, NOT_RUN, PASSED, ExerciseResult

#: the CSV's columns, in order
COLUMNS = ("student", "notebook", "exercise", "points", "max_points", "status")


@dataclass(frozen=True)
class GradeRow:
    """One row of the grades CSV."""

    student: str
    notebook: str
    exercise: int
    points: float
    max_points: float
    status: str

    def values(self) -> tuple:
        return (
            self.student,
            self.notebook,
            self.exercise,
            f"{self.points:g}",
            f"{self.max_points:g}",
            self.status,
        )


def student_folders(submissions) -> list[Path]:
    """The student folders of ``submissions`` (sorted by name, hidden ones skipped).

    Raises
    ------
    FileNotFoundError
        If ``submissions`` is not a folder.
    ValueError
        If it holds no student folder.
    """
    root = Path(submissions)
    if not root.is_dir():
        raise FileNotFoundError(f"no such submissions folder: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(f"{root} holds no student folder (expected {root}/<student>/NN_x.ipynb)")
    return folders


def plan(submissions, against):
    """Read and validate everything before anything runs.

    Returns
    -------
    (list of (Path, nb, exercises, written)), list of Path)
        The instructor notebooks with their exercises, and the student folders.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing folder, an instructor notebook with bad markers or headings, or a
        submission that is not a readable notebook (naming the file).
    """
    instructor = []
    for p in collect_notebooks(against):
        nb = read_notebook(p)
        instructor.append(
            (p, nb, validate_exercises(nb, str(p)), find_written_exercises(nb, str(p)))
        )
    folders = student_folders(submissions)
    for folder in folders:
        for p, *_ in instructor:
            if (folder / p.name).is_file():
                read_notebook(folder / p.name)  # not valid JSON / not a notebook: an error now
    return instructor, folders


def ignored_notebooks(folder: Path, names) -> list[str]:
    """The notebooks of a student folder that will not be graded: in a subfolder, or
    under a name that is not one of ``names`` (a renamed copy, ``00_notation (1).ipynb``);
    checkpoints and hidden files are skipped."""
    found = []
    for p in sorted(folder.rglob("*.ipynb")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if len(rel.parts) > 1 or p.name not in names:
            found.append(rel.as_posix())
    return found


def _remarks(report) -> str:
    """What the progress line adds after the time: cells outside the exercises that raised
    (the set-up your check cells rely on), and an early stop."""
    out = ""
    if report.other_errors:
        cells = ", ".join(str(e.cell) for e in report.other_errors)
        out += f"; cells outside the exercises raised: {cells}"
    if report.aborted:
        out += "; stopped early, the rest: error"
    return out


def grade_rows(student: str, notebook: str, results) -> list[GradeRow]:
    """The CSV rows of one submission's results; an exercise that was never run (the
    kernel could not be brought back after a crash) is an ``error``."""
    return [
        GradeRow(
            student,
            notebook,
            r.exercise.number,
            r.points,
            r.exercise.max_points,
            ERROR if r.status == NOT_RUN else r.status,
        )
        for r in results
    ]


def grade(submissions, against, timeout: float | None = 120, progress=print):
    """Grade every student folder of ``submissions`` against the notebooks ``against``.

    Parameters
    ----------
    submissions : str or Path
        A folder of student folders, ``SUBMISSIONS/<student>/NN_name.ipynb``.
    against : str, Path or list
        The instructor's notebooks (a folder or notebooks).
    timeout : float or None
        Seconds allowed per cell.
    progress : callable
        Called with one line per submission (default ``print``).

    Returns
    -------
    (list of GradeRow, dict)
        The rows, and ``{(student, notebook): number of written exercises}``.
    """
    instructor, folders = plan(submissions, against)
    rows, total = [], len(folders) * len(instructor)
    k = 0
    names = {p.name for p, *_ in instructor}
    for folder in folders:
        ignored = ignored_notebooks(folder, names)
        if ignored:
            progress(
                f"{folder.name}: ignored {', '.join(ignored)} (only {folder.name}/NN_name.ipynb "
                "under an instructor notebook's name is graded)"
            )
        for path, nb, exercises, _written in instructor:
            k += 1
            submission = folder / path.name
            if not submission.is_file():
                results = [ExerciseResult(ex, MISSING) for ex in exercises]
                progress(f"[{k}/{total}] {folder.name}/{path.name}: missing")
            else:
                start = time.perf_counter()
                report = check_against(
                    submission, path, timeout, instructor_nb=nb, label=str(submission)
                )
                results = report.results
                passed = sum(r.status == PASSED for r in results)
                progress(
                    f"[{k}/{total}] {folder.name}/{path.name}: {passed}/{len(results)} passed"
                    f" ({time.perf_counter() - start:.1f} s{_remarks(report)})"
                )
            rows.extend(grade_rows(folder.name, path.name, results))
    written = {p.name: len(w) for p, _, _, w in instructor}
    return rows, written


def to_csv(rows) -> str:
    """The CSV text (header + one line per row)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.values())
    return buf.getvalue()


def _score(rows) -> tuple[float, float, float]:
    """``(points of the required exercises, max points, bonus points)`` of some rows; an
    optional exercise is the one whose ``max_points`` is 0 (points are always positive)."""
    required = sum(r.points for r in rows if r.max_points)
    bonus = sum(r.points for r in rows if not r.max_points)
    return required, sum(r.max_points for r in rows), bonus


def _format_score(required, maximum, bonus) -> str:
    """``"3/4"``, or ``"3/4 +1 bonus"`` when optional exercises earned points."""
    return f"{required:g}/{maximum:g}" + (f" +{bonus:g} bonus" if bonus else "")


def summary_table(rows, written) -> str:
    """Per student and notebook: points / max points (bonus points apart) and the
    statuses; then each student's totals and the written exercises to grade by hand."""
    by, per_student = {}, {}
    for r in rows:
        by.setdefault((r.student, r.notebook), []).append(r)
        per_student.setdefault(r.student, []).append(r)
    table = [("student", "notebook", "points", "statuses")]
    for (student, notebook), rs in by.items():
        counts = {}
        for r in rs:
            counts[r.status] = counts.get(r.status, 0) + 1
        statuses = ", ".join(f"{n} {s}" for s, n in counts.items())
        table.append((student, notebook, _format_score(*_score(rs)), statuses))
    widths = [max(len(row[c]) for row in table) for c in range(3)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3] for row in table
    ]
    lines.append("totals (points/max points):")
    lines += [f"  {s}: {_format_score(*_score(rs))}" for s, rs in per_student.items()]
    hand = {nb: n for nb, n in written.items() if n}
    if hand:
        lines.append("written exercises (grade by hand, not in the CSV):")
        lines += [f"  {nb}: {n}" for nb, n in hand.items()]
    return "\n".join(lines)
