"""``python -m cnn_helpers.train``: the training command line (see :mod:`cnn_helpers.cli`).

A shim, so that the module name keeps working; the parser and ``main`` live in
:func:`cnn_helpers.cli.train_main` (also installed as the script ``cnn-train``).
"""

import sys

from .cli import TRAIN_DEFAULTS as DEFAULTS
from .cli import build_train_parser as build_parser
from .cli import train_main as main

__all__ = ["main", "build_parser", "DEFAULTS"]

if __name__ == "__main__":
    sys.exit(main())
