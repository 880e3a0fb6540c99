"""The Access section of the Tiers page: the roles stored in a tier and, for its admins,
a form to grant a role and a button to revoke each one. groove_core checks every grant
and revoke (admin only, never the last admin); its refusal is shown as a message."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components.messages import flash
from dashboard.components.text import escape
from groove_core.errors import GrooveError
from groove_core.model.access import Principal, Role
from groove_core.tiers import Tier

ROLES = [r.name for r in Role]


def access_section(tier: Tier, me: Principal, *, may_claim: bool = False) -> None:
    """Grants of ``tier``; the grant form and revoke buttons when ``me`` is its admin. An
    enterprise tier without an admin offers ``me`` to claim it only with ``may_claim``
    (a dashboard without sign-in, run by someone who could run ``groove access claim``
    anyway): on a dashboard served to others, anyone signed in would be first."""
    try:
        role = tier.role(me)
        grants = tier.access.grants()
    except GrooveError as err:
        st.error(str(err))
        return
    st.caption(f"Your role in tier '{tier.name}': {role.name if role else 'none'}.")
    if grants:
        st.dataframe(
            pd.DataFrame([g.to_json() for g in grants]),
            key=f"grants_{tier.name}",
            hide_index=True,
        )
    elif tier.kind != "enterprise":
        st.caption("No roles are stored: this tier's owner on this machine needs none.")
    if tier.kind == "enterprise" and not any(g.role is Role.admin for g in grants):
        _claim(tier, me, may_claim)
        return
    if role is not Role.admin:
        st.info("Only an admin of this tier grants and revokes roles.")
        return
    with st.form(f"grant_{tier.name}"):
        st.markdown("**Grant a role**")
        c1, c2, c3 = st.columns([3, 2, 3])
        pid = c1.text_input("Principal", key=f"gr_pid_{tier.name}", placeholder="an email")
        new_role = c2.selectbox("Role", ROLES, index=1, key=f"gr_role_{tier.name}")
        name = c3.text_input("Name (optional)", key=f"gr_name_{tier.name}")
        go = st.form_submit_button("Grant", type="primary")
    if go:
        try:
            granted = tier.access.grant(pid.strip(), new_role, name=name, actor=me)
        except GrooveError as err:
            st.error(f"Not granted: {escape(err)}")
        else:
            who = escape(granted.principal)
            flash("success", f"{who} is now {granted.role.name} in '{tier.name}'.")
            st.rerun()
    for g in grants:
        if st.button(
            f"Revoke {escape(g.principal)} ({g.role.name})",
            key=f"revoke_{tier.name}_{g.principal}",
            icon=":material/person_remove:",
        ):
            try:
                tier.access.revoke(g.principal, actor=me)
            except GrooveError as err:
                st.error(f"Not revoked: {escape(err)}")
            else:
                flash("success", f"{escape(g.principal)} has no role in '{tier.name}' any more.")
                st.rerun()


def _claim(tier: Tier, me: Principal, may_claim: bool) -> None:
    """An enterprise tier without an admin (an older groove or another program wrote it;
    opening it gives nobody a role): its curator becomes the first admin, deliberately."""
    command = f"`groove access claim --tier {tier.name}`"
    how = (
        f"here (or with {command})"
        if may_claim
        else f"with {command} where the tier's file can be written (not from a dashboard "
        "others sign in to)"
    )
    st.warning(
        f"Tier '{tier.name}' has no admin: an older groove or another program wrote it, "
        f"and opening it gives nobody a role. Its curator claims it {how}; the claim is "
        "recorded in the audit log."
    )
    if may_claim and st.button(
        "Become its first admin", key=f"claim_{tier.name}", icon=":material/admin_panel_settings:"
    ):
        try:
            tier.access.bootstrap(me)
        except GrooveError as err:
            st.error(f"Not claimed: {escape(err)}")
        else:
            flash("success", f"{me.id} is now admin in '{tier.name}'.")
            st.rerun()


__all__ = ["access_section"]
