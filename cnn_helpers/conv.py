"""Convolution (cross-correlation) with padding and stride: paper §2, §3.1.5, Appendix A.

Two implementations of the same maths:

* the paper's **explicit Jacobians** for one channel, built column by column:
  ``conv_jacobian_kernel`` = d vec(Z) / d vec(beta) (eq. a1-3) and
  ``conv_jacobian_input`` = d vec(Z) / d vec(A) (eq. a2-3);
* the **fast path** for batches, ``conv_forward`` / ``conv_backward``: thin NCHW
  adapters over the batch-last im2col kernels of ``_kernels.py``, the one fast
  implementation that the training engine uses too (no Python loop over pixels or
  samples, one matrix product per layer).

"Convolution" means cross-correlation, as in Appendix A (the kernel is not flipped):
``Z[p, q] = sum_{r,s} A_pad[p*sh + r, q*sw + s] * beta[r, s]``.
"""

from __future__ import annotations

import numpy as np

from typing import NamedTuple

from . import _kernels as kern
from ._checks import as_array, as_pair, check_shape
from .vec import vec

__all__ = [
    "conv_output_shape",
    "correlate2d",
    "conv_forward",
    "conv_backward",
    "conv_jacobian_kernel",
    "conv_jacobian_input",
    "unit_matrices",
]


class Geometry(NamedTuple):
    """A validated window geometry: every entry an (h, w) pair of ints."""

    kernel_hw: tuple[int, int]
    pad: tuple[int, int]
    stride: tuple[int, int]
    out_hw: tuple[int, int]


