"""Deliberately naive reference implementations, written independently of cnn_helpers.

Every function loops over every output pixel explicitly and pads by hand, so it can
be read against the paper's definitions (§2, §3.1.3, Appendix A and B):

* cross-correlation, no kernel flip: ``Z[p, q] = sum_{r,s} P[p*sh + r, q*sw + s] beta[r, s]``
  where P is the zero-padded input;
* average pooling divides by h_l*w_l, padded zeros included;
* max pooling compares with padded zeros too; its switch is the 0-based position of
  the maximum in the column-major vec of the window, the first one on ties.
"""

from __future__ import annotations

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _zero_pad(A, ph, pw):
    """Zero-pad a 2-D array by hand (no np.pad)."""
    h, w = A.shape
    P = np.zeros((h + 2 * ph, w + 2 * pw), dtype=np.float64)
    for r in range(h):
        for c in range(w):
            P[r + ph, c + pw] = A[r, c]
    return P


def _out_size(n, k, p, s):
    return (n + 2 * p - k) // s + 1


def correlate_loops(A, beta, pad=(0, 0), stride=(1, 1)):
    """One-channel padded, strided cross-correlation (the paper's ``A * beta``)."""
    A = np.asarray(A, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    ph, pw = _pair(pad)
    sh, sw = _pair(stride)
    kh, kw = beta.shape
    P = _zero_pad(A, ph, pw)
    hz = _out_size(A.shape[0], kh, ph, sh)
    wz = _out_size(A.shape[1], kw, pw, sw)
    Z = np.zeros((hz, wz))
    for p in range(hz):
        for q in range(wz):
            total = 0.0
            for r in range(kh):
                for s in range(kw):
                    total += P[p * sh + r, q * sw + s] * beta[r, s]
            Z[p, q] = total
    return Z


def conv2d_loops(A, K, b, pad=(0, 0), stride=(1, 1)):
    """NCHW convolution layer: ``Z[n, j] = sum_i A[n, i] * K[j, i] + b[j]``."""
    A = np.asarray(A, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ph, pw = _pair(pad)
    sh, sw = _pair(stride)
    N, C, H, W = A.shape
    F, C2, kh, kw = K.shape
    assert C == C2
    hz = _out_size(H, kh, ph, sh)
    wz = _out_size(W, kw, pw, sw)
    Z = np.zeros((N, F, hz, wz))
    for n in range(N):
        padded = [_zero_pad(A[n, i], ph, pw) for i in range(C)]
        for j in range(F):
            for p in range(hz):
                for q in range(wz):
                    total = b[j]
                    for i in range(C):
                        for r in range(kh):
                            for s in range(kw):
                                total += padded[i][p * sh + r, q * sw + s] * K[j, i, r, s]
                    Z[n, j, p, q] = total
    return Z


def _pool_windows(I, window, pad, stride):
    """Yield (n, c, p, q, column-major list of the window's values) for an NCHW input."""
    I = np.asarray(I, dtype=np.float64)
    hl, wl = _pair(window)
    ph, pw = _pair(pad)
    sh, sw = _pair(stride)
    N, C, H, W = I.shape
    ha = _out_size(H, hl, ph, sh)
    wa = _out_size(W, wl, pw, sw)
    for n in range(N):
        for c in range(C):
            P = _zero_pad(I[n, c], ph, pw)
            for p in range(ha):
                for q in range(wa):
                    values = []
                    for s in range(wl):  # columns outer: column-major order
                        for r in range(hl):
                            values.append(P[p * sh + r, q * sw + s])
                    yield n, c, p, q, values, (ha, wa)


def avg_pool_loops(I, window, pad=(0, 0), stride=None):
    """Average pooling: sum of the (zero-padded) window divided by h_l*w_l."""
    stride = window if stride is None else stride
    hl, wl = _pair(window)
    I = np.asarray(I, dtype=np.float64)
    out = None
    for n, c, p, q, values, (ha, wa) in _pool_windows(I, window, pad, stride):
        if out is None:
            out = np.zeros((I.shape[0], I.shape[1], ha, wa))
        total = 0.0
        for v in values:
            total += v
        out[n, c, p, q] = total / (hl * wl)
    return out


def max_pool_loops(I, window, pad=(0, 0), stride=None):
    """Max pooling with zero padding; returns (values, switches).

    The switch is the 0-based index of the maximum in the column-major list of the
    window's values (padding included); a strict ``>`` keeps the first maximum.
    """
    stride = window if stride is None else stride
    I = np.asarray(I, dtype=np.float64)
    out = sw_out = None
    for n, c, p, q, values, (ha, wa) in _pool_windows(I, window, pad, stride):
        if out is None:
            out = np.zeros((I.shape[0], I.shape[1], ha, wa))
            sw_out = np.zeros((I.shape[0], I.shape[1], ha, wa), dtype=np.int64)
        best, best_k = values[0], 0
        for k in range(1, len(values)):
            if values[k] > best:
                best, best_k = values[k], k
        out[n, c, p, q] = best
        sw_out[n, c, p, q] = best_k
    return out, sw_out


def vec_loops(A):
    """Column-stacking vec of a matrix, by hand."""
    A = np.asarray(A, dtype=np.float64)
    h, w = A.shape
    out = np.zeros(h * w)
    for s in range(w):
        for r in range(h):
            out[s * h + r] = A[r, s]
    return out


def _activation(name):
    """(f, f') written out by hand for the reference network."""
    if name == "relu":
        return (lambda z: z if z > 0 else 0.0), (lambda z: 1.0 if z > 0 else 0.0)
    if name == "tanh":
        return np.tanh, (lambda z: 1.0 - np.tanh(z) ** 2)
    s = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    return s, (lambda z: s(z) * (1.0 - s(z)))


def _conv_block_loops(A, K, b, block, f):
    """Forward of one conv -> f -> max-pool block, by hand; returns what backward needs."""
    Z = conv2d_loops(A, K, b, block.pad, block.stride)
    P, S = max_pool_loops(np.vectorize(f)(Z), block.window, block.pool_pad, block.pool_stride)
    return Z, P, S


def max_pool_backward_loops(G, switches, input_shape, window, pad, stride):
    """Send each G entry to the input its (0-based, column-major) switch points at;
    a switch on the padding sends it nowhere."""
    (hl, _), (ph, pw), (sh, sw) = _pair(window), _pair(pad), _pair(stride)
    N, C, H, W = input_shape
    dI = np.zeros(input_shape)
    for n in range(N):
        for c in range(C):
            for p in range(G.shape[2]):
                for q in range(G.shape[3]):
                    k = switches[n, c, p, q]
                    r = p * sh - ph + k % hl
                    s = q * sw - pw + k // hl
                    if 0 <= r < H and 0 <= s < W:
                        dI[n, c, r, s] += G[n, c, p, q]
    return dI


def _conv_backward_loops(dZ, A, K, block):
    """dA and dK of a padded, strided cross-correlation, one product at a time."""
    (ph, pw), (sh, sw) = block.pad, block.stride
    N, C, H, W = A.shape
    F, _, kh, kw = K.shape
    dA, dK = np.zeros(A.shape), np.zeros(K.shape)
    for n in range(N):
        for j in range(F):
            for p in range(dZ.shape[2]):
                for q in range(dZ.shape[3]):
                    for i in range(C):
                        for r in range(kh):
                            for s in range(kw):
                                row, col = p * sh + r - ph, q * sw + s - pw
                                if 0 <= row < H and 0 <= col < W:
                                    dK[j, i, r, s] += dZ[n, j, p, q] * A[n, i, row, col]
                                    dA[n, i, row, col] += dZ[n, j, p, q] * K[j, i, r, s]
    return dA, dK, dZ.sum(axis=(0, 2, 3))


def network_loss_and_grads_loops(params, blocks, activation, X, y):
    """Mean softmax cross-entropy of the paper's network (max pooling) and its gradients.

    ``blocks`` are the two conv blocks' geometries (``ThreeLayerCNN.layers``). Written by
    hand, sharing no code with cnn_helpers: an independent oracle for the max-pooling
    tie and padding rules.
    """
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    f, f_prime = _activation(activation)
    A, caches = np.asarray(X, dtype=np.float64), []
    for k, block in enumerate(blocks, start=1):
        Z, P, S = _conv_block_loops(A, p[f"K{k}"], p[f"b{k}"], block, f)
        caches.append((A, Z, S))
        A = P
    N, C, ha, wa = A.shape
    B = np.array([np.concatenate([vec_loops(A[n, c]) for c in range(C)]) for n in range(N)])
    Z3 = B @ p["W3"] + p["b3"]
    E = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
    probs = E / E.sum(axis=1, keepdims=True)
    loss = float(np.mean([-np.log(probs[n, y[n]]) for n in range(N)]))
    dZ3 = probs.copy()
    dZ3[np.arange(N), y] -= 1
    dZ3 /= N
    grads = {"W3": B.T @ dZ3, "b3": dZ3.sum(axis=0)}
    dB = dZ3 @ p["W3"].T
    dA = np.zeros((N, C, ha, wa))
    for n in range(N):
        for c in range(C):
            for s in range(wa):
                for r in range(ha):
                    dA[n, c, r, s] = dB[n, c * ha * wa + s * ha + r]
    for k in (2, 1):
        block, (A_in, Z, S) = blocks[k - 1], caches[k - 1]
        dI = max_pool_backward_loops(
            dA, S, Z.shape, block.window, block.pool_pad, block.pool_stride
        )
        dZ = dI * np.vectorize(f_prime)(Z)
        dA, grads[f"K{k}"], grads[f"b{k}"] = _conv_backward_loops(dZ, A_in, p[f"K{k}"], block)
    return loss, grads
