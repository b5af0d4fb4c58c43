"""Points and optional exercises, declared at the end of an exercise heading.

``### Exercise 2 — title (2 points)``, ``(optional)``, ``(1 point, optional)``; an
exercise without such a parenthesis is worth 1 point and required. A final parenthesis
that mentions points, pts, marks, optional or bonus but does not follow this form (``(2
pts)``, ``(optional, 2 points)``, ``(0 points)``) is an error: a typo must not silently
change a grade.
"""

from __future__ import annotations

import re

from .errors import MarkerError

#: points of an exercise whose heading declares none
DEFAULT_POINTS = 1

_FINAL_PAREN = re.compile(r"\(([^()]*)\)\s*$")
_LOOKS_LIKE = re.compile(r"\b(points?|pts?|marks?|optional|bonus)\b|^\s*\d", re.IGNORECASE)
_EXACT = re.compile(
    r"^(?:(?P<points>\d+(?:\.\d+)?)\s+(?P<word>points?)(?:,\s*(?P<opt1>optional))?"
    r"|(?P<opt2>optional))$"
)


class PointsError(MarkerError):
    """An exercise heading whose points do not parse (a :class:`MarkerError`)."""


def split_points(title: str, notebook: str | None = None, cell: int | None = None):
    """Split an exercise title into ``(title, points, optional)``.

    Parameters
    ----------
    title : str
        The heading text, e.g. ``"Exercise 2 — a softmax (2 points)"``.
    notebook, cell : optional
        Named in the error message.

    Returns
    -------
    (str, float, bool)
        The title without the points parenthesis, the points (int-valued floats are
        ints) and whether the exercise is optional.

    Raises
    ------
    PointsError
        If the final parenthesis looks like points but does not parse.
    """
    m = _FINAL_PAREN.search(title)
    if m is None or not _LOOKS_LIKE.search(m.group(1)):
        return title, DEFAULT_POINTS, False
    text = " ".join(m.group(1).split())
    exact = _EXACT.match(text)
    if exact is None:
        raise PointsError(
            f"the heading {title!r} ends with {m.group(0)!r}, which looks like points but is not "
            "'(N points)', '(optional)' or '(N points, optional)'",
            notebook,
            cell,
        )
    points = DEFAULT_POINTS
    if exact.group("points") is not None:
        value = float(exact.group("points"))
        if value <= 0:
            raise PointsError(
                f"the heading {title!r} gives {value:g} points: use a positive number",
                notebook,
                cell,
            )
        singular = exact.group("word") == "point"
        if singular != (value == 1):
            raise PointsError(
                f"the heading {title!r} says {m.group(0)!r}: write '(1 point)' or '(N points)'",
                notebook,
                cell,
            )
        points = int(value) if value.is_integer() else value
    optional = bool(exact.group("opt1") or exact.group("opt2"))
    return title[: m.start()].rstrip(), points, optional


def describe(points, optional: bool) -> str:
    """``"2 points"``, ``"1 point, optional"``."""
    text = f"{points:g} point{'s' if points != 1 else ''}"
    return text + (", optional" if optional else "")
