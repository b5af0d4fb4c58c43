"""``python -m cnn_helpers.coursework``: see :mod:`cnn_helpers.coursework`."""

import sys

from .cli import main

sys.exit(main())
