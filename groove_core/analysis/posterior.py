"""Beta posteriors of a learning's confidence (docs/architecture.md#relations-v1,
``usage_stats``).

A learning's confidence is the probability that injecting it helps. groove models it as
a Beta(alpha, beta) posterior that starts at a Beta(prior_alpha, prior_beta) prior
(uniform Beta(1, 1) by default) and moves by the data contract's per-outcome increments
(:data:`groove_core.model.usage.OUTCOME_INCREMENTS`: helpful (+1, 0), ignored (0, +0.1),
contradicted (0, +1.5)). The increments are fractional pseudo-counts, so the posterior
is a Beta "as if" from that many successes and failures, not an exact conjugate update
of Bernoulli data; the summaries below are exact properties of that Beta distribution.

Everything here is a pure function over numbers and data frames; every distributional
quantity comes from :data:`scipy.stats.beta`. Reference for the formulas: Gelman,
Carlin, Stern, Dunson, Vehtari & Rubin, *Bayesian Data Analysis*, 3rd ed. (2013),
sections 2.1-2.4 and appendix A (the Beta distribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from groove_core.errors import ValidationError
from groove_core.model.usage import OUTCOME_INCREMENTS, PRIOR_ALPHA, PRIOR_BETA, Outcome

__all__ = [
    "PosteriorSummary",
    "compare",
    "density",
    "summarize",
    "trajectory",
]

#: The grid of :func:`density` spans this much central posterior mass (1e-4 in each tail).
_GRID_TAIL = 1e-4
#: Grid points are kept this far from 0 and 1, where a Beta pdf may be infinite.
_GRID_EDGE = 1e-12


@dataclass(frozen=True)
class PosteriorSummary:
    """Summary of a Beta(alpha, beta) posterior of a learning's confidence.

    All probabilities and locations are on the confidence scale [0, 1].

    Attributes:
        alpha: posterior shape alpha (> 0); prior alpha plus helpful pseudo-counts.
        beta: posterior shape beta (> 0); prior beta plus ignored/contradicted pseudo-counts.
        mean: posterior mean alpha / (alpha + beta): the confidence groove reports.
        mode: the confidence where the posterior density is highest:
            (alpha - 1) / (alpha + beta - 2) when alpha > 1 and beta > 1; 1.0 when
            alpha >= 1 >= beta (density rising to the right, e.g. Beta(3, 1) after only
            helpful outcomes); 0.0 when alpha <= 1 <= beta; ``None`` when there is no
            single mode (Beta(1, 1) is flat, alpha < 1 and beta < 1 is U-shaped).
        sd: posterior standard deviation
            sqrt(alpha * beta / ((alpha + beta)^2 (alpha + beta + 1))).
        ci_low: lower end of the equal-tailed credible interval at ``level``
            (the (1 - level) / 2 quantile).
        ci_high: upper end of that interval (the (1 + level) / 2 quantile).
        level: credible level of the interval, in (0, 1).
        effective_sample_size: alpha + beta, the prior's and the evidence's pseudo-counts
            together (BDA3 section 2.4: "prior sample size" plus data).
        evidence: alpha + beta - prior_alpha - prior_beta, the pseudo-counts that came from
            outcomes rather than from the prior (0 for a new learning).
        threshold: the confidence threshold asked about, or ``None``.
        p_below_threshold: posterior probability P(confidence < threshold) (the Beta cdf at
            ``threshold``), or ``None`` when no threshold was given.
    """

    alpha: float
    beta: float
    mean: float
    mode: float | None
    sd: float
    ci_low: float
    ci_high: float
    level: float
    effective_sample_size: float
    evidence: float
    threshold: float | None
    p_below_threshold: float | None


def _check_shape(name: str, value: Any) -> float:
    """Return ``value`` as a float, raising ValidationError unless it is finite and > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(number) or number <= 0:
        raise ValidationError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def _check_level(level: Any) -> float:
    """Return ``level`` as a float, raising ValidationError unless 0 < level < 1."""
    try:
        number = float(level)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"level must be a number in (0, 1), got {level!r}") from err
    if not (0.0 < number < 1.0):
        raise ValidationError(f"level must be in (0, 1), got {level!r}")
    return number


def _check_points(points: Any) -> int:
    """Return ``points`` as an int, raising ValidationError unless it is an integer >= 2."""
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise ValidationError(f"points must be an integer >= 2, got {points!r}")
    return int(points)


