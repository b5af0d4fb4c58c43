"""``python -m cnn_helpers.train`` (``cnn-train``): train, evaluate, save and verify."""

from __future__ import annotations

import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

from .._threads import blas_threads
from ..data import SHIFT_FILLS, load_signs, prepare_images
from ..model import ThreeLayerCNN
from ..splits import VAL_FRACTION, split_signs
from ..training import (
    LR_SCHEDULES,
    RECOGNIZER_CHANNELS,
    RECOGNIZER_KERNELS,
    build_recognizer,
    format_seconds,
    train,
)
from ._options import (
    _option,
    _any_int,
    _momentum,
    _new_parser,
    _nonnegative_int,
    _positive_float,
    _positive_int,
)


#: ``--val-fraction``: a number strictly between 0 and 1
_fraction = _option(float, lambda value: 0.0 < value < 1.0, "a number in (0, 1)")
#: ``--rotation``: finite degrees >= 0; ``--scale``: a number in [0, 1)
_nonnegative_float = _option(
    float, lambda value: 0.0 <= value < float("inf"), "a finite number >= 0"
)
_scale = _option(float, lambda value: 0.0 <= value < 1.0, "a number in [0, 1)")
#: ``--kernels``: an odd kernel side (padded by (k - 1) / 2 to keep the image size)
_odd_side = _option(int, lambda value: value >= 1 and value % 2 == 1, "an odd integer >= 1")


def _defaults(function) -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


#: the training recipe of notebooks/08_sign_recognizer.ipynb: train()'s and the model's
#: own defaults (one place for the numbers), the recognizer's width, float32, and where
#: to save
_TRAIN, _MODEL = _defaults(train), _defaults(ThreeLayerCNN.__init__)
TRAIN_DEFAULTS = dict(
    **{
        key: _TRAIN[key]
        for key in (
            "epochs",
            "batch_size",
            "lr",
            "momentum",
            "fill",
            "lr_schedule",
            "warmup",
            "seed",
        )
    },
    # the validation split every 5th epoch (and after the last one)
    eval_every=5,
    shift=_TRAIN["max_shift"],
    brightness=_TRAIN["max_brightness"],
    contrast=_TRAIN["max_contrast"],
    rotation=_TRAIN["max_rotation"],
    scale=_TRAIN["max_scale"],
    channels=RECOGNIZER_CHANNELS,
    kernels=RECOGNIZER_KERNELS,
    pool=_MODEL["pool"],
    activation=_MODEL["activation"],
    dtype="float32",
    out="sign_cnn.npz",
)


#: the options of the recipe: flag, type or choices, help (defaults: TRAIN_DEFAULTS)
_TRAIN_OPTIONS = (
    ("--epochs", _positive_int, "passes over the training images"),
    ("--lr", _positive_float, "base learning rate alpha of K := K - alpha dJ/dK"),
    ("--lr-schedule", LR_SCHEDULES, "how alpha changes over the steps"),
    (
        "--warmup",
        _scale,
        "fraction of the steps over which alpha first rises linearly from 0 (0: none)",
    ),
    ("--momentum", _momentum, "classical momentum; 0 is the paper's plain gradient descent"),
    ("--pool", ("max", "avg"), "pooling of both conv blocks"),
    ("--activation", ("relu", "sigmoid", "tanh"), "activation of both conv blocks"),
    ("--shift", _nonnegative_int, "random-shift augmentation in pixels per axis (0: off)"),
    ("--fill", SHIFT_FILLS, "what the pixels shifted in from outside become"),
    (
        "--brightness",
        _scale,
        "random brightness offset, at most this fraction of the grey scale, after the shift "
        "(0: off)",
    ),
    (
        "--contrast",
        _scale,
        "random contrast factor in [1 - C, 1 + C] about the image's mean, after the shift (0: off)",
    ),
    ("--rotation", _nonnegative_float, "random rotation in degrees after the shift (0: off)"),
    ("--scale", _scale, "random scaling by a factor in [1 - F, 1 + F] after the shift (0: off)"),
    ("--seed", _any_int, "seeds the initial weights, the shuffling and the shifts"),
    ("--dtype", ("float32", "float64"), "floating-point type of the weights and activations"),
    ("--out", Path, "where to save the trained model (.npz)"),
)


