"""How fast is the NumPy CNN? ``python -m cnn_helpers.benchmark``.

Measures, in one process:

1. one training step (forward, backward and the in-place update
   ``params[k] -= lr * grads[k]``) of the default :class:`ThreeLayerCNN` on a batch of
   64 Sign Language MNIST images, in float32 and float64 (median over repeats);
2. when PyTorch happens to be installed (it is optional and never required), the same
   network in PyTorch -- ``Conv2d(1, 8, 3, padding=1)``, ReLU, ``MaxPool2d(2)``,
   ``Conv2d(8, 16, 3, padding=1)``, ReLU, ``MaxPool2d(2)``, ``Linear(784, 24)`` and a
   plain SGD step -- with ``torch.set_num_threads`` set to the same thread count,
   timed *interleaved* with ours (round-robin), reported as a ratio;
3. the explicit-Jacobian path (``method="jacobian"``) against the fast path;
4. how the explicit Jacobians grow with the image side s: the conv input Jacobian
   d vec(Z)/d vec(A) has (s^2)^2 = s^4 entries, while the fast path's arrays grow like
   s^2.

Timings depend on the machine and its load; use the median of several repeats and
compare numbers from the same run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

from .conv import conv_backward, conv_forward, conv_jacobian_input, conv_jacobian_kernel
from .data import load_signs, prepare_images
from .gradcheck import relative_error
from .model import ThreeLayerCNN
from .vec import unvec, vec

__all__ = ["default_threads", "make_step", "make_torch_step", "time_interleaved",
           "explicit_jacobian_entries", "fast_path_entries", "peak_memory",
           "time_call", "jacobian_scaling", "main"]


def default_threads():
    """Thread count NumPy's BLAS uses: OPENBLAS/OMP/MKL_NUM_THREADS, else all cores."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def make_step(model, X, y, lr=0.01):
    """A function that takes one plain gradient-descent step of ``model`` on (X, y)."""
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
    X : float ndarray (N, 1, 28, 28); y : int ndarray (N,)
    dtype : "float32" or "float64"
    threads : int, passed to ``torch.set_num_threads`` (default: :func:`default_threads`)
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or default_threads())
    torch.manual_seed(seed)
    tdtype = {"float32": torch.float32, "float64": torch.float64}[str(np.dtype(dtype))]
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(784, 24)).to(tdtype)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    Xt = torch.from_numpy(np.ascontiguousarray(X)).to(tdtype)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(Xt), yt)
        loss.backward()
        opt.step()
    return step


def time_interleaved(steps, repeats=30, warmup=3, inner=1):
    """Median seconds per call of each function, measured round-robin.

    Parameters
    ----------
    steps : dict name -> callable without arguments
    repeats : int, rounds; in each round every function runs ``inner`` times
    warmup : int, untimed rounds first

    Returns
    -------
    dict name -> median seconds per call
    """
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - t0) / inner)
    return {name: statistics.median(s) for name, s in samples.items()}


