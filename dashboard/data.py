"""The reads pages show, cached per data version.

Rows (a page of a listing, search results, with their usage stats) are cached per data
version of each tier read (:func:`versions`): the sequence number of its audit log's head
(:attr:`groove_core.tiers.Tier.data_version`), which every write through groove advances,
in any process. Counts and facets, the costly reads of a whole index, are cached per
learnings version (:func:`learnings_versions`,
:meth:`groove_core.tiers.Tier.learnings_version`), which outcomes, attribution and the
other writes that leave the learning rows alone do not advance. A page reads the versions
(a key lookup or two per tier) on every run; while nobody writes, a view is answered from
Streamlit's cache (``st.cache_data``, shared by every session of the server), and the
first run after a write reads again only what that write can have changed. Writes by
programs that keep no audit log (vibes-groove) show when an entry expires (:data:`TTL`).

The public functions take the tier names; the cached ones underneath take the
``(name, version)`` pairs as their key, and the process's :class:`Groove` as ``_g``
(not hashed; ``home``, its folder, is part of the key so two homes never share an entry).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import streamlit as st

from groove_core.model.learning import Learning, LearningCategory
from groove_core.model.scope import Scope
from groove_core.model.usage import UsageStats
from groove_core.store.listing import DEFAULT_SORT, LearningFilter
from groove_core.store.modes import DEFAULT_MODE
from groove_core.store.scanning import ScanMark
from groove_core.store.search import SearchHit
from groove_core.tiers import Groove, sum_facets

if TYPE_CHECKING:  # the Ablation page's imports (scipy, pandas) stay out of the others'
    import pandas as pd

    from groove_core.analysis.evidence import ExperimentAnalysis
    from groove_core.model.attribution import LearningValue

#: Seconds a cached read is kept at most (bounds how stale unaudited writes can look).
TTL = 300
#: Most entries kept per cached read.
ENTRIES = 64

Version = tuple[tuple[str, int], ...]
#: The facet column of each filter, in the order (scope, category, source).
_COLUMNS = ("scope", "category", "source_type")


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


# ---------------------------------------------------------------- versions
def versions(g: Groove, names: list[str]) -> Version:
    """``((name, data version), ...)`` of the tiers ``names``."""
    return tuple((n, g.tier(n, create=False).data_version) for n in names)


_KNOWN: dict[tuple[str, str], tuple[int, int]] = {}  # (home, tier) -> (head, learnings v.)
_KNOWN_LOCK = threading.Lock()


def learnings_versions(g: Groove, names: list[str]) -> Version:
    """``((name, learnings version), ...)`` of the tiers ``names``. The versions last
    seen in this server are remembered, so only the audit entries written since are
    read."""
    out = []
    for name in names:
        key = (str(g.home), name)
        with _KNOWN_LOCK:
            known = _KNOWN.get(key)
        seen = g.tier(name, create=False).learnings_version(known)
        with _KNOWN_LOCK:
            _KNOWN[key] = seen
        out.append((name, seen[1]))
    return tuple(out)


# ---------------------------------------------------------------- counts and facets
def _filter(
    scope: str | None, category: str | None, source: str | None, flagged: bool = False
) -> LearningFilter:
    return LearningFilter(
        scope=scope or None,
        category=category or None,
        source_type=source or None,
        flagged=bool(flagged),
    )


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _tier_facets(_g: Groove, home: str, name: str, version: int) -> dict[str, dict[str, int]]:
    return _g.facets_by_tier([name], derived=True)[name]


def tier_facets(g: Groove, name: str) -> dict[str, dict[str, int]]:
    """Counts of tier ``name``'s learnings by category, scope and source type."""
    ((_, version),) = learnings_versions(g, [name])
    return _tier_facets(g, str(g.home), name, version)


def facets(g: Groove, names: list[str]) -> dict[str, dict[str, int]]:
    """:func:`tier_facets` summed over the tiers ``names``."""
    return sum_facets(tier_facets(g, n) for n in names)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _count(_g: Groove, home: str, version: Version, flt: tuple) -> int:
    return _g.count([n for n, _ in version], _filter(*flt), derived=True)


def count(
    g: Groove,
    names: list[str],
    *,
    scope: str | None = None,
    category: str | None = None,
    source: str | None = None,
    flagged: bool = False,
) -> int:
    """Learnings of the tiers ``names`` matching the filters (``flagged``: only those the
    content scan flagged): from the facets when at most one of scope, category and source
    is set and not ``flagged``, else counted.

    Raises: ValidationError (a bad filter value).
    """
    flt = (scope, category, source, flagged)
    _filter(*flt).body("*learning{id, scope, category, source_type}")  # checks the values
    normal = (
        Scope.parse(scope).to_db() if scope else None,
        LearningCategory.parse(category).value if category else None,
        source,
    )
    chosen = [(col, value) for col, value in zip(_COLUMNS, normal, strict=True) if value]
    if len(chosen) > 1 or flagged:
        return _count(g, str(g.home), learnings_versions(g, names), flt)
    counts = facets(g, names)
    if not chosen:
        return sum(counts["category"].values())
    col, value = chosen[0]
    return counts[col].get(value, 0)


