"""Average and max pooling with zero padding: paper §3.1.3 and Appendix B.

Conventions (CONTRIBUTING.md, "Conventions"):

* Padding is with **zeros**, and padded zeros take part: average pooling divides by
  the full window size h_l*w_l, and max pooling compares with the zeros
  (``max{0, I11, I21}`` in Appendix B). PyTorch pads max pooling with -inf instead,
  so the two differ when a window over the border holds only negative values.
* **Switches** are the 0-based index of the maximum inside its window's
  *column-major* vec (the paper's 1-based i_pq minus one). Ties go to the first
  maximum in that order. A maximum that falls on padding routes its gradient
  nowhere: padding is not an input.
* Window, pad and stride are (h, w) pairs (an int means both); ``pad`` defaults to
  (0, 0) and ``stride`` to the window.
"""

from __future__ import annotations

import numpy as np

from typing import NamedTuple

from . import _kernels as kern
from ._checks import as_array, as_int_array, as_pair, as_shape, check_shape
from .conv import Geometry, conv_jacobian_input, geometry, to_batch_last, to_nchw

__all__ = [
    "avg_pool_forward",
    "avg_pool_backward",
    "avg_pool_jacobian",
    "max_pool_forward",
    "max_pool_backward",
    "max_pool_mask",
]


def _pool_geometry(input_hw, window, pad, stride) -> Geometry:
    window = as_pair("window", window, 1)
    stride = window if stride is None else stride
    return geometry(input_hw, window, pad, stride, "window")


class _Backward(NamedTuple):
    """Validated arguments of a pooling backward pass."""

    dA: np.ndarray  # (N, C, h_a, w_a)
    input_shape: tuple  # (N, C, H, W)
    geometry: Geometry  # window (as kernel_hw), pad, stride, out_hw


def _backward_args(dA, input_shape, window, pad, stride) -> _Backward:
    input_shape = as_shape("input_shape", input_shape, 4)
    g = _pool_geometry(input_shape[2:], window, pad, stride)
    dA = as_array("dA", dA, ndim=4)
    check_shape("dA", dA, (*input_shape[:2], *g.out_hw))
    return _Backward(dA, input_shape, g)


def _forward(I, kind, window, pad, stride):
    """Validate and pool NCHW images I with the batch-last kernel."""
    I = as_array("I", I, ndim=4)
    g = _pool_geometry(I.shape[2:], window, pad, stride)
    A, switches = kern.pool_forward(to_batch_last(I), kind, g.kernel_hw, g.pad, g.stride, g.out_hw)
    return to_nchw(A), None if switches is None else to_nchw(switches).astype(np.int64)


def _backward(args: _Backward, kind, switches=None):
    g, (N, C, H, W) = args.geometry, args.input_shape
    S = None if switches is None else to_batch_last(switches)
    dI = kern.pool_backward(
        to_batch_last(args.dA), S, kind, g.kernel_hw, g.pad, g.stride, (C, H, W, N)
    )
    return to_nchw(dI)


def avg_pool_forward(I, window, pad=(0, 0), stride=None) -> np.ndarray:
    """Average pooling, §3.1.3: ``A_j = I_j * P`` with P = 1/(h_l w_l) everywhere.

    Parameters
    ----------
    I : array_like, shape (N, C, H, W)
    window : (h_l, w_l)
    pad : (h_p, w_p), zero padding (padded zeros count in the average)
    stride : (h_s, w_s), default ``window``

    Returns
    -------
    A : ndarray, shape (N, C, h_a, w_a)
    """
    return _forward(I, "avg", window, pad, stride)[0]


def avg_pool_backward(dA, input_shape, window, pad=(0, 0), stride=None) -> np.ndarray:
    """Gradient of average pooling: every input in a window receives dA / (h_l w_l).

    Parameters
    ----------
    dA : array_like, shape (N, C, h_a, w_a)
    input_shape : (N, C, H, W), the shape of the pooled input I
    window, pad, stride : as in :func:`avg_pool_forward`

    Returns
    -------
    dI : ndarray, shape (N, C, H, W)
        The transpose of :func:`avg_pool_jacobian` applied to each channel of dA.
    """
    return _backward(_backward_args(dA, input_shape, window, pad, stride), "avg")


def avg_pool_jacobian(input_hw, window, pad=(0, 0), stride=None) -> np.ndarray:
    """d vec(A_j) / d vec(I_j) of average pooling for one channel (§3.1.3).

    Column k is ``vec(dI_j/dI_pq * P)``: a one-hot input correlated with the constant
    kernel P, with the pooling's padding and stride. This is the convolution input
    Jacobian of Appendix A with beta = P, and it is the same for every channel j.

    Parameters
    ----------
    input_hw : (h_i, w_i)
    window, pad, stride : as in :func:`avg_pool_forward`

    Returns
    -------
    J : ndarray, shape (h_a*w_a, h_i*w_i)
    """
    input_hw = as_pair("input_hw", input_hw, 1)
    g = _pool_geometry(input_hw, window, pad, stride)
    (hl, wl) = g.kernel_hw
    P = np.full((hl, wl), 1.0 / (hl * wl))
    return conv_jacobian_input(P, input_hw, g.pad, g.stride)


