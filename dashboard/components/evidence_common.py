"""Shared widgets of the evidence pages (posterior, attribution, ablation, parameters):
tier choice, the synthetic-data banner, a learning picker and number formatting."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import streamlit as st

from dashboard.components.text import MISSING, distinct, short
from dashboard.state import pick_tier, report
from groove_core.analysis.ablation import AblationAnalysis, finite_from_pairs
from groove_core.errors import GrooveError
from groove_core.model.learning import Learning
from groove_core.tiers import Groove, Tier


def fmt(value: float | None, digits: int = 3, *, signed: bool = False) -> str:
    """A number for display: fixed ``digits`` decimals, ``—`` for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_interval(
    low: float | None, high: float | None, digits: int = 3, *, signed: bool = False
) -> str:
    """``[low, high]`` with :func:`fmt`; ``—`` when neither end is known; ``unbounded``
    when an end is infinite (a sequential interval that cannot rule out any value yet)."""
    if any(isinstance(v, float) and math.isinf(v) for v in (low, high)):
        return "unbounded"
    lo, hi = fmt(low, digits, signed=signed), fmt(high, digits, signed=signed)
    return MISSING if lo == hi == MISSING else f"[{lo}, {hi}]"


def fmt_p(value: float | None) -> str:
    """A p-value: 4 decimals, ``< 0.0001`` below that, ``—`` for None/NaN."""
    if value is not None and not math.isnan(value) and value < 1e-4:
        return "< 0.0001"
    return fmt(value, 4)


def label(learning: Learning | None, learning_id: str = "", width: int = 60) -> str:
    """``description (category)`` or the id when the learning is unknown."""
    if learning is None:
        return f"{learning_id[:8]}… (deleted)"
    return f"{short(learning.description, width)} ({learning.category.value})"


def choose_tier(g: Groove, key: str, holds: str | None = None) -> Tier | None:
    """The sidebar tier picker (:func:`dashboard.state.pick_tier`: remembered, in the
    address, opening on the first tier that ``holds`` the page's data); None (with a
    message) when no tier is open."""
    try:
        name = pick_tier(g, key=key, holds=holds)
        return None if name is None else g.tier(name, create=False)
    except GrooveError as err:
        report(err)
        return None


def synthetic_banner(tier: Tier) -> None:
    """Say so when the tier is a simulation tier, or holds data made by
    ``groove simulate`` (an older groove wrote it into real tiers)."""
    try:
        runs = tier.attribution.simulation_runs()
    except GrooveError as err:
        report(err)
        return
    if tier.synthetic or runs:
        seeds = f" (seed {', '.join(str(r.seed) for r in runs)})" if runs else ""
        st.info(
            f"Tier **{tier.name}** holds **synthetic** data from `groove simulate`{seeds}: "
            "copies of real learnings with simulated sessions, outcomes, experiments and "
            "the adaptive parameters they taught, with known true effects. No real "
            f"learning is touched. Remove it with `groove simulate --remove --tier "
            f"{tier.name}`.",
            icon=":material/science:",
        )


def findings(a: AblationAnalysis) -> dict[str, str]:
    """The fixed-n figures of ``a`` as shown: the p-value and the Welch interval are
    findings only once both arms have the minimum number of sessions (``—`` before)."""
    if not a.enough_sessions:
        return {"p_value": MISSING, "ci": MISSING}
    return {"p_value": fmt_p(a.p_value), "ci": fmt_interval(a.ci_low, a.ci_high, signed=True)}


