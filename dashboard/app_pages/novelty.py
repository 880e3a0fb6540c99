"""Novelty events: the stream of what the open-world side noticed (novel contexts,
cluster updates, new gaps, status changes, solutions, strategy feedback), newest first,
filtered by type and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.components import openworld_common as oc
from dashboard.components.text import plot_label, words
from dashboard.state import groove, pick_tier, report
from groove_core.errors import GrooveError
from groove_core.model.openworld import EVENT_TYPES

WINDOWS = {
    "24 h": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
    "90 days": timedelta(days=90),
    "all time": None,
}

st.title("Novelty events")
g = groove()
tier_name = pick_tier(g, key="ow_ev_tier", holds="events")
if tier_name is None:
    st.stop()

try:
    ow = g.tier(tier_name).openworld
    counts = ow.event_type_counts()
except GrooveError as err:
    report(err)
    st.stop()

if not counts:
    st.info(f"Tier '{tier_name}' has no open-world events yet. " + oc.SIMULATE_HINT)
    st.stop()

types = list(EVENT_TYPES) + sorted(set(counts) - set(EVENT_TYPES))
c1, c2, c3 = st.columns([2, 3, 1])
chosen = c1.multiselect(
    "Types",
    types,
    default=[t for t in types if counts.get(t)],
    format_func=lambda t: f"{words(t)} ({counts.get(t, 0):,})",
    key="ow_ev_types",
)
window = c2.segmented_control(
    "Time", list(WINDOWS), default="30 days", key="ow_ev_window", bind="query-params"
)
limit = c3.number_input("At most", 10, 5000, 200, step=50, key="ow_ev_limit", bind="query-params")
span = WINDOWS.get(window or "all time")
since = datetime.now(UTC) - span if span else None

if not chosen:
    st.warning("Choose at least one event type.")
    st.stop()
bucket = 3600 if span is not None and span <= timedelta(days=1) else 86400
try:
    events = ow.load_novelty_events(since, int(limit), event_types=chosen)
    timeline = ow.event_timeline(since, event_types=chosen, bucket_seconds=bucket)
except GrooveError as err:
    report(err)
    st.stop()

in_window = sum(n for _, _, n in timeline)
st.caption(
    f"{in_window:,} events of these types in this window; the list shows "
    + (f"the newest {len(events):,}." if len(events) < in_window else "all of them.")
)
if not events:
    st.info("No event of these types in this time window.")
    st.stop()

per = pd.DataFrame(timeline, columns=["time", "type", "events"])
per["type"] = per["type"].map(lambda t: plot_label(words(t)))  # a legend is HTML
fig = px.bar(per, x="time", y="events", color="type", height=220)
fig.update_traces(xperiod=bucket * 1000, xperiodalignment="start")
fig.update_layout(
    margin={"l": 10, "r": 10, "t": 10, "b": 10},
    bargap=0.1,
    legend={"title": None},
    yaxis_title=f"events per {'hour' if bucket == 3600 else 'day'}",
    xaxis_title=None,
)
st.plotly_chart(fig, width="stretch", key="ow_ev_timeline")

df = pd.DataFrame(
    {
        "time": [e.timestamp for e in events],
        "type": [words(e.event_type) for e in events],
        "what": [e.summary() for e in events],
        "id": [e.id for e in events],
    }
)
sel = st.dataframe(
    df[["time", "type", "what"]],
    hide_index=True,
    width="stretch",
    height=420,
    on_select="rerun",
    selection_mode="single-row",
    key="ow_ev_table",
    column_config={
        "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm"),
        "what": st.column_config.TextColumn("what", width="large"),
    },
)
rows = getattr(getattr(sel, "selection", None), "rows", None) or []
if rows:
    ev = events[rows[0]]
    with st.container(border=True):
        st.markdown(
            f"**{words(ev.event_type)}** at {ev.timestamp:%Y-%m-%d %H:%M:%S} "
            f"UTC ({oc.ago(ev.timestamp)}) · id `{ev.id}`"
        )
        st.json(ev.to_json(), expanded=2)
else:
    st.caption("Select a row to see the event as it is stored (serde JSON).")
