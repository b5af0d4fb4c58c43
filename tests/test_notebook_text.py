"""What the student sees in the notebooks: formulas that render, verdicts that are asserted.

These tests read the committed notebooks as text (no kernel is started):

* every math span of every markdown cell renders in JupyterLab as written: it does not run
  onto a ``> `` blockquote line, no ``$`` is left unmatched, every ``\\begin{X}`` has its
  ``\\end{X}``;
* the kernelspec is the one the installed ipykernel writes, so JupyterLab opens the notebook
  without marking it modified;
* a code cell whose printed output says True or False asserts something in the same cell,
  and no ``print`` shows a literal "True"/"False" written into a string;
* printed lines are at most 100 characters.

How JupyterLab finds math. JupyterLab (and Notebook 7) takes the math out of a markdown cell
*before* the markdown parser sees it (``removeMath`` in ``@jupyterlab/rendermime``), so a
``$...$`` that continues onto the next line of a blockquote keeps that line's ``>`` inside
the TeX, where MathJax typesets it as a "greater than" sign. :func:`scan_math` follows the
same rules: dollars inside code spans and fenced code blocks do not count; the text is cut
into tokens (``$``, ``$$``, ``\\begin{X}``, ``\\end{X}``, the escapes ``\\$ \\{ \\}``, braces,
line breaks); a span opened by ``$``, ``$$`` or ``\\begin{X}`` closes at the same delimiter
(``\\end{X}``) once its braces balance, and is abandoned at a blank line.

:func:`math_spans` is importable (``from test_notebook_text import math_spans``) for other
tests that need to count or inspect the formulas of a markdown text.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
MAX_LINE = 100

# --------------------------------------------------------------------------------------------
# Math spans, as JupyterLab extracts them
# --------------------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"(\$\$?"  # $ or $$
    r"|\\(?:begin|end)\{[a-z]*\*?\}"  # \begin{X} / \end{X}
    r"|\\[{}$]"  # escaped \{ \} \$ (never a delimiter)
    r"|[{}]"  # braces (a delimiter inside braces does not close)
    r"|(?:\n\s*)+"  # line breaks; two of them end a paragraph
    r"|\\\\(?:\(|\)|\[|\]))",  # \\( \\) \\[ \\] (markdown-escaped \( \) \[ \])
    re.IGNORECASE,
)
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`\n]*\n[\s\S]*?^(?P=fence)[`~]*$", re.MULTILINE)
_CODE_SPAN = re.compile(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", re.MULTILINE)
_MASK = "\x00"  # stands for a dollar inside code


def _mask_code(text: str) -> str:
    """Hide the dollars of fenced code blocks and one-line code spans (they are not math)."""

    def hide(match: re.Match) -> str:
        return match.group(0).replace("$", _MASK)

    return _CODE_SPAN.sub(hide, _FENCE.sub(hide, text))


def scan_math(markdown: str) -> tuple[list[str], str]:
    """Split a markdown cell into its math spans and the text around them.

    Returns ``(spans, rest)``: each span with its delimiters, as MathJax receives it (code
    dollars restored, before HTML escaping), and the non-math text with ``@@n@@`` in place of
    span n and ``\\x00`` in place of each dollar that lies inside code.
    """
    blocks = _TOKENS.split(_mask_code(markdown.replace("\r\n", "\n").replace("\r", "\n")))
    spans: list[str] = []
    start = end = last = None
    braces = 0

    def close(i: int, j: int) -> None:
        spans.append("".join(blocks[i : j + 1]).replace(_MASK, "$"))
        blocks[i : j + 1] = [f"@@{len(spans) - 1}@@"] + [""] * (j - i)

    i = 1
    while i < len(blocks):
        token = blocks[i]
        if start is None:
            if token in ("$", "$$"):
                start, end, braces = i, token, 0
            elif token in ("\\\\(", "\\\\["):
                start, end, braces = i, "\\\\)" if token.endswith("(") else "\\\\]", 0
            elif token[1:6].lower() == "begin":
                start, end, braces = i, "\\end" + token[6:], 0
        elif token == end:
            if braces:
                last = i
            else:
                close(start, i)
                start = end = last = None
        elif re.search(r"\n.*\n", token):  # a blank line: the paragraph ends
            if last is not None:
                close(start, last)
                i = last
            start = end = last = None
            braces = 0
        elif token == "{":
            braces += 1
        elif token == "}" and braces:
            braces -= 1
        i += 2
    if start is not None and last is not None:
        close(start, last)
    return spans, "".join(blocks)


def math_spans(markdown: str) -> list[str]:
    """The math spans of a markdown text, with their delimiters, in reading order."""
    return scan_math(markdown)[0]


def _environments(tex: str, which: str) -> Counter:
    return Counter(re.findall(r"\\" + which + r"\{([a-zA-Z]*\*?)\}", tex))


def _excerpt(text: str, at: int = 0, width: int = 70) -> str:
    return repr(text[max(0, at - width // 2) : at + width // 2])


def math_problems(markdown: str) -> list[str]:
    """Why the formulas of a markdown text would not render as written (empty: they do)."""
    spans, rest = scan_math(markdown)
    problems = []
    for span in spans:
        if re.search(r"\n[ \t]*>", span):
            problems.append(f"math span runs onto a '>' blockquote line: {span!r}")
        begins, ends = _environments(span, "begin"), _environments(span, "end")
        for name in sorted(set(begins) | set(ends)):
            if begins[name] != ends[name]:
                problems.append(
                    f"{begins[name]} \\begin{{{name}}} but {ends[name]} "
                    f"\\end{{{name}}} in math span {span!r}"
                )
    for m in re.finditer(r"(?<!\\)\$+", rest):
        problems.append(
            f"unmatched {m.group(0)!r} (not part of any formula) near {_excerpt(rest, m.start())}"
        )
    for m in re.finditer(r"\\(?:begin|end)\{[a-zA-Z]*\*?\}", rest):
        problems.append(f"{m.group(0)} outside any formula near {_excerpt(rest, m.start())}")
    return problems


# --------------------------------------------------------------------------------------------
# Code cells: verdicts and printed lines
# --------------------------------------------------------------------------------------------

VERDICT = re.compile(r"\b(True|False)\b")
OPTION_VERDICT = re.compile(r"\w=(True|False)\b")  # an option's setting, not a verdict
IGNORE_OUTPUT = "# NBVAL_IGNORE_OUTPUT"


def parse_code(source: str) -> ast.Module:
    """Parse a code cell, leaving out IPython magics and shell lines (% and !)."""
    kept = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    return ast.parse("\n".join(kept))


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def asserts_something(tree: ast.AST) -> bool:
    """An ``assert``, an ``assert*`` call (np.testing, unittest) or ``pytest.raises``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name.startswith("assert") or name == "raises":
                return True
    return False


