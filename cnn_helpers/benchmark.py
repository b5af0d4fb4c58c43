"""How fast is the NumPy CNN? ``python -m cnn_helpers.benchmark`` (or ``cnn-benchmark``).

Measures, in one process:

1. one training step (forward, backward and the in-place update
   ``params[k] -= lr * grads[k]``) of the default :class:`ThreeLayerCNN` on a batch of
   64 Sign Language MNIST images, in float32 and float64, with 1 and 2 NumPy BLAS
   threads (:func:`step_timings`), first on the idle machine and then while a busy
   process of our own (:func:`busy_core`) keeps one core occupied;
2. when PyTorch happens to be installed (it is optional and never required), the same
   network in PyTorch -- ``Conv2d(1, 8, 3, padding=1)``, ReLU, ``MaxPool2d(2)``,
   ``Conv2d(8, 16, 3, padding=1)``, ReLU, ``MaxPool2d(2)``, ``Linear`` and a plain SGD
   step -- with 1 and 2 threads (``torch.set_num_threads``), timed *interleaved* with
   ours (round-robin); PyTorch's faster thread count is the reference of the ratios;
3. the explicit-Jacobian path (``method="jacobian"``) against the fast path;
4. how the explicit Jacobians grow with the image side s: the conv input Jacobian
   d vec(Z)/d vec(A) has (s^2)^2 = s^4 entries, while the fast path's arrays grow like
   s^2.

Timings depend on the machine and its load; use the median of several repeats and
compare numbers from the same run only. The command line lives in
:mod:`cnn_helpers.cli`.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager, nullcontext

import numpy as np

from ._threads import blas_threads
from .conv import conv_backward, conv_forward
from .explicit import conv_backward_explicit, conv_forward_explicit, conv_input_jacobians
from .gradcheck import relative_error
from .model import ThreeLayerCNN
from .timing import busy_core, peak_memory, time_call, time_interleaved
from .vec import unvec, vec

__all__ = [
    "default_threads",
    "make_step",
    "make_torch_step",
    "torch_threads",
    "time_interleaved",
    "busy_core",
    "step_timings",
    "explicit_jacobian_entries",
    "fast_path_entries",
    "peak_memory",
    "time_call",
    "jacobian_scaling",
]


def default_threads():
    """Thread count NumPy's BLAS uses outside :func:`~cnn_helpers._threads.blas_threads`.

    OPENBLAS/OMP/MKL_NUM_THREADS if set, else all cores. Training and evaluation use
    :data:`cnn_helpers._threads.DEFAULT_THREADS` instead.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def make_step(model, X, y, lr=0.01):
    """A function that takes one plain gradient-descent step of ``model`` on (X, y).

    Parameters
    ----------
    model : ThreeLayerCNN
    X : float ndarray, shape (N, 1, H, W) with (1, H, W) = ``model.input_shape``
    y : int ndarray, shape (N,)
    lr : float
        Learning rate of ``params[k] -= lr * grads[k]``.
    """
    X = np.ascontiguousarray(X, dtype=model.dtype)
    params = model.params

    def step():
        _, grads = model.loss_and_grads(X, y)
        for key, g in grads.items():
            params[key] -= lr * g

    return step


