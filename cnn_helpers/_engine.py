"""Batch-last training engine behind ``ThreeLayerCNN.loss_and_grads(method="fast")``.

The public functions (``conv_forward``, ``max_pool_backward``, ...) take and return
NCHW arrays, which is the natural layout to read. For training, this module keeps
every activation **batch-last**, (C, H, W, N), internally:

* im2col is then kh*kw copies of contiguous (..., N) runs, and a convolution is one
  matrix product ``K (F, C kh kw) @ cols (C kh kw, h_z w_z N)``;
* the fully connected layer is literally the paper's ``Z3 = W3^T B2 + b3`` with the
  samples as columns of B2, and the flatten of §3.1.2 is one transpose;
* pooling is a handful of strided slices (one per window offset), with the switches
  kept as small integers in the paper's column-major window order;
* with max pooling and a monotone activation, pooling comes *before* the activation
  (max and a non-decreasing f commute: f(max z) = max f(z)), so the activation and
  its derivative touch a tensor h_l*w_l times smaller;
* large intermediate arrays live in a per-model :class:`Workspace` and are reused
  from step to step: allocating fresh multi-megabyte arrays costs page faults that
  take longer than the arithmetic.

The maths is the same as the public fast path and the explicit Jacobians; the test
suite checks all three against each other and against finite differences.
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


def _strided(offset, step, count):
    return slice(offset, offset + step * (count - 1) + 1, step)


# activation kernels on raw arrays: f(Z, out) and f'(Z) computed from the output f(Z)
def _relu(Z, out):
    return np.maximum(Z, 0, out=out)


def _relu_grad_from_output(I):
    return I > 0


def _sigmoid(Z, out):
    np.negative(Z, out=out)
    with np.errstate(over="ignore"):  # exp(-Z) overflows to inf for Z < -88 (float32) ...
        np.exp(out, out=out)
    out += 1                          # ... and 1 / inf = 0 is the correct limit
    return np.reciprocal(out, out=out)


def _sigmoid_grad_from_output(I):
    return I * (1 - I)


def _tanh(Z, out):
    return np.tanh(Z, out=out)


def _tanh_grad_from_output(I):
    return 1 - I * I


_KERNELS = {
    "relu": (_relu, _relu_grad_from_output, True),        # (f, f' from f, f(0) == 0)
    "sigmoid": (_sigmoid, _sigmoid_grad_from_output, False),
    "tanh": (_tanh, _tanh_grad_from_output, True),
}


def _padded(ws, name, X, pad):
    """Zero-padded copy of a (C, H, W, N) array in a workspace buffer (or X itself)."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return X
    C, H, W, N = X.shape
    Xp = ws.empty(name, (C, H + 2 * ph, W + 2 * pw, N), X.dtype)
    Xp[:, :ph] = 0
    Xp[:, H + ph:] = 0
    Xp[:, ph:H + ph, :pw] = 0
    Xp[:, ph:H + ph, W + pw:] = 0
    Xp[:, ph:H + ph, pw:W + pw] = X
    return Xp


def conv_forward(ws, tag, X, K, b, pad, stride, out_hw):
    """X (C, H, W, N) -> Z (F, h_z, w_z, N) and the im2col matrix (C kh kw, h_z w_z N)."""
    C, _, _, N = X.shape
    F, _, kh, kw = K.shape
    (sh, sw), (hz, wz) = stride, out_hw
    Xp = _padded(ws, tag + "pad", X, pad)
    cols = ws.empty(tag + "cols", (C, kh, kw, hz, wz, N), X.dtype)
    for r in range(kh):
        for s in range(kw):
            cols[:, r, s] = Xp[:, _strided(r, sh, hz), _strided(s, sw, wz)]
    cols = cols.reshape(C * kh * kw, hz * wz * N)
    Z = ws.empty(tag + "Z", (F, hz * wz * N), X.dtype)
    np.matmul(K.reshape(F, -1), cols, out=Z)                     # (F, hz wz N)
    Z += b[:, None]
    return Z.reshape(F, hz, wz, N), cols


