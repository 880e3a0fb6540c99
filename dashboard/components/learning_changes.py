"""Changes to learnings made on the Learnings page, routed through groove_core's
:class:`~groove_core.tiers.Groove` (``create``, ``edit``, ``delete``, ``promote``) so that
a contributor's change to an enterprise tier is filed as a proposal for review instead of
written; the page then says so. Every change is made as :func:`dashboard.state.principal`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.components import learning_views as lv
from groove_core.errors import GrooveError
from groove_core.model.access import Principal
from groove_core.model.learning import Learning, LearningCategory, LearningContent, LearningSource
from groove_core.model.scope import Scope
from groove_core.tiers import Groove, Submission

CATEGORIES = [c.value for c in LearningCategory]


def announce(sub: Submission, done: str) -> None:
    """Queue the message of a submission: ``done`` when it was applied, else which
    proposal was filed for review."""
    if sub.proposal is not None:
        lv.flash(
            "info",
            f"Filed proposal {sub.proposal.id} in tier '{sub.tier}' for review: a curator "
            "approves it on the Review queue page before it takes effect.",
        )
    else:
        lv.flash("success", done)


def new_learning_button(
    g: Groove, tiers: list[str], actor: Principal, on_done: Callable[[Submission], None]
) -> None:
    """A "New learning" button that opens a dialog with :func:`new_learning_form`."""
    ss = st.session_state
    st.button(
        "New learning",
        key="new_learning",
        icon=":material/add:",
        on_click=lambda: ss.update(new_learning_open=True),
    )
    if ss.get("new_learning_open"):
        st.dialog("New learning", on_dismiss=lambda: ss.pop("new_learning_open", None))(
            new_learning_form
        )(g, tiers, actor, on_done)


def new_learning_form(
    g: Groove, tiers: list[str], actor: Principal, on_done: Callable[[Submission], None]
) -> None:
    """A form that adds a learning to a tier (or files it as a proposal there)."""
    ss = st.session_state
    with st.form("new_learning_form", border=False):
        c1, c2 = st.columns(2)
        tier = c1.selectbox("Tier", tiers, key="nl_tier")
        cat = c2.selectbox(
            "Category", CATEGORIES, key="nl_cat", format_func=lambda c: c.replace("_", " ")
        )
        desc = st.text_input("Description", key="nl_desc", max_chars=100_000)
        insight = st.text_area("Insight", key="nl_ins", height=100)
        c3, c4 = st.columns(2)
        scope = c3.text_input(
            "Scope", key="nl_scope", placeholder="blank: the tier's own scope", help=_SCOPE_HELP
        )
        reason = c4.text_input(
            "Reason", key="nl_reason", help="Why: a curator reads it when this is a proposal"
        )
        override = st.text_input(
            "Scan override reason (curators)",
            key="nl_override",
            help="Only when the content scan flags this learning and you accept it anyway",
        )
        go = st.form_submit_button("Add learning", type="primary", icon=":material/add:")
    if not go:
        return
    try:
        t = g.tier(tier)
        lr = Learning.new(
            Scope.parse(scope.strip()) if scope.strip() else t.default_scope(),
            cat,
            LearningContent(desc.strip(), insight),
            LearningSource.user_created(),
        )
        sub = g.create(tier, lr, reason=reason, actor=actor, override_reason=override or None)
    except GrooveError as err:
        st.error(f"Not added: {err}")
        return
    announce(sub, f"Added “{lv.short(lr.description, 60)}” to tier '{sub.tier}'.")
    for k in ("new_learning_open", "nl_desc", "nl_ins", "nl_scope", "nl_reason", "nl_override"):
        ss.pop(k, None)
    on_done(sub)
    st.rerun()


def promote_form(g: Groove, lr: Learning, tiers: list[str], actor: Principal) -> None:
    """Promote ``lr`` to another tier as a new learning (into an enterprise tier: a
    proposal for review)."""
    targets = [t for t in tiers if t != lr.tier]
    if not targets:
        st.caption("No other tier is open to promote this learning to.")
        return
    with st.form(f"promote_{lr.id}", border=False):
        target = st.selectbox("Promote to tier", targets, key=f"pr_tier_{lr.id}")
        reason = st.text_input(
            "Reason", key=f"pr_reason_{lr.id}", help="Recorded with the proposal a curator reads"
        )
        go = st.form_submit_button("Promote", icon=":material/upgrade:")
    if not go:
        return
    try:
        sub = g.promote(lr.id, target, reason=reason, actor=actor)
    except GrooveError as err:
        st.error(f"Not promoted: {err}")
        return
    announce(sub, f"Promoted “{lv.short(lr.description, 60)}” to tier '{sub.tier}'.")
    st.rerun()


_SCOPE_HELP = "global, user:<id>, project:<path> or enterprise:<org>"

__all__ = [
    "announce",
    "new_learning_button",
    "new_learning_form",
    "promote_form",
]
