"""The command line: ``python -m cnn_helpers.coursework student|check|grade|verify|nbgrader|list``.

Each command is a pair in ``_COMMANDS``: a function that adds its sub-parser and one
that runs it on the parsed arguments and returns the exit code. The work itself lives
in the other modules; a new command adds its module and one entry here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat

from ._text import ranges, shorten
from .answers import written_answer_cells, written_solution_cells
from .check import check_against, check_notebook, instructor_for
from .errors import CheckError
from .exercises import find_exercises, find_written_exercises, validate_exercises
from .grade import grade, summary_table, to_csv
from .markers import REPLACEMENT
from .nbgrader import write_nbgrader_notebooks
from .notebooks import collect_notebooks, read_notebook
from .points import describe
from .student import write_student_notebooks
from .verify import verify
from .wrong import load_wrong_answers

EXIT_CODES = (
    "Exit codes: 0 success (check: every exercise passed; verify: every exercise "
    "verified); 1 check: an exercise failed or was not attempted, or another cell "
    "raised; verify: a stub, solution or wrong answer did not behave; 2 usage errors "
    "(bad arguments, missing file, malformed markers or headings, refused output, no "
    "kernel). On a usage error nothing is written."
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _student(args) -> int:
    written = write_student_notebooks(args.sources, args.out, force=args.force)
    for t in written:
        n = len(find_exercises(nbformat.read(str(t), as_version=4)))
        print(f"wrote {Path(args.out) / t.name} ({_plural(n, 'exercise')})")
    return 0


def _list(args) -> int:
    for p in collect_notebooks(args.sources):
        nb = read_notebook(p)
        # an instructor notebook must be gradable (check cells, points, written lead-ins);
        # a student version (no markers) is listed by its tags
        exercises = validate_exercises(nb, str(p)) or find_exercises(nb, str(p))
        written_solution_cells(nb, str(p))  # a misspelled **Solution.** lead-in is an error
        answers = written_answer_cells(nb)
        written = find_written_exercises(nb, str(p))
        wrong = load_wrong_answers(p)
        print(
            f"{p}: {_plural(len(exercises), 'exercise')}"
            + (f" + {len(written)} written" * bool(written))
        )
        rows = [(ex.number, ex) for ex in exercises] + [(w.number, w) for w in written]
        for _, ex in sorted(rows, key=lambda r: r[0]):
            if hasattr(ex, "heading_cell"):
                cells = ranges((ex.heading_cell, *ex.answer_cells))
                kind = f"written, graded by hand  [cells {cells}]"
            else:
                n = sum(w.exercise == ex.number for w in wrong)
                kind = f"{_plural(n, 'wrong answer')}  [cells {ranges(ex.cells)}]"
            title = shorten(ex.title, 60)
            print(f"  {ex.number}. {title}  ({describe(ex.points, ex.optional)})  {kind}")
            if args.wrong and not hasattr(ex, "heading_cell"):
                for w in wrong:
                    if w.exercise == ex.number:
                        print(f"       wrong: {w.mistake}")
        print(
            f"  written answers: {len(answers)}" + (f"  [cells {ranges(answers)}]" * bool(answers))
        )
    return 0


def _output_file(option: str, path) -> None:
    """Refuse an output file (``--csv``, ``--json``) that cannot be written, before anything
    runs: a folder, or a file in a folder that does not exist."""
    if Path(path).is_dir():
        raise ValueError(f"{option} {path} is a folder: give a file name")
    if not Path(path).resolve().parent.is_dir():
        raise FileNotFoundError(f"{option} {path}: the folder {Path(path).parent} does not exist")


def _check(args) -> int:
    if args.json:
        _output_file("--json", args.json)
    # against the instructor, several students' copies of one notebook may be checked
    paths = collect_notebooks(args.notebooks, unique_names=not args.against)
    for p in paths:  # every marker problem before any execution
        nb = read_notebook(p)
        if args.against:
            source = instructor_for(p, args.against)
            validate_exercises(read_notebook(source), str(source))
        else:
            find_exercises(nb, str(p))
    reports = []
    for k, p in enumerate(paths):
        if args.against:
            report = check_against(p, args.against, timeout=args.timeout)
        else:
            report = check_notebook(p, timeout=args.timeout)
        reports.append(report)
        print(("\n" if k else "") + report.format(verbose=args.verbose), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n")
    return max(r.exit_code for r in reports)


def _grade(args) -> int:
    _output_file("--csv", args.csv)
    rows, written = grade(args.submissions, args.against, timeout=args.timeout)
    text = to_csv(rows)
    Path(args.csv).write_text(text)
    print()
    print(summary_table(rows, written))
    print(f"wrote {args.csv} ({_plural(len(rows), 'row')})")
    return 0


def _verify(args) -> int:
    verdicts = verify(args.sources, timeout=args.timeout, jobs=args.jobs)
    bad = [v.notebook for v in verdicts if not v.ok]
    n = sum(len(v.exercises) for v in verdicts)
    print(
        f"verified {_plural(n, 'exercise')} in {_plural(len(verdicts), 'notebook')}: "
        + ("OK" if not bad else f"NOT OK ({', '.join(bad)})")
    )
    return 1 if bad else 0


def _nbgrader(args) -> int:
    written = write_nbgrader_notebooks(args.sources, args.out, force=args.force)
    for t in written:
        print(f"wrote {t}")
    return 0


def _add_grade(sub) -> None:
    g = sub.add_parser(
        "grade",
        help="grade a folder of submissions against the instructor's notebooks",
        description="Grade SUBMISSIONS/<student>/NN_name.ipynb for every student folder "
        "against the instructor's notebooks (only the solution regions of a submission "
        "are used), one submission at a time in a fresh kernel, and write one CSV row "
        "per student, notebook and exercise: student,notebook,exercise,points,"
        "max_points,status. This executes student code: use a container or VM.",
    )
    g.add_argument("submissions", metavar="SUBMISSIONS", help="folder of student folders")
    g.add_argument(
        "--against", required=True, metavar="DIR_OR_NB", help="the instructor's notebooks"
    )
    g.add_argument("--csv", required=True, metavar="PATH", help="the grades CSV to write")
    _add_timeout(g, 120)


def _add_timeout(parser, default) -> None:
    """The per-cell ``--timeout`` of the commands that execute notebooks."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=default,
        metavar="S",
        help=f"seconds allowed per cell (default {default})",
    )


