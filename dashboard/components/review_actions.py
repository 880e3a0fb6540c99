"""What people do with a proposal on the Review queue page: a curator approves (with an
override reason when the content scan flagged it), rejects or requests changes; the
author withdraws or revises. Every form and button is keyed by the proposal's id, names
that proposal in its result, and shows groove_core's refusal as a message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from dashboard.components.messages import flash
from dashboard.components.text import escape, words
from groove_core.errors import GrooveError
from groove_core.model.access import Principal, Role
from groove_core.model.learning import Learning, LearningCategory, LearningContent
from groove_core.model.proposal import Proposal, ProposalKind
from groove_core.model.scope import Scope
from groove_core.model.serde import now
from groove_core.tiers import Tier

CATEGORIES = [c.value for c in LearningCategory]
#: Shown instead of live decision buttons on a curator's own proposal.
OWN = "You filed this proposal, and nobody approves their own proposal: another curator decides it."


def _act(p: Proposal, verb: str, fn: Callable[[], object], done: str) -> None:
    """Run ``fn``; on success queue ``done`` and rerun, on refusal show why."""
    try:
        fn()
    except GrooveError as err:
        st.error(f"Proposal {p.id} was not {verb}: {escape(err)}")
        return
    flash("success", done)
    st.rerun()


def decision_forms(tier: Tier, p: Proposal, me: Principal, role: Role | None) -> None:
    """Approve / Reject / Request changes for curators and admins (disabled on their own
    proposal); a line saying who decides for everyone else."""
    if role is None or role < Role.curator:
        st.caption(
            f"Curators of tier '{tier.name}' decide proposals; your role here is "
            f"{role.name if role else 'none'}."
        )
        return
    own = me.id == p.author
    if own:
        st.info(OWN)
    # The revision this page showed before the click that reran it: an author's revision
    # in between is refused by approve, never applied unread.
    seen_key = f"seen_revision_{p.id}"
    seen = st.session_state.get(seen_key, p.revision)
    st.session_state[seen_key] = p.revision
    approve, reject, changes = st.columns(3, gap="medium")
    with approve, st.form(f"approve_{p.id}"):
        st.markdown("**Approve**")
        note = st.text_input("Note (optional)", key=f"ap_note_{p.id}", disabled=own)
        override = None
        if p.findings:
            override = st.text_area(
                "Override reason (required: the content scan flagged this)",
                key=f"ap_override_{p.id}",
                disabled=own,
            )
        go_approve = st.form_submit_button("Approve", type="primary", disabled=own)
    with reject, st.form(f"reject_{p.id}"):
        st.markdown("**Reject**")
        reason = st.text_area("Reason (required)", key=f"rj_reason_{p.id}", disabled=own)
        go_reject = st.form_submit_button("Reject", disabled=own)
    with changes, st.form(f"changes_{p.id}"):
        st.markdown("**Request changes**")
        ask = st.text_area("What should change (required)", key=f"rc_note_{p.id}", disabled=own)
        go_changes = st.form_submit_button("Request changes", disabled=own)
    store = tier.proposals
    if go_approve:
        _act(
            p,
            "approved",
            lambda: store.approve(
                p.id, revision=seen, note=note, override_reason=override, actor=me
            ),
            f"Approved proposal {p.id} by {p.author}: it is applied to tier '{tier.name}'.",
        )
    if go_reject:
        _act(
            p,
            "rejected",
            lambda: store.reject(p.id, reason, actor=me),
            f"Rejected proposal {p.id} by {p.author}.",
        )
    if go_changes:
        _act(
            p,
            "sent back",
            lambda: store.request_changes(p.id, ask, actor=me),
            f"Asked {p.author} to revise proposal {p.id}.",
        )


def author_actions(tier: Tier, p: Proposal, me: Principal) -> None:
    """Withdraw, and Revise what a single-learning proposal would write (author only)."""
    if me.id != p.author:
        return
    st.markdown("**Your proposal**")
    if st.button("Withdraw", key=f"withdraw_{p.id}", icon=":material/undo:"):
        _act(
            p,
            "withdrawn",
            lambda: tier.proposals.withdraw(p.id, actor=me),
            f"Withdrew proposal {p.id}.",
        )
    if p.kind == ProposalKind.delete or len(p.after) != 1:
        return
    old = Learning.from_json(p.after[0])
    with st.form(f"revise_{p.id}"):
        st.markdown("**Revise**")
        desc = st.text_input("Description", old.description, key=f"rv_desc_{p.id}")
        insight = st.text_area("Insight", old.insight, key=f"rv_ins_{p.id}")
        cat = st.selectbox(
            "Category",
            CATEGORIES,
            index=CATEGORIES.index(old.category.value),
            key=f"rv_cat_{p.id}",
            format_func=words,
        )
        scope = st.text_input("Scope", old.scope.to_db(), key=f"rv_scope_{p.id}")
        reason = st.text_input("Reason", p.reason, key=f"rv_reason_{p.id}")
        go = st.form_submit_button("Revise proposal")
    if go:

        def revise() -> None:
            new = replace(
                old,
                content=LearningContent(desc.strip(), insight, old.content.pattern),
                category=LearningCategory.parse(cat),
                scope=Scope.parse(scope.strip()),
                updated_at=now(),
            )
            tier.proposals.revise(p.id, [new], reason=reason, actor=me)

        _act(p, "revised", revise, f"Revised proposal {p.id}: it waits for review again.")


__all__ = ["OWN", "author_actions", "decision_forms"]
