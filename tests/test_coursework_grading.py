"""Grading with the coursework tools: points in headings, ``check --against`` (tamper-proof),
``grade`` (a folder of submissions to a CSV), ``verify`` on synthetic notebooks, bad input.

Synthetic notebooks run in a few seconds; the "Done when" cases use the real 00_notation
(about 2 s per run). Everything is written under tmp_path.
"""

import copy
import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from cnn_helpers import coursework as cw
from cnn_helpers.coursework import BEGIN, END, REPLACEMENT
from cnn_helpers.coursework.against import extract_bodies, fill_regions, merge_solutions
from cnn_helpers.coursework.exercises import find_written_exercises, validate_exercises
from cnn_helpers.coursework.grade import COLUMNS
from cnn_helpers.coursework.points import PointsError, split_points
from notebook_factory import notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
FASTEST = NOTEBOOKS / "00_notation.ipynb"


def course():
    """Four exercises with points: a function body, a 2-point one, an optional one, a
    written one; the check cells compare with values the set-up computes."""
    return notebook(
        ("code", "import math\nexpected = {'square': 9, 'answer': 42}"),  # 0
        ("md", "### Exercise 1 — a square"),  # 1
        (
            "code",
            f"def square(x):\n    {BEGIN}\n    return x * x\n    {END}",
        ),  # 2
        ("code", "assert square(3) == expected['square'], 'square(3)'"),  # 3
        ("md", "### Exercise 2 — the answer (2 points)"),  # 4
        ("code", f"answer = None\n{BEGIN}\nanswer = 6 * 7\n{END}"),  # 5
        ("code", "assert answer is not None, 'set answer'"),  # 6
        ("code", "assert answer == expected['answer'], 'wrong answer'"),  # 7
        ("md", "### Exercise 3 — a bonus (1 point, optional)"),  # 8
        ("code", f"{BEGIN}\nbonus = math.pi\n{END}"),  # 9
        ("code", "assert abs(bonus - math.pi) < 1e-12"),  # 10
        ("md", "### Exercise 4 — explain (2 points)"),  # 11
        ("md", "**Solution.** Because."),  # 12
        ("md", "## After"),  # 13
        ("code", "done = True"),  # 14
    )


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def solved_student(nb):
    """A student version with every region filled in with the solution."""
    student = cw.make_student_notebook(nb)
    for ex in cw.find_exercises(nb):
        source = nb.cells[ex.solution_cell].source
        student.cells[ex.solution_cell].source = fill_regions(
            source, [b for b in cw.against.region_bodies(source)]
        )
    return student


def tampered(student):
    """Every check cell and every stub replaced by `pass`."""
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    for cell in nb.cells:
        tag = cell.metadata.get("coursework", {})
        if tag.get("role") == "check":
            cell.source = "pass"
        elif tag.get("role") == "solution":
            cell.source = cell.source.replace(REPLACEMENT, "pass")
    return nb


# ------------------------------------------------------------------ points in headings


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Exercise 1 — plain", ("Exercise 1 — plain", 1, False)),
        ("Exercise 2 — a (2 points)", ("Exercise 2 — a", 2, False)),
        ("Exercise 3 — b (optional)", ("Exercise 3 — b", 1, True)),
        ("Exercise 4 — c (1 point, optional)", ("Exercise 4 — c", 1, True)),
        ("Exercise 5 — d (1.5 points)", ("Exercise 5 — d", 1.5, False)),
        (
            "Exercise 6 — the (n+1)-th term (a remark)",
            ("Exercise 6 — the (n+1)-th term (a remark)", 1, False),
        ),
    ],
)
def test_points_parse(title, expected):
    assert split_points(title) == expected


