"""The reads pages show, cached per data version.

Every cached read takes ``version``: ``((tier name, data version), ...)`` of the tiers it
reads (:func:`versions`), where a tier's data version is the sequence number of its audit
log's head (:attr:`groove_core.tiers.Tier.data_version`), which every write through groove
advances, in any process. A page reads the versions (one key lookup per tier) on every
run; while nobody writes, the same view is answered from Streamlit's cache
(``st.cache_data``, shared by every session of the server), and the first run after a
write reads the tiers again. Writes by programs that keep no audit log (vibes-groove) are
picked up when the entry expires (:data:`TTL`).

The ``_g`` argument (the process's :class:`~groove_core.tiers.Groove`) is not part of the
cache key; ``home`` (its folder) is, so two homes never share an entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from groove_core.model.learning import Learning
from groove_core.model.usage import UsageStats
from groove_core.store.learnings import LearningFilter, ScanMark
from groove_core.store.search import SearchHit
from groove_core.tiers import Groove, sum_facets

#: Seconds a cached read is kept at most (bounds how stale unaudited writes can look).
TTL = 300
#: Most entries kept per cached read.
ENTRIES = 64

Version = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Rows:
    """The learnings of one view (a page of a listing, or search results) with what the
    table shows of each: ``total`` rows in the whole view, ``hits`` (search results
    with their scores, else None), ``usage`` stats and content-scan ``marks`` by id."""

    items: tuple[Learning, ...] = ()
    total: int = 0
    hits: tuple[SearchHit, ...] | None = None
    usage: dict[str, UsageStats] = field(default_factory=dict)
    marks: dict[str, ScanMark] = field(default_factory=dict)

    def stats(self, learning_id: str) -> UsageStats:
        """The usage stats of a row (the prior's defaults when it has none stored)."""
        return self.usage.get(learning_id, UsageStats())


def versions(g: Groove, names: list[str]) -> Version:
    """``((name, data version), ...)`` of the tiers ``names``: the key of cached reads."""
    return tuple((n, g.tier(n, create=False).data_version) for n in names)


def _filter(scope: str | None, category: str | None, source: str | None) -> LearningFilter:
    return LearningFilter(
        scope=scope or None, category=category or None, source_type=source or None
    )


def _rows(g: Groove, items: list[Learning], total: int, hits=None) -> Rows:
    """``items`` with the usage stats and scan marks of each, read per tier in one query."""
    usage, marks = {}, {}
    for name in dict.fromkeys(lr.tier for lr in items):
        ids = [lr.id for lr in items if lr.tier == name]
        store = g.tier(name, create=False).learnings
        usage.update(store.usage_many(ids))
        marks.update(store.scan_marks(ids))
    return Rows(tuple(items), total, None if hits is None else tuple(hits), usage, marks)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def tier_facets(_g: Groove, home: str, name: str, version: int) -> dict[str, dict[str, int]]:
    """Counts by category, scope and source type of tier ``name`` at ``version``."""
    return _g.tier(name, create=False).learnings.facets()


def facets(g: Groove, version: Version) -> dict[str, dict[str, int]]:
    """:func:`tier_facets` summed over the tiers of ``version``."""
    return sum_facets(tier_facets(g, str(g.home), n, v) for n, v in version)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def listing(
    _g: Groove,
    home: str,
    version: Version,
    *,
    scope: str | None = None,
    category: str | None = None,
    source: str | None = None,
    sort: str = "recency",
    limit: int = 50,
    offset: int = 0,
) -> Rows:
    """One page of the learnings of the tiers of ``version`` matching the filters, sorted
    by ``sort`` (:meth:`Groove.list`); a page past the end gives no rows.

    Raises: ValidationError (a bad filter value or sort).
    """
    page = _g.list(
        [n for n, _ in version],
        _filter(scope, category, source),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return _rows(_g, page.items, page.total)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def search(
    _g: Groove,
    home: str,
    version: Version,
    text: str,
    *,
    mode: str = "hybrid",
    limit: int = 50,
    scope: str | None = None,
    category: str | None = None,
    source: str | None = None,
) -> Rows:
    """The best ``limit`` learnings for ``text`` in the tiers of ``version``
    (:meth:`Groove.search`), best first, with their scores.

    Raises: ValidationError (a bad mode or filter value), EmbeddingError.
    """
    hits = _g.search(
        text,
        mode=mode,
        limit=limit,
        tiers=[n for n, _ in version],
        flt=_filter(scope, category, source),
    )
    return _rows(_g, [h.learning for h in hits], len(hits), hits)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def unembedded(_g: Groove, home: str, name: str, version: int) -> int:
    """Learnings of tier ``name`` that have no embedding (semantic search misses them)."""
    return _g.tier(name, create=False).learnings.count_unembedded()


__all__ = [
    "ENTRIES",
    "TTL",
    "Rows",
    "Version",
    "facets",
    "listing",
    "search",
    "tier_facets",
    "unembedded",
    "versions",
]
