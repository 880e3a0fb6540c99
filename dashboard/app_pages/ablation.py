"""Ablation: what did withholding each learning show, and is that conclusive?"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components.evidence_common import (
    choose_tier,
    experiment_metrics,
    findings,
    fmt_interval,
    label,
    learning_names,
    pick_learning,
    synthetic_banner,
)
from dashboard.components.evidence_plots import forest_figure
from dashboard.components.messages import flash, show_flash
from dashboard.components.text import distinct, escape
from dashboard.state import groove, principal, report
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
show_flash()
tier = choose_tier(g, key="ablation_tier", holds="experiments")
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
        help="An experiment stays inconclusive, and its p-value and fixed-n interval are "
        "not shown, until both arms have this many sessions. The sequential interval is "
        "valid at every look from the first session, so a smaller minimum does not raise "
        "the rate of wrong verdicts; it only allows earlier ones.",
    )
    target = st.number_input(
        "Effect to detect",
        0.01,
        1.0,
        DEFAULT_TARGET,
        0.01,
        key="ablation_target",
        help="Sessions still needed are counted until the sequential interval would "
        "exclude zero for an effect this large (80% power, 95% level).",
    )
defaults = min_sessions == DEFAULT_MIN_SESSIONS and abs(target - DEFAULT_TARGET) < 1e-12

settings = {"min_sessions_per_arm": int(min_sessions), "target_effect": float(target)}
try:  # reading the page writes nothing: results are recorded only on request (below)
    view = data.ablation(g, tier.name, int(min_sessions), float(target))
except GrooveError as err:
    report(err)
    st.stop()
done, tested, total = view.analyses, view.tested, view.total

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
    f"{tested:,} of {total:,}" + (f" ({tested / total:.1%})" if total else ""),
    help="Learnings that have an ablation experiment, out of all learnings in the tier.",
)

names = distinct(learning_names(tier, [d.experiment.learning_id for d in done]))
rows = []
for d in done:
    a = d.analysis
    rows.append(
        {
            "learning": names[d.experiment.learning_id],
            "id": d.experiment.learning_id,
            "status": a.status,
            "effect": a.effect,
            **findings(a),
            "prob_helps": a.prob_helps,
            "cs": fmt_interval(a.cs_low, a.cs_high, signed=True),
            "sessions": f"{a.n_with} / {a.n_without}",
            "needed": a.sessions_needed_per_arm,
            "reason": a.reason,
            "started": d.experiment.started_at,
        }
    )
table = pd.DataFrame(rows)

# ---------------------------------------------------------------- forest plot
st.subheader("Effects at a glance")
if table.empty:
    st.info("No ablation experiment yet: start one below.")
else:
    plotted = pd.DataFrame(
        [
            {
                "label": names[d.experiment.learning_id],
                "effect": d.analysis.effect,
                "ci_low": d.analysis.ci_low,
                "ci_high": d.analysis.ci_high,
                "cs_low": d.analysis.cs_low,
                "cs_high": d.analysis.cs_high,
                "status": d.analysis.status,
            }
            for d in done
            if d.analysis.enough_sessions
            and math.isfinite(d.analysis.cs_low)
            and math.isfinite(d.analysis.cs_high)
        ],
        columns=["label", "effect", "ci_low", "ci_high", "cs_low", "cs_high", "status"],
    )
    if plotted.empty:
        st.caption("No experiment has enough sessions in both arms to draw its intervals yet.")
    else:
        st.plotly_chart(forest_figure(plotted), width="stretch", key="ablation_forest")
    if len(plotted) < len(done):
        st.caption(
            f"{len(done) - len(plotted)} experiment(s) not drawn: fewer than "
            f"{int(min_sessions)} sessions in an arm, an unbounded sequential interval or "
            "outcomes without variation (see the table)."
        )
    st.caption(
        "Diamond: estimated effect. Thick bar: 95% Welch confidence interval (valid for one "
        "look at a fixed sample). Thin bar: 95% always-valid sequential interval (Lai 1976, "
        "sessions paired in the order they ran), valid however often this page is opened; "
        "it decides the status."
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
            "sessions": st.column_config.TextColumn(
                "With / without", help="Sessions with the learning / with it withheld."
            ),
            "effect": st.column_config.NumberColumn(
                "Effect", format="%+.3f", help="Mean outcome with it minus without it."
            ),
            "ci": st.column_config.TextColumn(
                "95% CI",
                help="Welch's interval, valid for one look at a fixed sample; — until both "
                "arms have the minimum number of sessions.",
            ),
            "p_value": st.column_config.TextColumn(
                "p-value",
                help="Welch's t-test of 'no effect' (two-sided); — until both arms have the "
                "minimum number of sessions.",
            ),
            "prob_helps": st.column_config.NumberColumn(
                "P(helps)",
                format="%.3f",
                help="Exact posterior probability that the effect is > 0 (normal arms, "
                "flat priors; Behrens-Fisher).",
            ),
            "cs": st.column_config.TextColumn(
                "Sequential interval",
                help="95% always-valid interval: valid however often you look, from the "
                "first session (unbounded while the data cannot rule out any effect). "
                "It decides the status.",
            ),
            "status": st.column_config.TextColumn("Status"),
            "reason": st.column_config.TextColumn("Why", width="large"),
            "needed": st.column_config.NumberColumn(
                "Needed",
                help=f"Sessions per arm until the sequential interval would exclude zero "
                f"for an effect of {target:g} (80% power); 0 once conclusive.",
            ),
        },
    )
    unsaved = [d for d in done if d.result is not None and d.result != d.experiment.result]
    if not defaults:
        st.caption("Non-default analysis settings: these results are shown, not recorded.")
    elif unsaved:
        st.caption(
            f"{len(unsaved)} experiment(s) have results (marginal value, confidence, "
            "significance) not recorded with them yet."
        )
        if st.button("Record these results", key="ablation_record", icon=":material/save:"):
            try:
                analyze_experiments(store, save=True, actor=principal(), **settings)
            except GrooveError as err:
                report(err)
            else:
                flash("success", f"Recorded the results of {len(unsaved)} experiment(s).")
                st.rerun()
    else:
        st.caption("The results recorded with each experiment are up to date.")

# ---------------------------------------------------------------- one experiment
st.subheader("One experiment in detail")
if not table.empty:
    ids = list(table["id"])
    if (
        wanted := st.query_params.get("learning")
    ) in ids and "ablation_detail" not in st.session_state:
        st.session_state["ablation_detail"] = wanted
    pick = st.selectbox("Experiment", ids, key="ablation_detail", format_func=lambda i: names[i])
    experiment_metrics(next(x for x in done if x.experiment.learning_id == pick).analysis)

# ---------------------------------------------------------------- curation
st.subheader("Deprecation candidates")
st.caption(
    "Learnings whose experiment shows harm (sequential interval below zero), or whose "
    "posterior says they rarely help (P(confidence < 0.3) ≥ 0.9 with at least 10 outcomes "
    "of evidence)."
)
deprecated, cands = view.deprecated, view.candidates
try:
    cand_names = distinct(learning_names(tier, list(cands["id"])))
except GrooveError as err:
    report(err)
    st.stop()
if cands.empty:
    st.success("No learning is a deprecation candidate right now.")
else:
    shown = cands.assign(
        learning=[cand_names[i] for i in cands["id"]],
        cs=[
            fmt_interval(lo, hi, signed=True)
            for lo, hi in zip(cands["cs_low"], cands["cs_high"], strict=True)
        ],
    )
    st.dataframe(
        shown[["learning", "reason", "mean", "evidence", "p_below", "effect", "cs"]],
        hide_index=True,
        width="stretch",
        key="ablation_candidates",
        column_config={
            "learning": st.column_config.TextColumn("Learning", width="medium"),
            "reason": st.column_config.TextColumn("Reason"),
            "mean": st.column_config.NumberColumn(
                "Posterior mean", help="Confidence that it helps (Posterior page).", format="%.3f"
            ),
            "evidence": st.column_config.NumberColumn(
                "Evidence", help="Pseudo-counts from outcomes (α + β − 2).", format="%.1f"
            ),
            "p_below": st.column_config.NumberColumn(
                "P(conf. < 0.3)", help="Posterior probability that it rarely helps.", format="%.3f"
            ),
            "effect": st.column_config.NumberColumn("Ablation effect", format="%+.3f"),
            "cs": st.column_config.TextColumn("Sequential interval"),
        },
    )


def _dismiss() -> None:
    st.session_state.pop("ablation_pending", None)


@st.dialog("Deprecate a learning", on_dismiss=_dismiss)
def confirm_deprecation(learning_id: str, reason: str, name: str) -> None:
    st.write(f"Deprecate **{escape(name)}**?")
    st.write(f"Reason: {escape(reason)}")
    st.caption(
        "The learning stays in the store with status Deprecated; the change is "
        "recorded in its history."
    )
    yes, no = st.columns(2)
    if yes.button("Deprecate", type="primary", key="ablation_confirm"):
        _dismiss()
        try:
            store.deprecate(learning_id, reason, actor=principal())
        except GrooveError as err:
            report(err)
            return
        flash("success", f"Deprecated: {escape(name)}")
        st.rerun()
    if no.button("Cancel", key="ablation_cancel"):
        _dismiss()
        st.rerun()


#: Deprecated learnings named under the picker (the rest are counted).
SHOWN_DEPRECATED = 20

st.subheader("Act on a learning")
left, right = st.columns(2)
with left:
    st.markdown("**Deprecate**")
    chosen = pick_learning(
        tier,
        key="ablation_dep",
        prefer=list(cands["id"]),
        title="Learning to deprecate",
        skip=deprecated,
    )
    if chosen is not None:
        # A form: the reason typed and the click arrive together (a button disabled until
        # the box loses focus swallowed the first click).
        with st.form("ablation_dep_form", border=False):
            reason = st.text_input(
                "Reason",
                key="ablation_dep_reason",
                value=cands.set_index("id")["reason"].get(chosen.id, ""),
            )
            asked = st.form_submit_button("Deprecate…", key="ablation_dep_button")
        if asked and not reason.strip():
            st.error("Say why: the reason is recorded with the deprecation.")
        elif asked:
            st.session_state["ablation_pending"] = (chosen.id, reason.strip(), label(chosen))
    if pending := st.session_state.get("ablation_pending"):
        confirm_deprecation(*pending)
    if deprecated:
        named = list(deprecated)[:SHOWN_DEPRECATED]
        dep_names = distinct(learning_names(tier, named))
        more = len(deprecated) - len(named)
        st.caption(
            "Deprecated: "
            + "; ".join(
                f"{escape(dep_names[i])} ({escape(deprecated[i].status.reason)})" for i in named
            )
            + (f"; and {more} more" if more else "")
        )
with right:
    st.markdown("**Start an experiment**")
    by_exp = {d.experiment.learning_id for d in done}
    new = pick_learning(tier, key="ablation_new", title="Learning to test", skip=by_exp)
    if new is not None and st.button("Start experiment", key="ablation_new_button"):
        try:
            store.start_experiment(new.id, actor=principal())
            flash("success", f"Experiment started: {label(new)}")
            st.rerun()
        except GrooveError as err:
            report(err)
