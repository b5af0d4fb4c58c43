"""Finite-difference checks: the third leg of every three-way comparison.

Rows and columns of numerical Jacobians follow the paper's vec order
(:func:`cnn_helpers.vec.vec_flat`: column-major inside each matrix), so they can be
compared entry by entry with the explicit Jacobians of this package.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, as_float
from .vec import unvec_flat, vec_flat

__all__ = ["numerical_jacobian", "numerical_gradient", "relative_error"]


def _check_eps(eps):
    return as_float("eps", eps, low=0.0)


def numerical_jacobian(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian d vec(f(x)) / d vec(x).

    Parameters
    ----------
    f : callable
        Maps an array shaped like x to an array (any shape).
    x : array_like
        Point of evaluation; it is converted to float64 and not modified.
    eps : float
        Step. The truncation error is O(eps^2) and the rounding error
        O(machine eps / eps); 1e-6 balances the two in float64.

    Returns
    -------
    J : ndarray, shape (f(x).size, x.size)
        ``J[:, k] = (vec f(x + eps e_k) - vec f(x - eps e_k)) / (2 eps)``, where e_k
        is the k-th entry of vec(x).
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    eps = _check_eps(eps)
    x = as_array("x", x, dtype=np.float64)
    flat = vec_flat(x)
    columns = []
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = eps
        plus = vec_flat(np.asarray(f(unvec_flat(flat + step, x.shape)), dtype=np.float64))
        minus = vec_flat(np.asarray(f(unvec_flat(flat - step, x.shape)), dtype=np.float64))
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function, shaped like x.

    Parameters
    ----------
    f : callable, array shaped like x -> scalar
    x : array_like
    eps : float

    Returns
    -------
    g : ndarray, shape x.shape (the transpose of the Jacobian row, §3.2)
    """
    x = as_array("x", x, dtype=np.float64)
    J = numerical_jacobian(lambda t: np.atleast_1d(np.asarray(f(t), dtype=np.float64)), x, eps)
    if J.shape[0] != 1:
        raise ValueError(f"f must return a scalar; got {J.shape[0]} values")
    return unvec_flat(J[0], x.shape)


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are zero.

    A size-independent summary for comparing two computations of the same array;
    float64 finite differences typically reach 1e-9 to 1e-11 on smooth functions.
    """
    a = as_array("a", a, finite=False)
    b = as_array("b", b, finite=False)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)
