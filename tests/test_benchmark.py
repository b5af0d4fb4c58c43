"""The benchmark: its explicit conv layer computes what the fast path computes; the step
table (idle and busy, NumPy and PyTorch thread counts) has the promised structure; the
command-line help is complete. Tiny repeats only: no timing is asserted."""

import importlib
import math
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from cnn_helpers import (
    ThreeLayerCNN,
    conv_backward,
    conv_forward,
    conv_jacobian_input,
    load_signs,
    prepare_images,
    relative_error,
)
from cnn_helpers import benchmark
from cnn_helpers._threads import DEFAULT_THREADS, blas_info
from cnn_helpers.benchmark import conv_layer_timings, explicit_conv_layer
from cnn_helpers.cli import (
    TRAIN_DEFAULTS,
    benchmark_main,
    build_benchmark_parser,
    build_train_parser,
)
from cnn_helpers.cli.benchmark_command import _torch_reference


def test_explicit_conv_layer_matches_fast_path(rng):
    """§3.1.5 with explicit matrices == conv_forward / conv_backward, padded and strided."""
    A = rng.standard_normal((2, 3, 7, 6))
    K = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    pad, stride = (1, 0), (2, 1)
    Z = conv_forward(A, K, b, pad, stride)
    G = rng.standard_normal(Z.shape)
    fast = (Z, *conv_backward(G, A, K, pad, stride))
    explicit = explicit_conv_layer(A, K, b, G, pad, stride)
    for name, u, v in zip(("Z", "dA", "dK", "db"), fast, explicit):
        assert u.shape == v.shape, name
        assert relative_error(u, v) < 1e-12, name


def test_conv_layer_timings_reports_agreement():
    rows = conv_layer_timings(batch=2, layers=((1, 2, 6),))
    ((name, t_fast, t_explicit, diff),) = rows
    assert name == "1->2 on 6x6" and t_fast > 0 and t_explicit > 0 and diff < 1e-12


# ------------------------------------------------------------------ benchmark helpers
@pytest.mark.parametrize("side", [8, 12])
def test_explicit_jacobian_entry_count_matches_the_matrices(side):
    model = ThreeLayerCNN(input_shape=(1, side, side))
    counts = benchmark.explicit_jacobian_entries(model)
    K1, K2 = model.params["K1"], model.params["K2"]
    l1, l2 = model.layers
    conv_input = (
        K1.shape[0] * K1.shape[1] * conv_jacobian_input(K1[0, 0], l1.in_hw, 1).size
        + K2.shape[0] * K2.shape[1] * conv_jacobian_input(K2[0, 0], l2.in_hw, 1).size
    )
    assert counts["conv_input"] == conv_input
    assert conv_jacobian_input(K1[0, 0], (side, side), 1).size == side**4


