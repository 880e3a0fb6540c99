"""Changes to learnings made on the Learnings page, routed through groove_core's
:class:`~groove_core.tiers.Groove` (``create``, ``edit``, ``delete_many``,
``recategorize_many``, ``restore_many``, ``promote``) so that a contributor's change to an
enterprise tier is filed as a proposal for review instead of written; the page then says
so. Every change is made as :func:`dashboard.state.principal`.

Every change names the learnings it acts on by id, never by a row's position: the edit
form is keyed by the learning's id and version and passes the learning as shown
(``expect=``), so an edit of a learning someone changed meanwhile fails instead of
overwriting; the confirmation of a bulk change lists what it will change and acts only on
learnings that still exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from dashboard.components.messages import flash
from dashboard.components.text import escape, label, words
from groove_core.errors import GrooveError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning, LearningCategory, LearningContent, LearningSource
from groove_core.model.scope import Scope
from groove_core.tiers import Groove, Submission

CATEGORIES = [c.value for c in LearningCategory]


def announce(sub: Submission, done: str) -> None:
    """Queue the message of a submission: ``done`` when it was applied, else which
    proposal was filed for review."""
    if sub.proposal is not None:
        flash(
            "info",
            f"Filed proposal {sub.proposal.id} in tier '{sub.tier}' for review: a curator "
            "approves it on the Review queue page before it takes effect.",
        )
    else:
        flash("success", done)


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
        cat = c2.selectbox("Category", CATEGORIES, key="nl_cat", format_func=words)
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
        st.error(f"Not added: {escape(err)}")
        return
    announce(sub, f"Added “{label(lr.description, 60)}” to tier '{sub.tier}'.")
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
        st.error(f"Not promoted: {escape(err)}")
        return
    announce(sub, f"Promoted “{label(lr.description, 60)}” to tier '{sub.tier}'.")
    st.rerun()


_FIELDS = ("e_desc", "e_ins", "e_cat", "e_scope")


def edit_form(g: Groove, lr: Learning, actor: Principal) -> None:
    """Edit ``lr`` in its tier. The form is keyed by the learning's id and starts from the
    version it showed first (kept while the form is open); saving passes that version as
    ``expect``, so when someone else changed the learning since, the save is refused and
    the form starts again from the current version, instead of overwriting their change."""
    ss = st.session_state
    keys = {f: f"{f}_{lr.id}" for f in _FIELDS}
    base_key = f"e_base_{lr.id}"
    if ss.get("edit_restart") == lr.id:  # saved, or refused as stale: start again
        _restart(ss.pop("edit_restart"))
    if keys["e_desc"] not in ss or base_key not in ss:  # drawn afresh: start from lr
        ss[base_key] = lr
    base: Learning = ss[base_key]
    st.caption(f"Editing learning `{lr.id}` in tier **{escape(lr.tier)}**.")
    if base.to_json() != lr.to_json():
        st.warning(
            "Someone changed this learning since this form was opened: saving it would be "
            "refused. Start again from the current version to edit it.",
            icon=":material/sync_problem:",
        )
        st.button("Start again", key="edit_reload", on_click=_restart, args=(lr.id,))
    with st.form(f"edit_{lr.id}", border=False):
        desc = st.text_input("Description", base.description, key=keys["e_desc"], max_chars=100_000)
        insight = st.text_area("Insight", base.insight, key=keys["e_ins"], height=140)
        cat = st.selectbox(
            "Category",
            CATEGORIES,
            index=CATEGORIES.index(base.category.value),
            key=keys["e_cat"],
            format_func=words,
        )
        scope = st.text_input("Scope", base.scope.to_db(), key=keys["e_scope"], help=_SCOPE_HELP)
        save = st.form_submit_button("Save changes", type="primary", key=f"save_{lr.id}")
    if save:
        try:
            sub = g.edit(
                lr.tier,
                lr.id,
                description=desc.strip(),
                insight=insight,
                category=cat,
                scope=scope.strip(),
                actor=actor,
                expect=base,
            )
        except GrooveError as err:
            ss["edit_error"] = (lr.id, str(err))
            if base.to_json() != lr.to_json():  # stale: the next form starts from now
                ss["edit_restart"] = lr.id
                st.rerun()
        else:
            ss.pop("edit_error", None)
            saved = sub.learnings[0].description if sub.learnings else lr.description
            announce(sub, f"Saved “{label(saved, 60)}”.")
            ss["edit_restart"] = lr.id
            st.query_params["id"] = lr.id
            st.rerun()
    err = ss.get("edit_error")
    if err and err[0] == lr.id:
        st.error(f"Not saved: {escape(err[1])}")
    st.button(
        "Delete this learning…",
        key="delete_one",
        icon=":material/delete:",
        on_click=ask,
        args=("delete", [lr.id]),
    )


def _restart(learning_id: str) -> None:
    """Forget the edit form of a learning: it is drawn again from the stored version."""
    for f in (*_FIELDS, "e_base"):
        st.session_state.pop(f"{f}_{learning_id}", None)


# ---------------------------------------------------------------- bulk changes
def ask(what: str, ids: Sequence[str], category: str | None = None) -> None:
    """Ask for confirmation of deleting (``what="delete"``) or re-categorising
    (``"recategorize"`` to ``category``) the learnings ``ids``: :func:`confirmation`
    opens the dialog on the next run."""
    st.session_state["ask"] = {"what": what, "ids": list(ids), "category": category}


def confirmation(g: Groove, tiers: Sequence[str], actor: Principal) -> None:
    """The dialog of a pending :func:`ask`, if any: it names the learnings (those that
    no longer exist in ``tiers`` are said to be gone and left alone) and acts on Yes."""
    pending = st.session_state.get("ask")
    if not pending:
        return
    noun = "learning" if len(pending["ids"]) == 1 else "learnings"
    verb = "Delete" if pending["what"] == "delete" else "Re-categorise"
    st.dialog(f"{verb} {noun}?", on_dismiss=_forget)(_confirm)(g, list(tiers), actor, pending)


def _forget() -> None:
    st.session_state.pop("ask", None)


def _confirm(g: Groove, tiers: list[str], actor: Principal, pending: dict) -> None:
    ss = st.session_state
    found = {lr.id: lr for lr in g.get_many(pending["ids"], tiers)}
    todo = [i for i in pending["ids"] if i in found]
    gone = len(pending["ids"]) - len(todo)
    n = len(todo)
    noun = f"{n} learning{'s' if n != 1 else ''}"
    deleting = pending["what"] == "delete"
    if deleting:
        st.write(f"Delete {noun}? You can undo this right after.")
    else:
        st.write(f"Set the category of {noun} to **{words(pending['category'])}**?")
    for i in todo[:8]:
        st.caption(f"• {label(found[i].description, 80)} (tier {escape(found[i].tier)})")
    if n > 8:
        st.caption(f"… and {n - 8} more")
    if gone:
        st.warning(f"{gone} of the chosen learnings no longer exist; they are left alone.")
    c1, c2 = st.columns(2)
    if c1.button(
        "Yes, delete" if deleting else "Yes, re-categorise",
        key="confirm_yes",
        type="primary",
        disabled=not todo,
    ):
        try:
            where = g.by_tier(todo, tiers)
            if deleting:
                subs = g.delete_many(todo, tiers=tiers, actor=actor)
            else:
                subs = g.recategorize_many(todo, pending["category"], tiers=tiers, actor=actor)
        except GrooveError as err:
            flash("error", escape(err))
        else:
            for sub in subs:
                if sub.proposal is not None:
                    announce(sub, "")
            done = sum(s.count for s in subs if s.applied)
            if deleting:
                ss["undo"] = {s.tier: where[s.tier] for s in subs if s.applied and s.count}
                if st.query_params.get("id") in todo:
                    st.query_params.pop("id", None)
            elif done:
                flash(
                    "success",
                    f"Re-categorised {done} learning{'s' if done != 1 else ''}"
                    f" as {words(pending['category'])}.",
                )
        ss["table_version"] = ss.get("table_version", 0) + 1
        _forget()
        st.rerun()
    if c2.button("Cancel", key="confirm_no"):
        _forget()
        st.rerun()


def delete_unreadable(g: Groove, tier: str, ids: Sequence[str], actor: Principal) -> None:
    """A button that deletes the learnings ``ids`` of ``tier`` whose rows do not follow
    the data contract (:meth:`Groove.unreadable`), after a confirmation that says they
    cannot be restored; shown only to someone who may delete there without review."""
    try:
        if g.tier(tier, create=False).must_propose(Action.learning_delete, actor):
            return
    except GrooveError:
        return
    ss, key = st.session_state, f"unreadable_{tier}"
    noun = f"{len(ids):,} learning{'s' if len(ids) != 1 else ''}"
    if st.button(f"Delete the {noun}…", key=f"{key}_delete", icon=":material/delete:"):
        ss[key] = list(ids)  # exactly those named when asked
    if not ss.get(key):
        return
    ids = ss[key]
    noun = f"{len(ids):,} learning{'s' if len(ids) != 1 else ''}"

    def confirm() -> None:
        st.write(
            f"Delete {noun} of tier {label(tier)}? groove cannot restore them: their rows, "
            "as they were, are kept in the tier's edit history."
        )
        c1, c2 = st.columns(2)
        if c1.button("Yes, delete", key=f"{key}_yes", type="primary"):
            ss.pop(key, None)
            try:
                sub = g.delete(tier, list(ids), actor=actor)
            except GrooveError as err:
                flash("error", escape(err))
            else:
                flash("success", f"Deleted {sub.count:,} of {noun} from tier {label(tier)}.")
            ss["table_version"] = ss.get("table_version", 0) + 1
            st.rerun()
        if c2.button("Cancel", key=f"{key}_no"):
            ss.pop(key, None)
            st.rerun()

    st.dialog(f"Delete {noun} groove cannot read?", on_dismiss=lambda: ss.pop(key, None))(confirm)()


def undo_box(g: Groove, actor: Principal) -> None:
    """After a delete: how many were deleted, with Undo (restores them) and Dismiss."""
    ss = st.session_state
    undo = ss.get("undo")
    if not undo:
        return
    box = st.container(border=True)
    n = sum(len(v) for v in undo.values())
    box.write(f"Deleted {n} learning{'s' if n != 1 else ''}.")

    def restore() -> None:
        restored, errors = g.restore_many(ss.pop("undo", {}), actor=actor)
        for e in errors:
            flash("error", f"Could not restore {escape(e)}")
        ss["table_version"] = ss.get("table_version", 0) + 1
        if restored:
            flash("success", f"Restored {restored} learning{'s' if restored != 1 else ''}.")

    c1, c2 = box.columns([1, 6])
    c1.button("Undo delete", key="undo_btn", on_click=restore, icon=":material/undo:")
    c2.button("Dismiss", key="undo_dismiss", on_click=lambda: ss.pop("undo", None), type="tertiary")


_SCOPE_HELP = "global, user:<id>, project:<path> or enterprise:<org>"

__all__ = [
    "announce",
    "ask",
    "confirmation",
    "delete_unreadable",
    "edit_form",
    "new_learning_button",
    "new_learning_form",
    "promote_form",
    "undo_box",
]
