"""The paper's vec operator (§3.1) and the flatten of §3.1.2.

The paper writes ``_vA`` for vec(A):

* for an m x n matrix, the mn-vector that stacks the columns of A one below the
  other (column-major order, ``A.reshape(-1, order="F")``);
* for an m x n x c tensor (stored here channel-first as (c, m, n)), the mn x c matrix
  whose j-th column is vec(A_j).

NumPy's default order is row-major (C order), so ``A.reshape(-1)`` stacks *rows*:
that is vec(A^T), not vec(A). Everything in this package goes through the
functions below so the two orders are never mixed silently.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, as_shape

__all__ = ["vec", "unvec", "vec_flat", "unvec_flat", "flatten", "unflatten"]


def vec(A) -> np.ndarray:
    """Column-stacking vec of a matrix, or the paper's (h*w, c) matrix of a tensor.

    Parameters
    ----------
    A : array_like, shape (m, n) or (c, h, w)

    Returns
    -------
    ndarray, shape (m*n,) or (h*w, c)
        For a matrix, ``A.reshape(-1, order="F")``; for a (c, h, w) tensor, the
        matrix whose column j is vec(A[j]) (§3.1, second bullet).

    Examples
    --------
    >>> vec(np.array([[1, 2], [3, 4]])).tolist()
    [1.0, 3.0, 2.0, 4.0]
    """
    A = as_array("A", A, ndim=(2, 3), finite=False)
    if A.ndim == 2:
        return A.reshape(-1, order="F")
    c, h, w = A.shape
    # A[j].T in C order is A[j] in F order: (c, w, h) -> (c, h*w) -> (h*w, c)
    return A.transpose(0, 2, 1).reshape(c, h * w).T


def unvec(v, shape) -> np.ndarray:
    """Invert :func:`vec`.

    Parameters
    ----------
    v : array_like, shape (m*n,) or (h*w, c)
    shape : tuple
        (m, n) to rebuild a matrix from an mn-vector, or (c, h, w) to rebuild a
        tensor from the paper's (h*w, c) matrix.

    Returns
    -------
    ndarray of the given shape
    """
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple (m, n) or (c, h, w); got {shape!r}")
    if len(shape) not in (2, 3):
        raise ValueError(f"shape must be (m, n) or (c, h, w); got {shape!r}")
    shape = as_shape("shape", shape, len(shape))
    if len(shape) == 2:
        v = as_array("v", v, ndim=(1, 2), finite=False)
        if v.size != shape[0] * shape[1] or (v.ndim == 2 and 1 not in v.shape):
            raise ValueError(
                f"v must be a vector of {shape[0] * shape[1]} entries for shape {shape}; "
                f"got shape {v.shape}"
            )
        return v.reshape(shape, order="F")
    c, h, w = shape
    v = as_array("v", v, ndim=2, finite=False)
    if v.shape != (h * w, c):
        raise ValueError(
            f"v must have shape {(h * w, c)} (h*w, c) for shape {shape}; got {v.shape}"
        )
    return v.T.reshape(c, w, h).transpose(0, 2, 1)


def vec_flat(A) -> np.ndarray:
    """All entries of A as one vector in the paper's order.

    vec inside each matrix (the last two axes, column-major), leading axes outer
    (row-major). For a matrix this is vec(A); for a (c, h, w) tensor it is
    [vec(A_1); vec(A_2); ...; vec(A_c)], the flatten of §3.1.2. Finite-difference
    Jacobians and the element-wise activation Jacobians use this order for their
    rows and columns.

    Parameters
    ----------
    A : array_like, any shape (0-D and 1-D arrays are returned as 1-D)

    Returns
    -------
    ndarray, shape (A.size,)
    """
    A = as_array("A", A, finite=False)
    if A.ndim < 2:
        return A.reshape(-1)
    return np.swapaxes(A, -1, -2).reshape(-1)


def unvec_flat(v, shape) -> np.ndarray:
    """Invert :func:`vec_flat` for an array of the given shape."""
    v = as_array("v", v, finite=False).reshape(-1)
    shape = tuple(int(s) for s in shape)
    if v.size != int(np.prod(shape)):
        raise ValueError(
            f"v must have {int(np.prod(shape))} entries for shape {shape}; got {v.size}"
        )
    if len(shape) < 2:
        return v.reshape(shape)
    swapped = shape[:-2] + (shape[-1], shape[-2])
    return np.swapaxes(v.reshape(swapped), -1, -2)


def flatten(A) -> np.ndarray:
    """Batched flatten of §3.1.2: each row is [vec(A_1); ...; vec(A_c)] of one sample.

    Parameters
    ----------
    A : array_like, shape (N, C, H, W)

    Returns
    -------
    B : ndarray, shape (N, C*H*W)
        Note that this is *not* ``A.reshape(N, -1)``: inside each channel the order
        is column-major, as in the paper.
    """
    A = as_array("A", A, ndim=4, finite=False)
    n = A.shape[0]
    return np.swapaxes(A, -1, -2).reshape(n, -1)


def unflatten(B, shape) -> np.ndarray:
    """Invert :func:`flatten`: (N, C*H*W) rows back to an (N, C, H, W) array.

    Parameters
    ----------
    B : array_like, shape (N, C*H*W)
    shape : tuple (N, C, H, W)
    """
    shape = as_shape("shape", shape, 4)
    B = as_array("B", B, ndim=2, finite=False)
    n, c, h, w = shape
    if B.shape != (n, c * h * w):
        raise ValueError(f"B must have shape {(n, c * h * w)} for shape {shape}; got {B.shape}")
    return np.swapaxes(B.reshape(n, c, w, h), -1, -2)