def literal_verdicts(tree: ast.AST) -> list[str]:
    """Verdicts written into the source of a ``print(...)`` rather than computed.

    A string literal (plain, or a literal part of an f-string) containing the word True or
    False, or a bare ``True``/``False`` constant printed as an argument or inside an f-string
    field. ``name=True`` in a string (naming an option, as in ``count_include_pad=False``)
    is not a verdict and is not reported.
    """
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _call_name(node) == "print"):
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, bool):
                found.append(repr(arg.value))
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for sub in ast.walk(arg):
                if (
                    isinstance(sub, ast.FormattedValue)
                    and isinstance(sub.value, ast.Constant)
                    and isinstance(sub.value.value, bool)
                ):
                    found.append(f"{{{sub.value.value!r}}}")
                elif (
                    isinstance(sub, ast.Constant)
                    and isinstance(sub.value, str)
                    and VERDICT.search(OPTION_VERDICT.sub("", sub.value))
                ):
                    found.append(sub.value)
    return found


def stream_text(cell: dict) -> str:
    return "".join(
        "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
        for out in cell.get("outputs", [])
        if out["output_type"] == "stream"
    )


def source_text(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def verdict_problems(source: str, printed: str) -> list[str]:
    """Why a code cell's printed verdicts are not backed by an assertion (empty: they are)."""
    if source.lstrip().startswith(IGNORE_OUTPUT):
        return []
    try:
        tree = parse_code(source)
    except SyntaxError as exc:
        return [f"cannot parse the cell: {exc}"]
    problems = []
    said = sorted(set(VERDICT.findall(printed)))
    if said and not asserts_something(tree):
        problems.append(f"prints {'/'.join(said)} but asserts nothing")
    for literal in literal_verdicts(tree):
        problems.append(f"print() shows a literal verdict written in the source: {literal!r}")
    return problems


def long_lines(printed: str, limit: int = MAX_LINE) -> list[str]:
    return [line for line in printed.split("\n") if len(line) > limit]


# --------------------------------------------------------------------------------------------
# The checks on the real notebooks
# --------------------------------------------------------------------------------------------


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cells_of(nb: dict, kind: str):
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == kind]


def report(path: Path, failures: list[str]) -> str:
    return f"{path.name}: {len(failures)} problem(s)\n" + "\n".join(failures)


ids = [p.name for p in NOTEBOOKS]


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 10, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_formulas_render(path):
    failures = [
        f"cell {i}: {problem}"
        for i, cell in cells_of(load(path), "markdown")
        for problem in math_problems(source_text(cell))
    ]
    assert not failures, report(path, failures)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_kernelspec(path):
    assert load(path)["metadata"].get("kernelspec") == KERNELSPEC, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_printed_verdicts_are_asserted(path):
    failures = [
        f"cell {i}: {problem}"
        for i, cell in cells_of(load(path), "code")
        for problem in verdict_problems(source_text(cell), stream_text(cell))
    ]
    assert not failures, report(path, failures)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_printed_lines_fit(path):
    failures = [
        f"cell {i}: {len(line)} characters: {line!r}"
        for i, cell in cells_of(load(path), "code")
        for line in long_lines(stream_text(cell))
    ]
    assert not failures, report(path, failures)


