"""Widgets of the review queue: the proposals as a table, a proposed learning before and
after side by side with the changed words highlighted, and the existing learnings most
similar to it (semantic search scores from groove_core)."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard.components.learning_views import short, when
from dashboard.components.text import words
from groove_core.model.learning import Learning
from groove_core.model.proposal import Proposal
from groove_core.store.search import SearchHit

#: The fields a reviewer compares, with their labels.
FIELDS = {
    "description": "Description",
    "insight": "Insight",
    "category": "Category",
    "scope": "Scope",
}
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_STYLE = "white-space: pre-wrap; font-family: inherit; margin: 0 0 .6rem 0"
_DEL = '<del style="background: rgba(255, 80, 80, .3)">{}</del>'
_INS = '<ins style="background: rgba(60, 200, 90, .3); text-decoration: none">{}</ins>'


def word_diff(before: str, after: str) -> tuple[str, str]:
    """HTML of ``before`` and ``after`` (escaped) with the words only in ``before``
    wrapped in ``<del>`` and those only in ``after`` in ``<ins>``. Words, runs of white
    space and punctuation marks are compared as tokens by :class:`difflib.SequenceMatcher`
    (Ratcliff/Obershelp matching, as the Python documentation describes it)."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    left: list[str] = []
    right: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old)
            right.append(new)
            continue
        if old:
            left.append(_DEL.format(old))
        if new:
            right.append(_INS.format(new))
    return "".join(left), "".join(right)


def fields(learning: Learning | None) -> dict[str, str]:
    """The compared fields of a learning as text (empty strings for None)."""
    if learning is None:
        return dict.fromkeys(FIELDS, "")
    return {
        "description": learning.description,
        "insight": learning.insight,
        "category": words(learning.category.value),
        "scope": learning.scope.to_db(),
    }


def side_by_side(before: Learning | None, after: Learning | None) -> None:
    """Before and after in two columns, field by field, changed words highlighted (a
    creation shows only "after", a deletion only "before")."""
    old, new = fields(before), fields(after)
    left, right = st.columns(2, gap="medium")
    left.markdown("**Before**" if before is not None else "**Before** · (new learning)")
    right.markdown("**After**" if after is not None else "**After** · (deleted)")
    for name, label in FIELDS.items():
        a, b = word_diff(old[name], new[name])
        with left:
            st.html(f'<p style="{_STYLE}"><b>{label}</b><br>{a}</p>')
        with right:
            st.html(f'<p style="{_STYLE}"><b>{label}</b><br>{b}</p>')


def proposals_frame(proposals: Sequence[Proposal]) -> pd.DataFrame:
    """One row per proposal: author, when filed, kind, what, reason, findings, status."""
    rows = [
        {
            "author": f"{p.author_name} <{p.author}>" if p.author_name != p.author else p.author,
            "filed": p.created_at.replace(tzinfo=None),
            "kind": p.kind.value,
            "learning": short(p.summary()["description"], 80),
            "reason": p.reason,
            "findings": len(p.findings),
            "status": words(p.status.value),
        }
        for p in proposals
    ]
    return pd.DataFrame(
        rows, columns=["author", "filed", "kind", "learning", "reason", "findings", "status"]
    )


PROPOSALS_CONFIG = {
    "filed": st.column_config.DatetimeColumn("Filed (UTC)", format="YYYY-MM-DD HH:mm"),
    "findings": st.column_config.NumberColumn("Scan findings"),
}


def describe(p: Proposal) -> str:
    """One line naming a proposal: kind, first learning, author and when."""
    return (
        f"{p.kind.value} · {short(p.summary()['description'], 60)} · {p.author} · "
        f"{when(p.created_at)}"
    )


def similar_frame(hits: Sequence[SearchHit], this: str | None = None) -> pd.DataFrame:
    """The search hits as rows (score, description, insight, category, id); the learning
    the proposal edits or deletes itself is labelled "(this learning)"."""
    rows = [
        {
            "score": h.score,
            "description": h.learning.description
            + (" (this learning)" if h.learning.id == this else ""),
            "insight": short(h.learning.insight, 120),
            "category": words(h.learning.category.value),
            "id": h.learning.id,
        }
        for h in hits
    ]
    return pd.DataFrame(rows, columns=["score", "description", "insight", "category", "id"])


SIMILAR_CONFIG = {
    "score": st.column_config.NumberColumn(
        "Similarity", format="%.3f", help="Cosine similarity of the embeddings (1 = same meaning)"
    ),
}


__all__ = [
    "FIELDS",
    "PROPOSALS_CONFIG",
    "SIMILAR_CONFIG",
    "describe",
    "fields",
    "proposals_frame",
    "side_by_side",
    "similar_frame",
    "word_diff",
]
