"""Overview: how many learnings each tier holds, by category and by source, and the
newest ones. An empty store shows how to import rule files."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from dashboard.components import learning_import
from dashboard.components import learning_views as lv
from dashboard.components.text import plot_label, words
from dashboard.state import groove, report, tier_names
from groove_core.errors import GrooveError

st.title("Overview")
g = groove()
names = tier_names(g)
learning_import.show_result()

rows = []
totals: dict[str, int] = {}
for name in names:
    try:
        facets = data.tier_facets(g, name)  # cached per learnings version
        totals[name] = sum(facets["category"].values())
    except GrooveError as err:
        report(err)
        continue
    for col, counts in facets.items():
        rows.extend({"tier": name, "facet": col, "value": k, "count": n} for k, n in counts.items())
total = sum(totals.values())

if total == 0:
    st.subheader("No learnings yet")
    st.write(
        "groove learns from your sessions, and it can start from the rules you already "
        "wrote for your assistant. Import the rule files of this project, or name a "
        "folder that holds some. From a terminal: `groove import PATH`."
    )
    with st.container(border=True):
        learning_import.import_offer(g, names, key="imp")
    st.stop()

# ---------------------------------------------------------------- missing embeddings
for name in totals:
    if data.unembedded(g, name):
        learning_import.reembed_offer(g.tier(name))

# ---------------------------------------------------------------- counts
cols = st.columns(min(len(totals), 4) + 1)
cols[0].metric("Learnings", f"{total:,}")
for col, (name, n) in zip(cols[1:], totals.items(), strict=False):
    col.metric(f"Tier {name}", f"{n:,}")
if len(totals) > 4:
    st.caption(" · ".join(f"{n}: {c:,}" for n, c in list(totals.items())[4:]))

facets = pd.DataFrame(rows, columns=["tier", "facet", "value", "count"])


def _bar(facet: str, title: str) -> go.Figure:
    """Learnings by ``facet`` as horizontal bars, largest on top, one colour per tier
    (graph objects, not plotly express: a tenth of the time to build)."""
    data = facets[facets["facet"] == facet].assign(  # plotly reads labels as HTML
        label=lambda d: d["value"].map(lambda v: plot_label(words(v)), na_action="ignore")
    )
    order = data.groupby("label")["count"].sum().sort_values().index.tolist()
    fig = go.Figure(
        [
            go.Bar(
                x=part["count"],
                y=part["label"],
                name=plot_label(tier),
                orientation="h",
                text=part["count"],
            )
            for tier, part in data.groupby("tier", sort=False)
        ]
    )
    fig.update_layout(
        title=title,
        barmode="stack",
        height=90 + 34 * max(len(order), 1),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=len(totals) > 1,
        legend={"orientation": "h", "y": -0.2},
        xaxis={
            "title": "learnings",
            "tickformat": ",d",
            "rangemode": "tozero",
            "dtick": 1 if data["count"].max() <= 10 else None,
        },
        yaxis={"categoryorder": "array", "categoryarray": order},
    )
    return fig


left, right = st.columns(2, gap="large")
left.plotly_chart(_bar("category", "By category"), key="by_category")
right.plotly_chart(_bar("source_type", "By source"), key="by_source")

scopes = (
    facets[facets["facet"] == "scope"].groupby("value")["count"].sum().sort_values(ascending=False)
)
with st.expander(f"By scope ({len(scopes)})"):
    st.dataframe(
        scopes.rename("learnings").rename_axis("scope").reset_index(),
        hide_index=True,
        key="by_scope",
    )

# ---------------------------------------------------------------- newest
st.subheader("Newest learnings")
try:
    newest = data.listing(g, list(totals), sort="created", limit=10)
except GrooveError as err:
    report(err)
    newest = data.Rows()
frame = lv.learnings_frame(newest.items, newest.usage, show_tier=len(names) > 1).drop(
    columns=["uses"],
    errors="ignore",  # an empty frame (a tier that failed) has no columns
)
event = st.dataframe(
    frame,
    hide_index=True,
    column_config={
        **lv.TABLE_CONFIG,
        "description": st.column_config.TextColumn("Description", width="large"),
    },
    key="newest",
    on_select="rerun",
    selection_mode="single-row",
)
st.caption("Select a row to open it on the Learnings page.")
if event.selection.rows:
    picked = newest.items[event.selection.rows[0]]
    st.switch_page("app_pages/learnings.py", query_params={"id": picked.id})

with st.expander("Import rule files"):
    learning_import.import_offer(g, names, key="imp_more")
