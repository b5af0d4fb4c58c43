"""Random rotations and scalings (cnn_helpers.augment) against a per-pixel reference."""

import math

import numpy as np
import pytest

from cnn_helpers import ThreeLayerCNN, load_signs
from cnn_helpers.augment import random_rotate_scale
from cnn_helpers.training import train


@pytest.fixture(scope="module")
def images():
    return load_signs().x_train[:6]


def _reference(img, degrees, factor):
    """Bilinear sampling at the inverse-rotated and -scaled point, one pixel at a time."""
    H, W = img.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    c, s = math.cos(math.radians(degrees)) / factor, math.sin(math.radians(degrees)) / factor
    out = np.empty((H, W))
    for i in range(H):
        for j in range(W):
            y = min(max(c * (i - cy) - s * (j - cx) + cy, 0), H - 1)
            x = min(max(s * (i - cy) + c * (j - cx) + cx, 0), W - 1)
            y0, x0 = min(int(y), H - 2), min(int(x), W - 2)
            fy, fx = y - y0, x - x0
            p = img.astype(float)
            out[i, j] = (
                p[y0, x0] * (1 - fy) * (1 - fx)
                + p[y0, x0 + 1] * (1 - fy) * fx
                + p[y0 + 1, x0] * fy * (1 - fx)
                + p[y0 + 1, x0 + 1] * fy * fx
            )
    return out


def test_matches_the_per_pixel_reference(images):
    got = random_rotate_scale(images, np.random.default_rng(3), 15.0, 0.2)
    draws = np.random.default_rng(3)
    degrees = draws.uniform(-15.0, 15.0, len(images))
    factors = draws.uniform(0.8, 1.2, len(images))
    for n in range(len(images)):
        ref = _reference(images[n], degrees[n], factors[n])
        assert np.abs(got[n].astype(float) - ref).max() <= 0.51  # float32, then rounding
    assert got.dtype == np.uint8 and got.shape == images.shape


def test_no_rotation_no_scaling_is_the_identity_and_changes_otherwise(images):
    same = random_rotate_scale(images, np.random.default_rng(0), 0.0, 0.0)
    np.testing.assert_array_equal(same, images)
    turned = random_rotate_scale(images, np.random.default_rng(0), 10.0, 0.1)
    assert np.mean(turned != images) > 0.3
    again = random_rotate_scale(images, np.random.default_rng(0), 10.0, 0.1)
    np.testing.assert_array_equal(turned, again)  # the generator decides everything


def test_a_constant_image_stays_constant():
    """Edge replication: nothing darker or brighter comes in from outside the frame."""
    flat = np.full((3, 28, 28), 77, np.uint8)
    np.testing.assert_array_equal(
        random_rotate_scale(flat, np.random.default_rng(1), 30, 0.3), flat
    )


def test_bad_arguments(images):
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="rng"):
        random_rotate_scale(images, 0)
    with pytest.raises(TypeError, match="uint8"):
        random_rotate_scale(images.astype(float), rng)
    with pytest.raises(ValueError, match="max_rotation"):
        random_rotate_scale(images, rng, max_rotation=-1)
    with pytest.raises(ValueError, match="max_scale"):
        random_rotate_scale(images, rng, max_scale=1.0)


def test_train_with_rotation_is_reproducible_and_differs_from_shifts_only():
    signs = load_signs()
    idx = np.concatenate([np.flatnonzero(signs.y_train == c)[:3] for c in range(24)])
    x, y = signs.x_train[idx], signs.y_train[idx]

    def run(**kwargs):
        model = ThreeLayerCNN(seed=1, dtype=np.float64)
        h = train(model, x, y, epochs=2, batch_size=24, lr=0.05, seed=2, eval_train=False, **kwargs)
        return h["batch_loss"], model.params["K1"].copy()

    plain, turned, again = (
        run(),
        run(max_rotation=10.0, max_scale=0.1),
        run(max_rotation=10.0, max_scale=0.1),
    )
    assert plain[0] != turned[0]
    assert turned[0] == again[0]
    np.testing.assert_array_equal(turned[1], again[1])
    with pytest.raises(ValueError, match="max_scale"):
        run(max_scale=1.5)
