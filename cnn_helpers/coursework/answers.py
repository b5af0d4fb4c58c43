"""Written answers: the ``**Solution.**`` markdown cells and their student placeholder."""

from __future__ import annotations

import re

import nbformat

from ._text import first_line
from .errors import MarkerError
from .notebooks import METADATA_KEY, as_notebook, cell_source, is_markdown

#: how the first non-blank line of a markdown solution cell starts
SOLUTION_LEAD = "**Solution.**"
#: what a markdown solution cell becomes in the student version
ANSWER_PLACEHOLDER = "**Your answer.** _Write your answer here._"
#: the ``role`` of a placeholder in its ``metadata["coursework"]`` tag
ANSWER_ROLE = "answer"

# a first line that looks like a solution lead-in but is not exactly the convention:
# **Solution**, **Solution:**, *Solution.*, __solution.__, or a heading ### Solution ...
_NEAR_SOLUTION = re.compile(
    r"^(?:(?:\*{1,2}|_{1,2})\s*solutions?\s*[.:]?\s*(?:\*{1,2}|_{1,2})"
    r"|#{1,6}\s*solutions?\b)",
    re.IGNORECASE,
)


def is_written_solution(cell) -> bool:
    """True if ``cell`` is a markdown cell whose first non-blank line starts with
    ``**Solution.**`` (an instructor's written answer)."""
    return is_markdown(cell) and first_line(cell_source(cell)).startswith(SOLUTION_LEAD)


def is_answer_placeholder(cell) -> bool:
    """True if ``cell`` is the placeholder a student version has for a written answer
    (found by its tag, so it stays found after the student writes into it)."""
    tag = cell.get("metadata", {}).get(METADATA_KEY)
    return is_markdown(cell) and isinstance(tag, dict) and tag.get("role") == ANSWER_ROLE


def written_solution_cells(nb, name: str | None = None) -> list[int]:
    """Indices of the ``**Solution.**`` markdown cells of a notebook.

    Raises
    ------
    MarkerError
        If a markdown cell's first line looks like a solution lead-in but does not start
        with exactly ``**Solution.**`` (``**Solution**``, ``### Solution``, ...): such a
        cell would otherwise reach the students.
    """
    found = []
    for i, cell in enumerate(as_notebook(nb).cells):
        if is_written_solution(cell):
            found.append(i)
        elif (
            is_markdown(cell)
            and not is_answer_placeholder(cell)
            and _NEAR_SOLUTION.match(first_line(cell_source(cell)))
        ):
            line = next(k for k, ln in enumerate(cell_source(cell).split("\n"), 1) if ln.strip())
            raise MarkerError(
                f"{first_line(cell_source(cell))!r} looks like a written solution but does not "
                f"start with exactly '{SOLUTION_LEAD}'",
                name,
                i,
                line,
            )
    return found


def written_answer_cells(nb) -> list[int]:
    """Indices of the written-answer cells: ``**Solution.**`` cells (instructor version)
    and answer placeholders (student version)."""
    cells = as_notebook(nb).cells
    return [i for i, c in enumerate(cells) if is_written_solution(c) or is_answer_placeholder(c)]


def answer_placeholder(cell):
    """The student version of a ``**Solution.**`` cell: a markdown cell with the same id
    (ids stay unique), the placeholder text, no attachments and only the answer tag."""
    placeholder = {key: value for key, value in cell.items() if key not in ("attachments",)}
    placeholder["source"] = ANSWER_PLACEHOLDER
    placeholder["metadata"] = {METADATA_KEY: {"role": ANSWER_ROLE}}
    return nbformat.from_dict(placeholder)
