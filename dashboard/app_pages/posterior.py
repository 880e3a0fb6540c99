"""Posterior: how sure are we that a learning helps, and how did that change over time?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components.evidence_common import (
    choose_tier,
    experiment_metrics,
    fmt,
    fmt_interval,
    label,
    pick_learning,
    synthetic_banner,
)
from dashboard.components.evidence_plots import (
    compare_figure,
    posterior_figure,
    trajectory_figure,
)
from dashboard.components.text import distinct, escape
from dashboard.state import groove, report
from groove_core.analysis import posterior
from groove_core.errors import GrooveError, NotFoundError
from groove_core.experiments import analyze_experiment

st.title("Posterior confidence")
st.caption(
    "A learning's confidence is the probability that injecting it helps. groove keeps it as "
    "a Beta(α, β) posterior that starts uniform, Beta(1, 1): each helpful outcome adds 1 to "
    "α, each ignored one 0.1 to β and each contradicted one 1.5 to β."
)

g = groove()
tier = choose_tier(g, key="posterior_tier", holds="outcomes")
if tier is None:
    st.stop()
synthetic_banner(tier)

# ---------------------------------------------------------------- choice
st.subheader("Learning")
default = st.query_params.get("learning")
try:  # learnings under an ablation experiment first, then the most used
    prefer = [e.learning_id for e in tier.attribution.experiments()]
except GrooveError as err:
    report(err)
    prefer = []
learning = pick_learning(tier, key="posterior", prefer=prefer, default=default)
if learning is None:
    st.stop()

try:
    usage = tier.learnings.usage(learning.id)
    events = tier.learnings.outcome_events(learning.id)
    value = tier.attribution.get_learning_value(learning.id)
except GrooveError as err:
    report(err)
    st.stop()
if value is not None and value.status.is_deprecated:
    st.warning(f"Deprecated: {escape(value.status.reason)}", icon=":material/block:")

threshold = st.slider(
    "Threshold",
    0.0,
    1.0,
    0.5,
    0.05,
    key="posterior_threshold",
    help="Mark a confidence level and read the probability that the learning is below it.",
)
summary = posterior.summarize(usage.confidence_alpha, usage.confidence_beta, threshold=threshold)

# ---------------------------------------------------------------- posterior now
st.subheader("How sure are we that it helps?")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Posterior mean", fmt(summary.mean), help="α / (α + β): the confidence groove uses.")
c2.metric(
    "95% equal-tailed credible interval",
    fmt_interval(summary.ci_low, summary.ci_high),
    help="The confidence lies in this range with 95% posterior probability, 2.5% of it "
    "below and 2.5% above (equal tails; not the highest-density interval).",
)
c3.metric(
    f"P(confidence < {threshold:.2f})",
    fmt(summary.p_below_threshold),
    help="Posterior probability that the learning helps less often than the threshold.",
)
c4.metric("Standard deviation", fmt(summary.sd))

left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        posterior_figure(posterior.density(summary.alpha, summary.beta), summary),
        width="stretch",
        key="posterior_density",
    )
with right:
    st.markdown("**Evidence**")
    e1, e2, e3 = st.columns(3)
    e1.metric("Helpful", usage.times_helpful)
    e2.metric("Ignored", usage.times_ignored)
    e3.metric("Contradicted", usage.times_contradicted)
    a1, a2, a3 = st.columns(3)
    a1.metric("α", fmt(summary.alpha, 2), help="1 (prior) + helpful outcomes.")
    a2.metric(
        "β", fmt(summary.beta, 2), help="1 (prior) + 0.1 × ignored + 1.5 × contradicted outcomes."
    )
    a3.metric(
        "Evidence",
        fmt(summary.evidence, 1),
        help="α + β minus the prior's 2: pseudo-counts that came from outcomes.",
    )
    st.caption(
        f"{usage.times_injected} injections in all. The mode is "
        f"{fmt(summary.mode)}; the effective sample size α + β is "
        f"{fmt(summary.effective_sample_size, 1)}."
    )

# ---------------------------------------------------------------- over time
st.subheader("How did it change over time?")
if not events:
    st.info("No outcome has been recorded for this learning yet, so there is no history.")
else:
    frame = pd.DataFrame(events)
    traj = posterior.trajectory(frame)
    st.plotly_chart(trajectory_figure(traj), width="stretch", key="posterior_trajectory")
    last = traj.iloc[-1]
    st.caption(
        f"The posterior mean after each of the {len(events)} recorded outcomes, with its 95% "
        "equal-tailed credible interval after each (pointwise); markers are the outcomes "
        "(green helpful, grey ignored, red contradicted)."
    )
    if (
        abs(last["alpha"] - usage.confidence_alpha) > 1e-9
        or abs(last["beta"] - usage.confidence_beta) > 1e-9
    ):
        st.warning(
            f"The recorded events rebuild Beta({last['alpha']:.2f}, {last['beta']:.2f}) but "
            f"the stored posterior is Beta({usage.confidence_alpha:.2f}, "
            f"{usage.confidence_beta:.2f}): some outcomes were recorded before events were "
            "kept (or by another program)."
        )

# ---------------------------------------------------------------- ablation
st.subheader("What did its ablation show?")
try:
    done = analyze_experiment(tier.attribution, learning.id, save=False)
except NotFoundError:
    done = None
except GrooveError as err:
    report(err)
    done = None
if done is None:
    st.info(
        "This learning has no ablation experiment, so only its outcomes speak for it. "
        "Start one on the Ablation page."
    )
else:
    experiment_metrics(done.analysis)
    st.caption(f"Started {done.experiment.started_at:%Y-%m-%d}.")
st.page_link(
    "app_pages/ablation.py",
    label="All experiments on the Ablation page",
    icon=":material/science:",
    query_params={"learning": learning.id, "tier": tier.name},
)

# ---------------------------------------------------------------- compare
st.subheader("Compare learnings")
st.caption("Pick two or more learnings to draw their posteriors on one plot.")
try:
    candidates = tier.search.page(sort="usage", limit=200)
except GrooveError as err:
    report(err)
    candidates = []
if learning.id not in {lr.id for lr in candidates}:
    candidates.insert(0, learning)
by_id = {lr.id: lr for lr in candidates}
others = [i for i in dict.fromkeys([*prefer, *by_id]) if i != learning.id and i in by_id]
chosen = st.multiselect(
    "Learnings to compare",
    list(by_id),
    default=[learning.id, *others[:2]],
    key="posterior_compare",
    format_func=distinct({i: label(by_id[i], i, 70) for i in by_id}).get,
)
if len(chosen) >= 2:
    stats_ = tier.learnings.usage_many(chosen)
    params = {}
    rows = []
    for i in chosen:
        u = stats_.get(i)
        a, b = (u.confidence_alpha, u.confidence_beta) if u else (1.0, 1.0)
        name = label(by_id[i], i, 45)
        params[name] = (a, b)
        s = posterior.summarize(a, b, threshold=threshold)
        rows.append(
            {
                "learning": name,
                "mean": s.mean,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                f"P(< {threshold:.2f})": s.p_below_threshold,
                "evidence": s.evidence,
            }
        )
    st.plotly_chart(
        compare_figure(posterior.compare(params)), width="stretch", key="posterior_compare_plot"
    )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "learning": st.column_config.TextColumn("Learning"),
            "mean": st.column_config.NumberColumn("Posterior mean", format="%.3f"),
            "ci_low": st.column_config.NumberColumn(
                "95% low", format="%.3f", help="Equal-tailed credible interval."
            ),
            "ci_high": st.column_config.NumberColumn(
                "95% high", format="%.3f", help="Equal-tailed credible interval."
            ),
            f"P(< {threshold:.2f})": st.column_config.NumberColumn(format="%.3f"),
            "evidence": st.column_config.NumberColumn("Evidence", format="%.1f"),
        },
    )
elif chosen:
    st.caption("Add at least one more learning to compare.")
