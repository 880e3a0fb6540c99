"""Widgets that lay out learnings: tables, the detail panel pieces (usage, Beta confidence,
relations, history) and one-shot messages. Everything shown comes from groove_core; this
module only arranges it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import PurePath
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.components.text import MISSING, escape, label, short, when, words
from groove_core.model.learning import Learning
from groove_core.model.usage import UsageStats
from groove_core.store.history import Edit
from groove_core.store.relations import Related
from groove_core.store.search import SearchHit

#: Labels for the sort orders the learnings page offers (keys of ``SORTS``).
SORT_LABELS = {
    "recency": "Recently updated",
    "created": "Newest first",
    "confidence": "Confidence",
    "usage": "Usage (times injected)",
    "description": "Description (A-Z)",
}
#: Labels for the search modes of ``SearchStore.search``.
MODE_LABELS = {"hybrid": "Hybrid", "semantic": "Semantic", "fulltext": "Full-text"}

#: The badge of a learning the content scan flagged.
FLAGGED = "⚠ flagged"


# ---------------------------------------------------------------- tables
def learnings_frame(
    items: Sequence[Learning],
    usage: dict[str, UsageStats] | None = None,
    hits: Sequence[SearchHit] | None = None,
    *,
    show_tier: bool = True,
    flagged: Collection[str] = (),
) -> pd.DataFrame:
    """One row per learning, in the given order; with ``hits`` the score columns of each
    search hit (overall score and each leg's rank and score); a ``scan`` column marks the
    ids in ``flagged`` (learnings the content scan flagged) with :data:`FLAGGED`.

    ``confidence`` is the posterior mean of the learning's usage stats
    (:meth:`UsageStats.confidence`, the prior's without a row in ``usage``): the number
    the detail panel shows, whatever the ``learning.confidence`` column holds."""
    usage = usage or {}
    rows = []
    for i, lr in enumerate(items):
        row: dict[str, Any] = {"description": lr.description}
        if flagged:
            row["scan"] = FLAGGED if lr.id in flagged else ""
        if hits is not None:
            h = hits[i]
            row["score"] = h.score
            if h.mode != "fulltext":
                row["semantic rank"] = h.semantic_rank
                row["semantic score"] = h.semantic_score
            if h.mode != "semantic":
                row["text rank"] = h.text_rank
                row["text score"] = h.text_score
        row.update(
            {
                "category": words(lr.category.value),
                "confidence": usage.get(lr.id, UsageStats()).confidence(),
                "uses": usage[lr.id].times_injected if lr.id in usage else 0,
                "scope": lr.scope.to_db(),
                "source": source_label(lr),
                "updated": lr.updated_at.replace(tzinfo=None),
            }
        )
        if show_tier:
            row["tier"] = lr.tier
        rows.append(row)
    return pd.DataFrame(rows)


def source_label(lr: Learning) -> str:
    """Where a learning came from, short enough for a table column: its source type,
    and for an imported rule the name of its file (the whole path is in its detail)."""
    kind = words(lr.source.kind)
    file = lr.source.data.get("source_file") if lr.source.kind == "imported" else None
    return f"{kind}: {PurePath(str(file)).name}" if file else kind


TABLE_CONFIG = {
    "description": st.column_config.TextColumn(
        "Description", width=280, help="Wrapped over three lines; all of it in the detail panel"
    ),
    "scan": st.column_config.TextColumn("Scan", help="Flagged by the content scan: see details"),
    "category": st.column_config.TextColumn("Category"),
    "scope": st.column_config.TextColumn("Scope", width=105),
    "source": st.column_config.TextColumn("Source", width=125),
    "confidence": st.column_config.ProgressColumn(
        "Confidence", min_value=0.0, max_value=1.0, format="%.2f"
    ),
    "uses": st.column_config.NumberColumn("Uses", help="Times injected into a session"),
    "updated": st.column_config.DatetimeColumn("Updated (UTC)", format="YYYY-MM-DD HH:mm"),
    "tier": st.column_config.TextColumn("Tier"),
    "score": st.column_config.NumberColumn(
        "Score",
        format="%.4f",
        help="Cosine similarity (semantic), BM25 (full-text) or reciprocal-rank-fusion "
        "sum (hybrid)",
    ),
    "semantic rank": st.column_config.NumberColumn(
        "Sem. rank", format="#%d", help="Rank in the semantic leg (blank: not returned by it)"
    ),
    "semantic score": st.column_config.NumberColumn(
        "Sem. score", format="%.3f", help="Cosine similarity to the query"
    ),
    "text rank": st.column_config.NumberColumn(
        "Text rank", format="#%d", help="Rank in the full-text leg (blank: not returned by it)"
    ),
    "text score": st.column_config.NumberColumn(
        "Text score", format="%.3f", help="BM25 score of the full-text leg"
    ),
}


# ---------------------------------------------------------------- detail panel
def usage_metrics(stats: UsageStats) -> None:
    """The usage counters of a learning as a row of metrics."""
    top, bottom = st.columns(2), st.columns(2)
    top[0].metric("Injected", stats.times_injected)
    top[1].metric("Helpful", stats.times_helpful)
    bottom[0].metric("Ignored", stats.times_ignored)
    bottom[1].metric("Contradicted", stats.times_contradicted)
    st.caption(f"Last used: {when(stats.last_used)}")


def confidence_chart(curve: pd.DataFrame, mean: float, low: float, high: float) -> go.Figure:
    """Density of the Beta posterior (``curve`` with ``x`` and ``pdf``) with its 95 %
    credible interval shaded and the mean marked."""
    inside = curve[(curve["x"] >= low) & (curve["x"] <= high)]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=inside["x"],
            y=inside["pdf"],
            fill="tozeroy",
            mode="none",
            fillcolor="rgba(99, 110, 250, 0.25)",
            name="95% equal-tailed credible interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=curve["x"],
            y=curve["pdf"],
            mode="lines",
            line={"color": "#636efa"},
            name="posterior density",
            hovertemplate="confidence %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(
        x=mean,
        line_dash="dash",
        line_color="#ef553b",
        annotation_text=f"mean {mean:.2f}",
        annotation_position="top",
    )
    fig.update_layout(
        height=190,
        margin={"l": 10, "r": 10, "t": 25, "b": 10},
        showlegend=False,
        xaxis={"title": "confidence", "range": [0, 1]},
        yaxis={"visible": False},
    )
    return fig


def relation_links(related: Sequence[Related], on_pick: Callable[[str], None], *, key: str) -> None:
    """Each relation as a button that selects the learning at its other end."""
    if not related:
        st.caption("No relations.")
        return
    st.caption(f"{len(related)} relation{'s' if len(related) != 1 else ''}")
    for i, rel in enumerate(related):
        kind = words(rel.relation.relation_type.value)
        arrow = f"this {kind} →" if rel.direction == "out" else f"← {kind} this"
        if rel.other is None:
            st.caption(f"{arrow} a learning that no longer exists")
            continue
        st.button(
            f"{arrow} {label(rel.other.description, 70)}",
            key=f"{key}_{i}",
            on_click=on_pick,
            args=(rel.other.id,),
            help=f"Show learning {rel.other.id}",
            icon=":material/link:",
            type="tertiary",
        )


def history_entries(edits: Sequence[Edit]) -> None:
    """Edit history, newest first: who did what when, and for edits a table of each
    changed field before and after."""
    if not edits:
        st.caption("No history recorded.")
        return
    st.caption(f"{len(edits)} entr{'ies' if len(edits) != 1 else 'y'}, newest first")
    for e in reversed(edits):
        st.markdown(f"**{e.action}** · {escape(e.who)} · {when(e.at)}")
        if e.action == "edited" and (e.before or e.after):
            before, after = e.before or {}, e.after or {}
            fields = list(dict.fromkeys([*before, *after]))
            st.table(
                pd.DataFrame(
                    {
                        "before": [escape(_text(before.get(f))) for f in fields],
                        "after": [escape(_text(after.get(f))) for f in fields],
                    },
                    index=pd.Index(fields, name="field"),
                )
            )
        elif e.action in ("deprecated", "status_changed") and e.after:
            before = _status((e.before or {}).get("status"))
            reason = (e.after or {}).get("reason")
            st.caption(
                f"status {before} → {_status(e.after.get('status'))}"
                + (f": {escape(reason)}" if reason else "")
            )


def _status(value: Any) -> str:
    """A LearningStatus as serde writes it (``"Active"``, ``{"Deprecated": {...}}``)."""
    return next(iter(value)) if isinstance(value, dict) and value else str(value or MISSING)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


__all__ = [
    "FLAGGED",
    "MODE_LABELS",
    "SORT_LABELS",
    "TABLE_CONFIG",
    "confidence_chart",
    "escape",
    "history_entries",
    "learnings_frame",
    "relation_links",
    "short",
    "source_label",
    "usage_metrics",
    "when",
]
