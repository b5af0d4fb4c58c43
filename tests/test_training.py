"""The training loop (cnn_helpers.training), the BLAS thread context and the training CLI
(python -m cnn_helpers.train): small, fast runs on subsets of the shipped data."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cnn_helpers import ThreeLayerCNN, load_signs, prepare_images
from cnn_helpers import train as train_cli
from cnn_helpers._threads import DEFAULT_THREADS, ENV_VAR, blas_info, blas_threads, resolve_threads
from cnn_helpers.cli import TRAIN_DEFAULTS
from cnn_helpers.training import (
    RECOGNIZER_CHANNELS,
    RECOGNIZER_KERNELS,
    build_recognizer,
    evaluate,
    gradient_step,
    iterate_minibatches,
    lr_factor,
    random_shift,
    same_padding,
    train,
)


@pytest.fixture(scope="module")
def signs():
    return load_signs()


@pytest.fixture(scope="module")
def small(signs):
    """10 training images per letter (240) and the first 300 test images."""
    idx = np.concatenate([np.flatnonzero(signs.y_train == c)[:10] for c in range(24)])
    return signs.x_train[idx], signs.y_train[idx], signs.x_test[:300], signs.y_test[:300]


# ------------------------------------------------------------------ random_shift
def _shift_reference(img, dy, dx, fill):
    """out[i, j] = img[i - dy, j - dx], by padding and slicing (independent of the gather)."""
    H, W = img.shape
    m = max(abs(dy), abs(dx))
    if fill == "edge":
        padded = np.pad(img, m, mode="edge")
    else:
        padded = np.pad(img, m, mode="constant", constant_values=0)
    return padded[m - dy : m - dy + H, m - dx : m - dx + W]


@pytest.mark.parametrize("fill", ["edge", "zero"])
def test_random_shift_is_a_shift_by_at_most_max_shift(rng, fill):
    x = rng.integers(1, 256, size=(40, 9, 11), dtype=np.uint8)  # no zeros: fill is visible
    out = random_shift(x, 2, np.random.default_rng(3), fill=fill)
    assert out.shape == x.shape and out.dtype == np.uint8
    offsets = set()
    for n in range(len(x)):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(out[n], _shift_reference(x[n], dy, dx, fill))
        ]
        assert len(matches) == 1, f"image {n} is not a unique shift of its input"
        offsets.add(matches[0])
    assert len(offsets) > 10  # the offsets vary from image to image
    # every offset from -max_shift to +max_shift occurs on both axes (an off-by-one in the
    # drawing, e.g. integers(-2, 2), would never shift by +2)
    assert {dy for dy, _ in offsets} == {dx for _, dx in offsets} == set(range(-2, 3))


def test_random_shift_border_mean_fill(rng):
    x = rng.integers(0, 256, size=(30, 8, 8), dtype=np.uint8)
    out = random_shift(x, 3, np.random.default_rng(0), fill="border_mean")
    edge = random_shift(x, 3, np.random.default_rng(0), fill="edge")
    for n in range(len(x)):
        ring = np.concatenate([x[n, 0], x[n, -1], x[n, 1:-1, 0], x[n, 1:-1, -1]])
        differ = out[n] != edge[n]
        # wherever the two fills differ, border_mean wrote the rounded ring mean
        assert np.all(out[n][differ] == np.rint(ring.mean()))


def test_random_shift_float_and_nchw_inputs(rng):
    x = rng.standard_normal((16, 2, 6, 7))
    out = random_shift(x, 1, np.random.default_rng(5))
    assert out.shape == x.shape and out.dtype == x.dtype
    # both channels of an image are shifted alike: compare with a 3-D shift of each channel
    for c in range(2):
        np.testing.assert_array_equal(out[:, c], random_shift(x[:, c], 1, np.random.default_rng(5)))
    x32 = x.astype(np.float32)
    assert random_shift(x32, 1, np.random.default_rng(5), fill="zero").dtype == np.float32


def test_random_shift_is_seeded_and_zero_shift_copies(rng):
    x = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    a = random_shift(x, 2, np.random.default_rng(7))
    b = random_shift(x, 2, np.random.default_rng(7))
    c = random_shift(x, 2, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    same = random_shift(x, 0, np.random.default_rng(7))
    np.testing.assert_array_equal(same, x)
    assert same is not x


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(max_shift=-1), ValueError, "max_shift"),
        (dict(max_shift=28), ValueError, "max_shift"),
        (dict(max_shift=1.5), TypeError, "max_shift"),
        (dict(rng=0), TypeError, "rng"),
        (dict(fill="reflect"), ValueError, "fill"),
    ],
)
def test_random_shift_rejects_bad_arguments(kwargs, exc, word):
    args = dict(x=np.zeros((2, 28, 28), np.uint8), max_shift=2, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        random_shift(**args)
    with pytest.raises(TypeError, match="x"):
        random_shift(np.zeros((2, 5, 5), bool), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        random_shift(np.zeros((5, 5)), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN"):
        random_shift(np.full((2, 5, 5), np.nan), 1, np.random.default_rng(0))


# ------------------------------------------------------------------ minibatches, schedule
@pytest.mark.parametrize(
    "n, batch, drop_last", [(10, 3, False), (10, 3, True), (8, 8, False), (5, 10, False)]
)
def test_iterate_minibatches_partitions_the_indices(n, batch, drop_last):
    batches = list(iterate_minibatches(n, batch, np.random.default_rng(0), drop_last=drop_last))
    sizes = [len(b) for b in batches]
    assert all(s == batch for s in sizes[:-1])
    joined = np.concatenate(batches)
    if drop_last:
        assert len(joined) == n - n % batch and len(set(joined)) == len(joined)
    else:
        np.testing.assert_array_equal(np.sort(joined), np.arange(n))
    ordered = list(iterate_minibatches(n, batch, None, shuffle=False))
    np.testing.assert_array_equal(np.concatenate(ordered), np.arange(n))


def test_iterate_minibatches_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(10, 0, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="n"):
        list(iterate_minibatches(0, 2, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="rng"):
        list(iterate_minibatches(10, 2, None))


def test_lr_factor_schedules():
    assert lr_factor("constant", 0.9) == 1.0
    assert lr_factor("cosine", 0.0) == 1.0 and abs(lr_factor("cosine", 0.5) - 0.5) < 1e-12
    assert lr_factor("step", 0.49) == 1.0 and lr_factor("step", 0.6) == 0.1
    assert lr_factor("step", 0.8) == 0.01
    assert lr_factor("linear", 0.25) == 0.75
    assert lr_factor(lambda t: 2 * t, 0.25) == 0.5
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_factor("exponential", 0.5)


def test_lr_factor_warmup_rises_linearly_then_runs_the_schedule_on_the_rest():
    assert lr_factor("cosine", 0.0, warmup=0.1) == 0.0
    assert abs(lr_factor("cosine", 0.05, warmup=0.1) - 0.5) < 1e-12
    assert lr_factor("cosine", 0.1, warmup=0.1) == 1.0  # the schedule's start
    assert abs(lr_factor("cosine", 0.55, warmup=0.1) - 0.5) < 1e-12  # its middle
    assert abs(lr_factor("cosine", 1.0, warmup=0.1)) < 1e-12
    assert abs(lr_factor("linear", 0.4, warmup=0.2) - 0.75) < 1e-12
    assert abs(lr_factor(lambda t: t, 0.6, warmup=0.2) - 0.5) < 1e-12
    assert lr_factor("cosine", 0.3) == lr_factor("cosine", 0.3, warmup=0.0)


def test_train_warmup_alpha_per_step(small):
    """One step per epoch: alpha = lr * progress / warmup, then the (constant) schedule."""
    x_tr, y_tr, _, _ = small
    model = ThreeLayerCNN(seed=2)
    common = dict(epochs=10, batch_size=len(x_tr), lr=0.3, max_shift=0, eval_train=False)
    history = train(model, x_tr, y_tr, lr_schedule="constant", warmup=0.5, **common)
    expected = [0.0, 0.06, 0.12, 0.18, 0.24, 0.3, 0.3, 0.3, 0.3, 0.3]
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="warmup"):
        train(model, x_tr, y_tr, warmup=1.0, **common)
    with pytest.raises(TypeError, match="warmup"):
        train(model, x_tr, y_tr, warmup="0.1", **common)


# ------------------------------------------------------------------ evaluate
def test_evaluate_matches_predict_and_the_loss(small):
    x_tr, y_tr, x_te, y_te = small
    model = ThreeLayerCNN(seed=1, dtype=np.float32)
    loss_a, acc_a = evaluate(model, x_te, y_te, batch_size=64)
    loss_b, acc_b = evaluate(model, prepare_images(x_te, np.float32), y_te, batch_size=1000)
    assert acc_a == acc_b == float(np.mean(model.predict(prepare_images(x_te)) == y_te))
    assert abs(loss_a - loss_b) < 1e-5
    # an untrained network: the loss is close to ln(24)
    assert abs(loss_a - np.log(24)) < 0.1
    assert isinstance(loss_a, float) and isinstance(acc_a, float)


@pytest.mark.parametrize(
    "y, exc",
    [
        ([-1] * 4, ValueError),
        ([24] * 4, ValueError),
        ([0] * 3, ValueError),
        ([0.0] * 4, TypeError),
        ([True] * 4, TypeError),
    ],
)
def test_evaluate_rejects_bad_labels(small, y, exc):
    x_te = small[2][:4]
    model = ThreeLayerCNN(seed=1)
    for X in (x_te, prepare_images(x_te)):  # stored and prepared images alike
        with pytest.raises(exc, match="y"):
            evaluate(model, X, y)


def test_evaluate_rejects_empty_prepared_images():
    with pytest.raises(ValueError, match="X"):
        evaluate(ThreeLayerCNN(), np.zeros((0, 1, 28, 28)), np.zeros(0, int))


# ------------------------------------------------------------------ BLAS threads
def _blas_counts():
    return [info["num_threads"] for info in blas_info()]


def test_blas_threads_limits_inside_and_restores_after():
    before = _blas_counts()
    assert before, "threadpoolctl finds NumPy's BLAS"
    for n in (1, 2):
        with blas_threads(n) as got:
            assert got == n and _blas_counts() == [n] * len(before)
        assert _blas_counts() == before
    with pytest.raises(RuntimeError):  # restored after an exception too
        with blas_threads(1):
            raise RuntimeError("boom")
    assert _blas_counts() == before
    with blas_threads() as got:
        assert got == DEFAULT_THREADS and _blas_counts() == [DEFAULT_THREADS] * len(before)


def test_model_calls_use_the_default_and_keep_an_outer_count(monkeypatch):
    """loss_and_grads/predict run inside blas_threads(); nested in blas_threads(2) (as
    train(..., threads=2) does) they keep 2, and the caller's count is back afterwards."""
    import cnn_helpers.model as model_module

    before = _blas_counts()
    model = ThreeLayerCNN(input_shape=(1, 8, 8), n_classes=3, channels=(2, 2))
    X, y = np.zeros((2, 1, 8, 8)), np.array([0, 1])
    seen = []
    engine_step = model_module._engine.loss_and_grads

    def spy(*args):
        seen.append(_blas_counts()[0])
        return engine_step(*args)

    monkeypatch.setattr(model_module._engine, "loss_and_grads", spy)
    model.loss_and_grads(X, y)
    with blas_threads(2):
        model.loss_and_grads(X, y)
        assert _blas_counts()[0] == 2
    assert seen == [DEFAULT_THREADS, 2] and _blas_counts() == before