def max_pool_forward(I, window, pad=(0, 0), stride=None):
    """Max pooling with zero padding, storing the switches (§3.1.3, Appendix B).

    Parameters
    ----------
    I : array_like, shape (N, C, H, W)
    window : (h_l, w_l)
    pad : (h_p, w_p), zero padding (the zeros take part in the maximum)
    stride : (h_s, w_s), default ``window``

    Returns
    -------
    A : ndarray, shape (N, C, h_a, w_a)
    switches : ndarray of int64, shape (N, C, h_a, w_a)
        0-based index i_pq - 1 of the maximum in the column-major vec of its
        window; ties go to the first maximum in that order.
    """
    return _forward(I, "max", window, pad, stride)


def _check_switches(switches, expected_shape, window):
    switches = as_int_array("switches", switches, ndim=len(expected_shape))
    check_shape("switches", switches, expected_shape)
    size = window[0] * window[1]
    if switches.size and (switches.min() < 0 or switches.max() >= size):
        raise ValueError(
            f"switches must be 0-based indices into a {window[0]}x{window[1]} window "
            f"(0..{size - 1}); got values from {switches.min()} to {switches.max()}"
        )
    return switches


def max_pool_backward(dA, switches, input_shape, window, pad=(0, 0), stride=None) -> np.ndarray:
    """Route each dA entry to the input its switch points at (vectorized Appendix B).

    Parameters
    ----------
    dA : array_like, shape (N, C, h_a, w_a)
    switches : int array, shape (N, C, h_a, w_a), from :func:`max_pool_forward`
    input_shape : (N, C, H, W)
    window, pad, stride : as in the forward pass

    Returns
    -------
    dI : ndarray, shape (N, C, H, W)
        Overlapping windows add up; gradient routed to padding is dropped.
    """
    args = _backward_args(dA, input_shape, window, pad, stride)
    switches = _check_switches(switches, args.dA.shape, args.geometry.kernel_hw)
    return _backward(args, "max", switches)


def max_pool_mask(switches, input_hw, window, pad=(0, 0), stride=None) -> np.ndarray:
    """Appendix B's mask d vec(A) / d vec(I) for one channel, from the switches.

    For each output A_pq (1-based, as in the paper) with switch i_pq:

    * eq. b-2.1, position inside the window: ``c_b = ceil(i_pq / h_l)``,
      ``r_b = i_pq - (c_b - 1) h_l``;
    * eq. b-2.2, the window's top-left entry in I: ``r_t = 1 + h_s (p - 1) - h_p``,
      ``c_t = 1 + w_s (q - 1) - w_p``;
    * eq. b-2.3 (garbled in the paper's text), the entry of I:
      ``r_i = r_t + r_b - 1``, ``c_i = c_t + c_b - 1``.

    The row of A_pq, at position ``(q - 1) h_a + p`` of vec(A), has a single 1 at
    column ``j = (c_i - 1) h_i + r_i``, unless (r_i, c_i) lies on the padding, in
    which case the row is zero (padding is not an input).

    Parameters
    ----------
    switches : int array, shape (h_a, w_a)
        One channel of the switches returned by :func:`max_pool_forward`
        (0-based: the paper's i_pq is ``switches + 1``).
    input_hw : (h_i, w_i)
    window, pad, stride : as in the forward pass

    Returns
    -------
    M : ndarray, shape (h_a*w_a, h_i*w_i)
    """
    input_hw = as_pair("input_hw", input_hw, 1)
    g = _pool_geometry(input_hw, window, pad, stride)
    switches = _check_switches(switches, g.out_hw, g.kernel_hw)
    (hi, wi), (hl, _), (hp, wp), (hs, ws), (ha, wa) = input_hw, *g
    p, q = np.meshgrid(np.arange(1, ha + 1), np.arange(1, wa + 1), indexing="ij")
    i_pq = switches + 1  # the paper's 1-based index
    c_b = -(-i_pq // hl)  # eq. b-2.1: ceil(i_pq / h_l)
    r_b = i_pq - (c_b - 1) * hl
    r_t = 1 + hs * (p - 1) - hp  # eq. b-2.2
    c_t = 1 + ws * (q - 1) - wp
    r_i = r_t + r_b - 1  # eq. b-2.3
    c_i = c_t + c_b - 1
    on_input = (r_i >= 1) & (r_i <= hi) & (c_i >= 1) & (c_i <= wi)
    row = (q - 1) * ha + p  # 1-based position in vec(A)
    col = (c_i - 1) * hi + r_i  # 1-based position in vec(I)
    M = np.zeros((ha * wa, hi * wi))
    M[row[on_input] - 1, col[on_input] - 1] = 1.0
    return M
