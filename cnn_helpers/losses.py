"""Softmax cross-entropy, the loss J of the paper's network (§3.1.1).

For one sample with logits z and label y, a = softmax(z) and J = -log a_y. Then
dJ/da = -e_y^T / a_y (a row, numerator layout), and the chain rule with the softmax
Jacobian diag(a) - a a^T collapses to dJ/dz = (a - e_y)^T.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as kern
from ._checks import as_array, as_int_array

__all__ = ["softmax_cross_entropy", "cross_entropy_jacobian", "check_labels"]


def check_labels(y, n_samples: int, n_classes: int) -> np.ndarray:
    """Validate integer class labels: shape (n_samples,), values in 0..n_classes-1."""
    y = as_int_array("y", y, ndim=1)
    if y.shape[0] != n_samples:
        raise ValueError(f"y must have one label per sample ({n_samples}); got {y.shape[0]}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"y must hold class indices in 0..{n_classes - 1}; "
            f"got values from {y.min()} to {y.max()}"
        )
    return y


def softmax_cross_entropy(Z, y):
    """Mean softmax cross-entropy over a batch and its gradient.

    Parameters
    ----------
    Z : array_like, shape (N, n_classes)
        Logits (the paper's Z^[3], one row per sample).
    y : int array, shape (N,)
        Class indices in 0..n_classes-1.

    Returns
    -------
    loss : float
        ``mean_n(-log softmax(Z_n)[y_n])``, computed with log-sum-exp, so logits of
        size 1e3 neither overflow nor produce NaN.
    dZ : ndarray, shape (N, n_classes)
        ``(softmax(Z) - onehot(y)) / N``, the gradient of the mean loss.
    """
    Z = as_array("Z", Z, ndim=2)
    n, k = Z.shape
    if n == 0:
        raise ValueError("Z must hold at least one sample; got shape (0, ...)")
    y = check_labels(y, n, k)
    loss, dZ = kern.softmax_cross_entropy(Z.T, y)  # the kernel takes samples as columns
    return loss, dZ.T


def cross_entropy_jacobian(a, y: int) -> np.ndarray:
    """dJ/da for J = -log a_y and one probability vector a (§3.1.1).

    Parameters
    ----------
    a : array_like, shape (n,), probabilities (softmax output)
    y : int, the true class

    Returns
    -------
    row : ndarray, shape (1, n), ``-1/a_y`` at column y and 0 elsewhere
    """
    a = as_array("a", a, ndim=1)
    y = int(check_labels(np.array([y]), 1, a.shape[0])[0])
    if a[y] <= 0:
        raise ValueError(f"a[{y}] must be positive to take its log; got {a[y]}")
    row = np.zeros((1, a.shape[0]), dtype=a.dtype)
    row[0, y] = -1.0 / a[y]
    return row