def test_blas_threads_environment_override(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "2")
    assert resolve_threads() == 2 and resolve_threads(1) == 1
    monkeypatch.setenv(ENV_VAR, "zero")
    with pytest.raises(ValueError, match=ENV_VAR):
        resolve_threads()
    monkeypatch.delenv(ENV_VAR)
    assert resolve_threads() == DEFAULT_THREADS


@pytest.mark.parametrize(
    "threads, exc",
    [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError)],
)
def test_blas_threads_rejects_bad_values(small, threads, exc):
    before = _blas_counts()
    with pytest.raises(exc, match="threads"):
        with blas_threads(threads):
            pass
    x_tr, y_tr, _, _ = small
    with pytest.raises(exc, match="threads"):
        train(ThreeLayerCNN(), x_tr[:8], y_tr[:8], epochs=1, threads=threads)
    with pytest.raises(exc, match="threads"):
        evaluate(ThreeLayerCNN(), x_tr[:8], y_tr[:8], threads=threads)
    assert _blas_counts() == before


def test_train_runs_with_the_requested_threads(small, monkeypatch):
    """During training BLAS has the requested count; afterwards the caller's is back."""
    x_tr, y_tr, _, _ = small
    before = _blas_counts()
    model = ThreeLayerCNN(seed=0)
    seen = []
    step = model.loss_and_grads

    def spy(*args, **kwargs):
        seen.append(tuple(_blas_counts()))
        return step(*args, **kwargs)

    monkeypatch.setattr(model, "loss_and_grads", spy)
    for n in (2, 1):
        seen.clear()
        train(model, x_tr[:40], y_tr[:40], epochs=1, batch_size=20, threads=n, eval_train=False)
        assert set(seen) == {(n,) * len(before)}
        assert _blas_counts() == before


