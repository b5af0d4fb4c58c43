"""The three splits of the sign recognizer: training, validation and test.

The shipped training images (``load_signs().x_train``) contain several variants of
many source photographs (the data set was made by re-rendering each photo with other
filters, brightness and contrast, see data/README.md). A validation image chosen at
random therefore usually has a near-copy among the remaining training images, and
validation accuracy would say more about memorising than about new hands: a
1-nearest-neighbour classifier labels 94-96 % of a random 10 % of the training images
correctly from the other 90 %, but only 71 % of the test images.

:func:`validation_split` holds out whole **groups of near-duplicates** instead:

1. Within each letter, two images are linked when their RMS pixel difference is below
   ``radius`` grey levels (default 20, i.e. squared distance < 20^2 * 784). The groups
   are the connected components of these links (single images are groups of one).
2. With ``numpy.random.default_rng(seed)`` (seed 0), the groups of each letter, in the
   order of their smallest index, are permuted; groups are taken in that order until
   at least ``ceil(fraction * n)`` of the letter's n images are held out.

The squared distances are computed in float64 from integer pixels, so they are exact
integers whatever the BLAS and summation order: the split is the same on every
machine, and the same for every training seed. With the defaults it holds out 474 of
the 4,560 images (19 to 22 per letter). Why 20 grey levels: it is the radius (in steps
of 5) at which the validation images are as far from the remaining training images as
the test images are, measured without labels by the median distance to the nearest
training image (25.6 and 25.7 grey levels; with radius 15 the validation images are
closer, 23.2, and the validation accuracy of every recipe tried was 99.6-100 %, too
close to the ceiling to tell recipes apart). 1-nearest-neighbour accuracy from the
training images is then 65 % on the validation split and 71 % on the test split,
against 94-96 % on a random split of the same size.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._checks import as_float, as_int
from .data import SignData, load_signs

__all__ = [
    "SignSplits",
    "VAL_FRACTION",
    "VAL_RADIUS",
    "validation_split",
    "split_signs",
    "nearest_neighbour",
]

#: default fraction of each letter's training images held out for validation
VAL_FRACTION = 0.1
#: default RMS pixel difference (grey levels, 0..255) below which two images are linked
VAL_RADIUS = 20


class SignSplits(NamedTuple):
    """The three splits of the sign data (images uint8 (N, H, W), labels (N,))."""

    x_train: np.ndarray  #: the images gradient descent sees
    y_train: np.ndarray
    x_val: np.ndarray  #: held-out groups of training images: choose the recipe on these
    y_val: np.ndarray
    x_test: np.ndarray  #: the complete official test split: evaluate once, at the end
    y_test: np.ndarray
    classes: tuple


def _squared_distances(a, b):
    """Squared Euclidean distances (n_a, n_b) between the rows of a and b, float64 arrays of
    integer pixels: exact integers (every partial sum is an integer below 2**53)."""
    sq_a = np.einsum("ij,ij->i", a, a)  # (n_a,)
    sq_b = np.einsum("ij,ij->i", b, b)  # (n_b,)
    return sq_a[:, None] + sq_b[None, :] - 2.0 * (a @ b.T)


def nearest_neighbour(x, x_ref, batch_size=1024):
    """For every image of ``x``, the index of the closest image of ``x_ref`` and their
    RMS pixel difference (grey levels).

    Parameters
    ----------
    x, x_ref : uint8 ndarray, shapes (N, H, W) and (M, H, W)
    batch_size : int
        Rows of ``x`` per distance matrix (memory about 8 * batch_size * M bytes).

    Returns
    -------
    index : int ndarray (N,)
        The first closest image in ``x_ref`` (ties: the smallest index).
    rms : float ndarray (N,)
    """
    for name, arr in (("x", x), ("x_ref", x_ref)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3:
            got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
            raise TypeError(f"{name} must be uint8 images (N, H, W); got {got}")
    if x.shape[1:] != x_ref.shape[1:] or len(x_ref) == 0:
        raise ValueError(
            f"x and x_ref must hold images of one size, x_ref at least one; got {x.shape} "
            f"and {x_ref.shape}"
        )
    d = x.shape[1] * x.shape[2]
    ref = x_ref.reshape(len(x_ref), d).astype(np.float64)
    index, rms = np.empty(len(x), np.int64), np.empty(len(x))
    for k in range(0, len(x), as_int("batch_size", batch_size, 1)):
        rows = x[k : k + batch_size].reshape(-1, d).astype(np.float64)
        dist2 = _squared_distances(rows, ref)  # (batch, M)
        index[k : k + len(rows)] = best = dist2.argmin(axis=1)
        rms[k : k + len(rows)] = np.sqrt(dist2[np.arange(len(rows)), best] / d)
    return index, rms


def _near_duplicate_groups(flat, radius):
    """Connected components of the 'RMS difference < radius' graph of the rows of
    ``flat`` (n, H*W float64 integer pixels); returns a group label per row."""
    n, d = flat.shape
    dist2 = _squared_distances(flat, flat)  # (n, n) exact integers
    linked = dist2 < radius * radius * d  # (n, n) bool, symmetric, True on the diagonal
    # every image takes the smallest label among its neighbours until nothing changes:
    # the labels are then the smallest index of each connected component
    labels = np.arange(n)
    while True:
        new = np.where(linked, labels[None, :], n).min(axis=1)  # (n,)
        if np.array_equal(new, labels):
            return labels
        labels = new


def validation_split(x, y, fraction=VAL_FRACTION, radius=VAL_RADIUS, seed=0):
    """Indices of a deterministic validation split, stratified by label and grouped
    by near-duplicates (see the module docstring for the rule).

    Parameters
    ----------
    x : uint8 ndarray, shape (N, H, W)
        Stored training images.
    y : int ndarray, shape (N,)
        Their labels.
    fraction : float in (0, 1)
        At least ``ceil(fraction * n)`` of the n images of every label are held out.
    radius : float > 0
        RMS pixel difference (grey levels) below which two images of one label are
        near-duplicates that must land on the same side.
    seed : int
        Seeds the order in which groups are taken (not the training seed).

    Returns
    -------
    train_idx, val_idx : int ndarray
        Sorted, disjoint, together ``0..N-1``.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise TypeError(f"x must be uint8 images of shape (N, H, W); got {x.dtype} {x.shape}")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be {len(x)} integer labels; got {y.dtype} {y.shape}")
    fraction = as_float("fraction", fraction, low=0.0, high=1.0)
    radius = as_float("radius", radius, low=0.0)
    rng = np.random.default_rng(as_int("seed", seed))
    held_out = np.zeros(len(x), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)  # ascending
        flat = x[members].reshape(len(members), -1).astype(np.float64)
        groups = _near_duplicate_groups(flat, radius)  # root = smallest member
        roots = rng.permutation(np.unique(groups))
        need = math.ceil(fraction * len(members))
        for r in roots:
            if held_out[members].sum() >= need:
                break
            held_out[members[groups == r]] = True
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)


def split_signs(data=None, fraction=VAL_FRACTION, radius=VAL_RADIUS):
    """The training, validation and test splits of the shipped data.

    Parameters
    ----------
    data : SignData, optional
        ``load_signs()`` by default.
    fraction, radius : see :func:`validation_split`

    Returns
    -------
    SignSplits
    """
    data = load_signs() if data is None else data
    if not isinstance(data, SignData):
        raise TypeError(f"data must be the SignData of load_signs(); got {type(data).__name__}")
    train_idx, val_idx = validation_split(data.x_train, data.y_train, fraction, radius)
    return SignSplits(
        data.x_train[train_idx],
        data.y_train[train_idx],
        data.x_train[val_idx],
        data.y_train[val_idx],
        data.x_test,
        data.y_test,
        data.classes,
    )
