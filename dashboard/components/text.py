"""Text for people: one-line labels, Markdown escaping and timestamps. Every page and
widget cuts and escapes text with these (one definition each)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

#: What a table or metric shows for a value that does not exist (no estimate, nobody).
MISSING = "—"
_EMPHASIS = ("**", "__", "`")
_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|<>~$=:/"


def short(text: object, n: int = 90) -> str:
    """``text`` on one line for a label: whitespace runs collapsed to one space, Markdown
    emphasis marks (``**``, ``__``, backticks) removed, cut to ``n`` characters with ``…``."""
    one = str(text)
    for mark in _EMPHASIS:
        one = one.replace(mark, "")
    one = " ".join(one.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def distinct(labels: Mapping[str, str]) -> dict[str, str]:
    """``labels`` (id -> label) with the labels that several ids share made unique by the
    start of each id (``Use tabs · 0190f5c2``; the whole id when that still collides).

    A select box's value is its option's label (Streamlit keeps the label, not the
    option), so two options with one label are one option: picking the second would act
    on the first. Every picker of learnings, proposals or experiments labels through this.
    """
    seen = Counter(labels.values())
    out = {i: f"{text} · {i[:8]}" if seen[text] > 1 else text for i, text in labels.items()}
    again = Counter(out.values())
    return {i: f"{labels[i]} · {i}" if again[text] > 1 else text for i, text in out.items()}


def words(name: str) -> str:
    """A stored name (``code_pattern``, ``user_created``, ``in_review``) as words for
    people: its underscores as spaces."""
    return name.replace("_", " ")


def escape(text: object) -> str:
    """``text`` written by others (a learning, a reason, a name, an address parameter) as
    one line of Markdown that shows it as written: white space runs as one space (no
    heading, list or code block can start) and Markdown's special characters, ``=``
    (setext headings), ``:`` and ``/`` (links: ``http://``) backslash-escaped."""
    one = " ".join(str(text).split())
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in one)


def label(text: object, n: int = 90) -> str:
    """:func:`short` then :func:`escape`: text written by others as a one-line Markdown
    label (a heading, a caption, a button)."""
    return escape(short(text, n))


def plot_label(text: object) -> str:
    """``text`` written by others as a plotly label, legend entry or hover line: plotly
    reads those as HTML, so ``<``, ``>``, ``&`` and quotes are escaped (``html.escape``)."""
    return html.escape(str(text))


def when(dt: datetime | None) -> str:
    """A timestamp for people (UTC, to the minute); ``never`` for None."""
    return "never" if dt is None else dt.strftime("%Y-%m-%d %H:%M UTC")


__all__ = ["MISSING", "distinct", "escape", "label", "plot_label", "short", "when", "words"]