# ------------------------------------------------------------------ train
def test_one_plain_gradient_descent_step_is_the_paper_update(small):
    """With one full batch, no shift and a constant rate, train() is K := K - lr grad."""
    x_tr, y_tr, _, _ = small
    model = ThreeLayerCNN(seed=2)
    before = {k: v.copy() for k, v in model.params.items()}
    arrays = {k: v for k, v in model.params.items()}
    _, grads = model.loss_and_grads(prepare_images(x_tr), y_tr)
    history = train(
        model,
        x_tr,
        y_tr,
        epochs=1,
        batch_size=len(x_tr),
        lr=0.3,
        max_shift=0,
        lr_schedule="constant",
        warmup=0.0,
        eval_train=False,
    )
    for key in before:
        assert model.params[key] is arrays[key]  # updated in place
        np.testing.assert_allclose(
            model.params[key], before[key] - 0.3 * grads[key], rtol=1e-12, atol=1e-14
        )
    assert history["lr"] == [0.3]


def test_gradient_step_plain_and_with_momentum():
    """P := P - alpha g, and with momentum V := mu V + g, P := P - alpha V, in place."""
    rng = np.random.default_rng(0)
    g1, g2 = rng.normal(size=(2, 3, 4))
    p0 = rng.normal(size=(3, 4))
    params = {"K": p0.copy()}
    arr = params["K"]
    gradient_step(params, {"K": g1}, 0.1)
    assert params["K"] is arr  # updated in place
    np.testing.assert_allclose(arr, p0 - 0.1 * g1, rtol=1e-15)
    params, velocity = {"K": p0.copy()}, {"K": np.zeros((3, 4))}
    gradient_step(params, {"K": g1}, 0.1, momentum=0.9, velocity=velocity)
    gradient_step(params, {"K": g2}, 0.05, momentum=0.9, velocity=velocity)
    v2 = 0.9 * g1 + g2
    np.testing.assert_allclose(velocity["K"], v2, rtol=1e-15)
    np.testing.assert_allclose(params["K"], p0 - 0.1 * g1 - 0.05 * v2, rtol=1e-14)


