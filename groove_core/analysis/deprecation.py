"""Which learnings deserve deprecation (``LearningStatus::Deprecated { reason }``,
docs/architecture.md#relations-v1).

Two kinds of evidence make a learning a deprecation *candidate* (a person or a policy
still decides):

* **"ablation shows harm"**: its ablation experiment's always-valid confidence sequence
  lies entirely below zero (status ``"negative"`` from
  :func:`groove_core.analysis.ablation.analyze`): sessions went worse with it.
* **"rarely helps"**: its confidence posterior Beta(alpha, beta) has seen enough outcomes
  (evidence = alpha + beta - prior_alpha - prior_beta >= ``min_evidence``) and puts at
  least ``threshold_prob`` posterior probability on a confidence below
  ``low_confidence``, P(theta < low_confidence) = Beta cdf (scipy.stats.beta.cdf). This is
  a posterior tail-probability decision rule (Gelman et al., *Bayesian Data Analysis*,
  3rd ed., ch. 2); requiring evidence keeps new learnings, whose posterior is still
  mostly prior, off the list.

Pure function over a data frame; no database access.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from groove_core.errors import ValidationError
from groove_core.model.usage import PRIOR_ALPHA, PRIOR_BETA

__all__ = ["CANDIDATE_COLUMNS", "REASON_HARM", "REASON_RARELY_HELPS", "candidates"]

REASON_HARM = "ablation shows harm"
REASON_RARELY_HELPS = "rarely helps"

#: Columns of the frame :func:`candidates` returns, in order.
CANDIDATE_COLUMNS = [
    "id",
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

_STATUSES = {"positive", "negative", "inconclusive"}


def _num(name: str, value: object) -> float:
    """Return ``value`` as a float, raising ValidationError when it is not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{name} must be a number, got {value!r}") from err


def _positive_finite(name: str, value: float) -> float:
    """Return ``value`` as a float, raising ValidationError unless finite and > 0."""
    number = _num(name, value)
    if not np.isfinite(number) or number <= 0:
        raise ValidationError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def _unit(name: str, value: float, *, closed: bool) -> float:
    """Return ``value`` as a float in [0, 1] (closed) or (0, 1) (open), else raise."""
    number = _num(name, value)
    ok = 0.0 <= number <= 1.0 if closed else 0.0 < number < 1.0
    if not ok:
        raise ValidationError(
            f"{name} must be in {'[0, 1]' if closed else '(0, 1)'}, got {value!r}"
        )
    return number