@pytest.mark.parametrize(
    "bad", ["(2 pts)", "(optional, 2 points)", "(0 points)", "(2 point)", "(1 points)", "(bonus)"]
)
def test_points_that_look_like_points_but_do_not_parse_are_errors(bad, tmp_path, capsys):
    with pytest.raises(PointsError, match="points"):
        split_points(f"Exercise 1 — x {bad}", "nb.ipynb", 4)
    nb = course()
    nb.cells[4].source = f"### Exercise 2 — the answer {bad}"
    path = write(nb, tmp_path / "src" / "c.ipynb")
    assert cw.main(["list", str(path)]) == 2
    err = capsys.readouterr().err
    assert "c.ipynb, cell 4" in err and "Traceback" not in err


def test_list_shows_points_optional_written_and_wrong_answers(tmp_path, capsys):
    path = write(course(), tmp_path / "src" / "c.ipynb")
    wrong = tmp_path / "src" / "wrong_answers" / "c.md"
    wrong.parent.mkdir()
    wrong.write_text("## Exercise 2 — 41\n\n```python\nanswer = 41\n```\n")
    assert cw.main(["list", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: 3 exercises + 1 written"
    assert out[1] == "  1. Exercise 1 — a square  (1 point)  0 wrong answers  [cells 2-3]"
    assert out[2] == "  2. Exercise 2 — the answer  (2 points)  1 wrong answer  [cells 5-7]"
    assert out[3] == "  3. Exercise 3 — a bonus  (1 point, optional)  0 wrong answers  [cells 9-10]"
    assert out[4] == "  4. Exercise 4 — explain  (2 points)  written, graded by hand  [cells 11-12]"
    assert cw.main(["list", str(path), "--wrong"]) == 0
    assert "       wrong: 41" in capsys.readouterr().out.splitlines()
    ex = cw.find_exercises(course())
    assert [(e.number, e.points, e.optional, e.max_points) for e in ex] == [
        (1, 1, False, 1),
        (2, 2, False, 2),
        (3, 1, True, 0),
    ]
    [w] = find_written_exercises(course())
    assert (w.number, w.points, w.heading_cell, w.answer_cells) == (4, 2, 11, (12,))
    # the student version keeps the points in its tags
    assert cw.find_exercises(cw.make_student_notebook(course())) == ex


# ----------------------------------------------------------- matching student regions


def test_extract_bodies_takes_only_what_replaces_the_regions():
    inst = f"def f(x):\n    '''doc'''\n    {BEGIN}\n    return x\n    {END}\n\n\ny = 1"
    student = "def f(x):\n    '''doc'''\n    return 2 * x\n    # more\n\n\ny = 1\n"
    assert extract_bodies(inst, student) == [["    return 2 * x", "    # more"]]
    assert "return 2 * x" in fill_regions(inst, extract_bodies(inst, student))
    two = f"{BEGIN}\na = 1\n{END}\nb = 2\n{BEGIN}\nc = 3\n{END}"
    assert extract_bodies(two, "a = 10\nb = 2\nc = 30") == [["a = 10"], ["c = 30"]]
    with pytest.raises(cw.against.MatchError, match="line 1 should be 'def f\\(x\\):'"):
        extract_bodies(inst, "def g(x):\n    return x\n\n\ny = 1")
    with pytest.raises(cw.against.MatchError, match="between two"):
        extract_bodies(two, "a = 10\nb = 3\nc = 30")


def test_merge_uses_the_instructors_checks_and_reports_unmatched_cells():
    nb = course()
    student = solved_student(nb)
    student.cells[3].source = "assert False"  # an edited check cell: ignored
    for cell in student.cells:  # stripped metadata: cells are found by their ids
        cell.metadata = {}
    merged, problems = merge_solutions(nb, student, validate_exercises(nb))
    assert problems == {}
    assert merged.cells[3].source == nb.cells[3].source
    assert "return x * x" in merged.cells[2].source and BEGIN not in merged.cells[2].source
    student.cells[5].id = "other"  # no id, no tag, no marker: exercise 2 cannot be matched
    merged, problems = merge_solutions(nb, student, validate_exercises(nb))
    assert list(problems) == [2] and "no cell of the submission" in problems[2]
    assert REPLACEMENT in merged.cells[5].source


def test_a_deleted_solution_cell_does_not_borrow_a_moved_one():
    """Exercises 1 and 3 deleted, exercise 2's cell moved to the end (the instructor's file
    as submitted; by its markers it is now the first, untitled, exercise): exercise 1 is an
    error, not exercise 2's code graded as exercise 1."""
    nb = course()
    student = copy.deepcopy(nb)
    del student.cells[9]
    moved = student.cells.pop(5)
    del student.cells[2]
    student.cells.append(moved)
    merged, problems = merge_solutions(nb, student, validate_exercises(nb))
    assert list(problems) == [1, 3] and "no cell of the submission" in problems[1]
    assert REPLACEMENT in merged.cells[2].source and "6 * 7" in merged.cells[5].source


def test_a_marked_cell_whose_surrounding_lines_differ_is_not_matched():
    """Another notebook's exercise 1 under this notebook's name: its marked cell has other
    lines around the region, so it is an error, not its code run in this exercise."""
    inst = f"def f(x):\n    {BEGIN}\n    return x\n    {END}"
    other = f"def g(x):\n    {BEGIN}\n    return 2 * x\n    {END}"
    with pytest.raises(cw.against.MatchError, match="lines around the solution regions"):
        extract_bodies(inst, other)
    same = f"def f(x):  \n    {BEGIN}\n    return 2 * x\n    {END}\n\n"
    assert extract_bodies(inst, same) == [["    return 2 * x"]]
    nb = course()
    student = copy.deepcopy(nb)
    student.cells[5].id = "other"
    student.cells[5].source = f"answer = 0\n{BEGIN}\nanswer = 6 * 7\n{END}"
    _, problems = merge_solutions(nb, student, validate_exercises(nb))
    assert list(problems) == [2] and problems[2].startswith("cell 5 of the submission: ")


# ------------------------------------------------------------- check --against (runs)


def test_check_against_ignores_tampering(tmp_path, capsys):
    nb = course()
    inst = write(nb, tmp_path / "inst" / "c.ipynb")
    student = cw.make_student_notebook(nb)
    # trusting the file: the tampered version is "OK"
    bad = write(tampered(student), tmp_path / "sub" / "c.ipynb")
    assert cw.main(["check", str(bad)]) == 0
    assert "trusting this file" in capsys.readouterr().out
    # against the instructor: nothing passes
    assert cw.main(["check", str(bad), "--against", str(inst.parent)]) == 1
    out = capsys.readouterr().out
    assert "checked against" in out and "0 passed" in out and "-> NOT OK" in out
    # deleted exercises, deleted check cells, stripped metadata: the solutions still count
    good = solved_student(nb)
    del good.cells[10]  # a check cell
    for cell in good.cells:
        cell.metadata = {}
    good.cells[7].source = "assert answer == 0"
    path = write(good, tmp_path / "good" / "c.ipynb")
    report = cw.check_against(path, inst, timeout=60)
    assert [r.status for r in report.results] == ["passed", "passed", "passed"]
    assert report.ok and report.against == str(inst)
    del good.cells[5]  # the whole exercise 2 (its solution cell)
    write(good, path)
    report = cw.check_against(path, inst.parent, timeout=60)
    assert [r.status for r in report.results] == ["passed", "error", "passed"]
    assert "no cell of the submission" in report.results[1].problem
    # two students' copies of one notebook in one command (refused without --against)
    capsys.readouterr()
    assert cw.main(["check", str(bad), str(path), "--against", str(inst.parent)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: 3 exercises" in out and f"{path}: 3 exercises" in out
    assert cw.main(["check", str(bad), str(path)]) == 2
    assert "two sources have the same name" in capsys.readouterr().err


def test_check_against_the_real_notebook(tmp_path, capsys):
    """Done when: the tampered student version is NOT OK, the instructor's notebook OK."""
    out = tmp_path / "student"
    cw.write_student_notebooks([FASTEST], out)
    student = nbformat.read(out / FASTEST.name, as_version=4)
    bad = write(tampered(student), tmp_path / "bad" / FASTEST.name)
    report_path = tmp_path / "r.json"
    assert (
        cw.main(["check", str(bad), "--against", str(NOTEBOOKS), "--json", str(report_path)]) == 1
    )
    [report] = json.loads(report_path.read_text())
    assert report["exercises"] and all(
        e["status"] in ("failed", "not attempted") for e in report["exercises"]
    )
    capsys.readouterr()
    assert cw.main(["check", str(FASTEST), "--against", str(NOTEBOOKS)]) == 0
    assert "-> OK" in capsys.readouterr().out


# ------------------------------------------------------------------------------ grade


def test_grade_a_class(tmp_path, capsys):
    nb = course()
    inst = write(nb, tmp_path / "inst" / "c.ipynb")
    other = notebook(
        ("md", "### Exercise 1 — one"),
        ("code", f"{BEGIN}\nx = 1\n{END}"),
        ("code", "assert x == 1"),
    )
    write(other, tmp_path / "inst" / "d.ipynb")
    subs = tmp_path / "subs"
    write(solved_student(nb), subs / "ann" / "c.ipynb")
    write(tampered(cw.make_student_notebook(nb)), subs / "bob" / "c.ipynb")
    slow = solved_student(nb)
    slow.cells[2].source = "def square(x):\n    __import__('time').sleep(60)"  # times out
    slow.cells[5].source = "answer = None\nimport os\nos._exit(1)"  # kills the kernel
    write(slow, subs / "cyd" / "c.ipynb")
    write(other, subs / "cyd" / "work" / "d.ipynb")  # in a subfolder: named, not graded
    write(other, subs / "cyd" / "d (1).ipynb")  # renamed: named, not graded
    write(other, subs / "cyd" / ".ipynb_checkpoints" / "d-checkpoint.ipynb")
    csv_path = tmp_path / "grades.csv"
    code = cw.main(
        [
            "grade",
            str(subs),
            "--against",
            str(inst.parent),
            "--csv",
            str(csv_path),
            "--timeout",
            "3",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "[1/6] ann/c.ipynb: 3/3 passed" in out and "[2/6] ann/d.ipynb: missing" in out
    assert "cyd: ignored d (1).ipynb, work/d.ipynb (only cyd/NN_name.ipynb" in out
    assert "ann: ignored" not in out and "checkpoint" not in out
    rows = list(csv.DictReader(open(csv_path)))
    assert tuple(rows[0]) == COLUMNS
    got = {(r["student"], r["notebook"], r["exercise"]): r for r in rows}
    assert [got[("ann", "c.ipynb", n)]["points"] for n in "123"] == ["1", "2", "1"]
    assert [got[("ann", "c.ipynb", n)]["max_points"] for n in "123"] == ["1", "2", "0"]
    assert all(got[("bob", "c.ipynb", n)]["points"] == "0" for n in "123")
    assert got[("ann", "d.ipynb", "1")]["status"] == "missing"
    assert got[("cyd", "c.ipynb", "1")]["status"] == "timed out"
    assert got[("cyd", "c.ipynb", "2")]["status"] == "failed"  # the kernel died
    assert got[("cyd", "c.ipynb", "3")]["status"] == "passed"  # graded after the restart
    assert "4" not in {r["exercise"] for r in rows}  # the written exercise: by hand
    # ann: 3 of the 4 required points (d.ipynb is missing) and the bonus, shown apart
    assert "written exercises (grade by hand" in out and "  ann: 3/4 +1 bonus" in out
    assert "  c.ipynb: 1" in out and "  bob: 0/4" in out
    assert re.search(r"^ann +c\.ipynb +3/3 \+1 bonus +3 passed$", out, re.MULTILINE)


def test_an_unresponsive_kernel_is_restarted_and_the_setup_replayed(tmp_path, monkeypatch):
    """A cell that ignores the interrupt: the kernel is restarted, the set-up replayed."""
    monkeypatch.setattr(cw.session, "PROBE_SECONDS", 2.0)
    nb = course()
    inst = write(nb, tmp_path / "inst" / "c.ipynb")
    stuck = solved_student(nb)
    stuck.cells[2].source = (
        "def square(x):\n    import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "    while True:\n        pass"
    )
    path = write(stuck, tmp_path / "sub" / "c.ipynb")
    report = cw.check_against(path, inst, timeout=2)
    assert [r.status for r in report.results] == ["timed out", "passed", "passed"]
    assert report.other_errors == () and report.aborted is None


def test_an_exercise_never_run_is_an_error_in_the_csv(tmp_path, capsys):
    """Exercise 2 kills the kernel and exercise 1 hangs when it is replayed: the session
    cannot go on, and exercise 3 is "error" in the CSV (one of its statuses), not "not run".
    An instructor's cell outside the exercises that raises is named on the progress line."""
    nb = course()
    inst = write(nb, tmp_path / "inst" / "c.ipynb")
    flag = tmp_path / "replayed"
    sub = solved_student(nb)
    sub.cells[2].source = (
        f"def square(x):\n    import os, time\n    if os.path.exists({str(flag)!r}):\n"
        f"        time.sleep(60)\n    open({str(flag)!r}, 'w').close()\n    return x * x"
    )
    sub.cells[5].source = "answer = None\nimport os\nos._exit(1)"
    write(sub, tmp_path / "subs" / "ann" / "c.ipynb")
    csv_path = tmp_path / "grades.csv"
    argv = ["grade", str(tmp_path / "subs"), "--against", str(inst.parent), "--csv"]
    assert cw.main([*argv, str(csv_path), "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert "ann/c.ipynb: 1/3 passed" in out and "stopped early" in out
    statuses = [r["status"] for r in csv.DictReader(open(csv_path))]
    assert statuses == ["passed", "failed", "error"]
    # an instructor's cell outside the exercises that raises is named on the progress line
    sub = solved_student(nb)
    sub.cells[0].source = "raise RuntimeError('set-up')"  # not the student's: ignored
    write(sub, tmp_path / "subs" / "ann" / "c.ipynb")
    nb.cells[14].source = "1 / 0"
    write(nb, inst)
    assert cw.main([*argv, str(csv_path), "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert "ann/c.ipynb: 3/3 passed" in out and "cells outside the exercises raised: 14" in out


def test_grade_bad_input_writes_nothing(tmp_path, capsys):
    inst = write(course(), tmp_path / "inst" / "c.ipynb")
    csv_path = tmp_path / "grades.csv"
    args = ["--against", str(inst.parent), "--csv", str(csv_path)]
    assert cw.main(["grade", str(tmp_path / "nowhere"), *args]) == 2
    assert "no such submissions folder" in capsys.readouterr().err
    for option, command in (("--csv", "grade"), ("--json", "check")):
        target = str(tmp_path / "no-folder" / "out")
        source = str(tmp_path) if command == "grade" else str(inst)
        argv = [command, source, "--against", str(inst.parent), option, target]
        assert cw.main(argv) == 2, option
        captured = capsys.readouterr()
        assert f"{option} {target}: the folder" in captured.err and captured.out == "", option
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "c.ipynb").write_text("{not json")
    assert cw.main(["grade", str(tmp_path / "subs"), *args]) == 2
    err = capsys.readouterr().err
    assert "ann/c.ipynb" in err and "Traceback" not in err
    nb = course()
    del nb.cells[3]  # exercise 1 without a check cell
    write(nb, inst)
    shutil.rmtree(tmp_path / "subs")
    write(course(), tmp_path / "subs" / "ann" / "c.ipynb")
    assert cw.main(["grade", str(tmp_path / "subs"), *args]) == 2
    assert "c.ipynb, cell 2: exercise 1" in capsys.readouterr().err
    assert not csv_path.exists()


# ----------------------------------------------------------------------------- verify


def test_verify_synthetic(tmp_path, capsys):
    path = write(course(), tmp_path / "src" / "c.ipynb")
    wrong = tmp_path / "src" / "wrong_answers" / "c.md"
    wrong.parent.mkdir()
    wrong.write_text(
        "# Wrong answers\n\n## Exercise 1 — x + x\n\n```python\n    return x + x\n```\n\n"
        "## Exercise 2 — 41\n\n```python\nanswer = 41\n```\n\n"
        "## Exercise 3 — e\n\n```python\nbonus = math.e\n```\n"
    )
    assert cw.main(["verify", str(path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "wrong: x + x: failed" in out and "verified 3 exercises in 1 notebook: OK" in out
    # a wrong answer the check cells accept
    wrong.write_text(
        wrong.read_text() + "\n## Exercise 2 — 42 again\n\n```python\nanswer = 42\n```\n"
    )
    assert cw.main(["verify", str(path)]) == 1
    assert "the wrong answer '42 again' is passed" in capsys.readouterr().out
    # bad input: an exercise that does not exist, too many blocks
    wrong.write_text("## Exercise 9 — none\n\n```python\nx = 1\n```\n")
    assert cw.main(["verify", str(path)]) == 2
    assert "exercise 9" in capsys.readouterr().err
    wrong.write_text("## Exercise 2 — two\n\n```python\nx = 1\n```\n\n```python\nx = 2\n```\n")
    assert cw.main(["verify", str(path)]) == 2
    assert "2 code block(s)" in capsys.readouterr().err


def test_bad_input_is_exit_2_naming_file_and_cell(tmp_path, capsys):
    nb = course()
    nb.cells[5].source = f"{BEGIN}\nanswer = 42"  # never closed
    bad = write(nb, tmp_path / "src" / "c.ipynb")
    sub = write(course(), tmp_path / "sub" / "c.ipynb")
    for argv in (
        ["check", str(sub), "--against", str(bad)],
        ["verify", str(bad)],
        ["nbgrader", str(bad), "--out", str(tmp_path / "out")],
        ["student", str(bad), "--out", str(tmp_path / "out")],
    ):
        assert cw.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "c.ipynb, cell 5" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    (tmp_path / "src" / "c.ipynb").write_text("not json")
    assert cw.main(["check", str(sub), "--against", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    "breakage, where",
    [
        ("no check cell", "c.ipynb, cell 2: exercise 1"),
        ("bad points", "c.ipynb, cell 11: the heading"),
    ],
)
def test_every_command_refuses_an_ungradable_notebook(breakage, where, tmp_path, capsys):
    """An exercise without a check cell, or a written exercise whose points do not parse:
    student, list and nbgrader refuse it too (exit 2, nothing written), not only grade."""
    nb = course()
    if breakage == "no check cell":
        del nb.cells[3]
    else:
        nb.cells[11].source = "### Exercise 4 — explain (two points)"
    bad = write(nb, tmp_path / "src" / "c.ipynb")
    for argv in (
        ["student", str(bad), "--out", str(tmp_path / "out")],
        ["nbgrader", str(bad), "--out", str(tmp_path / "out")],
        ["list", str(bad)],
    ):
        assert cw.main(argv) == 2, argv
        captured = capsys.readouterr()
        assert where in captured.err and "Traceback" not in captured.err, argv
        assert captured.out == "", argv
    assert not (tmp_path / "out").exists()


def test_titles_drop_the_latex_decoration():
    nb = notebook(
        ("md", "### Exercise 1 — $(\\mathbf{a} - \\mathbf{y})^\\mathsf{T}$ for any $\\mathit{y}$"),
        ("md", "**Solution.** Because."),
    )
    [written] = find_written_exercises(nb)
    assert written.title == "Exercise 1 — (a - y)^T for any y"