def time_call(fn, repeats=3, warmup=1):
    """Median seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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
    out["dense"] = model.n_flat * model.n_classes + model.n_classes ** 2
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


def peak_memory(fn):
    """Peak bytes that NumPy allocates while ``fn()`` runs (measured with tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def jacobian_scaling(sides=(8, 12, 16, 20, 28, 36, 40), n_samples=1, fast_batch=64, seed=0,
                     repeats=1, fast_repeats=5, measure_memory=True):
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
    rows = {k: [] for k in ("side", "jacobian_s", "fast_s", "jacobian_entries",
                            "fast_entries", "jacobian_peak_bytes", "fast_peak_bytes")}
    for s in sides:
        model = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
        X = rng.standard_normal((max(n_samples, fast_batch), 1, s, s))
        y = rng.integers(0, model.n_classes, X.shape[0])
        Xj, yj = X[:n_samples], y[:n_samples]
        Xf, yf = X[:fast_batch], y[:fast_batch]
        rows["side"].append(int(s))
        rows["jacobian_s"].append(time_call(   # a long call: no warm-up needed
            lambda: model.loss_and_grads(Xj, yj, method="jacobian"), repeats, 0) / n_samples)
        rows["fast_s"].append(time_call(lambda: model.loss_and_grads(Xf, yf), fast_repeats)
                              / fast_batch)
        rows["jacobian_entries"].append(explicit_jacobian_entries(model)["total"])
        rows["fast_entries"].append(fast_path_entries(model))
        if measure_memory:   # fresh models: no buffers left over from the batch above
            fresh = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
            rows["jacobian_peak_bytes"].append(
                peak_memory(lambda: fresh.loss_and_grads(X[:1], y[:1], method="jacobian")))
            fresh = ThreeLayerCNN(input_shape=(1, s, s), seed=seed)
            rows["fast_peak_bytes"].append(peak_memory(lambda: fresh.loss_and_grads(X[:1],
                                                                                    y[:1])))
    if not measure_memory:
        del rows["jacobian_peak_bytes"], rows["fast_peak_bytes"]
    return rows


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def explicit_conv_layer(A, K, b, dZ, pad=(1, 1), stride=(1, 1)):
    """A conv layer's forward and backward the paper's way (§3.1.5), one sample at a time.

    Forward: ``vec(Z_j) = sum_i (d vec Z_j / d vec A_i) vec(A_i) + b_j``; backward:
    ``dJ/dvec(K_ji) = dJ/dvec(Z_j) conv_jacobian_kernel(A_i)`` and
    ``dJ/dvec(A_i) = sum_j dJ/dvec(Z_j) conv_jacobian_input(K_ji)``, every Jacobian an
    explicit matrix. Returns (Z, dA, dK, db) with the shapes of the fast path.
    """
    N, C, H, W = A.shape
    F, _, kh, kw = K.shape
    hz, wz = dZ.shape[2:]
    J_in = [[conv_jacobian_input(K[j, i], (H, W), pad, stride) for i in range(C)]
            for j in range(F)]                                     # (hz wz, H W) each
    Z, dA, dK = np.empty((N, F, hz, wz)), np.empty(A.shape), np.zeros(K.shape)
    for n in range(N):
        vA, vG = vec(A[n]), vec(dZ[n])                              # (H W, C), (hz wz, F)
        for j in range(F):
            Z[n, j] = unvec(sum(J_in[j][i] @ vA[:, i] for i in range(C)) + b[j], (hz, wz))
        for i in range(C):
            rows = vG.T @ conv_jacobian_kernel(A[n, i], (kh, kw), pad, stride)  # (F, kh kw)
            for j in range(F):
                dK[j, i] += unvec(rows[j], (kh, kw))
            dA[n, i] = unvec(sum(vG[:, j] @ J_in[j][i] for j in range(F)), (H, W))
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


def main(argv=None):
    """Run the benchmark and print its tables; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cnn_helpers.benchmark",
        description="Time one training step of the default ThreeLayerCNN (float32, "
                    "float64, and PyTorch if installed, interleaved), the explicit-"
                    "Jacobian path, and how both grow with the image size.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=50,
                        help="timed rounds of the step benchmark")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: NumPy's BLAS thread count "
                             "from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else all cores)")
    parser.add_argument("--sides", type=int, nargs="+", default=[8, 12, 16, 20, 28, 36, 40],
                        help="image sides for the scaling table")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--skip-scaling", action="store_true",
                        help="skip the explicit-Jacobian tables")
    parser.add_argument("--skip-conv", action="store_true",
                        help="skip the conv-layer table (fast vs explicit, batch 64)")
    args = parser.parse_args(argv)
    for name in ("batch_size", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be >= 1; "
                         f"got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"argument --threads: must be >= 1; got {args.threads}")
    if any(s < 4 or s > 48 for s in args.sides):
        parser.error("argument --sides: every side must be in 4..48 (two 2x2 poolings need "
                     "4; the explicit Jacobians of one 48x48 image take 1.2 GB)")
    threads = args.threads or default_threads()

    data = load_signs()
    x, y = data.x_train[:args.batch_size], data.y_train[:args.batch_size].astype(np.int64)
    steps = {}
    for dt in ("float32", "float64"):
        model = ThreeLayerCNN(dtype=np.dtype(dt))
        steps[f"cnn_helpers {dt}"] = make_step(model, prepare_images(x, dt), y)
    if not args.no_torch:
        for dt in ("float32", "float64"):
            torch_step = make_torch_step(prepare_images(x, dt), y, dt, threads)
            if torch_step is None:
                break
            steps[f"PyTorch {dt}"] = torch_step
    import platform
    print(f"one training step (forward, backward, update), batch {args.batch_size}, default "
          f"network (8 and 16 filters 3x3, 2x2 max pooling); numpy {np.__version__}, "
          f"python {platform.python_version()}, {os.cpu_count()} cores, threads {threads}")
    if "PyTorch float32" not in steps:
        print("PyTorch comparison skipped (torch is not installed, or --no-torch)")
    else:
        import torch
        print(f"PyTorch {torch.__version__}, torch.set_num_threads({threads}), timed "
              f"interleaved with cnn_helpers")
    med = time_interleaved(steps, repeats=args.repeats)
    ref = med.get("PyTorch float32")
    header = ["implementation", "median ms/step", "images/s"]
    if ref:
        header.append("x PyTorch float32")
    rows = []
    for name, t in med.items():
        row = [name, f"{t * 1e3:.2f}", f"{args.batch_size / t:,.0f}"]
        if ref:
            row.append(f"{t / ref:.2f}")
        rows.append(row)
    print(_table(header, rows))

    if not args.skip_conv:
        print()
        print("one conv layer, forward + backward, batch 64, 3x3 kernels, padding 1, float64: "
              "fast path (conv_forward + conv_backward) vs explicit Jacobians (§3.1.5)")
        rows = [[name, f"{tf * 1e3:.1f}", f"{te * 1e3:.0f}", f"{te / tf:,.0f}", f"{d:.0e}"]
                for name, tf, te, d in conv_layer_timings(args.batch_size)]
        print(_table(["layer", "fast ms", "explicit ms", "ratio", "max rel. diff"], rows))

    if not args.skip_scaling:
        print()
        print("explicit Jacobians (method='jacobian', one image) vs fast path (batch of 64), "
              "float64: time per image, peak memory of one image")
        sc = jacobian_scaling(args.sides)
        rows = [[s, f"{tj * 1e3:.1f}", f"{tf * 1e3:.2f}", f"{tj / tf:,.0f}",
                 f"{ej:,}", f"{mj / 2**20:.1f}", f"{ef:,}", f"{mf / 2**20:.2f}"]
                for s, tj, tf, ej, mj, ef, mf in zip(
                    sc["side"], sc["jacobian_s"], sc["fast_s"], sc["jacobian_entries"],
                    sc["jacobian_peak_bytes"], sc["fast_entries"], sc["fast_peak_bytes"])]
        print(_table(["side", "jacobian ms", "fast ms", "ratio", "Jacobian entries",
                      "jac peak MiB", "fast entries", "fast peak MiB"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