# Pinned from the training loop before it was split into validation, step and bookkeeping:
# any change of the shuffling, the shifts, the rate schedule, the update or the history
# fails here. Float64 and rtol 1e-9 leave room only for summation order in the engine.
PINNED_RUNS = [
    (
        dict(),
        {
            "epoch": [1, 2, 3],
            "train_loss": [3.0700492192650533, 2.946393044987582, 2.9211677425913565],
            "train_acc": [0.3611111111111111, 0.4166666666666667, 0.4861111111111111],
            "val_loss": [3.187195316124476, 3.122166090145845, 3.1070811087140013],
            "val_acc": [0.175, 0.225, 0.225],
            "batch_loss": [5.885661065124599, 3.1313611490771205, 3.004595573669061],
            "lr": [0.04267766952966369, 0.01852952387243698, 0.000851854342773295],
        },
        (134.8391376222053, -3.58176613368184),
    ),
    (
        dict(momentum=0.9, lr_schedule="step", fill="border_mean", eval_every=2),
        # re-pinned when momentum became V := mu V + g, P := P - alpha V (PyTorch's form)
        {
            "epoch": [2, 3],
            "train_loss": [3.04442525441386, 3.0292757559368377],
            "train_acc": [0.3333333333333333, 0.3333333333333333],
            "val_loss": [3.141240387155991, 3.1283248340426475],
            "val_acc": [0.05, 0.05],
            "batch_loss": [5.975462201508918, 3.100232796204507, 3.061667887446502],
            "lr": [0.05, 0.005000000000000001, 0.0005],
        },
        (417.13258300646754, 0.7239786453226951),
    ),
]


