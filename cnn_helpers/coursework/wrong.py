"""Recorded wrong answers: what ``verify`` proves every check cell rejects.

They live beside the notebooks, one Markdown file per notebook, never in a notebook (so
neither student versions nor nbgrader releases can contain them)::

    notebooks/wrong_answers/00_notation.md

One section per wrong answer, its heading naming the exercise and the mistake, then one
fenced ``python`` code block per solution region of the exercise's solution cell, in
order, each the replacement of that region (indented as in the cell)::

    ## Exercise 1 — a row-major reshape instead of the column-stacking vec

    ```python
        return A.reshape(-1)
    ```

Markdown keeps the files out of pytest's collection and out of ruff (they are fragments,
not modules), and readable on GitHub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import MarkerError

#: the folder, beside the notebooks, that holds the wrong-answer files
FOLDER = "wrong_answers"

_SECTION = re.compile(r"^##\s+Exercise\s+(\d+)\s+—\s+(.+?)\s*$")
_FENCE_OPEN = re.compile(r"^```python\s*$")
_FENCE_CLOSE = "```"


@dataclass(frozen=True)
class WrongAnswer:
    """One recorded mistake: the exercise, what it gets wrong, the region bodies."""

    exercise: int
    mistake: str
    bodies: tuple[tuple[str, ...], ...]
    line: int


def wrong_answers_path(notebook) -> Path:
    """``notebooks/wrong_answers/NN_name.md`` for ``notebooks/NN_name.ipynb``."""
    notebook = Path(notebook)
    return notebook.parent / FOLDER / (notebook.stem + ".md")


def parse_wrong_answers(text: str, name: str | None = None) -> list[WrongAnswer]:
    """Parse a wrong-answers file.

    Raises
    ------
    MarkerError
        For a code block outside a section, an unclosed block or a section without one
        (naming the file and line; ``cell`` is None).
    """
    answers, current, block, start = [], None, None, 0
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if block is not None:
            if line.strip() == _FENCE_CLOSE:
                current["bodies"].append(tuple(block))
                block = None
            else:
                block.append(line)
            continue
        m = _SECTION.match(line)
        if m:
            if current is not None:
                answers.append(current)
            current = {
                "exercise": int(m.group(1)),
                "mistake": m.group(2),
                "bodies": [],
                "line": number,
            }
        elif _FENCE_OPEN.match(line):
            if current is None:
                raise MarkerError(
                    "a code block before the first '## Exercise N — ...' section",
                    name,
                    None,
                    number,
                )
            block, start = [], number
        elif line.startswith("## "):
            raise MarkerError(
                f"{line!r}: a section heading must be '## Exercise N — <the mistake>'",
                name,
                None,
                number,
            )
    if block is not None:
        raise MarkerError("a ```python block is never closed", name, None, start)
    if current is not None:
        answers.append(current)
    out = []
    for a in answers:
        if not a["bodies"]:
            raise MarkerError(
                f"the section {a['mistake']!r} has no ```python block", name, None, a["line"]
            )
        out.append(WrongAnswer(a["exercise"], a["mistake"], tuple(a["bodies"]), a["line"]))
    return out


def load_wrong_answers(notebook) -> list[WrongAnswer]:
    """The wrong answers recorded for ``notebook`` (an empty list if it has no file)."""
    path = wrong_answers_path(notebook)
    if not path.is_file():
        return []
    return parse_wrong_answers(path.read_text(encoding="utf-8"), str(path))
