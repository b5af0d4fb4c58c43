"""Coursework tools: student versions of the notebooks and checking a student's work.

Run as ``python -m cnn_helpers.coursework``::

    python -m cnn_helpers.coursework student notebooks/ --out student/
    python -m cnn_helpers.coursework check student/03_max_pooling_mask.ipynb
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
    markdown cell above the solution cell (``Exercise N`` if there is none).
Student versions
    Every region is replaced by one line ``raise NotImplementedError()`` indented like
    its ``### BEGIN SOLUTION`` line; the cell's other lines stay, check cells stay, all
    outputs and execution counts are cleared. Because the markers are gone, the solution
    and check cells are tagged in their metadata::

        "coursework": {"exercise": 2, "role": "solution" | "check", "title": "..."}

    and ``check`` finds the exercises of a student notebook from these tags (a notebook
    with tags is read by its tags only; one without by its markers).
Cell numbers
    Cells are numbered from 0 in the order of the notebook's list of cells, markdown
    cells included (``nb.cells[i]``); marker line numbers start at 1.

Exit codes of the command line
------------------------------
0
    ``student``/``list``: done. ``check``: every exercise passed and no other cell raised.
1
    ``check`` only: an exercise failed or was not attempted, a cell outside the
    exercises raised, or execution stopped early (a cell timed out, the kernel died).
2
    Usage errors: bad arguments, a missing or unreadable notebook, malformed markers,
    an output that would overwrite a source notebook or write into a source folder,
    an existing output without ``--force``, a kernel that could not be started.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN", "END", "REPLACEMENT", "METADATA_KEY",
    "MarkerError", "CheckError", "Exercise", "CellError", "ExerciseResult", "CheckReport",
    "solution_regions", "strip_solutions", "find_exercises", "make_student_notebook",
    "collect_notebooks", "write_student_notebooks", "check_notebook", "main",
]

#: the marker line that opens a solution region (compared after stripping white space)
BEGIN = "### BEGIN SOLUTION"
#: the marker line that closes a solution region
END = "### END SOLUTION"
#: what a region becomes in the student version (indented like its BEGIN line)
REPLACEMENT = "raise NotImplementedError()"
#: cell metadata key that tags the exercise cells of a student version
METADATA_KEY = "coursework"

PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN = "passed", "failed", "not attempted", "not run"

# a comment-only line that looks like a marker (checked only when it is not exactly one)
_NEAR_MARKER = re.compile(r"#+\s*(BEGIN|END)[\s_]*SOLUTIONS?\b", re.IGNORECASE)
_HEADING_TITLE = re.compile(r"^\s{0,3}#{1,6}\s*(Exercise\s+\d+\b.*?)\s*#*\s*$",
                            re.IGNORECASE | re.MULTILINE)
_BOLD_TITLE = re.compile(r"\*\*\s*(Exercise\s+\d+\b.*?)\s*\*\*", re.IGNORECASE | re.DOTALL)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------- errors

class MarkerError(ValueError):
    """Malformed solution markers (unbalanced, nested or misspelled).

    Attributes
    ----------
    notebook : str or None
        The notebook's path or name, if known.
    cell : int or None
        Index of the cell in ``nb.cells`` (0-based, markdown cells included).
    line : int
        Line number inside the cell (1-based).
    """

    def __init__(self, problem: str, notebook: str | None = None, cell: int | None = None,
                 line: int | None = None):
        self.problem, self.notebook, self.cell, self.line = problem, notebook, cell, line
        where = []
        if notebook is not None:
            where.append(str(notebook))
        if cell is not None:
            where.append(f"cell {cell}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class CheckError(RuntimeError):
    """A notebook could not be checked at all (for example, the kernel did not start)."""


# ----------------------------------------------------------------------- structures

@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, as found by :func:`find_exercises`.

    Attributes
    ----------
    number : int
        1-based position among the notebook's exercises.
    title : str
        The ``Exercise N ...`` title of the markdown above it (LaTeX simplified), or
        ``"Exercise <number>"``.
    solution_cell : int or None
        Index of the solution cell in ``nb.cells`` (None only if a student deleted it).
    check_cells : tuple of int
        Indices of the check cells that follow the solution cell.
    """

    number: int
    title: str
    solution_cell: int | None
    check_cells: tuple[int, ...] = ()

    @property
    def cells(self) -> tuple[int, ...]:
        """All cell indices of the exercise, in notebook order."""
        first = () if self.solution_cell is None else (self.solution_cell,)
        return first + tuple(self.check_cells)


