"""Learnings: filter, search, sort and page through learnings; a detail panel with the
full content, content-scan findings, usage, Beta confidence, relations and edit history;
a new learning, edit, delete (with undo), promote and bulk actions on selected rows, and
downloads of the rows shown. In an enterprise tier a contributor's change is filed as a
proposal for review (and said so).

The whole view is in the address (tier, filters, search, order, page and the selected
learning as ``?id=<uuid>``), so a link reproduces it and relation links select the
learning at their other end. Reads are cached per data version (:mod:`dashboard.data`);
the search bar, the table and the detail panel are one fragment, so a search, a click on
a row or a page number reruns only them, not the sidebar or its facets."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.components import learning_changes as changes
from dashboard.components import learning_detail as detail
from dashboard.components import learning_filters as filters
from dashboard.components import learning_table as table
from dashboard.components.messages import left_out_warning, show_flash
from dashboard.state import groove, principal, report, tier_names
from groove_core.errors import GrooveError

st.title("Learnings")
g = groove()
names = tier_names(g)  # the real tiers: "all tiers" never mixes synthetic data in
show_flash()
chosen = filters.sidebar(g, names)
actor = principal()
changes.undo_box(g, actor)
changes.new_learning_button(g, names, actor, lambda sub: filters.new_view())


def rows_of(v: filters.View) -> data.Rows:
    """The rows of the view (cached per data version); a page past the end of a view
    that shrank goes back to page 1."""
    tiers = list(v.tiers)
    if v.searching:
        return data.search(g, tiers, v.query, mode=v.mode, **v.filters())
    offset = (v.page - 1) * v.size
    rows = data.listing(g, tiers, **v.filters(), sort=v.sort, limit=v.size, offset=offset)
    if not rows.items and offset:
        st.session_state["page"] = 1
        rows = data.listing(g, tiers, **v.filters(), sort=v.sort, limit=v.size)
    return rows


@st.fragment
def rows_and_detail() -> None:
    """The search bar, the table, its pager and actions, and the selected learning's
    panel: a fragment, so a search or a click in it reruns only this part of the page."""
    v = filters.search_bar(chosen)
    try:
        rows = rows_of(v)
    except GrooveError as err:
        report(err)
        rows = data.Rows()
    for tier, found in g.unreadable().items():
        if tier in v.tiers:
            left_out_warning(tier, found)
            changes.delete_unreadable(g, tier, list(found), actor)
    changes.confirmation(g, v.tiers, actor)
    left, right = st.columns([5, 3], gap="small")
    with left:
        table.heading(rows, v)
        if rows.items:
            ticked = table.table(rows, show_tier=len(v.tiers) > 1)
            table.pager(rows, v)
            table.bulk_actions(ticked)
            table.downloads(rows)
    with right:
        lr = detail.selected(g, rows, v.tiers)
        if lr is None:
            st.caption("Tick a row to see that learning's details here.")
        else:
            detail.panel(g, lr, rows, names, actor)


rows_and_detail()
