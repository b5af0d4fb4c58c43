"""The fast path, once: batch-last kernels for convolution, pooling, activations and loss.

Every fast computation of the package runs through this module: the public NCHW
functions (``conv_forward``, ``max_pool_backward``, ``relu``, ``softmax_cross_entropy``,
...) are thin adapters over it, and so is the training engine behind
``ThreeLayerCNN.loss_and_grads(method="fast")``. The paper's explicit Jacobians live
elsewhere (``conv.py``, ``pool.py``, ...) and the tests check the two against each
other and against finite differences.

Layout: activations are **batch-last**, (C, H, W, N). Then

* im2col is kh*kw strided copies of contiguous (..., N) runs, and a convolution is one
  matrix product ``K (F, C kh kw) @ cols (C kh kw, h_z w_z N)``;
* pooling is one strided slice per window offset, visited in the paper's column-major
  window order, so the switches are the 0-based index into each window's vec.

Rules that every caller inherits from here (documented in ``pool.py``): padding is
with zeros and the zeros take part; ties go to the first maximum in column-major
window order; a maximum on the padding routes its gradient nowhere.

Large arrays come from a :class:`Workspace` (``ws``) and are reused from call to call
when the caller keeps one (the training engine does: allocating fresh multi-megabyte
arrays costs page faults that take longer than the arithmetic). ``ws=None`` allocates
fresh arrays, which is what the public functions do, so what they return is never a
reused buffer.
"""

from __future__ import annotations

import numpy as np


class Workspace:
    """Reusable scratch arrays keyed by (name, shape, dtype)."""

    def __init__(self, max_entries: int = 64):
        self._arrays = {}
        self._max = max_entries

    def empty(self, name, shape, dtype):
        key = (name, tuple(shape), np.dtype(dtype).str)
        arr = self._arrays.get(key)
        if arr is None:
            if len(self._arrays) >= self._max:
                self._arrays.clear()
            arr = self._arrays[key] = np.empty(shape, dtype=dtype)
        return arr

    def zeros(self, name, shape, dtype):
        arr = self.empty(name, shape, dtype)
        arr.fill(0)
        return arr


def _empty(ws, name, shape, dtype):
    return np.empty(shape, dtype) if ws is None else ws.empty(name, shape, dtype)


def _zeros(ws, name, shape, dtype):
    return np.zeros(shape, dtype) if ws is None else ws.zeros(name, shape, dtype)


def _strided(offset, step, count):
    """The slice offset, offset + step, ..., count entries."""
    return slice(offset, offset + step * (count - 1) + 1, step)


def pad(X, pad_hw, ws=None, tag=""):
    """Zero-padded copy of a (C, H, W, N) array, or X itself when there is no padding."""
    ph, pw = pad_hw
    if ph == 0 and pw == 0:
        return X
    C, H, W, N = X.shape
    Xp = _empty(ws, tag + "pad", (C, H + 2 * ph, W + 2 * pw, N), X.dtype)
    Xp[:, :ph] = 0
    Xp[:, H + ph :] = 0
    Xp[:, ph : H + ph, :pw] = 0
    Xp[:, ph : H + ph, W + pw :] = 0
    Xp[:, ph : H + ph, pw : W + pw] = X
    return Xp


# ------------------------------------------------------------------ convolution
def im2col(X, kernel_hw, pad_hw, stride, out_hw, ws=None, tag=""):
    """The windows of X (C, H, W, N) as columns: (C kh kw, h_z w_z N).

    Row (c, r, s) of the result, column (p, q, n), holds
    ``X_padded[c, p*sh + r, q*sw + s, n]``: the M_i matrix of the paper's §3.1.5
    (one block of rows per input channel).
    """
    C, _, _, N = X.shape
    (kh, kw), (sh, sw), (hz, wz) = kernel_hw, stride, out_hw
    Xp = pad(X, pad_hw, ws, tag)
    cols = _empty(ws, tag + "cols", (C, kh, kw, hz, wz, N), X.dtype)
    for r in range(kh):
        for s in range(kw):
            cols[:, r, s] = Xp[:, _strided(r, sh, hz), _strided(s, sw, wz)]
    return cols.reshape(C * kh * kw, hz * wz * N)


