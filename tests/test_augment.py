"""Random brightness and contrast, rotations and scalings (cnn_helpers.augment), each against
a per-pixel reference."""

import math

import numpy as np
import pytest

from cnn_helpers import ThreeLayerCNN, load_signs
from cnn_helpers.augment import random_brightness_contrast, random_rotate_scale
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


@pytest.mark.parametrize(
    "options, bad",
    [
        (dict(max_rotation=10.0, max_scale=0.1), dict(max_scale=1.5)),
        (dict(max_brightness=0.1, max_contrast=0.1), dict(max_contrast=1.5)),
    ],
)
def test_train_with_augmentation_is_reproducible_and_differs_from_shifts_only(options, bad):
    signs = load_signs()
    idx = np.concatenate([np.flatnonzero(signs.y_train == c)[:3] for c in range(24)])
    x, y = signs.x_train[idx], signs.y_train[idx]

    def run(**kwargs):
        model = ThreeLayerCNN(seed=1, dtype=np.float64)
        h = train(model, x, y, epochs=2, batch_size=24, lr=0.05, seed=2, eval_train=False, **kwargs)
        return h["batch_loss"], model.params["K1"].copy()

    plain, varied, again = run(), run(**options), run(**options)
    assert plain[0] != varied[0]
    assert varied[0] == again[0]
    np.testing.assert_array_equal(varied[1], again[1])
    with pytest.raises(ValueError, match=next(iter(bad))):
        run(**bad)


# ------------------------------------------------------------------ brightness and contrast
def _brightness_contrast_reference(img, factor, offset):
    """(pixel - mean) * factor + mean + 255 offset, rounded and clipped, one pixel at a time."""
    mean = sum(int(v) for v in img.ravel()) / img.size
    out = np.empty(img.shape, np.uint8)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            value = (int(img[i, j]) - mean) * factor + mean + 255 * offset
            out[i, j] = min(max(round(value), 0), 255)
    return out


def test_brightness_contrast_matches_the_per_pixel_reference(images):
    got = random_brightness_contrast(images, np.random.default_rng(4), 0.15, 0.3)
    draws = np.random.default_rng(4)
    factors = draws.uniform(0.7, 1.3, len(images))  # contrast first, then brightness
    offsets = draws.uniform(-0.15, 0.15, len(images))
    assert got.dtype == np.uint8 and got.shape == images.shape
    for n in range(len(images)):
        ref = _brightness_contrast_reference(images[n], factors[n], offsets[n])
        # equal up to a rounding tie (x.5) that float64 sums may place on either side
        assert np.abs(got[n].astype(int) - ref.astype(int)).max() <= 1
        assert np.mean(got[n] == ref) > 0.99


def test_brightness_contrast_what_each_part_does(images):
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(random_brightness_contrast(images, rng, 0.0, 0.0), images)
    # contrast alone keeps each image's mean grey level (up to rounding and clipping)
    stretched = random_brightness_contrast(images, np.random.default_rng(1), 0.0, 0.2)
    means = images.reshape(len(images), -1).mean(axis=1)
    new_means = stretched.reshape(len(images), -1).mean(axis=1)
    assert np.abs(new_means - means).max() < 1.0 and np.mean(stretched != images) > 0.5
    # brightness alone moves every pixel by the same offset, except where it clips
    draws = np.random.default_rng(2)
    draws.uniform(1.0, 1.0, len(images))
    offsets = np.rint(draws.uniform(-0.1, 0.1, len(images)) * 255)
    brighter = random_brightness_contrast(images, np.random.default_rng(2), 0.1, 0.0)
    for n in range(len(images)):
        expected = np.clip(images[n].astype(int) + int(offsets[n]), 0, 255)
        assert np.abs(brighter[n].astype(int) - expected).max() <= 1
    # a saturated image stays inside 0..255
    white = np.full((2, 28, 28), 250, np.uint8)
    assert random_brightness_contrast(white, np.random.default_rng(3), 0.5, 0.5).max() <= 255


def test_brightness_contrast_bad_arguments(images):
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="rng"):
        random_brightness_contrast(images, 0)
    with pytest.raises(TypeError, match="uint8"):
        random_brightness_contrast(images.astype(float), rng)
    with pytest.raises(ValueError, match="max_brightness"):
        random_brightness_contrast(images, rng, max_brightness=-0.1)
    with pytest.raises(ValueError, match="max_contrast"):
        random_brightness_contrast(images, rng, max_contrast=1.0)
