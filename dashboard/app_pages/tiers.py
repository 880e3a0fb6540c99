"""Tiers: each tier's engine, location, schema version, applied and pending migrations,
counts (learnings, proposals waiting, audit entries) and your role; below, the Access
section where an admin of a tier grants and revokes roles."""

from __future__ import annotations

import streamlit as st

from dashboard.components import access_admin, tier_views
from dashboard.state import enterprise_first, open_page, principal, report
from groove_core.errors import GrooveError

g, names = open_page("Tiers")
me = principal()

infos = []
for name in names:
    try:
        infos.append(tier_views.tier_info(g.tier(name), me))
    except GrooveError as err:
        report(err)
st.dataframe(
    tier_views.tiers_frame(infos),
    key="tiers_rows",
    hide_index=True,
    column_config=tier_views.TIERS_CONFIG,
)
for info in infos:
    with st.expander(f"Migrations of {info.name}"):
        tier_views.migrations_table(info)

st.header("Access")
chosen = st.selectbox("Tier", names, index=enterprise_first(names), key="acc_tier")
access_admin.access_section(g.tier(chosen), me)
