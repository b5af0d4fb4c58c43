"""Compare training recipes on the validation split and write the curves they were chosen by.

Usage (from the repository root)::

    python tools/choose_recipe.py                      # writes results/recipe_selection.csv
    python tools/choose_recipe.py --seeds 0 1 --out /tmp/selection.csv

Every candidate below is trained with seeds 0, 1 and 2 on the training split of
:func:`cnn_helpers.split_signs` and evaluated on the validation split after every epoch.
The test split is never loaded here. Each candidate sets the kernels per layer, epochs,
batch size, learning rate, momentum and augmentation (``CANDIDATES``; the other options
are those of ``python -m cnn_helpers.train``, float32). The recipes go to
``results/recipe_candidates.json``; notebook 08 checks that the candidate with the lowest
mean validation loss is the recipe of the command line (``cnn_helpers.cli.TRAIN_DEFAULTS``).
The CSV has one row per candidate, seed and epoch:
``candidate,seed,epoch,val_loss,val_acc,seconds`` (seconds: training time so far, on the
machine that ran it, with one BLAS thread as the package default).

Takes about 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's cnn_helpers, also without PYTHONPATH

from cnn_helpers import ThreeLayerCNN, split_signs  # noqa: E402
from cnn_helpers.cli import TRAIN_DEFAULTS  # noqa: E402
from cnn_helpers.training import train  # noqa: E402

#: the options every candidate sets (the rest is the command line's recipe: cosine schedule,
#: edge fill, max pooling, ReLU, float32)
KEYS = ("channels", "epochs", "batch_size", "lr", "momentum", "shift", "rotation", "scale")


def _recipe(channels, epochs, batch_size, lr, momentum=0.0, shift=3, rotation=0.0, scale=0.0):
    return dict(zip(KEYS, (channels, epochs, batch_size, lr, momentum, shift, rotation, scale)))


#: name -> recipe. Each fits in a minute of training on 2 cores. The recipe of the command
#: line (cnn_helpers.cli.TRAIN_DEFAULTS) must be the one with the lowest mean validation
#: loss: notebook 08 checks it against results/recipe_candidates.json.
CANDIDATES = {
    "8/16 kernels, 60 epochs (before)": _recipe((8, 16), 60, 32, 0.1),
    "8/16 kernels, 180 epochs": _recipe((8, 16), 180, 32, 0.1),
    "16/32 kernels, 70 epochs": _recipe((16, 32), 70, 64, 0.2),
    "16/32, rotations and scaling": _recipe((16, 32), 70, 64, 0.2, rotation=10.0, scale=0.1),
    "16/32, momentum 0.9": _recipe((16, 32), 70, 64, 0.02, momentum=0.9),
    "16/32, no random shifts": _recipe((16, 32), 70, 64, 0.2, shift=0),
}

FIELDS = ("candidate", "seed", "epoch", "val_loss", "val_acc", "seconds")


def run(name, seed, splits):
    """Train one candidate with one seed; returns its CSV rows."""
    r = CANDIDATES[name]
    model = ThreeLayerCNN(
        channels=r["channels"],
        pool=TRAIN_DEFAULTS["pool"],
        activation=TRAIN_DEFAULTS["activation"],
        seed=seed,
        dtype=np.float32,
    )
    recipe = dict(
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        lr=r["lr"],
        momentum=r["momentum"],
        max_shift=r["shift"],
        max_rotation=r["rotation"],
        max_scale=r["scale"],
        fill=TRAIN_DEFAULTS["fill"],
        lr_schedule=TRAIN_DEFAULTS["lr_schedule"],
    )
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
    parser.add_argument(
        "--candidates-out", type=Path, default=ROOT / "results" / "recipe_candidates.json"
    )
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
    recipes = {name: CANDIDATES[name] for name in args.candidates}
    args.candidates_out.write_text(json.dumps(recipes, indent=1) + "\n")
    print(f"wrote {args.candidates_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
