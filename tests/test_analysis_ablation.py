"""Tests of groove_core.analysis.ablation: Welch test, Bayesian chance, confidence sequence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower

from groove_core.analysis.ablation import (
    AblationAnalysis,
    analyze,
    confidence_sequence,
    mixture_precision,
    sessions_per_arm,
    simulate_outcomes,
    to_result,
)
from groove_core.errors import ValidationError

TOL = 1e-9


def _arms(seed: int, effect: float, n_with: int, n_without: int, sd: float = 0.25):
    return simulate_outcomes(effect, n_with, n_without, sd=sd, rng=np.random.default_rng(seed))


@pytest.mark.parametrize(
    ("seed", "effect", "n_with", "n_without", "level"),
    [(1, 0.1, 30, 30, 0.95), (2, -0.05, 12, 40, 0.9), (3, 0.0, 5, 3, 0.99), (4, 0.3, 2, 2, 0.8)],
)
def test_welch_figures_match_scipy(seed, effect, n_with, n_without, level) -> None:
    w, o = _arms(seed, effect, n_with, n_without, sd=0.2 + 0.1 * seed)
    a = analyze(w, o, level=level)
    ref = stats.ttest_ind(w, o, equal_var=False)
    ci = ref.confidence_interval(confidence_level=level)
    assert a.n_with == n_with and a.n_without == n_without
    assert a.mean_with == pytest.approx(np.mean(w), abs=TOL)
    assert a.mean_without == pytest.approx(np.mean(o), abs=TOL)
    assert a.effect == pytest.approx(np.mean(w) - np.mean(o), abs=TOL)
    assert a.t_statistic == pytest.approx(ref.statistic, abs=TOL)
    assert a.df == pytest.approx(ref.df, abs=TOL)
    assert a.p_value == pytest.approx(ref.pvalue, abs=TOL)
    assert a.ci_low == pytest.approx(ci.low, abs=TOL)
    assert a.ci_high == pytest.approx(ci.high, abs=TOL)
    # the Bayesian chance of helping is the exact Behrens-Fisher posterior
    assert a.prob_helps == pytest.approx(_behrens_fisher_quad(w, o), abs=1e-7)
    assert a.level == level


def test_welch_worked_example() -> None:
    """Welch's t-test, example 1 of the Wikipedia article "Welch's t-test".

    Reported there: t = -2.46, df = 24.99 (~25.0), p = 0.021.
    """
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    a = analyze(a1, a2)
    assert round(a.t_statistic, 2) == -2.46
    assert round(a.df, 1) == 25.0
    assert round(a.p_value, 3) == 0.021
    assert a.effect == pytest.approx(np.mean(a1) - np.mean(a2), abs=TOL)
    assert a.prob_helps == pytest.approx(_behrens_fisher_quad(a1, a2), abs=1e-7)
    value, confidence, significant = to_result(a)
    assert value == a.effect < 0
    assert confidence == pytest.approx(1 - a.prob_helps, abs=TOL)
    assert significant is (a.status != "inconclusive")


def _behrens_fisher_quad(w, o) -> float:
    """P(mu_w - mu_o > 0) under the flat-prior normal model, written independently: the
    density of the with-arm's t variable against the cdf of the other (Box & Tiao 1973,
    2.5), integrated over the real line by scipy."""
    from scipy import integrate

    w, o = np.asarray(w, float), np.asarray(o, float)
    se_w = np.std(w, ddof=1) / math.sqrt(len(w))
    se_o = np.std(o, ddof=1) / math.sqrt(len(o))
    effect = np.mean(w) - np.mean(o)
    value, _ = integrate.quad(
        lambda t: stats.t.pdf(t, len(w) - 1) * stats.t.cdf((effect + se_w * t) / se_o, len(o) - 1),
        -np.inf,
        np.inf,
        epsabs=1e-12,
        limit=500,
    )
    return value


def _lai_interval(w, o, level, c2):
    """Lai's (1976) confidence set {mu : M_n(mu) < 1/alpha} on the paired differences,
    found by root-finding on the martingale itself (not the closed form groove uses)."""
    n = min(len(w), len(o))
    d = np.asarray(w[:n], float) - np.asarray(o[:n], float)
    alpha = 1 - level

    def log_m(mu):
        s, v = np.sum(d - mu), np.sum((d - mu) ** 2)
        return 0.5 * math.log(c2 / (n + c2)) - n / 2 * math.log1p(-(s * s) / ((n + c2) * v))

    centre = d.mean()
    if log_m(centre + 1e6) < math.log(1 / alpha):
        return -math.inf, math.inf
    f = lambda mu: log_m(mu) - math.log(1 / alpha)  # noqa: E731
    span = np.ptp(d) + 1.0
    lo = optimize.brentq(f, centre - 1e3 * span, centre, xtol=1e-14)
    hi = optimize.brentq(f, centre, centre + 1e3 * span, xtol=1e-14)
    return lo, hi


@pytest.mark.parametrize(
    ("n_with", "n_without", "level"), [(25, 25, 0.95), (10, 37, 0.9), (200, 190, 0.95)]
)
def test_confidence_sequence_is_lais_on_paired_sessions(n_with, n_without, level) -> None:
    w, o = _arms(11, 0.1, n_with, n_without)
    c2 = mixture_precision(200, level)
    lo, hi = confidence_sequence(w, o, level=level, t_opt=200)
    elo, ehi = _lai_interval(w, o, level, c2)
    assert lo == pytest.approx(elo, abs=1e-9)
    assert hi == pytest.approx(ehi, abs=1e-9)
    a = analyze(w, o, level=level, cs_t_opt=200)
    assert (a.cs_low, a.cs_high, a.cs_precision) == (lo, hi, c2)
    assert a.cs_pairs == min(n_with, n_without)


def test_confidence_sequence_is_unbounded_for_the_first_pairs() -> None:
    """With 5 pairs no effect can be ruled out at 95 % by a sequence tuned for 200
    sessions: the page must not draw a finite interval."""
    w, o = _arms(2, 0.3, 5, 5)
    assert confidence_sequence(w, o) == (-math.inf, math.inf)
    assert _lai_interval(w, o, 0.95, mixture_precision(200, 0.95)) == (-math.inf, math.inf)


@pytest.mark.parametrize(("t_opt", "level"), [(200, 0.95), (50, 0.9), (1000, 0.99)])
def test_mixture_precision_minimizes_width_at_t_opt(t_opt: float, level: float) -> None:
    w, o = _arms(3, 0.0, t_opt // 2, t_opt // 2)
    c2 = mixture_precision(t_opt, level)

    def width(c):
        lo, hi = _lai_interval(w, o, level, c)
        return hi - lo

    assert width(c2) <= width(c2 * 1.05) and width(c2) <= width(c2 / 1.05)
    # for large t_opt it approaches the optimal normal mixture of Howard et al. (2021):
    # c^2 ~ n_opt / x with log((x + 1) / alpha^2) = x
    x = optimize.brentq(lambda x: math.log((x + 1) / (1 - level) ** 2) - x, 1, 100)
    assert c2 == pytest.approx((t_opt / 2) / x, rel=0.2)


def _experiments_with_known_effects(n: int, seed: int):
    """``n`` ablation experiments shaped like ``groove simulate``'s: a fair coin withholds
    the learning in each of 30-150 eligible sessions (so the arms are unbalanced), and a
    session's outcome is 0.55 + the learning's true effect when injected + the effects of
    1 + Poisson(2.5) other learnings (drawn from the simulation's effect prior) + N(0, 0.1^2).
    Returns the experiments and their true effects."""
    from groove_core.model.attribution import AblationExperiment, SessionOutcome
    from groove_core.model.serde import new_id, now
    from groove_core.simulate.attribution import effect_prior

    rng = np.random.default_rng(seed)
    t0 = now()
    exps, truth = [], {}
    for _ in range(n):
        lid = new_id()
        effect = float(rng.uniform(-0.25, 0.25))
        size = int(rng.integers(30, 151))
        injected = rng.random(size) >= 0.5
        others = 1 + rng.poisson(2.5, size)
        background = np.add.reduceat(
            effect_prior(rng, int(others.sum())), np.r_[0, np.cumsum(others)[:-1]]
        )
        y = 0.55 + effect * injected + background + rng.normal(0.0, 0.1, size)
        sessions = [SessionOutcome(f"s{k}", float(v), t0) for k, v in enumerate(y)]
        arms = ([], [])
        for k, session in enumerate(sessions):
            arms[0 if injected[k] else 1].append(session)
        exps.append(AblationExperiment(lid, t0, tuple(arms[0]), tuple(arms[1])))
        truth[lid] = effect
    return exps, truth


def test_intervals_shown_cover_the_truth_in_1000_experiments(store) -> None:
    """The coverage test of the issue, on the path the ablation page takes: 1,000
    experiments with known effects are stored, and ``analyze_experiments`` (what the
    page calls) computes their intervals. The 95 % Welch interval covers the true effect
    in 93-97 % of them; the 95 % sequential interval, valid at every look and so wider,
    in at least 95 %."""
    from groove_core.experiments import analyze_experiments
    from groove_core.store.attribution import AttributionStore

    exps, truth = _experiments_with_known_effects(1000, seed=20260109)
    attr = AttributionStore(store.db, store)
    attr.store_bulk(experiments=exps)
    done = analyze_experiments(attr, save=False)
    assert len(done) == 1000
    ci = np.mean(
        [d.analysis.ci_low <= truth[d.experiment.learning_id] <= d.analysis.ci_high for d in done]
    )
    cs = np.mean(
        [d.analysis.cs_low <= truth[d.experiment.learning_id] <= d.analysis.cs_high for d in done]
    )
    assert 0.93 <= ci <= 0.97, ci
    assert cs >= 0.95, cs
    # every verdict given is right about the sign
    wrong = [
        d
        for d in done
        if d.analysis.status != "inconclusive"
        and (d.analysis.status == "positive") != (truth[d.experiment.learning_id] > 0)
    ]
    assert len(wrong) <= 0.025 * 1000, len(wrong)
    print(f"coverage: Welch {ci:.3f}, sequential {cs:.3f}, wrong verdicts {len(wrong)}")


def test_confidence_sequence_covers_truth_under_continuous_monitoring() -> None:
    """1,000 experiments looked at every 10 sessions per arm up to 200: the 95 % sequence
    must hold at all 20 looks in >= 95 % of them, which the fixed-n interval does not."""
    rng = np.random.default_rng(7)
    true_effect = 0.1
    runs = 1000
    looks = list(range(10, 201, 10))
    w_all = np.empty((runs, 200))
    o_all = np.empty((runs, 200))
    for r in range(runs):
        w_all[r], o_all[r] = simulate_outcomes(true_effect, 200, 200, rng=rng)

    cs_always = np.ones(runs, dtype=bool)
    ci_always = np.ones(runs, dtype=bool)
    for n in looks:
        welch = stats.ttest_ind(w_all[:, :n], o_all[:, :n], axis=1, equal_var=False)
        ci = welch.confidence_interval(confidence_level=0.95)
        ci_always &= (ci.low <= true_effect) & (true_effect <= ci.high)
        for r in range(runs):
            lo, hi = confidence_sequence(w_all[r, :n], o_all[r, :n])
            cs_always[r] &= lo <= true_effect <= hi
            # an always-valid interval is wider than the fixed-n one
            assert lo < ci.low[r] and hi > ci.high[r]
    cs_rate = cs_always.mean()
    ci_rate = ci_always.mean()
    print(f"time-uniform coverage: sequential {cs_rate:.3f}, Welch {ci_rate:.3f}")
    assert cs_rate >= 0.95, cs_rate
    # repeated looks at the fixed-n interval miss the truth far more often: the point of a CS
    assert ci_rate < 0.85, ci_rate
    assert cs_rate > ci_rate + 0.1


def test_status_positive_for_large_effect_with_enough_sessions() -> None:
    w, o = _arms(5, 0.3, 60, 60)
    few = analyze(w[:10], o[:10])
    assert few.status == "inconclusive"  # below min_sessions_per_arm whatever the data
    a = analyze(w, o)
    assert a.status == "positive"
    assert a.cs_low > 0
    assert a.prob_helps > 0.999
    assert to_result(a)[2] is True


def test_status_negative_for_harmful_learning() -> None:
    w, o = _arms(6, -0.3, 60, 60)
    a = analyze(w, o)
    assert a.status == "negative"
    assert a.cs_high < 0
    assert a.prob_helps < 0.001
    value, confidence, significant = to_result(a)
    assert value < 0 and significant is True
    assert confidence == pytest.approx(1 - a.prob_helps, abs=TOL)


def test_status_inconclusive_without_effect() -> None:
    a = analyze(*_arms(8, 0.0, 100, 100))
    assert a.status == "inconclusive"
    assert a.cs_low < 0 < a.cs_high
    assert to_result(a)[2] is False


def test_status_waits_for_the_minimum_sessions_per_arm() -> None:
    """The sequence already excludes 0 after 16 sessions an arm, but the verdict waits.
    (Pairs whose differences all agree carry no noise estimate, so the arms are paired
    against a reversed copy: the differences alternate 0.5 and 1.5.)"""
    o = np.tile([0.25, 0.75], 8)
    w = o[::-1] + 1.0
    a = analyze(w, o, min_sessions_per_arm=20, target_effect=1.0)
    assert a.cs_low > 0 and a.status == "inconclusive"
    assert sessions_per_arm(np.std(o, ddof=1), 1.0) < 20
    assert a.sessions_needed_per_arm == 20 - 16  # the minimum is what is missing
    assert "4 more sessions with the learning and 4 more without" in a.reason
    assert to_result(a)[2] is False
    b = analyze(w, o, min_sessions_per_arm=16)
    assert b.status == "positive" and b.sessions_needed_per_arm == 0
    assert to_result(b)[2] is True


def test_status_follows_the_sequential_interval_not_welch() -> None:
    """Welch's fixed-n interval excludes 0 but the sequential one does not: inconclusive."""
    o = np.tile([0.25, 0.75], 30)
    w = o[::-1].copy()
    a = analyze(w + 0.12, o)
    assert a.ci_low > 0 and a.p_value < 0.05
    assert a.cs_low < 0 < a.cs_high
    assert a.status == "inconclusive"
    assert a.sessions_needed_per_arm > 0
    harm = analyze(w - 0.12, o)
    assert harm.ci_high < 0 and harm.status == "inconclusive"
    assert analyze(w - 0.3, o).status == "negative"


def test_status_flips_as_sessions_accumulate() -> None:
    w, o = _arms(9, 0.2, 150, 150)
    statuses = [analyze(w[:n], o[:n]).status for n in (5, 19, 150)]
    assert statuses == ["inconclusive", "inconclusive", "positive"]


def _fixed_sd_arms(n: int) -> tuple[np.ndarray, np.ndarray]:
    base = np.tile([0.25, 0.75], n // 2)
    return base + 0.05, base


def test_sessions_needed_decreases_and_reaches_zero() -> None:
    needed = []
    for n in (10, 20, 40, 60):
        w, o = _fixed_sd_arms(n)
        needed.append(analyze(w, o, target_effect=0.1, power=0.8).sessions_needed_per_arm)
    assert needed == sorted(needed, reverse=True)
    assert needed[0] > needed[-1] > 0
    w, o = _fixed_sd_arms(400)
    assert analyze(w, o, target_effect=0.1).sessions_needed_per_arm == 0


@pytest.mark.parametrize(("sd", "effect"), [(0.25, 0.1), (0.1, 0.05)])
def test_sessions_per_arm_gives_the_power_to_the_sequence(sd: float, effect: float) -> None:
    """At the computed n, 1,000 simulated experiments with the target effect: the
    confidence sequence excludes 0 in about 80 % of them (the requested power); at half
    that n far less often. A fixed-n Welch test (statsmodels, Cohen 1988) needs fewer."""
    n = sessions_per_arm(sd, effect, power=0.8)
    rng = np.random.default_rng(20260110)

    def detected(per_arm: int) -> float:
        hits = 0
        for _ in range(1000):
            w, o = simulate_outcomes(effect, per_arm, per_arm, sd=sd, rng=rng)
            hits += confidence_sequence(w, o)[0] > 0
        return hits / 1000

    assert 0.76 <= detected(n) <= 0.84
    assert detected(n // 2) < 0.5
    fixed = TTestIndPower().solve_power(effect_size=effect / sd, alpha=0.05, power=0.8)
    assert 1.5 * fixed < n < 2.5 * fixed


def test_sessions_needed_counts_to_the_sequence_and_the_minimum() -> None:
    w, o = _fixed_sd_arms(20)
    pooled = math.sqrt((np.var(w, ddof=1) * 19 + np.var(o, ddof=1) * 19) / 38)
    a = analyze(w, o, target_effect=0.05, power=0.8)
    assert a.status == "inconclusive"
    assert a.sessions_needed_per_arm == sessions_per_arm(pooled, 0.05, power=0.8) - 20
    # a large target: the sequence would need few sessions, the minimum per arm rules
    w, o = _fixed_sd_arms(6)
    a = analyze(w, o, target_effect=5.0, min_sessions_per_arm=30)
    assert sessions_per_arm(np.std(o, ddof=1), 5.0) < 30
    assert a.status == "inconclusive" and a.sessions_needed_per_arm == 30 - 6


def test_sessions_per_arm_rejects_bad_input() -> None:
    assert sessions_per_arm(0.0, 0.1) == 2
    for args in [(-0.1, 0.1), (float("nan"), 0.1), (0.2, 0.0), (0.2, "x")]:
        with pytest.raises(ValidationError):
            sessions_per_arm(*args)


def test_unbalanced_arms_need_sessions_for_the_smaller_arm() -> None:
    w, o = _fixed_sd_arms(20)
    w_big = np.concatenate([w, w, w, w, w])
    a = analyze(w_big, o, target_effect=0.1)
    pooled = math.sqrt((np.var(w_big, ddof=1) * 99 + np.var(o, ddof=1) * 19) / 118)
    assert a.sessions_needed_per_arm == sessions_per_arm(pooled, 0.1) - 20


@pytest.mark.parametrize(("n_with", "n_without"), [(0, 0), (1, 30), (30, 1), (0, 5)])
def test_too_few_sessions_give_an_inconclusive_analysis(n_with: int, n_without: int) -> None:
    w, o = _arms(3, 0.5, n_with, n_without)
    a = analyze(w, o)
    assert isinstance(a, AblationAnalysis)
    assert a.status == "inconclusive"
    for field in ("ci_low", "ci_high", "t_statistic", "df", "p_value", "prob_helps"):
        assert math.isnan(getattr(a, field)), field
    assert math.isnan(a.cs_low) and math.isnan(a.cs_high)
    assert (a.n_with, a.n_without) == (n_with, n_without)
    if n_with and n_without:
        assert a.effect == pytest.approx(np.mean(w) - np.mean(o), abs=TOL)
    else:
        assert math.isnan(a.effect)
    if max(n_with, n_without) >= 2:
        assert a.sessions_needed_per_arm is not None and a.sessions_needed_per_arm > 0
    else:
        assert a.sessions_needed_per_arm is None
    with pytest.raises(ValidationError):
        to_result(a)


def test_zero_variance_arms_give_no_finding() -> None:
    """Issue 10: analyze([1, 1], [0, 0]) gave p = 0, every interval a point and a chance
    of 1.0, and a positive verdict with the minimum lowered to 2. Arms without any
    variation say nothing about the noise: no p-value, no interval, no verdict."""
    for w, o in (([1.0, 1.0], [0.0, 0.0]), (np.ones(25), np.zeros(25))):
        a = analyze(w, o, min_sessions_per_arm=2)
        assert a.effect == 1.0
        for field in ("p_value", "ci_low", "ci_high", "prob_helps", "cs_low", "cs_high"):
            assert math.isnan(getattr(a, field)), field
        assert a.status == "inconclusive" and a.degenerate == "no variation"
        assert "noise cannot be estimated" in a.reason
        assert to_result(a) == (1.0, 0.5, False)
    same = analyze(np.full(25, 0.5), np.full(25, 0.5))
    assert same.effect == 0.0 and math.isnan(same.prob_helps)
    assert same.status == "inconclusive" and same.degenerate == "identical"
    assert to_result(same) == (0.0, 0.5, False)


@pytest.mark.parametrize(
    ("w", "o"),
    [
        ([0.1 + 0.2] * 20, [0.3] * 20),
        ([0.1 + 0.2, 0.3] * 10, [0.3] * 20),
        ([0.7 + 0.1] * 20, [0.8, 0.1 + 0.7] * 10),
    ],
)
def test_rounding_noise_is_no_detectable_difference(w, o) -> None:
    """Issue 10: analyze([0.1 + 0.2] * 20, [0.3] * 20) had effect 5.6e-17, p = 0.0038
    and chance it helps 0.998. Values identical up to rounding give no difference."""
    # what a t-test makes of it (independent): rounding noise reads as significance
    assert np.ptp(np.r_[w, o]) < 1e-15
    a = analyze(w, o, min_sessions_per_arm=2)
    assert a.effect == 0.0 and a.degenerate == "identical"
    assert math.isnan(a.p_value) and math.isnan(a.prob_helps)
    assert a.status == "inconclusive"
    assert a.reason.startswith("No detectable difference")


def test_to_result_confidence_definition() -> None:
    a = analyze(*_arms(12, 0.05, 30, 30))
    value, confidence, significant = to_result(a)
    assert value == a.effect
    expected = a.prob_helps if a.effect >= 0 else 1 - a.prob_helps
    assert confidence == pytest.approx(expected, abs=TOL)
    assert 0.5 <= confidence <= 1.0
    assert significant is (a.status != "inconclusive")
    with pytest.raises(ValidationError):
        to_result((0.1, 0.9, True))  # type: ignore[arg-type]


def test_analysis_is_frozen() -> None:
    a = analyze(*_arms(1, 0.1, 5, 5))
    with pytest.raises(AttributeError):
        a.status = "positive"  # type: ignore[misc]


def test_simulate_outcomes_is_deterministic_and_has_the_effect() -> None:
    w1, o1 = simulate_outcomes(0.2, 4000, 3000, rng=np.random.default_rng(1))
    w2, o2 = simulate_outcomes(0.2, 4000, 3000, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(o1, o2)
    assert w1.shape == (4000,) and o1.shape == (3000,)
    assert np.mean(w1) - np.mean(o1) == pytest.approx(0.2, abs=0.02)
    assert np.std(o1) == pytest.approx(0.25, abs=0.02)
    assert np.mean(o1) == pytest.approx(0.5, abs=0.02)
    with pytest.raises(ValidationError):
        simulate_outcomes(0.1, 5, 5, rng=1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        simulate_outcomes(0.1, -1, 5, rng=np.random.default_rng(1))
    with pytest.raises(ValidationError):
        simulate_outcomes(float("nan"), 5, 5, rng=np.random.default_rng(1))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([0.1, float("nan"), 0.3], [0.2, 0.3]), {}),
        (([0.1, 0.2], [0.2, float("inf")]), {}),
        (([[0.1, 0.2]], [0.2, 0.3]), {}),
        ((["a", "b"], [0.2, 0.3]), {}),
        (([0.1, 0.2], [0.2, 0.3]), {"level": 1.0}),
        (([0.1, 0.2], [0.2, 0.3]), {"level": 0}),
        (([0.1, 0.2], [0.2, 0.3]), {"power": 1.2}),
        (([0.1, 0.2], [0.2, 0.3]), {"target_effect": 0.0}),
        (([0.1, 0.2], [0.2, 0.3]), {"target_effect": float("nan")}),
        (([0.1, 0.2], [0.2, 0.3]), {"min_sessions_per_arm": 1}),
        (([0.1, 0.2], [0.2, 0.3]), {"cs_t_opt": 0}),
    ],
)
def test_analyze_rejects_bad_input(args: tuple, kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        analyze(*args, **kwargs)


def test_confidence_sequence_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        confidence_sequence([0.1], [0.2, 0.3])
    with pytest.raises(ValidationError):
        confidence_sequence([0.1, 0.2], [0.2, 0.3], t_opt=2.0)
    with pytest.raises(ValidationError):
        confidence_sequence([0.1, float("inf")], [0.2, 0.3])
    with pytest.raises(ValidationError):
        mixture_precision(0)
    with pytest.raises(ValidationError):
        mixture_precision(float("nan"))
    with pytest.raises(ValidationError):
        mixture_precision(100, level=1.5)


def test_sessions_needed_with_a_huge_standardised_effect_is_the_minimum():
    """Low-variance arms: statsmodels' solver cannot converge; the answer is 2 per arm."""
    rng = np.random.default_rng(3)
    with_ = 0.6 + rng.uniform(-0.02, 0.02, 30)
    without = 0.5 + rng.uniform(-0.02, 0.02, 30)
    res = analyze(with_, without, target_effect=0.1)
    assert res.sessions_needed_per_arm == 0
    assert res.status == "positive"
