"""Build the course website from the committed notebooks and the README.

Usage (from the repository root, with the site extra installed: ``pip install -e ".[site]"``)::

    python tools/build_site.py --out _site          # then open _site/index.html

What it does, offline (nothing is downloaded, nothing is executed):

1. Lays out a staging source folder (``--build-dir``, default ``_build/site``): ``site/conf.py``
   and ``site/_static``; the landing page, the command-line page and the instructors' page,
   generated from sections of ``README.md`` (so they stay in sync with it); a copy of every
   ``notebooks/NN_*.ipynb`` with its committed outputs, with a note at the top of each
   notebook that shows solutions; MathJax 3 from the ``django-static-mathjax`` package.
2. Runs Sphinx (myst-nb, ``nb_execution_mode = "off"``) into ``--out``.

Solutions. The site is the instructor-facing reference: it shows every solution region and
every ``**Solution.**`` answer, and each page that has them says so in a note at its top
and marks the solution cells. Students get their copies from
``python -m cnn_helpers.coursework student``.

Links in the README to files that are not pages of the site (``CONTRIBUTING.md``,
``data/README.md``, ...) point to the repository on GitHub when ``--repo-url`` is given (the
Pages workflow passes the repository's address at the built commit) and otherwise become
plain text naming the file.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_SRC = ROOT / "site"
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"

# the pages generated from README sections: page -> (title, [README headings])
README_PAGES = {
    "cli": (
        "The sign recognizer from the command line",
        ["## The sign recognizer from the command line", "### BLAS threads", "## Data"],
    ),
    "instructors": ("For instructors", ["## For instructors", "## Tests"]),
}

SOLUTION_NOTE = """\
:::{{admonition}} Instructor reference: this page shows the solutions
:class: important solutions-note

This site is the instructor-facing reference of the series: it shows the solution of every
exercise on this page ({exercises}). Cells marked **solution** hold the code between the
solution markers, and answers that start with **Solution.** are the written solutions.
Students work in their own copies without them, made with
`python -m cnn_helpers.coursework student notebooks/ --out student/` (see
[For instructors](../instructors.md)).
:::
"""


# --------------------------------------------------------------------------------------------
# README sections
# --------------------------------------------------------------------------------------------


def _lines_outside_fences(text: str) -> list[tuple[str, bool]]:
    """Each line with a flag: True when it is inside a fenced code block."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            out.append((line, True))
        elif fence is not None:
            out.append((line, True))
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
        else:
            out.append((line, False))
    return out


def readme_section(text: str, heading: str) -> str:
    """The body of a README section (without its heading), up to the next heading of the
    same or a higher level. A missing heading is an error naming it."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = _lines_outside_fences(text)
    start = None
    for i, (line, fenced) in enumerate(lines):
        if not fenced and line.rstrip() == heading:
            start = i + 1
            break
    if start is None:
        raise SystemExit(f"build_site: README.md has no heading {heading!r} (the site uses it)")
    body = []
    for line, fenced in lines[start:]:
        m = None if fenced else re.match(r"^(#+) ", line)
        if m and len(m.group(1)) <= level:
            break
        body.append(line)
    return "\n".join(body).strip("\n")


def readme_intro(text: str) -> tuple[str, str]:
    """The README's title and the paragraphs before its first ``##`` section."""
    lines = text.split("\n")
    title = lines[0].lstrip("#").strip()
    body = []
    for line in lines[1:]:
        if line.startswith("## "):
            break
        body.append(line)
    return title, "\n".join(body).strip("\n")


def shift_headings(text: str, by: int) -> str:
    """Change the level of every markdown heading outside code fences by ``by``."""
    out = []
    for line, fenced in _lines_outside_fences(text):
        m = None if fenced else re.match(r"^(#+) ", line)
        if m:
            line = "#" * max(1, len(m.group(1)) + by) + line[len(m.group(1)) :]
        out.append(line)
    return "\n".join(out)


