"""Pure statistics over attribution data: one experiment's analysis and a learning's
value trend (no database access)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from groove_core.analysis import ablation as ablation_stats
from groove_core.errors import ValidationError
from groove_core.model.attribution import AblationExperiment, AblationResult

__all__ = ["ExperimentAnalysis", "experiment_analysis", "value_trend"]


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
    least 2 sessions, the seed's ``AblationResult`` (marginal_value, confidence,
    is_significant) from :func:`groove_core.analysis.ablation.to_result`.

    Raises: ValidationError for a bad option (see ``analyze``).
    """
    analysis = ablation_stats.analyze(exp.with_outcomes(), exp.without_outcomes(), **options)
    result = None
    if analysis.n_with >= 2 and analysis.n_without >= 2:
        result = AblationResult(*ablation_stats.to_result(analysis))
    return ExperimentAnalysis(exp, analysis, result)


def value_trend(records: pd.DataFrame, *, window: int = 20, level: float = 0.95) -> pd.DataFrame:
    """Cumulative attributed value of one learning and its rolling mean with a t interval.

    Pure function. For the records where the learning was not withheld, in time order:
    ``cumulative`` = running sum of ``attributed_value``; ``rolling_mean`` = mean of the
    last ``window`` values (fewer at the start); ``rolling_low``/``rolling_high`` =
    rolling_mean -/+ t_{(1+level)/2, k-1} * s_k / sqrt(k) over those k values
    (scipy.stats.t; NaN while k < 2).

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
            not a DataFrame with ``timestamp`` and ``attributed_value``.
    """
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ValidationError(f"window must be an integer >= 2, got {window!r}")
    if not isinstance(level, int | float) or not 0 < float(level) < 1:
        raise ValidationError(f"level must be in (0, 1), got {level!r}")
    if not isinstance(records, pd.DataFrame) or not {"timestamp", "attributed_value"} <= set(
        records.columns
    ):
        raise ValidationError("records must be a DataFrame with timestamp and attributed_value")
    frame = records
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
