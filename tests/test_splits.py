"""The validation split (cnn_helpers.splits) and inference on batches of any size."""

import hashlib
import math
import tracemalloc

import numpy as np
import pytest

from cnn_helpers import ThreeLayerCNN, load_signs, prepare_images
from cnn_helpers.evaluation import evaluate
from cnn_helpers.splits import (
    VAL_RADIUS,
    SignSplits,
    nearest_neighbour,
    split_signs,
    validation_split,
)


#: the first 16 hex digits of the SHA-256 of the validation indices as little-endian int64
PINNED_VAL_DIGEST = "a2904939fc1cbc64"


@pytest.fixture(scope="module")
def signs():
    return load_signs()


@pytest.fixture(scope="module")
def splits(signs):
    return split_signs(signs)


def test_split_is_a_stratified_partition_of_the_training_images(signs, splits):
    train_idx, val_idx = validation_split(signs.x_train, signs.y_train)
    assert np.all(np.diff(train_idx) > 0) and np.all(np.diff(val_idx) > 0)
    assert np.intersect1d(train_idx, val_idx).size == 0
    assert len(train_idx) + len(val_idx) == len(signs.x_train)
    counts = np.bincount(signs.y_train[val_idx], minlength=24)
    need = math.ceil(0.1 * 190)
    assert counts.min() >= need and counts.max() <= 2 * need
    assert isinstance(splits, SignSplits)
    np.testing.assert_array_equal(splits.x_val, signs.x_train[val_idx])
    np.testing.assert_array_equal(splits.y_train, signs.y_train[train_idx])
    assert splits.x_test is signs.x_test and splits.classes == signs.classes


def test_split_is_pinned(signs):
    """The documented split (data/README.md): the same on every machine and every run."""
    _, val_idx = validation_split(signs.x_train, signs.y_train)
    digest = hashlib.sha256(val_idx.astype("<i8").tobytes()).hexdigest()
    assert (len(val_idx), digest[:16]) == (474, PINNED_VAL_DIGEST)


def test_no_near_duplicate_crosses_the_split(splits):
    """Every validation image is at least VAL_RADIUS grey levels (RMS) away from every
    training image of its letter, so the split measures new photos, not copies."""
    for c in range(24):
        _, rms = nearest_neighbour(
            splits.x_val[splits.y_val == c], splits.x_train[splits.y_train == c]
        )
        assert rms.min() >= VAL_RADIUS, (c, rms.min())


def test_grouping_makes_validation_harder_than_a_random_split(signs, splits):
    """1-nearest-neighbour accuracy from the training images: a random split of the same
    size leaks near-copies and is far easier than the grouped validation split, which is
    about as hard as the test split; and the documented calibration of the radius: the
    validation images are as far from the training images as the test images are."""

    def nn_acc(x, y, x_ref, y_ref):
        return float(np.mean(y_ref[nearest_neighbour(x, x_ref)[0]] == y))

    grouped = nn_acc(splits.x_val, splits.y_val, splits.x_train, splits.y_train)
    test = nn_acc(signs.x_test[:3000], signs.y_test[:3000], splits.x_train, splits.y_train)
    held = np.zeros(len(signs.y_train), bool)
    held[np.random.default_rng(0).choice(len(held), len(splits.y_val), replace=False)] = True
    x, y = signs.x_train, signs.y_train
    random = nn_acc(x[held], y[held], x[~held], y[~held])
    val_far = np.median(nearest_neighbour(splits.x_val, splits.x_train)[1])
    test_far = np.median(nearest_neighbour(signs.x_test[:3000], splits.x_train)[1])
    assert abs(val_far - test_far) < 1.0, (val_far, test_far)
    assert random > 0.93 and grouped < 0.75 and test < 0.80, (random, grouped, test)


def test_split_options_and_errors(signs):
    small_t, small_v = validation_split(signs.x_train, signs.y_train, fraction=0.05)
    assert 24 * 10 <= len(small_v) < 474
    _, tight = validation_split(signs.x_train, signs.y_train, radius=1)  # no groups
    assert np.all(np.bincount(signs.y_train[tight]) == 19)
    with pytest.raises(ValueError, match="fraction"):
        validation_split(signs.x_train, signs.y_train, fraction=1.5)
    with pytest.raises(TypeError, match="x must be uint8"):
        validation_split(prepare_images(signs.x_train[:4])[:, 0], signs.y_train[:4])
    with pytest.raises(ValueError, match="y must be"):
        validation_split(signs.x_train[:4], signs.y_train[:3])
    with pytest.raises(TypeError, match="data must be"):
        split_signs(data=(signs.x_train, signs.y_train))


# ------------------------------------------------------------------ inference
@pytest.fixture(scope="module")
def model():
    return ThreeLayerCNN(seed=3, dtype=np.float32)


def test_predict_any_batch_size_and_input_form(model, signs):
    x = signs.x_test[:37]
    reference = model.predict_proba(prepare_images(x, np.float32), batch_size=37)
    for batch_size in (1, 5, 36, 256):
        np.testing.assert_allclose(
            model.predict_proba(x, batch_size=batch_size), reference, rtol=1e-5, atol=1e-7
        )
    np.testing.assert_array_equal(model.predict(x), reference.argmax(axis=1))
    assert model.predict(x[0]).shape == (1,)  # one stored image (H, W)
    assert model.predict(x[:0]).shape == (0,)
    assert model.predict_proba(prepare_images(x[:0])).shape == (0, 24)


def test_inference_rejects_wrong_dtype_and_shape(model, signs):
    with pytest.raises(TypeError, match="uint8 images .* or prepared float images"):
        model.predict(signs.x_test[:2].astype(np.int64))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        model.predict(signs.x_test[:2, :27])
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model.predict(prepare_images(signs.x_test[:2])[:, 0])
    with pytest.raises(ValueError, match="finite"):
        model.predict(np.full((1, 1, 28, 28), np.nan))
    with pytest.raises(ValueError, match="at least one image"):
        evaluate(model, prepare_images(signs.x_test[:0]), signs.y_test[:0])


def test_complete_test_split_fits_in_a_few_hundred_megabytes(model, signs):
    """Peak memory that NumPy allocates for predict and evaluate on all 7,172 images."""
    X = prepare_images(signs.x_test, np.float32)
    tracemalloc.start()
    try:
        for run in (
            lambda: model.predict(signs.x_test),
            lambda: model.predict(X),
            lambda: evaluate(model, signs.x_test, signs.y_test),
        ):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            run()
            current, peak = tracemalloc.get_traced_memory()
            assert peak - before < 200e6, (peak - before) / 1e6
            assert current - before < 5e6  # nothing large is kept afterwards
    finally:
        tracemalloc.stop()


def test_nearest_neighbour_matches_a_loop(signs):
    x, ref = signs.x_test[:7], signs.x_train[:50]
    index, rms = nearest_neighbour(x, ref, batch_size=3)
    for n in range(7):
        d2 = [((x[n].astype(int) - r.astype(int)) ** 2).sum() for r in ref]
        assert index[n] == int(np.argmin(d2))
        assert rms[n] == pytest.approx(np.sqrt(min(d2) / 784), rel=1e-12)
    with pytest.raises(TypeError, match="x_ref must be uint8"):
        nearest_neighbour(x, ref.astype(float))
    with pytest.raises(ValueError, match="one size"):
        nearest_neighbour(x, ref[:, :27])