@pytest.mark.parametrize("kwargs, expected, weights", PINNED_RUNS)
def test_train_history_is_pinned(signs, kwargs, expected, weights):
    idx = np.concatenate([np.flatnonzero(signs.y_train == c)[:3] for c in range(24)])
    model = ThreeLayerCNN(seed=5, dtype=np.float64)
    history = train(
        model,
        signs.x_train[idx],
        signs.y_train[idx],
        signs.x_test[:40],
        signs.y_test[:40],
        epochs=3,
        batch_size=20,
        lr=0.05,
        max_shift=2,
        warmup=0.0,  # pinned before the warm-up existed (test_train_warmup_alpha_per_step)
        seed=7,
        **kwargs,
    )
    assert list(history) == [*expected, "time"]
    assert len(history["time"]) == 3 and history["time"] == sorted(history["time"])
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-9, atol=0, err_msg=key)
    np.testing.assert_allclose(
        [np.abs(model.params["W3"]).sum(), model.params["K1"].sum()], weights, rtol=1e-9
    )


def test_train_reduces_the_loss_and_is_reproducible(small):
    x_tr, y_tr, x_te, y_te = small
    runs = []
    for _ in range(2):
        model = ThreeLayerCNN(seed=0, dtype=np.float32)
        records = []
        history = train(
            model,
            x_tr,
            y_tr,
            x_te,
            y_te,
            epochs=2,
            batch_size=32,
            lr=0.1,
            max_shift=2,
            seed=4,
            callback=records.append,
        )
        runs.append((history, model))
    history, model = runs[0]
    assert history["epoch"] == [1, 2]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "batch_loss", "lr", "time"):
        assert len(history[key]) == 2, key
    assert history["train_loss"][-1] < np.log(24) - 0.2
    assert [r["epoch"] for r in records] == [1, 2] and records[-1]["eta"] == 0
    assert history["val_acc"][-1] == pytest.approx(records[-1]["val_acc"])
    for key in model.params:
        np.testing.assert_array_equal(model.params[key], runs[1][1].params[key])
    assert history["train_loss"] == runs[1][0]["train_loss"]


def test_train_with_momentum_and_callback_stop(small):
    x_tr, y_tr, _, _ = small
    model = ThreeLayerCNN(seed=0, dtype=np.float32)
    history = train(
        model,
        x_tr,
        y_tr,
        epochs=3,
        batch_size=48,
        lr=0.05,
        momentum=0.9,
        lr_schedule="step",
        eval_train=False,
        callback=lambda r: False,
    )
    assert len(history["batch_loss"]) == 1  # the callback stopped after epoch 1
    assert "val_acc" not in history and "train_acc" not in history


