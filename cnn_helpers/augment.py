"""Data augmentation beyond shifts: brightness and contrast, rotations and scalings.

* :func:`random_brightness_contrast` stretches every image's grey levels about the image's
  mean by a random factor and adds a random offset: the kind of variant (about +-15 %
  brightness and contrast) from which the Sign Language MNIST images were made;
* :func:`random_rotate_scale` turns every image by a random angle and scales it by a random
  factor about its centre, resampling bilinearly; pixels that come from outside the frame
  copy the nearest edge pixel (like ``random_shift(fill="edge")``).

The training loop applies them after the random shift, in this order, when
``train(max_brightness=..., max_contrast=..., max_rotation=..., max_scale=...)`` asks for
them. Both take and return stored uint8 images (N, H, W).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float

__all__ = ["random_brightness_contrast", "random_rotate_scale"]


def _check_images_rng(x, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise TypeError(f"x must be uint8 images (N, H, W); got {x.dtype} {x.shape}")
    return x


def random_brightness_contrast(x, rng, max_brightness=0.1, max_contrast=0.1):
    """Change each image's contrast and brightness by its own random amount.

    Image n becomes

        out_n = clip(round((x_n - m_n) c_n + m_n + 255 b_n), 0, 255)

    where m_n is the mean grey level of x_n, the contrast factor c_n is drawn uniformly
    from [1 - max_contrast, 1 + max_contrast] and the brightness offset b_n from
    [-max_brightness, max_brightness] (a fraction of the grey scale). With c_n = 1 and
    b_n = 0 the image is unchanged; c_n < 1 flattens it towards its mean.

    Parameters
    ----------
    x : uint8 ndarray, shape (N, H, W)
    rng : numpy.random.Generator
        Draws the N contrast factors, then the N brightness offsets.
    max_brightness : float in [0, 1)
    max_contrast : float in [0, 1)

    Returns
    -------
    uint8 ndarray, shape (N, H, W)
    """
    x = _check_images_rng(x, rng)
    max_brightness = as_float(
        "max_brightness", max_brightness, low=0.0, high=1.0, low_inclusive=True
    )
    max_contrast = as_float("max_contrast", max_contrast, low=0.0, high=1.0, low_inclusive=True)
    N = x.shape[0]
    contrast = rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, N)[:, None, None]
    offset = rng.uniform(-max_brightness, max_brightness, N)[:, None, None] * 255
    mean = x.reshape(N, -1).mean(axis=1)[:, None, None]  # (N, 1, 1) grey levels
    out = (x - mean) * contrast + mean + offset  # (N, H, W) float64
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def random_rotate_scale(x, rng, max_rotation=10.0, max_scale=0.1):
    """Rotate and scale each image by its own random amount.

    Image n is turned by an angle drawn uniformly from [-max_rotation, max_rotation]
    degrees and scaled by a factor drawn uniformly from [1 - max_scale, 1 + max_scale],
    both about the image centre. Output pixel (i, j) takes the bilinear interpolation of
    the input at the point that the inverse map sends (i, j) to, clipped into the frame
    (edge replication). The result is rounded back to uint8.

    Parameters
    ----------
    x : uint8 ndarray, shape (N, H, W)
    rng : numpy.random.Generator
        Draws the N angles, then the N scale factors.
    max_rotation : float >= 0
        Degrees.
    max_scale : float in [0, 1)

    Returns
    -------
    uint8 ndarray, shape (N, H, W)
    """
    x = _check_images_rng(x, rng)
    max_rotation = as_float("max_rotation", max_rotation, low=0.0, low_inclusive=True)
    max_scale = as_float("max_scale", max_scale, low=0.0, high=1.0, low_inclusive=True)
    N, H, W = x.shape
    theta = np.deg2rad(rng.uniform(-max_rotation, max_rotation, N)).astype(np.float32)
    scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, N).astype(np.float32)
    cos = (np.cos(theta) / scale)[:, None, None]  # (N, 1, 1): inverse map, rotate back
    sin = (np.sin(theta) / scale)[:, None, None]
    cy, cx = np.float32((H - 1) / 2), np.float32((W - 1) / 2)
    yy = (np.arange(H, dtype=np.float32) - cy)[None, :, None]  # (1, H, 1)
    xx = (np.arange(W, dtype=np.float32) - cx)[None, None, :]  # (1, 1, W)
    src_y = np.clip(cos * yy - sin * xx + cy, 0, H - 1)  # (N, H, W) source row
    src_x = np.clip(sin * yy + cos * xx + cx, 0, W - 1)  # (N, H, W) source column
    y0 = np.minimum(src_y.astype(np.int32), H - 2)  # src >= 0, so astype is floor
    x0 = np.minimum(src_x.astype(np.int32), W - 2)
    fy, fx = src_y - y0, src_x - x0  # (N, H, W) weights in [0, 1]
    flat = x.reshape(-1)
    top_left = (np.arange(N, dtype=np.int32) * (H * W))[:, None, None] + y0 * W + x0

    def pixels(offset):  # (N, H, W) float32 gathered from the uint8 images (take is fast)
        return flat.take(top_left + offset).astype(np.float32)

    p00, p01, p10, p11 = pixels(0), pixels(1), pixels(W), pixels(W + 1)
    top = p00 + fx * (p01 - p00)
    bottom = p10 + fx * (p11 - p10)
    out = top + fy * (bottom - top)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