def candidates(
    learnings: pd.DataFrame,
    *,
    min_evidence: float = 10.0,
    low_confidence: float = 0.3,
    threshold_prob: float = 0.9,
    prior_alpha: float = PRIOR_ALPHA,
    prior_beta: float = PRIOR_BETA,
    level: float = 0.95,
) -> pd.DataFrame:
    """Learnings that are candidates for deprecation, with the numbers behind each.

    Args:
        learnings: one row per learning with columns ``id`` and ``alpha``, ``beta`` (its
            confidence posterior, finite and > 0), and optionally the ablation columns
            ``effect``, ``cs_low``, ``cs_high`` (floats, NaN when there is no experiment)
            and ``status`` (``"positive"``, ``"negative"``, ``"inconclusive"`` or
            missing), as produced by :func:`groove_core.analysis.ablation.analyze`.
        min_evidence: pseudo-counts of evidence (alpha + beta - prior_alpha - prior_beta)
            a posterior needs before "rarely helps" can apply, >= 0.
        low_confidence: a confidence below this is "rarely helps", in (0, 1).
        threshold_prob: posterior probability P(confidence < low_confidence) needed,
            in [0, 1].
        prior_alpha: the prior's alpha (default 1), finite and > 0.
        prior_beta: the prior's beta (default 1), finite and > 0.
        level: level of the reported equal-tailed credible interval, in (0, 1).

    Returns:
        DataFrame with columns :data:`CANDIDATE_COLUMNS`: ``id``; ``reason``
        ("ablation shows harm", "rarely helps", or both joined by "; " when both apply);
        the posterior's ``mean``, ``ci_low``, ``ci_high`` (at ``level``) and ``evidence``;
        ``p_below`` = P(confidence < low_confidence); and the ablation's ``effect``,
        ``cs_low``, ``cs_high`` (NaN when not supplied). One row per candidate, in input
        order; an empty frame with these columns when there is none.

    Raises:
        ValidationError: learnings not a DataFrame or missing id/alpha/beta; alpha or beta
            NaN, infinite or <= 0; a posterior below its prior; an unknown status; a
            parameter out of range.
    """
    if not isinstance(learnings, pd.DataFrame):
        raise ValidationError(
            f"learnings must be a pandas DataFrame, got {type(learnings).__name__}"
        )
    missing = {"id", "alpha", "beta"} - set(learnings.columns)
    if missing:
        raise ValidationError(f"learnings lack column(s): {', '.join(sorted(missing))}")
    min_ev = _num("min_evidence", min_evidence)
    if not np.isfinite(min_ev) or min_ev < 0:
        raise ValidationError(f"min_evidence must be a finite number >= 0, got {min_evidence!r}")
    low = _unit("low_confidence", low_confidence, closed=False)
    prob = _unit("threshold_prob", threshold_prob, closed=True)
    lvl = _unit("level", level, closed=False)
    pa = _positive_finite("prior_alpha", prior_alpha)
    pb = _positive_finite("prior_beta", prior_beta)

    try:
        a = learnings["alpha"].to_numpy(dtype=float)
        b = learnings["beta"].to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ValidationError("alpha and beta must be numbers") from err
    bad = ~(np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0))
    if bad.any():
        ids = list(learnings["id"][bad])
        raise ValidationError(f"alpha and beta must be finite and > 0 (rows with id {ids})")
    below_prior = (a < pa) | (b < pb)
    if below_prior.any():
        ids = list(learnings["id"][below_prior])
        raise ValidationError(f"posterior below its prior for id {ids}")

    n = len(learnings)

    def optional_float(column: str) -> np.ndarray:
        if column not in learnings.columns:
            return np.full(n, np.nan)
        try:
            return learnings[column].to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise ValidationError(f"column {column} must hold numbers") from err

    effect = optional_float("effect")
    cs_low = optional_float("cs_low")
    cs_high = optional_float("cs_high")
    if "status" in learnings.columns:
        status = learnings["status"].astype(object).where(learnings["status"].notna(), None)
        unknown = {s for s in status if s is not None and s not in _STATUSES}
        if unknown:
            raise ValidationError(f"unknown ablation status {sorted(map(str, unknown))}")
        harmful = (status == "negative").to_numpy()
    else:
        harmful = np.zeros(n, dtype=bool)

    evidence = a + b - pa - pb
    p_below = stats.beta.cdf(low, a, b)
    rarely = (evidence >= min_ev) & (p_below >= prob)
    keep = harmful | rarely  # the intervals (inverse cdfs) only for the candidates
    a, b, harmful, rarely = a[keep], b[keep], harmful[keep], rarely[keep]
    ci_low, ci_high = stats.beta.interval(lvl, a, b)

    reasons = [
        "; ".join(r for r, hit in ((REASON_HARM, h), (REASON_RARELY_HELPS, lo)) if hit)
        for h, lo in zip(harmful, rarely, strict=True)
    ]
    return pd.DataFrame(
        {
            "id": learnings["id"].to_numpy()[keep],
            "reason": reasons,
            "mean": stats.beta.mean(a, b),
            "ci_low": ci_low,
            "ci_high": ci_high,
            "evidence": evidence[keep],
            "p_below": p_below[keep],
            "effect": effect[keep],
            "cs_low": cs_low[keep],
            "cs_high": cs_high[keep],
        },
        columns=CANDIDATE_COLUMNS,
    )
