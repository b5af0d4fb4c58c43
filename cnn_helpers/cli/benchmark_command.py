"""``python -m cnn_helpers.benchmark`` (``cnn-benchmark``): print the timing tables."""

from __future__ import annotations

import os
import platform
import sys

import numpy as np

from .. import benchmark
from .._threads import DEFAULT_THREADS, blas_threads
from ..data import load_signs, prepare_images
from ._options import _new_parser, _positive_int, _side, _table


def build_benchmark_parser():
    """The argparse parser of ``python -m cnn_helpers.benchmark``."""
    parser = _new_parser(
        "cnn_helpers.benchmark",
        "cnn-benchmark",
        "Time one training step of the default ThreeLayerCNN (float32, float64, and "
        "PyTorch if installed, interleaved) with 1 and 2 threads, idle and with one busy "
        "core, the explicit-Jacobian path, and how both grow with the image size.",
        64,
        "images per training step in the step table",
        "NumPy BLAS threads of the conv-layer and scaling tables",
    )
    add = parser.add_argument
    add(
        "--repeats",
        type=_positive_int,
        default=50,
        help="timed rounds of the step benchmark, per condition",
    )
    add(
        "--compare-threads",
        type=_positive_int,
        nargs="+",
        default=[1, 2],
        metavar="N",
        help="thread counts of the step table, for NumPy's BLAS and for PyTorch "
        "(default: 1 2); --threads applies to the other tables",
    )
    add(
        "--sides",
        type=_side,
        nargs="+",
        default=[8, 12, 16, 20, 28, 36, 40],
        help="image sides for the scaling table (default: 8 12 16 20 28 36 40)",
    )
    add("--no-torch", action="store_true", help="skip PyTorch")
    add("--no-busy", action="store_true", help="measure the idle machine only (no busy process)")
    add("--skip-scaling", action="store_true", help="skip the explicit-Jacobian tables")
    add(
        "--skip-conv",
        action="store_true",
        help="skip the conv-layer table (fast vs explicit, batch 64)",
    )
    return parser


def benchmark_main(argv=None):
    """Run the benchmark and print its tables; returns the exit status."""
    args = build_benchmark_parser().parse_args(argv)
    try:
        data = load_signs(args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    x, y = data.x_train[: args.batch_size], data.y_train[: args.batch_size].astype(np.int64)
    print(
        f"one training step (forward, backward, update), batch {len(x)}, default network\n"
        f"(8 and 16 filters 3x3, 2x2 max pooling); numpy {np.__version__}, python "
        f"{platform.python_version()}, {os.cpu_count()} cores; training uses "
        f"{DEFAULT_THREADS} BLAS thread(s) by default"
    )
    _print_step_table(prepare_images(x), y, args)
    with blas_threads(args.threads):
        if not args.skip_conv:
            _print_conv_table()
        if not args.skip_scaling:
            _print_scaling_table(args.sides)
    return 0


def _print_step_table(X, y, args):
    """The step table: median ms per step, idle and busy, with ratios to PyTorch."""
    busy = (False,) if args.no_busy else (False, True)
    timings = benchmark.step_timings(
        X, y, tuple(args.compare_threads), torch=not args.no_torch, busy=busy, repeats=args.repeats
    )
    ref = _torch_reference(timings, busy)
    if ref:
        import torch

        print(
            f"PyTorch {torch.__version__}, interleaved with cnn_helpers; reference:\n"
            f"PyTorch's fastest thread count per dtype and condition ("
            + ", ".join(f"{dt} {'busy' if b else 'idle'}: {n}" for (dt, b), (_, n) in ref.items())
            + ")"
        )
    else:
        print("PyTorch comparison skipped (torch is not installed, or --no-torch)")
    if len(busy) == 2:
        print("busy: while one other process keeps a core busy (started and stopped here)")
    header = ["implementation", "threads"]
    for b in busy:
        cond = "busy" if b else "idle"
        header += [f"{cond} ms"] + ([f"{cond} x PyTorch"] if ref else [])
    header += ["busy/idle"] if len(busy) == 2 else []
    rows = []
    for (lib, dt, n), seconds in timings.items():
        row = [f"{lib} {dt}", n]
        for b in busy:
            row.append(f"{seconds[b] * 1e3:.2f}")
            row += [f"{seconds[b] / ref[dt, b][0]:.2f}"] if ref else []
        row += [f"{seconds[True] / seconds[False]:.2f}"] if len(busy) == 2 else []
        rows.append(row)
    print(_table(header, rows))
    return timings


def _torch_reference(timings, busy):
    """(dtype, busy) -> (seconds, threads) of PyTorch's fastest thread count, or {}."""
    ref = {}
    for (lib, dt, n), seconds in timings.items():
        for b in busy:
            if lib == "PyTorch" and ((dt, b) not in ref or seconds[b] < ref[dt, b][0]):
                ref[dt, b] = (seconds[b], n)
    return ref


def _print_conv_table():
    print()
    print(
        "one conv layer, forward + backward, batch 64, 3x3 kernels, padding 1, float64: "
        "fast path (conv_forward + conv_backward) vs explicit Jacobians (§3.1.5)"
    )
    rows = [
        [name, f"{tf * 1e3:.1f}", f"{te * 1e3:.0f}", f"{te / tf:,.0f}", f"{d:.0e}"]
        for name, tf, te, d in benchmark.conv_layer_timings(64)
    ]
    print(_table(["layer", "fast ms", "explicit ms", "ratio", "max rel. diff"], rows))


def _print_scaling_table(sides):
    print()
    print(
        "explicit Jacobians (method='jacobian', one image) vs fast path (batch of 64), "
        "float64: time per image, peak memory of one image"
    )
    sc = benchmark.jacobian_scaling(sides)
    columns = zip(
        sc["side"],
        sc["jacobian_s"],
        sc["fast_s"],
        sc["jacobian_entries"],
        sc["jacobian_peak_bytes"],
        sc["fast_entries"],
        sc["fast_peak_bytes"],
    )
    rows = [
        [
            s,
            f"{tj * 1e3:.1f}",
            f"{tf * 1e3:.2f}",
            f"{tj / tf:,.0f}",
            f"{ej:,}",
            f"{mj / 2**20:.1f}",
            f"{ef:,}",
            f"{mf / 2**20:.2f}",
        ]
        for s, tj, tf, ej, mj, ef, mf in columns
    ]
    print(
        _table(
            [
                "side",
                "jacobian ms",
                "fast ms",
                "ratio",
                "Jacobian entries",
                "jac peak MiB",
                "fast entries",
                "fast peak MiB",
            ],
            rows,
        )
    )
