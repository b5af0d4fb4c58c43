"""The paper's way, for one sample: a conv block with explicit Jacobian matrices (§2, §3.1).

Everything here works on the paper's vec layout, one sample at a time: a layer input
with c channels is the (h w, c) matrix whose column i is vec(A_i) (see ``vec``), and a
row dJ/d vec(.) of numerator layout is one row per channel. Every derivative is an
actual matrix, multiplied through as §3.1.3 to §3.1.5 write it. This is slow and is
for teaching and checking: ``ThreeLayerCNN.loss_and_grads(method="jacobian")`` and
``python -m cnn_helpers.benchmark`` use it, and the tests compare it with the fast path
and with finite differences.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_jacobian_input, conv_jacobian_kernel
from .pool import avg_pool_jacobian, max_pool_forward, max_pool_mask
from .vec import unvec

__all__ = [
    "conv_input_jacobians",
    "conv_forward_explicit",
    "conv_backward_explicit",
    "block_forward_explicit",
    "block_backward_explicit",
]


def conv_input_jacobians(K, input_hw, pad, stride):
    """d vec(Z_j) / d vec(A_i) for every kernel K_{j,i} (eq. a2-3): a list of lists.

    ``K`` is (c_out, c_in, h_k, w_k); entry [j][i] is (h_z w_z, h_a w_a). They depend
    on the kernels only, so one set serves every sample of a batch.
    """
    return [
        [conv_jacobian_input(K[j, i], input_hw, pad, stride) for i in range(K.shape[1])]
        for j in range(K.shape[0])
    ]


def conv_forward_explicit(vA, J_in, b):
    """``vec(Z_j) = sum_i d vec(Z_j)/d vec(A_i) vec(A_i) + b_j 1``: vA (h w, c_in) -> vZ.

    Convolution is linear in its input, so the forward pass is the Jacobians applied
    to the input. Returns vZ of shape (h_z w_z, c_out).
    """
    return np.stack(
        [sum(J_ji @ vA[:, i] for i, J_ji in enumerate(J_j)) + b[j] for j, J_j in enumerate(J_in)],
        axis=1,
    )


def conv_backward_explicit(dJ_dvZ, vA, J_in, input_hw, kernel_hw, pad, stride, input_grad=True):
    """§3.1.5 for one sample: rows dJ/d vec(Z_j) -> gradients of K, b and the input.

    Parameters
    ----------
    dJ_dvZ : (c_out, h_z w_z), row j = dJ/d vec(Z_j)
    vA : (h w, c_in), the layer input in vec layout
    J_in : the input Jacobians of :func:`conv_input_jacobians`
    input_hw, kernel_hw, pad, stride : the layer geometry

    Returns
    -------
    dJ_dvA : (c_in, h w) or None, row i = dJ/d vec(A_i) = sum_j dJ/dvZ_j dvZ_j/dvA_i
    dK : (c_out, c_in, h_k, w_k), dJ/dvK_{j,i} = dJ/dvZ_j dvZ_j/dvK_{j,i} transposed and
        reshaped (§3.2); the kernel Jacobian depends on A_i only, shared by every j
    db : (c_out,), dJ/db_j = dJ/dvZ_j 1
    """
    c_out, c_in = dJ_dvZ.shape[0], vA.shape[1]
    dK = np.empty((c_out, c_in, *kernel_hw))
    for i in range(c_in):
        J_kernel = conv_jacobian_kernel(unvec(vA[:, i], input_hw), kernel_hw, pad, stride)
        rows = dJ_dvZ @ J_kernel  # (c_out, h_k w_k), Jacobians
        for j in range(c_out):
            dK[j, i] = unvec(rows[j], kernel_hw)  # gradient = transpose, reshaped
    db = dJ_dvZ @ np.ones(dJ_dvZ.shape[1])
    if not input_grad:
        return None, dK, db
    dJ_dvA = np.stack([sum(dJ_dvZ[j] @ J_in[j][i] for j in range(c_out)) for i in range(c_in)])
    return dJ_dvA, dK, db


def block_forward_explicit(vA_prev, K, b, block, pool, f, J_in):
    """One conv -> activation -> pool block for one sample, every layer a matrix.

    ``block`` is the block's geometry (a ``ConvBlock``), ``pool`` "max" or "avg",
    ``f`` the element-wise activation. Returns vZ (h_z w_z, c_out), vA (h_a w_a, c_out)
    and the pooling Jacobians d vec(A_j)/d vec(I_j), one per channel (§3.1.3).
    """
    vZ = conv_forward_explicit(vA_prev, J_in, b)
    vI = f(vZ)  # element-wise: any layout
    geometry = (block.window, block.pool_pad, block.pool_stride)
    if pool == "max":  # one mask per channel, from that channel's switches (Appendix B)
        I = unvec(vI, (block.c_out, *block.z_hw))[None]  # (1, c, h_z, w_z)
        switches = max_pool_forward(I, *geometry)[1][0]
        masks = [max_pool_mask(switches[j], block.z_hw, *geometry) for j in range(block.c_out)]
    else:  # the same matrix for every channel
        masks = [avg_pool_jacobian(block.z_hw, *geometry)] * block.c_out
    vA = np.stack([masks[j] @ vI[:, j] for j in range(block.c_out)], axis=1)
    return vZ, vA, masks


def block_backward_explicit(dJ_dvA, vZ, masks, vA_prev, block, f_jacobian, J_in, input_grad):
    """§3.1.3 - §3.1.5 for one sample: rows dJ/d vec(.) back through one conv block.

    ``dJ_dvA`` is (c_out, h_a w_a), row j = dJ/d vec(A_j); ``f_jacobian(Z)`` builds the
    diagonal activation Jacobian of one channel. Returns what
    :func:`conv_backward_explicit` returns.
    """
    # §3.1.3 pooling, per channel: dJ/dvI_j = dJ/dvA_j  d vA_j/d vI_j   (1 x h_z w_z)
    dJ_dvI = np.stack([dJ_dvA[j] @ masks[j] for j in range(block.c_out)])
    # §3.1.4 activation, per channel: dJ/dvZ_j = dJ/dvI_j  diag(f'(vZ_j))
    dJ_dvZ = np.stack(
        [dJ_dvI[j] @ f_jacobian(unvec(vZ[:, j], block.z_hw)) for j in range(block.c_out)]
    )
    return conv_backward_explicit(
        dJ_dvZ, vA_prev, J_in, block.in_hw, block.kernel_hw, block.pad, block.stride, input_grad
    )
