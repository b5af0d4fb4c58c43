"""Sliding windows and their adjoint: the shared engine of the fast path.

Convolution (cross-correlation) and both poolings look at the same thing: the
(kh, kw) windows of a zero-padded input, taken every (sh, sw) pixels. ``windows``
returns them as a strided *view* (no copy); ``fold`` is its adjoint, adding each
window's values back to the pixels they came from, which is what every backward
pass needs. All functions act on the last two axes and keep any leading axes.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import as_pair


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
                f"pad {tuple(pad)}, stride {tuple(stride)})")
        out.append((n + 2 * p - k) // s + 1)
    return out[0], out[1]


def pad2d(x: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """Zero-pad the last two axes by ``pad = (ph, pw)`` on each side."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, widths)


def unpad2d(xp: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """Drop ``pad`` rows/columns from each side of the last two axes."""
    ph, pw = pad
    h, w = xp.shape[-2:]
    return xp[..., ph:h - ph, pw:w - pw]


def windows(xp: np.ndarray, kernel_hw: tuple[int, int], stride: tuple[int, int],
            out_hw: tuple[int, int]) -> np.ndarray:
    """Strided view of the windows of an already padded array.

    Parameters
    ----------
    xp : ndarray, shape (..., Hp, Wp)
    kernel_hw, stride, out_hw : (h, w) int pairs

    Returns
    -------
    view : ndarray, shape (..., h_out, w_out, kh, kw)
        ``view[..., p, q, r, s] == xp[..., p*sh + r, q*sw + s]``.
    """
    kh, kw = kernel_hw
    sh, sw = stride
    ho, wo = out_hw
    view = sliding_window_view(xp, (kh, kw), axis=(-2, -1))
    return view[..., :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw, :, :]


def fold(cols: np.ndarray, padded_hw: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Adjoint of :func:`windows`: scatter-add window values back onto the input.

    Parameters
    ----------
    cols : ndarray, shape (..., h_out, w_out, kh, kw)
    padded_hw : (Hp, Wp), the padded input size
    stride : (sh, sw)

    Returns
    -------
    ndarray, shape (..., Hp, Wp)
        ``out[..., p*sh + r, q*sw + s] += cols[..., p, q, r, s]``. Pixels that no
        window covers (when the sizes do not divide evenly) stay zero.

    Notes
    -----
    The loop runs over the kh*kw kernel offsets only (9 for a 3x3 kernel); each
    iteration is one vectorized strided addition over the whole batch.
    """
    *lead, ho, wo, kh, kw = cols.shape
    sh, sw = stride
    out = np.zeros((*lead, *padded_hw), dtype=cols.dtype)
    for r in range(kh):
        for s in range(kw):
            out[..., r:r + (ho - 1) * sh + 1:sh, s:s + (wo - 1) * sw + 1:sw] += cols[..., r, s]
    return out


def geometry(input_hw, kernel_hw, pad, stride, kernel_name="kernel_hw"):
    """Validate a window geometry and return (kernel_hw, pad, stride, out_hw) as int pairs."""
    kernel_hw = as_pair(kernel_name, kernel_hw, 1)
    pad = as_pair("pad", pad, 0)
    stride = as_pair("stride", stride, 1)
    return kernel_hw, pad, stride, output_hw(input_hw, kernel_hw, pad, stride, kernel_name)
