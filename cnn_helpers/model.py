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
from pathlib import Path

import numpy as np

from . import _engine
from ._checks import as_array, as_int, as_pair, as_shape
from ._threads import blas_threads
from ._kernels import Workspace
from .activations import ACTIVATIONS, softmax, softmax_jacobian
from .conv import conv_forward, conv_output_shape
from .data import prepare_images
from .dense import dense_forward
from .explicit import block_backward_explicit, block_forward_explicit, conv_input_jacobians
from .losses import check_labels, cross_entropy_jacobian
from .pool import avg_pool_forward, max_pool_forward
from .vec import flatten, vec

__all__ = ["ThreeLayerCNN"]

PARAM_NAMES = ("K1", "b1", "K2", "b2", "W3", "b3")
ConvBlock = _engine.ConvBlock


def _pairs(name, value, n, minimum):
    """A per-layer sequence of n (h, w) pairs; an int or a single pair is repeated."""
    if isinstance(value, (int, np.integer)) or (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) for v in value)
    ):
        return (as_pair(name, value, minimum),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise ValueError(f"{name} must give one (h, w) pair per conv layer ({n}); got {value!r}")
    return tuple(as_pair(f"{name}[{k}]", v, minimum) for k, v in enumerate(value))


def _choice(name, value, options):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(options)}; got {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {value!r}")
    return value


def _blocks(input_shape, channels, kernels, pads, strides, windows, ppads, pstrides):
    """The geometry of the two conv blocks, each checked to fit its input."""
    blocks, c_in, hw = [], input_shape[0], input_shape[1:]
    for k in range(2):
        try:
            z_hw = conv_output_shape(hw, kernels[k], pads[k], strides[k])
            a_hw = conv_output_shape(z_hw, windows[k], ppads[k], pstrides[k])
        except ValueError as exc:
            raise ValueError(f"layer {k + 1} does not fit its input of size {hw}: {exc}") from None
        blocks.append(
            ConvBlock(
                c_in,
                channels[k],
                hw,
                kernels[k],
                pads[k],
                strides[k],
                z_hw,
                windows[k],
                ppads[k],
                pstrides[k],
                a_hw,
            )
        )
        c_in, hw = channels[k], a_hw
    return tuple(blocks)


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
    layers : tuple of two ConvBlock (named tuples), the geometry of each conv block:
        ``c_in, c_out, in_hw, kernel_hw, pad, stride, z_hw, window, pool_pad,
        pool_stride, a_hw``
    n_flat : int, length of the flattened B^[2]
    """

    def __init__(
        self,
        input_shape=(1, 28, 28),
        n_classes=24,
        channels=(8, 16),
        kernel_sizes=((3, 3), (3, 3)),
        conv_pads=((1, 1), (1, 1)),
        conv_strides=((1, 1), (1, 1)),
        pool="max",
        pool_windows=((2, 2), (2, 2)),
        pool_pads=((0, 0), (0, 0)),
        pool_strides=None,
        activation="relu",
        seed=0,
        dtype=np.float64,
    ):
        self.input_shape = as_shape("input_shape", input_shape, 3)
        self.n_classes = as_int("n_classes", n_classes, 2)
        self.pool = _choice("pool", pool, ("max", "avg"))
        self.activation = _choice("activation", activation, tuple(ACTIVATIONS))
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
        self.dtype = np.dtype(dtype)
        self.seed = as_int("seed", seed)
        windows = _pairs("pool_windows", pool_windows, 2, 1)
        if pool_strides is None or (
            isinstance(pool_strides, (tuple, list)) and all(s is None for s in pool_strides)
        ):
            pstrides = windows
        else:
            pstrides = _pairs("pool_strides", pool_strides, 2, 1)
        self.layers = _blocks(
            self.input_shape,
            as_pair("channels", channels, 1),
            _pairs("kernel_sizes", kernel_sizes, 2, 1),
            _pairs("conv_pads", conv_pads, 2, 0),
            _pairs("conv_strides", conv_strides, 2, 1),
            windows,
            _pairs("pool_pads", pool_pads, 2, 0),
            pstrides,
        )
        last = self.layers[-1]
        self.n_flat = last.c_out * last.a_hw[0] * last.a_hw[1]
        self._f, _, self._fjac = ACTIVATIONS[activation]
        self._workspace = Workspace()  # scratch buffers of the fast path, reused per step
        self.params = self._initial_params()

    def _initial_params(self) -> dict:
        """He (ReLU) or LeCun initialization, seeded; a small output layer."""
        rng = np.random.default_rng(self.seed)
        gain = 2.0 if self.activation == "relu" else 1.0
        params = {}
        for k, block in enumerate(self.layers, start=1):
            fan_in = block.c_in * block.kernel_hw[0] * block.kernel_hw[1]
            shape = (block.c_out, block.c_in, *block.kernel_hw)
            params[f"K{k}"] = rng.standard_normal(shape) * np.sqrt(gain / fan_in)
            params[f"b{k}"] = np.zeros(block.c_out)
        # a small output layer keeps the initial softmax near uniform: J ~ ln(n_classes)
        params["W3"] = rng.standard_normal((self.n_flat, self.n_classes)) * np.sqrt(
            0.02 / self.n_flat
        )
        params["b3"] = np.zeros(self.n_classes)
        return {key: params[key].astype(self.dtype) for key in PARAM_NAMES}

    # ------------------------------------------------------------------ helpers
    def config(self) -> dict:
        """Constructor keywords that rebuild this architecture (used by save)."""
        return dict(
            input_shape=list(self.input_shape),
            n_classes=self.n_classes,
            channels=[layer.c_out for layer in self.layers],
            kernel_sizes=[list(layer.kernel_hw) for layer in self.layers],
            conv_pads=[list(layer.pad) for layer in self.layers],
            conv_strides=[list(layer.stride) for layer in self.layers],
            pool=self.pool,
            pool_windows=[list(layer.window) for layer in self.layers],
            pool_pads=[list(layer.pool_pad) for layer in self.layers],
            pool_strides=[list(layer.pool_stride) for layer in self.layers],
            activation=self.activation,
            seed=self.seed,
            dtype=self.dtype.name,
        )

    def n_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def _check_X(self, X) -> np.ndarray:
        """Prepared float images (N, C, H, W) of the model's input shape, N >= 1."""
        if isinstance(X, np.ndarray) and X.dtype == np.uint8:
            raise TypeError(
                f"X holds stored uint8 images {X.shape}; the network takes prepared float "
                f"images: pass prepare_images(X) (predict, predict_proba and evaluate also "
                f"accept the stored images directly)"
            )
        X = as_array("X", X, ndim=4)
        if X.shape[1:] != self.input_shape:
            raise ValueError(
                f"X must have shape (N, {', '.join(map(str, self.input_shape))}); got {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one image; got an empty batch")
        return X.astype(self.dtype, copy=False)

    def _inference_input(self, X) -> np.ndarray:
        """The images of predict / predict_proba / evaluate as prepared float (N, C, H, W).

        Accepts stored uint8 images, (N, H, W) or one image (H, W), which go through
        ``prepare_images``, or prepared float images (N, C, H, W); N may be 0. Anything
        else is a TypeError (dtype) or ValueError (shape) that says what was expected.
        """
        X = np.asarray(X)
        hw = self.input_shape[1:]
        if X.dtype == np.uint8:
            if self.input_shape[0] != 1 or X.ndim not in (2, 3) or X.shape[-2:] != hw:
                raise ValueError(
                    f"X: stored uint8 images must have shape (N, {hw[0]}, {hw[1]}) or "
                    f"({hw[0]}, {hw[1]}) for this model; got {X.shape}"
                )
            return prepare_images(X, self.dtype, image_hw=hw)
        if not np.issubdtype(X.dtype, np.floating):
            raise TypeError(
                f"X must be stored uint8 images (N, {hw[0]}, {hw[1]}) or prepared float "
                f"images (N, {', '.join(map(str, self.input_shape))}) from prepare_images; "
                f"got dtype {X.dtype}"
            )
        if X.ndim != 4 or X.shape[1:] != self.input_shape:
            raise ValueError(
                f"X: prepared float images must have shape "
                f"(N, {', '.join(map(str, self.input_shape))}); got {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X must be finite; it holds NaN or infinity")
        return X.astype(self.dtype, copy=False)

    def _pool_forward(self, I, layer):
        if self.pool == "max":
            return max_pool_forward(I, layer.window, layer.pool_pad, layer.pool_stride)
        return avg_pool_forward(I, layer.window, layer.pool_pad, layer.pool_stride), None

    # ------------------------------------------------------------ fast path
    def _engine_args(self):
        return self.params, self.layers, self.pool, self.activation

    def forward(self, X, return_cache: bool = False):
        """Logits Z^[3] of a batch, shape (N, n_classes), with the vectorized path.

        With ``return_cache=True`` also returns a dict of every intermediate array
        (``Z1, I1, A1, S1, Z2, I2, A2, S2, B2``; S are max-pool switches or None),
        computed layer by layer with the public NCHW functions; the logits are the
        same either way (tested).
        """
        X = self._check_X(X)
        if not return_cache:
            with blas_threads():
                # scratch arrays of this call only: a large X leaves nothing behind
                return _engine.logits(*self._engine_args(), X, Workspace())
        p, cache, A = self.params, {}, X
        for k, block in enumerate(self.layers, start=1):
            Z = conv_forward(A, p[f"K{k}"], p[f"b{k}"], block.pad, block.stride)
            I = self._f(Z)
            A_next, S = self._pool_forward(I, block)
            cache.update({f"Z{k}": Z, f"I{k}": I, f"A{k}": A_next, f"S{k}": S})
            A = A_next
        cache["B2"] = flatten(A)
        return dense_forward(cache["B2"], p["W3"], p["b3"]), cache

    # ----------------------------------------------------- explicit Jacobians
    def _loss_and_grads_jacobian(self, X, y):
        p = {key: value.astype(np.float64) for key, value in self.params.items()}
        # conv input Jacobians depend on the kernels only: one set for every sample
        J_in = {
            k: conv_input_jacobians(p[f"K{k}"], block.in_hw, block.pad, block.stride)
            for k, block in enumerate(self.layers, start=1)
        }
        grads = {key: np.zeros(value.shape) for key, value in p.items()}
        loss = 0.0
        for x, label in zip(X.astype(np.float64), y):
            sample_loss, sample_grads = self._sample_jacobian(vec(x), label, p, J_in)
            loss += sample_loss
            for key, value in sample_grads.items():
                grads[key] += value
        n = X.shape[0]
        return float(loss / n), {key: (grads[key] / n).astype(self.dtype) for key in PARAM_NAMES}

    def _sample_jacobian(self, vA0, label, p, J_in):
        """§2 and §3.1.1 - §3.1.6 for one sample, every layer an explicit matrix."""
        L1, L2 = self.layers
        vZ1, vA1, masks1 = block_forward_explicit(
            vA0, p["K1"], p["b1"], L1, self.pool, self._f, J_in[1]
        )
        vZ2, vA2, masks2 = block_forward_explicit(
            vA1, p["K2"], p["b2"], L2, self.pool, self._f, J_in[2]
        )
        B2 = vec(vA2)  # §3.1.2: [vec(A2_1); ...; vec(A2_c)]
        z3 = p["W3"].T @ B2 + p["b3"]  # (n,)
        a3 = softmax(z3)
        loss = np.log(np.exp(z3 - z3.max()).sum()) + z3.max() - z3[label]  # -log a_y
        # §3.1.1: rows dJ/d(.) in numerator layout
        if a3[label] > 0:
            dJ_dZ3 = cross_entropy_jacobian(a3, label) @ softmax_jacobian(z3)  # (1, n)
        else:
            # a_y underflowed to 0: the two factors are -1/a_y = -inf and a row of
            # zeros; their product is the finite (a - e_y)^T derived in §3.1.1
            dJ_dZ3 = (a3 - np.eye(a3.size)[label])[None, :]
        grads = {
            "W3": (dJ_dZ3.T @ B2[None, :]).T,  # Jacobian (n x n_flat), transposed
            "b3": dJ_dZ3[0],
        }
        # §3.1.2: dJ/dB2 = dJ/dZ3 W3^T, one row per channel: dJ/dvA2 is (c2, h_a w_a)
        dJ_dvA2 = (dJ_dZ3 @ p["W3"].T).reshape(L2.c_out, -1)
        dJ_dvA1, grads["K2"], grads["b2"] = block_backward_explicit(
            dJ_dvA2, vZ2, masks2, vA1, L2, self._fjac, J_in[2], input_grad=True
        )
        _, grads["K1"], grads["b1"] = block_backward_explicit(
            dJ_dvA1, vZ1, masks1, vA0, L1, self._fjac, J_in[1], input_grad=False
        )
        return loss, grads

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
        with blas_threads():  # the package's BLAS thread count, see _threads.py
            if method == "jacobian":
                return self._loss_and_grads_jacobian(X, y)
            loss, grads = _engine.loss_and_grads(*self._engine_args(), X, y, self._workspace)
        return loss, {key: grads[key] for key in PARAM_NAMES}

    def predict_proba(self, X, batch_size: int = 256) -> np.ndarray:
        """Class probabilities softmax(Z^[3]), shape (N, n_classes).

        Parameters
        ----------
        X : ndarray
            Stored uint8 images, shape (N, H, W) or one image (H, W), prepared with
            :func:`~cnn_helpers.data.prepare_images`, or already prepared float images
            (N, C, H, W). Any N >= 0.
        batch_size : int >= 1
            Images per forward pass. Only memory and speed depend on it: the scratch
            arrays of one pass are about 0.2 MB per image and are freed afterwards
            (the complete test split needs about 50 MB at the default 256).
        """
        X = self._inference_input(X)
        batch_size = as_int("batch_size", batch_size, 1)
        if X.shape[0] == 0:
            return np.zeros((0, self.n_classes), dtype=self.dtype)
        ws = Workspace()  # one pass's scratch arrays, reused by every batch of this call
        with blas_threads():
            return np.concatenate(
                [
                    softmax(_engine.logits(*self._engine_args(), X[k : k + batch_size], ws))
                    for k in range(0, X.shape[0], batch_size)
                ]
            )

    def predict(self, X, batch_size: int = 256) -> np.ndarray:
        """Most probable class of each image, shape (N,) (X as in :meth:`predict_proba`)."""
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
            raise FileNotFoundError(
                f"model file not found: {path} (write one with "
                f"ThreeLayerCNN.save or python -m cnn_helpers.train)"
            ) from None
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(
                f"{path} is not a ThreeLayerCNN file written by save(): {type(exc).__name__}: {exc}"
            ) from exc
        config["dtype"] = np.dtype(config["dtype"])
        model = cls(**config)
        for key in PARAM_NAMES:
            if arrays[key].shape != model.params[key].shape:
                raise ValueError(
                    f"{path}: parameter {key} has shape {arrays[key].shape}; "
                    f"the saved architecture expects {model.params[key].shape}"
                )
            model.params[key][...] = arrays[key]
        return model