def conv_backward(ws, tag, dZ, cols, K, input_shape, pad, stride, input_grad=True):
    """dZ (F, h_z, w_z, N) -> (dX (C, H, W, N) or None, dK like K, db (F,))."""
    F, hz, wz, N = dZ.shape
    _, C, kh, kw = K.shape
    dZ2 = dZ.reshape(F, -1)                                      # (F, hz wz N)
    dK = (dZ2 @ cols.T).reshape(K.shape)                         # (F, C, kh, kw)
    db = dZ2.sum(axis=1)
    if not input_grad:
        return None, dK, db
    dcols = ws.empty(tag + "dcols", (C * kh * kw, hz * wz * N), dZ.dtype)
    np.matmul(K.reshape(F, -1).T, dZ2, out=dcols)
    dcols = dcols.reshape(C, kh, kw, hz, wz, N)
    (ph, pw), (sh, sw) = pad, stride
    _, H, W, _ = input_shape
    dXp = ws.zeros(tag + "dXp", (C, H + 2 * ph, W + 2 * pw, N), dZ.dtype)
    for r in range(kh):
        for s in range(kw):
            dXp[:, _strided(r, sh, hz), _strided(s, sw, wz)] += dcols[:, r, s]
    return dXp[:, ph:ph + H, pw:pw + W], dK, db


def pool_forward(ws, tag, I, kind, window, pad, stride, out_hw):
    """I (C, H, W, N) -> (A (C, h_a, w_a, N), switches or None).

    Window offsets are visited in column-major order (k = r + s h_l), and a later
    offset replaces the running maximum only when strictly larger, so ties go to
    the first maximum in the window's vec, as in ``pool.max_pool_forward``.
    """
    (hl, wl), (sh, sw), (ha, wa) = window, stride, out_hw
    Ip = _padded(ws, tag + "pad", I, pad)
    C, N = I.shape[0], I.shape[3]
    views = [Ip[:, _strided(r, sh, ha), _strided(s, sw, wa)]
             for s in range(wl) for r in range(hl)]              # column-major offsets
    A = ws.empty(tag + "A", (C, ha, wa, N), I.dtype)
    np.copyto(A, views[0])
    if kind == "avg":
        for view in views[1:]:
            A += view
        A *= 1.0 / (hl * wl)
        return A, None
    switches = ws.zeros(tag + "switches", (C, ha, wa, N), np.int16)
    better = ws.empty(tag + "better", (C, ha, wa, N), bool)
    step = ws.empty(tag + "step", (C, ha, wa, N), np.int16)
    for k, view in enumerate(views[1:], start=1):
        np.greater(view, A, out=better)
        np.maximum(A, view, out=A)
        # switches = where(better, k, switches), as arithmetic (masked copies are slow)
        np.subtract(k, switches, out=step)
        step *= better
        switches += step
    return A, switches


def pool_backward(ws, tag, dA, switches, kind, window, pad, stride, input_shape):
    """dA (C, h_a, w_a, N) -> dI (C, H, W, N); gradient routed to padding is dropped."""
    (hl, wl), (ph, pw), (sh, sw) = window, pad, stride
    C, H, W, N = input_shape
    _, ha, wa, _ = dA.shape
    padded = (C, H + 2 * ph, W + 2 * pw, N)
    # windows that do not overlap each write their own pixels: assign instead of add,
    # and zero-fill only when some pixels are covered by no window
    disjoint = sh >= hl and sw >= wl
    covered = disjoint and (ha * sh, wa * sw) == padded[1:3] and (sh, sw) == (hl, wl)
    dIp = ws.empty(tag + "dIp", padded, dA.dtype) if covered else ws.zeros(
        tag + "dIp", padded, dA.dtype)
    if kind == "avg":
        share = dA * (1.0 / (hl * wl))
    elif not disjoint:
        routed = ws.empty(tag + "routed", dA.shape, dA.dtype)
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
    return dIp[:, ph:ph + H, pw:pw + W]