def build_train_parser():
    """The argparse parser of ``python -m cnn_helpers.train``."""
    parser = _new_parser(
        "cnn_helpers.train",
        "cnn-train",
        "Train the paper's 3-layer CNN (conv-ReLU-pool, conv-ReLU-pool, fully connected, "
        "softmax) on the shipped Sign Language MNIST by mini-batch gradient descent, "
        "monitor it on the validation split (held-out groups of training images), "
        "evaluate it once on the complete test split and save it.",
        TRAIN_DEFAULTS["batch_size"],
        "images per gradient step",
        "NumPy BLAS threads during training and evaluation",
    )
    for flag, kind, text in _TRAIN_OPTIONS:
        default = TRAIN_DEFAULTS[flag[2:].replace("-", "_")]
        if isinstance(kind, tuple):
            parser.add_argument(flag, choices=kind, default=default, help=text)
        else:
            default = Path(default) if kind is Path else default
            parser.add_argument(flag, type=kind, default=default, help=text)
    add = parser.add_argument
    add(
        "--eval-every",
        type=_positive_int,
        default=TRAIN_DEFAULTS["eval_every"],
        metavar="K",
        help="evaluate the validation split after every K-th epoch (and after the last one)",
    )
    add(
        "--eval-train",
        action="store_true",
        help="also evaluate the clean training images at those epochs (costs about a third "
        "of an epoch each time)",
    )
    add(
        "--channels",
        type=_positive_int,
        nargs=2,
        default=list(TRAIN_DEFAULTS["channels"]),
        metavar=("C1", "C2"),
        help="kernels of the first and second convolution layer",
    )
    add(
        "--kernels",
        type=_odd_side,
        nargs=2,
        default=list(TRAIN_DEFAULTS["kernels"]),
        metavar=("K1", "K2"),
        help="side of the square kernels of the first and second convolution layer (odd; "
        "each convolution is padded by (K - 1) / 2 to keep the image size)",
    )
    add(
        "--val-fraction",
        type=_fraction,
        default=VAL_FRACTION,
        metavar="F",
        help="fraction of each letter's training images held out for validation, as whole "
        "groups of near-duplicates (cnn_helpers.splits)",
    )
    add(
        "--eval-test-each-epoch",
        action="store_true",
        help="exploration only: also evaluate the test split at every evaluation epoch "
        "(choosing a recipe by these numbers tunes on the test split)",
    )
    add(
        "--summary",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the run's numbers (seed, validation and test accuracy, training "
        "seconds, the options) as JSON to PATH",
    )
    add(
        "--train-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="train on the first N images of the training split only (quick checks)",
    )
    add(
        "--test-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="evaluate on the first N test images only (quick checks; the default is the "
        "complete test split)",
    )
    return parser


def train_main(argv=None):
    """Run the training command line; returns the exit status (0 = trained, saved, verified)."""
    parser = build_train_parser()
    args = parser.parse_args(argv)
    out = args.out if args.out.suffix == ".npz" else args.out.with_name(args.out.name + ".npz")
    for flag, path in (("--out", out), ("--summary", args.summary)):
        if path is not None and not path.parent.is_dir():
            parser.error(f"argument {flag}: the folder {str(path.parent)!r} does not exist")
    try:
        splits = split_signs(load_signs(args.data), fraction=args.val_fraction)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    image_hw = splits.x_train.shape[1:]
    if args.shift >= min(image_hw):
        parser.error(
            f"argument --shift: must be smaller than the image size "
            f"{min(image_hw)}; got {args.shift}"
        )
    x_test, y_test = splits.x_test[: args.test_limit], splits.y_test[: args.test_limit]
    with blas_threads(args.threads):
        model, history, seconds = _train_model(args, splits, image_hw)
        # the test split, once, after training, exactly as a user of the saved file would
        pred = model.predict(prepare_images(x_test))
        test_acc = _report_test_accuracy(pred, y_test, splits.classes, seconds, history)
        status = _save_and_verify(model, out, x_test, pred)
    if args.summary is not None:
        _write_summary(args, history, test_acc, seconds, len(y_test))
    return status


def _train_model(args, splits, image_hw):
    """Build the model of the options, print the setup and train it.

    Returns
    -------
    model : ThreeLayerCNN
    history : dict, see :func:`cnn_helpers.training.train`
    seconds : float, the training time
    """
    x_train, y_train = splits.x_train[: args.train_limit], splits.y_train[: args.train_limit]
    x_test, y_test = splits.x_test[: args.test_limit], splits.y_test[: args.test_limit]
    dtype = np.dtype(args.dtype)
    model = build_recognizer(
        tuple(args.channels),
        tuple(args.kernels),
        pool=args.pool,
        activation=args.activation,
        seed=args.seed,
        dtype=dtype,
        input_shape=(1, *image_hw),
        n_classes=len(splits.classes),
    )
    print(
        f"Sign Language MNIST: {len(x_train)} training images, {len(splits.x_val)} "
        f"validation images, {len(x_test)} test images, {len(splits.classes)} letters, "
        f"{image_hw[0]}x{image_hw[1]} pixels"
    )
    print(
        f"model: ThreeLayerCNN(channels={tuple(args.channels)}, kernels "
        f"{args.kernels[0]}x{args.kernels[0]} and {args.kernels[1]}x{args.kernels[1]}, "
        f"pool={args.pool!r}, "
        f"activation={args.activation!r}, dtype={dtype.name}), {model.n_params():,} parameters"
    )
    print(
        f"training: {args.epochs} epochs, batch {args.batch_size}, lr {args.lr:g} "
        f"({args.lr_schedule}, warm-up {args.warmup:g}), momentum {args.momentum:g}, "
        f"shift {args.shift} ({args.fill}), brightness {args.brightness:g}, "
        f"contrast {args.contrast:g}, rotation {args.rotation:g} deg, scale {args.scale:g}, "
        f"seed {args.seed}, {args.threads} BLAS thread(s)",
        flush=True,
    )
    start = time.perf_counter()
    history = train(
        model,
        x_train,
        y_train,
        splits.x_val,
        splits.y_val,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        max_shift=args.shift,
        max_brightness=args.brightness,
        max_contrast=args.contrast,
        max_rotation=args.rotation,
        max_scale=args.scale,
        fill=args.fill,
        lr_schedule=args.lr_schedule,
        warmup=args.warmup,
        seed=args.seed,
        eval_every=args.eval_every,
        eval_train=args.eval_train,
        monitor={"test": (x_test, y_test)} if args.eval_test_each_epoch else None,
        verbose=True,
        print_fn=lambda s: print(s, flush=True),
        threads=args.threads,
    )
    return model, history, time.perf_counter() - start


def _report_test_accuracy(pred, y_test, classes, seconds, history):
    """Print the validation accuracy of the last epoch and the test accuracy, overall and
    for the three worst and best letters; returns the test accuracy."""
    acc = float(np.mean(pred == y_test))
    print(
        f"trained in {format_seconds(seconds)}; validation accuracy "
        f"{history['val_acc'][-1]:.4f}; test accuracy {acc:.4f} "
        f"({int(np.sum(pred == y_test))}/{len(y_test)} test images, evaluated once)"
    )
    per_letter = sorted(
        (float(np.mean(pred[y_test == c] == c)), letter)
        for c, letter in enumerate(classes)
        if np.any(y_test == c)
    )
    worst = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[:3])
    best = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[-3:])
    print(f"per-letter accuracy: lowest {worst}; highest {best}")
    return acc


