"""Pure statistics over attribution data: one experiment's analysis, every learning's
value estimate with its interval, and a learning's value trend (no database access)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from groove_core.analysis import ablation as ablation_stats
from groove_core.errors import ValidationError
from groove_core.model.attribution import AblationExperiment, AblationResult

__all__ = [
    "VALUE_COLUMNS",
    "ExperimentAnalysis",
    "experiment_analysis",
    "learning_values",
    "temporal_confidence",
    "value_trend",
]

#: Columns of the frame :func:`learning_values` returns, in order.
VALUE_COLUMNS = [
    "learning_id",
    "n_injected",
    "n_other",
    "value",
    "se",
    "ci_low",
    "ci_high",
    "p_positive",
]


@dataclass(frozen=True)
class ExperimentAnalysis:
    """An experiment with the statistics of :func:`groove_core.analysis.ablation.analyze`
    and the :class:`AblationResult` derived from them (None with < 2 sessions an arm)."""

    experiment: AblationExperiment
    analysis: ablation_stats.AblationAnalysis
    result: AblationResult | None


def experiment_analysis(exp: AblationExperiment, **options) -> ExperimentAnalysis:
    """The statistics of one experiment (no database access): its arms' outcomes through
    :func:`groove_core.analysis.ablation.analyze` (``options``: level,
    min_sessions_per_arm, target_effect, power, cs_t_opt) and, when both arms have at
    least 2 sessions, vibes-groove's ``AblationResult`` (marginal_value, confidence,
    is_significant) from :func:`groove_core.analysis.ablation.to_result`.

    Raises: ValidationError for a bad option (see ``analyze``).
    """
    analysis = ablation_stats.analyze(exp.with_outcomes(), exp.without_outcomes(), **options)
    result = None
    if analysis.n_with >= 2 and analysis.n_without >= 2:
        result = AblationResult(*ablation_stats.to_result(analysis))
    return ExperimentAnalysis(exp, analysis, result)


def _check_records(records: Any, needed: set[str]) -> pd.DataFrame:
    """``records`` if it is a DataFrame with ``needed`` columns and finite numbers in
    them, else ValidationError."""
    if not isinstance(records, pd.DataFrame) or not needed <= set(records.columns):
        raise ValidationError(f"records must be a DataFrame with {', '.join(sorted(needed))}")
    for col in needed - {"learning_id", "session_id", "timestamp", "was_withheld"}:
        try:
            values = records[col].to_numpy(dtype=float)
        except (TypeError, ValueError) as err:
            raise ValidationError(f"records: {col} must hold numbers") from err
        if not np.all(np.isfinite(values)):
            raise ValidationError(f"records: {col} holds NaN or infinite values")
    return records


def learning_values(records: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Each learning's value in outcome units: mean session outcome where it was injected
    minus mean session outcome of the other sessions, with a Welch interval and the
    posterior probability that it is > 0.

    Estimator: for learning k, the sessions of ``records`` split into those where k was
    injected (a record of k, not withheld) and all the others; value = difference of the
    two groups' mean ``session_outcome``, se = sqrt(s_1^2/n_1 + s_2^2/n_2), the interval
    value +/- t_{(1+level)/2, df} se with Welch-Satterthwaite df (Welch, Biometrika 1947;
    scipy.stats.ttest_ind_from_stats), and ``p_positive`` = P(value > 0 | data) under
    independent normal groups with flat priors, the exact Behrens-Fisher probability of
    :func:`groove_core.analysis.ablation.prob_greater`. This is an observational
    comparison: sessions where a learning was injected may differ in other ways (for
    example in which other learnings were injected with it), so it measures association;
    an ablation experiment, which withholds the learning at random, measures its effect.

    Args:
        records: attribution records of *all* learnings in the period (e.g.
            :meth:`AttributionStore.attribution_frame`) with columns ``learning_id``,
            ``session_id``, ``session_outcome`` (finite) and ``was_withheld``; one session
            outcome per session.
        level: interval level in (0, 1).

    Returns:
        DataFrame with :data:`VALUE_COLUMNS`, one row per learning (sorted by id):
        ``n_injected`` and ``n_other`` sessions; ``value``, ``se``, ``ci_low``,
        ``ci_high`` in outcome units and ``p_positive`` in [0, 1]. ``value`` is NaN when a
        group is empty; se, interval and p_positive are NaN when a group has fewer than 2
        sessions or neither group varies (no noise estimate).

    Raises:
        ValidationError: records not a DataFrame with those columns, a NaN or infinite
            outcome, level outside (0, 1).
    """
    frame = _check_records(
        records, {"learning_id", "session_id", "session_outcome", "was_withheld"}
    )
    if not isinstance(level, int | float) or not 0 < float(level) < 1:
        raise ValidationError(f"level must be in (0, 1), got {level!r}")
    sessions = frame.groupby("session_id", sort=True)["session_outcome"].first().astype(float)
    outcomes = sessions.to_numpy()
    scale = float(np.abs(outcomes).max()) if outcomes.size else 0.0
    injected = frame[~frame["was_withheld"].astype(bool)]
    rows = []
    for lid, grp in injected.groupby("learning_id", sort=True):
        mask = sessions.index.isin(grp["session_id"])
        rows.append([lid, *_welch_value(outcomes[mask], outcomes[~mask], float(level), scale)])
    return pd.DataFrame(rows, columns=VALUE_COLUMNS).astype(
        {"n_injected": int, "n_other": int, "value": float}
    )


