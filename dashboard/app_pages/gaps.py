"""Capability gaps: what groove cannot handle yet, by severity, status and category; for
one gap its failures over time, its contexts on the fingerprint map, its suggested
solutions (editable) and its review workflow, every change recorded with who and when."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.components import openworld_common as oc
from dashboard.components import openworld_gaps as og
from dashboard.components import openworld_map as om
from dashboard.components.messages import flash, left_out_warning, show_flash
from dashboard.components.text import MISSING, escape
from dashboard.state import groove, pick_tier, principal, report
from groove_core.analysis.projection import sample_for_plot
from groove_core.errors import GrooveError
from groove_core.model.learning import LearningCategory
from groove_core.model.openworld import (
    FailureType,
    GapCategory,
    GapSeverity,
    GapStatus,
    SolutionSource,
)

st.title("Capability gaps")
g = groove()
tier_name = pick_tier(g, key="ow_gap_tier", holds="gaps")
if tier_name is None:
    st.stop()
reviewer = principal()  # recorded with every change
show_flash()

try:
    ow = g.tier(tier_name).openworld
    all_gaps = ow.load_gaps()
    clusters = ow.load_clusters()
except GrooveError as err:
    report(err)
    st.stop()
left_out_warning(tier_name, ow.unreadable_gaps(), "capability gap")

if not all_gaps:
    st.info(
        f"Tier '{tier_name}' has no capability gaps. Gaps are detected from repeated "
        "failures in contexts groove does not know. " + oc.SIMULATE_HINT
    )
    st.stop()

labels = oc.cluster_labels(clusters)
clusters_of = ow.clusters_by_gap()  # gap id -> [(cluster id, contexts in it)], most first
gap_cluster = {
    gid: " + ".join(labels[cid].split(" · ")[0] for cid, _n in found if cid in labels)
    for gid, found in clusters_of.items()
}
# gaps vibes-groove wrote are named "context:<hash>": show that context's summary
named = {gp.context_hash for gp in all_gaps if gp.context_hash is not None}
summaries = {f.hash: f.context_summary for f in ow.get_fingerprints(named)}

# ---------------------------------------------------------------- list
f1, f2, f3 = st.columns(3)
sev = f1.multiselect(
    "Severity",
    [s.value for s in GapSeverity],
    format_func=str.title,
    key="ow_gap_sev",
    bind="query-params",
)
stat = f2.multiselect(
    "Status",
    [s.value for s in GapStatus],
    format_func=lambda v: GapStatus(v).label,
    key="ow_gap_status",
    bind="query-params",
)
cat = f3.multiselect(
    "Category",
    [c.value for c in GapCategory],
    format_func=lambda v: GapCategory(v).label,
    key="ow_gap_cat",
    bind="query-params",
)
gaps = [
    gp
    for gp in all_gaps
    if (not sev or gp.severity.value in sev)
    and (not stat or gp.status.value in stat)
    and (not cat or gp.category.value in cat)
]
open_n = sum(gp.status not in (GapStatus.RESOLVED, GapStatus.DISMISSED) for gp in all_gaps)
st.caption(f"{len(gaps)} of {len(all_gaps)} gaps shown ({open_n} open), most severe first.")
if not gaps:
    st.warning("No gap matches these filters.")
    st.stop()
_when = "YYYY-MM-DD HH:mm"
st.dataframe(
    og.gap_table(gaps, gap_cluster, summaries),
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(gaps), 320),
    key="ow_gap_table",
    column_config={
        "first seen": st.column_config.DatetimeColumn(format=_when),
        "last seen": st.column_config.DatetimeColumn(format=_when),
        "context": st.column_config.TextColumn(width="large"),
    },
)

# ---------------------------------------------------------------- detail
st.divider()
ids = [gp.id for gp in gaps]
by_id = {gp.id: gp for gp in gaps}
# The picker's labels hold the status, so a recorded change makes Streamlit build it
# anew (back at its first option): the gap under review is remembered separately, so the
# next change is made to the same gap; it is also the address's ?gap=<id>, so a link opens
# this gap.
if "ow_gap_pick" not in st.session_state and st.query_params.get("gap") in ids:
    st.session_state["ow_gap_reviewed"] = st.query_params["gap"]
reviewed = st.session_state.get("ow_gap_reviewed")
gap_id = st.selectbox(
    "Review gap",
    ids,
    index=ids.index(reviewed) if reviewed in ids else 0,
    format_func=lambda i: og.gap_label(by_id[i], summaries),
    key="ow_gap_pick",
)
st.session_state["ow_gap_reviewed"] = gap_id
st.query_params["gap"] = gap_id
gap = by_id[gap_id]

st.header(escape(og.gap_title(gap, summaries)))
m = st.columns(4)
m[0].metric("Severity", gap.severity.label.title())
m[1].metric("Status", gap.status.label.title())
m[2].metric("Failures", gap.failure_count)
m[3].metric("Cluster", gap_cluster.get(gap.id, MISSING))
st.caption(
    f"Category: {gap.category.label} · pattern {escape(gap.context_pattern)} · first seen "
    f"{gap.first_seen:%Y-%m-%d %H:%M} UTC · last seen {gap.last_seen:%Y-%m-%d %H:%M} UTC "
    f"({oc.ago(gap.last_seen)}) · id {gap.id}"
)

left, right = st.columns([1, 1])
with left:
    st.subheader("Review")
    nxt = gap.status.next_statuses()
    if st.session_state.pop("ow_gap_recorded", False):
        st.session_state["ow_gap_note"] = ""  # a note belongs to the change it was made with
    with st.form("ow_gap_status_form", border=True):
        st.markdown(f"Currently **{gap.status.label}**. Move it to:")
        target = st.radio(
            "New status",
            [s.value for s in nxt],
            format_func=lambda v: GapStatus(v).label,
            horizontal=True,
            key="ow_gap_next",
            label_visibility="collapsed",
        )
        note = st.text_input("Note (optional)", key="ow_gap_note")
        if st.form_submit_button("Record status change", type="primary"):
            try:
                ch = ow.update_gap_status(gap.id, target, actor=reviewer, note=note)
                flash(
                    "success",
                    f"{ch.who} moved the gap from {ch.old_status.label} to {ch.new_status.label}.",
                )
                st.session_state["ow_gap_recorded"] = True
                st.rerun()
            except GrooveError as err:
                report(err)
    st.markdown("**History**")
    hist = og.history_frame(ow.gap_history(gap.id))
    if hist.empty:
        st.caption(
            "No recorded changes (a gap written by vibes-groove before groove kept history)."
        )
    else:
        hist["when"] = hist["when"].map(lambda t: f"{t:%Y-%m-%d %H:%M:%S} UTC")
        st.table(hist.set_index("when").map(escape))  # st.table draws cells as Markdown

with right:
    st.subheader("Failures over time")
    fails = ow.gap_failures(gap.id)
    if not fails:
        st.caption("No failures are linked to this gap's contexts.")
    else:
        fdf = pd.DataFrame(
            {
                "time": [f.timestamp for f in fails],
                "type": [f.failure_type.label for f in fails],
                "session": [f.session_id for f in fails],
            }
        )
        kinds = [t.label for t in FailureType]  # the same colour for a type on every gap
        fig = px.histogram(
            fdf,
            x="time",
            color="type",
            nbins=30,
            height=300,
            category_orders={"type": kinds},
            color_discrete_map=dict(zip(kinds, px.colors.qualitative.Bold, strict=False)),
        )
        fig.update_layout(
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            bargap=0.1,
            legend={"title": None, "orientation": "h", "y": -0.25},
            yaxis_title="failures",
            xaxis_title=None,
        )
        st.plotly_chart(fig, width="stretch", key="ow_gap_failures")
        st.caption(f"{len(fails)} failures in {fdf['session'].nunique()} sessions.")

# ---------------------------------------------------------------- map
st.subheader("Where its contexts lie")
contexts = set(ow.gap_contexts(gap.id))
if not contexts:
    st.caption("This gap is not linked to any fingerprint.")
else:
    try:
        every, emb = oc.map_frame(g, ow, labels)
    except GrooveError as err:
        report(err)
        every = pd.DataFrame()
    # None while the projection runs in the background (its progress shows instead)
    frame = oc.placed(g, every, emb) if not every.empty else None
    if frame is not None:
        mine = frame["hash"].isin(contexts)
        others, info = sample_for_plot(frame[~mine], om.MAX_POINTS, stratify_by="cluster")
        st.plotly_chart(
            om.figure(pd.concat([others, frame[mine]]), "cluster", highlight=contexts, height=420),
            width="stretch",
            key="ow_gap_map",
        )
        where = ", ".join(
            f"{n} in {labels[cid].split(' · ')[0]}"
            for cid, n in clusters_of.get(gap.id, [])
            if cid in labels
        )
        text = (
            f"{int(mine.sum())} contexts of this gap, in red"
            + (f" ({where})" if where else ", in no stored cluster")
            + f", among the other fingerprints: {info.description[0].lower()}"
            + info.description[1:]
        )
        (st.warning if info.method != "all" else st.caption)(text)

# ---------------------------------------------------------------- solutions
st.subheader("Suggested solutions")
st.caption(
    "Edit, add or delete rows, then save. The text is the learning's content, the "
    "change to make, or the question to ask."
)
edited = st.data_editor(
    og.solutions_frame(gap.suggested_solutions),
    num_rows="dynamic",
    width="stretch",
    hide_index=True,
    key=f"ow_sol_{gap.id}",
    column_config={
        "action": st.column_config.SelectboxColumn(
            "action", options=list(og.ACTIONS.values()), required=True
        ),
        "text": st.column_config.TextColumn("text", width="medium"),
        "category": st.column_config.SelectboxColumn(
            "category", options=[c.value for c in LearningCategory]
        ),
        "learning id": st.column_config.TextColumn("learning id"),
        "source": st.column_config.SelectboxColumn(
            "source", options=[s.value for s in SolutionSource]
        ),
        "confidence": st.column_config.NumberColumn(
            "confidence", min_value=0.0, max_value=1.0, step=0.05
        ),
        "applied": st.column_config.CheckboxColumn("applied"),
    },
)
if st.button("Save solutions", key="ow_sol_save"):
    try:
        new = og.solutions_from_frame(edited, gap.suggested_solutions)
        ow.update_gap_solutions(gap.id, new, actor=reviewer)
        flash("success", f"Saved {len(new)} suggested solutions.")
        st.rerun()
    except GrooveError as err:
        report(err)
