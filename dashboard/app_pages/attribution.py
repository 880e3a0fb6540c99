"""Attribution: which learnings contribute to session outcomes, and how much?"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboard.components.evidence_common import (
    fmt,
    fmt_interval,
    label,
    short,
    synthetic_banner,
)
from dashboard.components.evidence_plots import timeline_figure, trend_figures
from dashboard.components.text import MISSING, distinct, plot_label
from dashboard.state import TIER_PARAM, first_holding, groove, report, tier_label, tier_names
from groove_core.analysis.evidence import value_trend
from groove_core.errors import GrooveError
from groove_core.experiments import value_board
from groove_core.model.learning import LearningCategory

st.title("Attribution")
st.caption(
    "For every session, groove records which learnings were injected (or withheld for an "
    "experiment), whether each was activated, and the share of the session's outcome "
    "attributed to it (its attributed value; negative means it made the session worse)."
)

g = groove()
names = tier_names(g, synthetic=True)
if not names:
    st.warning("No tier is open.")
    st.stop()

# ---------------------------------------------------------------- filters
with st.sidebar:
    wanted = [n for n in st.query_params.get_all(TIER_PARAM) if n in names]
    chosen_tiers = st.multiselect(
        "Tiers",
        names,
        # the address's (?tier= once per tier), else the first tier with records
        default=wanted or [first_holding(g, names, "attribution") or names[0]],
        key="attr_tiers",
        format_func=lambda n: tier_label(g, n),
    )
    if st.query_params.get_all(TIER_PARAM) != chosen_tiers:  # a link opens this view
        st.query_params[TIER_PARAM] = chosen_tiers
    categories = ["all", *(c.value for c in LearningCategory)]
    category = st.selectbox("Category", categories, key="attr_category")
if not chosen_tiers:
    st.info("Pick at least one tier in the sidebar.")
    st.stop()
tiers = [g.tier(n) for n in chosen_tiers]
for t in tiers:
    synthetic_banner(t)
try:
    bounds = [b for t in tiers if (b := t.attribution.time_bounds())]
except GrooveError as err:
    report(err)
    st.stop()
if not bounds:
    st.info(
        "No attribution records yet in the chosen tiers. `groove simulate` can fill a "
        "tier with synthetic ones to explore this page."
    )
    st.stop()
first = min(b[0] for b in bounds).date()
last = max(b[1] for b in bounds).date()
with st.sidebar:
    picked = st.date_input(
        "Time range", (first, last), min_value=first, max_value=last, key="attr_range"
    )
start_day, end_day = picked if isinstance(picked, tuple) and len(picked) == 2 else (first, last)
since = datetime.combine(start_day, time.min, UTC)
until = datetime.combine(end_day, time.min, UTC) + timedelta(days=1)
cat = None if category == "all" else category

boards = []
try:
    for t in tiers:
        b = value_board(t.attribution, since, until, category=cat)
        found = {lr.id: lr for lr in t.learnings.get_many(list(b["learning_id"]))}
        b.insert(0, "learning", [label(found.get(i), i, 70) for i in b["learning_id"]])
        b.insert(1, "tier", t.name)
        b["posterior_mean"] = [
            found[i].confidence if i in found else float("nan") for i in b["learning_id"]
        ]
        boards.append(b)
except GrooveError as err:
    report(err)
    st.stop()
board = pd.concat(boards, ignore_index=True).sort_values("total_value", ascending=False)
board["ci"] = [
    fmt_interval(lo, hi, 4, signed=True)
    for lo, hi in zip(board["ci_low"], board["ci_high"], strict=True)
]

# ---------------------------------------------------------------- leaderboard
st.subheader("Leaderboard")
st.caption(
    f"{start_day} to {end_day}. Total value and per session: the attributed values "
    "(groove's share of each session's outcome credited to the learning). Value: mean "
    "session outcome where the learning was injected minus the mean of the other sessions "
    "in the range, in outcome units, with its 95% Welch interval and the posterior "
    "probability that it is above 0. It is an association (sessions may differ in other "
    "ways); an ablation experiment measures the effect. Posterior mean is the confidence "
    "that it helps (as on the Posterior page)."
)
cols = {
    "learning": st.column_config.TextColumn("Learning", width="medium"),
    "tier": st.column_config.TextColumn("Tier"),
    "total_value": st.column_config.NumberColumn("Total value", format="%+.3f"),
    "mean_value": st.column_config.NumberColumn("Per session", format="%+.4f"),
    "sessions": st.column_config.NumberColumn("Sessions", help="Sessions in the range."),
    "activated": st.column_config.NumberColumn("Activated"),
    "value": st.column_config.NumberColumn(
        "Value",
        format="%+.4f",
        help="Mean session outcome with it injected minus without, in outcome units.",
    ),
    "ci": st.column_config.TextColumn(
        "95% CI of value", help="Welch's interval for the value (one look at this range)."
    ),
    "p_positive": st.column_config.NumberColumn(
        "P(value > 0)",
        format="%.3f",
        help="Posterior probability that the value is above 0 (normal groups, flat priors; "
        f"Behrens-Fisher); {MISSING} when either group has fewer than 2 sessions.",
    ),
    "posterior_mean": st.column_config.NumberColumn(
        "Posterior mean",
        format="%.3f",
        help="Confidence that injecting it helps: the mean of its Beta posterior.",
    ),
    "status": st.column_config.TextColumn("Status"),
}
shown = [
    "learning",
    *(["tier"] if len(tiers) > 1 else []),
    "total_value",
    "mean_value",
    "sessions",
    "activated",
    "value",
    "ci",
    "p_positive",
    "posterior_mean",
    "status",
]
top_n = st.slider("Rows", 3, 30, 10, key="attr_rows")
# a learning without an estimate shows MISSING (its NaN), not the word None
leaders = {"hide_index": True, "width": "stretch", "column_config": cols, "placeholder": MISSING}
st.markdown("**Top contributors**")
top = board[board["total_value"] > 0].head(top_n)
st.dataframe(top[shown], key="attr_top", **leaders)
st.markdown("**Negative contributors**")
neg = board[board["total_value"] < 0].sort_values("total_value").head(top_n)
if neg.empty:
    st.caption("No learning has a negative total value in this range.")
else:
    st.dataframe(neg[shown], key="attr_negative", **leaders)

# ---------------------------------------------------------------- timeline
st.subheader("Session timeline")
ids = list(board["learning_id"]) if cat else None
frames = []
try:
    for t in tiers:
        tl = t.attribution.session_timeline(since, until, learning_ids=ids, limit=1000)
        tl.insert(0, "tier", t.name)
        frames.append(tl)
except GrooveError as err:
    report(err)
    st.stop()
timeline = pd.concat(frames, ignore_index=True).sort_values("timestamp").reset_index(drop=True)
names_by_id = dict(zip(board["learning_id"], board["learning"], strict=True))


def describe(row) -> str:
    parts = [f"<b>{plot_label(row.session_id)}</b> · outcome {row.outcome:.3f}"]
    for item in row.learnings[:6]:
        mark = (
            "withheld"
            if item["was_withheld"]
            else ("activated" if item["was_activated"] else "not activated")
        )
        name = short(names_by_id.get(item["learning_id"], item["learning_id"][:8]), 40)
        parts.append(f"{item['attributed_value']:+.3f} {plot_label(name)} ({mark})")
    if len(row.learnings) > 6:
        parts.append(f"… {len(row.learnings) - 6} more")
    return "<br>".join(parts)


if timeline.empty:
    st.caption("No session in this range.")
else:
    hover = [describe(r) for r in timeline.itertuples()]
    st.plotly_chart(timeline_figure(timeline, hover), width="stretch", key="attr_timeline")
    st.caption(
        f"{len(timeline)} sessions; hover a point for the learnings in it and the "
        "value attributed to each."
    )
    pick = st.selectbox(
        "Session",
        list(timeline.index)[::-1],
        key="attr_session",
        format_func=lambda k: (
            f"{timeline.loc[k, 'session_id']} · "
            f"{timeline.loc[k, 'timestamp']:%Y-%m-%d %H:%M} · outcome "
            f"{timeline.loc[k, 'outcome']:.3f}"
        ),
    )
    detail = pd.DataFrame(timeline.loc[pick, "learnings"])
    detail.insert(0, "learning", [names_by_id.get(i, i) for i in detail["learning_id"]])
    st.dataframe(
        detail.drop(columns=["learning_id"]),
        hide_index=True,
        width="stretch",
        key="attr_session_detail",
        column_config={
            "attributed_value": st.column_config.NumberColumn("Attributed value", format="%+.4f"),
            "was_activated": st.column_config.CheckboxColumn("Activated"),
            "was_withheld": st.column_config.CheckboxColumn("Withheld (experiment)"),
        },
    )

# ---------------------------------------------------------------- one learning
st.subheader("A learning's value over time")
if board.empty:
    st.caption("No learning has records in this range.")
    st.stop()
key_of = {f"{r.tier}|{r.learning_id}": r for r in board.itertuples()}
pick = st.selectbox(
    "Learning",
    list(key_of),
    key="attr_learning",
    format_func=distinct({k: f"{r.learning} [{r.tier}]" for k, r in key_of.items()}).get,
)
window = st.slider("Rolling window (sessions)", 5, 100, 20, key="attr_window")
row = key_of[pick]
tier = g.tier(row.tier)
try:
    frame = tier.attribution.attribution_frame(since, until, learning_ids=[row.learning_id])
except GrooveError as err:
    report(err)
    st.stop()
trend = value_trend(frame, window=window)
if trend.empty:
    st.caption("This learning was only withheld in this range.")
else:
    m1, m2, m3 = st.columns(3)
    m1.metric("Cumulative value", fmt(trend["cumulative"].iloc[-1], signed=True))
    m2.metric(f"Rolling mean (last {window})", fmt(trend["rolling_mean"].iloc[-1], 4, signed=True))
    m3.metric(
        "95% pointwise interval of that mean",
        f"[{fmt(trend['rolling_low'].iloc[-1], 4, signed=True)}, "
        f"{fmt(trend['rolling_high'].iloc[-1], 4, signed=True)}]",
    )
    cum, roll = trend_figures(trend)
    c1, c2 = st.columns(2)
    c1.plotly_chart(cum, width="stretch", key="attr_cum")
    c2.plotly_chart(roll, width="stretch", key="attr_roll")
    st.caption(
        "Left: running sum of attributed values. Right: mean of the last "
        f"{window} sessions with a pointwise 95% t-interval: each point's interval holds "
        "on its own, so across a long history some windows will miss the true mean by "
        "chance (grey dots: single sessions)."
    )
