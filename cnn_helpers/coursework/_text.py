"""Small text helpers for the reports and listings."""

from __future__ import annotations


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with ``...``."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def first_line(source: str) -> str:
    """The first non-blank line, stripped."""
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")


def ranges(cells) -> str:
    """Cell indices as ranges: ``[1, 2, 3, 7]`` -> ``"1-3,7"`` (``"-"`` if none)."""
    cells = sorted(cells)
    if not cells:
        return "-"
    parts, start, prev = [], cells[0], cells[0]
    for c in cells[1:] + [None]:
        if c is not None and c == prev + 1:
            prev = c
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if c is not None:
            start = prev = c
    return ",".join(parts)
