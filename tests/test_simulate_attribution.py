"""groove simulate (attribution): ground truth recovered, reproducible, removable exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import HashingEmbedder, as_principal, make_learning

from groove_core.analysis import ablation
from groove_core.errors import GrooveError
from groove_core.model.attribution import LearningStatus
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.simulate import remove_attribution_simulation, simulate_attribution
from groove_core.tiers import Groove

END = datetime(2025, 6, 1, 12, tzinfo=UTC)
CATS = [
    "code_pattern",
    "preference",
    "solution",
    "error_recovery",
    "tool_usage",
    "harness_knowledge",
]


@pytest.fixture
def tier(tmp_path):
    """A simulation tier holding 30 learnings (the simulators write nowhere else)."""
    g = Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path)
    t = g.tier("simulation:test")
    t.learnings.store_many(
        [
            make_learning(f"Learning {i} on topic {i % 7}", f"insight {i}", CATS[i % 6])
            for i in range(30)
        ]
    )
    yield t
    g.close()


def state(tier):
    """Everything a simulation may touch, for exact comparison."""
    db = tier.db
    ids = [lr.id for lr in tier.learnings.iter_all()]
    return {
        "usage": tier.learnings.usage_many(ids),
        "confidence": {lr.id: lr.confidence for lr in tier.learnings.iter_all()},
        "updated": {lr.id: lr.updated_at for lr in tier.learnings.iter_all()},
        "values": tier.attribution.values_many(ids),
        "experiments": tier.attribution.experiments(),
        "attr": db.run("?[count(session_id)] := *attribution{session_id}").scalar(0),
        "events": db.run("?[count(event_id)] := *outcome_event{event_id}").scalar(0),
        "history": {i: len(tier.learnings.history(i)) for i in ids},
        "params": tier.params.all_params(),
    }


def test_simulation_writes_marked_synthetic_data(tier):
    rep = simulate_attribution(tier, seed=3, sessions=200, experiments=6, end=END)
    assert rep.synthetic and rep.session_prefix == "sim-3-"
    assert rep.sessions == 200 and len(rep.experiments) == 6 and len(rep.truth) == 30
    (run,) = tier.attribution.simulation_runs()
    assert run.run_id == rep.run_id and run.truth == rep.truth and run.params["synthetic"]
    tl = tier.attribution.session_timeline(limit=1000)
    assert len(tl) == 200 and tl["synthetic"].all()
    assert all(s.startswith("sim-3-") for s in tl["session_id"])
    # outcomes went through the usage statistics and outcome events
    usage = tier.learnings.usage_many(list(rep.truth))
    assert sum(u.times_injected for u in usage.values()) == rep.outcomes
    some = next(i for i, u in usage.items() if u.times_injected)
    events = tier.learnings.outcome_events(some)
    assert len(events) == usage[some].times_injected
    assert all(e["session_id"].startswith("sim-3-") for e in events)
    assert tier.learnings.get(some).confidence == pytest.approx(usage[some].confidence())
    assert len(tier.attribution.ranked_values(limit=100)) == rep.values
    assert tier.attribution.coverage() == (6, 30)
    # the adaptive parameters learned from the simulated sessions
    params = {p.name: p.param for p in tier.params.all_params()}
    assert sorted(params) == ["ablation_rate", "activation_threshold", "injection_budget"]
    assert params["injection_budget"].observations == 200
    records = tier.attribution.attributions_between()
    assert params["activation_threshold"].observations == sum(r.was_activated for r in records)
    exps = tier.attribution.experiments()
    arm_sessions = sum(len(e.sessions_with) + len(e.sessions_without) for e in exps)
    assert params["ablation_rate"].observations == arm_sessions
    assert params["ablation_rate"].value == pytest.approx(0.5, abs=0.1)


def test_ablation_recovers_the_sign_of_large_effects(tier):
    rep = simulate_attribution(tier, seed=7, sessions=400, experiments=10, end=END)
    big = 0
    for exp in tier.attribution.experiments():
        truth = rep.truth[exp.learning_id]
        res = ablation.analyze(exp.with_outcomes(), exp.without_outcomes())
        # the stored result is the analysis' result
        assert exp.result is not None
        assert exp.result.marginal_value == pytest.approx(res.effect)
        if abs(truth) >= 0.12 and min(res.n_with, res.n_without) >= 20:
            big += 1
            assert (res.effect > 0) == (truth > 0), (truth, res)
            assert res.ci_low <= truth <= res.ci_high or res.cs_low <= truth <= res.cs_high
            assert res.status in ("positive", "negative")
            assert (res.status == "positive") == (truth > 0)
    assert big >= 4
    # running experiments leave their learning Experimental
    for exp in tier.attribution.experiments("running"):
        assert (
            tier.attribution.get_learning_value(exp.learning_id).status
            == LearningStatus.experimental()
        )


def test_reproducible_with_the_seed(tier):
    def data():
        recs = tier.attribution.attributions_between()
        exps = tier.attribution.experiments()
        vals = tier.attribution.ranked_values(limit=100)
        usage = tier.learnings.usage_many([lr.id for lr in tier.learnings.iter_all()])
        return recs, exps, vals, usage

    a = simulate_attribution(tier, seed=11, sessions=120, experiments=4, end=END)
    first = data()
    remove_attribution_simulation(tier)
    b = simulate_attribution(tier, seed=11, sessions=120, experiments=4, end=END)
    assert data() == first and a.truth == b.truth and a.experiments == b.experiments
    remove_attribution_simulation(tier)
    simulate_attribution(tier, seed=12, sessions=120, experiments=4, end=END)
    assert data()[0] != first[0]


def test_removal_restores_exactly(tier):
    ids = [lr.id for lr in tier.learnings.iter_all()]
    # some real history first: outcomes, a value, an experiment and a deprecation
    tier.learnings.record_outcome(ids[0], "helpful", session_id="real-1")
    tier.learnings.record_outcome(ids[1], "contradicted")
    tier.attribution.start_experiment(ids[2])
    tier.attribution.deprecate(ids[3], "obsolete", actor=as_principal("me"))
    tier.params.store_param(SystemParam("injection_budget", AdaptiveParam.with_prior(8.0, 2.0)))
    before = state(tier)
    rep = simulate_attribution(tier, seed=5, sessions=150, experiments=5, end=END)
    assert state(tier) != before
    with pytest.raises(GrooveError):
        simulate_attribution(tier, seed=5, sessions=10, end=END)  # same seed twice
    # a deprecated learning stays deprecated in the simulated values
    assert tier.attribution.get_learning_value(ids[3]).status.is_deprecated
    (done,) = remove_attribution_simulation(tier)
    assert done["run_id"] == rep.run_id and done["attributions"] == rep.attributions
    assert state(tier) == before
    assert tier.attribution.simulation_runs() == []
    assert remove_attribution_simulation(tier) == []


def test_removal_keeps_real_outcomes_recorded_meanwhile(tier):
    ids = [lr.id for lr in tier.learnings.iter_all()]
    before = tier.learnings.usage_many(ids)
    simulate_attribution(tier, seed=2, sessions=100, experiments=3, end=END)
    tier.learnings.record_outcome(ids[4], "helpful", session_id="real-2")
    remove_attribution_simulation(tier)
    after = tier.learnings.usage(ids[4])
    old = before.get(ids[4])
    assert after.times_helpful == (old.times_helpful if old else 0) + 1
    assert after.confidence_alpha == pytest.approx((old.confidence_alpha if old else 1) + 1)
    assert [e["session_id"] for e in tier.learnings.outcome_events(ids[4])] == ["real-2"]


def test_stacked_runs_are_removed_latest_first(tier):
    before = state(tier)
    simulate_attribution(tier, seed=1, sessions=60, experiments=2, end=END)
    first = state(tier)
    r2 = simulate_attribution(tier, seed=2, sessions=60, experiments=2, end=END)
    runs = tier.attribution.simulation_runs()
    with pytest.raises(GrooveError):
        remove_attribution_simulation(tier, runs[0].run_id)
    remove_attribution_simulation(tier, r2.run_id)
    assert state(tier) == first
    assert len(remove_attribution_simulation(tier)) == 1
    assert state(tier) == before


def test_empty_tier_is_refused(tmp_path):
    with (
        Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g,
        pytest.raises(GrooveError, match="no learnings"),
    ):
        simulate_attribution(g.tier("simulation:empty"))


def test_a_real_tier_is_refused_and_unchanged(tmp_path):
    """Issue 10: the simulation wrote outcomes into real learnings. It refuses any tier
    that is not a simulation tier, before writing anything."""
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many([make_learning(f"L {i}", "x") for i in range(5)])
        ids = g.user.learnings.ids()
        before = g.user.learnings.usage_many(ids)
        with pytest.raises(GrooveError, match="simulation tier"):
            simulate_attribution(g.user, seed=1, sessions=20)
        assert g.user.learnings.usage_many(ids) == before
        assert g.user.attribution.simulation_runs() == []


def test_learning_values_are_in_outcome_units_with_a_real_confidence(tier):
    """Issue 10: "estimated value" was about 0.45x the true effect and "value confidence"
    1 - 1/sqrt(1 + activations) whatever the data. Now: the stored value is the
    difference of mean session outcomes (checked against scipy's Welch test on the raw
    records) and tracks the true effect with slope about 1; the confidence is
    P(value > 0), which separates clear helps from clear harms."""
    from scipy import stats

    rep = simulate_attribution(tier, seed=9, sessions=600, experiments=0, end=END)
    frame = tier.attribution.attribution_frame()
    outcome = frame.groupby("session_id")["session_outcome"].first()
    values = tier.attribution.values_many(list(rep.truth))
    est, truth = [], []
    for lid, v in values.items():
        inj = set(frame[(frame["learning_id"] == lid) & ~frame["was_withheld"]]["session_id"])
        a = outcome[outcome.index.isin(inj)].to_numpy()
        b = outcome[~outcome.index.isin(inj)].to_numpy()
        if len(a) < 20:
            continue
        assert v.estimated_value == pytest.approx(a.mean() - b.mean(), abs=1e-12)
        welch = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
        # the exact posterior and the one-sided Welch p-value agree closely at these sizes
        assert v.confidence == pytest.approx(1 - welch.pvalue, abs=0.01)
        est.append(v.estimated_value)
        truth.append(rep.truth[lid])
    slope = np.polyfit(truth, est, 1)[0]
    assert 0.8 <= slope <= 1.25, slope
    conf = {lid: v.confidence for lid, v in values.items()}
    helps = [conf[i] for i, d in rep.truth.items() if d >= 0.12 and i in conf]
    harms = [conf[i] for i, d in rep.truth.items() if d <= -0.12 and i in conf]
    assert helps and harms and min(helps) > max(harms)
