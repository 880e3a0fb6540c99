"""Audit: the hash-chained log of every write to a tier, newest first, filtered by time,
principal, action and target; "Verify chain" walks the chain and names the first entry
that was altered, inserted or removed."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from dashboard.components import audit_views
from dashboard.components import learning_views as lv
from dashboard.state import enterprise, open_page, pick_tier, report
from groove_core.errors import GrooveError
from groove_core.model.access import Action
from groove_core.store.audit import parse_anchor

LIMITS = (100, 500, 2000)

g, names = open_page("Audit")
with st.sidebar:
    tier_name = pick_tier(g, key="au_tier", names=names, prefer=enterprise(names), sidebar=False)
    st.header("Filter")
    since = st.date_input("Since (UTC)", value=None, key="au_since", bind="query-params")
    who = st.text_input(
        "Principal", key="au_who", placeholder="an email or login", bind="query-params"
    )
    action = st.selectbox(
        "Action",
        ["", *audit_views.action_prefixes(Action)],
        key="au_action",
        format_func=lambda a: a or "any",
        help="A family (learning.) or one action (learning.edit).",
        bind="query-params",
    )
    target = st.text_input(
        "Target", key="au_target", placeholder="a learning id, a principal…", bind="query-params"
    )
    limit = st.selectbox("At most", LIMITS, key="au_limit", bind="query-params")

tier = g.tier(tier_name)
left, right = st.columns([3, 1], vertical_alignment="bottom")
kept = left.text_input(
    "Head kept from an earlier check (optional)",
    key="au_anchor",
    placeholder="SEQ:HASH",
    help="The head a check printed earlier, kept where the tier's writers cannot change "
    "it: that entry must still have that hash. This catches a log rewritten with every "
    "hash recomputed, which the chain alone cannot show.",
)
if right.button("Verify chain", icon=":material/verified:", key="au_verify"):
    try:
        anchor = parse_anchor(kept) if kept.strip() else None
        audit_views.verification(tier.audit.verify(anchor), anchor)
    except GrooveError as err:
        report(err)

try:
    entries = tier.audit.entries(
        since=datetime.combine(since, time.min, UTC) if since else None,
        principal=who.strip() or None,
        action=action or None,
        target=target.strip() or None,
        limit=limit,
    )
except GrooveError as err:
    report(err)
    st.stop()

n = len(entries)
st.subheader(f"{n} entr{'ies' if n != 1 else 'y'} in tier {tier_name}")
st.caption("Newest first" + (f", at most {limit}." if n == limit else "."))
if not entries:
    st.info("No audit entry matches these filters.")
else:
    st.dataframe(
        audit_views.entries_frame(entries),
        key=f"au_rows_{tier_name}",
        hide_index=True,
        column_config=audit_views.ENTRIES_CONFIG,
        height=min(38 + 35 * n, 740),
    )
    st.caption(f"Newest entry: {lv.when(entries[0].at)} · hash `{entries[0].hash[:16]}…`")