# ---------------------------------------------------------------- rows
def _rows(g: Groove, items: list[Learning], hits=None) -> Rows:
    """``items`` with the usage stats and scan marks of each, read per tier in one query."""
    usage, marks = {}, {}
    for name in dict.fromkeys(lr.tier for lr in items):
        ids = [lr.id for lr in items if lr.tier == name]
        store = g.tier(name, create=False).learnings
        usage.update(store.usage_many(ids))
        marks.update(store.scan_marks(ids))
    return Rows(tuple(items), len(items), None if hits is None else tuple(hits), usage, marks)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _listing(
    _g: Groove, home: str, version: Version, flt: tuple, sort: str, limit: int, offset: int
) -> Rows:
    names = [n for n, _ in version]
    page = _g.page(names, _filter(*flt), sort=sort, limit=limit, offset=offset, derived=True)
    return _rows(_g, page)


def listing(
    g: Groove,
    names: list[str],
    *,
    scope: str | None = None,
    category: str | None = None,
    source: str | None = None,
    flagged: bool = False,
    sort: str = DEFAULT_SORT,
    limit: int = 50,
    offset: int = 0,
) -> Rows:
    """One page of the learnings of the tiers ``names`` matching the filters (``flagged``
    as for :func:`count`), sorted by
    ``sort`` (:meth:`Groove.page`), with the number of matching rows as ``total``
    (:func:`count`); a page past the end has no rows.

    Raises: ValidationError (a bad filter value, sort or window).
    """
    flt = (scope, category, source, flagged)
    rows = _listing(g, str(g.home), versions(g, names), flt, sort, int(limit), int(offset))
    total = count(g, names, scope=scope, category=category, source=source, flagged=flagged)
    return replace(rows, total=total)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _search(_g: Groove, home: str, version: Version, text: str, mode: str, limit: int, flt: tuple):
    names = [n for n, _ in version]
    hits = _g.search(text, mode=mode, limit=limit, tiers=names, flt=_filter(*flt))
    return _rows(_g, [h.learning for h in hits], hits)


#: How many results a search shows at most (best first; no pager).
SEARCH_LIMIT = 50


def search(
    g: Groove,
    names: list[str],
    text: str,
    *,
    mode: str = DEFAULT_MODE,
    limit: int = SEARCH_LIMIT,
    scope: str | None = None,
    category: str | None = None,
    source: str | None = None,
    flagged: bool = False,
) -> Rows:
    """The best ``limit`` learnings for ``text`` in the tiers ``names``
    (:meth:`Groove.search`) matching the filters (``flagged`` as for :func:`count`), best
    first, with their scores.

    Raises: ValidationError (a bad mode or filter value), EmbeddingError.
    """
    version = versions(g, names)
    flt = (scope, category, source, flagged)
    return _search(g, str(g.home), version, text, mode, int(limit), flt)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _unembedded(_g: Groove, home: str, name: str, version: int) -> int:
    return _g.tier(name, create=False).search.count_unembedded()


def unembedded(g: Groove, name: str) -> int:
    """Learnings of tier ``name`` that have no embedding (semantic search misses them)."""
    ((_, version),) = learnings_versions(g, [name])
    return _unembedded(g, str(g.home), name, version)


@dataclass(frozen=True)
class Ablation:
    """What the Ablation page shows of one tier under one set of analysis settings: the
    ``analyses`` of its experiments (:func:`groove_core.experiments.analyze_experiments`,
    nothing recorded), ``tested`` of ``total`` learnings with an experiment, the values of
    the ``deprecated`` learnings by id and the deprecation ``candidates``
    (:func:`groove_core.experiments.deprecation_candidates`)."""

    analyses: tuple[ExperimentAnalysis, ...]
    tested: int
    total: int
    deprecated: dict[str, LearningValue]
    candidates: pd.DataFrame


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _ablation(
    _g: Groove, home: str, name: str, version: int, min_sessions: int, target: float
) -> Ablation:
    from groove_core.experiments import analyze_experiments, deprecation_candidates

    store = _g.tier(name, create=False).attribution
    done = analyze_experiments(
        store, save=False, min_sessions_per_arm=min_sessions, target_effect=target
    )
    deprecated = store.deprecated_values()
    return Ablation(
        tuple(done),
        *store.coverage(),
        deprecated,
        deprecation_candidates(store, done, deprecated),
    )


def ablation(g: Groove, name: str, min_sessions: int, target: float) -> Ablation:
    """:class:`Ablation` of tier ``name`` (about 1 s at 100,000 learnings; cached per data
    version, so a click on the page that writes nothing reads nothing).

    Raises: ValidationError (a setting out of range), DatabaseError.
    """
    ((_, version),) = versions(g, [name])
    return _ablation(g, str(g.home), name, version, int(min_sessions), float(target))


__all__ = [
    "ENTRIES",
    "TTL",
    "Ablation",
    "Rows",
    "Version",
    "ablation",
    "count",
    "facets",
    "learnings_versions",
    "listing",
    "search",
    "tier_facets",
    "unembedded",
    "versions",
]
