"""The course website, built and read in a real browser.

Builds the site with ``tools/build_site.py`` into a temporary folder, serves it on
127.0.0.1 (a free port), opens every page in Debian's Chromium (``/usr/bin/chromium``,
headless) driven by Playwright, and checks what a reader sees:

* no console error, no failed request, no request that leaves 127.0.0.1 (the site is offline);
* MathJax typeset every formula and reported no error (no ``mjx-merror``, no math element
  left untypeset, no raw ``$``, ``$$``, ``\\(`` or ``\\[`` in the text outside code);
* on each notebook page, the formulas typeset in the text equal the math spans of the
  notebook's markdown cells, counted with :func:`test_notebook_text.math_spans` (the port
  of JupyterLab's ``removeMath``); the formulas typeset inside code-cell outputs equal those
  of the notebook's ``text/latex`` (one each) and ``text/markdown`` outputs, which JupyterLab
  typesets too;
* every image loaded (natural width > 0) and figures are not shrunk below a readable width;
* code cells are highlighted and their outputs shown;
* every internal link (and its ``#fragment``) resolves (HTTP 200);
* the previous/next chain runs index -> 00 -> ... -> 09 -> the command line -> instructors;
* search finds a notebook.

A screenshot of each page's first screen goes to ``$CNN_SITE_SCREENSHOTS`` (default
``site-screenshots/`` at the repository root, git-ignored), with ``report.json`` (per page
counts and the build and browser times).

Needs the site extra (``pip install -e ".[site]"``) and ``/usr/bin/chromium``; skipped
without them, unless ``CNN_SITE_REQUIRED=1`` (as in ``.ci/run``), which turns the skip into a
failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from test_notebook_text import math_spans

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["index.html", *[f"notebooks/{p.stem}.html" for p in NOTEBOOKS]]
PAGES += ["cli.html", "instructors.html"]
SEARCH = "search.html?q=switches"
VIEWPORT = {"width": 1400, "height": 900}
READABLE = 600  # px: a figure is never shown narrower than this (or its own width)

SITE_MODULES = ("sphinx", "myst_nb", "furo", "mathjax", "playwright")  # "mathjax": MathJax 3 files
_missing = [m for m in SITE_MODULES if importlib.util.find_spec(m) is None]
if not Path(CHROMIUM).exists():
    _missing.append(CHROMIUM)
if _missing:
    _why = f"site extra or Chromium missing: {', '.join(_missing)} (pip install -e '.[site]')"
    if os.environ.get("CNN_SITE_REQUIRED") == "1":
        raise RuntimeError(f"CNN_SITE_REQUIRED=1 but the {_why}")
    pytest.skip(_why, allow_module_level=True)


# --------------------------------------------------------------------------------------------
# what the notebooks contain
# --------------------------------------------------------------------------------------------


def expected_counts(path: Path) -> dict:
    """Math spans of the markdown cells, formulas of the outputs, code cells, outputs."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    text, outputs, code, with_output = 0, 0, 0, 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            text += len(math_spans(source))
        elif cell["cell_type"] == "code" and source.strip():
            code += 1
            with_output += bool(cell.get("outputs"))
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "text/latex" in data:  # myst-nb prefers it: one display formula
                    outputs += 1
                elif "text/markdown" in data:
                    outputs += len(math_spans("".join(data["text/markdown"])))
    return {"text": text, "outputs": outputs, "code_cells": code, "with_output": with_output}


