"""Student versions: solutions removed, outputs cleared, exercise cells tagged."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from .answers import answer_placeholder, written_solution_cells
from .exercises import find_exercises, validate_exercises
from .markers import solution_regions, strip_solutions
from .notebooks import METADATA_KEY, as_notebook, cell_source, collect_notebooks, is_code
from .notebooks import read_notebook


def make_student_notebook(nb, name: str | None = None):
    """Make the student version of a notebook (a new notebook; the input is unchanged).

    Every solution region becomes ``raise NotImplementedError()`` (indented like its
    BEGIN line), every ``**Solution.**`` markdown cell becomes the answer placeholder
    ``**Your answer.** _Write your answer here._`` (same cell id), outputs and execution
    counts are cleared, and the exercise cells are tagged with ``metadata["coursework"]``
    so that ``check`` can find them.

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
        For malformed markers, a misspelled ``**Solution.**`` lead-in, an exercise
        without a check cell or an exercise heading with nothing to grade (naming the
        notebook, cell and line); :class:`PointsError` for a heading whose points do not
        parse.

    Examples
    --------
    >>> import nbformat
    >>> from cnn_helpers.coursework import make_student_notebook
    >>> nb = nbformat.read("notebooks/00_notation.ipynb", as_version=4)
    >>> student = make_student_notebook(nb, name="00_notation.ipynb")
    """
    nb = as_notebook(nb)
    has_markers = any(
        solution_regions(cell_source(c), notebook=name, cell=i)  # validates all
        for i, c in enumerate(nb.cells)
        if is_code(c)
    )
    written = written_solution_cells(nb, name)
    student = copy.deepcopy(nb)
    for i, cell in enumerate(student.cells):
        if has_markers:
            cell.get("metadata", {}).pop(METADATA_KEY, None)
        if not is_code(cell):
            continue
        cell.source = strip_solutions(cell_source(cell), notebook=name, cell=i)
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    for i in written:
        student.cells[i] = answer_placeholder(student.cells[i])
    # (after the markers' own errors) an instructor notebook is read by its markers (old
    # tags are dropped) and must be gradable: a check cell per exercise, headings whose
    # points parse; a notebook without markers (already a student version) keeps its tags
    if has_markers:
        exercises = validate_exercises(nb, name)
    else:
        exercises = find_exercises(nb, name, by="auto")
    for ex in exercises:
        for i in ex.cells:
            role = "solution" if i == ex.solution_cell else "check"
            student.cells[i].metadata[METADATA_KEY] = {
                "exercise": ex.number,
                "role": role,
                "title": ex.title,
                "points": ex.points,
                "optional": ex.optional,
            }
    try:
        nbformat.validate(student)
    except nbformat.ValidationError as exc:
        raise ValueError(
            f"{name or 'notebook'}: the student version is not a valid "
            f"nbformat v4 notebook: {exc.message}"
        ) from None
    return student


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
    targets = _destinations(paths, out, force)
    converted = [make_student_notebook(read_notebook(p), name=str(p)) for p in paths]
    out.mkdir(parents=True, exist_ok=True)
    for t, nb in zip(targets, converted):
        nbformat.write(nb, str(t), version=4)
    return targets


def _destinations(paths: list[Path], out: Path, force: bool) -> list[Path]:
    """The output path of each source in the folder ``out``, after refusing a destination
    that is (or is inside) a source folder, overwrites a source, or exists without force."""
    for p in paths:
        parent = p.resolve().parent
        if out == parent:
            raise ValueError(
                f"refusing to write student versions into the source folder {parent}"
                f" (it would overwrite {p.name}); choose another --out"
            )
        if parent in out.parents:
            raise ValueError(
                f"refusing to write into {out}: it is inside the source folder "
                f"{parent} (pytest --nbval and a later `student {parent.name}/` "
                "would pick the student notebooks up); choose a folder outside it"
            )
    targets = [out / p.name for p in paths]
    sources_resolved = {p.resolve() for p in paths}
    for t in targets:
        if t in sources_resolved or (t.exists() and any(t.samefile(s) for s in sources_resolved)):
            raise ValueError(f"refusing to overwrite the source notebook {t}")
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{len(existing)} output file(s) exist already, e.g. {existing[0]};"
            " pass --force (force=True) to replace them"
        )
    return targets
