"""The command lines: ``python -m cnn_helpers.train`` and ``python -m cnn_helpers.benchmark``.

Installed with ``pip install -e .`` they are also the scripts ``cnn-train`` and
``cnn-benchmark``. Usage (from anywhere; the data file is found from the package
location)::

    python -m cnn_helpers.train                      # the defaults of notebook 08
    python -m cnn_helpers.train --epochs 5 --lr 0.05 --pool avg --out runs/avg.npz
    python -m cnn_helpers.benchmark --repeats 20 --skip-scaling
    python -m cnn_helpers.train --help

The training run trains on the training split, prints one line per epoch (loss, elapsed
time, ETA; every few epochs also the validation split's loss and accuracy), evaluates the
final model once on the complete official test split (7,172 images), saves it
with ``ThreeLayerCNN.save`` and checks that ``ThreeLayerCNN.load`` of the file, fed
``prepare_images`` of the stored test images, predicts exactly what the trained model in
memory predicts. Exit status 0 on success, 1 if that check fails, 2 for bad options.
Both commands run NumPy's BLAS with ``--threads`` threads (default
:data:`cnn_helpers._threads.DEFAULT_THREADS`).
"""

from .benchmark_command import benchmark_main, build_benchmark_parser
from .train_command import TRAIN_DEFAULTS, build_train_parser, train_main

__all__ = [
    "train_main",
    "benchmark_main",
    "build_train_parser",
    "build_benchmark_parser",
    "TRAIN_DEFAULTS",
]
