"""Tiers: each tier's engine, location, schema version, applied and pending migrations,
counts (learnings, proposals waiting, audit entries) and your role; below, the Access
section where an admin of a tier grants and revokes roles."""

from __future__ import annotations

import streamlit as st

from dashboard.components import access_admin, tier_views
from dashboard.state import auth_mode, enterprise, open_page, pick_tier, principal, report
from groove_core.errors import GrooveError
from groove_core.serve import DashboardAuth

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
chosen = pick_tier(g, key="acc_tier", names=names, prefer=enterprise(names), sidebar=False)
signed_in = auth_mode() is not DashboardAuth.none
access_admin.access_section(g.tier(chosen), me, may_claim=not signed_in)
