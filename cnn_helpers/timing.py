"""How to time the network: interleaved medians, a busy core, peak memory.

Used by :mod:`cnn_helpers.benchmark` (and re-exported there) and by the performance
notebook. All timings are medians of repeated calls, because single calls on a shared
machine are noisy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager, nullcontext

__all__ = ["time_interleaved", "time_call", "busy_core", "peak_memory"]


def time_interleaved(steps, repeats=30, warmup=3, inner=1, contexts=None, settle=0):
    """Median seconds per call of each function, measured round-robin.

    Parameters
    ----------
    steps : dict name -> callable without arguments
    repeats : int, rounds; in each round every function runs ``inner`` times
    warmup : int, untimed rounds first
    inner : int, calls per timed sample
    contexts : dict name -> callable returning a context manager, optional
        Entered around each of that function's samples, outside the timed region (for
        example ``lambda: blas_threads(2)``), so switching thread counts costs nothing.
    settle : int
        Untimed calls of the same function (inside its context) before each timed
        sample. Thread pools keep spinning for a while after their last call; with
        ``settle >= 1`` a sample does not pay for the threads of the function before it.

    Returns
    -------
    dict name -> median seconds per call
    """
    contexts = contexts or {}
    samples = {name: [] for name in steps}
    for round_ in range(warmup + repeats):
        for name, fn in steps.items():
            with contexts.get(name, nullcontext)():
                for _ in range(settle):
                    fn()
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn()
                seconds = (time.perf_counter() - t0) / inner
            if round_ >= warmup:
                samples[name].append(seconds)
    return {name: statistics.median(s) for name, s in samples.items()}


@contextmanager
def busy_core(settle=0.3):
    """Keep one core busy with a spinning Python process while the block runs.

    The process is started here and always stopped on exit (also on an exception or
    Ctrl-C). ``settle`` seconds pass before the block starts, so the process spins.

    Yields
    ------
    subprocess.Popen
        The busy process.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(settle)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def time_call(fn, repeats=3, warmup=1):
    """Median seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_memory(fn):
    """Peak bytes that NumPy allocates while ``fn()`` runs (measured with tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
