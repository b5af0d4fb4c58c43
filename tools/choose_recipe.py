"""Compare training recipes on the validation split and write the curves they were chosen by.

Usage (from the repository root)::

    python tools/choose_recipe.py                      # writes results/recipe_selection.csv
    python tools/choose_recipe.py --seeds 0 1 --out /tmp/selection.csv

Every candidate below is trained with seeds 0, 1 and 2 on the training split of
:func:`cnn_helpers.split_signs` and evaluated on the validation split after every epoch.
The test split is never loaded here. Each candidate changes a few of the defaults of
:func:`cnn_helpers.training.train` and :class:`cnn_helpers.ThreeLayerCNN` (float32, as
the command line trains); the candidate without changes is the default recipe of
``python -m cnn_helpers.train``, and notebook 08 checks that it is the one with the best
mean validation loss in this file. The CSV has one row per candidate, seed and epoch:
``candidate,seed,epoch,val_loss,val_acc,seconds`` (seconds: training time so far, on the
machine that ran it; with one BLAS thread, as the package default).

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
from cnn_helpers.training import train  # noqa: E402

#: name -> (what it changes, train() overrides, ThreeLayerCNN overrides); "default" is the
#: recipe of train() and ThreeLayerCNN as they stand
CANDIDATES = {
    "default": ("the default recipe", {}, {}),
    "60 epochs": ("the earlier recipe: 60 epochs", {"epochs": 60}, {}),
    "momentum 0.9": (
        "classical momentum 0.9 with a 10x smaller rate",
        {"momentum": 0.9, "lr": 0.01},
        {},
    ),
    "no shifts": ("no random-shift augmentation", {"max_shift": 0}, {}),
    "wider conv 1": ("12 and 24 kernels instead of 8 and 16", {}, {"channels": (12, 24)}),
}

FIELDS = ("candidate", "seed", "epoch", "val_loss", "val_acc", "seconds")


def run(name, seed, splits):
    """Train one candidate with one seed; returns its CSV rows."""
    _, train_overrides, model_overrides = CANDIDATES[name]
    model = ThreeLayerCNN(seed=seed, dtype=np.float32, **model_overrides)
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

    options = dict(seed=seed, eval_train=False, callback=record, **train_overrides)
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