def conv_forward(X, K, b, pad_hw, stride, out_hw, ws=None, tag=""):
    """X (C, H, W, N) -> Z (F, h_z, w_z, N) and the im2col matrix (C kh kw, h_z w_z N).

    ``Z_j = sum_i X_i * K_{j,i} + b_j`` (cross-correlation, paper §2).
    """
    F, _, kh, kw = K.shape
    (hz, wz), N = out_hw, X.shape[3]
    cols = im2col(X, (kh, kw), pad_hw, stride, out_hw, ws, tag)
    Z = _empty(ws, tag + "Z", (F, hz * wz * N), X.dtype)
    np.matmul(K.reshape(F, -1), cols, out=Z)  # (F, hz wz N)
    Z += b[:, None]
    return Z.reshape(F, hz, wz, N), cols


def conv_backward(dZ, cols, K, input_shape, pad_hw, stride, input_grad=True, ws=None, tag=""):
    """dZ (F, h_z, w_z, N) -> (dX (C, H, W, N) or None, dK like K, db (F,)).

    ``cols`` is the im2col matrix of the forward pass. dK is dZ times cols^T (the
    transpose of eq. a1-3, summed over samples); dX folds K^T dZ back onto the input
    (the transpose of eq. a2-3): a transposed convolution.
    """
    F, hz, wz, N = dZ.shape
    _, C, kh, kw = K.shape
    dZ2 = dZ.reshape(F, -1)  # (F, hz wz N)
    dK = (dZ2 @ cols.T).reshape(K.shape)  # (F, C, kh, kw)
    db = dZ2.sum(axis=1)
    if not input_grad:
        return None, dK, db
    dcols = _empty(ws, tag + "dcols", (C * kh * kw, hz * wz * N), dZ.dtype)
    np.matmul(K.reshape(F, -1).T, dZ2, out=dcols)
    dcols = dcols.reshape(C, kh, kw, hz, wz, N)
    (ph, pw), (sh, sw) = pad_hw, stride
    _, H, W, _ = input_shape
    dXp = _zeros(ws, tag + "dXp", (C, H + 2 * ph, W + 2 * pw, N), dZ.dtype)
    for r in range(kh):
        for s in range(kw):
            dXp[:, _strided(r, sh, hz), _strided(s, sw, wz)] += dcols[:, r, s]
    return dXp[:, ph : ph + H, pw : pw + W], dK, db


# ---------------------------------------------------------------------- pooling
def pool_forward(I, kind, window, pad_hw, stride, out_hw, ws=None, tag=""):
    """I (C, H, W, N) -> (A (C, h_a, w_a, N), switches (int16, same shape) or None).

    Window offsets are visited in column-major order (k = r + s h_l) and a later offset
    replaces the running maximum only when strictly larger: ties go to the first
    maximum in the window's vec. Average pooling divides by the full window size (the
    padded zeros count).
    """
    (hl, wl), (sh, sw), (ha, wa) = window, stride, out_hw
    Ip = pad(I, pad_hw, ws, tag)
    C, N = I.shape[0], I.shape[3]
    views = [
        Ip[:, _strided(r, sh, ha), _strided(s, sw, wa)] for s in range(wl) for r in range(hl)
    ]  # column-major window offsets
    A = _empty(ws, tag + "A", (C, ha, wa, N), I.dtype)
    np.copyto(A, views[0])
    if kind == "avg":
        for view in views[1:]:
            A += view
        A *= 1.0 / (hl * wl)
        return A, None
    switches = _zeros(ws, tag + "switches", (C, ha, wa, N), np.int16)
    better = _empty(ws, tag + "better", (C, ha, wa, N), bool)
    step = _empty(ws, tag + "step", (C, ha, wa, N), np.int16)
    for k, view in enumerate(views[1:], start=1):
        np.greater(view, A, out=better)  # strictly: an equal later value is no better
        np.maximum(A, view, out=A)
        # switches = where(better, k, switches), as arithmetic (masked copies are slow)
        np.subtract(k, switches, out=step)
        step *= better
        switches += step
    return A, switches


