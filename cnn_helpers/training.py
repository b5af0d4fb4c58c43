"""Mini-batch gradient descent for :class:`~cnn_helpers.model.ThreeLayerCNN` (paper §3).

One training loop shared by ``notebooks/08_sign_recognizer.ipynb`` and the command
line (``python -m cnn_helpers.train``):

* every epoch, the training images are shuffled by a seeded generator and shifted by
  a random integer offset of at most ``max_shift`` pixels along each axis
  (:func:`random_shift`), optionally given a random brightness and contrast, rotation
  and scaling (:mod:`cnn_helpers.augment`), then normalized with
  :func:`~cnn_helpers.data.prepare_images`;
* every mini-batch takes the paper's step ``K := K - alpha dJ/dK`` for every parameter,
  in place in ``model.params`` (optionally with classical momentum);
* after every epoch (or every ``eval_every`` epochs) the model is evaluated
  (:func:`evaluate`) on the clean training images and on the validation images (see
  :mod:`cnn_helpers.splits`), and the numbers go into the returned history. The test
  split is not read here unless a caller asks for it with ``monitor``.

Everything random comes from ``numpy.random.default_rng(seed)``, so a run is
reproducible given the seed (up to the last bits of floating-point sums, which can
depend on the CPU and the BLAS build).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from ._checks import as_float, as_int, as_pair
from ._threads import blas_threads
from .augment import random_brightness_contrast, random_rotate_scale
from .data import (
    SHIFT_FILLS,
    _check_fill,
    _check_max_shift,
    iterate_minibatches,
    prepare_images,
    random_shift,
)
from .evaluation import _check_images_labels, _check_model, _scores, evaluate
from .model import ThreeLayerCNN

__all__ = [
    "random_shift",
    "iterate_minibatches",
    "evaluate",
    "train",
    "gradient_step",
    "lr_factor",
    "LR_SCHEDULES",
    "RECOGNIZER_CHANNELS",
    "RECOGNIZER_KERNELS",
    "build_recognizer",
    "SHIFT_FILLS",
    "format_seconds",
    "format_record",
]

#: names accepted by ``train(lr_schedule=...)``; see :func:`lr_factor`
LR_SCHEDULES = ("constant", "step", "cosine", "linear")

#: kernels per convolution layer of the sign recognizer (notebook 08 and the command
#: line), chosen on the validation split (tools/choose_recipe.py). ``ThreeLayerCNN``'s
#: own default, (8, 16), is the smaller network that notebooks 00-07 derive and draw.
RECOGNIZER_CHANNELS = (12, 32)

#: side of the square kernels of each convolution layer of the sign recognizer, chosen on
#: the validation split like the channels: 5x5 in the first layer, 3x3 in the second.
#: Every convolution is padded to keep the image size (see :func:`same_padding`).
RECOGNIZER_KERNELS = (5, 3)


def same_padding(kernel_side):
    """Zero padding that keeps the image size of a stride-1 convolution with an odd kernel
    side k: (k - 1) / 2 on every edge (so h_z = h_a + 2 p - k + 1 = h_a)."""
    k = as_int("kernel_side", kernel_side, 1)
    if k % 2 == 0:
        raise ValueError(f"kernel_side must be odd to keep the image size; got {k}")
    return (k - 1) // 2


def build_recognizer(
    channels=RECOGNIZER_CHANNELS,
    kernels=RECOGNIZER_KERNELS,
    *,
    pool="max",
    activation="relu",
    seed=0,
    dtype=np.float32,
    input_shape=(1, 28, 28),
    n_classes=24,
):
    """The sign recognizer's :class:`~cnn_helpers.model.ThreeLayerCNN`: the paper's
    Figure 1 with ``channels = (c1, c2)`` kernels of sides ``kernels = (k1, k2)``, every
    convolution stride 1 and padded to keep the size, 2x2 pooling.

    Notebook 08, ``python -m cnn_helpers.train`` and ``tools/choose_recipe.py`` build it
    here. ``ThreeLayerCNN()``'s own defaults, 8 and 16 kernels of 3x3, are the smaller
    network of notebooks 00-07.

    Parameters
    ----------
    channels : (c1, c2) positive ints, default ``RECOGNIZER_CHANNELS``
    kernels : (k1, k2) odd positive ints, default ``RECOGNIZER_KERNELS``
        Kernel sides; layer l is padded by ``(k_l - 1) / 2`` (:func:`same_padding`).
    pool, activation, seed, dtype, input_shape, n_classes
        As for :class:`~cnn_helpers.model.ThreeLayerCNN` (here ``dtype`` defaults to
        float32, the recognizer's training type).

    Returns
    -------
    ThreeLayerCNN
        With 28x28 inputs: Z1 (N, c1, 28, 28), A1 (N, c1, 14, 14), Z2 (N, c2, 14, 14),
        A2 (N, c2, 7, 7), B2 of length 49 c2, Z3 (N, n_classes).
    """
    c1, c2 = as_pair("channels", channels, 1)
    k1, k2 = as_pair("kernels", kernels, 1)
    p1, p2 = same_padding(k1), same_padding(k2)
    return ThreeLayerCNN(
        input_shape=input_shape,
        n_classes=n_classes,
        channels=(c1, c2),
        kernel_sizes=((k1, k1), (k2, k2)),
        conv_pads=((p1, p1), (p2, p2)),
        pool=pool,
        activation=activation,
        seed=seed,
        dtype=dtype,
    )


# ------------------------------------------------------------------ schedule
def lr_factor(schedule, progress, warmup=0.0):
    """Multiplier of the base learning rate at ``progress`` in [0, 1] of the run.

    Parameters
    ----------
    schedule : str or callable
        ``"constant"``: 1. ``"step"``: 1, then 0.1 from 50 % and 0.01 from 75 % of
        the steps. ``"cosine"``: ``(1 + cos(pi t)) / 2``, from 1 down to 0.
        ``"linear"``: ``1 - t``. A callable gets ``t`` and returns the factor.
    progress : float
        Fraction of the optimisation steps already taken.
    warmup : float in [0, 1), default 0
        Fraction of the steps of a linear warm-up: the factor rises from 0 to 1 as
        ``progress / warmup``, then ``schedule`` runs over the remaining steps, at
        ``t = (progress - warmup) / (1 - warmup)``.
    """
    t = float(progress)
    if warmup:
        if t < warmup:
            return t / warmup
        t = (t - warmup) / (1 - warmup)
    if callable(schedule):
        return float(schedule(t))
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        return 1.0 if t < 0.5 else (0.1 if t < 0.75 else 0.01)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t))
    if schedule == "linear":
        return 1.0 - t
    raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES} or a callable; got {schedule!r}")


def format_seconds(seconds):
    """'42.0 s' or '3 min 05 s' (for progress lines)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s"


# ------------------------------------------------------------------ the update step
def gradient_step(params, grads, lr, momentum=0.0, velocity=None):
    """One gradient-descent step of every parameter, in place.

    Plain (``velocity=None``): ``P := P - lr dJ/dP``. With momentum (the heavy-ball
    form that PyTorch's SGD uses): ``V := momentum V + dJ/dP; P := P - lr V``, so the
    velocity is a running sum of gradients and a change of ``lr`` takes effect at once.

    Parameters
    ----------
    params : dict name -> ndarray
        Updated in place (the arrays are modified, never replaced).
    grads : dict name -> ndarray
        ``dJ/dP`` for every key of ``params`` that is updated, each of the shape of
        ``params[name]``.
    lr : float
        The step's learning rate alpha.
    momentum : float in [0, 1)
        Used only with ``velocity``.
    velocity : dict name -> ndarray, optional
        Momentum buffers of the shapes of ``params``, updated in place.
    """
    if velocity is None:
        for key, g in grads.items():
            params[key] -= lr * g  # K := K - alpha grad
        return
    for key, g in grads.items():
        v = velocity[key]
        v *= momentum
        v += g  # v := mu v + g
        params[key] -= lr * v  # K := K - alpha v


# ------------------------------------------------------------------ bookkeeping
#: history key -> record key of the values kept every epoch
_PER_EPOCH = {"batch_loss": "batch_loss", "lr": "lr", "time": "elapsed"}


def _new_history(eval_sets):
    """Empty lists for the history keys that this run fills, in the documented order:
    epoch, then loss and accuracy of every evaluated split, then the per-epoch keys."""
    keys = ["epoch"]
    for prefix, _, _ in eval_sets:
        keys += [f"{prefix}_loss", f"{prefix}_acc"]
    return {key: [] for key in (*keys, *_PER_EPOCH)}


def _append(history, record, evaluated):
    """Copy an epoch record into the history (the evaluation keys only when evaluated)."""
    for key, values in history.items():
        if key in _PER_EPOCH:
            values.append(record[_PER_EPOCH[key]])
        elif evaluated:
            values.append(record[key])


# ------------------------------------------------------------------ training
class _Options(NamedTuple):
    """The validated scalar arguments of :func:`train`."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    max_shift: int
    max_brightness: float
    max_contrast: float
    max_rotation: float
    max_scale: float
    fill: str
    lr_schedule: object
    warmup: float
    seed: int
    eval_every: int
    eval_batch_size: int
    callback: object


def _check_monitor(monitor):
    """``train(monitor=...)`` as a dict name -> (images, labels); names are checked."""
    if monitor is None:
        return {}
    if not isinstance(monitor, dict):
        raise TypeError(
            f"monitor must be a dict name -> (images, labels); got {type(monitor).__name__}"
        )
    for name, pair in monitor.items():
        if not (isinstance(name, str) and name.isidentifier()) or name in ("train", "val"):
            raise ValueError(
                f"monitor names must be identifiers other than 'train' and 'val'; got {name!r}"
            )
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"monitor[{name!r}] must be a pair (images, labels)")
    return dict(monitor)


def _check_options(image_hw, given):
    """Validate :func:`train`'s scalar arguments, given as an unchecked ``_Options``, for
    images of size ``image_hw``; the messages name the argument."""
    if not callable(given.lr_schedule) and given.lr_schedule not in LR_SCHEDULES:
        raise ValueError(
            f"lr_schedule must be one of {LR_SCHEDULES} or a callable; got {given.lr_schedule!r}"
        )
    if given.callback is not None and not callable(given.callback):
        raise TypeError(f"callback must be callable or None; got {type(given.callback).__name__}")
    return _Options(
        epochs=as_int("epochs", given.epochs, 1),
        batch_size=as_int("batch_size", given.batch_size, 1),
        lr=as_float("lr", given.lr, low=0.0),
        momentum=as_float("momentum", given.momentum, low=0.0, high=1.0, low_inclusive=True),
        max_shift=_check_max_shift(given.max_shift, image_hw),
        max_brightness=as_float(
            "max_brightness", given.max_brightness, low=0.0, high=1.0, low_inclusive=True
        ),
        max_contrast=as_float(
            "max_contrast", given.max_contrast, low=0.0, high=1.0, low_inclusive=True
        ),
        max_rotation=as_float("max_rotation", given.max_rotation, low=0.0, low_inclusive=True),
        max_scale=as_float("max_scale", given.max_scale, low=0.0, high=1.0, low_inclusive=True),
        fill=_check_fill(given.fill),
        lr_schedule=given.lr_schedule,
        warmup=as_float("warmup", given.warmup, low=0.0, high=1.0, low_inclusive=True),
        seed=as_int("seed", given.seed),
        eval_every=as_int("eval_every", given.eval_every, 1),
        eval_batch_size=as_int("eval_batch_size", given.eval_batch_size, 1),
        callback=given.callback,
    )


def train(
    model,
    x_train,
    y_train,
    x_val=None,
    y_val=None,
    *,
    epochs=70,
    batch_size=64,
    lr=0.2,
    momentum=0.0,
    max_shift=3,
    max_brightness=0.0,
    max_contrast=0.0,
    max_rotation=0.0,
    max_scale=0.0,
    fill="edge",
    lr_schedule="cosine",
    warmup=0.05,
    seed=0,
    eval_every=1,
    eval_train=True,
    eval_batch_size=256,
    monitor=None,
    callback=None,
    verbose=False,
    print_fn=print,
    threads=None,
):
    """Train ``model`` in place by mini-batch gradient descent (paper §3).

    For every mini-batch B of the shuffled, shifted training images, each parameter
    P in ``model.params`` (K1, b1, K2, b2, W3, b3) takes the paper's step

        P := P - alpha_t dJ_B/dP

    where J_B is the mean cross-entropy on B and ``alpha_t = lr * lr_factor(t)``
    rises linearly over the first ``warmup`` fraction of the steps and then follows
    ``lr_schedule``. With ``momentum = mu > 0`` it becomes momentum,
    ``V := mu V + dJ_B/dP; P := P - alpha_t V``; the default ``momentum=0`` is plain
    gradient descent.

    Parameters
    ----------
    model : ThreeLayerCNN
        Updated in place (its ``params`` arrays are modified, never replaced).
    x_train : uint8 ndarray, shape (N, H, W)
        Stored training images (``load_signs().x_train``); each epoch they are shifted
        (see ``max_shift``) and then normalized with ``prepare_images``.
    y_train : int ndarray, shape (N,)
    x_val, y_val : optional, like x_train / y_train
        The validation split (:func:`cnn_helpers.splits.split_signs`), evaluated at
        every evaluation epoch (val_loss, val_acc in the history): choose a recipe on
        these, never on the test split.
    epochs : int >= 1
    batch_size : int >= 1
    lr : float > 0
        Base learning rate alpha.
    momentum : float in [0, 1), default 0 (plain gradient descent)
    max_shift : int >= 0
        Random shift augmentation, in pixels per axis (0 switches it off).
    max_brightness, max_contrast : float in [0, 1), default 0
        After the shift, add to every image a random brightness offset of at most this
        fraction of the grey scale and stretch its grey levels about its mean by a random
        factor in [1 - max_contrast, 1 + max_contrast] (see
        :func:`cnn_helpers.augment.random_brightness_contrast`; 0 and 0: unchanged).
    max_rotation : float >= 0, default 0
        Then turn every image by a random angle of at most this many
        degrees (see :func:`cnn_helpers.augment.random_rotate_scale`; 0: no rotation).
    max_scale : float in [0, 1), default 0
        ... and scale it by a random factor in [1 - max_scale, 1 + max_scale].
    fill : {"edge", "border_mean", "zero"}
        How shifted-in pixels are filled (see :func:`random_shift`).
    lr_schedule : {"constant", "step", "cosine", "linear"} or callable
        See :func:`lr_factor`; applied per step.
    warmup : float in [0, 1), default 0.05
        Fraction of the steps over which alpha first rises linearly from 0 to ``lr``;
        ``lr_schedule`` then runs over the remaining steps (see :func:`lr_factor`).
    seed : int
        Seeds the generator of the shuffling and of the shifts. Evaluation draws no
        random numbers, so ``eval_every`` does not change the training itself.
    eval_every : int >= 1, default 1
        Evaluate after every ``eval_every``-th epoch and after the last one.
    eval_train : bool, default True
        At evaluation epochs, also evaluate the clean (unshifted) training images
        (train_loss, train_acc).
    eval_batch_size : int >= 1
    monitor : dict name -> (images, labels), optional
        Further splits evaluated at every evaluation epoch, as ``<name>_loss`` and
        ``<name>_acc`` (for exploration only, e.g. ``{"test": (x_test, y_test)}``; the
        command line's ``--eval-test-each-epoch``). Names are identifiers other than
        "train" and "val".
    callback : callable, optional
        Called after every epoch with a dict: epoch, epochs, lr, batch_loss, and
        train_loss, train_acc, val_loss, val_acc and those of ``monitor`` (None when
        not evaluated at that epoch), elapsed and eta (seconds). Returning ``False``
        stops training early.
    verbose : bool
        Print one progress line per epoch with ``print_fn``.
    print_fn : callable, default print
    threads : int >= 1, optional
        NumPy BLAS threads during the whole run (default: the package default, one
        thread, see :func:`cnn_helpers._threads.blas_threads`); the caller's own
        setting is back afterwards.

    Returns
    -------
    history : dict of lists
        Per evaluation: ``epoch`` (the epoch numbers evaluated, 1-based), ``train_loss``
        and ``train_acc`` (with ``eval_train``), ``val_loss`` and ``val_acc`` (with
        validation data), then those of ``monitor``. Per epoch: ``batch_loss`` (mean
        mini-batch loss on the shifted images during the epoch), ``lr`` (the rate of
        the epoch's last step) and ``time`` (seconds since the start at the end of the
        epoch, evaluation included). With ``eval_every=1`` all lists have one entry per epoch.

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or value; the message names it.
    FloatingPointError
        If the loss becomes NaN or infinite (the learning rate is too large).
    """
    model = _check_model(model)
    x_train, y_train = _check_images_labels("x_train", x_train, "y_train", y_train, model)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together (or both left None)")
    sets = {} if x_val is None else {"val": (x_val, y_val)}
    sets.update(_check_monitor(monitor))
    for name, (x, y) in sets.items():
        sets[name] = _check_images_labels(f"x_{name}", x, f"y_{name}", y, model)
    given = _Options(
        epochs,
        batch_size,
        lr,
        momentum,
        max_shift,
        max_brightness,
        max_contrast,
        max_rotation,
        max_scale,
        fill,
        lr_schedule,
        warmup,
        seed,
        eval_every,
        eval_batch_size,
        callback,
    )
    opts = _check_options(x_train.shape[1:], given)
    with blas_threads(threads):
        eval_sets = []  # (history prefix, prepared images, labels)
        if eval_train:
            eval_sets.append(("train", prepare_images(x_train, model.dtype), y_train))
        for name, (x, y) in sets.items():
            eval_sets.append((name, prepare_images(x, model.dtype), y))
        report = print_fn if verbose else None
        return _run(model, x_train, y_train, eval_sets, opts, report)


def _run(model, x_train, y_train, eval_sets, opts, report):
    """The epochs of :func:`train` on validated arguments; returns the history."""
    rng = np.random.default_rng(opts.seed)
    velocity = None
    if opts.momentum > 0:
        velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
    steps_per_epoch = -(-x_train.shape[0] // opts.batch_size)
    history = _new_history(eval_sets)
    start = time.perf_counter()
    for epoch in range(1, opts.epochs + 1):
        batch_loss, alpha = _train_epoch(
            model, x_train, y_train, rng, velocity, opts, epoch, steps_per_epoch
        )
        record = dict(epoch=epoch, epochs=opts.epochs, lr=alpha, batch_loss=batch_loss)
        record.update(dict.fromkeys(k for k in history if k not in ("epoch", *_PER_EPOCH)))
        evaluated = epoch % opts.eval_every == 0 or epoch == opts.epochs
        if evaluated:
            for prefix, X, y in eval_sets:
                record[f"{prefix}_loss"], record[f"{prefix}_acc"] = _scores(
                    model, X, y, opts.eval_batch_size
                )
        record["elapsed"] = elapsed = time.perf_counter() - start
        record["eta"] = elapsed / epoch * (opts.epochs - epoch)
        _append(history, record, evaluated)
        if report is not None:
            report(format_record(record))
        if opts.callback is not None and opts.callback(record) is False:
            break
    return history


def _train_epoch(model, x_train, y_train, rng, velocity, opts, epoch, steps_per_epoch):
    """One pass over shuffled, shifted images; returns (mean batch loss, last rate)."""
    shifted = random_shift(x_train, opts.max_shift, rng, opts.fill) if opts.max_shift else x_train
    if opts.max_brightness or opts.max_contrast:
        shifted = random_brightness_contrast(shifted, rng, opts.max_brightness, opts.max_contrast)
    if opts.max_rotation or opts.max_scale:
        shifted = random_rotate_scale(shifted, rng, opts.max_rotation, opts.max_scale)
    X = prepare_images(shifted, model.dtype)
    n = X.shape[0]
    total_steps = opts.epochs * steps_per_epoch
    step = (epoch - 1) * steps_per_epoch
    loss_sum = 0.0
    for idx in iterate_minibatches(n, opts.batch_size, rng):
        alpha = opts.lr * lr_factor(opts.lr_schedule, step / total_steps, opts.warmup)
        loss, grads = model.loss_and_grads(X[idx], y_train[idx])
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the loss became {loss} at epoch {epoch}, step {step + 1}: the learning "
                f"rate lr={opts.lr} is too large for this model; try a smaller one"
            )
        loss_sum += loss * len(idx)
        gradient_step(model.params, grads, alpha, opts.momentum, velocity)
        step += 1
    return loss_sum / n, alpha


def format_record(record):
    """One progress line for an epoch record (see ``train(callback=...)``)."""
    width = len(str(record["epochs"]))
    line = (
        f"epoch {record['epoch']:>{width}}/{record['epochs']}  lr {record['lr']:.4f}  "
        f"batch loss {record['batch_loss']:.4f}"
    )
    if record.get("train_loss") is not None:
        line += f"  train loss {record['train_loss']:.4f} acc {record['train_acc']:.4f}"
    for key in record:
        name = key[: -len("_loss")]
        if key.endswith("_loss") and name not in ("train", "batch") and record[key] is not None:
            line += f"  {name} loss {record[key]:.4f} acc {record[name + '_acc']:.4f}"
    line += f"  elapsed {format_seconds(record['elapsed'])}  ETA {format_seconds(record['eta'])}"
    return line