def summarize(
    alpha: float,
    beta: float,
    *,
    prior_alpha: float = PRIOR_ALPHA,
    prior_beta: float = PRIOR_BETA,
    level: float = 0.95,
    threshold: float | None = None,
) -> PosteriorSummary:
    """Summarize the Beta(alpha, beta) posterior of one learning's confidence.

    Mean, sd, credible interval and tail probability are scipy.stats.beta's ``mean``,
    ``std``, ``interval`` (equal-tailed) and ``cdf``; the mode is the closed form
    (alpha - 1) / (alpha + beta - 2) (Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
    appendix A) for alpha > 1 and beta > 1, and the boundary where the density is
    monotone towards otherwise (see :class:`PosteriorSummary`).

    Args:
        alpha: posterior alpha, a finite number > 0.
        beta: posterior beta, a finite number > 0.
        prior_alpha: alpha of the prior the posterior started from (default 1, uniform).
        prior_beta: beta of that prior (default 1).
        level: credible level of the interval, in (0, 1).
        threshold: optional confidence threshold in [0, 1]; when given,
            ``p_below_threshold`` = P(confidence < threshold).

    Returns:
        A :class:`PosteriorSummary` (all fields scalars).

    Raises:
        ValidationError: alpha, beta, prior_alpha or prior_beta not finite and > 0 (NaN
            included); alpha < prior_alpha or beta < prior_beta (a posterior never holds
            fewer pseudo-counts than its prior); level outside (0, 1); threshold not a
            finite number in [0, 1].
    """
    a = _check_shape("alpha", alpha)
    b = _check_shape("beta", beta)
    pa = _check_shape("prior_alpha", prior_alpha)
    pb = _check_shape("prior_beta", prior_beta)
    lvl = _check_level(level)
    if a < pa or b < pb:
        raise ValidationError(
            f"posterior Beta({a}, {b}) holds fewer pseudo-counts than its prior Beta({pa}, {pb})"
        )
    thr: float | None = None
    if threshold is not None:
        try:
            thr = float(threshold)
        except (TypeError, ValueError) as err:
            raise ValidationError(f"threshold must be a number, got {threshold!r}") from err
        if not (0.0 <= thr <= 1.0):
            raise ValidationError(f"threshold must be in [0, 1], got {threshold!r}")

    dist = stats.beta(a, b)
    ci_low, ci_high = dist.interval(lvl)
    mode = _mode(a, b)
    return PosteriorSummary(
        alpha=a,
        beta=b,
        mean=float(dist.mean()),
        mode=mode,
        sd=float(dist.std()),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        level=lvl,
        effective_sample_size=a + b,
        evidence=a + b - pa - pb,
        threshold=thr,
        p_below_threshold=None if thr is None else float(dist.cdf(thr)),
    )


def _mode(a: float, b: float) -> float | None:
    """Mode of Beta(a, b); None when flat (a = b = 1) or U-shaped (a < 1 and b < 1)."""
    if a > 1.0 and b > 1.0:
        return (a - 1.0) / (a + b - 2.0)
    if a == b == 1.0 or (a < 1.0 and b < 1.0):
        return None
    return 1.0 if a >= 1.0 >= b else 0.0


def _grid(a: float, b: float, points: int) -> np.ndarray:
    """Evenly spaced x over the central 1 - 2e-4 mass of Beta(a, b), inside (0, 1)."""
    lo, hi = stats.beta.ppf([_GRID_TAIL, 1.0 - _GRID_TAIL], a, b)
    lo = float(np.clip(lo, _GRID_EDGE, 1.0 - _GRID_EDGE))
    hi = float(np.clip(hi, _GRID_EDGE, 1.0 - _GRID_EDGE))
    if hi <= lo:  # an extremely concentrated posterior: widen to a visible window
        lo, hi = max(_GRID_EDGE, lo - 1e-6), min(1.0 - _GRID_EDGE, hi + 1e-6)
    return np.linspace(lo, hi, points)


def density(alpha: float, beta: float, points: int = 200) -> pd.DataFrame:
    """Beta(alpha, beta) density on a grid, for plotting one posterior.

    The grid has ``points`` evenly spaced x values spanning the posterior's central
    99.98 % mass (from the 0.0001 to the 0.9999 quantile), clipped to
    [1e-12, 1 - 1e-12] so that x stays inside (0, 1) and the pdf stays finite even when
    alpha < 1 or beta < 1. A concentrated posterior thus gets a fine grid where its mass
    is, instead of a handful of points on a uniform grid over (0, 1).

    Args:
        alpha: posterior alpha, finite and > 0.
        beta: posterior beta, finite and > 0.
        points: number of grid points, an integer >= 2.

    Returns:
        DataFrame of ``points`` rows with float columns ``x`` (increasing, in (0, 1)) and
        ``pdf`` (scipy.stats.beta.pdf at x, finite and >= 0).

    Raises:
        ValidationError: alpha or beta not finite and > 0; points not an integer >= 2.
    """
    a = _check_shape("alpha", alpha)
    b = _check_shape("beta", beta)
    n = _check_points(points)
    x = _grid(a, b, n)
    return pd.DataFrame({"x": x, "pdf": stats.beta.pdf(x, a, b)})


