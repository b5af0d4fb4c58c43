"""What both command lines share: the help formatter, option types, a parser factory."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .._threads import DEFAULT_THREADS

__all__: list[str] = []  # private helpers of cnn_helpers.cli


class _HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: ...)" to an option's help only when it says something: not for
    flags, None defaults, or help texts that already describe their default."""

    def _get_help_string(self, action):
        text = action.help or ""
        silent = action.default is None or action.default is False
        if silent or action.default == argparse.SUPPRESS or "default" in text:
            return text
        return f"{text} (default: %(default)s)"


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
_positive_float = _option(float, lambda v: math.isfinite(v) and v > 0, "a positive, finite number")
_momentum = _option(
    float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1) (0 = plain gradient descent)"
)
_side = _option(
    int,
    lambda v: 4 <= v <= 48,
    "an image side in 4..48 (two 2x2 poolings need 4; the explicit Jacobians of one 48x48 "
    "image take 1.2 GB)",
)


def _prog(module, script):
    """``cnn-train`` when run as the installed script, else ``python -m <module>``."""
    name = os.path.basename(sys.argv[0] or "")
    return name if name == script else f"python -m {module}"


def _new_parser(module, script, description, batch_size, batch_help, threads_help):
    """A parser with the options both commands share: --batch-size, --threads, --data."""
    parser = argparse.ArgumentParser(
        prog=_prog(module, script), description=description, formatter_class=_HelpFormatter
    )
    add = parser.add_argument
    add("--batch-size", type=_positive_int, default=batch_size, metavar="N", help=batch_help)
    add(
        "--threads",
        type=_positive_int,
        default=DEFAULT_THREADS,
        metavar="N",
        help=f"{threads_help}; the package default {DEFAULT_THREADS} is never much slower "
        "for this small network and about twice as fast as 2 while another program keeps "
        "a core busy (2 saves 10-20%% on an idle machine)",
    )
    add(
        "--data",
        type=Path,
        default=None,
        help="the sign_mnist.npz file (default: the repository's data/)",
    )
    return parser


def _table(header, rows):
    """Rows of cells as aligned text: the first column left, the others right."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        )
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
