"""Scores of a :class:`~cnn_helpers.model.ThreeLayerCNN` on a labelled data set.

:func:`evaluate` is the one measurement of loss and accuracy that training
(:func:`cnn_helpers.training.train`), the command line and the notebooks share; the
checks here validate stored images and labels against a model.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_int, as_int_array
from ._threads import blas_threads

__all__ = ["evaluate"]


# ----------------------------------------------------------------- validation
def _check_model(model):
    for attr in ("params", "loss_and_grads", "predict_proba", "input_shape", "n_classes", "dtype"):
        if not hasattr(model, attr):
            raise TypeError(
                f"model must be a ThreeLayerCNN (missing attribute {attr!r}); "
                f"got {type(model).__name__}"
            )
    return model


def _check_labels(yname, y, xname, n, n_classes):
    """Integer class indices (n,) in 0..n_classes-1, one per image of ``xname``."""
    y = as_int_array(yname, y)
    if y.shape != (n,):
        raise ValueError(
            f"{yname} must have shape ({n},), one label per image of {xname}; got {y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{yname} must hold class indices in 0..{n_classes - 1}; got "
            f"values from {y.min()} to {y.max()}"
        )
    return y


def _check_images_labels(xname, x, yname, y, model):
    """Stored uint8 images (N, H, W) and integer labels (N,) that fit the model."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"{xname} must hold stored uint8 images (as returned by load_signs); "
            f"got dtype {x.dtype}"
        )
    if x.ndim != 3 or (1, *x.shape[1:]) != tuple(model.input_shape):
        raise ValueError(
            f"{xname} must have shape (N, {model.input_shape[1]}, "
            f"{model.input_shape[2]}) to fit the model's input_shape "
            f"{tuple(model.input_shape)}; got {x.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{xname} must hold at least one image; got an empty array")
    return x, _check_labels(yname, y, xname, x.shape[0], model.n_classes)


# ------------------------------------------------------------------ evaluation
def evaluate(model, X, y, batch_size=256, *, threads=None):
    """Mean cross-entropy and accuracy of ``model`` on a whole data set.

    Parameters
    ----------
    model : ThreeLayerCNN
    X : ndarray
        Either stored uint8 images, shape (N, H, W), which are passed through
        :func:`~cnn_helpers.data.prepare_images` first, or already prepared float
        images, shape (N, C, H, W).
    y : int array, shape (N,)
        Class indices in ``0 .. model.n_classes - 1``.
    batch_size : int >= 1
        Images per forward pass (only memory and speed depend on it).
    threads : int >= 1, optional
        NumPy BLAS threads during the evaluation (default: the package default, see
        :func:`cnn_helpers._threads.blas_threads`).

    Returns
    -------
    loss : float
        Mean softmax cross-entropy over all N images.
    accuracy : float
        Fraction of images whose most probable class is ``y``.

    Notes
    -----
    Uses ``model.predict_proba`` (the fast engine), so the accuracy is exactly that of
    ``model.predict``; the loss is ``-mean(log p_y)`` of those probabilities.
    """
    model = _check_model(model)
    batch_size = as_int("batch_size", batch_size, 1)
    X = np.asarray(X)
    if X.dtype == np.uint8:
        X, y = _check_images_labels("X", X, "y", y, model)
    with blas_threads(threads):
        X = model._inference_input(X)  # predict_proba's checks and preparation
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one image to be evaluated; got none")
        y = _check_labels("y", y, "X", X.shape[0], model.n_classes)
        return _scores(model, X, y, batch_size)


def _scores(model, X, y, batch_size):
    """(loss, accuracy) of prepared images X (N, C, H, W) with valid labels y (N,)."""
    P = model.predict_proba(X, batch_size=batch_size)
    n = X.shape[0]
    p_true = P[np.arange(n), y].astype(np.float64)
    # log of the true class's probability; a probability that underflowed to 0 counts as
    # the smallest positive number of the dtype (a loss of about 87 in float32)
    loss = float(-np.mean(np.log(np.maximum(p_true, np.finfo(P.dtype).tiny))))
    accuracy = float(np.count_nonzero(P.argmax(axis=1) == y)) / n
    return loss, accuracy
