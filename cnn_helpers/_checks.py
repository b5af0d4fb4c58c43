"""Argument validation shared by every public function.

Each checker raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(right kind, wrong value) with a message that names the argument, says what was
received and what was expected. Nothing here broadcasts or repairs silently.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _describe(value) -> str:
    """Short description of a received value for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_array(
    name: str, value, ndim: int | tuple[int, ...] | None = None, dtype=None, finite: bool = True
) -> np.ndarray:
    """Convert ``value`` to a real floating-point array and validate it.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : array_like
        Real numbers (bool, complex, object and string arrays are rejected).
    ndim : int or tuple of int, optional
        Required number of dimensions.
    dtype : numpy dtype, optional
        Floating dtype to convert to. By default float32 and float64 arrays keep
        their dtype and integer arrays become float64.
    finite : bool
        Reject NaN and infinity (default True).
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of real numbers; got {_describe(value)}")
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an array of real numbers (integer or floating dtype); "
            f"got dtype {arr.dtype}"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating) or arr.dtype.itemsize > 8:
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(
                f"{name} must have {want} dimensions; got shape {arr.shape} ({arr.ndim}-D)"
            )
    if finite and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); expected finite numbers")
    return arr


def as_int(name: str, value, minimum: int | None = None) -> int:
    """Validate a Python or NumPy integer (bools rejected), at least ``minimum``.

    A wrong type (``2.5``, ``"3"``, ``True``) is a ``TypeError``; an integer below
    ``minimum`` is a ``ValueError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {_describe(value)} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        kind = {0: "non-negative", 1: "positive"}.get(minimum, f">= {minimum}")
        raise ValueError(f"{name} must be {kind} (>= {minimum}); got {value!r}")
    return int(value)


def as_float(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
) -> float:
    """Validate a finite real number, optionally inside (low, high) (inclusive on request).

    A wrong type (a string, a bool, None) is a ``TypeError``; NaN, infinity or a value
    out of range is a ``ValueError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {_describe(value)} ({type(value).__name__})"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise ValueError(f"{name} must be {'>=' if low_inclusive else '>'} {low}; got {value!r}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"{name} must be {'<=' if high_inclusive else '<'} {high}; got {value!r}")
    return value


def as_int_array(name: str, value, ndim: int | None = None) -> np.ndarray:
    """Validate an array of integers (labels, switches)."""
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array; got {_describe(value)}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


def as_pair(name: str, value, minimum: int) -> tuple[int, int]:
    """Normalize an int or an (h, w) pair of ints, each at least ``minimum``.

    ``minimum`` is 1 for strides, windows and kernels and 0 for padding.
    """
    items = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(
            f"{name} must be an int or an (h, w) pair of ints; got {_describe(value)}"
        ) from None
    if len(items) != 2:
        raise ValueError(f"{name} must be an (h, w) pair; got {len(items)} values: {value!r}")
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(
                f"{name} must contain integers; got {value!r} (an entry of type "
                f"{type(item).__name__})"
            )
        if item < minimum:
            kind = "positive" if minimum == 1 else "non-negative"
            raise ValueError(f"{name} must be {kind} (each entry >= {minimum}); got {value!r}")
        out.append(int(item))
    return out[0], out[1]


def as_shape(name: str, value, length: int) -> tuple[int, ...]:
    """Validate a shape tuple of ``length`` positive integers.

    Not a sequence, or an entry that is not an integer (``2.9``, ``True``): TypeError;
    the wrong length or an entry below 1: ValueError.
    """
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a tuple of {length} ints; got {_describe(value)}"
        ) from None
    if len(items) != length:
        raise ValueError(f"{name} must be a tuple of {length} positive ints; got {value!r}")
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(
                f"{name} must be a tuple of {length} ints; got {value!r} "
                f"(an entry of type {type(v).__name__})"
            )
        if v < 1:
            raise ValueError(f"{name} must be a tuple of {length} positive ints; got {value!r}")
    return tuple(int(v) for v in items)


def check_shape(name: str, arr: np.ndarray, expected: tuple[int, ...]) -> None:
    """Raise if ``arr.shape`` differs from ``expected`` (no broadcasting)."""
    if tuple(arr.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}; got {tuple(arr.shape)}")
