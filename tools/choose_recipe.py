"""Compare training recipes on the validation split and write the curves they were chosen by.

Usage (from the repository root)::

    python tools/choose_recipe.py                      # writes results/recipe_selection.csv
    python tools/choose_recipe.py --seeds 0 1 --out /tmp/selection.csv

Every candidate below is trained with seeds 0, 1 and 2 on the training split of
:func:`cnn_helpers.split_signs` and evaluated on the validation split after every epoch.
The test split is never loaded here. Each candidate changes a few options of the recipe
of ``python -m cnn_helpers.train`` (``cnn_helpers.cli.TRAIN_DEFAULTS``, float32); the
candidate without changes, "default", is that recipe, and notebook 08 checks that it is
the one with the lowest mean validation loss in this file. The CSV has one row per
candidate, seed and epoch: ``candidate,seed,epoch,val_loss,val_acc,seconds`` (seconds:
training time so far, on the machine that ran it, with one BLAS thread as the package
default).

Takes about 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's cnn_helpers, also without PYTHONPATH

from cnn_helpers import ThreeLayerCNN, split_signs  # noqa: E402
from cnn_helpers.cli import TRAIN_DEFAULTS  # noqa: E402
from cnn_helpers.training import train  # noqa: E402

#: name -> (train() overrides, ThreeLayerCNN overrides) of the recipe of the command line
#: (cnn_helpers.cli.TRAIN_DEFAULTS); "default" is that recipe. Each fits in a minute of
#: training on 2 cores.
CANDIDATES = {
    "default": ({}, {}),
    "8/16 kernels, 60 epochs (before)": (
        {"epochs": 60, "batch_size": 32, "lr": 0.1},
        {"channels": (8, 16)},
    ),
    "8/16 kernels, 180 epochs": (
        {"epochs": 180, "batch_size": 32, "lr": 0.1},
        {"channels": (8, 16)},
    ),
    "12/24 kernels, 110 epochs": ({"epochs": 110}, {"channels": (12, 24)}),
    "momentum 0.9": ({"momentum": 0.9, "lr": 0.02}, {}),
    "no random shifts": ({"max_shift": 0}, {}),
}

FIELDS = ("candidate", "seed", "epoch", "val_loss", "val_acc", "seconds")


def run(name, seed, splits):
    """Train one candidate with one seed; returns its CSV rows."""
    train_overrides, model_overrides = CANDIDATES[name]
    recipe = dict(
        epochs=TRAIN_DEFAULTS["epochs"],
        batch_size=TRAIN_DEFAULTS["batch_size"],
        lr=TRAIN_DEFAULTS["lr"],
        momentum=TRAIN_DEFAULTS["momentum"],
        max_shift=TRAIN_DEFAULTS["shift"],
        fill=TRAIN_DEFAULTS["fill"],
        lr_schedule=TRAIN_DEFAULTS["lr_schedule"],
    )
    recipe.update(train_overrides)
    layers = dict(
        channels=TRAIN_DEFAULTS["channels"],
        pool=TRAIN_DEFAULTS["pool"],
        activation=TRAIN_DEFAULTS["activation"],
    )
    layers.update(model_overrides)
    model = ThreeLayerCNN(seed=seed, dtype=np.float32, **layers)
    rows = []
    start = time.perf_counter()

    def record(r):
        rows.append(
            dict(
                candidate=name,
                seed=seed,
                epoch=r["epoch"],
                val_loss=f"{r['val_loss']:.5f}",
                val_acc=f"{r['val_acc']:.5f}",
                seconds=f"{time.perf_counter() - start:.1f}",
            )
        )

    options = dict(seed=seed, eval_train=False, callback=record, **recipe)
    train(model, splits.x_train, splits.y_train, splits.x_val, splits.y_val, **options)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "recipe_selection.csv")
    args = parser.parse_args(argv)
    splits = split_signs()  # training and validation splits only are used below
    rows = []
    for name in args.candidates:
        for seed in args.seeds:
            rows += run(name, seed, splits)
            last = rows[-1]
            print(
                f"{name:<14} seed {seed}: val acc {float(last['val_acc']):.4f}, "
                f"val loss {float(last['val_loss']):.4f}, {last['seconds']} s",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
