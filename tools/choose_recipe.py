"""Compare training recipes on the validation split and write the curves they were chosen by.

Usage (from the repository root)::

    python tools/choose_recipe.py                      # writes results/recipe_selection.csv
    python tools/choose_recipe.py --seeds 0 1 --out /tmp/selection.csv

Every candidate below is trained with seeds 0, 1 and 2 on the training split of
:func:`cnn_helpers.split_signs` and evaluated on the validation split after every epoch.
The test split is never loaded here. Each candidate sets the kernels per layer and their
sides, epochs, batch size, learning rate and warm-up, momentum and augmentation
(``CANDIDATES``; the other options are those of ``python -m cnn_helpers.train``, float32).
The recipes go to ``results/recipe_candidates.json``. Notebook 08 applies the selection
rule to these files: among the candidates that do no more multiply-adds than the 16/32
recipe with 3x3 kernels, the lowest mean validation loss wins, and it must be the recipe of
the command line (``cnn_helpers.cli.TRAIN_DEFAULTS``). The CSV has one row per candidate,
seed and epoch: ``candidate,seed,epoch,val_loss,val_acc,seconds`` (seconds: training time
so far, on the machine that ran it, with one BLAS thread as the package default; for
reference only, since a shared machine's speed varies).

Takes about 40 minutes on 2 cores (``--candidates`` runs a subset).
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

from cnn_helpers import split_signs  # noqa: E402
from cnn_helpers.cli import TRAIN_DEFAULTS  # noqa: E402
from cnn_helpers.training import build_recognizer, train  # noqa: E402

#: the options every candidate sets (the rest is the command line's recipe: cosine schedule,
#: edge fill, max pooling, ReLU, float32)
KEYS = (
    "channels",
    "kernels",
    "epochs",
    "batch_size",
    "lr",
    "warmup",
    "momentum",
    "shift",
    "brightness",
    "contrast",
    "rotation",
    "scale",
)


def _recipe(
    channels,
    epochs,
    batch_size,
    lr,
    *,
    kernels=(3, 3),
    warmup=0.0,
    momentum=0.0,
    shift=3,
    brightness=0.0,
    contrast=0.0,
    rotation=0.0,
    scale=0.0,
):
    values = (channels, kernels, epochs, batch_size, lr, warmup, momentum, shift)
    return dict(zip(KEYS, (*values, brightness, contrast, rotation, scale)))


#: name -> recipe. The recipe of the command line (cnn_helpers.cli.TRAIN_DEFAULTS) must be the
#: one with the lowest mean validation loss among those within the work budget (notebook 08
#: checks it against results/recipe_candidates.json and results/recipe_selection.csv).
CANDIDATES = {
    "8/16 kernels, 60 epochs (before)": _recipe((8, 16), 60, 32, 0.1),
    "8/16 kernels, 180 epochs": _recipe((8, 16), 180, 32, 0.1),
    "16/32 kernels, 70 epochs": _recipe((16, 32), 70, 64, 0.2),
    "16/32, rotations and scaling": _recipe((16, 32), 70, 64, 0.2, rotation=10.0, scale=0.1),
    "16/32, momentum 0.9": _recipe((16, 32), 70, 64, 0.02, momentum=0.9),
    "16/32, no random shifts": _recipe((16, 32), 70, 64, 0.2, shift=0),
    "16/32, 5x5 kernels in layer 1": _recipe((16, 32), 70, 64, 0.2, kernels=(5, 3)),
    "16/32, 5x5 in layer 1, lr 0.1": _recipe((16, 32), 70, 64, 0.1, kernels=(5, 3)),
    "16/32, 5x5 in layer 1, lr 0.3": _recipe((16, 32), 70, 64, 0.3, kernels=(5, 3)),
    "16/32, 5x5, brightness/contrast 10 %": _recipe(
        (16, 32), 70, 64, 0.2, kernels=(5, 3), brightness=0.1, contrast=0.1
    ),
    "16/32, warm-up 5 %": _recipe((16, 32), 70, 64, 0.2, warmup=0.05),
    "16/32, 5x5, warm-up 5 %": _recipe((16, 32), 70, 64, 0.2, kernels=(5, 3), warmup=0.05),
    "16/32, 5x5, warm-up 10 %": _recipe((16, 32), 70, 64, 0.2, kernels=(5, 3), warmup=0.1),
    "16/32, 5x5, warm-up 5 %, 60 epochs": _recipe(
        (16, 32), 60, 64, 0.2, kernels=(5, 3), warmup=0.05
    ),
    "16/24, 5x5, warm-up 5 %": _recipe((16, 24), 70, 64, 0.2, kernels=(5, 3), warmup=0.05),
    "12/32, 5x5, warm-up 5 %": _recipe((12, 32), 70, 64, 0.2, kernels=(5, 3), warmup=0.05),
}

FIELDS = ("candidate", "seed", "epoch", "val_loss", "val_acc", "seconds")


def run(name, seed, splits):
    """Train one candidate with one seed; returns its CSV rows."""
    r = CANDIDATES[name]
    model = build_recognizer(
        r["channels"],
        r["kernels"],
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
        max_brightness=r["brightness"],
        max_contrast=r["contrast"],
        max_rotation=r["rotation"],
        max_scale=r["scale"],
        fill=TRAIN_DEFAULTS["fill"],
        lr_schedule=TRAIN_DEFAULTS["lr_schedule"],
        warmup=r["warmup"],
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