def pool_backward(dA, switches, kind, window, pad_hw, stride, input_shape, ws=None, tag=""):
    """dA (C, h_a, w_a, N) -> dI (C, H, W, N); gradient routed to padding is dropped.

    Average pooling distributes dA / (h_l w_l) over each window; max pooling routes dA
    to the one entry its switch points at (Appendix B). Overlapping windows add up.
    """
    (hl, wl), (ph, pw), (sh, sw) = window, pad_hw, stride
    C, H, W, N = input_shape
    _, ha, wa, _ = dA.shape
    padded = (C, H + 2 * ph, W + 2 * pw, N)
    # windows that do not overlap each write their own pixels: assign instead of add,
    # and zero-fill only when some pixels are covered by no window
    disjoint = sh >= hl and sw >= wl
    covered = disjoint and (ha * sh, wa * sw) == padded[1:3] and (sh, sw) == (hl, wl)
    dIp = (_empty if covered else _zeros)(ws, tag + "dIp", padded, dA.dtype)
    if kind == "avg":
        share = dA * (1.0 / (hl * wl))
    elif not disjoint:
        routed = _empty(ws, tag + "routed", dA.shape, dA.dtype)
    k = 0
    for s in range(wl):
        for r in range(hl):
            target = dIp[:, _strided(r, sh, ha), _strided(s, sw, wa)]
            if kind == "avg":
                if disjoint:
                    target[...] = share
                else:
                    target += share
            elif disjoint:
                np.multiply(dA, switches == k, out=target)
            else:
                np.multiply(dA, switches == k, out=routed)
                target += routed
            k += 1
    return dIp[:, ph : ph + H, pw : pw + W]


# ------------------------------------------------------------------ activations
def relu(Z, out=None):
    """max(Z, 0), element-wise, into ``out`` (a new array by default)."""
    return np.maximum(Z, 0, out=out)


def relu_grad_from_output(I):
    """ReLU's derivative from its output I = relu(Z): 1 where Z > 0 (the kink gets 0)."""
    return I > 0


def sigmoid(Z, out=None):
    """1 / (1 + exp(-Z)), element-wise, into ``out``, with no overflow warning."""
    out = np.negative(Z, out=out)
    with np.errstate(over="ignore"):  # exp(-Z) overflows to inf for very negative Z ...
        np.exp(out, out=out)
    out += 1  # ... and 1 / inf = 0 is the correct limit
    return np.reciprocal(out, out=out)


def sigmoid_grad_from_output(I):
    """The sigmoid's derivative from its output I = s(Z): s (1 - s)."""
    return I * (1 - I)


def tanh(Z, out=None):
    """tanh(Z), element-wise, into ``out``."""
    return np.tanh(Z, out=out)


def tanh_grad_from_output(I):
    """tanh's derivative from its output I = tanh(Z): 1 - tanh^2."""
    return 1 - I * I


#: name -> (f(Z, out), f' computed from f(Z), whether f(0) == 0)
ACTIVATIONS = {
    "relu": (relu, relu_grad_from_output, True),
    "sigmoid": (sigmoid, sigmoid_grad_from_output, False),
    "tanh": (tanh, tanh_grad_from_output, True),
}


# ------------------------------------------------------------------------- loss
def softmax_cross_entropy(Z, y):
    """Mean softmax cross-entropy of logits Z (n_classes, N), samples as columns.

    Returns the loss and dJ/dZ = (softmax(Z) - onehot(y)) / N, shape (n_classes, N)
    (the paper's (a - y)^T of §3.1.1 for each sample, averaged). The column maximum
    is subtracted first, so logits of size 1e3 neither overflow nor give NaN.
    """
    N = Z.shape[1]
    shifted = Z - Z.max(axis=0, keepdims=True)  # (n, N), max 0 per column
    expZ = np.exp(shifted)
    sums = expZ.sum(axis=0)
    cols = np.arange(N)
    loss = float(np.mean(np.log(sums) - shifted[y, cols]))
    dZ = expZ / sums  # softmax
    dZ[y, cols] -= 1
    dZ /= N
    return loss, dZ


def softmax(Z, axis=0):
    """softmax of Z along ``axis`` (the classes), the maximum subtracted first."""
    e = np.exp(Z - Z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
