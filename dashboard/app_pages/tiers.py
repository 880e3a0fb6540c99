"""Tiers: each tier's engine, location, schema version, applied and pending migrations,
counts (learnings, proposals waiting, audit entries) and your role; below, the Access
section where an admin of a tier grants and revokes roles."""

from __future__ import annotations

import streamlit as st

from dashboard.components import access_admin, tier_views
from dashboard.components import learning_views as lv
from dashboard.state import groove, principal, report, tier_names
from groove_core.errors import GrooveError

st.title("Tiers")
g = groove()
me = principal()
names = tier_names(g)
lv.show_flash()
if not names:
    st.stop()

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
enterprise = [n for n in names if n.startswith("enterprise:")]
chosen = st.selectbox(
    "Tier", names, index=names.index(enterprise[0]) if enterprise else 0, key="acc_tier"
)
access_admin.access_section(g.tier(chosen), me)