def experiment_metrics(a: AblationAnalysis) -> None:
    """The numbers of one ablation experiment (an analysis of ``analysis.ablation``), with
    a sentence saying why its status is what it is (what is still missing)."""
    shown = findings(a)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Effect",
        fmt(a.effect, signed=True),
        help="Mean outcome with the learning minus without it (an estimate: see the "
        "intervals for how sure it is).",
    )
    m2.metric(
        "p-value",
        shown["p_value"],
        help="Welch's t-test of 'no effect', two-sided, for one look at a fixed sample; "
        f"shown once both arms have {a.min_sessions_per_arm} sessions.",
    )
    m3.metric(
        "Chance it helps",
        fmt(a.prob_helps),
        help="Exact posterior probability that the effect is > 0 if each arm's outcomes "
        "are normal with unknown mean and variance and flat priors (the Behrens-Fisher "
        "posterior, integrated numerically). A probability, not a verdict.",
    )
    m4.metric("Status", a.status, help="Decided by the sequential interval only.")
    m5, m6, m7, m8 = st.columns([1.4, 1.4, 1, 1])
    m5.metric(
        f"{a.level:.0%} CI",
        shown["ci"],
        help="Welch's interval: valid for one look at a fixed number of sessions; shown "
        f"once both arms have {a.min_sessions_per_arm} sessions.",
    )
    m6.metric(
        "Sequential interval",
        fmt_interval(a.cs_low, a.cs_high, signed=True),
        help=f"{a.level:.0%} always-valid interval (Lai 1976, on sessions paired in the "
        "order they ran): valid however often the experiment is looked at, from the first "
        f"session; unbounded until {finite_from_pairs(a.level)} sessions per arm. It "
        "decides the status.",
    )
    m7.metric("Sessions with / without", f"{a.n_with} / {a.n_without}")
    m8.metric(
        "Sessions still needed",
        MISSING if a.sessions_needed_per_arm is None else a.sessions_needed_per_arm,
        help="Per arm, until the sequential interval would exclude zero for the effect "
        "size to detect (80% power); 0 once the status is conclusive.",
    )
    st.caption(a.reason)


def learning_names(tier: Tier, ids: Sequence[str]) -> dict[str, str]:
    """Labels for ``ids`` (one query)."""
    found = {lr.id: lr for lr in tier.learnings.get_many(list(ids))}
    return {i: label(found.get(i), i) for i in ids}


def pick_learning(
    tier: Tier,
    *,
    key: str,
    prefer: Sequence[str] = (),
    default: str | None = None,
    title: str = "Learning",
    skip: Collection[str] = (),
) -> Learning | None:
    """A search box and a select box of learnings: search by words (full text) or pick from
    the learnings with the most evidence (``prefer`` first), those in ``skip`` left out.
    Returns the choice or None."""
    query = st.text_input(
        "Search learnings", key=f"{key}_q", placeholder="words from the description or insight"
    )
    try:
        if query.strip():
            items = [h.learning for h in tier.search.search(query, mode="fulltext", limit=50)]
            if not items:
                st.caption("No learning matches those words.")
                return None
        else:
            first = tier.learnings.get_many(list(prefer)) if prefer else []
            order = {i: k for k, i in enumerate(prefer)}
            first.sort(key=lambda lr: order.get(lr.id, 0))
            rest = tier.search.page(sort="usage", limit=200)
            seen = {lr.id for lr in first}
            items = first + [lr for lr in rest if lr.id not in seen]
    except GrooveError as err:
        report(err)
        return None
    offered = [lr for lr in items if lr.id not in skip]
    if not offered:
        st.info(
            "None of the learnings listed here can be chosen; search for another."
            if items
            else "This tier has no learnings yet."
        )
        return None
    items = offered
    ids = [lr.id for lr in items]
    if default in ids:
        index = ids.index(default)
    elif default is not None:
        extra = tier.learnings.get(default)
        if extra is not None:
            items.insert(0, extra)
            ids.insert(0, extra.id)
        index = 0
    else:
        index = 0
    by_id = {lr.id: lr for lr in items}
    names = distinct({i: label(by_id[i], i, 90) for i in ids})
    chosen = st.selectbox(title, ids, index=index, key=f"{key}_pick", format_func=names.get)
    return by_id.get(chosen)
