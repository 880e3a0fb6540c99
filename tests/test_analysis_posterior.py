"""Tests of groove_core.analysis.posterior: Beta posteriors of a learning's confidence."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from groove_core.analysis.posterior import (
    PosteriorSummary,
    compare,
    density,
    summarize,
    trajectory,
)
from groove_core.errors import GrooveError, ValidationError

TOL = 1e-9


@pytest.mark.parametrize(
    ("a", "b"),
    [(1.0, 1.0), (2.0, 2.6), (11.0, 1.3), (0.5, 0.5), (3.0, 25.5), (438.0, 544.0)],
)
def test_summary_matches_scipy_beta(a: float, b: float) -> None:
    s = summarize(a, b, prior_alpha=0.5, prior_beta=0.5, level=0.9, threshold=0.3)
    dist = stats.beta(a, b)
    lo, hi = dist.interval(0.9)
    assert s.alpha == a and s.beta == b
    assert s.mean == pytest.approx(dist.mean(), abs=TOL)
    assert s.mean == pytest.approx(a / (a + b), abs=TOL)
    assert s.sd == pytest.approx(dist.std(), abs=TOL)
    assert s.ci_low == pytest.approx(lo, abs=TOL)
    assert s.ci_high == pytest.approx(hi, abs=TOL)
    assert s.p_below_threshold == pytest.approx(dist.cdf(0.3), abs=TOL)
    assert s.level == 0.9
    assert s.threshold == 0.3
    assert s.effective_sample_size == pytest.approx(a + b, abs=TOL)
    assert s.evidence == pytest.approx(a + b - 1.0, abs=TOL)
    # the equal-tailed interval leaves (1 - level) / 2 in each tail
    assert dist.cdf(s.ci_low) == pytest.approx(0.05, abs=TOL)
    assert dist.sf(s.ci_high) == pytest.approx(0.05, abs=TOL)


def test_mode_closed_form_and_numeric_maximum() -> None:
    s = summarize(7.0, 3.5)
    assert s.mode == pytest.approx(6.0 / 8.5, abs=TOL)
    x = np.linspace(0.001, 0.999, 200_001)
    assert x[np.argmax(stats.beta.pdf(x, 7.0, 3.5))] == pytest.approx(s.mode, abs=1e-5)


@pytest.mark.parametrize(
    ("a", "b", "mode"), [(3.0, 1.0, 1.0), (1.0, 5.0, 0.0), (2.0, 0.6, 1.0), (1.0, 1.7, 0.0)]
)
def test_mode_at_a_boundary(a: float, b: float, mode: float) -> None:
    """Only helpful outcomes so far (beta = 1): the density rises to its maximum at 1."""
    assert summarize(a, b, prior_alpha=0.5, prior_beta=0.5).mode == mode
    x = np.linspace(1e-6, 1 - 1e-6, 100_001)
    assert x[np.argmax(stats.beta.pdf(x, a, b))] == pytest.approx(mode, abs=1e-5)


@pytest.mark.parametrize(("a", "b"), [(1.0, 1.0), (0.5, 0.7)])
def test_mode_is_none_without_a_single_maximum(a: float, b: float) -> None:
    assert summarize(a, b, prior_alpha=0.5, prior_beta=0.5).mode is None


def test_worked_example_placenta_previa_bda3() -> None:
    """Gelman et al., Bayesian Data Analysis, 3rd ed., section 2.4 (placenta previa).

    437 girls in 980 births, uniform prior: posterior Beta(438, 544) with mean 0.446,
    sd 0.016 and central 95 % interval [0.415, 0.477] (figures as printed in the book).
    """
    s = summarize(1.0 + 437, 1.0 + 543)
    assert round(s.mean, 3) == 0.446
    assert round(s.sd, 3) == 0.016
    assert round(s.ci_low, 3) == 0.415
    assert round(s.ci_high, 3) == 0.477
    assert s.evidence == 980.0
    assert s.effective_sample_size == 982.0
    assert s.p_below_threshold is None


def test_summary_of_new_learning_is_the_uniform_prior() -> None:
    s = summarize(1.0, 1.0, threshold=0.3)
    assert s.mean == 0.5
    assert s.evidence == 0.0
    assert s.ci_low == pytest.approx(0.025, abs=TOL)
    assert s.ci_high == pytest.approx(0.975, abs=TOL)
    assert s.p_below_threshold == pytest.approx(0.3, abs=TOL)
    assert s.sd == pytest.approx(math.sqrt(1 / 12), abs=TOL)


def test_summary_with_other_prior() -> None:
    s = summarize(4.0, 6.0, prior_alpha=2.0, prior_beta=2.0)
    assert s.evidence == pytest.approx(6.0, abs=TOL)


def test_summary_is_frozen() -> None:
    s = summarize(2.0, 3.0)
    assert isinstance(s, PosteriorSummary)
    with pytest.raises(AttributeError):
        s.mean = 0.9  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.0, "beta": 1.0},
        {"alpha": -1.0, "beta": 1.0},
        {"alpha": 1.0, "beta": 0.0},
        {"alpha": float("nan"), "beta": 1.0},
        {"alpha": 1.0, "beta": float("inf")},
        {"alpha": "x", "beta": 1.0},
        {"alpha": 2.0, "beta": 2.0, "level": 1.0},
        {"alpha": 2.0, "beta": 2.0, "level": 0.0},
        {"alpha": 2.0, "beta": 2.0, "threshold": 1.5},
        {"alpha": 2.0, "beta": 2.0, "threshold": float("nan")},
        {"alpha": 2.0, "beta": 2.0, "prior_alpha": 0.0},
        {"alpha": 0.5, "beta": 2.0},  # below the default Beta(1, 1) prior
    ],
)
def test_summary_rejects_bad_input(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        summarize(**kwargs)


def test_validation_error_is_a_groove_error() -> None:
    with pytest.raises(GrooveError):
        summarize(0.0, 1.0)


@pytest.mark.parametrize(("a", "b"), [(2.0, 5.0), (0.5, 0.5), (0.3, 4.0), (438.0, 544.0)])
def test_density_grid_and_values(a: float, b: float) -> None:
    df = density(a, b, points=150)
    assert list(df.columns) == ["x", "pdf"]
    assert len(df) == 150
    x = df["x"].to_numpy()
    assert np.all((x > 0) & (x < 1))
    assert np.all(np.diff(x) > 0)
    assert np.all(np.isfinite(df["pdf"]))
    np.testing.assert_allclose(df["pdf"], stats.beta.pdf(x, a, b), rtol=TOL, atol=0)
    # the grid spans the central 99.98 % of the mass, kept 1e-12 away from 0 and 1
    lo, hi = stats.beta.ppf([1e-4, 1 - 1e-4], a, b)
    assert x[0] == pytest.approx(max(lo, 1e-12), rel=TOL)
    assert x[-1] == pytest.approx(min(hi, 1 - 1e-12), rel=TOL)


def test_density_of_concentrated_posterior_resolves_the_peak() -> None:
    df = density(438.0, 544.0, points=200)
    ci = summarize(438.0, 544.0)
    inside = df[(df["x"] >= ci.ci_low) & (df["x"] <= ci.ci_high)]
    assert len(inside) > 100  # a uniform grid over (0, 1) would put ~12 points here


@pytest.mark.parametrize("points", [0, 1, 2.5, "200", True])
def test_density_rejects_bad_points(points: object) -> None:
    with pytest.raises(ValidationError):
        density(2.0, 2.0, points=points)  # type: ignore[arg-type]


def test_compare_long_format() -> None:
    params = {"tabs": (2.0, 2.6), "spaces": (11.0, 1.3), "new": (1.0, 1.0)}
    df = compare(params, points=50)
    assert list(df.columns) == ["label", "x", "pdf"]
    assert len(df) == 150
    assert list(df["label"].unique()) == ["tabs", "spaces", "new"]
    for label, (a, b) in params.items():
        part = df[df["label"] == label]
        assert len(part) == 50
        np.testing.assert_allclose(part["pdf"], stats.beta.pdf(part["x"], a, b), rtol=TOL)
        pd.testing.assert_frame_equal(
            part[["x", "pdf"]].reset_index(drop=True), density(a, b, points=50)
        )


def test_compare_empty_and_bad() -> None:
    empty = compare({})
    assert list(empty.columns) == ["label", "x", "pdf"]
    assert len(empty) == 0
    with pytest.raises(ValidationError):
        compare({"a": (1.0,)})  # type: ignore[dict-item]
    with pytest.raises(ValidationError):
        compare({"a": (0.0, 1.0)})
    with pytest.raises(ValidationError):
        compare([(1.0, 1.0)])  # type: ignore[arg-type]


def test_trajectory_applies_seed_increments() -> None:
    t0 = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
    events = pd.DataFrame(
        {
            "timestamp": [t0, t0 + timedelta(minutes=5), t0 + timedelta(minutes=9)],
            "outcome": ["helpful", "ignored", "contradicted"],
        }
    )
    tr = trajectory(events)
    assert list(tr.columns) == [
        "timestamp",
        "outcome",
        "alpha",
        "beta",
        "mean",
        "ci_low",
        "ci_high",
    ]
    assert len(tr) == 4
    assert tr["outcome"].tolist() == [None, "helpful", "ignored", "contradicted"]
    assert tr["timestamp"].iloc[0] == t0  # the prior row sits at the first event
    np.testing.assert_allclose(tr["alpha"], [1.0, 2.0, 2.0, 2.0], atol=TOL)
    np.testing.assert_allclose(tr["beta"], [1.0, 1.0, 1.1, 2.6], atol=TOL)
    np.testing.assert_allclose(tr["mean"], [0.5, 2 / 3, 2 / 3.1, 2 / 4.6], atol=TOL)
    for _, row in tr.iterrows():
        lo, hi = stats.beta.interval(0.95, row["alpha"], row["beta"])
        assert row["ci_low"] == pytest.approx(lo, abs=TOL)
        assert row["ci_high"] == pytest.approx(hi, abs=TOL)
    final = tr.iloc[-1]
    assert final["alpha"] == pytest.approx(2.0, abs=TOL)
    assert final["beta"] == pytest.approx(2.6, abs=TOL)


def test_trajectory_sorts_by_time_and_agrees_with_usage_stats() -> None:
    from groove_core.model.usage import UsageStats

    events = pd.DataFrame(
        {
            "timestamp": [1_700_000_300, 1_700_000_100, 1_700_000_200, 1_700_000_200],
            "outcome": ["contradicted", "helpful", "helpful", "ignored"],
        }
    )
    tr = trajectory(events, level=0.8)
    assert tr["timestamp"].tolist() == [
        1_700_000_100,
        1_700_000_100,
        1_700_000_200,
        1_700_000_200,
        1_700_000_300,
    ]
    assert tr["outcome"].tolist()[1:] == ["helpful", "helpful", "ignored", "contradicted"]
    stats_ = UsageStats()
    for outcome in ["helpful", "helpful", "ignored", "contradicted"]:
        stats_.record_outcome(outcome)  # type: ignore[arg-type]
    assert tr["alpha"].iloc[-1] == pytest.approx(stats_.confidence_alpha, abs=TOL)
    assert tr["beta"].iloc[-1] == pytest.approx(stats_.confidence_beta, abs=TOL)
    assert tr["mean"].iloc[-1] == pytest.approx(stats_.confidence(), abs=TOL)
    lo, _ = stats.beta.interval(0.8, 3.0, 2.6)
    assert tr["ci_low"].iloc[-1] == pytest.approx(lo, abs=TOL)


def test_trajectory_with_other_prior_and_no_events() -> None:
    tr = trajectory(
        pd.DataFrame({"timestamp": [5], "outcome": ["helpful"]}), prior_alpha=2, prior_beta=3
    )
    assert tr["alpha"].tolist() == [2.0, 3.0]
    assert tr["beta"].tolist() == [3.0, 3.0]
    empty = trajectory(pd.DataFrame({"timestamp": [], "outcome": []}))
    assert len(empty) == 1
    assert empty["timestamp"].iloc[0] is None
    assert empty["alpha"].iloc[0] == 1.0 and empty["mean"].iloc[0] == 0.5


@pytest.mark.parametrize(
    "events",
    [
        pd.DataFrame({"timestamp": [1, 2], "outcome": ["helpful", "great"]}),
        pd.DataFrame({"timestamp": [1, 2], "outcome": ["helpful", None]}),
        pd.DataFrame({"timestamp": [1, None], "outcome": ["helpful", "ignored"]}),
        pd.DataFrame({"time": [1], "outcome": ["helpful"]}),
        pd.DataFrame({"timestamp": [1]}),
        [("helpful", 1)],
    ],
)
def test_trajectory_rejects_bad_events(events: object) -> None:
    with pytest.raises(ValidationError):
        trajectory(events)  # type: ignore[arg-type]
