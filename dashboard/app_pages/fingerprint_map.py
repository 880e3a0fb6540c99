"""Fingerprint map: where the contexts groove met lie (UMAP of their embeddings), which
anomaly clusters group them, and HDBSCAN proposals for the ones no cluster holds yet.
Select points (lasso or box) to make a cluster of them or add them to one. A projection
not computed yet runs in the background: its progress shows in the map's place while the
lists, proposals and filters work."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components import openworld_common as oc
from dashboard.components import openworld_map as om
from dashboard.components.messages import flash, show_flash
from dashboard.components.text import label, short
from dashboard.state import groove, pick_tier, principal, report
from groove_core.analysis.projection import sample_for_plot
from groove_core.errors import GrooveError
from groove_core.jobs import Job

st.title("Fingerprint map")
g = groove()
tier_name = pick_tier(g, key="ow_map_tier", holds="fingerprints")
if tier_name is None:
    st.stop()
reviewer = principal()  # recorded with every change
show_flash()

try:
    ow = g.tier(tier_name).openworld
    clusters = ow.load_clusters()
    labels = oc.cluster_labels(clusters)
    frame, emb = oc.map_frame(g, ow, labels)
    dismissed = {d.proposal_id for d in ow.dismissed_proposals()}
    gaps_by_cluster = ow.gaps_by_cluster()
except GrooveError as err:
    report(err)
    st.stop()

if frame.empty:
    st.info(
        f"Tier '{tier_name}' has no fingerprints yet. They appear as the assistant meets "
        "new contexts. " + oc.SIMULATE_HINT
    )
    st.stop()

st.caption(
    f"{len(frame):,} fingerprints in tier '{tier_name}', {len(clusters)} anomaly "
    "clusters. Each point is a context the assistant met, placed by UMAP (cosine) so that "
    "similar contexts lie close together; hover for its summary."
)

# proposals: HDBSCAN over the fingerprints not linked to a learning (known contexts);
# the dense groups a stored cluster does not already hold are proposed
membership = ow.cluster_membership()
clustered = {str(h) for h in membership}
known = set(frame.loc[frame["learning_id"].notna(), "id"])
with st.sidebar:
    min_size = st.number_input(
        "Smallest proposed cluster",
        3,
        500,
        min(50, max(5, round(0.03 * len(frame)))),
        key="ow_map_min_size",
        help="HDBSCAN's min_cluster_size: the fewest close contexts that make a proposal "
        "(default: 3 % of the fingerprints, from 5 to 50). Smaller finds tighter groups.",
    )
try:  # a Job while HDBSCAN runs in the background (its progress shows below)
    found = oc.proposals(frame, emb, int(min_size), clustered, known)
except GrooveError as err:
    report(err)
    found = []
pending = found if isinstance(found, Job) else None
proposals = [] if pending else [p for p in found if p.proposal_id not in dismissed]
for p in proposals:
    frame.loc[frame["id"].isin(p.member_ids), "cluster"] = f"proposed: {p.label}"

frame["learning group"], learning_note = om.learning_groups(
    frame["learning_id"], frame.attrs["learning_names"]
)

# ---------------------------------------------------------------- the map
c1, c2 = st.columns([3, 2])
color_by = c1.radio(
    "Colour by",
    list(om.COLOR_BY),
    format_func=om.COLOR_BY.get,
    horizontal=True,
    key="ow_map_color",
    bind="query-params",
)
if color_by == "learning":
    c2.caption(learning_note)
on_map = oc.placed(g, frame, emb)  # None while the projection runs (its progress shows)
picked = frame.iloc[0:0]
if on_map is not None:
    shown, info = sample_for_plot(on_map, om.MAX_POINTS, stratify_by="cluster")
    if info.method != "all":
        st.warning(info.description + " Selections apply to the points shown.")
    else:
        c2.caption(info.description)
    event = st.plotly_chart(
        om.figure(shown, color_by),
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        key="ow_map_chart",
        width="stretch",
    )
    picked = frame[frame["id"].isin(om.selected_ids(event))]

# ---------------------------------------------------------------- selection
st.subheader("Selection")
if on_map is None:
    st.caption("Select points on the map once it is ready.")
elif picked.empty:
    st.caption("Draw a lasso or a box around points on the map to select them.")
else:
    st.dataframe(
        picked[["summary", "cluster", "learning", "created_at"]].rename(
            columns={"summary": "context", "created_at": "seen"}
        ),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(picked), 300),
        column_config={
            "context": st.column_config.TextColumn(width="large"),
            "seen": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    hashes = [int(h) for h in picked["hash"]]
    in_clusters = sorted({c for h in hashes for c in membership.get(h, [])})
    a1, a2, a3 = st.columns(3)
    if a1.button(f"Create a cluster of these {len(hashes)}", key="ow_map_create", type="primary"):
        try:
            made = ow.create_cluster(hashes, actor=reviewer)
            flash("success", f"Created a cluster of {made.size} fingerprints.")
            st.rerun()
        except GrooveError as err:
            report(err)
    if clusters:
        target = a2.selectbox(
            "Add to cluster",
            [c.id for c in clusters],
            format_func=labels.get,
            key="ow_map_target",
            label_visibility="collapsed",
        )
        if a2.button("Add them to this cluster", key="ow_map_add"):
            try:
                made = ow.add_cluster_members(target, hashes, actor=reviewer)
                flash("success", f"{labels[target]} now has {made.size} fingerprints.")
                st.rerun()
            except GrooveError as err:
                report(err)
        if in_clusters and a3.button("Remove them from their clusters", key="ow_map_remove"):
            try:
                changed = ow.remove_from_clusters(hashes, actor=reviewer)
                flash("success", f"Removed the selection from {len(changed)} cluster(s).")
                st.rerun()
            except GrooveError as err:
                report(err)

# ---------------------------------------------------------------- clusters
st.subheader("Anomaly clusters")
if not clusters:
    st.caption("No anomaly clusters are stored in this tier.")
else:
    first = (
        frame.sort_values("created_at")
        .drop_duplicates("cluster_id")
        .set_index("cluster_id")["summary"]
    )
    table = pd.DataFrame(
        [
            {
                "cluster": labels[c.id],
                "members": c.size,
                "example": short(first.get(c.id, ""), 80),
                "gaps": len(gaps_by_cluster.get(c.id, [])),
                "created": c.created_at,
                "last seen": c.last_seen,
            }
            for c in clusters
        ]
    )
    when = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"created": when, "last seen": when},
    )

st.subheader("Proposed clusters")
st.caption(
    f"HDBSCAN over the {len(frame) - len(known):,} fingerprints not linked to a learning: "
    f"dense groups of at least {int(min_size)} close contexts (change it in the sidebar) "
    "that no stored cluster holds yet. Accept one to store it as an anomaly cluster, or "
    "dismiss it."
)
if pending is not None:
    oc.job_progress(pending.key, "The proposals appear here when HDBSCAN is done.")
elif not proposals:
    st.caption("No proposals: every dense group is already a cluster (or was dismissed).")
summaries = frame.set_index("id")["summary"]
for p in proposals:  # buttons keyed by the proposal, not its place in the list
    with st.container(border=True):
        left, right = st.columns([4, 1])
        left.markdown(
            f"**{p.label}** · {p.size} fingerprints · membership {p.mean_probability:.2f}"
        )
        left.caption("e.g. " + label(summaries.get(p.representative_id, ""), 120))
        hashes = [int(m) for m in p.member_ids]  # a fingerprint's id is its hash
        if right.button("Accept", key=f"ow_prop_accept_{p.proposal_id}", type="primary"):
            try:
                made = ow.create_cluster(hashes, actor=reviewer)
                flash(
                    "success", f"{p.label} is now an anomaly cluster of {made.size} fingerprints."
                )
                st.rerun()
            except GrooveError as err:
                report(err)
        if right.button("Dismiss", key=f"ow_prop_dismiss_{p.proposal_id}"):
            try:
                ow.dismiss_proposal(p.proposal_id, hashes, actor=reviewer)
                flash("success", f"{p.label} dismissed.")
                st.rerun()
            except GrooveError as err:
                report(err)