# --------------------------------------------------------------------------------------------
# build and serve
# --------------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site, served on 127.0.0.1; yields (base URL, output folder, build seconds)."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "_site"
    start = time.perf_counter()
    command = [sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out)]
    command += ["--build-dir", str(tmp / "build")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    build_seconds = time.perf_counter() - start
    assert done.returncode == 0, f"build failed:\n{done.stdout}\n{done.stderr}"
    assert (out / "index.html").is_file()
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", out, build_seconds
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --------------------------------------------------------------------------------------------
# the browser
# --------------------------------------------------------------------------------------------

_INSPECT = """async () => {
  const main = document.querySelector('article[role=main]') || document.body;
  const imgs = [...document.querySelectorAll('img')];
  await Promise.all(imgs.map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
  const outside = document.body.cloneNode(true);
  // (p.context: the plain-text excerpts under search results, cut anywhere in the page)
  outside.querySelectorAll('pre, code, script, style, mjx-container, .highlight, p.context')
    .forEach(e => e.remove());
  const containers = [...main.querySelectorAll('mjx-container')];
  const inCell = e => e.closest('div.cell') !== null;
  return {
    title: document.title,
    text_formulas: containers.filter(e => !inCell(e)).length,
    output_formulas: containers.filter(inCell).length,
    untypeset: [...document.querySelectorAll('.math')]
      .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    merrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
    raw: (outside.textContent.match(/.{0,40}(\\$|\\\\\\(|\\\\\\[).{0,40}/g) || []),
    images: imgs.map(i => ({src: i.getAttribute('src'), complete: i.complete,
                            natural: i.naturalWidth, shown: i.clientWidth,
                            output: i.closest('.cell_output') !== null})),
    code_cells: main.querySelectorAll('div.cell div.cell_input').length,
    highlighted: [...main.querySelectorAll('div.cell div.cell_input')]
      .filter(e => e.querySelector('div.highlight pre span[class]')).length,
    outputs: main.querySelectorAll('div.cell div.cell_output').length,
    solution_cells: main.querySelectorAll('div.cell.tag_solution').length,
    solution_note: main.querySelector('.solutions-note') !== null,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    overflow: Math.max(...[...document.querySelectorAll('.content, .toc-drawer')]
      .map(e => e.getBoundingClientRect().right)) - window.innerWidth,
    next: (document.querySelector('link[rel=next]') || {}).href || null,
    prev: (document.querySelector('link[rel=prev]') || {}).href || null,
    next_button: (document.querySelector('a.next-page') || {}).href || null,
  };
}"""


def _screenshot_dir() -> Path:
    folder = Path(os.environ.get("CNN_SITE_SCREENSHOTS", ROOT / "site-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def pages(site):
    """Every page opened in Chromium: what :data:`_INSPECT` saw, plus console and network."""
    from playwright.sync_api import sync_playwright

    base, _, build_seconds = site
    shots = _screenshot_dir()
    seen = {}
    start = time.perf_counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
            outside_requests = []

            def route(r):
                if urllib.parse.urlsplit(r.request.url).hostname == "127.0.0.1":
                    r.continue_()
                else:
                    outside_requests.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            for name in [*PAGES, SEARCH]:
                errors, failed = [], []
                on_console = lambda m: m.type == "error" and errors.append(m.text)  # noqa: E731
                on_error = lambda e: errors.append(f"page error: {e}")  # noqa: E731
                on_failed = lambda r: failed.append(f"{r.url}: {r.failure}")  # noqa: E731
                page.on("console", on_console)
                page.on("pageerror", on_error)
                page.on("requestfailed", on_failed)
                outside_requests.clear()
                response = page.goto(base + name, wait_until="load")
                mathjax = page.evaluate("() => !!document.querySelector('script[src*=mathjax]')")
                if mathjax:
                    page.wait_for_function(
                        "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                        timeout=30_000,
                    )
                    page.evaluate("() => MathJax.startup.promise.then(() => true)")
                if name == SEARCH:
                    page.wait_for_selector("ul.search li", timeout=20_000)
                    results = page.eval_on_selector_all(
                        "ul.search li a", "els => els.map(a => a.href)"
                    )
                    # the results' titles hold math too: typeset them before looking
                    page.evaluate("() => MathJax.typesetPromise().then(() => true)")
                    info = page.evaluate(_INSPECT)
                    info["results"] = results
                else:
                    info = page.evaluate(_INSPECT)
                    page.screenshot(path=str(shots / (Path(name).stem + ".png")))
                info.update(
                    status=response.status if response else None,
                    mathjax=mathjax,
                    console_errors=errors,
                    failed_requests=failed,
                    outside_requests=list(outside_requests),
                )
                seen[name] = info
                page.remove_listener("console", on_console)
                page.remove_listener("pageerror", on_error)
                page.remove_listener("requestfailed", on_failed)
            context.close()
        finally:
            browser.close()
    browser_seconds = time.perf_counter() - start
    report = {
        "build_seconds": round(build_seconds, 1),
        "browser_seconds": round(browser_seconds, 1),
        "pages": {
            name: {
                k: seen[name].get(k)
                for k in ("title", "text_formulas", "output_formulas", "code_cells")
            }
            for name in PAGES
        },
    }
    for path in NOTEBOOKS:
        expected = expected_counts(path)
        entry = report["pages"][f"notebooks/{path.stem}.html"]
        entry["math_spans"], entry["output_math"] = expected["text"], expected["outputs"]
    (shots / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"\nsite: build {build_seconds:.1f} s, browser {browser_seconds:.1f} s; see {shots}")
    return base, seen


# --------------------------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*PAGES, SEARCH])
def test_page_loads_cleanly_and_offline(pages, name):
    info = pages[1][name]
    assert info["status"] == 200, f"{name}: HTTP {info['status']}"
    assert not info["console_errors"], f"{name}: console errors {info['console_errors']}"
    assert not info["failed_requests"], f"{name}: failed requests {info['failed_requests']}"
    assert not info["outside_requests"], f"{name}: left 127.0.0.1: {info['outside_requests']}"


@pytest.mark.parametrize("name", [*PAGES, SEARCH])
def test_math_typeset_without_errors(pages, name):
    info = pages[1][name]
    assert not info["merrors"], f"{name}: MathJax errors {info['merrors']}"
    assert not info["untypeset"], f"{name}: math left untypeset {info['untypeset'][:5]}"
    assert not info["raw"], f"{name}: raw TeX delimiters in the text {info['raw'][:5]}"
    if info["text_formulas"] or info["output_formulas"]:
        assert info["mathjax"], f"{name}: formulas but no MathJax script"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_formulas_counted_as_jupyterlab_counts(pages, path):
    info = pages[1][f"notebooks/{path.stem}.html"]
    expected = expected_counts(path)
    assert expected["text"] > 0
    assert info["text_formulas"] == expected["text"], (
        f"{path.name}: {info['text_formulas']} formulas typeset in the text, "
        f"{expected['text']} math spans in the markdown cells"
    )
    assert info["output_formulas"] == expected["outputs"], (
        f"{path.name}: {info['output_formulas']} formulas typeset in outputs, "
        f"{expected['outputs']} in the text/latex and text/markdown outputs"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_code_highlighted_outputs_and_solutions_shown(pages, path):
    info = pages[1][f"notebooks/{path.stem}.html"]
    expected = expected_counts(path)
    assert info["code_cells"] == expected["code_cells"]
    assert info["highlighted"] == info["code_cells"], f"{path.name}: code not highlighted"
    assert info["outputs"] == expected["with_output"], f"{path.name}: outputs missing"
    source = path.read_text(encoding="utf-8")
    if "### BEGIN SOLUTION" in source or '"**Solution.**' in source:
        assert info["solution_note"], f"{path.name}: shows solutions without saying so"
    if "### BEGIN SOLUTION" in source:
        assert info["solution_cells"] > 0, f"{path.name}: solution cells not marked"


@pytest.mark.parametrize("name", PAGES)
def test_images_loaded_at_a_readable_size(pages, name):
    info = pages[1][name]
    for image in info["images"]:
        assert image["complete"] and image["natural"] > 0, f"{name}: not loaded {image}"
        if image["output"]:
            assert image["shown"] >= min(image["natural"], READABLE), f"{name}: shrunk {image}"
    if name.startswith("notebooks/"):
        path = ROOT / "notebooks" / (Path(name).stem + ".ipynb")
        pngs = path.read_text(encoding="utf-8").count('"image/png"')
        assert sum(i["output"] for i in info["images"]) == pngs, f"{name}: figures missing"


@pytest.mark.parametrize("name", PAGES)
def test_layout_fits_the_screen(pages, name):
    overflow = pages[1][name]["overflow"]
    assert overflow <= 0, (
        f"{name}: the text column or the page contents run {overflow} px off screen"
    )


def test_internal_links_resolve(pages):
    base, seen = pages
    html, broken = {}, []
    for name in PAGES:
        for href in seen[name]["links"]:
            if not href.startswith(base):
                continue
            url, _, fragment = href.partition("#")
            if url not in html:
                try:
                    with urllib.request.urlopen(url, timeout=10) as response:
                        html[url] = (response.status, response.read().decode("utf-8", "replace"))
                except urllib.error.HTTPError as error:
                    html[url] = (error.code, "")
            status, text = html[url]
            if status != 200:
                broken.append(f"{name}: {href} -> HTTP {status}")
            elif fragment and f'id="{urllib.parse.unquote(fragment)}"' not in text:
                broken.append(f"{name}: {href} -> no element with id {fragment!r}")
    assert len(html) >= len(PAGES), sorted(html)
    assert not broken, "\n".join(broken)


def test_previous_next_chain(pages):
    base, seen = pages
    chain, name = ["index.html"], "index.html"
    while seen[name]["next"]:
        assert seen[name]["next_button"] == seen[name]["next"], name
        following = seen[name]["next"][len(base) :]
        assert seen[following]["prev"] == base + name, f"{following}: prev is not {name}"
        chain.append(following)
        name = following
    assert chain == PAGES, f"previous/next chain: {chain}"
    notebooks = [n for n in chain if n.startswith("notebooks/")]
    assert [Path(n).stem[:2] for n in notebooks] == [f"{k:02d}" for k in range(10)]


def test_search_finds_a_notebook(pages):
    base, seen = pages
    results = seen[SEARCH]["results"]
    assert any("03_max_pooling_mask" in r for r in results), results