@dataclass(frozen=True)
class CellError:
    """An exception raised by one executed cell."""

    cell: int
    ename: str
    evalue: str
    traceback: str = ""
    source: str = ""

    def summary(self, width: int = 90) -> str:
        """``"AssertionError: message"`` on one line, at most ``width`` characters."""
        first = next((ln.strip() for ln in self.evalue.splitlines() if ln.strip()), "")
        if first:
            return _shorten(f"{self.ename}: {first}", width)
        # no message (a bare assert): name the line of the cell that raised
        arrow = re.search(r"^-+>\s*(\d+)\s(.*)$", self.traceback, re.MULTILINE)
        if arrow and arrow.group(2).strip() not in ("", REPLACEMENT):
            return _shorten(f"{self.ename} at line {arrow.group(1)}: {arrow.group(2).strip()}",
                            width)
        return self.ename


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise: ``status`` is one of ``"passed"``, ``"failed"``,
    ``"not attempted"`` (a cell of it raised NotImplementedError) or ``"not run"``
    (execution stopped before it); ``error`` is the first error in its cells."""

    exercise: Exercise
    status: str
    error: CellError | None = None


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_notebook` found.

    Attributes
    ----------
    notebook : str
        The notebook's path as given.
    results : tuple of ExerciseResult
        One per exercise, in order.
    other_errors : tuple of CellError
        Errors in cells that belong to no exercise (set-up cells, later sections).
    aborted : str or None
        Why execution stopped early (a timeout, a dead kernel), or None.
    """

    notebook: str
    results: tuple[ExerciseResult, ...]
    other_errors: tuple[CellError, ...] = ()
    aborted: str | None = None
    counts: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        counts = {s: 0 for s in (PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN)}
        for r in self.results:
            counts[r.status] += 1
        object.__setattr__(self, "counts", counts)

    @property
    def ok(self) -> bool:
        """True if every exercise passed and nothing else raised or stopped execution."""
        return (self.counts[PASSED] == len(self.results) and not self.other_errors
                and self.aborted is None)

    @property
    def exit_code(self) -> int:
        """0 if :attr:`ok`, else 1 (the command line's exit code for this notebook)."""
        return 0 if self.ok else 1

    def format(self, verbose: bool = False) -> str:
        """The human-readable report that ``check`` prints (tracebacks if verbose)."""
        n = len(self.results)
        lines = [f"{self.notebook}: {n} exercise{'s' if n != 1 else ''}"]
        if n:
            rows = [("#", "exercise", "cells", "status", "detail")]
            for r in self.results:
                detail = "" if r.error is None else f"cell {r.error.cell}: {r.error.summary(70)}"
                if r.status == NOT_RUN:
                    detail = "execution stopped before this exercise"
                rows.append((str(r.exercise.number), _shorten(r.exercise.title, 44),
                             _ranges(r.exercise.cells), r.status, detail))
            widths = [max(len(row[k]) for row in rows) for k in range(4)]
            for row in rows:
                lines.append(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths))
                              + "  " + row[4]).rstrip())
        if self.other_errors:
            lines.append("errors outside the exercises:")
            for e in self.other_errors:
                lines.append(f"  cell {e.cell} ({_shorten(_first_line(e.source), 40)}): "
                             f"{e.summary(70)}")
        else:
            lines.append("errors outside the exercises: none")
        if self.aborted:
            lines.append(f"execution stopped: {self.aborted}")
        if verbose:
            errors = [r.error for r in self.results if r.error is not None]
            for e in sorted(errors + list(self.other_errors), key=lambda e: e.cell):
                lines.append(f"--- traceback of cell {e.cell} ---")
                lines.append(e.traceback.rstrip() or e.summary(10_000))
        c = self.counts
        summary = (f"summary: {c[PASSED]} passed, {c[FAILED]} failed, "
                   f"{c[NOT_ATTEMPTED]} not attempted")
        if c[NOT_RUN]:
            summary += f", {c[NOT_RUN]} not run"
        summary += f" (of {n})"
        if self.other_errors:
            summary += f"; {len(self.other_errors)} error(s) outside the exercises"
        lines.append(summary + (" -> OK" if self.ok else " -> NOT OK"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-serializable form (what ``check --json`` writes)."""
        def err(e):
            return None if e is None else {"cell": e.cell, "ename": e.ename, "evalue": e.evalue}
        return {
            "notebook": self.notebook, "ok": self.ok, "exit_code": self.exit_code,
            "counts": dict(self.counts), "aborted": self.aborted,
            "exercises": [{"number": r.exercise.number, "title": r.exercise.title,
                           "solution_cell": r.exercise.solution_cell,
                           "check_cells": list(r.exercise.check_cells),
                           "status": r.status, "error": err(r.error)} for r in self.results],
            "other_errors": [err(e) for e in self.other_errors],
        }


# ---------------------------------------------------------------------- helpers

def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."


def _first_line(source: str) -> str:
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")


def _ranges(cells) -> str:
    cells = sorted(cells)
    if not cells:
        return "-"
    parts, start, prev = [], cells[0], cells[0]
    for c in cells[1:] + [None]:
        if c is not None and c == prev + 1:
            prev = c
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if c is not None:
            start = prev = c
    return ",".join(parts)


def _plain_title(text: str) -> str:
    """Drop the LaTeX decoration of a markdown title (``$\\mathbf{A}$`` -> ``A``)."""
    text = " ".join(text.split())
    for _ in range(3):
        text = re.sub(r"\\(?:mathbf|mathrm|boldsymbol|mathcal|operatorname|text|bm)\s*\{([^{}]*)\}",
                      r"\1", text)
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", text)
    for _ in range(3):
        text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"\1/\2", text)
    for cmd, rep in (("\\times", "x"), ("\\dots", "..."), ("\\ldots", "..."), ("\\,", " "),
                     ("\\;", " "), ("\\!", ""), ("\\cdot", "."), ("$", "")):
        text = text.replace(cmd, rep)
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(".:").strip()


def _title_from_markdown(source: str) -> str | None:
    found = [(m.start(), m.group(1)) for m in _HEADING_TITLE.finditer(source)]
    found += [(m.start(), m.group(1)) for m in _BOLD_TITLE.finditer(source)]
    return _plain_title(max(found)[1]) if found else None


def _as_notebook(nb, what: str = "nb"):
    """Accept a NotebookNode or a plain dict of an nbformat v4 notebook."""
    if isinstance(nb, (str, Path)):
        raise TypeError(f"{what} must be a notebook object (nbformat.read(path, as_version=4)),"
                        f" not a path: got {type(nb).__name__} {str(nb)!r}")
    if not isinstance(nb, dict):
        raise TypeError(f"{what} must be an nbformat v4 notebook (NotebookNode or dict), "
                        f"got {type(nb).__name__}")
    if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{what} must be an nbformat v4 notebook with a list of cells; got "
                         f"nbformat={nb.get('nbformat')!r} (convert it with "
                         "nbformat.read(path, as_version=4))")
    return nb if isinstance(nb, nbformat.NotebookNode) else nbformat.from_dict(nb)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_code(cell) -> bool:
    return cell.get("cell_type") == "code"


# --------------------------------------------------------------- markers, regions

def solution_regions(source: str, *, notebook: str | None = None,
                     cell: int | None = None) -> list[tuple[int, int]]:
    """Find the solution regions of one code cell.

    Parameters
    ----------
    source : str
        The cell's source.
    notebook, cell : optional
        Named in the error message (the notebook's path, the cell's index).

    Returns
    -------
    list of (int, int)
        ``(begin_line, end_line)`` of every region, 1-based, marker lines included.

    Raises
    ------
    MarkerError
        For an END without BEGIN, a BEGIN inside a region (nesting), a BEGIN never
        closed, or a comment line that looks like a marker but is not exactly one.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    regions, open_line = [], None
    for number, line in enumerate(source.split("\n"), start=1):
        text = line.strip()
        if text == BEGIN:
            if open_line is not None:
                raise MarkerError(f"nested '{BEGIN}': the region opened on line {open_line} "
                                  f"is not closed by '{END}' before this BEGIN",
                                  notebook, cell, number)
            open_line = number
        elif text == END:
            if open_line is None:
                raise MarkerError(f"'{END}' without a matching '{BEGIN}' before it",
                                  notebook, cell, number)
            regions.append((open_line, number))
            open_line = None
        elif _NEAR_MARKER.match(text):
            raise MarkerError(f"{text!r} looks like a solution marker but is not exactly "
                              f"'{BEGIN}' or '{END}' on a line of its own", notebook, cell, number)
    if open_line is not None:
        raise MarkerError(f"'{BEGIN}' is never closed by '{END}'", notebook, cell, open_line)
    return regions


def strip_solutions(source: str, *, notebook: str | None = None,
                    cell: int | None = None) -> str:
    """Replace every solution region of a cell's source by ``raise NotImplementedError()``.

    The replacement line takes the indentation of the region's ``### BEGIN SOLUTION``
    line; every other line is kept as it is.

    Parameters
    ----------
    source : str
        The cell's source.
    notebook, cell : optional
        Named in error messages.

    Returns
    -------
    str
        The student version of the source (unchanged if it has no region).

    Raises
    ------
    MarkerError
        See :func:`solution_regions`; also if the cell was valid Python and the student
        version is not (a BEGIN marker indented differently from the code it replaces).
    """
    regions = solution_regions(source, notebook=notebook, cell=cell)
    if not regions:
        return source
    lines = source.split("\n")
    out, previous = [], 0
    for begin, end in regions:
        out.extend(lines[previous:begin - 1])
        marker = lines[begin - 1]
        out.append(marker[:len(marker) - len(marker.lstrip())] + REPLACEMENT)
        previous = end
    out.extend(lines[previous:])
    student = "\n".join(out)
    if _compiles(source) and not _compiles(student):
        raise MarkerError("the student version of this cell is not valid Python: indent the "
                          f"'{BEGIN}' line like the code it replaces", notebook, cell,
                          regions[0][0])
    return student


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------- exercises

def find_exercises(nb, name: str | None = None, *, by: str = "auto") -> list[Exercise]:
    """List the exercises of a notebook (instructor version or student version).

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        An nbformat v4 notebook.
    name : str, optional
        The notebook's path or name, for error messages.
    by : {"auto", "markers", "tags"}
        ``"markers"``: solution cells are the code cells with solution markers, each
        followed by its check cells (see the module docstring). ``"tags"``: the cells
        tagged ``metadata["coursework"]`` by :func:`make_student_notebook`. ``"auto"``
        (default): tags if any cell is tagged (a student version), else markers.

    Returns
    -------
    list of Exercise
        In notebook order, numbered from 1.

    Raises
    ------
    TypeError, ValueError
        If ``nb`` is not an nbformat v4 notebook or ``by`` is unknown.
    MarkerError
        If the markers are malformed (when reading by markers).
    """
    nb = _as_notebook(nb)
    if by not in ("auto", "markers", "tags"):
        raise ValueError(f"by must be 'auto', 'markers' or 'tags', got {by!r}")
    cells = nb.cells
    tagged = any(isinstance(c.get("metadata", {}).get(METADATA_KEY), dict) for c in cells)
    if by == "tags" or (by == "auto" and tagged):
        return _exercises_from_tags(cells)
    starts = [i for i, c in enumerate(cells)
              if _is_code(c) and solution_regions(_source(c), notebook=name, cell=i)]
    exercises = []
    for number, i in enumerate(starts, start=1):
        checks, k = [], i + 1
        while k < len(cells) and _is_code(cells[k]) and k not in starts:
            checks.append(k)
            k += 1
        title = None
        j = i - 1
        while j >= 0 and cells[j].get("cell_type") != "markdown":
            j -= 1
        previous = max((s for s in starts if s < i), default=-1)
        if j > previous:                  # a markdown cell of its own, not the previous one's
            title = _title_from_markdown(_source(cells[j]))
        exercises.append(Exercise(number, title or f"Exercise {number}", i, tuple(checks)))
    return exercises


def _exercises_from_tags(cells) -> list[Exercise]:
    tagged: dict[int, dict] = {}
    for i, c in enumerate(cells):
        tag = c.get("metadata", {}).get(METADATA_KEY)
        if not isinstance(tag, dict) or not isinstance(tag.get("exercise"), int):
            continue
        entry = tagged.setdefault(tag["exercise"], {"solution": None, "checks": [], "title": None})
        if tag.get("role") == "solution" and entry["solution"] is None:
            entry["solution"] = i
        else:
            entry["checks"].append(i)
        entry["title"] = entry["title"] or tag.get("title")
    return [Exercise(n, e["title"] or f"Exercise {n}", e["solution"], tuple(e["checks"]))
            for n, e in sorted(tagged.items())]


# ------------------------------------------------------------------ student version

def make_student_notebook(nb, name: str | None = None):
    """Make the student version of a notebook (a new notebook; the input is unchanged).

    Every solution region becomes ``raise NotImplementedError()`` (indented like its
    BEGIN line), outputs and execution counts are cleared, and the exercise cells are
    tagged with ``metadata["coursework"]`` so that ``check`` can find them.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        An nbformat v4 notebook with solution markers.
    name : str, optional
        The notebook's path or name, for error messages.

    Returns
    -------
    nbformat.NotebookNode
        The student version, valid nbformat v4.

    Raises
    ------
    TypeError, ValueError
        If ``nb`` is not an nbformat v4 notebook, or the result does not validate.
    MarkerError
        For malformed markers (naming the notebook, cell and line).

    Examples
    --------
    >>> import nbformat
    >>> from cnn_helpers.coursework import make_student_notebook
    >>> nb = nbformat.read("notebooks/00_notation.ipynb", as_version=4)
    >>> student = make_student_notebook(nb, name="00_notation.ipynb")
    """
    nb = _as_notebook(nb)
    has_markers = any(solution_regions(_source(c), notebook=name, cell=i)   # validates all
                      for i, c in enumerate(nb.cells) if _is_code(c))
    # an instructor notebook is read by its markers (old tags are dropped); a notebook
    # without markers (already a student version) keeps its tags
    exercises = find_exercises(nb, name, by="markers" if has_markers else "auto")
    student = copy.deepcopy(nb)
    for i, cell in enumerate(student.cells):
        if has_markers:
            cell.get("metadata", {}).pop(METADATA_KEY, None)
        if not _is_code(cell):
            continue
        cell.source = strip_solutions(_source(cell), notebook=name, cell=i)
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    for ex in exercises:
        for i in ex.cells:
            role = "solution" if i == ex.solution_cell else "check"
            student.cells[i].metadata[METADATA_KEY] = {
                "exercise": ex.number, "role": role, "title": ex.title}
    try:
        nbformat.validate(student)
    except nbformat.ValidationError as exc:
        raise ValueError(f"{name or 'notebook'}: the student version is not a valid "
                         f"nbformat v4 notebook: {exc.message}") from None
    return student


def collect_notebooks(sources) -> list[Path]:
    """Expand notebook files and folders (their ``*.ipynb``, not recursive) into paths.

    Raises
    ------
    FileNotFoundError
        If a source does not exist.
    ValueError
        If a file is not a ``.ipynb`` notebook, a folder holds none, or two sources
        have the same file name.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths: list[Path] = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            found = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
            if not found:
                raise ValueError(f"no notebooks (*.ipynb) in the folder {src}")
            paths.extend(found)
        elif src.is_file():
            if src.suffix != ".ipynb":
                raise ValueError(f"not a notebook (expected a .ipynb file): {src}")
            paths.append(src)
        else:
            raise FileNotFoundError(f"no such notebook or folder: {src}")
    names: dict[str, Path] = {}
    for p in paths:
        if p.name in names and names[p.name].resolve() != p.resolve():
            raise ValueError(f"two sources have the same name {p.name}: {names[p.name]} and {p}")
        names[p.name] = p
    unique = {p.resolve(): p for p in paths}
    return list(unique.values())


def write_student_notebooks(sources, out_dir, force: bool = False) -> list[Path]:
    """Write the student version of each source notebook into ``out_dir``.

    Every source is read and converted before anything is written, so a malformed
    marker leaves ``out_dir`` untouched.

    Parameters
    ----------
    sources : str, Path or list of them
        Notebooks and/or folders of notebooks (``*.ipynb``, not recursive).
    out_dir : str or Path
        Destination folder (created if needed). It must be neither the folder of a
        source notebook nor inside it (``pytest --nbval`` would collect the student
        versions), and no output may be a source notebook.
    force : bool
        Replace existing files in ``out_dir`` (default: refuse).

    Returns
    -------
    list of Path
        The written notebooks.

    Raises
    ------
    ValueError
        If the destination is refused, or a notebook is invalid; :class:`MarkerError`
        (a ValueError) for malformed markers.
    FileNotFoundError, FileExistsError
        For a missing source, or an existing output without ``force``.
    """
    paths = collect_notebooks(sources)
    out = Path(out_dir).resolve()
    for p in paths:
        parent = p.resolve().parent
        if out == parent:
            raise ValueError(f"refusing to write student versions into the source folder {parent}"
                             f" (it would overwrite {p.name}); choose another --out")
        if parent in out.parents:
            raise ValueError(f"refusing to write into {out}: it is inside the source folder "
                             f"{parent} (pytest --nbval and a later `student {parent.name}/` "
                             "would pick the student notebooks up); choose a folder outside it")
    targets = [out / p.name for p in paths]
    sources_resolved = {p.resolve() for p in paths}
    for t in targets:
        if t in sources_resolved or (t.exists() and any(t.samefile(s) for s in sources_resolved)):
            raise ValueError(f"refusing to overwrite the source notebook {t}")
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise FileExistsError(f"{len(existing)} output file(s) exist already, e.g. {existing[0]};"
                              " pass --force (force=True) to replace them")
    converted = []
    for p in paths:
        nb = _read(p)
        converted.append(make_student_notebook(nb, name=str(p)))
    out.mkdir(parents=True, exist_ok=True)
    for t, nb in zip(targets, converted):
        nbformat.write(nb, str(t), version=4)
    return targets


def _read(path: Path):
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such notebook: {path}") from None
    except Exception as exc:            # malformed JSON, not a notebook, ...
        raise ValueError(f"cannot read {path} as a notebook: {exc}") from None


# --------------------------------------------------------------------------- check

def _current_env_kernel_manager():
    """An AsyncKernelManager whose ``python3`` kernel is this interpreter (sys.executable),
    whatever kernelspecs the user has installed elsewhere."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class _Specs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if kernel_name == "python3":
                return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                              **ipykernel.kernelspec.get_kernel_dict())
            return super().get_kernel_spec(kernel_name)

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_specs(self):
            return _Specs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def _execute(nb, cwd: Path, timeout: float | None):
    """Execute the code cells one by one.

    Returns ``({cell index: CellError}, why execution stopped early or None, the index of
    the cell where it stopped or None)``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=_current_env_kernel_manager(),
                            resources={"metadata": {"path": str(cwd)}})
    errors: dict[int, CellError] = {}
    aborted, stop, started = None, None, False
    with tempfile.TemporaryFile(mode="w+") as log:       # the kernel process's own output
        try:
            with client.setup_kernel(stdout=log, stderr=log):
                started = True
                for index, cell in enumerate(nb.cells):
                    if not _is_code(cell):
                        continue
                    try:
                        client.execute_cell(cell, index,
                                            execution_count=client.code_cells_executed + 1)
                    except CellTimeoutError:
                        stop = index
                        aborted = (f"cell {index} did not finish within {timeout:g} s "
                                   "(--timeout); the cells after it were not run")
                        errors[index] = CellError(index, "TimeoutError",
                                                  f"no result after {timeout:g} s", "",
                                                  _source(cell))
                        break
                    except DeadKernelError:
                        stop = index
                        aborted = (f"the kernel died while running cell {index}; "
                                   "the cells after it were not run")
                        errors[index] = CellError(index, "DeadKernelError", "the kernel died",
                                                  "", _source(cell))
                        break
                    for out in cell.get("outputs", []):
                        if out.get("output_type") == "error":
                            errors[index] = CellError(
                                index, out.get("ename", "Error"), out.get("evalue", ""),
                                _ANSI.sub("", "\n".join(out.get("traceback", []))),
                                _source(cell))
                            break
        except Exception as exc:
            if started:
                raise
            log.seek(0)
            tail = "\n".join(log.read().strip().splitlines()[-15:])
            raise CheckError(f"could not start a python3 kernel ({type(exc).__name__}: {exc})"
                             + (f"\nkernel output:\n{tail}" if tail else "")) from None
    return errors, aborted, stop


def check_notebook(path, timeout: float | None = 600) -> CheckReport:
    """Execute a notebook and report which exercises pass, fail or were not attempted.

    The notebook runs top to bottom in a fresh ``python3`` kernel of the current Python
    environment, with the notebook's folder as working directory; execution continues
    after a cell raises. The notebook file is not modified.

    An exercise is *not attempted* if the first error among its cells (solution cell,
    then check cells) is a NotImplementedError, *failed* if it is any other error,
    *passed* if none of its cells raised, and *not run* if execution stopped before it.

    Parameters
    ----------
    path : str or Path
        The notebook (a student version or an instructor notebook).
    timeout : float or None
        Seconds allowed for each cell (default 600); None for no limit. A cell that
        takes longer stops the execution (reported in ``aborted``).

    Returns
    -------
    CheckReport
        ``report.exit_code`` is 0 if everything passed, else 1; ``print(report.format())``
        shows the table that the command line prints.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a notebook or its markers are malformed.
    TypeError
        If ``timeout`` is not a number.
    CheckError
        If no kernel could be started.
    """
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    nb = _read(path)
    exercises = find_exercises(nb, str(path))
    errors, aborted, stop = _execute(nb, path.resolve().parent, timeout)
    results, in_exercise = [], set()
    for ex in exercises:
        in_exercise.update(ex.cells)
        first = next((errors[i] for i in ex.cells if i in errors), None)
        if stop is not None and ex.cells and min(ex.cells) > stop:
            status = NOT_RUN
        elif first is None:
            status = PASSED
        elif first.ename == "NotImplementedError":
            status = NOT_ATTEMPTED
        else:
            status = FAILED
        results.append(ExerciseResult(ex, status, first))
    other = tuple(e for i, e in sorted(errors.items()) if i not in in_exercise)
    return CheckReport(str(path), tuple(results), other, aborted)


# ---------------------------------------------------------------------------- CLI

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnn_helpers.coursework",
        description="Student versions of the notebooks, and checking a student's work.",
        epilog="Exit codes: 0 success (check: every exercise passed); 1 check: an exercise "
               "failed or was not attempted, or another cell raised; 2 usage errors (bad "
               "arguments, missing file, malformed markers, refused output, no kernel).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("student", help="write student versions (solutions removed)",
                       description="Write copies of the notebooks with every solution region "
                       f"replaced by `{REPLACEMENT}`, outputs cleared, check cells kept.")
    p.add_argument("sources", nargs="+", metavar="SRC",
                   help="notebooks and/or folders of notebooks")
    p.add_argument("--out", required=True, metavar="DIR", help="destination folder")
    p.add_argument("--force", action="store_true", help="replace existing files in DIR")
    c = sub.add_parser("check", help="execute notebooks and report every exercise",
                       description="Execute each notebook in the current environment (a fresh "
                       "python3 kernel, working directory = the notebook's folder) and report "
                       "which exercises pass, fail or were not attempted.",
                       epilog="Exit codes: 0 every exercise passed and no other cell raised; "
                       "1 an exercise failed or was not attempted, another cell raised, or a "
                       "cell timed out; 2 usage errors (missing file, malformed markers, "
                       "no kernel).")
    c.add_argument("notebooks", nargs="+", metavar="NOTEBOOK",
                   help="notebooks and/or folders of notebooks")
    c.add_argument("--timeout", type=float, default=600, metavar="S",
                   help="seconds allowed per cell (default 600)")
    c.add_argument("--json", metavar="PATH", help="also write the reports as JSON to PATH")
    c.add_argument("-v", "--verbose", action="store_true", help="print the tracebacks")
    ls = sub.add_parser("list", help="list the exercises of notebooks (nothing is executed)")
    ls.add_argument("sources", nargs="+", metavar="SRC")
    return parser


def main(argv=None) -> int:
    """Command-line entry point; returns the exit code (see the module docstring)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "student":
            written = write_student_notebooks(args.sources, args.out, force=args.force)
            for t in written:
                n = len(find_exercises(nbformat.read(str(t), as_version=4)))
                print(f"wrote {Path(args.out) / t.name} ({n} exercise{'s' if n != 1 else ''})")
            return 0
        if args.command == "list":
            for p in collect_notebooks(args.sources):
                exercises = find_exercises(_read(p), str(p))
                print(f"{p}: {len(exercises)} exercise{'s' if len(exercises) != 1 else ''}")
                for ex in exercises:
                    print(f"  {ex.number}. {ex.title}  [cells {_ranges(ex.cells)}]")
            return 0
        paths = collect_notebooks(args.notebooks)
        for p in paths:                       # every marker problem before any execution
            find_exercises(_read(p), str(p))
        reports = []
        for k, p in enumerate(paths):
            report = check_notebook(p, timeout=args.timeout)
            reports.append(report)
            print(("\n" if k else "") + report.format(verbose=args.verbose), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n")
        return max(r.exit_code for r in reports)
    except (OSError, ValueError, TypeError, CheckError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
