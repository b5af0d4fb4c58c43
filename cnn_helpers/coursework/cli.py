"""The command line: ``python -m cnn_helpers.coursework student|check|list``.

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

from ._text import ranges
from .answers import written_answer_cells, written_solution_cells
from .check import check_notebook
from .errors import CheckError
from .exercises import find_exercises
from .markers import REPLACEMENT
from .notebooks import collect_notebooks, read_notebook
from .student import write_student_notebooks

EXIT_CODES = (
    "Exit codes: 0 success (check: every exercise passed); 1 check: an exercise "
    "failed or was not attempted, or another cell raised; 2 usage errors (bad "
    "arguments, missing file, malformed markers, refused output, no kernel)."
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
        exercises = find_exercises(nb, str(p))
        written_solution_cells(nb, str(p))  # a misspelled **Solution.** lead-in is an error
        answers = written_answer_cells(nb)
        print(f"{p}: {_plural(len(exercises), 'exercise')}")
        for ex in exercises:
            print(f"  {ex.number}. {ex.title}  [cells {ranges(ex.cells)}]")
        print(
            f"  written answers: {len(answers)}" + (f"  [cells {ranges(answers)}]" * bool(answers))
        )
    return 0


def _check(args) -> int:
    paths = collect_notebooks(args.notebooks)
    for p in paths:  # every marker problem before any execution
        find_exercises(read_notebook(p), str(p))
    reports = []
    for k, p in enumerate(paths):
        report = check_notebook(p, timeout=args.timeout)
        reports.append(report)
        print(("\n" if k else "") + report.format(verbose=args.verbose), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n")
    return max(r.exit_code for r in reports)


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
    c.add_argument(
        "--timeout",
        type=float,
        default=600,
        metavar="S",
        help="seconds allowed per cell (default 600)",
    )
    c.add_argument("--json", metavar="PATH", help="also write the reports as JSON to PATH")
    c.add_argument("-v", "--verbose", action="store_true", help="print the tracebacks")


def _add_list(sub) -> None:
    ls = sub.add_parser("list", help="list the exercises of notebooks (nothing is executed)")
    ls.add_argument("sources", nargs="+", metavar="SRC")


#: command name -> (adds its sub-parser, runs it); the order is the order of --help
_COMMANDS = {
    "student": (_add_student, _student),
    "check": (_add_check, _check),
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