# --------------------------------------------------------------------------------------------
# The checkers can fail: synthetic cells
# --------------------------------------------------------------------------------------------


def test_spans_inline_and_display():
    text = "Let $a_1$ and $$\\sum_i x_i$$ then $b$."
    assert math_spans(text) == ["$a_1$", "$$\\sum_i x_i$$", "$b$"]
    assert math_problems(text) == []


def test_span_onto_blockquote_line_is_caught():
    text = "> **Paper, eq. 3.** $$\\mathbf{Z} =\n> \\mathbf{W}^T \\mathbf{B}$$"
    (span,) = math_spans(text)
    assert "\n> " in span
    (problem,) = math_problems(text)
    assert "blockquote" in problem
    inline = "> the paper's $J^T\n> tr(X)$ is garbled"
    assert any("blockquote" in p for p in math_problems(inline))


def test_blockquote_with_one_line_formula_passes():
    text = (
        "> **Erratum 1.** The paper writes\n> $$\\mathbf{Z} = \\mathbf{W}^T \\mathbf{B}$$\n"
        "> where $\\mathbf{B}$ is the input.\n\nOutside: $$x > 0$$"
    )
    assert len(math_spans(text)) == 3
    assert math_problems(text) == []


def test_unbalanced_dollars_are_caught():
    assert any("unmatched '$$'" in p for p in math_problems("one $$a + b$ two"))
    assert any("unmatched '$'" in p for p in math_problems("costs $5 and more"))
    # a span cannot cross a blank line: both dollars are left over
    problems = math_problems("start $a\n\nb$ end")
    assert math_spans("start $a\n\nb$ end") == []
    assert sum("unmatched" in p for p in problems) == 2


def test_begin_without_end_is_caught():
    problems = math_problems("$$\\begin{bmatrix} 1 & 2 \\end{pmatrix}$$")
    assert len(problems) == 2 and "1 \\begin{bmatrix} but 0" in problems[0]
    assert len(math_problems("$$\\begin{bmatrix} 1 & 2 $$")) == 1
    assert math_problems("$$\\begin{bmatrix} 1 & 2 \\end{bmatrix}$$") == []
    # a bare environment is math too (JupyterLab hands it to MathJax) ...
    assert math_spans("\\begin{align} a &= b \\end{align}") == [
        "\\begin{align} a &= b \\end{align}"
    ]
    # ... and one that never ends is left over as text
    assert any("outside any formula" in p for p in math_problems("\\begin{align} a &= b"))


def test_escaped_dollar_is_not_a_delimiter():
    text = "a price of \\$5 and $x$ and \\$7"
    assert math_spans(text) == ["$x$"]
    assert math_problems(text) == []


def test_dollars_in_code_are_ignored():
    text = "Run `echo $HOME` and `a$b`, then $x$.\n\n```bash\nexport P=$PATH\n```\nand `$`."
    assert math_spans(text) == ["$x$"]
    assert math_problems(text) == []


def test_braces_keep_a_span_open():
    # the inner $ sits inside braces, so it does not close the span
    assert math_spans("$\\text{a $b$ c}$ d") == ["$\\text{a $b$ c}$"]


def test_verdict_without_assertion_is_caught():
    assert verdict_problems("print(np.allclose(a, b))", "True\n") == [
        "prints True but asserts nothing"
    ]
    assert verdict_problems("ok = np.allclose(a, b)\nassert ok\nprint(ok)", "True\n") == []
    assert verdict_problems("np.testing.assert_allclose(a, b)\nprint(ok)", "True\n") == []
    assert verdict_problems("with pytest.raises(ValueError):\n    f()\nprint(1)", "False") == []
    assert verdict_problems("print(x)", "Falsey Trueish\n") == []  # word boundaries
    assert verdict_problems("# NBVAL_IGNORE_OUTPUT\nprint(ok)", "False\n") == []
    assert verdict_problems("%timeit f()\nprint(ok)", "True\n") == [
        "prints True but asserts nothing"
    ]


def test_literal_verdict_in_print_is_caught():
    (p,) = verdict_problems('assert ok\nprint(f"symmetric: {n} True")', "symmetric: 3 True")
    assert "literal verdict" in p
    (p,) = verdict_problems('assert ok\nprint("all False")', "all False")
    assert "literal verdict" in p
    assert verdict_problems('assert ok\nprint(f"symmetric: {ok}")', "symmetric: True") == []
    assert verdict_problems('title = "True"\nprint(title)', "True") == [
        "prints True but asserts nothing"
    ]
    (p,) = verdict_problems('assert ok\nprint("equal:", True)', "equal: True")
    assert "literal verdict" in p and "True" in p
    (p,) = verdict_problems('assert ok\nprint(f"equal: {False}")', "equal: False")
    assert "literal verdict" in p
    # naming an option's setting is not a verdict; print(..., flush=True) neither
    assert verdict_problems('print("count_include_pad=False:", x, flush=True)', "x") == []


def test_long_printed_lines_are_caught():
    assert long_lines("short\n" + "x" * 101 + "\n") == ["x" * 101]
    assert long_lines("x" * 100) == []
