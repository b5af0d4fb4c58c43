"""Coursework tools: student versions, checking and grading students' work, nbgrader.

Run as ``python -m cnn_helpers.coursework``::

    python -m cnn_helpers.coursework student notebooks/ --out student/
    python -m cnn_helpers.coursework check student/03_max_pooling_mask.ipynb
    python -m cnn_helpers.coursework check work/03_max_pooling_mask.ipynb --against notebooks/
    python -m cnn_helpers.coursework grade SUBMISSIONS/ --against notebooks/ --csv grades.csv
    python -m cnn_helpers.coursework verify notebooks/
    python -m cnn_helpers.coursework nbgrader notebooks/ --out COURSE/source/ASSIGNMENT/
    python -m cnn_helpers.coursework list notebooks/

Conventions
-----------
Solution markers
    In a **code** cell, a line that is exactly ``### BEGIN SOLUTION`` (leading and
    trailing white space ignored) opens a solution region and a line that is exactly
    ``### END SOLUTION`` closes it; both marker lines belong to the region. A cell may
    hold several regions, regions do not nest. Markdown and raw cells are never
    searched, and neither is a line that merely *contains* the words (a string, a
    trailing comment). A comment-only line that looks like a marker but is not exactly
    one (``## BEGIN SOLUTION``, ``### begin solution``, ``### END SOLUTION  # x``) is an
    error, so that a typo never leaks a solution to students.
Exercises
    An exercise is a *solution cell* (a code cell with at least one region) together
    with its *check cells*: the code cells that follow it up to the next markdown or raw
    cell or the next solution cell. Exercises are numbered 1, 2, ... in notebook order;
    the title is the last ``Exercise N ...`` heading or bold lead-in of the nearest
    markdown cell above the solution cell that is not a written solution
    (``Exercise N`` if there is none). An exercise is numbered by the ``N`` of its title
    (else by its position); two solution cells under one title are an error.
Points
    ``### Exercise N — title (2 points)``, ``(optional)``, ``(1 point, optional)`` at the
    end of the heading; default 1 point, required. An optional exercise's points count
    when it passes but are not part of the maximum. A final parenthesis that looks like
    points but does not parse is an error (module ``points``).
Written exercises
    An ``### Exercise N — ...`` heading followed by ``**Solution.**`` cell(s) and no
    solution region is a written (conceptual) exercise: ``list`` shows it, ``grade``
    counts it as "graded by hand" (no CSV row), ``nbgrader`` makes its answer cells
    manually graded.
Wrong answers
    ``wrong_answers/NN_name.md`` beside the notebooks (module ``wrong``): the mistakes
    ``verify`` proves the check cells reject. Never copied into student versions or
    nbgrader releases.
Written answers
    A **markdown** cell whose first non-blank line starts with ``**Solution.**`` is the
    instructor's written answer to a question (the answer to a prove/explain exercise,
    or the explanation a computation asks for). A markdown cell whose first line looks
    like such a lead-in but is not exactly one (``**Solution**``, ``**Solution:**``,
    ``*Solution.*``, a heading ``### Solution ...``) is an error, as for the markers.
Student versions
    Every region is replaced by one line ``raise NotImplementedError()`` indented like
    its ``### BEGIN SOLUTION`` line; the cell's other lines stay, check cells stay, all
    outputs and execution counts are cleared. Every written answer is replaced by a
    markdown cell ``**Your answer.** _Write your answer here._`` with the same cell id
    (no attachments, metadata ``"coursework": {"role": "answer"}``). Because the markers
    are gone, the solution and check cells are tagged in their metadata::

        "coursework": {"exercise": 2, "role": "solution" | "check", "title": "..."}

    and ``check`` finds the exercises of a student notebook from these tags (a notebook
    with tags is read by its tags only; one without by its markers).
Cell numbers
    Cells are numbered from 0 in the order of the notebook's list of cells, markdown
    cells included (``nb.cells[i]``); marker line numbers start at 1.

Exit codes of the command line
------------------------------
0
    ``student``/``list``/``nbgrader``/``grade``: done. ``check``: every exercise passed
    and no other cell raised. ``verify``: every exercise behaved.
1
    ``check``: an exercise failed or was not attempted, a cell outside the exercises
    raised, or execution stopped early (a cell timed out, the kernel died).
    ``verify``: a stub, solution or wrong answer did not behave as required.
2
    Usage errors: bad arguments, a missing or unreadable notebook (or submission
    folder), malformed markers, a heading whose points do not parse, an exercise without
    a check cell, a malformed wrong-answers file, an output that would overwrite a
    source notebook or write into a source folder, an existing output without
    ``--force``, a kernel that could not be started. Nothing is written.

Modules
-------
``markers`` (solution regions, stripping them), ``answers`` (written answers and their
placeholder), ``exercises`` (finding exercises), ``student`` (student versions),
``execute`` (the notebook executor shared with ``tools/execute_notebooks.py``),
``check`` and ``report`` (checking and its report), ``against`` (the student's regions
in the instructor's notebook), ``session`` (a kernel that survives timeouts and
crashes), ``points``, ``grade`` (a class to a CSV), ``wrong`` and ``verify`` (recorded
wrong answers and verifying the exercises), ``nbgrader`` (nbgrader metadata),
``notebooks`` (reading files, expanding folders), ``errors``, ``cli`` (the command
line). Everything public is re-exported here.
"""

from .answers import (
    ANSWER_PLACEHOLDER,
    SOLUTION_LEAD,
    is_written_solution,
    written_answer_cells,
    written_solution_cells,
)
from . import against, session
from .check import check_against, check_notebook
from .cli import main
from .errors import CheckError, MarkerError
from .execute import CellError, KernelStartError, execute_in_place, run_notebook, tidy
from .exercises import Exercise, WrittenExercise, find_exercises, find_written_exercises
from .grade import COLUMNS, grade
from .markers import BEGIN, END, REPLACEMENT, solution_regions, strip_solutions
from .nbgrader import nbgrader_notebook, write_nbgrader_notebooks
from .notebooks import METADATA_KEY, collect_notebooks
from .points import PointsError, split_points
from .report import CheckReport, ExerciseResult
from .student import make_student_notebook, write_student_notebooks
from .verify import verify
from .wrong import WrongAnswer, load_wrong_answers

__all__ = [
    "BEGIN",
    "END",
    "REPLACEMENT",
    "METADATA_KEY",
    "SOLUTION_LEAD",
    "ANSWER_PLACEHOLDER",
    "MarkerError",
    "CheckError",
    "KernelStartError",
    "Exercise",
    "CellError",
    "ExerciseResult",
    "CheckReport",
    "solution_regions",
    "strip_solutions",
    "is_written_solution",
    "written_solution_cells",
    "written_answer_cells",
    "find_exercises",
    "make_student_notebook",
    "collect_notebooks",
    "write_student_notebooks",
    "check_notebook",
    "check_against",
    "grade",
    "COLUMNS",
    "verify",
    "nbgrader_notebook",
    "write_nbgrader_notebooks",
    "WrittenExercise",
    "find_written_exercises",
    "PointsError",
    "split_points",
    "WrongAnswer",
    "load_wrong_answers",
    "against",
    "session",
    "run_notebook",
    "execute_in_place",
    "tidy",
    "main",
]
