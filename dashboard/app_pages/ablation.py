"""Ablation: what did withholding each learning show, and is that conclusive?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components.evidence_common import (
    choose_tier,
    fmt,
    learning_names,
    synthetic_banner,
)
from dashboard.components.evidence_plots import forest_figure
from dashboard.state import groove, report
from groove_core.analysis import deprecation
from groove_core.errors import GrooveError
from groove_core.experiments import analyze_experiments

DEFAULT_MIN_SESSIONS = 20
DEFAULT_TARGET = 0.1

st.title("Ablation experiments")
st.caption(
    "An ablation experiment withholds a learning from a random half of the sessions where it "
    "would be injected and compares the session outcomes: effect = mean outcome with it − "
    "mean outcome without it (positive: it helps)."
)

g = groove()
tier = choose_tier(g, key="ablation_tier")
if tier is None:
    st.stop()
synthetic_banner(tier)
store = tier.attribution

with st.sidebar.expander("Analysis settings"):
    min_sessions = st.number_input(
        "Minimum sessions per arm",
        2,
        1000,
        DEFAULT_MIN_SESSIONS,
        key="ablation_min",
        help="An experiment stays inconclusive until both arms have this many sessions.",
    )
    target = st.number_input(
        "Effect to detect",
        0.01,
        1.0,
        DEFAULT_TARGET,
        0.01,
        key="ablation_target",
        help="Sessions still needed are counted for detecting an effect this large "
        "(80% power, 5% level).",
    )
defaults = min_sessions == DEFAULT_MIN_SESSIONS and abs(target - DEFAULT_TARGET) < 1e-12

try:
    done = analyze_experiments(
        store, save=defaults, min_sessions_per_arm=int(min_sessions), target_effect=float(target)
    )
    tested, total = store.coverage()
except GrooveError as err:
    report(err)
    st.stop()

# ---------------------------------------------------------------- overview
st.subheader("Overview")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Experiments", len(done))
c2.metric(
    "Conclusive",
    sum(d.analysis.status != "inconclusive" for d in done),
    help="The sequential interval excludes zero and both arms have the minimum sessions.",
)
c3.metric("Still running", sum(d.analysis.status == "inconclusive" for d in done))
c4.metric(
    "Learnings tested",
    f"{tested} of {total}" + (f" ({tested / total:.0%})" if total else ""),
    help="Learnings that have an ablation experiment, out of all learnings in the tier.",
)

names = learning_names(tier, [d.experiment.learning_id for d in done])
rows = []
for d in done:
    a = d.analysis
    rows.append(
        {
            "learning": names[d.experiment.learning_id],
            "id": d.experiment.learning_id,
            "started": d.experiment.started_at,
            "with": a.n_with,
            "without": a.n_without,
            "effect": a.effect,
            "ci_low": a.ci_low,
            "ci_high": a.ci_high,
            "p_value": a.p_value,
            "prob_helps": a.prob_helps,
            "cs_low": a.cs_low,
            "cs_high": a.cs_high,
            "status": a.status,
            "needed": a.sessions_needed_per_arm,
        }
    )
table = pd.DataFrame(rows)

# ---------------------------------------------------------------- forest plot
st.subheader("Effects at a glance")
if table.empty:
    st.info("No ablation experiment yet: start one below.")
else:
    plotted = table.dropna(subset=["effect"]).assign(label=lambda f: f["learning"])
    if plotted.empty:
        st.caption("No experiment has sessions in both arms yet.")
    else:
        st.plotly_chart(forest_figure(plotted), width="stretch", key="ablation_forest")
    st.caption(
        "Diamond: estimated effect. Thick bar: 95% Welch confidence interval (valid for one "
        "look at a fixed sample). Thin bar: 95% always-valid sequential interval (Waudby-Smith "
        "et al. 2024), valid however often this page is opened; it decides the status."
    )

# ---------------------------------------------------------------- table
st.subheader("Every experiment")
if not table.empty:
    st.dataframe(
        table.drop(columns=["id"]),
        hide_index=True,
        width="stretch",
        key="ablation_table",
        column_config={
            "learning": st.column_config.TextColumn("Learning", width="medium"),
            "started": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD"),
            "with": st.column_config.NumberColumn("Sessions with", help="Learning injected."),
            "without": st.column_config.NumberColumn("Sessions without", help="Learning withheld."),
            "effect": st.column_config.NumberColumn("Effect", format="%+.3f"),
            "ci_low": st.column_config.NumberColumn("95% CI low", format="%+.3f"),
            "ci_high": st.column_config.NumberColumn("95% CI high", format="%+.3f"),
            "p_value": st.column_config.NumberColumn(
                "p-value", format="%.4f", help="Welch's t-test of 'no effect' (two-sided)."
            ),
            "prob_helps": st.column_config.NumberColumn(
                "P(helps)", format="%.3f", help="Posterior probability that the effect is > 0."
            ),
            "cs_low": st.column_config.NumberColumn("Sequential low", format="%+.3f"),
            "cs_high": st.column_config.NumberColumn("Sequential high", format="%+.3f"),
            "status": st.column_config.TextColumn("Status"),
            "needed": st.column_config.NumberColumn(
                "Sessions still needed",
                help=f"Per arm, to detect an effect of {target:g} "
                "with 80% power (fixed-n Welch test; the sequential interval needs more).",
            ),
        },
    )
    if defaults:
        st.caption(
            "The results (marginal value, confidence, significance) are saved with each experiment."
        )
    else:
        st.caption("Non-default analysis settings: these results are shown, not saved.")

# ---------------------------------------------------------------- one experiment
st.subheader("One experiment in detail")
if not table.empty:
    pick = st.selectbox(
        "Experiment", list(table["id"]), key="ablation_detail", format_func=lambda i: names[i]
    )
    d = next(x for x in done if x.experiment.learning_id == pick)
    a = d.analysis
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Effect",
        fmt(a.effect, signed=True),
        help="Mean outcome with the learning minus without it.",
    )
    m2.metric("p-value", fmt(a.p_value, 4), help="Welch's t-test, two-sided.")
    m3.metric("Chance it helps", fmt(a.prob_helps), help="P(effect > 0 | data).")
    m4.metric("Status", a.status)
    m5, m6, m7, m8 = st.columns([1.4, 1.4, 1, 1])
    m5.metric("95% CI", f"[{fmt(a.ci_low, signed=True)}, {fmt(a.ci_high, signed=True)}]")
    m6.metric(
        "Sequential interval", f"[{fmt(a.cs_low, signed=True)}, {fmt(a.cs_high, signed=True)}]"
    )
    m7.metric("Sessions with / without", f"{a.n_with} / {a.n_without}")
    m8.metric(
        "Sessions still needed",
        "—" if a.sessions_needed_per_arm is None else a.sessions_needed_per_arm,
        help="Per arm.",
    )

# ---------------------------------------------------------------- curation
st.subheader("Deprecation candidates")
st.caption(
    "Learnings whose experiment shows harm (sequential interval below zero), or whose "
    "posterior says they rarely help (P(confidence < 0.3) ≥ 0.9 with at least 10 outcomes "
    "of evidence)."
)
try:
    all_ids = [lr.id for lr in tier.learnings.iter_all()]
    usage = tier.learnings.usage_many(all_ids)
    values = store.values_many(all_ids)
except GrooveError as err:
    report(err)
    st.stop()
by_exp = {d.experiment.learning_id: d.analysis for d in done}
frame = pd.DataFrame(
    {
        "id": all_ids,
        "alpha": [usage[i].confidence_alpha if i in usage else 1.0 for i in all_ids],
        "beta": [usage[i].confidence_beta if i in usage else 1.0 for i in all_ids],
        "effect": [by_exp[i].effect if i in by_exp else float("nan") for i in all_ids],
        "cs_low": [by_exp[i].cs_low if i in by_exp else float("nan") for i in all_ids],
        "cs_high": [by_exp[i].cs_high if i in by_exp else float("nan") for i in all_ids],
        "status": [by_exp[i].status if i in by_exp else None for i in all_ids],
    }
)
cands = deprecation.candidates(frame)
cands = cands[
    ~cands["id"].map(lambda i: i in values and values[i].status.is_deprecated).astype(bool)
]
all_names = learning_names(tier, all_ids)
if cands.empty:
    st.success("No learning is a deprecation candidate right now.")
else:
    shown = cands.assign(learning=[all_names[i] for i in cands["id"]])
    st.dataframe(
        shown[
            [
                "learning",
                "reason",
                "mean",
                "ci_low",
                "ci_high",
                "evidence",
                "p_below",
                "effect",
                "cs_low",
                "cs_high",
            ]
        ],
        hide_index=True,
        width="stretch",
        key="ablation_candidates",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in (
                "mean",
                "ci_low",
                "ci_high",
                "evidence",
                "p_below",
                "effect",
                "cs_low",
                "cs_high",
            )
        },
    )


def _dismiss() -> None:
    st.session_state.pop("ablation_pending", None)


@st.dialog("Deprecate a learning", on_dismiss=_dismiss)
def confirm_deprecation(learning_id: str, reason: str) -> None:
    st.write(f"Deprecate **{all_names[learning_id]}**?")
    st.write(f"Reason: _{reason}_")
    st.caption(
        "The learning stays in the store with status Deprecated; the change is "
        "recorded in its history."
    )
    yes, no = st.columns(2)
    if yes.button("Deprecate", type="primary", key="ablation_confirm"):
        _dismiss()
        try:
            store.deprecate(learning_id, reason)
        except GrooveError as err:
            report(err)
            return
        st.session_state["ablation_flash"] = f"Deprecated: {all_names[learning_id]}"
        st.rerun()
    if no.button("Cancel", key="ablation_cancel"):
        _dismiss()
        st.rerun()


st.subheader("Act on a learning")
if msg := st.session_state.pop("ablation_flash", None):
    st.success(msg)
left, right = st.columns(2)
with left:
    st.markdown("**Deprecate**")
    active = [i for i in all_ids if not (i in values and values[i].status.is_deprecated)]
    first = [i for i in cands["id"] if i in active]
    ordered = first + [i for i in active if i not in first]
    if ordered:
        target_id = st.selectbox(
            "Learning to deprecate",
            ordered,
            key="ablation_dep_pick",
            format_func=lambda i: all_names[i],
        )
        reason = st.text_input(
            "Reason",
            key="ablation_dep_reason",
            value=cands.set_index("id")["reason"].get(target_id, ""),
        )
        if st.button("Deprecate…", key="ablation_dep_button", disabled=not reason.strip()):
            st.session_state["ablation_pending"] = (target_id, reason.strip())
        if pending := st.session_state.get("ablation_pending"):
            confirm_deprecation(*pending)
    deprecated = [i for i in all_ids if i in values and values[i].status.is_deprecated]
    if deprecated:
        st.caption(
            "Deprecated: "
            + "; ".join(f"{all_names[i]} ({values[i].status.reason})" for i in deprecated)
        )
with right:
    st.markdown("**Start an experiment**")
    untested = [i for i in all_ids if i not in by_exp]
    if not untested:
        st.caption("Every learning already has an experiment.")
    else:
        new_id = st.selectbox(
            "Learning to test",
            untested,
            key="ablation_new_pick",
            format_func=lambda i: all_names[i],
        )
        if st.button("Start experiment", key="ablation_new_button"):
            try:
                store.start_experiment(new_id)
                st.session_state["ablation_flash"] = f"Experiment started: {all_names[new_id]}"
                st.rerun()
            except GrooveError as err:
                report(err)