def make_torch_step(X, y, dtype="float32", threads=None, lr=0.01, seed=0):
    """The same network and SGD step in PyTorch, or None if torch is not installed.

    Parameters
    ----------
    X : float ndarray, shape (N, 1, H, W)
    y : int ndarray, shape (N,)
    dtype : "float32" or "float64"
    threads : int, optional
        Passed to ``torch.set_num_threads`` now (default: :func:`default_threads`); to
        compare thread counts in one run, time the step inside :func:`torch_threads`.
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or default_threads())
    torch.manual_seed(seed)
    tdtype = {"float32": torch.float32, "float64": torch.float64}[str(np.dtype(dtype))]
    nn = torch.nn
    features = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    ).to(tdtype)
    Xt = torch.from_numpy(np.ascontiguousarray(X)).to(tdtype)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    with torch.no_grad():
        n_flat = features(Xt[:1]).shape[1]  # 16 (H/4) (W/4), from the images
    net = nn.Sequential(features, nn.Linear(n_flat, 24).to(tdtype))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(Xt), yt)
        loss.backward()
        opt.step()

    return step


@contextmanager
def torch_threads(threads):
    """``torch.set_num_threads(threads)`` inside a ``with`` block, restored on exit."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def step_timings(
    X,
    y,
    threads=(1, 2),
    dtypes=("float32", "float64"),
    torch=True,
    busy=(False, True),
    repeats=30,
    warmup=3,
    settle=2,
    seed=0,
):
    """Median training-step seconds of NumPy and PyTorch per thread count, idle and busy.

    Every (library, dtype, thread count) step runs interleaved with all others in one
    process; with ``busy`` containing True, the whole round-robin is repeated while
    :func:`busy_core` keeps one core busy.

    Parameters
    ----------
    X : float ndarray, shape (N, 1, H, W); y : int ndarray, shape (N,)
    threads : tuple of int
        NumPy BLAS threads (:func:`~cnn_helpers._threads.blas_threads`) and
        ``torch.set_num_threads`` counts to compare.
    dtypes : tuple of str
    torch : bool
        Include PyTorch when it is importable.
    busy : tuple of bool
        The conditions to measure: False = idle machine, True = one busy core.
    repeats, warmup, settle : int
        See :func:`~cnn_helpers.timing.time_interleaved`; ``settle`` untimed steps
        before each timed one keep the previous implementation's spinning threads (of
        OpenBLAS or PyTorch's OpenMP pool) out of the sample.

    Returns
    -------
    dict (library, dtype, threads) -> dict busy -> median seconds per step, with
    library "cnn_helpers" or "PyTorch".
    """
    steps, contexts = {}, {}
    for dt in dtypes:
        model = ThreeLayerCNN(input_shape=X.shape[1:], dtype=np.dtype(dt), seed=seed)
        for n in threads:
            key = ("cnn_helpers", dt, n)
            steps[key] = make_step(model, X, y)
            contexts[key] = lambda n=n: blas_threads(n)
        torch_step = make_torch_step(X, y, dt, threads[0], seed=seed) if torch else None
        for n in threads if torch_step is not None else ():
            steps[("PyTorch", dt, n)] = torch_step
            contexts[("PyTorch", dt, n)] = lambda n=n: torch_threads(n)
    out = {key: {} for key in steps}
    for condition in busy:
        with busy_core() if condition else nullcontext():
            medians = time_interleaved(steps, repeats, warmup, contexts=contexts, settle=settle)
        for key, seconds in medians.items():
            out[key][condition] = seconds
    return out


def explicit_jacobian_entries(model):
    """Entries of the paper's explicit matrices for ONE sample, per kind.

    Counts what §3.1 multiplies through: for each conv block the conv input Jacobians
    d vec(Z_j)/d vec(A_i) (c_out * c_in matrices of (h_z w_z) x (h_a w_a)), the
    kernel Jacobians d vec(Z_j)/d vec(K_ji) ((h_z w_z) x (h_k w_k), one per input
    channel), the diagonal activation Jacobians ((h_z w_z)^2 per channel) and the
    pooling Jacobians ((h_a w_a) x (h_z w_z) per channel); then the fully connected
    layer's W3 and the softmax Jacobian.

    Returns
    -------
    dict with keys "conv_input", "conv_kernel", "activation", "pool", "dense", "total"
    """
    out = dict(conv_input=0, conv_kernel=0, activation=0, pool=0)
    for layer in model.layers:
        nz = layer.z_hw[0] * layer.z_hw[1]
        na = layer.in_hw[0] * layer.in_hw[1]
        npool = layer.a_hw[0] * layer.a_hw[1]
        nk = layer.kernel_hw[0] * layer.kernel_hw[1]
        out["conv_input"] += layer.c_out * layer.c_in * nz * na
        out["conv_kernel"] += layer.c_in * nz * nk
        out["activation"] += layer.c_out * nz * nz
        out["pool"] += layer.c_out * npool * nz
    out["dense"] = model.n_flat * model.n_classes + model.n_classes**2
    out["total"] = sum(out.values())
    return out


def fast_path_entries(model, batch=1):
    """Entries of the activations the fast path keeps for ``batch`` samples.

    The input, every Z, I and A of both conv blocks, and the logits: all grow like the
    number of pixels, s^2.
    """
    total = batch * int(np.prod(model.input_shape))
    for layer in model.layers:
        nz = layer.z_hw[0] * layer.z_hw[1]
        na = layer.a_hw[0] * layer.a_hw[1]
        total += batch * layer.c_out * (2 * nz + na)
    return total + batch * model.n_classes


