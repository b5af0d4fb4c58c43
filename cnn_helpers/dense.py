"""The fully connected layer of §3.1.1: ``Z = W^T B + b``.

W has shape (n_in, n_out). For one sample B is a column (n_in,); batched, rows are
samples: B (N, n_in) and Z = B @ W + b of shape (N, n_out), which is the paper's
formula applied to every row.

Jacobians (numerator layout, one sample):

* dZ/dB = W^T, shape (n_out, n_in);
* d vec(Z)/d vec(W) = I_{n_out} kron B^T, shape (n_out, n_in*n_out), because
  z_k = sum_i W_ik B_i and vec(W) stacks the columns of W;
* dZ/db = I_{n_out}.

With the row dJ/dZ (1 x n_out), the chain rule gives the paper's
dJ/dW = (dJ/dZ)^T B^T (n_out x n_in, a Jacobian), whose transpose B (dJ/dZ) is the
gradient with the shape of W (§3.2); dJ/db = dJ/dZ; dJ/dB = (dJ/dZ) W^T.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, as_int, check_shape

__all__ = [
    "dense_forward",
    "dense_backward",
    "dense_jacobian_input",
    "dense_jacobian_weight",
    "dense_jacobian_bias",
]


def _check_weights(W, b=None):
    W = as_array("W", W, ndim=2)
    if b is not None:
        b = as_array("b", b, ndim=1)
        check_shape("b", b, (W.shape[1],))
    return W, b


def _check_input(B, W):
    B = as_array("B", B, ndim=2)
    if B.shape[1] != W.shape[0]:
        raise ValueError(
            f"B has {B.shape[1]} features per sample (B.shape={B.shape}) but W "
            f"expects {W.shape[0]} (W.shape={W.shape}, layout (n_in, n_out))"
        )
    return B


def dense_forward(B, W, b) -> np.ndarray:
    """Batched fully connected layer ``Z = B @ W + b`` (the paper's W^T B + b per row).

    Parameters
    ----------
    B : array_like, shape (N, n_in)
    W : array_like, shape (n_in, n_out)
    b : array_like, shape (n_out,)

    Returns
    -------
    Z : ndarray, shape (N, n_out)
    """
    W, b = _check_weights(W, b)
    B = _check_input(B, W)
    return B @ W + b


def dense_backward(dZ, B, W):
    """Gradients of the fully connected layer for a batch.

    Parameters
    ----------
    dZ : array_like, shape (N, n_out)
    B : array_like, shape (N, n_in)
    W : array_like, shape (n_in, n_out)

    Returns
    -------
    dB : ndarray, shape (N, n_in), ``dZ W^T`` (rows are the paper's dJ/dB)
    dW : ndarray, shape (n_in, n_out), ``B^T dZ`` (sum over samples of B (dJ/dZ))
    db : ndarray, shape (n_out,), ``dZ`` summed over the batch
    """
    W, _ = _check_weights(W)
    B = _check_input(B, W)
    dZ = as_array("dZ", dZ, ndim=2)
    check_shape("dZ", dZ, (B.shape[0], W.shape[1]))
    return dZ @ W.T, B.T @ dZ, dZ.sum(axis=0)


def dense_jacobian_input(W) -> np.ndarray:
    """dZ/dB = W^T for one sample, shape (n_out, n_in)."""
    W, _ = _check_weights(W)
    return W.T.copy()


def dense_jacobian_weight(B, n_out: int) -> np.ndarray:
    """d vec(Z)/d vec(W) = I_{n_out} kron B^T for one sample.

    Parameters
    ----------
    B : array_like, shape (n_in,)
        One sample's input vector.
    n_out : int
        Number of outputs (columns of W).

    Returns
    -------
    J : ndarray, shape (n_out, n_in*n_out)
        Row k holds B^T in the block of columns that vec(W) gives to column k of W.
    """
    B = as_array("B", B, ndim=1)
    return np.kron(np.eye(as_int("n_out", n_out, 1)), B[None, :])


def dense_jacobian_bias(n_out: int) -> np.ndarray:
    """dZ/db = I_{n_out}, shape (n_out, n_out)."""
    return np.eye(as_int("n_out", n_out, 1))
