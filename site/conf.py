"""Sphinx configuration of the course website (built by ``python tools/build_site.py``).

``tools/build_site.py`` copies this file into a staging folder next to the pages it
generates from the README and the committed notebooks, then runs Sphinx there. The
notebooks are rendered with myst-nb from their committed outputs: nothing is executed.
"""

import re

project = "Back-propagation through a CNN, one Jacobian at a time"
author = "the contributors"
copyright = "the contributors; code MIT, data CC0 1.0"
language = "en"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# --- notebooks: committed outputs only -------------------------------------------------------
nb_execution_mode = "off"
# text/markdown outputs are parsed like the markdown cells (their $...$ becomes math, as in
# JupyterLab); text/latex outputs become display math.
nb_render_markdown_format = "myst"
nb_merge_streams = True

# --- markdown as JupyterLab reads it ---------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "strikethrough"]
# JupyterLab takes $$...$$ as display math wherever it stands, also inside a paragraph
myst_dmath_double_inline = True
myst_heading_anchors = 3
# "### Exercise N" right under "#" or a title-less jump is fine in a notebook
suppress_warnings = ["myst.header", "myst.strikethrough"]

# --- MathJax 3, served from the site itself, configured as JupyterLab 4 configures it --------
# tools/build_site.py copies MathJax 3.2.2 (the version JupyterLab 4 bundles; from the PyPI
# package django-static-mathjax) into _static/mathjax/. tex-chtml-full.js holds every TeX
# package, as JupyterLab loads AllPackages plus "require".
mathjax_path = "mathjax/tex-chtml-full.js"
mathjax4_config = None
mathjax3_config = {
    "tex": {
        "inlineMath": [["$", "$"], ["\\(", "\\)"]],
        "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
        "processEscapes": True,
        "processEnvironments": True,
    },
    # myst-parser adds options.processHtmlClass so that only the math it found is typeset
}

# --- HTML -------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "Back-propagation through a CNN"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
pygments_style = "friendly"
pygments_dark_style = "monokai"


# --- page titles ------------------------------------------------------------------------------
# A notebook's title may hold math ("01 · ...: $dJ/d\\mathbf{W}^{[3]}$"). The page, the
# sidebar and the previous/next links typeset it; the browser tab cannot, so <title> gets a
# plain-text reading of the TeX instead of raw \(...\).
_TEX = [
    (r"\\frac\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", r"\1/\2"),
    (r"\\(?:mathbf|mathrm|mathsf|mathit|boldsymbol|operatorname)\s*", ""),
    (r"\\(?:\(|\))", ""),
    (r"\\([a-zA-Z]+)", r"\1"),
    (r"[{}]", ""),
]


def tex_to_text(title: str) -> str:
    for pattern, repl in _TEX:
        title = re.sub(pattern, repl, title)
    return title


def _plain_title(app, pagename, templatename, context, doctree):
    if context.get("title") and "\\(" in context["title"]:
        context["title"] = tex_to_text(context["title"])


def setup(app):
    # MathJax on every page: the sidebar lists the notebooks' titles, and some hold math
    app.set_html_assets_policy("always")
    app.connect("html-page-context", _plain_title)