def rewrite_links(text: str, repo_url: str | None) -> str:
    """README links as the site needs them: notebooks become their pages (MyST resolves a
    link to a source ``.ipynb``), other repository files point to GitHub or become text."""

    def fix(m: re.Match) -> str:
        label, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return m.group(0)
        if re.fullmatch(r"notebooks/\d\d_\w+\.ipynb", target):
            return m.group(0)
        if repo_url:
            return f"[{label}]({repo_url.rstrip('/')}/{target})"
        return label if label.strip("`") == target else f"{label} (`{target}` in the repository)"

    out = []
    for line, fenced in _lines_outside_fences(text):
        out.append(line if fenced else re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", fix, line))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# pages
# --------------------------------------------------------------------------------------------


def notebook_paths() -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SystemExit(f"build_site: no notebooks in {NOTEBOOKS}")
    return paths


def landing_page(readme: str, notebooks: list[Path], repo_url: str | None) -> str:
    title, intro = readme_intro(readme)
    template = (SITE_SRC / "index.md").read_text(encoding="utf-8")
    parts = {
        "title": title,
        "intro": intro,
        "notebook_map": readme_section(readme, "## The notebooks"),
        "setup": shift_headings(readme_section(readme, "## Set up (two commands)"), -1),
        "toctree": "\n".join(f"notebooks/{p.stem}" for p in notebooks),
    }
    page = template
    for key, value in parts.items():
        page = page.replace("{{" + key + "}}", value)
    if "{{" in page:
        raise SystemExit(f"build_site: unknown placeholder left in site/index.md: {page!r:.200}")
    return rewrite_links(page, repo_url)


def readme_page(readme: str, title: str, headings: list[str], repo_url: str | None) -> str:
    parts = [f"# {title}", ""]
    for k, heading in enumerate(headings):
        body = readme_section(readme, heading)
        level = len(heading) - len(heading.lstrip("#"))
        if k == 0:
            # the first section is the page: its subsections move up one level
            parts.append(shift_headings(body, 1 - level))
        else:
            parts.append("## " + heading.lstrip("#").strip())
            parts.append("")
            parts.append(shift_headings(body, 2 - level))
        parts.append("")
    page = "\n".join(parts)
    return rewrite_links(page, repo_url)


SOLUTION_LINE = re.compile(r"^\s*### BEGIN SOLUTION\s*$", re.M)
EXERCISE_HEADING = re.compile(r"^### (Exercise \d+) — (.+)$", re.M)


def staged_notebook(path: Path) -> tuple[dict, int]:
    """The notebook as the site shows it: solution cells tagged (CSS marks them) and a note
    after the title cell when it has solutions. Returns (notebook, number of solution cells)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    exercises, solutions = [], 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            exercises += [m.group(1) for m in EXERCISE_HEADING.finditer(source)]
            if source.startswith("**Solution.**"):
                solutions += 1
        elif cell["cell_type"] == "code" and SOLUTION_LINE.search(source):
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if "solution" not in tags:
                tags.append("solution")
            solutions += 1
    if solutions:
        names = ", ".join(exercises) if exercises else "its exercises"
        note = {
            "cell_type": "markdown",
            "id": "site-solutions-note",
            "metadata": {},
            "source": SOLUTION_NOTE.format(exercises=names),
        }
        nb["cells"].insert(1, note)
    return nb, solutions


# --------------------------------------------------------------------------------------------
# MathJax
# --------------------------------------------------------------------------------------------


def copy_mathjax(dest: Path) -> str:
    """Copy MathJax 3 (tex-chtml-full.js, its CHTML fonts, its LICENSE) into ``dest``."""
    spec = importlib.util.find_spec("mathjax")
    base = None
    if spec is not None and spec.submodule_search_locations:
        base = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    if base is None or not (base / "es5" / "tex-chtml-full.js").is_file():
        raise SystemExit(
            "build_site: MathJax 3 not found; install the site extra: pip install -e '.[site]'"
        )
    version = json.loads((base / "package.json").read_text(encoding="utf-8"))["version"]
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(base / "es5" / "tex-chtml-full.js", dest / "tex-chtml-full.js")
    shutil.copy2(base / "LICENSE", dest / "LICENSE")
    fonts = base / "es5" / "output" / "chtml" / "fonts"
    shutil.copytree(fonts, dest / "output" / "chtml" / "fonts", dirs_exist_ok=True)
    return version


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------


def stage(src: Path, repo_url: str | None) -> dict:
    """Write the Sphinx source folder. Returns a summary (pages, solutions, MathJax)."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(SITE_SRC / "conf.py", src / "conf.py")
    shutil.copytree(SITE_SRC / "_static", src / "_static")
    mathjax = copy_mathjax(src / "_static" / "mathjax")

    readme = README.read_text(encoding="utf-8")
    notebooks = notebook_paths()
    (src / "index.md").write_text(landing_page(readme, notebooks, repo_url), encoding="utf-8")
    for name, (title, headings) in README_PAGES.items():
        page = readme_page(readme, title, headings, repo_url)
        (src / f"{name}.md").write_text(page, encoding="utf-8")

    (src / "notebooks").mkdir()
    solutions = {}
    for path in notebooks:
        nb, count = staged_notebook(path)
        solutions[path.stem] = count
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        (src / "notebooks" / path.name).write_text(text, encoding="utf-8")
    return {"notebooks": [p.stem for p in notebooks], "solutions": solutions, "mathjax": mathjax}


def build(out: Path, build_dir: Path, repo_url: str | None = None, jobs: int = 1) -> dict:
    """Stage the sources and run Sphinx; returns the summary of :func:`stage`."""
    from sphinx.cmd.build import build_main

    out, build_dir = out.resolve(), build_dir.resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise SystemExit(f"build_site: refusing to write the site over {out}")
    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise SystemExit(f"build_site: {out} exists and is not a site built by this tool")
    summary = stage(build_dir / "src", repo_url)
    # Sphinx writes into the build folder (myst-nb puts its jupyter_execute/ beside the
    # output folder), then the finished site is copied to --out
    html = build_dir / "html"
    if html.exists():
        shutil.rmtree(html)
    args = ["-b", "html", "-q", "-E", "-n", "--keep-going", "-W", "-j", str(jobs)]
    args += ["-d", str(build_dir / "doctrees"), str(build_dir / "src"), str(html)]
    status = build_main(args)
    if status:
        raise SystemExit(f"build_site: Sphinx failed (exit status {status}); see above")
    (html / ".nojekyll").write_text("", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="output folder")
    parser.add_argument(
        "--build-dir", type=Path, default=ROOT / "_build" / "site", help="staging folder"
    )
    parser.add_argument(
        "--repo-url",
        default=None,
        help="base URL for links to repository files, e.g. https://github.com/OWNER/REPO/blob/SHA",
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, help="Sphinx parallel jobs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    summary = build(args.out, args.build_dir, args.repo_url, args.jobs)
    elapsed = time.perf_counter() - start
    print(
        f"built {len(summary['notebooks'])} notebook pages + index, cli, instructors "
        f"(MathJax {summary['mathjax']}) into {args.out / 'index.html'} in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