def _write_summary(args, history, test_acc, seconds, n_test):
    """``--summary``: the run's numbers and options as JSON."""
    options = {
        key: (str(value) if isinstance(value, Path) else value)
        for key, value in sorted(vars(args).items())
        if key not in ("summary", "data")
    }
    summary = dict(
        seed=args.seed,
        val_acc=history["val_acc"][-1],
        val_loss=history["val_loss"][-1],
        test_acc=test_acc,
        n_test=n_test,
        train_seconds=round(seconds, 1),
        options=options,
    )
    args.summary.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"summary written to {args.summary}")


def _save_and_verify(model, out, x_test, pred):
    """Save, reload and compare the predictions; returns the exit status."""
    model.save(out)
    loaded = ThreeLayerCNN.load(out)
    X = prepare_images(x_test)
    pred_loaded = loaded.predict(X)
    same = bool(np.array_equal(pred_loaded, pred))
    same_proba = bool(np.array_equal(loaded.predict_proba(X), model.predict_proba(X)))
    print(f"saved to {out}")
    print(
        f"reloaded with ThreeLayerCNN.load: predictions identical to the trained model: "
        f"{same} ({int(np.sum(pred_loaded == pred))}/{len(pred)}); probabilities "
        f"bit-identical: {same_proba}"
    )
    return 0 if same else 1
