"""cnn_helpers.coursework: student versions of the notebooks and checking a student's work.

Most cases use small synthetic notebooks built with nbformat; the end-to-end tests execute
the student version of the fastest real notebook (00_notation, about 2 s) three times.
The shared notebook executor (and tools/execute_notebooks.py) runs on tiny synthetic notebooks.
Everything is written under tmp_path: nothing here touches notebooks/.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from cnn_helpers import coursework as cw
from cnn_helpers.coursework import (
    BEGIN,
    END,
    REPLACEMENT,
    CheckReport,
    Exercise,
    MarkerError,
    check_notebook,
    find_exercises,
    make_student_notebook,
    solution_regions,
    strip_solutions,
    write_student_notebooks,
)
from notebook_factory import notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
FASTEST = NOTEBOOKS / "00_notation.ipynb"  # measured: 00 runs in ~1.8 s, 07 in ~5.3 s


def synthetic():
    """Three exercises: a function body, a top-level region with two check cells, and two
    regions in one cell; markers quoted in markdown and inside a string do not count."""
    return notebook(
        ("md", f"# Synthetic\n\nMarkers are written\n{BEGIN}\nand {END} in markdown."),  # 0
        ("code", "import math\nbase = 2"),  # 1
        ("md", "## Exercises\n\n### Exercise 1: a square"),  # 2
        (
            "code",
            "def square(x):\n    '''Return x squared.'''\n    "
            + BEGIN
            + "\n    return x * x\n    "
            + END
            + "\n\n\nnote = 'a string: "
            + BEGIN
            + "'",
        ),  # 3
        ("code", "assert square(3) == 9"),  # 4
        ("md", "**Exercise 2 — the answer $\\mathbf{a}$.** Set `answer`."),  # 5
        ("code", f"answer = None\n{BEGIN}\nanswer = 6 * 7\n{END}"),  # 6
        ("code", "assert answer is not None, 'set answer'"),  # 7
        ("code", "assert answer == 42, 'wrong answer'"),  # 8
        ("md", "### Exercise 3: two regions"),  # 9
        (
            "code",
            f"{BEGIN}\na = 1\n{END}\nb = base\nif b:\n    {BEGIN}\n    c = 3\n    {END}\n",
        ),  # 10
        ("code", "assert (a, b, c) == (1, 2, 3)"),  # 11
        ("md", "## After the exercises"),  # 12
        ("code", "print('done')"),  # 13
    )


def solution_lines(nb):
    """Stripped lines strictly inside solution regions, and every line outside them."""
    inside, outside = set(), set()
    for i, cell in enumerate(nb.cells):
        lines = cell.source.split("\n")
        regions = solution_regions(cell.source, cell=i) if cell.cell_type == "code" else []
        hidden = {k for b, e in regions for k in range(b, e + 1)}
        for k, line in enumerate(lines, start=1):
            if k in hidden and line.strip() not in (BEGIN, END):
                inside.add(line.strip())
            elif k not in hidden:
                outside.add(line.strip())
    return inside, outside


def answer(source, wrong=False):
    """What a student writes: the solution without markers (or `pass`, a wrong answer)."""
    regions = solution_regions(source)
    lines, out, prev = source.split("\n"), [], 0
    for b, e in regions:
        out += lines[prev : b - 1]
        marker = lines[b - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
        out += [indent + "pass"] if wrong else lines[b : e - 1]
        prev = e
    return "\n".join(out + lines[prev:])


def student_with(original, student, solved=(), wrong=()):
    """The student notebook with the given exercises (1-based) solved or answered wrongly."""
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    for ex in find_exercises(original):
        if ex.number in solved or ex.number in wrong:
            src = original.cells[ex.solution_cell].source
            nb.cells[ex.solution_cell].source = answer(src, wrong=ex.number in wrong)
    return nb


# ------------------------------------------------------------------ finding exercises


def test_find_exercises_groups_solution_and_check_cells():
    exercises = find_exercises(synthetic())
    assert [(e.number, e.solution_cell, e.check_cells) for e in exercises] == [
        (1, 3, (4,)),
        (2, 6, (7, 8)),
        (3, 10, (11,)),
    ]
    assert [e.title for e in exercises] == [
        "Exercise 1: a square",
        "Exercise 2 — the answer a",
        "Exercise 3: two regions",
    ]
    assert exercises[1].cells == (6, 7, 8)


def test_untitled_exercises_are_numbered_and_cells_after_markdown_are_not_checks():
    nb = notebook(
        ("code", f"{BEGIN}\nx = 1\n{END}"),
        ("code", f"{BEGIN}\ny = 2\n{END}"),
        ("code", "assert y == 2"),
        ("md", "text"),
        ("code", "z = 3"),
    )
    assert find_exercises(nb) == [
        Exercise(1, "Exercise 1", 0, ()),
        Exercise(2, "Exercise 2", 1, (2,)),
    ]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_checked_exercises(path):
    exercises = find_exercises(nbformat.read(path, as_version=4), str(path))
    assert len(exercises) >= 2
    for ex in exercises:
        assert ex.check_cells, f"{path.name}: {ex.title} has no check cell"
        assert ex.title.lower().startswith("exercise")


# ------------------------------------------------------------------- student version


def test_student_version_of_synthetic_notebook():
    nb = synthetic()
    before = json.dumps(nb, sort_keys=True)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="old output\n")]
    nb.cells[1].execution_count = 7
    student = make_student_notebook(nb, name="synthetic.ipynb")
    nbformat.validate(student)
    assert json.dumps(nb, sort_keys=True) != before  # we added outputs above ...
    assert nb.cells[1].outputs  # ... and the input keeps them
    assert student.cells[3].source == (
        "def square(x):\n    '''Return x squared.'''\n    "
        + REPLACEMENT
        + f"\n\n\nnote = 'a string: {BEGIN}'"
    )
    assert student.cells[6].source == f"answer = None\n{REPLACEMENT}"
    assert student.cells[10].source == f"{REPLACEMENT}\nb = base\nif b:\n    {REPLACEMENT}\n"
    for i in (0, 2, 4, 5, 7, 8, 9, 11, 12, 13):  # markdown and check cells stay
        assert student.cells[i].source == nb.cells[i].source
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    tags = {i: c.metadata.get("coursework") for i, c in enumerate(student.cells)}
    assert tags[6] == {
        "exercise": 2,
        "role": "solution",
        "title": "Exercise 2 — the answer a",
        "points": 1,
        "optional": False,
    }
    assert tags[8]["role"] == "check" and tags[1] is None
    assert find_exercises(student) == find_exercises(nb)  # found again from the tags


def test_student_version_of_a_student_version_is_the_same():
    student = make_student_notebook(synthetic())
    again = make_student_notebook(student)
    assert json.dumps(again, sort_keys=True) == json.dumps(student, sort_keys=True)
    assert find_exercises(student, by="markers") == []  # the markers are gone ...
    assert len(find_exercises(student, by="tags")) == 3  # ... the tags are not
    with pytest.raises(ValueError, match="by must be"):
        find_exercises(student, by="heading")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.stem)
def test_student_versions_of_real_notebooks_hide_every_solution_line(path):
    nb = nbformat.read(path, as_version=4)
    student = make_student_notebook(nb, name=str(path))
    nbformat.validate(student)
    inside, outside = solution_lines(nb)
    code = {
        ln.strip() for c in student.cells if c.cell_type == "code" for ln in c.source.split("\n")
    }
    assert BEGIN not in code and END not in code
    leaked = {ln for ln in inside - outside if ln and ln in code}
    assert not leaked, f"solution lines left in the student version: {sorted(leaked)[:5]}"
    assert all(
        c.outputs == [] and c.execution_count is None
        for c in student.cells
        if c.cell_type == "code"
    )
    exercises = find_exercises(nb)
    for ex in exercises:  # check cells are untouched
        for i in ex.check_cells:
            assert student.cells[i].source == nb.cells[i].source
        assert REPLACEMENT in student.cells[ex.solution_cell].source
    assert find_exercises(student) == exercises


def test_cli_writes_student_folder_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "student"
    sources_before = {p: p.read_bytes() for p in ALL_NOTEBOOKS}
    assert cw.main(["student", str(NOTEBOOKS), "--out", str(out)]) == 0
    written = sorted(out.glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in ALL_NOTEBOOKS]
    for p in written:
        nb = nbformat.read(p, as_version=4)
        nbformat.validate(nb)
        assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    assert "wrote" in capsys.readouterr().out
    # a second run refuses to replace the outputs, unless --force
    assert cw.main(["student", str(NOTEBOOKS), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cw.main(["student", str(NOTEBOOKS), "--out", str(out), "--force"]) == 0
    assert {p: p.read_bytes() for p in ALL_NOTEBOOKS} == sources_before


def test_refuses_to_write_into_the_sources(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    path = src / "ex.ipynb"
    nbformat.write(synthetic(), path)
    original = path.read_bytes()
    for args in (
        ["student", str(src), "--out", str(src)],
        ["student", str(path), "--out", str(src)],
        ["student", str(path), "--out", str(tmp_path / "src" / ".." / "src")],
    ):
        assert cw.main(args) == 2
        assert "refusing" in capsys.readouterr().err
    assert cw.main(["student", str(src), "--out", str(src / "student")]) == 2
    assert "inside the source folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="source folder"):
        write_student_notebooks([path], src)
    assert path.read_bytes() == original and sorted(src.iterdir()) == [path]


# ---------------------------------------------------------------------- bad markers

BAD = {
    "unbalanced BEGIN": (f"x = 1\n{BEGIN}\nx = 2", 2, "never closed"),
    "END without BEGIN": (f"x = 1\n{END}", 2, "without a matching"),
    "nested BEGIN": (f"{BEGIN}\nx = 1\n  {BEGIN}\nx = 2\n{END}\n{END}", 3, "nested"),
    "END before BEGIN": (f"{END}\n{BEGIN}", 1, "without a matching"),
    "misspelled": (f"## BEGIN SOLUTION\nx = 1\n{END}", 1, "looks like a solution marker"),
    "trailing text": (f"{BEGIN}\nx = 1\n{END}  # done", 3, "looks like a solution marker"),
    "indentation": (f"def f():\n{BEGIN}\n    return 1\n{END}\n\nf()", 2, "not valid Python"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_malformed_markers_name_notebook_cell_and_line(case):
    source, line, problem = BAD[case]
    nb = notebook(("md", "# t"), ("code", "import math"), ("code", source))
    with pytest.raises(MarkerError, match=problem) as info:
        make_student_notebook(nb, name="bad.ipynb")
    assert str(info.value).startswith(f"bad.ipynb, cell 2, line {line}: ")
    assert (info.value.notebook, info.value.cell, info.value.line) == ("bad.ipynb", 2, line)
    assert isinstance(info.value, ValueError)


def test_malformed_markers_on_the_command_line(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    good, bad = tmp_path / "src" / "a_good.ipynb", tmp_path / "src" / "b_bad.ipynb"
    nbformat.write(synthetic(), good)
    nbformat.write(notebook(("md", "x"), ("code", f"{BEGIN}\ny = 1")), bad)
    out = tmp_path / "out"
    assert cw.main(["student", str(good), str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, cell 1, line 1: '{BEGIN}' is never closed" in err
    assert not out.exists()  # nothing written at all
    assert cw.main(["check", str(bad)]) == 2  # before executing anything
    assert "cell 1" in capsys.readouterr().err
    assert cw.main(["list", str(good)]) == 0
    assert "3 exercises" in capsys.readouterr().out


def test_markers_only_count_in_code_cells_as_whole_lines():
    assert solution_regions(f"s = '{BEGIN}'\nprint('{END}')  # {END}") == []
    assert solution_regions(f"  {BEGIN}  \nx\n\t{END}") == [(1, 3)]
    nb = notebook(("md", f"{BEGIN}\nno end here"), ("code", "x = 1"))
    nb.cells.append(nbformat.v4.new_raw_cell(f"{END}"))
    assert find_exercises(nb) == []
    assert make_student_notebook(nb).cells[0].source == nb.cells[0].source
    assert strip_solutions("x = 1\n") == "x = 1\n"


def test_errors_for_wrong_arguments(tmp_path):
    with pytest.raises(TypeError, match="not a path"):
        make_student_notebook(str(FASTEST))
    with pytest.raises(TypeError, match="NotebookNode or dict"):
        find_exercises([1, 2])
    with pytest.raises(ValueError, match="nbformat=3"):
        make_student_notebook({"nbformat": 3, "worksheets": []})
    with pytest.raises(TypeError, match="source must be a str"):
        solution_regions(["x"])
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        check_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(TypeError, match="timeout"):
        check_notebook(FASTEST, timeout="10")
    with pytest.raises(ValueError, match="timeout must be > 0"):
        check_notebook(FASTEST, timeout=0)
    (tmp_path / "junk.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="cannot read"):
        check_notebook(tmp_path / "junk.ipynb")
    assert cw.main(["check", str(tmp_path / "missing.ipynb")]) == 2
    assert cw.main(["student", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


def test_a_kernel_that_cannot_start_is_a_usage_error(tmp_path, monkeypatch, capsys):
    import ipykernel.kernelspec

    path = tmp_path / "ex.ipynb"
    nbformat.write(synthetic(), path)
    spec = ipykernel.kernelspec.get_kernel_dict()
    spec["argv"] = [str(tmp_path / "no-such-python")] + spec["argv"][1:]
    monkeypatch.setattr(ipykernel.kernelspec, "get_kernel_dict", lambda *a, **k: spec)
    with pytest.raises(cw.CheckError, match="could not start a python3 kernel"):
        check_notebook(path)
    assert cw.main(["check", str(path)]) == 2
    assert "could not start" in capsys.readouterr().err
    # the resilient session of check --against, grade and verify: the same usage error
    assert cw.main(["check", str(path), "--against", str(path)]) == 2
    err = capsys.readouterr().err
    assert "could not start a python3 kernel" in err and "Traceback" not in err


def test_module_runs_as_a_command():
    run = subprocess.run(
        [sys.executable, "-m", "cnn_helpers.coursework", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 0 and "student" in run.stdout and "check" in run.stdout
    with pytest.raises(SystemExit) as info:  # no command: argparse usage error
        cw.main([])
    assert info.value.code == 2


# ------------------------------------------------------------- checking (executes)


def test_check_reports_passed_failed_not_attempted_and_other_errors(tmp_path):
    original = synthetic()
    original.cells.append(new_code_cell("1 / 0"))  # cell 14, outside the exercises
    student = make_student_notebook(original, name="synthetic")
    path = tmp_path / "work.ipynb"
    nbformat.write(student_with(original, student, solved=(1,), wrong=(3,)), path)
    report = check_notebook(path, timeout=60)
    assert [r.status for r in report.results] == ["passed", "not attempted", "failed"]
    assert report.results[1].error.cell == 6
    assert report.results[2].error.ename == "NameError"  # `pass` left a and c undefined
    assert [(e.cell, e.ename) for e in report.other_errors] == [(14, "ZeroDivisionError")]
    assert report.exit_code == 1 and not report.ok
    text = report.format()
    assert "cell 6: NotImplementedError" in text and "cell 14 (1 / 0): ZeroDivisionError" in text
    assert "1 passed, 1 failed, 1 not attempted (of 3)" in text


def test_check_stops_at_a_timeout(tmp_path):
    nb = notebook(
        ("code", "import time"),
        ("md", "### Exercise 1: slow"),
        ("code", f"{BEGIN}\ntime.sleep(30)\n{END}"),
        ("code", "assert True"),
        ("md", "### Exercise 2: never reached"),
        ("code", f"{BEGIN}\nx = 1\n{END}"),
        ("code", "assert x == 1"),
    )
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    report = check_notebook(path, timeout=2)
    assert [r.status for r in report.results] == ["timed out", "not run"]
    assert report.results[0].error.ename == "TimeoutError"
    assert "cell 2 did not finish within 2 s" in report.aborted and report.exit_code == 1


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The fastest real notebook, its student version and its exercises."""
    original = nbformat.read(FASTEST, as_version=4)
    out = tmp_path_factory.mktemp("student")
    write_student_notebooks([FASTEST], out)
    path = out / FASTEST.name
    return original, nbformat.read(path, as_version=4), path, find_exercises(original)


