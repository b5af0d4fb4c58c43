"""A kernel that survives its cells: timeouts interrupt, crashes restart and replay.

Used by ``check --against``, ``grade`` and ``verify``: a cell that runs longer than the
timeout is interrupted (and, if the kernel does not answer after that, the kernel is
restarted); a kernel that dies is restarted. After a restart the cells remembered so far
(set-up cells and earlier exercises) are replayed, so that the next exercise is still
graded in the state it expects.
"""

from __future__ import annotations

import contextlib
import tempfile
import time

from .execute import CellError, _cell_error, kernel_start_error, notebook_client
from .notebooks import cell_source

#: seconds a kernel gets to answer after an interrupt before it is restarted
PROBE_SECONDS = 10.0
TIMEOUT_ENAME = "TimeoutError"
DEAD_ENAME = "DeadKernelError"


class ReplayError(RuntimeError):
    """Replaying the remembered cells after a restart failed (a timeout or a crash again)."""


class KernelSession:
    """One python3 kernel of this interpreter, with the notebook's folder as working
    directory, that executes cells one at a time.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook whose metadata the client uses; executed cells get outputs.
    cwd : str or Path
        The kernel's working directory.
    timeout : float or None
        Seconds allowed per cell (None: no limit).

    Use as a context manager; :meth:`run` executes one cell.
    """

    def __init__(self, nb, cwd, timeout: float | None = 120):
        self.nb, self.cwd, self.timeout = nb, str(cwd), timeout
        self.history: list[tuple[int, object]] = []
        self.restarts = 0
        self._stack = None
        self.client = None
        self.count = 0

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc):
        self._stop()
        return False

    def _start(self) -> None:
        self.client = notebook_client(self.nb, self.cwd, self.timeout, shutdown_kernel="immediate")
        stack = contextlib.ExitStack()
        log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
        try:
            stack.enter_context(self.client.setup_kernel(stdout=log, stderr=log))
        except Exception as exc:
            error = kernel_start_error(exc, log)
            stack.close()
            raise error from None
        self._stack = stack

    def _stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            with contextlib.suppress(Exception):
                stack.close()

    def restart(self) -> None:
        """A fresh kernel, then every remembered cell again (their errors are ignored).

        Raises
        ------
        ReplayError
            If a replayed cell times out or the kernel dies again.
        """
        self._stop()
        self.restarts += 1
        self._start()
        for index, cell in list(self.history):
            error = self._execute(cell, index)
            if error is not None and error.ename in (TIMEOUT_ENAME, DEAD_ENAME):
                raise ReplayError(
                    f"replaying cell {index} after a restart failed: {error.summary(60)}"
                )

    def run(self, cell, index: int, remember: bool = True) -> CellError | None:
        """Execute ``cell`` (shown as cell ``index``); return its error or None.

        A timeout gives a ``TimeoutError`` CellError (the kernel is interrupted, and
        restarted and replayed if it does not answer), a crash a ``DeadKernelError`` one
        (restarted and replayed). ``remember``: replay this cell after a later restart.

        Raises
        ------
        ReplayError
            If the restart's replay failed (the session cannot go on).
        """
        error = self._execute(cell, index)
        if error is not None and error.ename == TIMEOUT_ENAME:
            if not self._responsive():
                self.restart()
        elif error is not None and error.ename == DEAD_ENAME:
            self.restart()
        elif remember:
            self.history.append((index, cell))
        return error

    def _execute(self, cell, index: int) -> CellError | None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self.count += 1
        try:
            self.client.execute_cell(cell, index, execution_count=self.count)
        except CellTimeoutError:
            return CellError(
                index, TIMEOUT_ENAME, f"no result after {self.timeout:g} s", "", cell_source(cell)
            )
        except DeadKernelError:
            return CellError(index, DEAD_ENAME, "the kernel died", "", cell_source(cell))
        return _cell_error(index, cell)

    def _responsive(self) -> bool:
        """Interrupt the kernel and see whether it answers a trivial request."""
        from queue import Empty

        from nbclient.util import run_sync

        try:
            run_sync(self.client.km.interrupt_kernel)()
            deadline = time.monotonic() + PROBE_SECONDS
            msg_id = self.client.kc.execute("None", silent=True, store_history=False)
            while time.monotonic() < deadline:
                try:
                    reply = run_sync(self.client.kc.get_shell_msg)(timeout=1)
                except Empty:
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
        except Exception:
            return False
        return False
