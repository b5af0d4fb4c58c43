"""Re-execute notebooks top to bottom, in place, and tidy them for nbval and git.

Usage (from the repository root, in the project's virtual environment)::

    python tools/execute_notebooks.py                 # every notebooks/NN_*.ipynb, in order
    python tools/execute_notebooks.py notebooks/03_max_pooling_mask.ipynb

A thin command line over :func:`cnn_helpers.coursework.execute.execute_in_place`: each
notebook runs in a fresh ``python3`` kernel of this interpreter (the one that
``pytest --nbval --nbval-current-env`` uses) with the notebook's folder as its working
directory. Afterwards consecutive stream outputs are merged (the kernel may split one
print in two) and the per-cell execution timestamps are dropped, so that a re-run
without changes leaves the file byte-identical and git diffs show only real output
changes. A notebook with a failing cell is left untouched (exit code 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's cnn_helpers, also without PYTHONPATH

from cnn_helpers.coursework.execute import (  # noqa: E402
    KernelStartError,
    NotebookRunError,
    execute_in_place,
)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if not path.is_file():
            print(f"error: no notebook at {path}", file=sys.stderr)
            return 2
        try:
            elapsed = execute_in_place(path.resolve())
        except (NotebookRunError, KernelStartError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{path.name}: {elapsed:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