def compare(params: dict[str, tuple[float, float]], points: int = 200) -> pd.DataFrame:
    """Densities of several Beta posteriors in long format, for one plot.

    Each label gets its own grid, chosen as in :func:`density`.

    Args:
        params: mapping label -> (alpha, beta); labels are strings (e.g. learning ids or
            short descriptions). An empty mapping gives an empty frame (nothing selected).
        points: grid points per label, an integer >= 2.

    Returns:
        DataFrame with columns ``label`` (str), ``x``, ``pdf`` (float): ``points`` rows
        per label, labels in the mapping's order.

    Raises:
        ValidationError: params not a mapping, a value not an (alpha, beta) pair, alpha
            or beta not finite and > 0, points not an integer >= 2.
    """
    if not isinstance(params, dict):
        raise ValidationError(f"params must be a dict label -> (alpha, beta), got {params!r}")
    n = _check_points(points)
    frames = []
    for label, pair in params.items():
        try:
            a, b = pair
        except (TypeError, ValueError) as err:
            raise ValidationError(f"{label!r}: expected (alpha, beta), got {pair!r}") from err
        frame = density(a, b, n)
        frame.insert(0, "label", str(label))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(
            {
                "label": pd.Series(dtype=object),
                "x": pd.Series(dtype=float),
                "pdf": pd.Series(dtype=float),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _parse_outcome(value: Any) -> Outcome:
    """Map an outcome string to :class:`Outcome`, raising ValidationError if unknown."""
    try:
        return Outcome(value)
    except ValueError as err:
        allowed = ", ".join(o.value for o in Outcome)
        raise ValidationError(f"unknown outcome {value!r} (expected one of {allowed})") from err


def trajectory(
    events: pd.DataFrame,
    *,
    prior_alpha: float = PRIOR_ALPHA,
    prior_beta: float = PRIOR_BETA,
    level: float = 0.95,
) -> pd.DataFrame:
    """The posterior after each outcome of one learning, in time order.

    Starting from Beta(prior_alpha, prior_beta), each event adds
    :data:`~groove_core.model.usage.OUTCOME_INCREMENTS` [outcome] to (alpha, beta), exactly
    as ``UsageStats.record_outcome`` does (docs/architecture.md#relations-v1). Events are
    applied in timestamp order; ties keep their input order (stable sort).

    Args:
        events: DataFrame with columns ``timestamp`` (datetimes, or int Unix seconds) and
            ``outcome`` (``"helpful"``, ``"ignored"`` or ``"contradicted"``); other
            columns are ignored. Zero rows is allowed (a learning never injected).
        prior_alpha: prior alpha, finite and > 0 (default 1).
        prior_beta: prior beta, finite and > 0 (default 1).
        level: level of the equal-tailed credible interval, in (0, 1).

    Returns:
        DataFrame with len(events) + 1 rows and columns ``timestamp``, ``outcome``,
        ``alpha``, ``beta``, ``mean``, ``ci_low``, ``ci_high``. Row 0 is the prior: its
        timestamp is the first event's (``None`` when there are no events) and its
        outcome is ``None``; row i is the posterior after the i-th event in time order.
        Timestamps keep their input type; outcomes are plain strings.

    Raises:
        ValidationError: events not a DataFrame or missing a column; a missing (NaN/NaT)
            timestamp; an unknown or missing outcome; bad prior or level.
    """
    if not isinstance(events, pd.DataFrame):
        raise ValidationError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    missing = {"timestamp", "outcome"} - set(events.columns)
    if missing:
        raise ValidationError(f"events lack column(s): {', '.join(sorted(missing))}")
    pa = _check_shape("prior_alpha", prior_alpha)
    pb = _check_shape("prior_beta", prior_beta)
    lvl = _check_level(level)
    if events["timestamp"].isna().any():
        raise ValidationError("events have a missing timestamp")

    ordered = events.sort_values("timestamp", kind="stable")
    outcomes = [_parse_outcome(v) for v in ordered["outcome"]]
    d_alpha = np.array([OUTCOME_INCREMENTS[o][0] for o in outcomes], dtype=float)
    d_beta = np.array([OUTCOME_INCREMENTS[o][1] for o in outcomes], dtype=float)
    alpha = np.cumsum(np.concatenate([[pa], d_alpha]))
    beta = np.cumsum(np.concatenate([[pb], d_beta]))

    stamps = list(ordered["timestamp"])
    first = stamps[0] if stamps else None
    ci_low, ci_high = stats.beta.interval(lvl, alpha, beta)
    return pd.DataFrame(
        {
            "timestamp": pd.Series([first, *stamps], dtype=object if not stamps else None),
            "outcome": pd.Series([None, *(o.value for o in outcomes)], dtype=object),
            "alpha": alpha,
            "beta": beta,
            "mean": stats.beta.mean(alpha, beta),
            "ci_low": ci_low,
            "ci_high": ci_high,
        }
    )
