"""Activation functions and their Jacobians: paper §3.1.1 (softmax) and §3.1.4.

For an element-wise activation I = f(Z), each entry of I depends only on the same
entry of Z, so d vec(I) / d vec(Z) is the diagonal matrix diag(f'(vec Z)). Because
the diagonal holds values of Z, it must be built channel by channel (§3.1.4), unlike
the pooling Jacobians. Softmax mixes all entries: its Jacobian is full,
``diag(a) - a a^T`` (§3.1.1, the garbled dA3/dZ3 display).

Each element-wise activation comes with ``*_grad`` (the element-wise derivative
f'(Z), used by the fast path) and ``*_jacobian`` (the diagonal matrix, used by the
explicit path); the Jacobian is built from the same ``*_grad``.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as kern
from ._checks import as_array
from .vec import vec_flat

__all__ = [
    "relu",
    "relu_grad",
    "relu_jacobian",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_jacobian",
    "tanh",
    "tanh_grad",
    "tanh_jacobian",
    "softmax",
    "softmax_jacobian",
    "ACTIVATIONS",
]


def _diagonal_jacobian(grad: np.ndarray) -> np.ndarray:
    """diag(vec f'(Z)) with entries in the paper's vec order (see ``vec_flat``)."""
    return np.diag(vec_flat(grad))


def relu(Z) -> np.ndarray:
    """max(Z, 0), element-wise. Z: any shape; returns the same shape."""
    return kern.relu(as_array("Z", Z))


def relu_grad(Z) -> np.ndarray:
    """Derivative of ReLU: 1 where Z > 0, else 0 (the kink at 0 gets 0)."""
    I = relu(Z)
    return kern.relu_grad_from_output(I).astype(I.dtype)


def relu_jacobian(Z) -> np.ndarray:
    """d vec(relu(Z)) / d vec(Z) = diag(1[vec Z > 0]), shape (Z.size, Z.size)."""
    return _diagonal_jacobian(relu_grad(Z))


def sigmoid(Z) -> np.ndarray:
    """1 / (1 + exp(-Z)), computed without overflow for large |Z|."""
    return kern.sigmoid(as_array("Z", Z))


def sigmoid_grad(Z) -> np.ndarray:
    """Derivative of the sigmoid: s(Z) (1 - s(Z))."""
    return kern.sigmoid_grad_from_output(sigmoid(Z))


def sigmoid_jacobian(Z) -> np.ndarray:
    """d vec(sigmoid(Z)) / d vec(Z) = diag(s (1 - s)), shape (Z.size, Z.size)."""
    return _diagonal_jacobian(sigmoid_grad(Z))


def tanh(Z) -> np.ndarray:
    """Hyperbolic tangent, element-wise."""
    return kern.tanh(as_array("Z", Z))


def tanh_grad(Z) -> np.ndarray:
    """Derivative of tanh: 1 - tanh(Z)^2."""
    return kern.tanh_grad_from_output(tanh(Z))


def tanh_jacobian(Z) -> np.ndarray:
    """d vec(tanh(Z)) / d vec(Z) = diag(1 - tanh^2), shape (Z.size, Z.size)."""
    return _diagonal_jacobian(tanh_grad(Z))


def softmax(z) -> np.ndarray:
    """Softmax over the last axis, stable for large logits (the max is subtracted).

    Parameters
    ----------
    z : array_like, shape (n,) or (N, n)

    Returns
    -------
    a : ndarray, same shape, rows sum to 1
    """
    return kern.softmax(as_array("z", z, ndim=(1, 2)), axis=-1)


def softmax_jacobian(z) -> np.ndarray:
    """d a / d z for a = softmax(z) of one vector (§3.1.1): ``diag(a) - a a^T``.

    Parameters
    ----------
    z : array_like, shape (n,)

    Returns
    -------
    J : ndarray, shape (n, n), ``J[i, j] = d a_i / d z_j = a_i (delta_ij - a_j)``
    """
    z = as_array("z", z, ndim=1)
    a = softmax(z)
    return np.diag(a) - np.outer(a, a)


#: name -> (f, f', Jacobian builder), for the model and the notebooks
ACTIVATIONS = {
    "relu": (relu, relu_grad, relu_jacobian),
    "sigmoid": (sigmoid, sigmoid_grad, sigmoid_jacobian),
    "tanh": (tanh, tanh_grad, tanh_jacobian),
}