def test_eval_every_evaluates_less_and_trains_the_same(small):
    x_tr, y_tr, x_te, y_te = small
    a, b = ThreeLayerCNN(dtype=np.float32), ThreeLayerCNN(dtype=np.float32)
    ha = train(a, x_tr, y_tr, x_te, y_te, epochs=3, batch_size=60, eval_every=2)
    hb = train(b, x_tr, y_tr, x_te, y_te, epochs=3, batch_size=60, eval_every=1)
    assert ha["epoch"] == [2, 3] and len(ha["val_acc"]) == 2 and len(ha["batch_loss"]) == 3
    assert hb["epoch"] == [1, 2, 3]
    assert ha["val_acc"] == hb["val_acc"][1:] and ha["batch_loss"] == hb["batch_loss"]
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


def test_train_prints_progress(small, capsys):
    x_tr, y_tr, x_te, y_te = small
    train(
        ThreeLayerCNN(dtype=np.float32),
        x_tr[:64],
        y_tr[:64],
        x_te[:32],
        y_te[:32],
        epochs=1,
        verbose=True,
    )
    line = capsys.readouterr().out
    for word in ("epoch 1/1", "batch loss", "train loss", "val loss", "acc", "elapsed", "ETA"):
        assert word in line


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(epochs=0), ValueError, "epochs"),
        (dict(epochs=2.5), TypeError, "epochs"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(lr=-1.0), ValueError, "lr"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(lr=float("nan")), ValueError, "lr"),
        (dict(lr="0.1"), TypeError, "lr"),
        (dict(momentum=1.0), ValueError, "momentum"),
        (dict(momentum=-0.1), ValueError, "momentum"),
        (dict(max_shift=-1), ValueError, "max_shift"),
        (dict(max_shift=30), ValueError, "max_shift"),
        (dict(fill="mirror"), ValueError, "fill"),
        (dict(lr_schedule="warm"), ValueError, "lr_schedule"),
        (dict(seed=None), TypeError, "seed"),
        (dict(eval_every=0), ValueError, "eval_every"),
        (dict(callback=3), TypeError, "callback"),
    ],
)
def test_train_rejects_bad_arguments(small, kwargs, exc, word):
    x_tr, y_tr, _, _ = small
    with pytest.raises(exc, match=word):
        train(ThreeLayerCNN(), x_tr[:8], y_tr[:8], **kwargs)


def test_train_rejects_bad_data(small):
    x_tr, y_tr, x_te, y_te = small
    model = ThreeLayerCNN()
    with pytest.raises(TypeError, match="x_train"):
        train(model, prepare_images(x_tr), y_tr)
    with pytest.raises(ValueError, match="y_train"):
        train(model, x_tr, y_tr[:-1])
    with pytest.raises(ValueError, match="y_train"):
        train(model, x_tr, np.full(len(x_tr), 24))
    with pytest.raises(ValueError, match="x_val and y_val"):
        train(model, x_tr, y_tr, x_te)
    with pytest.raises(ValueError, match="monitor names"):
        train(model, x_tr, y_tr, monitor={"val": (x_te, y_te)})
    with pytest.raises(TypeError, match="monitor"):
        train(model, x_tr, y_tr, monitor=[(x_te, y_te)])
    with pytest.raises(ValueError, match="y_test"):
        train(model, x_tr, y_tr, monitor={"test": (x_te, y_te[:-1])})
    with pytest.raises(ValueError, match="x_train"):
        train(model, np.zeros((4, 20, 20), np.uint8), np.zeros(4, int))
    with pytest.raises(TypeError, match="model"):
        train("model", x_tr, y_tr)


# ------------------------------------------------------------------ save / load
def test_saved_model_predicts_exactly_as_trained(small, tmp_path):
    x_tr, y_tr, x_te, _ = small
    model = ThreeLayerCNN(seed=3, dtype=np.float32, pool="avg")
    train(model, x_tr, y_tr, epochs=1, batch_size=40, lr=0.1, eval_train=False)
    model.save(tmp_path / "m.npz")
    loaded = ThreeLayerCNN.load(tmp_path / "m.npz")
    assert loaded.dtype == np.float32 and loaded.pool == "avg"
    np.testing.assert_array_equal(
        loaded.predict(prepare_images(x_te)), model.predict(prepare_images(x_te))
    )
    np.testing.assert_array_equal(
        loaded.predict_proba(prepare_images(x_te)), model.predict_proba(prepare_images(x_te))
    )


