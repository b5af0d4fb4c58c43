"""The paper's 3-layer CNN (Figure 1), trainable two ways.

conv -> activation -> pool -> conv -> activation -> pool -> flatten -> fully
connected -> softmax, with mean softmax cross-entropy as the loss J.

``loss_and_grads(X, y, method="jacobian")`` follows §3.1.1 to §3.1.6 literally: one
sample at a time, every layer's Jacobian is built as an explicit matrix and the
rows dJ/d(...) are multiplied through them (numerator layout); gradients are the
transposes (§3.2), reshaped to the parameters' shapes. ``method="fast"`` computes
the same numbers with the vectorized batch functions. The two agree to ~1e-12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import as_array, as_pair, as_shape
from .activations import ACTIVATIONS, softmax, softmax_jacobian
from .conv import (conv_forward, conv_jacobian_input, conv_jacobian_kernel,
                   conv_output_shape)
from ._engine import Workspace
from ._engine import logits as _engine_logits
from ._engine import loss_and_grads as _engine_loss_and_grads
from .dense import dense_forward
from .losses import check_labels, cross_entropy_jacobian
from .pool import avg_pool_forward, avg_pool_jacobian, max_pool_forward, max_pool_mask
from .vec import flatten, unvec, vec

__all__ = ["ThreeLayerCNN"]

PARAM_NAMES = ("K1", "b1", "K2", "b2", "W3", "b3")


@dataclass(frozen=True)
class _ConvLayer:
    """Geometry of one conv -> activation -> pool block."""

    c_in: int
    c_out: int
    in_hw: tuple      # (h_a^[l-1], w_a^[l-1])
    kernel_hw: tuple  # (h_k, w_k)
    pad: tuple
    stride: tuple
    z_hw: tuple       # conv output (h_z, w_z), also the activation's shape
    window: tuple     # pooling window (h_l, w_l)
    pool_pad: tuple
    pool_stride: tuple
    a_hw: tuple       # pooled output (h_a, w_a)


def _pairs(name, value, n, minimum):
    """A per-layer sequence of n (h, w) pairs; an int or a single pair is repeated."""
    if isinstance(value, (int, np.integer)) or (
            isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, (int, np.integer)) for v in value)):
        return (as_pair(name, value, minimum),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise ValueError(f"{name} must give one (h, w) pair per conv layer ({n}); got {value!r}")
    return tuple(as_pair(f"{name}[{k}]", v, minimum) for k, v in enumerate(value))


class ThreeLayerCNN:
    """The 3-layer CNN of the paper's Figure 1 for NCHW image batches.

    Parameters
    ----------
    input_shape : (C, H, W), default (1, 28, 28)
    n_classes : int, default 24
    channels : (c1, c2), filters of the two conv layers, default (8, 16)
    kernel_sizes : per-layer (kh, kw), default ((3, 3), (3, 3))
    conv_pads, conv_strides : per-layer (h, w), default ((1, 1), (1, 1)) each
    pool : "max" or "avg"
    pool_windows : per-layer (h_l, w_l), default ((2, 2), (2, 2))
    pool_pads : per-layer (h, w), default ((0, 0), (0, 0))
    pool_strides : per-layer (h, w), default None (= the windows)
    activation : "relu", "sigmoid" or "tanh"
    seed : int, seeds the weight initialization
    dtype : np.float64 (default) or np.float32

    Attributes
    ----------
    params : dict of ndarray
        ``K1`` (c1, C, kh, kw), ``b1`` (c1,), ``K2`` (c2, c1, kh, kw), ``b2`` (c2,),
        ``W3`` (n_flat, n_classes), ``b3`` (n_classes,). These are the model's own
        arrays: update them in place (``params["K1"] -= lr * grads["K1"]``).
    layers : tuple of two _ConvLayer, the geometry of each conv block
    n_flat : int, length of the flattened B^[2]
    """

    def __init__(self, input_shape=(1, 28, 28), n_classes=24, channels=(8, 16),
                 kernel_sizes=((3, 3), (3, 3)), conv_pads=((1, 1), (1, 1)),
                 conv_strides=((1, 1), (1, 1)), pool="max", pool_windows=((2, 2), (2, 2)),
                 pool_pads=((0, 0), (0, 0)), pool_strides=None, activation="relu", seed=0,
                 dtype=np.float64):
        input_shape = as_shape("input_shape", input_shape, 3)
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
                or n_classes < 2:
            raise ValueError(f"n_classes must be an int >= 2; got {n_classes!r}")
        channels = as_pair("channels", channels, 1)
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg'; got {pool!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; "
                             f"got {activation!r}")
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int; got {seed!r}")
        kernels = _pairs("kernel_sizes", kernel_sizes, 2, 1)
        pads = _pairs("conv_pads", conv_pads, 2, 0)
        strides = _pairs("conv_strides", conv_strides, 2, 1)
        windows = _pairs("pool_windows", pool_windows, 2, 1)
        ppads = _pairs("pool_pads", pool_pads, 2, 0)
        if pool_strides is None or (isinstance(pool_strides, (tuple, list))
                                    and all(s is None for s in pool_strides)):
            pstrides = windows
        else:
            pstrides = _pairs("pool_strides", pool_strides, 2, 1)

        self.input_shape = input_shape
        self.n_classes = int(n_classes)
        self.pool = pool
        self.activation = activation
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self._f, self._fgrad, self._fjac = ACTIVATIONS[activation]
        self._workspace = Workspace()  # scratch buffers of the fast path, reused per step

        layers, c_in, hw = [], input_shape[0], input_shape[1:]
        for k in range(2):
            try:
                z_hw = conv_output_shape(hw, kernels[k], pads[k], strides[k])
                a_hw = conv_output_shape(z_hw, windows[k], ppads[k], pstrides[k])
            except ValueError as exc:
                raise ValueError(f"layer {k + 1} does not fit its input of size {hw}: "
                                 f"{exc}") from None
            layers.append(_ConvLayer(c_in, channels[k], hw, kernels[k], pads[k], strides[k],
                                     z_hw, windows[k], ppads[k], pstrides[k], a_hw))
            c_in, hw = channels[k], a_hw
        self.layers = tuple(layers)
        self.n_flat = channels[1] * hw[0] * hw[1]

        rng = np.random.default_rng(self.seed)
        gain = 2.0 if activation == "relu" else 1.0  # He for ReLU, LeCun otherwise
        self.params = {}
        for k, layer in enumerate(self.layers, start=1):
            fan_in = layer.c_in * layer.kernel_hw[0] * layer.kernel_hw[1]
            shape = (layer.c_out, layer.c_in, *layer.kernel_hw)
            self.params[f"K{k}"] = (rng.standard_normal(shape) * np.sqrt(gain / fan_in))
            self.params[f"b{k}"] = np.zeros(layer.c_out)
        # a small output layer keeps the initial softmax near uniform: J ~ ln(n_classes)
        self.params["W3"] = rng.standard_normal((self.n_flat, self.n_classes)) * np.sqrt(
            0.02 / self.n_flat)
        self.params["b3"] = np.zeros(self.n_classes)
        for key in PARAM_NAMES:
            self.params[key] = self.params[key].astype(self.dtype)

    # ------------------------------------------------------------------ helpers
    def config(self) -> dict:
        """Constructor keywords that rebuild this architecture (used by save)."""
        return dict(
            input_shape=list(self.input_shape), n_classes=self.n_classes,
            channels=[layer.c_out for layer in self.layers],
            kernel_sizes=[list(layer.kernel_hw) for layer in self.layers],
            conv_pads=[list(layer.pad) for layer in self.layers],
            conv_strides=[list(layer.stride) for layer in self.layers],
            pool=self.pool, pool_windows=[list(layer.window) for layer in self.layers],
            pool_pads=[list(layer.pool_pad) for layer in self.layers],
            pool_strides=[list(layer.pool_stride) for layer in self.layers],
            activation=self.activation, seed=self.seed, dtype=self.dtype.name)

    def n_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def _check_X(self, X) -> np.ndarray:
        X = as_array("X", X, ndim=4)
        if X.shape[1:] != self.input_shape:
            raise ValueError(f"X must have shape (N, {', '.join(map(str, self.input_shape))}); "
                             f"got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one image; got an empty batch")
        return X.astype(self.dtype, copy=False)

    def _pool_forward(self, I, layer):
        if self.pool == "max":
            return max_pool_forward(I, layer.window, layer.pool_pad, layer.pool_stride)
        return avg_pool_forward(I, layer.window, layer.pool_pad, layer.pool_stride), None

    # ------------------------------------------------------------ fast path
    def forward(self, X, return_cache: bool = False):
        """Logits Z^[3] of a batch, shape (N, n_classes), with the vectorized path.

        With ``return_cache=True`` also returns a dict of every intermediate array
        (``Z1, I1, A1, S1, Z2, I2, A2, S2, B2``; S are max-pool switches or None).
        """
        X = self._check_X(X)
        if not return_cache:
            return _engine_logits(self, X)  # same numbers, batch-last engine, ~3x faster
        p, cache, A = self.params, {}, X
        for k, layer in enumerate(self.layers, start=1):
            Z = conv_forward(A, p[f"K{k}"], p[f"b{k}"], layer.pad, layer.stride)
            I = self._f(Z)
            A_next, S = self._pool_forward(I, layer)
            cache.update({f"Z{k}": Z, f"I{k}": I, f"A{k}": A_next, f"S{k}": S})
            A = A_next
        cache["B2"] = flatten(A)
        Z3 = dense_forward(cache["B2"], p["W3"], p["b3"])
        return (Z3, cache) if return_cache else Z3

    # ----------------------------------------------------- explicit Jacobians
    def _layer_forward_explicit(self, vA_prev, k, J_in, J_pool):
        """One conv block for one sample with matrices (§2): columns are channels.

        vA_prev : (h w, c_in), the paper's vec of the layer input.
        Returns vZ, vA, switches, masks; vZ is (h_z w_z, c_out), vA (h_a w_a, c_out).
        """
        layer, b = self.layers[k - 1], self.params[f"b{k}"]
        # vec(Z_j) = sum_i d vec(Z_j)/d vec(A_i) vec(A_i) + b_j 1   (convolution is linear)
        vZ = np.stack([sum(J_in[j][i] @ vA_prev[:, i] for i in range(layer.c_in)) + b[j]
                       for j in range(layer.c_out)], axis=1)
        vI = self._f(vZ)                                     # element-wise, any layout
        if self.pool == "max":
            I = unvec(vI, (layer.c_out, *layer.z_hw))[None]   # (1, c, h_z, w_z)
            switches = max_pool_forward(I, layer.window, layer.pool_pad, layer.pool_stride)[1][0]
            masks = [max_pool_mask(switches[j], layer.z_hw, layer.window, layer.pool_pad,
                                   layer.pool_stride) for j in range(layer.c_out)]
        else:
            masks = [J_pool] * layer.c_out                    # same matrix for all channels
        vA = np.stack([masks[j] @ vI[:, j] for j in range(layer.c_out)], axis=1)
        return vZ, vA, masks

    def _layer_backward_explicit(self, dJ_dvA, vZ, masks, vA_prev, k, J_in, input_grad):
        """§3.1.3 - §3.1.5 for one sample: rows dJ/d vec(.) through one conv block.

        dJ_dvA : (c_out, h_a w_a), row j = dJ/d vec(A_j).
        Returns dJ/dvA_prev (c_in, h w) or None, and the gradients of K and b.
        """
        layer = self.layers[k - 1]
        # §3.1.3 pooling: dJ/dvI_j = dJ/dvA_j  d vA_j/d vI_j         (1 x h_z w_z)
        dJ_dvI = np.stack([dJ_dvA[j] @ masks[j] for j in range(layer.c_out)])
        # §3.1.4 activation, channel by channel: dJ/dvZ_j = dJ/dvI_j  diag(f'(vZ_j))
        dJ_dvZ = np.stack([
            dJ_dvI[j] @ self._fjac(unvec(vZ[:, j], layer.z_hw)) for j in range(layer.c_out)])
        # §3.1.5 kernel: dJ/dvK_{:,i} = dJ/dvZ  d vZ_j/d vK_{j,i} (the same for every j)
        dK = np.empty((layer.c_out, layer.c_in, *layer.kernel_hw))
        for i in range(layer.c_in):
            A_i = unvec(vA_prev[:, i], layer.in_hw)
            J_kernel = conv_jacobian_kernel(A_i, layer.kernel_hw, layer.pad, layer.stride)
            rows = dJ_dvZ @ J_kernel                        # (c_out, h_k w_k), Jacobians
            for j in range(layer.c_out):
                dK[j, i] = unvec(rows[j], layer.kernel_hw)  # gradient = transpose, reshaped
        # bias: dJ/db_j = dJ/dvZ_j 1 ; the gradient is its transpose (§3.2)
        db = dJ_dvZ @ np.ones(layer.z_hw[0] * layer.z_hw[1])
        if not input_grad:
            return None, dK, db
        # input: dJ/dvA_i = sum_j dJ/dvZ_j  d vZ_j/d vA_i
        dJ_dvA_prev = np.stack([sum(dJ_dvZ[j] @ J_in[j][i] for j in range(layer.c_out))
                                for i in range(layer.c_in)])
        return dJ_dvA_prev, dK, db

    def _loss_and_grads_jacobian(self, X, y):
        p = self.params
        X = X.astype(np.float64)
        # sample-independent matrices: conv input Jacobians (depend on K only) and the
        # average-pooling Jacobian (depends on the geometry only)
        J_in, J_pool = {}, {}
        for k, layer in enumerate(self.layers, start=1):
            K = p[f"K{k}"].astype(np.float64)
            J_in[k] = [[conv_jacobian_input(K[j, i], layer.in_hw, layer.pad, layer.stride)
                        for i in range(layer.c_in)] for j in range(layer.c_out)]
            if self.pool == "avg":
                J_pool[k] = avg_pool_jacobian(layer.z_hw, layer.window, layer.pool_pad,
                                              layer.pool_stride)
        W3, b3 = p["W3"].astype(np.float64), p["b3"].astype(np.float64)
        grads = {key: np.zeros(value.shape) for key, value in p.items()}
        loss = 0.0
        for x, label in zip(X, y):
            # forward, §2, one sample: every layer as a matrix product
            vA0 = vec(x)                                             # (H W, C)
            vZ1, vA1, masks1 = self._layer_forward_explicit(vA0, 1, J_in[1], J_pool.get(1))
            vZ2, vA2, masks2 = self._layer_forward_explicit(vA1, 2, J_in[2], J_pool.get(2))
            B2 = vec(vA2)                       # §3.1.2: [vec(A2_1); ...; vec(A2_c)]
            z3 = W3.T @ B2 + b3                                     # (n,)
            a3 = softmax(z3)
            loss += np.log(np.exp(z3 - z3.max()).sum()) + z3.max() - z3[label]  # -log a_y
            # §3.1.1: rows dJ/d(.) in numerator layout
            if a3[label] > 0:
                dJ_dZ3 = cross_entropy_jacobian(a3, label) @ softmax_jacobian(z3)  # (1, n)
            else:
                # a_y underflowed to 0: the two factors are -1/a_y = -inf and a row of
                # zeros; their product is the finite (a - e_y)^T derived in §3.1.1
                dJ_dZ3 = (a3 - np.eye(a3.size)[label])[None, :]
            grads["W3"] += (dJ_dZ3.T @ B2[None, :]).T    # Jacobian (n x n_flat), transposed
            grads["b3"] += dJ_dZ3[0]
            dJ_dB2 = dJ_dZ3 @ W3.T                                  # (1, n_flat)
            # §3.1.2: one row per channel, dJ/dvA2 is (c2, h_a w_a)
            dJ_dvA2 = dJ_dB2.reshape(self.layers[1].c_out, -1)
            dJ_dvA1, dK2, db2 = self._layer_backward_explicit(
                dJ_dvA2, vZ2, masks2, vA1, 2, J_in[2], input_grad=True)
            _, dK1, db1 = self._layer_backward_explicit(
                dJ_dvA1, vZ1, masks1, vA0, 1, J_in[1], input_grad=False)
            for key, value in (("K2", dK2), ("b2", db2), ("K1", dK1), ("b1", db1)):
                grads[key] += value
        n = X.shape[0]
        return float(loss / n), {key: (grads[key] / n).astype(self.dtype)
                                 for key in PARAM_NAMES}

    # ------------------------------------------------------------ public API
    def loss_and_grads(self, X, y, method: str = "fast"):
        """Mean softmax cross-entropy of a batch and its gradients.

        Parameters
        ----------
        X : array_like, shape (N, C, H, W)
        y : int array, shape (N,), labels in 0..n_classes-1
        method : "fast" (vectorized, for training) or "jacobian" (the paper's
            explicit Jacobian matrices, one sample at a time; slow, for teaching)

        Returns
        -------
        loss : float
        grads : dict with the keys and shapes of ``params``
        """
        if method not in ("fast", "jacobian"):
            raise ValueError(f"method must be 'fast' or 'jacobian'; got {method!r}")
        X = self._check_X(X)
        y = check_labels(y, X.shape[0], self.n_classes)
        if method == "fast":
            loss, grads = _engine_loss_and_grads(self, X, y)
            return loss, {key: grads[key] for key in PARAM_NAMES}
        return self._loss_and_grads_jacobian(X, y)

    def predict_proba(self, X, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities softmax(Z^[3]), shape (N, n_classes)."""
        X = self._check_X(X)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        return np.concatenate([softmax(_engine_logits(self, X[k:k + batch_size]))
                               for k in range(0, X.shape[0], batch_size)])

    def predict(self, X, batch_size: int = 1024) -> np.ndarray:
        """Most probable class of each image, shape (N,)."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def save(self, path) -> Path:
        """Write parameters and architecture to a plain ``.npz`` (no pickles).

        ``.npz`` is appended to ``path`` when missing (as ``np.savez`` does); the path
        actually written is returned.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        np.savez(path, config=np.array(json.dumps(self.config())), **self.params)
        return path

    @classmethod
    def load(cls, path) -> ThreeLayerCNN:
        """Rebuild a model written by :meth:`save` (loaded with ``allow_pickle=False``)."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                config = json.loads(str(npz["config"]))
                arrays = {key: npz[key] for key in PARAM_NAMES}
        except FileNotFoundError:
            raise FileNotFoundError(f"model file not found: {path} (write one with "
                                    f"ThreeLayerCNN.save or python -m cnn_helpers.train)") from None
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(f"{path} is not a ThreeLayerCNN file written by save(): "
                             f"{type(exc).__name__}: {exc}") from exc
        config["dtype"] = np.dtype(config["dtype"])
        model = cls(**config)
        for key in PARAM_NAMES:
            if arrays[key].shape != model.params[key].shape:
                raise ValueError(f"{path}: parameter {key} has shape {arrays[key].shape}; "
                                 f"the saved architecture expects {model.params[key].shape}")
            model.params[key][...] = arrays[key]
        return model
