"""Parameters: groove's adaptive system parameters and how sure it is of each."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components.evidence_common import (
    choose_tier,
    fmt,
    fmt_interval,
    synthetic_banner,
)
from dashboard.components.evidence_plots import compare_figure, posterior_figure
from dashboard.state import groove, report
from groove_core.analysis import posterior
from groove_core.errors import GrooveError

st.title("Adaptive parameters")
st.caption(
    "groove tunes its own thresholds instead of hard-coding them. Each parameter is a value "
    "in [0, 1] with a Beta(α, β) belief over it, updated from observed outcomes. Its "
    "'uncertainty' is the step-size rule of the data contract, 1 before any observation "
    "and 1 / (1 + √n) after n, not a probability: the credible interval says how sure groove is."
)

g = groove()
tier = choose_tier(g, key="params_tier", holds="params")
if tier is None:
    st.stop()
synthetic_banner(tier)
try:
    params = tier.params.all_params()
except GrooveError as err:
    report(err)
    st.stop()
if not params:
    st.info("This tier has no adaptive parameters yet: groove creates them as it learns.")
    st.stop()


def summary(p):
    a, b = p.param.prior_alpha, p.param.prior_beta
    return posterior.summarize(a, b, prior_alpha=min(a, 1.0), prior_beta=min(b, 1.0))


sums = {p.name: summary(p) for p in params}

st.subheader("All parameters")
table = pd.DataFrame(
    [
        {
            "parameter": p.name,
            "value": p.param.value,
            "uncertainty": p.param.uncertainty,
            "observations": p.param.observations,
            "alpha": p.param.prior_alpha,
            "beta": p.param.prior_beta,
            "ci_low": sums[p.name].ci_low,
            "ci_high": sums[p.name].ci_high,
            "updated": p.updated_at,
        }
        for p in params
    ]
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="params_table",
    column_config={
        "parameter": st.column_config.TextColumn("Parameter"),
        "value": st.column_config.NumberColumn("Value", format="%.3f"),
        "uncertainty": st.column_config.NumberColumn("Uncertainty", format="%.3f"),
        "observations": st.column_config.NumberColumn("Observations"),
        "alpha": st.column_config.NumberColumn("α", format="%.2f"),
        "beta": st.column_config.NumberColumn("β", format="%.2f"),
        "ci_low": st.column_config.NumberColumn("95% low", format="%.3f"),
        "ci_high": st.column_config.NumberColumn("95% high", format="%.3f"),
        "updated": st.column_config.DatetimeColumn("Updated", format="YYYY-MM-DD HH:mm"),
    },
)
st.caption("95% low/high: equal-tailed credible interval of Beta(α, β).")

st.subheader("One parameter")
name = st.selectbox("Parameter", [p.name for p in params], key="params_pick")
p = next(x for x in params if x.name == name)
s = sums[name]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Value", fmt(p.param.value), help="α / (α + β).")
c2.metric("Uncertainty", fmt(p.param.uncertainty))
c3.metric("Observations", p.param.observations)
c4.metric("95% equal-tailed credible interval", fmt_interval(s.ci_low, s.ci_high))
st.plotly_chart(
    posterior_figure(posterior.density(s.alpha, s.beta), s, "parameter value"),
    width="stretch",
    key="params_density",
)

st.subheader("Compare")
chosen = st.multiselect(
    "Parameters",
    [p.name for p in params],
    default=[p.name for p in params][:3],
    key="params_compare",
)
if chosen:
    st.plotly_chart(
        compare_figure(
            posterior.compare({n: (sums[n].alpha, sums[n].beta) for n in chosen}), "parameter value"
        ),
        width="stretch",
        key="params_compare_plot",
    )
