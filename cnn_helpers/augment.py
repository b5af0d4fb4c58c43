"""Random rotations and scalings of stored images (data augmentation beyond shifts).

:func:`random_rotate_scale` turns every image by a random angle and scales it by a random
factor about its centre, resampling bilinearly; pixels that come from outside the frame
copy the nearest edge pixel (like ``random_shift(fill="edge")``). The training loop applies
it after the random shift when ``train(max_rotation=..., max_scale=...)`` asks for it.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float

__all__ = ["random_rotate_scale"]


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
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise TypeError(f"x must be uint8 images (N, H, W); got {x.dtype} {x.shape}")
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