def jacobian_scaling(
    sides=(8, 12, 16, 20, 28, 36, 40),
    n_samples=1,
    fast_batch=64,
    seed=0,
    repeats=1,
    fast_repeats=5,
    measure_memory=True,
):
    """Time and memory of the loss and gradients, explicit Jacobians vs fast path.

    For each side s, a default-architecture ThreeLayerCNN on 1 x s x s inputs (float64)
    computes the loss and gradients of random images with ``method="jacobian"`` (on
    ``n_samples`` images) and ``method="fast"`` (on a batch of ``fast_batch`` images,
    since a single image would only measure the fast path's fixed overhead).

    Returns
    -------
    dict of lists keyed "side", "jacobian_s", "fast_s" (seconds per image),
    "jacobian_entries", "fast_entries" (counts for one image, see
    :func:`explicit_jacobian_entries` and :func:`fast_path_entries`), and, with
    ``measure_memory``, "jacobian_peak_bytes" and "fast_peak_bytes" (tracemalloc
    peaks of one call on one image).
    """
    rng = np.random.default_rng(seed)
    rows = {
        k: []
        for k in (
            "side",
            "jacobian_s",
            "fast_s",
            "jacobian_entries",
            "fast_entries",
            "jacobian_peak_bytes",
            "fast_peak_bytes",
        )
    }
    for s in sides:
        model = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
        X = rng.standard_normal((max(n_samples, fast_batch), 1, s, s))
        y = rng.integers(0, model.n_classes, X.shape[0])
        Xj, yj = X[:n_samples], y[:n_samples]
        Xf, yf = X[:fast_batch], y[:fast_batch]
        rows["side"].append(int(s))
        rows["jacobian_s"].append(
            time_call(  # a long call: no warm-up needed
                lambda: model.loss_and_grads(Xj, yj, method="jacobian"), repeats, 0
            )
            / n_samples
        )
        rows["fast_s"].append(
            time_call(lambda: model.loss_and_grads(Xf, yf), fast_repeats) / fast_batch
        )
        rows["jacobian_entries"].append(explicit_jacobian_entries(model)["total"])
        rows["fast_entries"].append(fast_path_entries(model))
        if measure_memory:  # fresh models: no buffers left over from the batch above
            fresh = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
            rows["jacobian_peak_bytes"].append(
                peak_memory(lambda: fresh.loss_and_grads(X[:1], y[:1], method="jacobian"))
            )
            fresh = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
            rows["fast_peak_bytes"].append(peak_memory(lambda: fresh.loss_and_grads(X[:1], y[:1])))
    if not measure_memory:
        del rows["jacobian_peak_bytes"], rows["fast_peak_bytes"]
    return rows


def explicit_conv_layer(A, K, b, dZ, pad=(1, 1), stride=(1, 1)):
    """A conv layer's forward and backward the paper's way (§3.1.5), one sample at a time.

    The same explicit-Jacobian conv layer as ``ThreeLayerCNN(method="jacobian")``
    (:mod:`cnn_helpers.explicit`): forward ``vec(Z_j) = sum_i (d vec Z_j / d vec A_i)
    vec(A_i) + b_j``, backward through ``conv_jacobian_kernel`` and
    ``conv_jacobian_input``, every Jacobian an explicit matrix. A (N, C, H, W), K
    (F, C, kh, kw), b (F,), dZ (N, F, h_z, w_z); returns (Z, dA, dK, db) with the
    shapes of the fast path.
    """
    N, C, H, W = A.shape
    F, _, kh, kw = K.shape
    hz, wz = dZ.shape[2:]
    J_in = conv_input_jacobians(K, (H, W), pad, stride)  # [j][i]: (hz wz, H W)
    Z, dA, dK = np.empty((N, F, hz, wz)), np.empty(A.shape), np.zeros(K.shape)
    for n in range(N):
        vA = vec(A[n])  # (H W, C)
        Z[n] = unvec(conv_forward_explicit(vA, J_in, b), (F, hz, wz))
        rows = vec(dZ[n]).T  # (F, hz wz): row j = dJ/d vec(Z_j)
        dJ_dvA, dK_n, _ = conv_backward_explicit(rows, vA, J_in, (H, W), (kh, kw), pad, stride)
        dA[n] = unvec(dJ_dvA.T, (C, H, W))
        dK += dK_n
    return Z, dA, dK, dZ.sum(axis=(0, 2, 3))


def conv_layer_timings(batch=64, layers=((1, 8, 28), (8, 16, 14)), seed=0):
    """Fast conv_forward + conv_backward versus :func:`explicit_conv_layer`.

    For each (c_in, c_out, side): 3x3 kernels, padding 1, a batch of ``batch`` random
    images and a random upstream gradient. Returns rows (layer, fast s, explicit s,
    max relative difference of Z, dA, dK, db).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c_in, c_out, side in layers:
        A = rng.standard_normal((batch, c_in, side, side))
        K = rng.standard_normal((c_out, c_in, 3, 3))
        b = rng.standard_normal(c_out)
        G = rng.standard_normal((batch, c_out, side, side))

        def fast():
            return (conv_forward(A, K, b, 1, 1), *conv_backward(G, A, K, 1, 1))

        t_fast = time_call(fast, repeats=5)
        t_explicit = time_call(lambda: explicit_conv_layer(A, K, b, G), repeats=1, warmup=0)
        diff = max(relative_error(u, v) for u, v in zip(fast(), explicit_conv_layer(A, K, b, G)))
        rows.append((f"{c_in}->{c_out} on {side}x{side}", t_fast, t_explicit, diff))
    return rows


if __name__ == "__main__":
    from .cli import benchmark_main

    sys.exit(benchmark_main())