# ------------------------------------------------------------------ the recognizer
def test_build_recognizer_keeps_the_image_size_in_every_convolution():
    model = build_recognizer(seed=3)
    assert (RECOGNIZER_CHANNELS, RECOGNIZER_KERNELS) == ((12, 32), (5, 3))
    first, second = model.layers
    assert (first.c_out, second.c_out) == RECOGNIZER_CHANNELS
    assert (first.kernel_hw, second.kernel_hw) == ((5, 5), (3, 3))
    assert (first.pad, second.pad) == ((2, 2), (1, 1))
    sizes = (first.z_hw, first.a_hw, second.z_hw, second.a_hw)
    assert sizes == ((28, 28), (14, 14), (14, 14), (7, 7))
    assert model.params["K1"].shape == (12, 1, 5, 5) and model.params["K2"].shape == (32, 12, 3, 3)
    assert model.dtype == np.float32
    assert model.n_params() == 12 * 26 + 32 * (12 * 9 + 1) + 32 * 49 * 24 + 24
    # the same weights as the model built by hand, and the command line's recipe
    by_hand = ThreeLayerCNN(
        channels=(12, 32),
        kernel_sizes=((5, 5), (3, 3)),
        conv_pads=((2, 2), (1, 1)),
        seed=3,
        dtype=np.float32,
    )
    for key, value in by_hand.params.items():
        np.testing.assert_array_equal(model.params[key], value)
    assert tuple(TRAIN_DEFAULTS["kernels"]) == RECOGNIZER_KERNELS
    assert tuple(TRAIN_DEFAULTS["channels"]) == RECOGNIZER_CHANNELS


def test_build_recognizer_bad_arguments():
    with pytest.raises(ValueError, match="kernel_side"):
        build_recognizer(kernels=(4, 3))
    with pytest.raises(ValueError, match="channels"):
        build_recognizer(channels=(0, 8))
    with pytest.raises((TypeError, ValueError), match="kernels"):
        build_recognizer(kernels=(5, 3, 3))


@pytest.mark.parametrize("side, pad", [(1, 0), (3, 1), (5, 2), (7, 3)])
def test_same_padding(side, pad):
    assert same_padding(side) == pad


@pytest.mark.parametrize("side, error", [(4, ValueError), (0, ValueError), (2.5, TypeError)])
def test_same_padding_rejects_sizes_it_cannot_keep(side, error):
    with pytest.raises(error, match="kernel_side"):
        same_padding(side)


