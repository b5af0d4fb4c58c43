"""Sign Language MNIST as shipped in ``data/`` (24 letters, 28x28 grayscale).

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

__all__ = ["SignData", "load_signs", "prepare_images", "DATA_PATH", "SHA256",
           "PIXEL_MEAN", "PIXEL_STD", "DataFileError"]

#: default location: ``data/sign_mnist.npz`` at the top of the repository
DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "sign_mnist.npz"
#: SHA-256 of the shipped file (see data/README.md)
SHA256 = "6c083ef851fd3ff67b379c42e947c80f460800645b0b976211b9ed421433a9f5"
#: mean and standard deviation of the training pixels scaled to [0, 1]
#: (0.6253 and 0.1918, rounded); fixed constants so that every caller agrees
PIXEL_MEAN = 0.625
PIXEL_STD = 0.192

_RESTORE = ("Restore it from the repository with `git checkout -- data/sign_mnist.npz` "
            "(or a fresh clone); data/README.md describes its provenance.")
_KEYS = {"x_train": (np.uint8, 3), "y_train": (np.uint8, 1),
         "x_test": (np.uint8, 3), "y_test": (np.uint8, 1), "classes": (np.str_, 1)}


class DataFileError(FileNotFoundError, ValueError):
    """The data file is missing, corrupt or not the expected file.

    Subclasses both FileNotFoundError and ValueError, so either can be caught.
    """


class SignData(NamedTuple):
    """The dataset splits as stored (see data/README.md)."""

    x_train: np.ndarray  #: (4560, 28, 28) uint8
    y_train: np.ndarray  #: (4560,) uint8 class indices 0..23
    x_test: np.ndarray   #: (7172, 28, 28) uint8, the complete official test split
    y_test: np.ndarray   #: (7172,) uint8
    classes: tuple       #: the 24 letters, ('A', 'B', ..., 'Y') without J and Z


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
                f"{SHA256}. {_RESTORE}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _KEYS}
    except Exception as exc:  # zip/npy format errors, missing keys, pickled objects
        raise DataFileError(f"data file {path} cannot be read as the sign dataset "
                            f"({type(exc).__name__}: {exc}). {_RESTORE}") from exc
    for key, (dtype, ndim) in _KEYS.items():
        arr = arrays[key]
        if not np.issubdtype(arr.dtype, dtype) or arr.ndim != ndim:
            raise DataFileError(f"data file {path}: {key} has dtype {arr.dtype} and shape "
                                f"{arr.shape}; expected {np.dtype(dtype).name} with {ndim} "
                                f"dimension(s). {_RESTORE}")
    n_classes = len(arrays["classes"])
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.shape[1:] != (28, 28) or len(x) != len(y) or (y.size and y.max() >= n_classes):
            raise DataFileError(f"data file {path}: the {split} split is inconsistent "
                                f"(images {x.shape}, labels {y.shape}). {_RESTORE}")
    return SignData(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                    tuple(str(c) for c in arrays["classes"]))


def prepare_images(x, dtype=np.float64) -> np.ndarray:
    """Stored uint8 images to the model's float NCHW input.

    ``(x / 255 - PIXEL_MEAN) / PIXEL_STD`` with a channel axis added, so that the
    training pixels have mean about 0 and standard deviation about 1.

    Parameters
    ----------
    x : uint8 array, shape (N, 28, 28) (or (28, 28) for a single image)
    dtype : float32 or float64

    Returns
    -------
    ndarray, shape (N, 1, 28, 28)
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"x must be stored uint8 images (pixel values 0..255); got dtype "
                        f"{x.dtype}. Pass the arrays returned by load_signs().")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"x must have shape (N, 28, 28) or (28, 28); got {x.shape}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    # computed in float64 and rounded once, so float32 input is exactly the float64
    # input cast to float32 (whichever way a caller asks for it)
    return ((x[:, None] / 255.0 - PIXEL_MEAN) / PIXEL_STD).astype(dtype, copy=False)
