"""The Learnings page's detail panel: which learning is selected (``?id=`` in the
address, set by ticking its row), and its content, edit form, Beta confidence, relations,
history and promotion in tabs. A selection that no longer resolves shows a message and
nothing to act on: never another learning's panel."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard.components import learning_changes as changes
from dashboard.components import learning_views as lv
from dashboard.components import scan_views as sv
from dashboard.components.text import escape, label, short, when, words
from dashboard.data import Rows
from dashboard.state import report
from groove_core.analysis.posterior import density, summarize
from groove_core.errors import GrooveError
from groove_core.model.access import Principal
from groove_core.model.learning import Learning
from groove_core.model.serde import check_uuid
from groove_core.model.usage import UsageStats
from groove_core.tiers import Groove

#: Session key of the detail panel's open tab.
TAB = "detail_tab"


def selected(g: Groove, rows: Rows, tiers: Sequence[str]) -> Learning | None:
    """The learning the address names (``?id=``), looked up in the rows shown, then in
    the view's ``tiers`` (a simulation tier when picked) and then in every open real
    tier. Without ``?id=``, nothing, in a listing and in a search alike: a panel that
    followed the rows shown would change with every page turned or search made, and
    costs the browser 0.1-0.2 s each time at 100,000 learnings (the best match is the
    table's first row). None, with a message, when the address names no learning that
    exists."""
    wanted = st.query_params.get("id")
    if not wanted:
        return None
    try:
        wanted = check_uuid(wanted)
    except GrooveError:
        st.warning(f"'{label(wanted, 60)}' in the address is not a learning id.")
        return None
    shown = next((lr for lr in rows.items if lr.id == wanted), None)
    try:
        found = shown or g.get(wanted, list(tiers)) or g.get(wanted)
    except GrooveError as err:
        report(err)
        return None
    if found is None:
        st.info(
            f"Learning {wanted} is not in any open tier (deleted, or in a tier this "
            "dashboard cannot open). Nothing is selected."
        )
    return found


def panel(g: Groove, lr: Learning, rows: Rows, names: list[str], actor: Principal) -> None:
    """The detail of ``lr`` in tabs; its usage and scan mark come from ``rows`` when it
    is one of them, else are read from its tier."""
    store = g.tier(lr.tier, create=False).learnings
    try:
        mark = rows.marks.get(lr.id) or store.scan_marks([lr.id]).get(lr.id)
        stats = rows.usage.get(lr.id) or store.usage(lr.id)
    except GrooveError as err:
        report(err)
        return
    st.subheader(label(lr.description, 120))
    st.caption(
        f"`{lr.id}` · tier **{escape(lr.tier)}** · {words(lr.category.value)}"
        f" · scope {escape(lr.scope.to_db())}" + (f" · **{sv.BADGE}**" if mark else "")
    )
    tabs = {
        "Content": lambda: _content(lr, mark),
        "Edit": lambda: changes.edit_form(g, lr, actor),
        "Confidence": lambda: _confidence(lr, stats),
        "Relations": lambda: lv.relation_links(store.related(lr.id), _show, key=f"rel_{lr.id}"),
        "History": lambda: lv.history_entries(store.history(lr.id)),
        "Promote": lambda: changes.promote_form(g, lr, names, actor),
    }
    # Only the open tab is drawn (and read): a click on another tab reruns this fragment
    # and draws that one. The labels never change (counts are in the tabs), or Streamlit
    # would take the tabs for new ones and reopen the first.
    for tab, draw in zip(
        st.tabs(list(tabs), key=TAB, on_change="rerun"), tabs.values(), strict=True
    ):
        if tab.open:
            with tab:
                try:
                    draw()
                except GrooveError as err:
                    report(err)


def _content(lr: Learning, mark) -> None:
    if short(lr.description, 120) != lr.description:
        st.markdown("**Description**")
        st.text(lr.description)
    st.markdown("**Insight**")
    st.text(lr.insight or "(none)")
    st.markdown(f"**Source:** {escape(lr.source.describe())}")
    st.caption(f"Created {when(lr.created_at)} · updated {when(lr.updated_at)}")
    if lr.content.pattern is not None:
        with st.expander("Pattern"):
            st.json(lr.content.pattern)
    sv.scan_mark(mark, key=f"scan_{lr.id}")


def _confidence(lr: Learning, stats: UsageStats) -> None:
    """The Beta posterior of the learning's usage stats: its mean (the confidence every
    table shows, :meth:`UsageStats.confidence`), interval, density and the counts."""
    post = summarize(stats.confidence_alpha, stats.confidence_beta)
    st.metric(
        "Confidence (posterior mean)",
        f"{stats.confidence():.2f}",
        help="Mean of the Beta posterior over the chance this learning helps when "
        "injected: the number every table shows.",
    )
    st.caption(
        f"95% equal-tailed credible interval {post.ci_low:.2f}–{post.ci_high:.2f} · "
        f"Beta(α={stats.confidence_alpha:g}, β={stats.confidence_beta:g})"
    )
    st.plotly_chart(
        lv.confidence_chart(
            density(stats.confidence_alpha, stats.confidence_beta),
            stats.confidence(),
            post.ci_low,
            post.ci_high,
        ),
        key=f"post_{lr.id}",
        config={"displayModeBar": False},
    )
    lv.usage_metrics(stats)


def _show(learning_id: str) -> None:
    st.query_params["id"] = learning_id


__all__ = ["TAB", "panel", "selected"]
