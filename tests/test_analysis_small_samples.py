"""Issue 10: what an ablation experiment claims at 2, 5, 20 and 200 sessions per arm is
true at each of those sizes. Every number is checked against an independent computation
(Monte Carlo with a stated error, scipy quadrature), never against groove's own output."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from groove_core.analysis.ablation import analyze, sequential_path
from groove_core.errors import ValidationError

RUNS = 4000  # Monte Carlo runs: the standard error of a rate near 2.5 % is 0.25 %


def _null_sessions(rng, runs: int, sessions: int, kind: str):
    """``runs`` experiments of ``sessions`` sessions under "no effect": a fair coin
    withholds the learning, and outcomes do not depend on it. Returns, per run, the
    arms' outcomes in session order (padded with the run's own draws) and the coin."""
    shape = (runs, sessions)
    if kind == "normal, unequal sd":  # the sd differs by arm, the mean does not
        with_, without = rng.normal(0.5, 0.4, shape), rng.normal(0.5, 0.1, shape)
    elif kind == "bernoulli":
        with_, without = (rng.random(shape) < 0.5) * 1.0, (rng.random(shape) < 0.5) * 1.0
    else:  # skewed, bounded in [0, 1]
        with_, without = rng.beta(0.5, 4, shape), rng.beta(0.5, 4, shape)
    injected = rng.random(shape) < 0.5
    return with_, without, injected


@pytest.mark.parametrize("kind", ["normal, unequal sd", "bernoulli", "skewed"])
def test_false_positive_rate_with_a_look_after_every_session(kind) -> None:
    """Issue 10: with the minimum lowered to 2 and a look after every session, the old
    verdict was wrong in 16.5 % of null experiments. Here 4,000 null experiments of 400
    sessions are looked at after every session from the second one, with the smallest
    minimum the page allows (2 per arm); the share that ever shows "positive" or
    "negative" must stay <= 5 %. Monte Carlo error: a true rate of 5 % has a standard
    error of 0.34 % over 4,000 runs, so an estimate above 5 % + 0 would be a real excess
    more often than not; the measured rates are 1.5-3 %."""
    rng = np.random.default_rng(20260110)
    with_, without, injected = _null_sessions(rng, RUNS, 400, kind)
    # arm k's i-th session is the i-th session that fell into that arm
    n_with, n_without = injected.sum(axis=1), (~injected).sum(axis=1)
    pairs = int(np.minimum(n_with, n_without).max())
    low, high = sequential_path(with_[:, :pairs], without[:, :pairs])
    # after any session the verdict uses the pairs complete so far, so every pair count
    # up to the run's final one is looked at (and no other)
    looked = np.arange(1, pairs + 1)[None, :] <= np.minimum(n_with, n_without)[:, None]
    verdict = looked & (np.arange(1, pairs + 1)[None, :] >= 2) & ((low > 0) | (high < 0))
    rate = verdict.any(axis=1).mean()
    print(f"{kind}: false-positive rate with a look after every session {rate:.4f}")
    assert rate <= 0.05, rate
    if kind != "bernoulli":
        return
    # the vectorised path is what analyze() decides, look by look (every session)
    for r in range(4):
        arms: tuple[list, list] = ([], [])
        for k in range(60):
            arms[0 if injected[r, k] else 1].append(
                with_[r, len(arms[0])] if injected[r, k] else without[r, len(arms[1])]
            )
            if min(map(len, arms)) < 2:
                continue
            a = analyze(*arms, min_sessions_per_arm=2)
            p = min(map(len, arms)) - 1
            if a.degenerate is None:
                assert (a.cs_low, a.cs_high) == (low[r, p], high[r, p])
            assert (a.status != "inconclusive") == bool(verdict[r, p])


def test_sequential_interval_covers_the_truth_from_the_second_session() -> None:
    """Issue 10: the old sequential interval shown below 20 sessions per arm covered the
    truth in only 37.6-93.6 % of runs. Time-uniform coverage from the second pair to the
    20th, 4,000 runs with a true effect of 0.2 and unequal sds: >= 95 % (standard error
    0.34 % at 95 %)."""
    rng = np.random.default_rng(7)
    truth = 0.2
    w = rng.normal(0.5 + truth, 0.3, (RUNS, 20))
    o = rng.normal(0.5, 0.05, (RUNS, 20))
    low, high = sequential_path(w, o)
    covered = ((low[:, 1:] <= truth) & (truth <= high[:, 1:])).all(axis=1).mean()
    print(f"time-uniform coverage, 2-20 sessions per arm: {covered:.4f}")
    assert covered >= 0.95, covered


def _behrens_fisher_mc(w, o, rng, draws: int = 4_000_000) -> float:
    """P(mu_w - mu_o > 0) by Monte Carlo from the two marginal t posteriors."""
    w, o = np.asarray(w), np.asarray(o)
    mu_w = w.mean() + w.std(ddof=1) / math.sqrt(w.size) * rng.standard_t(w.size - 1, draws)
    mu_o = o.mean() + o.std(ddof=1) / math.sqrt(o.size) * rng.standard_t(o.size - 1, draws)
    return float(np.mean(mu_w > mu_o))


@pytest.mark.parametrize(
    ("w", "o"),
    [
        ([0.28, 0.57, 0.13], [0.34, 0.78, 0.59]),  # n = 3
        ([0.9, 0.2, 0.7], [0.41, 0.4, 0.42]),  # n = 3, very unequal sds
        ([0.5, 0.9], [0.3, 0.31]),  # n = 2
        ([0.55, 0.3, 0.72, 0.61, 0.4], [0.5, 0.49, 0.52, 0.47, 0.51]),  # n = 5
    ],
)
def test_chance_it_helps_is_the_exact_posterior(w, o) -> None:
    """Issue 10: "chance it helps" (a Welch-t approximation) was off by 0.058 at n = 3.
    It must be within 0.01 of the Behrens-Fisher posterior probability, here computed by
    Monte Carlo with 4 million draws (standard error <= 0.00025, tolerance 0.002)."""
    a = analyze(w, o, min_sessions_per_arm=2)
    exact = _behrens_fisher_mc(w, o, np.random.default_rng(3))
    assert a.prob_helps == pytest.approx(exact, abs=0.002)
    welch_t = stats.t.cdf(a.t_statistic, a.df)  # what the page used to show
    print(f"exact {exact:.4f}, shown {a.prob_helps:.4f}, Welch-t approximation {welch_t:.4f}")


def test_old_welch_approximation_misses_by_more_than_the_tolerance() -> None:
    """The first case above at n = 3, by quadrature: the approximation misses by > 0.05."""
    w, o = np.array([0.28, 0.57, 0.13]), np.array([0.34, 0.78, 0.59])
    se_w, se_o = w.std(ddof=1) / math.sqrt(3), o.std(ddof=1) / math.sqrt(3)
    effect = w.mean() - o.mean()
    exact, _ = integrate.quad(
        lambda t: stats.t.pdf(t, 2) * stats.t.cdf((effect + se_w * t) / se_o, 2),
        -np.inf,
        np.inf,
        epsabs=1e-12,
        limit=500,
    )
    res = stats.ttest_ind(w, o, equal_var=False)
    assert abs(stats.t.cdf(res.statistic, res.df) - exact) > 0.05
    assert analyze(w, o).prob_helps == pytest.approx(exact, abs=1e-7)


@pytest.mark.parametrize("per_arm", [2, 5, 20, 200])
def test_what_a_curator_sees_at_each_size(per_arm) -> None:
    """At 2 and 5 sessions per arm (below the default minimum of 20) there is no verdict
    and the reason says how many sessions are missing; the sequential interval is
    unbounded at 2 and 5 (the data cannot rule out any effect yet). At 20 and 200 a
    verdict may be given, by an interval that is finite."""
    rng = np.random.default_rng(per_arm)
    w, o = rng.normal(0.7, 0.2, per_arm), rng.normal(0.5, 0.2, per_arm)
    a = analyze(w, o)
    assert a.enough_sessions == (per_arm >= 20)
    if per_arm < 20:
        assert a.status == "inconclusive"
        assert f"{20 - per_arm} more sessions with the learning" in a.reason
        assert (a.cs_low, a.cs_high) == (-math.inf, math.inf)
    else:
        assert math.isfinite(a.cs_low) and math.isfinite(a.cs_high)
    if per_arm == 200:
        assert a.status == "positive" and a.reason.startswith("Conclusive")


def test_sequential_path_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        sequential_path([[0.1, 0.2]], [[0.1, 0.2, 0.3]])
    with pytest.raises(ValidationError):
        sequential_path([0.1, float("nan")], [0.1, 0.2])