def _table_rows(text, first_header):
    """The header and data rows of the printed table whose header starts ``first_header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return lines[start], rows


def test_benchmark_main_reports_idle_and_busy_steps(capsys):
    argv = ["--repeats", "1", "--batch-size", "8", "--no-torch", "--sides", "8", "--skip-conv"]
    assert benchmark_main(argv) == 0
    text = capsys.readouterr().out
    assert "PyTorch comparison skipped" in text and "busy" in text
    header, rows = _table_rows(text, "implementation")
    assert header.split() == ["implementation", "threads", "idle", "ms", "busy", "ms", "busy/idle"]
    assert [(r[0], r[1], int(r[2])) for r in rows] == [
        ("cnn_helpers", "float32", 1),
        ("cnn_helpers", "float32", 2),
        ("cnn_helpers", "float64", 1),
        ("cnn_helpers", "float64", 2),
    ]
    for r in rows:
        idle, busy, ratio = (float(v) for v in r[3:])
        assert 0 < idle and 0 < busy and math.isfinite(ratio) and ratio > 0
    assert "jacobian ms" in text


def test_benchmark_main_idle_only_and_thread_choice(capsys):
    argv = [
        "--repeats",
        "1",
        "--batch-size",
        "4",
        "--no-torch",
        "--no-busy",
        "--compare-threads",
        "1",
        "--threads",
        "2",
        "--skip-scaling",
        "--skip-conv",
    ]
    assert benchmark_main(argv) == 0
    header, rows = _table_rows(capsys.readouterr().out, "implementation")
    assert header.split() == ["implementation", "threads", "idle", "ms"]
    assert [r[2] for r in rows] == ["1", "1"]


def test_step_timings_structure_and_thread_counts():
    X = prepare_images(load_signs().x_train[:4])
    y = np.arange(4)
    seen = []
    real = benchmark.make_step

    def spy_step(model, X, y, lr=0.01):
        step = real(model, X, y, lr)

        def counted():
            seen.append(blas_info()[0]["num_threads"])
            step()

        return counted

    benchmark.make_step, before = spy_step, blas_info()[0]["num_threads"]
    try:
        timings = benchmark.step_timings(
            X,
            y,
            threads=(1, 2),
            dtypes=("float32",),
            torch=False,
            busy=(False,),
            repeats=2,
            warmup=1,
            settle=1,
        )
    finally:
        benchmark.make_step = real
    assert list(timings) == [("cnn_helpers", "float32", 1), ("cnn_helpers", "float32", 2)]
    assert all(list(v) == [False] and v[False] > 0 for v in timings.values())
    assert seen == [1, 1, 2, 2] * 3  # interleaved, each with its own count
    assert blas_info()[0]["num_threads"] == before


def test_torch_reference_is_the_fastest_thread_count():
    timings = {
        ("cnn_helpers", "float32", 1): {False: 1.0, True: 1.0},
        ("PyTorch", "float32", 1): {False: 3.0, True: 4.0},
        ("PyTorch", "float32", 2): {False: 2.0, True: 9.0},
    }
    ref = _torch_reference(timings, (False, True))
    assert ref == {("float32", False): (2.0, 2), ("float32", True): (4.0, 1)}
    assert _torch_reference({("cnn_helpers", "float64", 1): {False: 1.0}}, (False,)) == {}


def test_busy_core_always_stops_its_process():
    with benchmark.busy_core(settle=0.0) as proc:
        assert proc.poll() is None  # spinning inside the block
    assert proc.poll() is not None
    with pytest.raises(KeyboardInterrupt):
        with benchmark.busy_core(settle=0.0) as proc:
            raise KeyboardInterrupt
    assert proc.poll() is not None


def test_time_interleaved_enters_the_contexts_outside_the_timer():
    entered = []

    @contextmanager
    def ctx(name):
        entered.append(name)
        yield

    calls = []
    steps = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    med = benchmark.time_interleaved(steps, repeats=3, warmup=1, contexts={"a": lambda: ctx("a")})
    assert calls == ["a", "b"] * 4 and entered == ["a"] * 4
    assert set(med) == {"a", "b"} and all(v >= 0 for v in med.values())


def test_benchmark_without_torch_skips_the_comparison(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" raises ImportError
    assert benchmark.make_torch_step(np.zeros((2, 1, 28, 28)), np.zeros(2, int)) is None
    X, y = np.zeros((2, 1, 8, 8)), np.zeros(2, int)
    timings = benchmark.step_timings(
        X, y, threads=(1,), dtypes=("float64",), busy=(False,), repeats=1, warmup=0
    )
    assert list(timings) == [("cnn_helpers", "float64", 1)]  # torch=True, not importable


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_torch_step_trains_and_threads_are_restored():
    import torch

    X = prepare_images(load_signs().x_train[:6, 2:26, 2:26])  # any image size
    step = benchmark.make_torch_step(X, np.arange(6), "float64", threads=1)
    step()
    before = torch.get_num_threads()
    with benchmark.torch_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------ command-line help
@pytest.mark.parametrize("build", [build_train_parser, build_benchmark_parser])
def test_every_option_has_help_and_no_empty_default(build):
    parser = build()
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help text"
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "--threads" in text and "--batch-size" in text


def test_help_shows_meaningful_defaults():
    text = " ".join(build_train_parser().format_help().split())
    batch = TRAIN_DEFAULTS["batch_size"]
    assert f"images per gradient step (default: {batch})" in text
    assert "(default: 0.0)" in text  # a zero default is still shown
    assert f"the package default {DEFAULT_THREADS}" in text
    bench = " ".join(build_benchmark_parser().format_help().split())
    assert "images per training step in the step table (default: 64)" in bench


def test_package_binds_no_function_named_train():
    code = (
        "import cnn_helpers, types; t = getattr(cnn_helpers, 'train', None); "
        "print(t is None or isinstance(t, types.ModuleType), 'train' in cnn_helpers.__all__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["True", "False"]


def test_console_scripts_point_at_the_cli():
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parent.parent
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"cnn-train", "cnn-benchmark"}
    for target in scripts.values():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name))


def test_benchmark_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_helpers.benchmark",
            "--repeats",
            "1",
            "--batch-size",
            "4",
            "--no-torch",
            "--no-busy",
            "--skip-conv",
            "--skip-scaling",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "cnn_helpers float32" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "cnn_helpers.benchmark", "--batch-size", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "argument --batch-size" in bad.stderr