def _forward(model, X):
    """Conv blocks on NCHW images X; returns B2 (n_flat, N) and the per-layer caches."""
    p, ws = model.params, model._workspace
    f = _KERNELS[model.activation][0]
    f_zero_at_zero = _KERNELS[model.activation][2]
    N = X.shape[0]
    A = ws.empty("X", X.shape[1:] + (N,), X.dtype)
    np.copyto(A, X.transpose(1, 2, 3, 0))                        # (C, H, W, N)
    caches = []
    for k, layer in enumerate(model.layers, start=1):
        tag = f"L{k}"
        Z, cols = conv_forward(ws, tag, A, p[f"K{k}"], p[f"b{k}"], layer.pad, layer.stride,
                               layer.z_hw)                       # (F, hz, wz, N)
        # max pooling commutes with a non-decreasing activation (padding zeros too
        # when f(0) == 0): pool first, then apply f to the smaller tensor
        pool_first = model.pool == "max" and (f_zero_at_zero or layer.pool_pad == (0, 0))
        if pool_first:
            P, switches = pool_forward(ws, tag, Z, "max", layer.window, layer.pool_pad,
                                       layer.pool_stride, layer.a_hw)
            A_next = act_out = f(P, ws.empty(tag + "act", P.shape, P.dtype))
        else:
            act_out = f(Z, ws.empty(tag + "act", Z.shape, Z.dtype))
            A_next, switches = pool_forward(ws, tag, act_out, model.pool, layer.window,
                                            layer.pool_pad, layer.pool_stride, layer.a_hw)
        caches.append((A.shape, cols, Z.shape, switches, pool_first, act_out))
        A = A_next
    C2, ha, wa, _ = A.shape
    B2 = A.transpose(0, 2, 1, 3).reshape(C2 * wa * ha, N)        # §3.1.2, samples as columns
    return B2, caches


def logits(model, X):
    """Z3 for NCHW images X, shape (N, n_classes) (the forward pass only)."""
    B2, _ = _forward(model, X)
    return (model.params["W3"].T @ B2 + model.params["b3"][:, None]).T


def loss_and_grads(model, X, y):
    """Mean softmax cross-entropy and gradients of ``model`` on NCHW images X.

    ``X`` must already be validated and of the model's dtype; ``y`` validated labels.
    """
    p, ws = model.params, model._workspace
    f_grad = _KERNELS[model.activation][1]
    N = X.shape[0]
    B2, caches = _forward(model, X)
    Z3 = p["W3"].T @ B2 + p["b3"][:, None]                       # (n_classes, N)
    Z3 -= Z3.max(axis=0, keepdims=True)
    expZ = np.exp(Z3)
    sums = expZ.sum(axis=0)
    cols_n = np.arange(N)
    loss = float(np.mean(np.log(sums) - Z3[y, cols_n]))
    dZ3 = expZ / sums                                            # softmax
    dZ3[y, cols_n] -= 1
    dZ3 /= N
    grads = {"W3": B2 @ dZ3.T, "b3": dZ3.sum(axis=1)}
    c2, (ha, wa) = model.layers[1].c_out, model.layers[1].a_hw
    dA = (p["W3"] @ dZ3).reshape(c2, wa, ha, N).transpose(0, 2, 1, 3)  # unflatten, (C, H, W, N)
    for k in (2, 1):
        layer, tag = model.layers[k - 1], f"L{k}"
        in_shape, cols, z_shape, switches, pool_first, act_out = caches[k - 1]
        if pool_first:   # dJ/dP = dJ/dA * f'(P), then route through the max
            dZ = pool_backward(ws, tag, dA * f_grad(act_out), switches, "max", layer.window,
                               layer.pool_pad, layer.pool_stride, z_shape)
        else:
            dI = pool_backward(ws, tag, dA, switches, model.pool, layer.window,
                               layer.pool_pad, layer.pool_stride, z_shape)
            dZ = dI * f_grad(act_out)
        dA, grads[f"K{k}"], grads[f"b{k}"] = conv_backward(
            ws, tag, dZ, cols, p[f"K{k}"], in_shape, layer.pad, layer.stride,
            input_grad=(k > 1))
    return loss, grads