def test_student_notebook_raises_not_implemented_at_the_first_exercise(real):
    original, _, path, exercises = real
    before = path.read_bytes()
    report = check_notebook(path, timeout=120)
    assert path.read_bytes() == before  # the file is not modified
    assert report.other_errors == () and report.aborted is None
    assert all(r.status == "not attempted" for r in report.results)
    errors = sorted((r.error for r in report.results), key=lambda e: e.cell)
    first = errors[0]
    assert first.ename == "NotImplementedError" and first.cell in exercises[0].cells
    assert isinstance(report, CheckReport) and report.exit_code == 1


def test_round_trip_every_solution_put_back_passes(real, tmp_path, capsys):
    original, student, _, exercises = real
    path = tmp_path / FASTEST.name
    nbformat.write(student_with(original, student, solved=[e.number for e in exercises]), path)
    assert cw.main(["check", str(path), "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert f"{len(exercises)} passed, 0 failed, 0 not attempted" in out and "-> OK" in out


def test_one_solution_missing_and_one_wrong_are_reported_exactly(real, tmp_path, capsys):
    original, student, _, exercises = real
    assert len(exercises) >= 3
    path, report_path = tmp_path / FASTEST.name, tmp_path / "report.json"
    solved = [e.number for e in exercises if e.number not in (2, 3)]
    nbformat.write(student_with(original, student, solved=solved, wrong=(3,)), path)
    assert cw.main(["check", str(path), "--json", str(report_path)]) == 1
    capsys.readouterr()
    [report] = json.loads(report_path.read_text())
    status = {e["number"]: e["status"] for e in report["exercises"]}
    assert [n for n, s in status.items() if s == "not attempted"] == [2]
    assert [n for n, s in status.items() if s == "failed"] == [3]
    assert all(s == "passed" for n, s in status.items() if n not in (2, 3))
    assert report["other_errors"] == [] and report["exit_code"] == 1


# ------------------------------------------------------------------ written answers

SOLUTION_TEXT = "**Solution.** Because vec stacks the columns, the answer is $A^T$."


def with_written_answers():
    """The synthetic notebook plus a conceptual exercise with a written solution, a
    written solution between a heading and its code cell, and two look-alikes."""
    nb = synthetic()
    nb.cells += [
        new_markdown_cell("### Exercise 4 — explain the transpose"),  # 14
        new_markdown_cell("\n  \n" + SOLUTION_TEXT + "\n\nA second paragraph."),  # 15
        new_markdown_cell("### Exercise 5 — compute and explain"),  # 16
        new_markdown_cell("**Solution.** The code below computes it."),  # 17
        new_code_cell(f"{BEGIN}\nd = 4\n{END}"),  # 18
        new_code_cell("assert d == 4"),  # 19
        new_markdown_cell("A remark, then\n**Solution.** not on the first line."),  # 20
        new_markdown_cell("**Solution strategy.** Not a solution cell."),  # 21
    ]
    nb.cells[15].attachments = {"fig.png": {"image/png": "iVBORw0KGgo="}}
    return nb


def test_written_solutions_become_answer_placeholders():
    nb = with_written_answers()
    before = json.dumps(nb, sort_keys=True)
    assert cw.written_solution_cells(nb) == [15, 17]
    student = make_student_notebook(nb, name="answers.ipynb")
    nbformat.validate(student)
    assert json.dumps(nb, sort_keys=True) == before  # the instructor notebook is unchanged
    assert nb.cells[15].source.endswith("A second paragraph.")
    for i in (15, 17):
        cell = student.cells[i]
        assert cell.cell_type == "markdown" and cell.source == cw.ANSWER_PLACEHOLDER
        assert cell.id == nb.cells[i].id and "attachments" not in cell
        assert cell.metadata == {"coursework": {"role": "answer"}}
    ids = [c.id for c in student.cells]
    assert len(set(ids)) == len(ids)
    text = "\n".join(c.source for c in student.cells)
    assert "Because vec stacks" not in text and "second paragraph" not in text
    assert not any(cw.is_written_solution(c) for c in student.cells)
    for i in (14, 16, 20, 21):  # headings and look-alikes stay as they are
        assert student.cells[i].source == nb.cells[i].source
    assert cw.written_answer_cells(student) == cw.written_answer_cells(nb) == [15, 17]
    again = make_student_notebook(student)
    assert json.dumps(again, sort_keys=True) == json.dumps(student, sort_keys=True)


def test_a_written_solution_does_not_hide_the_exercise_title():
    exercises = find_exercises(with_written_answers())
    assert [(e.number, e.title, e.cells) for e in exercises][3] == (
        5,  # the number of its heading, the one students read
        "Exercise 5 — compute and explain",
        (18, 19),
    )


@pytest.mark.parametrize(
    "lead", ["**Solution**", "**Solution:**", "*Solution.*", "__solution.__", "### Solution"]
)
def test_a_misspelled_solution_lead_is_an_error(lead):
    nb = notebook(("md", "# t"), ("md", f"\n{lead} The answer is 42."))
    with pytest.raises(MarkerError, match="looks like a written solution") as info:
        make_student_notebook(nb, name="bad.ipynb")
    assert (info.value.notebook, info.value.cell, info.value.line) == ("bad.ipynb", 1, 2)


def test_list_counts_the_written_answers(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "answers.ipynb"
    nbformat.write(with_written_answers(), path)
    assert cw.main(["list", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: 4 exercises + 1 written"
    assert out[1].startswith("  1. Exercise 1: a square  (1 point)")
    assert (
        "  4. Exercise 4 — explain the transpose  (1 point)  written, graded by hand  [cells 14-15]"
        in out
    )
    assert out[-1] == "  written answers: 2  [cells 15,17]"
    student = tmp_path / "student"
    assert cw.main(["student", str(path), "--out", str(student)]) == 0
    capsys.readouterr()
    assert cw.main(["list", str(student / path.name)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "  written answers: 2  [cells 15,17]"
    nbformat.write(notebook(("md", "**Solution:** 42")), tmp_path / "bad.ipynb")
    assert cw.main(["list", str(tmp_path / "bad.ipynb")]) == 2
    assert "cell 0, line 1" in capsys.readouterr().err


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.stem)
def test_student_versions_of_real_notebooks_hide_every_written_solution(path):
    nb = nbformat.read(path, as_version=4)
    solutions = cw.written_solution_cells(nb, str(path))
    student = make_student_notebook(nb, name=str(path))
    assert not any(cw.is_written_solution(c) for c in student.cells)
    assert [i for i, c in enumerate(student.cells) if c.source == cw.ANSWER_PLACEHOLDER] == (
        solutions
    )
    for i, cell in enumerate(nb.cells):  # every other markdown cell is the instructor's
        if cell.cell_type == "markdown" and i not in solutions:
            assert student.cells[i].source == cell.source


# ------------------------------------------------------------ the notebook executor

EXECUTED = [
    "import os, sys\nprint(sys.executable)\nprint(os.getcwd())",
    "import sys\nprint('a', flush=True)\nprint('b')\nprint('e', file=sys.stderr)",
    "x = 6 * 7\nx",
]


def test_tidy_merges_streams_and_drops_timestamps():
    nb = notebook(("code", "print('a'); print('b')"), ("md", "text"))
    nb.cells[0].metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text="a\n"),
        new_output("stream", name="stdout", text="b\n"),
        new_output("stream", name="stderr", text="e\n"),
        new_output("stream", name="stdout", text="c\n"),
    ]
    cw.tidy(nb)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "a\nb\n"),
        ("stderr", "e\n"),
        ("stdout", "c\n"),
    ]
    assert "execution" not in nb.cells[0].metadata


def test_execute_notebooks_runs_this_interpreter_in_the_notebook_folder(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    path = folder / "run.ipynb"
    nb = notebook(*[("code", s) for s in EXECUTED])
    kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["kernelspec"] = kernelspec
    nb.metadata["custom"] = {"kept": True}
    nbformat.write(nb, path)
    tool = [sys.executable, str(ROOT / "tools" / "execute_notebooks.py")]
    run = subprocess.run(tool + [str(path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("run.ipynb: ") and run.stdout.rstrip().endswith(" s")
    done = nbformat.read(path, as_version=4)
    assert done.metadata.kernelspec == kernelspec and done.metadata.custom == {"kept": True}
    assert [c.execution_count for c in done.cells] == [1, 2, 3]
    first = done.cells[0].outputs[0].text.splitlines()
    assert Path(first[0]).resolve() == Path(sys.executable).resolve()
    assert Path(first[1]).resolve() == folder.resolve()
    assert [(o.name, o.text) for o in done.cells[1].outputs] == [
        ("stdout", "a\nb\n"),
        ("stderr", "e\n"),
    ]
    assert all("execution" not in c.metadata for c in done.cells)
    once = path.read_bytes()
    cw.execute_in_place(path)  # a second run changes nothing
    assert path.read_bytes() == once


def test_execute_notebooks_leaves_a_failing_notebook_untouched(tmp_path):
    path = tmp_path / "fail.ipynb"
    nbformat.write(notebook(("code", "x = 1"), ("code", "1 / 0"), ("code", "y = 2")), path)
    before = path.read_bytes()
    with pytest.raises(cw.execute.NotebookRunError, match="ZeroDivisionError"):
        cw.execute_in_place(path)
    assert path.read_bytes() == before
    tool = [sys.executable, str(ROOT / "tools" / "execute_notebooks.py")]
    run = subprocess.run(tool + [str(tmp_path / "missing.ipynb")], capture_output=True, text=True)
    assert run.returncode == 2 and "no notebook at" in run.stderr