def output_hw(input_hw, kernel_hw, pad, stride, kernel_name="kernel") -> tuple[int, int]:
    """floor((n + 2p - k) / s) + 1 per axis (paper §2), validated to be >= 1.

    ``input_hw``, ``kernel_hw``, ``pad`` and ``stride`` must already be int pairs;
    ``kernel_name`` is the argument named in the error message.
    """
    out = []
    for axis, n, k, p, s in zip(("height", "width"), input_hw, kernel_hw, pad, stride):
        if n + 2 * p < k:
            raise ValueError(
                f"{kernel_name} {axis} {k} is larger than the padded input {axis} "
                f"{n} + 2*{p} = {n + 2 * p}; the output would be empty "
                f"(input {tuple(input_hw)}, {kernel_name} {tuple(kernel_hw)}, "
                f"pad {tuple(pad)}, stride {tuple(stride)})"
            )
        out.append((n + 2 * p - k) // s + 1)
    return out[0], out[1]


def geometry(input_hw, kernel_hw, pad, stride, kernel_name="kernel_hw") -> Geometry:
    """Validate a window geometry over an (h, w) input; the output size included."""
    kernel_hw = as_pair(kernel_name, kernel_hw, 1)
    pad = as_pair("pad", pad, 0)
    stride = as_pair("stride", stride, 1)
    return Geometry(
        kernel_hw, pad, stride, output_hw(input_hw, kernel_hw, pad, stride, kernel_name)
    )


def to_batch_last(A: np.ndarray) -> np.ndarray:
    """NCHW -> the kernels' (C, H, W, N) layout (a view)."""
    return A.transpose(1, 2, 3, 0)


def to_nchw(X: np.ndarray) -> np.ndarray:
    """The kernels' (C, H, W, N) layout -> NCHW (a view)."""
    return X.transpose(3, 0, 1, 2)


def conv_output_shape(input_hw, kernel_hw, pad=(0, 0), stride=(1, 1)) -> tuple[int, int]:
    """Output size of a padded, strided convolution (paper §2, Note).

    ``h_z = floor((h_a + 2 h_p - h_k) / h_s) + 1`` and likewise for the width.

    Parameters
    ----------
    input_hw, kernel_hw : (h, w) pairs of positive ints
    pad : (h, w) pair of non-negative ints, default (0, 0)
    stride : (h, w) pair of positive ints, default (1, 1)

    Returns
    -------
    (h_z, w_z) : tuple of int

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input (empty output).
    """
    input_hw = as_pair("input_hw", input_hw, 1)
    return geometry(input_hw, kernel_hw, pad, stride).out_hw


def unit_matrices(shape) -> np.ndarray:
    """The matrices dX/dX_rs for every entry of an (h, w) matrix X, in vec order.

    Parameters
    ----------
    shape : (h, w)

    Returns
    -------
    E : ndarray, shape (h*w, h, w)
        ``E[k]`` is 1 at the entry that vec(X) puts at position k (column-major:
        ``k = r + s*h``) and 0 elsewhere. These are the one-hot matrices
        ``dbeta/dbeta_rs`` of eq. a1-2 and ``dA/dA_rs`` of eq. a2-2.
    """
    h, w = as_pair("shape", shape, 1)
    # row k of the identity is e_k = vec(E_k); unvec it: (h*w, w, h) -> (h*w, h, w)
    return np.eye(h * w).reshape(h * w, w, h).transpose(0, 2, 1)


def _correlate_stack(As: np.ndarray, beta: np.ndarray, pad, stride) -> np.ndarray:
    """Correlate every (h, w) matrix in As (..., h, w) with one kernel beta."""
    *lead, h, w = As.shape
    out_hw = output_hw((h, w), beta.shape, pad, stride)
    dtype = np.result_type(As, beta)
    X = As.reshape(-1, h, w).astype(dtype, copy=False).transpose(1, 2, 0)[None]  # (1, h, w, M)
    K = beta.astype(dtype, copy=False)[None, None]  # (1, 1, kh, kw)
    Z, _ = kern.conv_forward(X, K, np.zeros(1, dtype), pad, stride, out_hw)  # (1, hz, wz, M)
    return Z[0].transpose(2, 0, 1).reshape(*lead, *out_hw)


def correlate2d(A, beta, pad=(0, 0), stride=(1, 1)) -> np.ndarray:
    """The paper's ``A * beta`` for one channel: padded, strided cross-correlation.

    Parameters
    ----------
    A : array_like, shape (h_a, w_a)
    beta : array_like, shape (h_k, w_k)
    pad : (h_p, w_p), zeros added on each side of A (default (0, 0))
    stride : (h_s, w_s), default (1, 1)

    Returns
    -------
    Z : ndarray, shape (h_z, w_z), see :func:`conv_output_shape`

    Examples
    --------
    Appendix A: a 3x4 input, a 2x2 kernel, padding (1, 1) and stride (1, 2) give a
    4x3 output.

    >>> correlate2d(np.ones((3, 4)), np.ones((2, 2)), (1, 1), (1, 2)).shape
    (4, 3)
    """
    A = as_array("A", A, ndim=2)
    beta = as_array("beta", beta, ndim=2)
    g = geometry(A.shape, beta.shape, pad, stride, "beta")
    return _correlate_stack(A, beta, g.pad, g.stride)


def conv_jacobian_kernel(A, kernel_hw, pad=(0, 0), stride=(1, 1)) -> np.ndarray:
    """d vec(Z) / d vec(beta) for ``Z = A * beta`` (Appendix A, eq. a1-1 to a1-3).

    Column k is ``vec(A * dbeta/dbeta_rs)`` where (r, s) is the k-th entry of
    vec(beta): the input correlated with a one-hot kernel. The matrix depends on A
    only (Z is linear in beta), which is why §3.1.5 can share it across kernels j.

    Parameters
    ----------
    A : array_like, shape (h_a, w_a)
        One channel of the layer input.
    kernel_hw : (h_k, w_k)
    pad, stride : (h, w) pairs

    Returns
    -------
    J : ndarray, shape (h_z*w_z, h_k*w_k)
    """
    A = as_array("A", A, ndim=2)
    g = geometry(A.shape, kernel_hw, pad, stride)
    columns = [vec(_correlate_stack(A, E, g.pad, g.stride)) for E in unit_matrices(g.kernel_hw)]
    return np.stack(columns, axis=1)


def conv_jacobian_input(beta, input_hw, pad=(0, 0), stride=(1, 1)) -> np.ndarray:
    """d vec(Z) / d vec(A) for ``Z = A * beta`` (Appendix A, eq. a2-1 to a2-3).

    Column k is ``vec(dA/dA_rs * beta)`` where (r, s) is the k-th entry of vec(A):
    a one-hot input correlated with the kernel. Rather than running h_a*w_a
    correlations, the matrix is filled directly: output z_pq sees input entry
    ``(p h_s + u - h_p, q w_s + v - w_p)`` through kernel entry beta_uv, so each of
    the h_k*w_k kernel entries writes one strided diagonal of the matrix. The tests
    check that this equals the column-by-column construction of the paper.

    Parameters
    ----------
    beta : array_like, shape (h_k, w_k)
    input_hw : (h_a, w_a)
    pad, stride : (h, w) pairs

    Returns
    -------
    J : ndarray, shape (h_z*w_z, h_a*w_a)
    """
    beta = as_array("beta", beta, ndim=2)
    input_hw = as_pair("input_hw", input_hw, 1)
    g = geometry(input_hw, beta.shape, pad, stride, "beta")
    (ha, wa), (ph, pw), (sh, sw), (hz, wz) = input_hw, g.pad, g.stride, g.out_hw
    p, q = np.meshgrid(np.arange(hz), np.arange(wz), indexing="ij")
    row_of_z = (p + q * hz).ravel()  # position of z_pq in vec(Z)
    J = np.zeros((hz * wz, ha * wa), dtype=beta.dtype)
    for u in range(beta.shape[0]):
        for v in range(beta.shape[1]):
            r = (p * sh + u - ph).ravel()  # input entry seen through beta_uv
            c = (q * sw + v - pw).ravel()
            inside = (r >= 0) & (r < ha) & (c >= 0) & (c < wa)  # padding contributes 0
            J[row_of_z[inside], (r + c * ha)[inside]] = beta[u, v]
    return J


def _conv_arrays(A, K, pad, stride, *others):
    """Validate A (N, C, H, W) and K (F, C, kh, kw); cast A, K and ``others`` to one dtype."""
    A = as_array("A", A, ndim=4)
    K = as_array("K", K, ndim=4)
    if A.shape[1] != K.shape[1]:
        raise ValueError(
            f"channel mismatch: A has {A.shape[1]} input channels (A.shape={A.shape}) but "
            f"K expects {K.shape[1]} (K.shape={K.shape}, layout (C_out, C_in, kh, kw))"
        )
    g = geometry(A.shape[2:], K.shape[2:], pad, stride, "K")
    dtype = np.result_type(A, K, *others)
    return (g, *(x.astype(dtype, copy=False) for x in (A, K, *others)))


def conv_forward(A, K, b, pad=(0, 0), stride=(1, 1)) -> np.ndarray:
    """Batched convolution layer, paper §2: ``Z_j = sum_i A_i * K_{j,i} + b_j 1``.

    Parameters
    ----------
    A : array_like, shape (N, C_in, H, W)
    K : array_like, shape (C_out, C_in, h_k, w_k); ``K[j, i]`` is the paper's K_{j,i}
    b : array_like, shape (C_out,)
    pad, stride : (h, w) pairs (an int means both)

    Returns
    -------
    Z : ndarray, shape (N, C_out, h_z, w_z)
    """
    b = as_array("b", b, ndim=1)
    g, A, K, b = _conv_arrays(A, K, pad, stride, b)
    check_shape("b", b, (K.shape[0],))
    Z, _ = kern.conv_forward(to_batch_last(A), K, b, g.pad, g.stride, g.out_hw)
    return to_nchw(Z)  # (N, F, hz, wz)


def conv_backward(dZ, A, K, pad=(0, 0), stride=(1, 1)):
    """Gradients of a convolution layer (§3.1.5), vectorized over the batch.

    Parameters
    ----------
    dZ : array_like, shape (N, C_out, h_z, w_z)
        Gradient of the loss with respect to the layer output Z.
    A : array_like, shape (N, C_in, H, W)
        The layer input used in the forward pass.
    K : array_like, shape (C_out, C_in, h_k, w_k)
    pad, stride : (h, w) pairs, as in the forward pass

    Returns
    -------
    dA : ndarray, shape (N, C_in, H, W)
        ``sum_j`` of each kernel's contribution: the transpose of eq. a2-3's
        Jacobian applied to dZ, computed by folding ``K^T dZ`` back onto the input
        (a transposed convolution).
    dK : ndarray, shape (C_out, C_in, h_k, w_k)
        Correlation of the input with the upstream gradient (transpose of eq. a1-3).
    db : ndarray, shape (C_out,)
        ``dZ`` summed over the batch and the output pixels (§3.1.5, bias).
    """
    dZ = as_array("dZ", dZ, ndim=4)
    g, A, K, dZ = _conv_arrays(A, K, pad, stride, dZ)
    check_shape("dZ", dZ, (A.shape[0], K.shape[0], *g.out_hw))
    X = to_batch_last(A)  # (C, H, W, N)
    cols = kern.im2col(X, g.kernel_hw, g.pad, g.stride, g.out_hw)  # (C kh kw, hz wz N)
    dX, dK, db = kern.conv_backward(to_batch_last(dZ), cols, K, X.shape, g.pad, g.stride)
    return to_nchw(dX), dK, db
