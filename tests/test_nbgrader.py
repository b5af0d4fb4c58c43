"""The nbgrader path: ``coursework nbgrader`` writes notebooks that real nbgrader accepts.

The cheap test checks the nbgrader metadata of every notebook (no nbgrader needed). The
round trip runs the real nbgrader (the ``instructor`` extra: ``pip install -e
".[instructor]"``) on three notebooks: ``generate_assignment``, a submission made from the
instructor's solutions and one from the released version, ``autograde``, ``export``;
the solutions score full autograded marks and the release 0. It is skipped when nbgrader
is not installed, unless ``CNN_NBGRADER_REQUIRED=1`` (as in ``.ci/run``), which turns a
missing nbgrader into a failure.
"""

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnn_helpers import coursework as cw
from cnn_helpers.coursework.exercises import find_written_exercises
from cnn_helpers.coursework.nbgrader import NBGRADER_CONFIG, nbgrader_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
#: the round trip's notebooks: fast ones, with code and written exercises (not 08)
ROUND_TRIP = ["00_notation.ipynb", "04_activation.ipynb"]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_nbgrader_metadata_of_every_notebook(path):
    nb = nbformat.read(path, as_version=4)
    out = nbgrader_notebook(nb, path.name)
    nbformat.validate(out)
    exercises = cw.find_exercises(nb, path.name)
    written = find_written_exercises(nb, path.name)
    ids = []
    for i, cell in enumerate(out.cells):
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and meta["grade_id"]
        ids.append(meta["grade_id"])
        assert "coursework" not in cell.metadata
        if cell.cell_type == "markdown":  # nbgrader would take these for solution regions
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
    assert len(set(ids)) == len(ids), "grade ids are unique"
    roles = {i: out.cells[i].metadata["nbgrader"] for i in range(len(out.cells))}
    for ex in exercises:
        sol = roles[ex.solution_cell]
        assert (sol["solution"], sol["grade"], sol["locked"]) == (True, False, False)
        stem = path.stem
        assert sol["grade_id"] == f"{stem}-ex{ex.number}-solution"
        points = 0
        for k, i in enumerate(ex.check_cells, start=1):
            check = roles[i]
            assert (check["solution"], check["grade"], check["locked"]) == (False, True, True)
            assert check["grade_id"] == f"{stem}-ex{ex.number}-check{k}"
            points += check["points"]
        assert points == pytest.approx(ex.points)
    answers = cw.written_solution_cells(nb, path.name)
    for i in answers:
        meta = roles[i]
        assert (meta["solution"], meta["grade"]) == (True, True)
    assert sum(roles[i]["points"] for i in answers) == pytest.approx(sum(w.points for w in written))
    special = {ex.solution_cell for ex in exercises} | set(answers)
    special |= {i for ex in exercises for i in ex.check_cells}
    for i, meta in roles.items():
        if i not in special:
            assert (meta["solution"], meta["grade"], meta["locked"]) == (False, False, True)
    # stable: the same ids again
    again = nbgrader_notebook(nbformat.read(path, as_version=4), path.name)
    assert [c.metadata["nbgrader"] for c in again.cells] == [
        c.metadata["nbgrader"] for c in out.cells
    ]


def test_nbgrader_command_writes_nothing_on_bad_input(tmp_path, capsys):
    bad = tmp_path / "src" / "bad.ipynb"
    bad.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("### Exercise 1 — x"),
        nbformat.v4.new_code_cell(f"{cw.BEGIN}\nx = 1\n{cw.END}"),
        nbformat.v4.new_code_cell("assert x == 1"),
        nbformat.v4.new_code_cell("print('BEGIN SOLUTION')"),
    ]
    nbformat.write(nb, bad)
    out = tmp_path / "course" / "source" / "ps1"
    assert cw.main(["nbgrader", str(bad), "--out", str(out)]) == 2
    assert "bad.ipynb, cell 3" in capsys.readouterr().err
    assert not out.exists()


def _nbgrader_available() -> bool:
    return importlib.util.find_spec("nbgrader") is not None


def _require_nbgrader():
    if _nbgrader_available():
        return
    if os.environ.get("CNN_NBGRADER_REQUIRED") == "1":
        pytest.fail(
            "CNN_NBGRADER_REQUIRED=1 but nbgrader is not installed (pip install -e '.[instructor]')"
        )
    pytest.skip("nbgrader is not installed (pip install -e '.[instructor]')")


def _nbgrader(course: Path, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _course(tmp_path, names):
    """A course folder whose ps1 source holds the nbgrader versions of ``names``."""
    course = tmp_path / "course"
    source = course / "source" / "ps1"
    assert cw.main(["nbgrader", *[str(NOTEBOOKS / n) for n in names], "--out", str(source)]) == 0
    db = course / "gradebook.db"
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'cnn'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(db))!r}\n"
        "c.ExecutePreprocessor.timeout = 120\n" + NBGRADER_CONFIG
    )
    return course, source, db


def test_nbgrader_releases_every_notebook_as_its_student_version(tmp_path):
    """generate_assignment accepts every notebook (it rejected all ten before the nbgrader
    metadata); each release is exactly the student version, without the wrong answers."""
    _require_nbgrader()
    names = [p.name for p in ALL_NOTEBOOKS]
    course, _, _ = _course(tmp_path, names)
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    for name in names:
        released = nbformat.read(course / "release" / "ps1" / name, as_version=4)
        student = cw.make_student_notebook(nbformat.read(NOTEBOOKS / name, as_version=4))
        assert [c.source for c in released.cells] == [c.source for c in student.cells], name
        text = "\n".join(c.source for c in released.cells)
        for wrong in cw.load_wrong_answers(NOTEBOOKS / name):
            assert wrong.mistake not in text, (name, wrong.mistake)
    assert sorted(p.name for p in (course / "release" / "ps1").iterdir()) == names


def test_nbgrader_round_trip(tmp_path):
    """generate_assignment -> solutions and release submitted -> autograde -> export."""
    _require_nbgrader()
    from nbgrader.api import Gradebook

    course, source, db = _course(tmp_path, ROUND_TRIP)
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    release = course / "release" / "ps1"
    for name in ROUND_TRIP:  # the release looks like our student version
        released = nbformat.read(release / name, as_version=4)
        student = cw.make_student_notebook(nbformat.read(NOTEBOOKS / name, as_version=4))
        assert [c.source for c in released.cells] == [c.source for c in student.cells], name
    for student, folder in (("solved", source), ("released", release)):
        target = course / "submitted" / student / "ps1"
        target.mkdir(parents=True)
        for name in ROUND_TRIP:
            shutil.copy(folder / name, target / name)
        _nbgrader(course, "db", "student", "add", student)
    _nbgrader(course, "autograde", "ps1", "--force")
    _nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    rows = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "grades.csv"))}
    assert set(rows) == {"solved", "released"}
    expected = 0
    for name in ROUND_TRIP:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        expected += sum(ex.points for ex in cw.find_exercises(nb, name))
    with Gradebook("sqlite:///" + str(db)) as gb:
        solved = gb.find_submission("ps1", "solved")
        released = gb.find_submission("ps1", "released")
        assert solved.max_code_score == pytest.approx(expected)
        assert solved.code_score == pytest.approx(solved.max_code_score), "full autograded marks"
        assert released.code_score == 0
    assert float(rows["released"]["score"]) == 0
    assert float(rows["solved"]["score"]) == pytest.approx(expected)  # written ones: by hand