def _add_verify(sub) -> None:
    v = sub.add_parser(
        "verify",
        help="prove every exercise: stub not attempted, solution passes, wrong answers fail",
        description="Run every exercise of the instructor's notebooks three ways in one "
        "kernel per notebook: the student-version stub (must be 'not attempted'), the "
        "solution (must pass) and each wrong answer recorded in "
        "wrong_answers/NN_name.md beside the notebook (must fail).",
    )
    v.add_argument("sources", nargs="+", metavar="SRC", help="notebooks and/or folders")
    v.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="notebooks verified at the same time (default 2, 1 on one core)",
    )
    _add_timeout(v, 120)


def _add_nbgrader(sub) -> None:
    n = sub.add_parser(
        "nbgrader",
        help="write nbgrader source notebooks (cell metadata for nbgrader 0.9)",
        description="Write copies of the notebooks with nbgrader cell metadata into "
        "COURSE/source/ASSIGNMENT/, for `nbgrader generate_assignment`.",
    )
    n.add_argument("sources", nargs="+", metavar="NOTEBOOK_OR_DIR")
    n.add_argument("--out", required=True, metavar="DIR", help="COURSE/source/ASSIGNMENT/")
    n.add_argument("--force", action="store_true", help="replace existing files in DIR")


def _add_student(sub) -> None:
    p = sub.add_parser(
        "student",
        help="write student versions (solutions removed)",
        description="Write copies of the notebooks with every solution region "
        f"replaced by `{REPLACEMENT}`, outputs cleared, check cells kept.",
    )
    p.add_argument(
        "sources", nargs="+", metavar="SRC", help="notebooks and/or folders of notebooks"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="destination folder")
    p.add_argument("--force", action="store_true", help="replace existing files in DIR")


def _add_check(sub) -> None:
    c = sub.add_parser(
        "check",
        help="execute notebooks and report every exercise",
        description="Execute each notebook in the current environment (a fresh "
        "python3 kernel, working directory = the notebook's folder) and report "
        "which exercises pass, fail or were not attempted.",
        epilog="Exit codes: 0 every exercise passed and no other cell raised; "
        "1 an exercise failed or was not attempted, another cell raised, or a "
        "cell timed out; 2 usage errors (missing file, malformed markers, "
        "no kernel).",
    )
    c.add_argument(
        "notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks and/or folders of notebooks"
    )
    _add_timeout(c, 600)
    c.add_argument(
        "--against",
        metavar="DIR_OR_NB",
        help="the instructor's notebook, or a folder of them matched by file name: only the "
        "solution regions are taken from NOTEBOOK, everything else from the instructor "
        "(without it, the notebook's own check cells are trusted)",
    )
    c.add_argument("--json", metavar="PATH", help="also write the reports as JSON to PATH")
    c.add_argument("-v", "--verbose", action="store_true", help="print the tracebacks")


def _add_list(sub) -> None:
    ls = sub.add_parser("list", help="list the exercises of notebooks (nothing is executed)")
    ls.add_argument("sources", nargs="+", metavar="SRC")
    ls.add_argument(
        "--wrong", action="store_true", help="also name the wrong answers recorded per exercise"
    )


#: command name -> (adds its sub-parser, runs it); the order is the order of --help
_COMMANDS = {
    "student": (_add_student, _student),
    "check": (_add_check, _check),
    "grade": (_add_grade, _grade),
    "verify": (_add_verify, _verify),
    "nbgrader": (_add_nbgrader, _nbgrader),
    "list": (_add_list, _list),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnn_helpers.coursework",
        description="Student versions of the notebooks, and checking a student's work.",
        epilog=EXIT_CODES,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser, _ in _COMMANDS.values():
        add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Command-line entry point; returns the exit code (see the package docstring)."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command][1](args)
    except (OSError, ValueError, TypeError, CheckError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
