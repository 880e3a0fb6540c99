"""The Learnings page's table: the rows of the view with a heading, the pager (bound to
``?page=``), downloads of the rows shown (JSON and CSV through
:mod:`groove_core.io.selection`) and the bulk actions on ticked rows."""

from __future__ import annotations

import math
import zlib
from functools import partial

import streamlit as st

from dashboard.components import learning_changes as changes
from dashboard.components import learning_views as lv
from dashboard.components.learning_filters import CATEGORIES, View
from dashboard.components.text import label, words
from dashboard.data import SEARCH_LIMIT, Rows
from groove_core.io.selection import selection_csv, selection_json

#: Tallest table, in pixels (about 12 rows; the rest scroll).
MAX_HEIGHT = 740
#: Row height in pixels: three lines of a description wrap in it (Streamlit wraps text
#: only in rows taller than 4 rem, 64 px).
ROW_HEIGHT = 66
#: Session keys of the table's ticks (its selection state) and of the rows they belong to.
TICKS, SHOWN = "rows_table", "rows_shown"
#: Columns in the order shown: what a learning says first, then where it applies and
#: comes from (visible at 1,400 px), then the numbers.
ORDER = (
    "description",
    "scope",
    "source",
    "scan",
    "score",
    "category",
    "confidence",
    "uses",
    "updated",
    "tier",
    "semantic rank",
    "semantic score",
    "text rank",
    "text score",
)


def heading(rows: Rows, view: View) -> None:
    """What the table shows: the count and the window, or the search and its mode."""
    n = rows.total
    if view.searching:
        best = "The best " if n >= SEARCH_LIMIT else ""  # more may match: say it is a cut
        st.subheader(f"{best}{n} result{'s' if n != 1 else ''} for “{label(view.query, 60)}”")
        st.caption(f"{lv.MODE_LABELS[view.mode]} search, best first (at most {SEARCH_LIMIT}).")
    elif n:
        first = (view.page - 1) * view.size + 1
        st.subheader(f"{n:,} learning{'s' if n != 1 else ''}")
        st.caption(
            f"Showing {first:,}–{first + len(rows.items) - 1:,}, "
            f"{lv.SORT_LABELS[view.sort].lower()}."
        )
    if not rows.items:
        if n and not view.searching:
            st.info("None of the learnings on this page could be read (see the warning).")
        elif view.searching:
            st.info("Nothing matches this search. Try other words or another search mode.")
        elif view.filtered:
            st.info("No learning matches these filters.")
        else:
            st.info("No learnings yet. The Overview page shows how to import rule files.")


def _select(ids: list[str]) -> None:
    """One ticked row selects that learning (``?id=``) for the detail panel."""
    rows = st.session_state[TICKS].selection.rows
    if len(rows) == 1 and rows[0] < len(ids):
        st.query_params["id"] = ids[rows[0]]


def table(rows: Rows, *, show_tier: bool) -> list[str]:
    """The rows (ticking one shows it in the detail panel); returns the ticked ids."""
    ids = [lr.id for lr in rows.items]
    frame = lv.learnings_frame(
        rows.items, rows.usage, rows.hits, show_tier=show_tier, flagged=rows.marks
    )
    # Ticks belong to the rows shown: another page, order or edit shows other learnings
    # at those positions, so the ticks are cleared then (never "Delete selected" on a
    # learning nobody ticked). The table keeps its key: a new key would make the browser
    # build a new grid, 0.1-0.15 s of every page turn at 2 cores.
    ss = st.session_state
    shown = (ss.get("table_version", 0), zlib.crc32("".join(ids).encode()))
    if ss.get(SHOWN) != shown:
        ss[SHOWN] = shown
        if TICKS in ss:
            ss[TICKS] = {"selection": {"rows": [], "columns": [], "cells": []}}
    event = st.dataframe(
        frame,
        key=TICKS,
        on_select=partial(_select, ids),
        selection_mode="multi-row",
        hide_index=True,
        column_order=[c for c in ORDER if c in frame.columns],
        column_config=lv.TABLE_CONFIG,
        height=min(38 + ROW_HEIGHT * len(frame), MAX_HEIGHT),
        row_height=ROW_HEIGHT,
    )
    return [ids[i] for i in event.selection.rows if i < len(ids)]


def pager(rows: Rows, view: View) -> None:
    """Page numbers under a listing longer than one page."""
    if view.searching or rows.total <= view.size:
        return
    st.pagination(
        max(1, math.ceil(rows.total / view.size)),
        key="page",
        max_visible_pages=9,
        bind="query-params",
        persist_state="session",
    )


def downloads(rows: Rows) -> None:
    """Download buttons for the rows shown, as groove's export JSON (``groove import``
    reads it back) and as CSV; the files are made only when a button is pressed."""
    if not rows.items:
        return
    n = len(rows.items)
    items, usage = list(rows.items), dict(rows.usage)
    c1, c2 = st.columns(2)
    c1.download_button(
        f"JSON of these {n} rows",
        lambda: selection_json(items, usage),
        file_name="learnings.json",
        mime="application/json",
        key="dl_json",
        on_click="ignore",
        icon=":material/download:",
        help="groove's export format: `groove import` reads it back",
    )
    c2.download_button(
        f"CSV of these {n} rows",
        lambda: selection_csv(items, usage),
        file_name="learnings.csv",
        mime="text/csv",
        key="dl_csv",
        on_click="ignore",
        icon=":material/table:",
    )


def bulk_actions(ticked: list[str]) -> None:
    """Delete or re-categorise the ticked rows (each asks for confirmation first)."""
    ss = st.session_state
    if not ticked:
        st.caption(
            "Tick rows to delete or re-categorise several at once; tick one to show it "
            "in the detail panel."
        )
        return
    with st.container(border=True):
        h1, h2 = st.columns([3, 2], vertical_alignment="center")
        h1.write(f"**{len(ticked)} selected**")
        h2.button(
            "Delete selected…",
            key="bulk_delete",
            icon=":material/delete:",
            width="stretch",
            on_click=changes.ask,
            args=("delete", ticked),
        )
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        c1.selectbox("New category", CATEGORIES, key="bulk_cat", format_func=words)
        c2.button(
            "Re-categorise selected…",
            key="bulk_recat",
            icon=":material/label:",
            width="stretch",
            on_click=lambda: changes.ask("recategorize", ticked, ss["bulk_cat"]),
        )


__all__ = [
    "MAX_HEIGHT",
    "ORDER",
    "ROW_HEIGHT",
    "bulk_actions",
    "downloads",
    "heading",
    "pager",
    "table",
]
