"""``python -m cnn_helpers.train`` (``cnn-train``): train, evaluate, save and verify."""

from __future__ import annotations

import inspect
import sys
import time
from pathlib import Path

import numpy as np

from .._threads import blas_threads
from ..data import SHIFT_FILLS, load_signs, prepare_images
from ..model import ThreeLayerCNN
from ..training import LR_SCHEDULES, format_seconds, train
from ._options import (
    _any_int,
    _momentum,
    _new_parser,
    _nonnegative_int,
    _positive_float,
    _positive_int,
)


def _defaults(function) -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


#: the training recipe of notebooks/08_sign_recognizer.ipynb: train()'s and the model's
#: own defaults (one place for the numbers), float32, and where to save
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
            "seed",
            "eval_every",
        )
    },
    shift=_TRAIN["max_shift"],
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
    ("--momentum", _momentum, "classical momentum; 0 is the paper's plain gradient descent"),
    ("--pool", ("max", "avg"), "pooling of both conv blocks"),
    ("--activation", ("relu", "sigmoid", "tanh"), "activation of both conv blocks"),
    ("--shift", _nonnegative_int, "random-shift augmentation in pixels per axis (0: off)"),
    ("--fill", SHIFT_FILLS, "what the pixels shifted in from outside become"),
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
        "evaluate it on the complete test split and save it.",
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
        help="evaluate the clean training images and the test split after every K-th epoch "
        "(and after the last one)",
    )
    add(
        "--train-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="train on the first N training images only (quick checks)",
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
    if not out.parent.is_dir():
        parser.error(f"argument --out: the folder {str(out.parent)!r} does not exist")
    try:
        data = load_signs(args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    image_hw = data.x_train.shape[1:]
    if args.shift >= min(image_hw):
        parser.error(
            f"argument --shift: must be smaller than the image size "
            f"{min(image_hw)}; got {args.shift}"
        )
    x_test, y_test = data.x_test[: args.test_limit], data.y_test[: args.test_limit]
    with blas_threads(args.threads):
        model, history, seconds = _train_model(args, data, image_hw)
        # final evaluation on the test split, exactly as a user of the saved file would
        pred = model.predict(prepare_images(x_test))
        _report_test_accuracy(pred, y_test, data.classes, seconds, history)
        return _save_and_verify(model, out, x_test, pred)


def _train_model(args, data, image_hw):
    """Build the model of the options, print the setup and train it.

    Returns
    -------
    model : ThreeLayerCNN
    history : dict, see :func:`cnn_helpers.training.train`
    seconds : float, the training time
    """
    x_train, y_train = data.x_train[: args.train_limit], data.y_train[: args.train_limit]
    x_test, y_test = data.x_test[: args.test_limit], data.y_test[: args.test_limit]
    dtype = np.dtype(args.dtype)
    model = ThreeLayerCNN(
        input_shape=(1, *image_hw),
        pool=args.pool,
        activation=args.activation,
        seed=args.seed,
        dtype=dtype,
    )
    print(
        f"Sign Language MNIST: {len(x_train)} training images, {len(x_test)} test images, "
        f"{len(data.classes)} letters, {image_hw[0]}x{image_hw[1]} pixels"
    )
    print(
        f"model: ThreeLayerCNN(pool={args.pool!r}, activation={args.activation!r}, "
        f"dtype={dtype.name}), {model.n_params()} parameters"
    )
    print(
        f"training: {args.epochs} epochs, batch {args.batch_size}, lr {args.lr:g} "
        f"({args.lr_schedule}), momentum {args.momentum:g}, shift {args.shift} "
        f"({args.fill}), seed {args.seed}, {args.threads} BLAS thread(s)",
        flush=True,
    )
    start = time.perf_counter()
    history = train(
        model,
        x_train,
        y_train,
        x_test,
        y_test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        max_shift=args.shift,
        fill=args.fill,
        lr_schedule=args.lr_schedule,
        seed=args.seed,
        eval_every=args.eval_every,
        verbose=True,
        print_fn=lambda s: print(s, flush=True),
        threads=args.threads,
    )
    return model, history, time.perf_counter() - start


def _report_test_accuracy(pred, y_test, classes, seconds, history):
    """Print the test accuracy, overall and for the three worst and best letters."""
    acc = float(np.mean(pred == y_test))
    print(
        f"trained in {format_seconds(seconds)}; test accuracy {acc:.4f} "
        f"({int(np.sum(pred == y_test))}/{len(y_test)} test images)"
    )
    per_letter = sorted(
        (float(np.mean(pred[y_test == c] == c)), letter)
        for c, letter in enumerate(classes)
        if np.any(y_test == c)
    )
    worst = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[:3])
    best = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[-3:])
    print(f"per-letter accuracy: lowest {worst}; highest {best}")
    if history["test_acc"] and abs(history["test_acc"][-1] - acc) > 0:
        print(f"(the last epoch's evaluation gave {history['test_acc'][-1]:.4f})")


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