def _welch_value(inj: np.ndarray, other: np.ndarray, level: float, scale: float) -> list:
    """n_injected, n_other, value, se, ci_low, ci_high, p_positive of one learning."""
    nan = float("nan")
    value = float(inj.mean() - other.mean()) if inj.size and other.size else nan
    if inj.size < 2 or other.size < 2:
        return [inj.size, other.size, value, nan, nan, nan, nan]
    se_i = float(inj.std(ddof=1)) / math.sqrt(inj.size)
    se_o = float(other.std(ddof=1)) / math.sqrt(other.size)
    if max(se_i, se_o) <= ablation_stats.RESOLUTION * scale:
        return [inj.size, other.size, value, nan, nan, nan, nan]
    res = stats.ttest_ind(inj, other, equal_var=False)
    ci = res.confidence_interval(confidence_level=level)
    p = ablation_stats.prob_greater(value, se_i, inj.size - 1, se_o, other.size - 1)
    se = math.hypot(se_i, se_o)
    return [inj.size, other.size, value, se, float(ci.low), float(ci.high), p]


def temporal_confidence(net_temporal: Any) -> float:
    """P(mean net temporal signal > 0 | data) for one learning: under a normal model with
    the flat prior p(mu, log sigma) ~ 1 the posterior of the mean is
    mean + s / sqrt(n) T, T ~ Student-t(n - 1) (Gelman et al., *Bayesian Data Analysis*,
    3rd ed., section 3.2), so the probability is the t cdf at mean / (s / sqrt(n))
    (scipy.special.stdtr). 0.5 (no information either way) with fewer than 2 values or no
    variation.

    Args:
        net_temporal: 1-D array-like of the learning's net temporal signals (finite).

    Raises:
        ValidationError: NaN or infinite values, or not 1-D.
    """
    x = np.asarray(net_temporal, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValidationError("net_temporal must be a 1-D array of finite numbers")
    if x.size < 2:
        return 0.5
    sd = float(x.std(ddof=1))
    if sd <= ablation_stats.RESOLUTION * float(np.abs(x).max()):
        return 0.5
    return float(stats.t.cdf(x.mean() / (sd / math.sqrt(x.size)), x.size - 1))


def value_trend(records: pd.DataFrame, *, window: int = 20, level: float = 0.95) -> pd.DataFrame:
    """Cumulative attributed value of one learning and its rolling mean with a *pointwise*
    t interval.

    Pure function. For the records where the learning was not withheld, in time order:
    ``cumulative`` = running sum of ``attributed_value``; ``rolling_mean`` = mean of the
    last ``window`` values (fewer at the start); ``rolling_low``/``rolling_high`` =
    rolling_mean -/+ t_{(1+level)/2, k-1} * s_k / sqrt(k) over those k values
    (scipy.stats.t; NaN while k < 2). Each window's interval holds ``level`` on its own
    (pointwise); across the many overlapping windows of a long history some will miss
    the truth by chance, so the band as a whole is not a simultaneous band.

    Args:
        records: DataFrame with ``timestamp``, ``attributed_value`` and optionally
            ``was_withheld`` (e.g. :meth:`AttributionStore.attribution_frame`).
        window: rolling window in sessions, >= 2. level: interval level in (0, 1).

    Returns:
        DataFrame ``timestamp``, ``session_id`` (if given), ``attributed_value``,
        ``cumulative``, ``rolling_mean``, ``rolling_low``, ``rolling_high``, ``n``: one
        row per record that was not withheld, oldest first (empty when there is none).

    Raises:
        ValidationError: window not an integer >= 2, level outside (0, 1), or records
            not a DataFrame with ``timestamp`` and ``attributed_value``, or an attributed
            value NaN or infinite.
    """
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ValidationError(f"window must be an integer >= 2, got {window!r}")
    if not isinstance(level, int | float) or not 0 < float(level) < 1:
        raise ValidationError(f"level must be in (0, 1), got {level!r}")
    frame = _check_records(records, {"timestamp", "attributed_value"})
    if "was_withheld" in frame.columns:
        frame = frame[~frame["was_withheld"].astype(bool)]
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    values = frame["attributed_value"].astype(float)
    roll = values.rolling(int(window), min_periods=1)
    n = roll.count()
    mean = roll.mean()
    sd = roll.std(ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = stats.t.ppf((1 + float(level)) / 2, n - 1)
        half = tq * sd / np.sqrt(n)
    out = pd.DataFrame(
        {
            "timestamp": frame["timestamp"],
            "attributed_value": values,
            "cumulative": values.cumsum(),
            "rolling_mean": mean,
            "rolling_low": mean - half,
            "rolling_high": mean + half,
            "n": n.astype(int),
        }
    )
    if "session_id" in frame.columns:
        out.insert(1, "session_id", frame["session_id"])
    return out
