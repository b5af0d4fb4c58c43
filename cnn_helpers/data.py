"""Sign Language MNIST as shipped in ``data/`` (24 letters, 28x28 grayscale), and the
steps that feed it to training: normalization, random shifts, mini-batches.

``load_signs`` reads ``data/sign_mnist.npz`` exactly as stored (uint8 images,
integer labels 0..23), after checking its SHA-256 against the value recorded in
``data/README.md``. ``prepare_images`` is the single normalization that training,
evaluation, the command line and the notebooks all use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._checks import as_int

__all__ = [
    "SignData",
    "load_signs",
    "prepare_images",
    "random_shift",
    "iterate_minibatches",
    "SHIFT_FILLS",
    "DATA_PATH",
    "SHA256",
    "PIXEL_MEAN",
    "PIXEL_STD",
    "DataFileError",
]

#: names accepted by ``random_shift(fill=...)``
SHIFT_FILLS = ("edge", "border_mean", "zero")

#: default location: ``data/sign_mnist.npz`` at the top of the repository
DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "sign_mnist.npz"
#: SHA-256 of the shipped file (see data/README.md)
SHA256 = "6c083ef851fd3ff67b379c42e947c80f460800645b0b976211b9ed421433a9f5"
#: mean and standard deviation of the training pixels scaled to [0, 1]
#: (0.6253 and 0.1918, rounded); fixed constants so that every caller agrees
PIXEL_MEAN = 0.625
PIXEL_STD = 0.192

_RESTORE = (
    "Restore it from the repository with `git checkout -- data/sign_mnist.npz` "
    "(or a fresh clone); data/README.md describes its provenance."
)
_KEYS = {
    "x_train": (np.uint8, 3),
    "y_train": (np.uint8, 1),
    "x_test": (np.uint8, 3),
    "y_test": (np.uint8, 1),
    "classes": (np.str_, 1),
}


class DataFileError(FileNotFoundError, ValueError):
    """The data file is missing, corrupt or not the expected file.

    Subclasses both FileNotFoundError and ValueError, so either can be caught.
    """


class SignData(NamedTuple):
    """The dataset splits as stored (see data/README.md)."""

    x_train: np.ndarray  #: (4560, 28, 28) uint8
    y_train: np.ndarray  #: (4560,) uint8 class indices 0..23
    x_test: np.ndarray  #: (7172, 28, 28) uint8, the complete official test split
    y_test: np.ndarray  #: (7172,) uint8
    classes: tuple  #: the 24 letters, ('A', 'B', ..., 'Y') without J and Z


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_signs(path=None, verify: bool = True) -> SignData:
    """Load the Sign Language MNIST subset shipped with the repository.

    Parameters
    ----------
    path : str or Path, optional
        The ``.npz`` file; defaults to ``data/sign_mnist.npz`` of this repository,
        found from the package location (works from any working directory).
    verify : bool
        Check the SHA-256 of the file (default True). A different file can be
        loaded with ``verify=False``; its contents are still validated.

    Returns
    -------
    SignData
        Named tuple ``(x_train, y_train, x_test, y_test, classes)``.

    Raises
    ------
    DataFileError (a FileNotFoundError and a ValueError)
        If the file is missing, its checksum differs, or its contents are not the
        expected arrays. The message names the file and how to restore it.
    """
    path = DATA_PATH if path is None else Path(path)
    if not path.is_file():
        raise DataFileError(f"data file not found: {path}. {_RESTORE}")
    if verify:
        got = _sha256(path)
        if got != SHA256:
            raise DataFileError(
                f"data file {path} is corrupt or modified: its sha256 is {got}, expected "
                f"{SHA256}. {_RESTORE}"
            )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _KEYS}
    except Exception as exc:  # zip/npy format errors, missing keys, pickled objects
        raise DataFileError(
            f"data file {path} cannot be read as the sign dataset "
            f"({type(exc).__name__}: {exc}). {_RESTORE}"
        ) from exc
    for key, (dtype, ndim) in _KEYS.items():
        arr = arrays[key]
        if not np.issubdtype(arr.dtype, dtype) or arr.ndim != ndim:
            raise DataFileError(
                f"data file {path}: {key} has dtype {arr.dtype} and shape "
                f"{arr.shape}; expected {np.dtype(dtype).name} with {ndim} "
                f"dimension(s). {_RESTORE}"
            )
    n_classes = len(arrays["classes"])
    image_hw = arrays["x_train"].shape[1:]  # both splits hold images of one size
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.shape[1:] != image_hw or len(x) != len(y) or (y.size and y.max() >= n_classes):
            raise DataFileError(
                f"data file {path}: the {split} split is inconsistent "
                f"(images {x.shape}, labels {y.shape}). {_RESTORE}"
            )
    return SignData(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        tuple(str(c) for c in arrays["classes"]),
    )


def prepare_images(x, dtype=np.float64, image_hw=None) -> np.ndarray:
    """Stored uint8 images to the model's float NCHW input.

    ``(x / 255 - PIXEL_MEAN) / PIXEL_STD`` with a channel axis added, so that the
    training pixels have mean about 0 and standard deviation about 1.

    Parameters
    ----------
    x : uint8 array, shape (N, H, W) (or (H, W) for a single image)
        Stored images, e.g. ``load_signs().x_test`` (H = W = 28 for the shipped data).
    dtype : float32 or float64
    image_hw : (int, int), optional
        Required image size (H, W), e.g. ``model.input_shape[1:]``; by default any
        size is accepted.

    Returns
    -------
    ndarray, shape (N, 1, H, W)
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"x must be stored uint8 images (pixel values 0..255); got dtype "
            f"{x.dtype}. Pass the arrays returned by load_signs()."
        )
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or (image_hw is not None and x.shape[1:] != tuple(image_hw)):
        want = "(N, H, W) or (H, W)" if image_hw is None else f"(N, {image_hw[0]}, {image_hw[1]})"
        raise ValueError(f"x must have shape {want}; got {x.shape}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    # computed in float64 and rounded once, so float32 input is exactly the float64
    # input cast to float32 (whichever way a caller asks for it)
    return ((x[:, None] / 255.0 - PIXEL_MEAN) / PIXEL_STD).astype(dtype, copy=False)


# ------------------------------------------------------------------ checks
def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_max_shift(max_shift, image_hw):
    max_shift = as_int("max_shift", max_shift, 0)
    if max_shift >= min(image_hw):
        raise ValueError(
            f"max_shift must be smaller than the image size {min(image_hw)}; got {max_shift}"
        )
    return max_shift


def _check_fill(fill):
    if fill not in SHIFT_FILLS:
        raise ValueError(f"fill must be one of {SHIFT_FILLS}; got {fill!r}")
    return fill


# ------------------------------------------------------------------ augmentation
def random_shift(x, max_shift, rng, fill="edge"):
    """Shift every image by its own random integer offset (data augmentation).

    Image ``n`` is moved by ``(dy_n, dx_n)`` pixels, each drawn uniformly from
    ``-max_shift .. max_shift``: ``out[n, i, j] = x[n, i - dy_n, j - dx_n]`` where that
    pixel exists. The uncovered strip is filled according to ``fill``. Fully
    vectorized (one gather for the whole batch, no loop over images).

    Parameters
    ----------
    x : ndarray, shape (N, H, W) or (N, C, H, W), uint8 or floating
        Images; the last two axes are shifted, all channels of an image alike.
    max_shift : int, 0 <= max_shift < min(H, W)
        Largest shift in pixels along each axis (0 returns a copy of ``x``).
    rng : numpy.random.Generator
        Source of the offsets (seeded by the caller for reproducibility).
    fill : {"edge", "border_mean", "zero"}
        What the pixels moved in from outside the image become:

        * ``"edge"`` (default): the nearest pixel of the image (edge replication).
          The photos show hands in front of a background that continues past the
          frame, so replicating the border is the most natural guess;
        * ``"border_mean"``: the mean of the image's outermost ring of pixels, one
          constant per image (rounded for integer images);
        * ``"zero"``: 0, i.e. black, which these photos almost never contain at their
          borders (it creates a dark frame the test images do not have).

    Returns
    -------
    ndarray, same shape and dtype as ``x``

    Notes
    -----
    Measured on Sign Language MNIST with the notebook's recipe (seed 0, test accuracy
    on the 7,172 test images, ``max_shift=3``): after 60 epochs "edge" 98.6 % and
    "border_mean" 98.5 %; after 40 epochs "edge" 98.4 %, "border_mean" 98.2 % and
    "zero" 94.0 %. Without any shift the same training reaches 88.0 %.

    Examples
    --------
    >>> x = np.arange(9, dtype=np.uint8).reshape(1, 3, 3)
    >>> rng = np.random.default_rng(1)
    >>> random_shift(x, 1, rng, fill="zero").shape
    (1, 3, 3)
    """
    x = np.asarray(x)
    if x.dtype == bool or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise TypeError(f"x must be an array of uint8 or floating images; got dtype {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(f"x must have shape (N, H, W) or (N, C, H, W); got {x.shape}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values; expected finite images")
    H, W = x.shape[-2:]
    max_shift = _check_max_shift(max_shift, (H, W))
    rng = _check_rng(rng)
    fill = _check_fill(fill)
    N = x.shape[0]
    if max_shift == 0 or N == 0:
        return x.copy()
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, N))
    rows = np.arange(H)[None, :] - dy[:, None]  # (N, H) source rows
    cols = np.arange(W)[None, :] - dx[:, None]  # (N, W) source columns
    # edge replication: clip the source index into the image, then gather once
    rows_c = np.clip(rows, 0, H - 1)
    cols_c = np.clip(cols, 0, W - 1)
    n = np.arange(N)[:, None, None]
    if x.ndim == 3:
        out = x[n, rows_c[:, :, None], cols_c[:, None, :]]
    else:  # (N, C, H, W): gather on (N, H, W) positions, keep the channel axis
        out = x.transpose(0, 2, 3, 1)[n, rows_c[:, :, None], cols_c[:, None, :]]
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    if fill == "edge":
        return out
    outside = ((rows < 0) | (rows >= H))[:, :, None] | ((cols < 0) | (cols >= W))[:, None, :]
    if fill == "zero":
        value = np.zeros(N, dtype=x.dtype)
    else:
        ring = np.concatenate(
            [x[..., 0, :], x[..., -1, :], x[..., 1:-1, 0], x[..., 1:-1, -1]], axis=-1
        ).reshape(N, -1)
        value = ring.mean(axis=1, dtype=np.float64)
        if np.issubdtype(x.dtype, np.integer):
            value = np.rint(value)
        value = value.astype(x.dtype)
    if x.ndim == 3:
        out = np.where(outside, value[:, None, None], out)
    else:
        out = np.where(outside[:, None], value[:, None, None, None], out)
    return out


# ------------------------------------------------------------------ batching
def iterate_minibatches(n, batch_size, rng, shuffle=True, drop_last=False):
    """Yield index arrays that split ``range(n)`` into mini-batches.

    Parameters
    ----------
    n : int >= 1
        Number of samples.
    batch_size : int >= 1
    rng : numpy.random.Generator or None
        Shuffles the order (one permutation per call). ``None`` is allowed only
        with ``shuffle=False``.
    shuffle : bool, default True
    drop_last : bool, default False
        Skip the last, smaller batch when ``batch_size`` does not divide ``n``.

    Yields
    ------
    idx : ndarray of int64, shape (batch_size,) (the last one may be shorter)
        Every index appears exactly once per pass (unless dropped).
    """
    n = as_int("n", n, 1)
    batch_size = as_int("batch_size", batch_size, 1)
    if shuffle:
        order = _check_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
