"""Re-execute notebooks top to bottom, in place, and tidy them for nbval and git.

Usage (from the repository root, in the project's virtual environment)::

    python tools/execute_notebooks.py                 # every notebooks/NN_*.ipynb, in order
    python tools/execute_notebooks.py notebooks/03_max_pooling_mask.ipynb

Each notebook runs in a fresh ``python3`` kernel with the notebooks folder as its
working directory (as ``jupyter nbconvert --execute --inplace`` does). Afterwards
consecutive stream outputs are merged (the kernel may split one print in two) and the
per-cell execution timestamps are dropped, so that a re-run without changes leaves
the file byte-identical and git diffs show only real output changes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def tidy(nb) -> None:
    """Merge consecutive stream outputs and drop execution timestamps, in place."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        merged = []
        for out in cell.outputs:
            if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == out.name):
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def execute(path: Path, timeout: int = 600) -> float:
    """Execute one notebook in place; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    tidy(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if not path.is_file():
            print(f"error: no notebook at {path}", file=sys.stderr)
            return 2
        print(f"{path.name}: {execute(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
