"""Train the paper's 3-layer CNN on the shipped Sign Language MNIST from the command line.

Usage (from anywhere; the data file is found from the package location)::

    python -m cnn_helpers.train                      # the defaults of the notebook
    python -m cnn_helpers.train --epochs 5 --lr 0.05 --pool avg --out runs/avg.npz
    python -m cnn_helpers.train --help

The run prints one line per epoch (loss, accuracy, elapsed time, ETA), evaluates the
final model on the complete official test split (7,172 images), saves it with
``ThreeLayerCNN.save`` and checks that ``ThreeLayerCNN.load`` of the file, fed
``prepare_images`` of the stored test images, predicts exactly what the trained model
in memory predicts. Exit status 0 on success, 1 if that check fails, 2 for bad options.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from .data import load_signs, prepare_images
from .model import ThreeLayerCNN
from .training import LR_SCHEDULES, SHIFT_FILLS, format_seconds, train

__all__ = ["main", "build_parser", "DEFAULTS"]

#: the training recipe of notebooks/08_sign_recognizer.ipynb
DEFAULTS = dict(epochs=60, batch_size=32, lr=0.1, momentum=0.0, pool="max", activation="relu",
                shift=3, fill="edge", lr_schedule="cosine", seed=0, dtype="float32",
                eval_every=1, out="sign_cnn.npz")


def _option(convert, accept, expected):
    """An argparse ``type=``: convert the text, then check it; errors say what was expected."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {expected}; got {text!r}")
        return value
    return parse


_positive_int = _option(int, lambda v: v >= 1, "a positive integer (>= 1)")
_nonnegative_int = _option(int, lambda v: v >= 0, "a non-negative integer (>= 0)")
_any_int = _option(int, lambda v: True, "an integer")
_positive_float = _option(float, lambda v: math.isfinite(v) and v > 0,
                          "a positive, finite number")
_momentum = _option(float, lambda v: 0.0 <= v < 1.0,
                    "a number in [0, 1) (0 = plain gradient descent)")


def build_parser():
    """The argparse parser of ``python -m cnn_helpers.train``."""
    d = DEFAULTS
    parser = argparse.ArgumentParser(
        prog="python -m cnn_helpers.train",
        description="Train the paper's 3-layer CNN (conv-ReLU-pool, conv-ReLU-pool, fully "
                    "connected, softmax) on the shipped Sign Language MNIST by mini-batch "
                    "gradient descent, evaluate it on the complete test split and save it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                        help="passes over the training images")
    parser.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                        help="images per gradient step")
    parser.add_argument("--lr", type=_positive_float, default=d["lr"],
                        help="base learning rate alpha of K := K - alpha dJ/dK")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d["lr_schedule"],
                        help="how alpha changes over the steps")
    parser.add_argument("--momentum", type=_momentum, default=d["momentum"],
                        help="classical momentum; 0 is the paper's plain gradient descent")
    parser.add_argument("--pool", choices=("max", "avg"), default=d["pool"],
                        help="pooling of both conv blocks")
    parser.add_argument("--activation", choices=("relu", "sigmoid", "tanh"),
                        default=d["activation"], help="activation of both conv blocks")
    parser.add_argument("--shift", type=_nonnegative_int, default=d["shift"],
                        help="random-shift augmentation in pixels per axis (0: off)")
    parser.add_argument("--fill", choices=SHIFT_FILLS, default=d["fill"],
                        help="what the pixels shifted in from outside become")
    parser.add_argument("--seed", type=_any_int, default=d["seed"],
                        help="seeds the initial weights, the shuffling and the shifts")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d["dtype"],
                        help="floating-point type of the weights and activations")
    parser.add_argument("--out", type=Path, default=Path(d["out"]),
                        help="where to save the trained model (.npz)")
    parser.add_argument("--eval-every", type=_positive_int, default=d["eval_every"],
                        metavar="K", help="evaluate the clean training images and the test "
                        "split after every K-th epoch (and after the last one)")
    parser.add_argument("--train-limit", type=_positive_int, default=None, metavar="N",
                        help="train on the first N training images only (quick checks)")
    parser.add_argument("--test-limit", type=_positive_int, default=None, metavar="N",
                        help="evaluate on the first N test images only (quick checks; the "
                             "default is the complete test split)")
    parser.add_argument("--data", type=Path, default=None,
                        help="the sign_mnist.npz file (default: the repository's data/)")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 = trained, saved and verified)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = args.out if args.out.suffix == ".npz" else args.out.with_name(args.out.name + ".npz")
    if args.shift >= 28:
        parser.error(f"argument --shift: must be smaller than the image size 28; "
                     f"got {args.shift}")
    if not out.parent.is_dir():
        parser.error(f"argument --out: the folder {str(out.parent)!r} does not exist")

    try:
        data = load_signs(args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    x_train, y_train = data.x_train[:args.train_limit], data.y_train[:args.train_limit]
    x_test, y_test = data.x_test[:args.test_limit], data.y_test[:args.test_limit]
    dtype = np.dtype(args.dtype)
    model = ThreeLayerCNN(pool=args.pool, activation=args.activation, seed=args.seed,
                          dtype=dtype)
    print(f"Sign Language MNIST: {len(x_train)} training images, {len(x_test)} test images, "
          f"{len(data.classes)} letters")
    print(f"model: ThreeLayerCNN(pool={args.pool!r}, activation={args.activation!r}, "
          f"dtype={dtype.name}), {model.n_params()} parameters")
    print(f"training: {args.epochs} epochs, batch {args.batch_size}, lr {args.lr:g} "
          f"({args.lr_schedule}), momentum {args.momentum:g}, shift {args.shift} "
          f"({args.fill}), seed {args.seed}", flush=True)

    start = time.perf_counter()
    history = train(model, x_train, y_train, x_test, y_test, epochs=args.epochs,
                    batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
                    max_shift=args.shift, fill=args.fill, lr_schedule=args.lr_schedule,
                    seed=args.seed, eval_every=args.eval_every, verbose=True,
                    print_fn=lambda s: print(s, flush=True))
    seconds = time.perf_counter() - start

    # final evaluation on the test split, exactly as a user of the saved file would
    pred = model.predict(prepare_images(x_test))
    acc = float(np.mean(pred == y_test))
    print(f"trained in {format_seconds(seconds)}; test accuracy {acc:.4f} "
          f"({int(np.sum(pred == y_test))}/{len(y_test)} test images)")
    per_letter = [(float(np.mean(pred[y_test == c] == c)), letter)
                  for c, letter in enumerate(data.classes) if np.any(y_test == c)]
    per_letter.sort()
    worst = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[:3])
    best = ", ".join(f"{letter} {a:.3f}" for a, letter in per_letter[-3:])
    print(f"per-letter accuracy: lowest {worst}; highest {best}")
    if history["test_acc"] and abs(history["test_acc"][-1] - acc) > 0:
        print(f"(the last epoch's evaluation gave {history['test_acc'][-1]:.4f})")

    model.save(out)
    loaded = ThreeLayerCNN.load(out)
    pred_loaded = loaded.predict(prepare_images(x_test))
    same = bool(np.array_equal(pred_loaded, pred))
    same_proba = bool(np.array_equal(loaded.predict_proba(prepare_images(x_test)),
                                     model.predict_proba(prepare_images(x_test))))
    print(f"saved to {out}")
    print(f"reloaded with ThreeLayerCNN.load: predictions identical to the trained model: "
          f"{same} ({int(np.sum(pred_loaded == pred))}/{len(pred)}); probabilities "
          f"bit-identical: {same_proba}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
