"""Training engine behind ``ThreeLayerCNN.loss_and_grads(method="fast")``.

It composes the batch-last kernels of :mod:`cnn_helpers._kernels` (the package's one
fast implementation) into the paper's network, conv -> activation -> pool twice, then
flatten (§3.1.2), the fully connected layer ``Z3 = W3^T B2 + b3`` with the samples as
columns of B2, and softmax cross-entropy. It receives what it needs explicitly: the
parameters, a tuple of :class:`ConvBlock` geometries, the pooling and activation
names and a :class:`~cnn_helpers._kernels.Workspace` of reused buffers.

One shortcut: with max pooling and a non-decreasing activation f, pooling comes
*before* the activation (f(max z) = max f(z), and the same switches win), so f and
its derivative touch a tensor h_l*w_l times smaller. With padded pooling this needs
f(0) == 0, since the padded zeros take part in the maximum.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _kernels as kern


class ConvBlock(NamedTuple):
    """Geometry of one conv -> activation -> pool block (all sizes are (h, w) pairs)."""

    c_in: int
    c_out: int
    in_hw: tuple  # (h_a^[l-1], w_a^[l-1]), the block's input
    kernel_hw: tuple  # (h_k, w_k)
    pad: tuple
    stride: tuple
    z_hw: tuple  # conv output (h_z, w_z), also the activation's shape
    window: tuple  # pooling window (h_l, w_l)
    pool_pad: tuple
    pool_stride: tuple
    a_hw: tuple  # pooled output (h_a, w_a)


class _Cache(NamedTuple):
    in_shape: tuple  # (C, H, W, N) of the block's input
    cols: np.ndarray  # im2col of the input, (C kh kw, h_z w_z N)
    z_shape: tuple  # (F, h_z, w_z, N)
    switches: np.ndarray | None
    pool_first: bool
    act_out: np.ndarray  # f(.) of what the activation saw


def _block_forward(A, K, b, block, pool, activation, ws, tag):
    """One conv block on A (C, H, W, N); returns the pooled output and its cache."""
    f, _, f_zero_at_zero = kern.ACTIVATIONS[activation]
    Z, cols = kern.conv_forward(A, K, b, block.pad, block.stride, block.z_hw, ws, tag)
    pool_geometry = (block.window, block.pool_pad, block.pool_stride)
    pool_first = pool == "max" and (f_zero_at_zero or block.pool_pad == (0, 0))
    if pool_first:
        P, switches = kern.pool_forward(Z, "max", *pool_geometry, block.a_hw, ws, tag)
        A_next = act_out = f(P, ws.empty(tag + "act", P.shape, P.dtype))
    else:
        act_out = f(Z, ws.empty(tag + "act", Z.shape, Z.dtype))
        A_next, switches = kern.pool_forward(act_out, pool, *pool_geometry, block.a_hw, ws, tag)
    return A_next, _Cache(A.shape, cols, Z.shape, switches, pool_first, act_out)


def _block_backward(dA, cache, K, block, pool, activation, ws, tag, input_grad):
    """dJ/dA of one block's output -> (dJ/d input or None, dK, db)."""
    f_grad = kern.ACTIVATIONS[activation][1]
    pool_geometry = (block.window, block.pool_pad, block.pool_stride)
    if cache.pool_first:  # dJ/dP = dJ/dA * f'(P), then route through the max
        dP = dA * f_grad(cache.act_out)
        dZ = kern.pool_backward(dP, cache.switches, "max", *pool_geometry, cache.z_shape, ws, tag)
    else:
        dI = kern.pool_backward(dA, cache.switches, pool, *pool_geometry, cache.z_shape, ws, tag)
        dZ = dI * f_grad(cache.act_out)
    return kern.conv_backward(
        dZ, cache.cols, K, cache.in_shape, block.pad, block.stride, input_grad, ws, tag
    )


def forward(params, blocks, pool, activation, X, ws):
    """Conv blocks on NCHW images X; returns B2 (n_flat, N) and the per-block caches."""
    N = X.shape[0]
    A = ws.empty("X", X.shape[1:] + (N,), X.dtype)
    np.copyto(A, X.transpose(1, 2, 3, 0))  # (C, H, W, N)
    caches = []
    for k, block in enumerate(blocks, start=1):
        A, cache = _block_forward(
            A, params[f"K{k}"], params[f"b{k}"], block, pool, activation, ws, f"L{k}"
        )
        caches.append(cache)
    C2, ha, wa, _ = A.shape
    B2 = A.transpose(0, 2, 1, 3).reshape(C2 * wa * ha, N)  # §3.1.2, samples as columns
    return B2, caches


def logits(params, blocks, pool, activation, X, ws):
    """Z3 for NCHW images X, shape (N, n_classes) (the forward pass only)."""
    B2, _ = forward(params, blocks, pool, activation, X, ws)
    return (params["W3"].T @ B2 + params["b3"][:, None]).T


def loss_and_grads(params, blocks, pool, activation, X, y, ws):
    """Mean softmax cross-entropy on NCHW images X and its gradients (keys of params).

    ``X`` must already be validated and of the parameters' dtype, ``y`` validated labels.
    """
    B2, caches = forward(params, blocks, pool, activation, X, ws)
    Z3 = params["W3"].T @ B2 + params["b3"][:, None]  # (n_classes, N)
    loss, dZ3 = kern.softmax_cross_entropy(Z3, y)  # dZ3 (n_classes, N)
    grads = {"W3": B2 @ dZ3.T, "b3": dZ3.sum(axis=1)}
    c2, (ha, wa), N = blocks[-1].c_out, blocks[-1].a_hw, X.shape[0]
    dA = (params["W3"] @ dZ3).reshape(c2, wa, ha, N).transpose(0, 2, 1, 3)  # (C, H, W, N)
    for k in range(len(blocks), 0, -1):
        dA, grads[f"K{k}"], grads[f"b{k}"] = _block_backward(
            dA,
            caches[k - 1],
            params[f"K{k}"],
            blocks[k - 1],
            pool,
            activation,
            ws,
            f"L{k}",
            input_grad=k > 1,
        )
    return loss, grads
