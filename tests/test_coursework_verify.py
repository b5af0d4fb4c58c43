"""VERIFY (slow, about a minute on 2 cores): ``coursework verify notebooks/`` over every notebook.

Every auto-graded exercise of every notebook runs three ways in one kernel per notebook:
the student-version stub must be "not attempted", the solution must pass, and each wrong
answer recorded in notebooks/wrong_answers/NN_name.md must fail. Part of
``pytest --nbval`` (and of plain ``pytest``); deselect it with ``-k "not verify"``.
"""

from pathlib import Path

import nbformat
import pytest

from cnn_helpers import coursework as cw
from cnn_helpers.coursework.exercises import exercise_headings, validate_exercises

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_is_numbered_by_its_heading_and_has_a_wrong_answer(path):
    nb = nbformat.read(path, as_version=4)
    exercises = validate_exercises(nb, str(path))
    written = cw.find_written_exercises(nb, str(path))
    numbers = sorted([e.number for e in exercises] + [w.number for w in written])
    assert numbers == [n for _, n, _ in exercise_headings(nb)] == list(range(1, len(numbers) + 1))
    wrong = cw.load_wrong_answers(path)
    assert {w.exercise for w in wrong} == {e.number for e in exercises}


def test_verify_every_notebook(capsys):
    verdicts = cw.verify([NOTEBOOKS], timeout=300, jobs=2)
    text = capsys.readouterr().out
    assert len(verdicts) == len(ALL_NOTEBOOKS)
    assert all(v.ok for v in verdicts), text
