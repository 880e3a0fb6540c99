"""The Learnings page's view: the tier and the filters in the sidebar, the search and the
order above the table, each bound to the address
(``?tier=&scope=&category=&source=&flagged=&q=&mode=&sort=&size=&page=``, with Streamlit's
``bind="query-params"``; ``?tier=`` by :func:`dashboard.state.pick_tier`), so a copied
link reproduces the view and the browser's back button returns to the last one; a choice
also survives going to another page and back (``persist_state``)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import data
from dashboard.components.learning_views import MODE_LABELS, SORT_LABELS
from dashboard.components.text import words
from dashboard.state import pick_tier, report, tier_names
from groove_core.errors import GrooveError
from groove_core.model.learning import LearningCategory
from groove_core.store.listing import SORTS
from groove_core.store.modes import DEFAULT_MODE, MODES
from groove_core.tiers import Groove

ALL = "All tiers"
ANY = ""
PAGE_SIZES = (25, 50, 100)
CATEGORIES = [c.value for c in LearningCategory]
#: Session keys (and address parameters) of the view's widgets.
KEYS = ("scope", "category", "source", "flagged", "q", "mode", "sort", "size", "page")
_BOUND = {"bind": "query-params", "persist_state": "session"}


@dataclass(frozen=True)
class Filters:
    """What the sidebar chooses: the ``tiers`` shown and the filters (None: any;
    ``flagged``: only learnings the content scan flagged)."""

    tiers: tuple[str, ...]
    scope: str | None
    category: str | None
    source: str | None
    flagged: bool

    @property
    def filtered(self) -> bool:
        return any((self.scope, self.category, self.source, self.flagged))

    def filters(self) -> dict[str, str | bool | None]:
        """The filters as keyword arguments of :mod:`dashboard.data`'s reads."""
        return {
            "scope": self.scope,
            "category": self.category,
            "source": self.source,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class View(Filters):
    """What the Learnings page shows: the :class:`Filters`, the search ``query`` and
    ``mode``, the ``sort``, the page ``size`` and the 1-based ``page``."""

    query: str
    mode: str
    sort: str
    size: int
    page: int

    @property
    def searching(self) -> bool:
        return bool(self.query.strip())


def new_view() -> None:
    """The view changed (tier, filter, search, order): back to page 1, no row selected."""
    ss = st.session_state
    ss["page"] = 1
    ss["table_version"] = ss.get("table_version", 0) + 1
    st.query_params.pop("id", None)


def _any(value: str) -> str:
    return "any" if value == ANY else words(value)


def sidebar(g: Groove, names: list[str]) -> Filters:
    """The tier and the filters in the sidebar; returns the :class:`Filters` they
    choose."""
    with st.sidebar:
        st.header("Filter")
        synthetic = [n for n in tier_names(g, synthetic=True) if n not in names]
        tier = pick_tier(
            g,
            key="learnings_tier",
            before=[ALL],
            names=[*names, *synthetic],
            sidebar=False,
            help="All tiers means the real ones; a simulation tier (synthetic) is shown "
            "only when picked.",
        )
        chosen = tuple(names if tier in (ALL, None) else [tier])
        try:
            facets = data.facets(g, list(chosen))
        except GrooveError as err:
            report(err)
            facets = {"scope": {}, "source_type": {}}
        scope = st.selectbox(
            "Scope",
            [ANY, *sorted(v for v in facets["scope"] if v)],
            key="scope",
            format_func=_any,
            on_change=new_view,
            accept_new_options=True,
            help="global, user:<id>, project:<path> or enterprise:<org>",
            **_BOUND,
        )
        category = st.selectbox(
            "Category",
            [ANY, *CATEGORIES],
            key="category",
            format_func=_any,
            on_change=new_view,
            **_BOUND,
        )
        source = st.selectbox(
            "Source",
            [ANY, *sorted(v for v in facets["source_type"] if v)],
            key="source",
            format_func=_any,
            on_change=new_view,
            **_BOUND,
        )
        flagged = st.toggle(
            "Flagged by the content scan",
            key="flagged",
            on_change=new_view,
            help="Only learnings whose text the scan flagged (a secret, an injection), "
            "also those a curator let in.",
            **_BOUND,
        )
    return Filters(chosen, scope or None, category or None, source or None, flagged)


def search_bar(chosen: Filters) -> View:
    """The search box, the search mode, the order and the page size above the table;
    returns the :class:`View` of ``chosen`` they pick, at the pager's page. Drawn in the
    table's fragment: a new search or order reruns the table, not the sidebar."""
    box, how, order, per_page = st.columns([4, 1.5, 2, 1.2], vertical_alignment="bottom")
    query = box.text_input(
        "Search learnings",
        key="q",
        on_change=new_view,
        placeholder="words or a question; Enter to search",
        **_BOUND,
    )
    mode = how.selectbox(
        "Search mode",
        list(MODES),
        index=MODES.index(DEFAULT_MODE),
        key="mode",
        format_func=MODE_LABELS.get,
        on_change=new_view,
        help="Semantic: by meaning (embeddings). Full-text: by words (BM25). "
        "Hybrid: both, fused by reciprocal rank.",
        **_BOUND,
    )
    sort = order.selectbox(
        "Sort by",
        list(SORTS),
        key="sort",
        format_func=SORT_LABELS.get,
        on_change=new_view,
        disabled=bool(query.strip()),
        help="Search results are ordered by score.",
        **_BOUND,
    )
    size = per_page.selectbox(
        "Rows per page", PAGE_SIZES, index=1, key="size", on_change=new_view, **_BOUND
    )
    return View(**vars(chosen), query=query, mode=mode, sort=sort, size=int(size), page=_page())


def _page() -> int:
    """The page the pager shows: its value, else the address's ``?page=`` (the pager
    is drawn after the rows are read, and takes the same value from the address)."""
    value = st.session_state.get("page") or st.query_params.get("page") or 1
    try:
        return max(1, int(value))
    except ValueError:
        return 1


__all__ = [
    "ALL",
    "ANY",
    "CATEGORIES",
    "KEYS",
    "PAGE_SIZES",
    "Filters",
    "View",
    "new_view",
    "search_bar",
    "sidebar",
]