# ------------------------------------------------------------------ the command line
def test_cli_trains_saves_and_verifies(tmp_path, capsys):
    out = tmp_path / "cli_model.npz"
    status = train_cli.main(
        [
            "--epochs",
            "1",
            "--train-limit",
            "96",
            "--test-limit",
            "64",
            "--batch-size",
            "32",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert status == 0
    assert out.is_file()
    assert "epoch 1/1" in text and "ETA" in text and "test accuracy" in text
    assert "predictions identical to the trained model: True (64/64)" in text
    epoch_lines = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert all(" val loss " in line and " test " not in line for line in epoch_lines)
    loaded = ThreeLayerCNN.load(out)
    assert loaded.dtype == np.float32


def test_cli_reads_the_test_split_only_once_unless_asked(tmp_path, capsys, monkeypatch):
    """Training sees the training and validation splits; the test split is evaluated by
    one predict after training, unless --eval-test-each-epoch asks for more."""
    import cnn_helpers.cli.train_command as command

    seen = []
    real_train = command.train

    def spy(model, x_train, y_train, x_val, y_val, **kwargs):
        seen.append((len(x_train), len(x_val), sorted(kwargs.get("monitor") or {})))
        return real_train(model, x_train, y_train, x_val, y_val, **kwargs)

    monkeypatch.setattr(command, "train", spy)
    common = ["--epochs", "2", "--train-limit", "64", "--test-limit", "40", "--eval-every", "1"]
    summary = tmp_path / "run.json"
    argv = [*common, "--out", str(tmp_path / "a.npz"), "--summary", str(summary)]
    assert train_cli.main(argv) == 0
    assert seen[-1] == (64, 474, [])
    record = json.loads(summary.read_text())
    assert set(record) >= {"seed", "val_acc", "test_acc", "train_seconds", "options"}
    assert record["n_test"] == 40 and 0 <= record["test_acc"] <= 1
    text = capsys.readouterr().out
    assert "validation accuracy" in text and "evaluated once" in text
    argv = [*common, "--out", str(tmp_path / "b.npz"), "--eval-test-each-epoch"]
    assert train_cli.main(argv) == 0
    assert seen[-1] == (64, 474, ["test"])
    epoch_lines = [line for line in capsys.readouterr().out.splitlines() if "epoch " in line]
    assert all(" test loss " in line for line in epoch_lines if line.startswith("epoch "))


def test_cli_adds_the_npz_suffix(tmp_path, capsys):
    status = train_cli.main(
        [
            "--epochs",
            "1",
            "--train-limit",
            "32",
            "--test-limit",
            "16",
            "--dtype",
            "float64",
            "--pool",
            "avg",
            "--out",
            str(tmp_path / "plain"),
        ]
    )
    assert status == 0
    assert (tmp_path / "plain.npz").is_file()
    assert ThreeLayerCNN.load(tmp_path / "plain.npz").pool == "avg"
    capsys.readouterr()


def test_cli_kernels_option_reaches_the_saved_model(tmp_path, capsys):
    out = tmp_path / "k.npz"
    argv = ["--epochs", "1", "--train-limit", "32", "--test-limit", "16", "--out", str(out)]
    assert train_cli.main([*argv, "--kernels", "3", "5", "--channels", "4", "6"]) == 0
    text = capsys.readouterr().out
    assert "kernels 3x3 and 5x5" in text
    layers = ThreeLayerCNN.load(out).layers
    assert [(b.c_out, b.kernel_hw, b.pad, b.z_hw) for b in layers] == [
        (4, (3, 3), (1, 1), (28, 28)),
        (6, (5, 5), (2, 2), (14, 14)),
    ]


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--epochs", "0"], "--epochs"),
        (["--epochs", "two"], "--epochs"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--batch-size", "0"], "--batch-size"),
        (["--momentum", "1"], "--momentum"),
        (["--pool", "min"], "--pool"),
        (["--dtype", "float16"], "--dtype"),
        (["--shift", "-2"], "--shift"),
        (["--shift", "28"], "--shift"),
        (["--out", "/nonexistent-folder/x.npz"], "--out"),
        (["--summary", "/nonexistent-folder/x.json"], "--summary"),
        (["--val-fraction", "0"], "--val-fraction"),
        (["--rotation", "-1"], "--rotation"),
        (["--scale", "1"], "--scale"),
        (["--channels", "8"], "--channels"),
        (["--kernels", "5"], "--kernels"),
        (["--warmup", "1"], "--warmup"),
        (["--warmup", "-0.1"], "--warmup"),
        (["--brightness", "1"], "--brightness"),
        (["--contrast", "-0.5"], "--contrast"),
        (["--kernels", "4", "3"], "--kernels"),
        (["--kernels", "0", "3"], "--kernels"),
        (["--val-fraction", "ten"], "--val-fraction"),
    ],
)
def test_cli_bad_options_are_argparse_errors(argv, word, capsys):
    with pytest.raises(SystemExit) as info:
        train_cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {word}" in err and "error:" in err


def test_cli_runs_as_a_module(tmp_path):
    out = tmp_path / "m.npz"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_helpers.train",
            "--epochs",
            "1",
            "--train-limit",
            "48",
            "--test-limit",
            "48",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "predictions identical to the trained model: True" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "cnn_helpers.train", "--lr", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "argument --lr" in bad.stderr
