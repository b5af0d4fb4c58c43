"""The one notebook executor: a fresh kernel of *this* interpreter, cell by cell.

Used by ``coursework check`` (which keeps going after an error and reports it) and by
``tools/execute_notebooks.py`` (which re-executes a notebook in place and :func:`tidy`-ies
it so that a re-run without changes is byte-identical). The kernel is always the
``python3`` kernel of ``sys.executable`` whatever kernelspecs are installed elsewhere,
i.e. the interpreter that ``pytest --nbval --nbval-current-env`` checks the notebooks
with; the working directory is the notebook's folder. The notebook's metadata (its
kernelspec included) is kept as it is; only ``language_info`` is refreshed from the
kernel, as ``jupyter nbconvert --execute`` does.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ._text import shorten
from .errors import CheckError
from .markers import REPLACEMENT
from .notebooks import cell_source, is_code

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class KernelStartError(CheckError):
    """The kernel could not be started (a :class:`CheckError`)."""


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
            return shorten(f"{self.ename}: {first}", width)
        # no message (a bare assert): name the line of the cell that raised
        arrow = re.search(r"^-+>\s*(\d+)\s(.*)$", self.traceback, re.MULTILINE)
        if arrow and arrow.group(2).strip() not in ("", REPLACEMENT):
            return shorten(
                f"{self.ename} at line {arrow.group(1)}: {arrow.group(2).strip()}", width
            )
        return self.ename


@dataclass(frozen=True)
class Execution:
    """What :func:`run_notebook` saw.

    Attributes
    ----------
    errors : dict of int to CellError
        The error of each cell that raised, by cell index.
    aborted : str or None
        Why execution stopped early (a cell timed out, the kernel died), or None.
    stopped_at : int or None
        The index of the cell where it stopped, or None.
    """

    errors: dict
    aborted: str | None = None
    stopped_at: int | None = None


def current_env_kernel_manager():
    """An AsyncKernelManager class whose ``python3`` kernel is this interpreter
    (sys.executable), whatever kernelspecs the user has installed elsewhere."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class _Specs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if kernel_name == "python3":
                return self.kernel_spec_class(
                    resource_dir=ipykernel.kernelspec.RESOURCES,
                    **ipykernel.kernelspec.get_kernel_dict(),
                )
            return super().get_kernel_spec(kernel_name)

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_specs(self):
            return _Specs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def notebook_client(nb, cwd, timeout: float | None, *, allow_errors: bool = True, **options):
    """An nbclient ``NotebookClient`` for ``nb`` whose ``python3`` kernel is this interpreter,
    with ``cwd`` as working directory (``options`` go to the client)."""
    from nbclient import NotebookClient

    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        kernel_manager_class=current_env_kernel_manager(),
        resources={"metadata": {"path": str(cwd)}},
        **options,
    )


def kernel_start_error(exc: Exception, log) -> KernelStartError:
    """The error for a kernel that did not start: ``exc`` and the tail of its output
    (``log``, the file the kernel process wrote to)."""
    log.seek(0)
    tail = "\n".join(log.read().strip().splitlines()[-15:])
    return KernelStartError(
        f"could not start a python3 kernel ({type(exc).__name__}: {exc})"
        + (f"\nkernel output:\n{tail}" if tail else "")
    )


def run_notebook(nb, cwd, timeout: float | None = 600, *, allow_errors: bool = True):
    """Execute the code cells of ``nb`` top to bottom, in place, in a fresh kernel.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook; its cells receive outputs and execution counts 1..n.
    cwd : str or Path
        The kernel's working directory (the notebook's folder).
    timeout : float or None
        Seconds allowed per cell; None for no limit. A cell that takes longer stops the
        execution (reported in ``aborted``), as does a kernel that dies.
    allow_errors : bool
        True: record an error and go on with the next cell. False: raise nbclient's
        CellExecutionError at the first error (cells tagged ``raises-exception`` may raise).

    Returns
    -------
    Execution

    Raises
    ------
    KernelStartError
        If no kernel could be started (with the tail of the kernel's output).
    """
    client = notebook_client(nb, cwd, timeout, allow_errors=allow_errors)
    started = False
    with tempfile.TemporaryFile(mode="w+") as log:  # the kernel process's own output
        try:
            with client.setup_kernel(stdout=log, stderr=log):
                started = True
                _store_language_info(client, nb)
                return _run_cells(client, nb, timeout)
        except Exception as exc:
            if started:
                raise
            raise kernel_start_error(exc, log) from None


def _store_language_info(client, nb) -> None:
    """Refresh ``metadata.language_info`` from the kernel (what nbclient.execute does)."""
    reply = client.wait_for_reply(client.kc.kernel_info())
    if reply is not None and "language_info" in reply["content"]:
        nb.metadata["language_info"] = reply["content"]["language_info"]


def _run_cells(client, nb, timeout) -> Execution:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    errors: dict[int, CellError] = {}
    for index, cell in enumerate(nb.cells):
        if not is_code(cell):
            continue
        try:
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellTimeoutError:
            errors[index] = CellError(
                index, "TimeoutError", f"no result after {timeout:g} s", "", cell_source(cell)
            )
            why = f"cell {index} did not finish within {timeout:g} s (--timeout)"
            return Execution(errors, why + "; the cells after it were not run", index)
        except DeadKernelError:
            errors[index] = CellError(
                index, "DeadKernelError", "the kernel died", "", cell_source(cell)
            )
            why = f"the kernel died while running cell {index}"
            return Execution(errors, why + "; the cells after it were not run", index)
        error = _cell_error(index, cell)
        if error is not None:
            errors[index] = error
    return Execution(errors)


def _cell_error(index: int, cell) -> CellError | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return CellError(
                index,
                out.get("ename", "Error"),
                out.get("evalue", ""),
                _ANSI.sub("", "\n".join(out.get("traceback", []))),
                cell_source(cell),
            )
    return None


def tidy(nb) -> None:
    """Merge consecutive stream outputs and drop execution timestamps, in place.

    The kernel may split one print in two stream messages, and nbclient records when
    each cell ran: without this a re-run without changes would not be byte-identical.
    """
    for cell in nb.cells:
        if not is_code(cell):
            continue
        cell.metadata.pop("execution", None)
        merged = []
        for out in cell.outputs:
            if (
                out.output_type == "stream"
                and merged
                and merged[-1].output_type == "stream"
                and merged[-1].name == out.name
            ):
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


class NotebookRunError(RuntimeError):
    """Re-executing a notebook in place failed: a cell raised or timed out."""


def execute_in_place(path, timeout: float | None = 600) -> float:
    """Re-execute one notebook in place and :func:`tidy` it; return the wall time in s.

    The file is written only if every cell ran without an error (cells tagged
    ``raises-exception`` may raise).

    Raises
    ------
    NotebookRunError
        If a cell raised, timed out or the kernel died (the file is left untouched).
    KernelStartError
        If no kernel could be started.
    """
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        run = run_notebook(nb, path.resolve().parent, timeout, allow_errors=False)
    except CellExecutionError as exc:
        raise NotebookRunError(f"{path}: a cell raised:\n{exc}") from None
    if run.aborted:
        raise NotebookRunError(f"{path}: {run.aborted}")
    elapsed = time.perf_counter() - start
    tidy(nb)
    nbformat.write(nb, path)
    return elapsed
