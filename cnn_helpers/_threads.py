"""How many threads NumPy's BLAS may use while this package trains or evaluates.

The network is small (a batch of 64 images is a few milliseconds of work), so splitting
each matrix product over two BLAS threads saves little when the machine is idle and
costs a lot when another process keeps a core busy: the two threads then wait for each
other. :func:`blas_threads` applies a thread count for the duration of a ``with``
block only (through ``threadpoolctl``); the user's own setting is back afterwards.

The default is :data:`DEFAULT_THREADS`; the environment variable
``CNN_HELPERS_BLAS_THREADS`` (a positive integer) overrides it for the whole process.
``python -m cnn_helpers.benchmark`` measures 1 and 2 threads, idle and with one busy
core, on the machine at hand.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from ._checks import as_int

__all__ = ["DEFAULT_THREADS", "ENV_VAR", "blas_threads", "resolve_threads", "blas_info"]

#: BLAS threads used by training and evaluation when ``threads=None``. Measured with
#: ``python -m cnn_helpers.benchmark`` on 2 cores (float32, batch 64): two threads save
#: 10-20 % of a step on an idle machine, but while one other process keeps a core busy
#: a step takes about twice as long with two threads as with one. One thread is the
#: choice that is never much slower.
DEFAULT_THREADS = 1
#: environment variable that overrides :data:`DEFAULT_THREADS`
ENV_VAR = "CNN_HELPERS_BLAS_THREADS"

_controller = None
_active = []  # thread counts of the blas_threads blocks that are open, innermost last


def _get_controller():
    """The process's ``ThreadpoolController``, created on first use (it scans libraries)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def resolve_threads(threads=None) -> int:
    """The BLAS thread count that ``threads`` stands for.

    Parameters
    ----------
    threads : int >= 1 or None
        ``None`` means the value of ``CNN_HELPERS_BLAS_THREADS`` if it is set, else
        :data:`DEFAULT_THREADS`.

    Returns
    -------
    int >= 1

    Raises
    ------
    TypeError
        If ``threads`` is not an int (or None).
    ValueError
        If it is smaller than 1, or the environment variable is not a positive integer.
    """
    if threads is None:
        text = os.environ.get(ENV_VAR, "").strip()
        if not text:
            return DEFAULT_THREADS
        try:
            return as_int(ENV_VAR, int(text), 1)
        except ValueError:
            raise ValueError(
                f"the environment variable {ENV_VAR} must be a positive integer; got {text!r}"
            ) from None
    return as_int("threads", threads, 1)


@contextmanager
def blas_threads(threads=None):
    """Limit NumPy's BLAS to ``threads`` threads inside a ``with`` block.

    Parameters
    ----------
    threads : int >= 1 or None
        See :func:`resolve_threads`; ``None`` is the package default.

    Yields
    ------
    int
        The thread count in effect inside the block.

    Notes
    -----
    On exit (also after an exception) every BLAS library gets back the thread count it
    had before, so the caller's global state is unchanged. Blocks may be nested; a
    nested ``blas_threads()`` (``threads=None``) keeps the count of the block around it,
    so ``train(..., threads=2)`` is not reset by the model's own calls.

    Examples
    --------
    >>> with blas_threads(1):
    ...     pass
    """
    if threads is None and _active:  # inside another block: keep its count
        yield _active[-1]
        return
    n = resolve_threads(threads)
    _active.append(n)
    try:
        with _get_controller().limit(limits=n, user_api="blas"):
            yield n
    finally:
        _active.pop()


def blas_info() -> list[dict]:
    """What ``threadpoolctl`` reports for the loaded BLAS libraries (current thread counts).

    Returns
    -------
    list of dict
        One dict per library with at least ``internal_api`` and ``num_threads``.
    """
    return [info for info in _get_controller().info() if info["user_api"] == "blas"]
