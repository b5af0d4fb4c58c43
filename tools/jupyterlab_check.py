"""Open the notebooks in a real JupyterLab and report what a student sees.

Starts JupyterLab on 127.0.0.1 (no token, a temporary settings folder, so your own
JupyterLab settings are untouched), opens each notebook in headless Chromium driven by
Playwright, and prints per notebook: the cells, the formulas MathJax typeset, MathJax
errors, whether the tab shows an unsaved-changes mark, images that the column scales
down, and any ``$`` left raw in the rendered text. With ``--shots DIR`` it also saves the
notebook screen by screen, top to bottom, as PNG files to look at.

Requirements (not part of the two-command set-up)::

    apt-get install chromium          # Debian's Chromium at /usr/bin/chromium
    pip install playwright            # no "playwright install": the system browser is used

Usage (from the repository root, in the project's virtual environment)::

    python tools/jupyterlab_check.py                       # every notebook
    python tools/jupyterlab_check.py 03 05 --shots /tmp/shots

Exit status 1 if a notebook shows a MathJax error, raw ``$``, an unsaved-changes mark or
a scaled-down image; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# counted in the notebook panel that is shown (JupyterLab keeps hidden tabs in the DOM)
_INSPECT = """() => {
  const P = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const md = [...P.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')];
  return {
    cells: P.querySelectorAll('.jp-Cell').length,
    formulas: P.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
    errors: P.querySelectorAll('mjx-merror').length,
    dirty: document.querySelectorAll('.jp-mod-dirty').length,
    raw: md.filter(e => /\\$/.test(e.innerText)).map(e => e.innerText.slice(0, 100)),
    scaled: [...P.querySelectorAll('.jp-RenderedImage img')]
      .filter(i => i.naturalWidth > i.clientWidth + 2).map(i => i.naturalWidth),
  };
}"""
_SCROLL = """() => {
  const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  const before = s.scrollTop;
  s.scrollTop = before + s.clientHeight - 60;
  return s.scrollTop > before;
}"""


def _start_lab(port: int, settings: str) -> subprocess.Popen:
    """JupyterLab on 127.0.0.1:port rendering every cell (no virtual scrolling)."""
    tracker = Path(settings, "@jupyterlab", "notebook-extension")
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=settings)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={ROOT}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(60):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2)
            return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise RuntimeError(f"JupyterLab did not answer on 127.0.0.1:{port} within 60 s")


def _inspect(page, port: int, name: str, shots: Path | None) -> bool:
    """Open one notebook; print what it shows; return True when nothing is wrong."""
    page.goto(f"http://127.0.0.1:{port}/lab/workspaces/c{name[:2]}/tree/notebooks/{name}?reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
    time.sleep(6)  # MathJax typesets after the cells render
    info = page.evaluate(_INSPECT)
    print(
        f"{name}: {info['cells']} cells, {info['formulas']} formulas, "
        f"MathJax errors {info['errors']}, unsaved mark {info['dirty']}, "
        f"images scaled down {info['scaled']}, raw $ {info['raw'][:3]}",
        flush=True,
    )
    for k in range(100) if shots else ():
        page.screenshot(path=str(shots / f"{name[:2]}_p{k:02d}.png"))
        if not page.evaluate(_SCROLL):
            break
        time.sleep(1.0)
    return not (info["errors"] or info["dirty"] or info["raw"] or info["scaled"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/jupyterlab_check.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        metavar="NN",
        help="two-digit numbers of the notebooks to open (default: all)",
    )
    parser.add_argument("--shots", type=Path, help="save screen-by-screen PNGs here")
    parser.add_argument("--port", type=int, default=8899, help="JupyterLab's port")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser binary")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    names = sorted(
        p.name
        for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
        if not args.notebooks or p.name[:2] in args.notebooks
    )
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    ok = True
    with tempfile.TemporaryDirectory() as settings:
        server = _start_lab(args.port, os.path.join(settings, "lab"))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=args.chromium,
                    headless=True,
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                    ],
                )
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                for name in names:
                    ok &= _inspect(page, args.port, name, args.shots)
                browser.close()
        finally:
            server.terminate()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
