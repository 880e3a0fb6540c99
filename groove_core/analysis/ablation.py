"""Statistics of ablation experiments (seed 003, ``AblationExperiment``/``AblationResult``).

An ablation experiment withholds a learning from a random share of sessions and compares
session outcomes: ``with_outcomes`` are the outcomes of sessions where the learning was
injected, ``without_outcomes`` of sessions where it was withheld. Outcomes are floats
(typically in [0, 1] or [-1, 1]); the learning's *marginal value* is the difference of
the two arms' mean outcomes.

:func:`analyze` reports, for that difference:

* a fixed-n Welch (1947) t-test and confidence interval (scipy.stats.ttest_ind with
  ``equal_var=False``), valid when the sample sizes were fixed in advance;
* a Bayesian probability that the learning helps;
* an *always-valid* confidence sequence (Waudby-Smith et al., 2024), valid although the
  dashboard and the assistant look at the experiment after every session and may stop it
  whenever they like. The experiment's ``status`` is decided by the confidence sequence,
  so peeking does not inflate the rate of false "positive"/"negative" verdicts.

All functions are pure: numbers and numpy arrays in, frozen dataclasses out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats

from groove_core.errors import ValidationError

__all__ = [
    "AblationAnalysis",
    "analyze",
    "confidence_sequence",
    "optimal_rho",
    "sessions_per_arm",
    "simulate_outcomes",
    "to_result",
]

Status = Literal["inconclusive", "positive", "negative"]

#: Total sessions (both arms) at which the confidence sequence is tightest by default.
DEFAULT_CS_T_OPT = 200


@dataclass(frozen=True)
class AblationAnalysis:
    """What an ablation experiment says about one learning's marginal value.

    Outcome units are those of the session outcomes; "effect" always means
    mean_with - mean_without (positive = the learning helps).

    Fields marked *inferential* are ``float('nan')`` (``None`` for
    ``sessions_needed_per_arm``) when either arm has fewer than 2 sessions, because a
    variance cannot be estimated from one observation; ``status`` is then
    ``"inconclusive"``.

    Attributes:
        n_with: number of sessions with the learning injected (int >= 0).
        n_without: number of sessions with the learning withheld (int >= 0).
        mean_with: mean outcome of the injected arm (NaN when that arm is empty).
        mean_without: mean outcome of the withheld arm (NaN when that arm is empty).
        effect: mean_with - mean_without, the estimated marginal value (NaN when an arm
            is empty).
        ci_low: lower end of the Welch confidence interval for the effect at ``level``
            (scipy ``TtestResult.confidence_interval``); inferential.
        ci_high: upper end of that interval; inferential.
        t_statistic: Welch's t = effect / se, se = sqrt(s_w^2 / n_w + s_o^2 / n_o);
            inferential.
        df: Welch-Satterthwaite degrees of freedom; inferential.
        p_value: two-sided p-value of Welch's (1947) t-test of "no effect"; inferential.
        prob_helps: posterior probability that the effect is > 0, in [0, 1] (see
            :func:`analyze` for the model); inferential.
        cs_low: lower end of the always-valid confidence sequence for the effect at
            ``level`` (see :func:`confidence_sequence`); inferential.
        cs_high: upper end of that confidence sequence; inferential.
        cs_rho: the confidence sequence's tuning parameter rho (standardized scale).
        status: ``"positive"`` (cs_low > 0: the learning helps), ``"negative"``
            (cs_high < 0: it harms) or ``"inconclusive"`` (either arm below
            ``min_sessions_per_arm``, or the sequence still contains 0).
        sessions_needed_per_arm: further sessions per arm before the status can turn
            conclusive for an effect of ``target_effect`` with the requested power (see
            :func:`sessions_per_arm`; at least up to ``min_sessions_per_arm``); 0 once the
            status is conclusive; ``None`` when no variance can be estimated.
        level: confidence level of the interval and the sequence, in (0, 1).
    """

    n_with: int
    n_without: int
    mean_with: float
    mean_without: float
    effect: float
    ci_low: float
    ci_high: float
    t_statistic: float
    df: float
    p_value: float
    prob_helps: float
    cs_low: float
    cs_high: float
    cs_rho: float
    status: Status
    sessions_needed_per_arm: int | None
    level: float


def _as_outcomes(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a 1-D float array, raising ValidationError on NaN/inf/shape."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{name} must be an array of numbers") from err
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name} holds NaN or infinite values")
    return arr


def _check_open_unit(name: str, value: Any) -> float:
    """Return ``value`` as a float, raising ValidationError unless 0 < value < 1."""
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{name} must be a number in (0, 1), got {value!r}") from err
    if not (0.0 < number < 1.0):
        raise ValidationError(f"{name} must be in (0, 1), got {value!r}")
    return number


def optimal_rho(t_opt: float, level: float = 0.95) -> float:
    """Tuning parameter rho that makes the confidence sequence tightest at time ``t_opt``.

    The normal-mixture boundary at time t, for unit variance, has squared half-width
    2 (x + 1) / (t x) * log(sqrt(x + 1) / alpha) with x = t rho^2 and alpha = 1 - level.
    Setting its derivative in x to zero gives log((x + 1) / alpha^2) = x, solved by

        rho^2 = (-W_{-1}(-alpha^2 / e) - 1) / t_opt,

    W_{-1} being the lower branch of Lambert's W (scipy.special.lambertw, k=-1). This is
    the exact minimizer; Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform,
    nonparametric, nonasymptotic confidence sequences", Annals of Statistics 2021, and
    Waudby-Smith et al. (2024) tune rho by this criterion (their published code uses a
    closed form with an extra factor exp(alpha^2) inside W, a close approximation). At
    level 0.95, t_opt rho^2 ~ 8.21.

    Args:
        t_opt: total number of sessions (both arms) at which the sequence should be
            tightest, > 0.
        level: confidence level in (0, 1).

    Returns:
        rho > 0 (dimensionless: the boundary is applied to standardized sums).

    Raises:
        ValidationError: t_opt not finite and > 0, level outside (0, 1).
    """
    lvl = _check_open_unit("level", level)
    try:
        t = float(t_opt)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"t_opt must be a number > 0, got {t_opt!r}") from err
    if not math.isfinite(t) or t <= 0:
        raise ValidationError(f"t_opt must be a finite number > 0, got {t_opt!r}")
    alpha = 1.0 - lvl
    w = special.lambertw(-(alpha**2) / math.e, k=-1).real
    return math.sqrt((-w - 1.0) / t)


def _mixture_margin(t: float, rho: float, alpha: float) -> float:
    """Two-sided normal-mixture boundary for a unit-variance mean at time t."""
    r2 = rho * rho
    return math.sqrt(
        2.0 * (t * r2 + 1.0) / (t * t * r2) * math.log(math.sqrt(t * r2 + 1.0) / alpha)
    )


def confidence_sequence(
    with_outcomes: Any,
    without_outcomes: Any,
    *,
    level: float = 0.95,
    t_opt: float = DEFAULT_CS_T_OPT,
    rho: float | None = None,
) -> tuple[float, float]:
    """Always-valid (asymptotic) confidence sequence for mean_with - mean_without.

    Method: the asymptotic confidence sequence (AsympCS) with the Gaussian-mixture
    boundary of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas, "Time-uniform central
    limit theory and asymptotic confidence sequences", Annals of Statistics 2024
    (arXiv:2103.06476), section 2 (the Gaussian-mixture AsympCS), applied to the
    difference-in-means estimator of a randomized experiment (their treatment-effect
    examples). With
    t = n_with + n_without sessions so far, pi = n_with / t the share injected, and
    unbiased sample variances s_w^2 and s_o^2 of the two arms,

        sigma_t^2 = s_w^2 / pi + s_o^2 / (1 - pi) = t (s_w^2 / n_w + s_o^2 / n_o)

    estimates the variance of the estimator's influence function
    A (Y - mu_w) / pi - (1 - A)(Y - mu_o) / (1 - pi), and the sequence is

        effect_t +/- sigma_t * sqrt( 2 (t rho^2 + 1) / (t^2 rho^2)
                                     * log( sqrt(t rho^2 + 1) / alpha ) ),

    alpha = 1 - level. The boundary is Robbins' two-sided normal mixture (mixing
    exp(lambda S_t - lambda^2 t / 2) over lambda ~ N(0, rho^2)). rho > 0 is a tuning
    parameter that only moves where the sequence is tightest: by default it is
    :func:`optimal_rho` (t_opt = 200 total sessions), for which rho^2 ~ 8.2 / t_opt at
    level 0.95.

    Guarantee: P(effect is outside the sequence at *any* t) <= alpha, asymptotically
    (the sequence's approximation error vanishes as t grows), when sessions are i.i.d.,
    each is withheld independently of its outcome with a fixed probability, and
    outcomes have finite variance (bounded outcomes do). It is therefore valid under
    continuous monitoring and optional stopping, which a fixed-n interval is not; the
    price is width (about 1.5 times the Welch interval at t_opt, at 95 %). This function
    is stateless: it does not take the running intersection over past looks.

    Args:
        with_outcomes: 1-D array-like of outcomes with the learning, at least 2 values.
        without_outcomes: 1-D array-like of outcomes without it, at least 2 values.
        level: confidence level, in (0, 1).
        t_opt: total sessions at which the sequence is tightest (ignored if rho given).
        rho: explicit tuning parameter > 0, or ``None`` to use optimal_rho(t_opt, level).

    Returns:
        (cs_low, cs_high), in outcome units.

    Raises:
        ValidationError: an arm with fewer than 2 values, NaN/inf values, arrays not 1-D,
            level outside (0, 1), t_opt or rho not finite and > 0.
    """
    w = _as_outcomes("with_outcomes", with_outcomes)
    o = _as_outcomes("without_outcomes", without_outcomes)
    if w.size < 2 or o.size < 2:
        raise ValidationError("a confidence sequence needs at least 2 sessions in each arm")
    lvl = _check_open_unit("level", level)
    if rho is None:
        r = optimal_rho(t_opt, lvl)
    else:
        r = float(rho)
        if not math.isfinite(r) or r <= 0:
            raise ValidationError(f"rho must be a finite number > 0, got {rho!r}")
    return _cs(w, o, lvl, r)


def _cs(w: np.ndarray, o: np.ndarray, level: float, rho: float) -> tuple[float, float]:
    """Confidence sequence on validated arrays (each with >= 2 values)."""
    t = float(w.size + o.size)
    effect = float(w.mean() - o.mean())
    sigma = math.sqrt(t * (w.var(ddof=1) / w.size + o.var(ddof=1) / o.size))
    margin = sigma * _mixture_margin(t, rho, 1.0 - level)
    return effect - margin, effect + margin


def _sessions_needed(
    w: np.ndarray,
    o: np.ndarray,
    target_effect: float,
    level: float,
    power: float,
    rho: float,
    min_sessions: int,
) -> int | None:
    """Further sessions per arm until the confidence sequence detects ``target_effect``."""
    arms = [a for a in (w, o) if a.size >= 2]
    if not arms:
        return None
    dof = sum(a.size - 1 for a in arms)
    pooled_sd = math.sqrt(sum((a.size - 1) * a.var(ddof=1) for a in arms) / dof)
    required = max(min_sessions, _cs_sessions_per_arm(pooled_sd, target_effect, level, power, rho))
    return max(0, required - min(w.size, o.size))


def _cs_sessions_per_arm(sd: float, effect: float, level: float, power: float, rho: float) -> int:
    """Smallest n per arm at which the sequence excludes 0 with probability ``power``."""
    if sd == 0.0:
        return 2
    z = float(stats.norm.ppf(power))
    alpha = 1.0 - level

    def slack(n: float) -> float:  # >= 0 once the power is reached at n sessions per arm
        return effect - 2.0 * sd * _mixture_margin(2.0 * n, rho, alpha) - z * sd * math.sqrt(2 / n)

    if slack(2.0) >= 0:
        return 2
    hi = 4.0
    while slack(hi) < 0:
        hi *= 2.0
    return math.ceil(optimize.brentq(slack, hi / 2.0, hi, xtol=1e-6))


def sessions_per_arm(
    sd: float,
    target_effect: float,
    *,
    level: float = 0.95,
    power: float = 0.8,
    t_opt: float = DEFAULT_CS_T_OPT,
) -> int:
    """Sessions per arm at which the always-valid confidence sequence detects an effect.

    The experiment's status turns "positive" when the confidence sequence of
    :func:`confidence_sequence` lies above 0, so this is the power analysis of that
    decision (not of a fixed-n t-test, which needs about half as many sessions and would
    promise a verdict the status does not give). With n sessions in each arm, outcome sd
    ``sd`` in both and true effect d = ``target_effect``, the estimated effect is
    approximately N(d, 2 sd^2 / n) (central limit theorem), and the sequence's half-width
    at t = 2n is 2 sd * m(t), m being the normal-mixture boundary of
    :func:`confidence_sequence` (sigma_t = sqrt(sd^2 / 0.5 + sd^2 / 0.5) = 2 sd). The
    sequence excludes 0 at n with probability
    Phi((d - 2 sd m(2n)) / (sd sqrt(2 / n))); the answer is the smallest integer n >= 2
    at which that reaches ``power`` (root found by scipy.optimize.brentq; Phi and its
    inverse are scipy.stats.norm). It is conservative: the sequence may already have
    excluded 0 at an earlier look. Same logic as any power analysis (Cohen, *Statistical
    Power Analysis for the Behavioral Sciences*, 2nd ed., 1988, ch. 2), applied to the
    interval of Waudby-Smith et al. (2024).

    Args:
        sd: outcome standard deviation in each arm (outcome units), finite and >= 0;
            0 gives 2.
        target_effect: the smallest effect worth detecting (outcome units), > 0.
        level: confidence level of the sequence, in (0, 1).
        power: probability of detecting the effect, in (0, 1).
        t_opt: total sessions at which the sequence is tightest (its tuning).

    Returns:
        n per arm, an int >= 2.

    Raises:
        ValidationError: sd not finite and >= 0, target_effect not finite and > 0, level
            or power outside (0, 1), t_opt not finite and > 0.
    """
    try:
        s, d = float(sd), float(target_effect)
    except (TypeError, ValueError) as err:
        raise ValidationError("sd and target_effect must be numbers") from err
    if not math.isfinite(s) or s < 0:
        raise ValidationError(f"sd must be a finite number >= 0, got {sd!r}")
    if not math.isfinite(d) or d <= 0:
        raise ValidationError(f"target_effect must be a finite number > 0, got {target_effect!r}")
    lvl = _check_open_unit("level", level)
    pw = _check_open_unit("power", power)
    return _cs_sessions_per_arm(s, d, lvl, pw, optimal_rho(t_opt, lvl))


def analyze(
    with_outcomes: Any,
    without_outcomes: Any,
    *,
    level: float = 0.95,
    min_sessions_per_arm: int = 20,
    target_effect: float = 0.1,
    power: float = 0.8,
    cs_t_opt: float = DEFAULT_CS_T_OPT,
) -> AblationAnalysis:
    """Analyze an ablation experiment: marginal value, tests, intervals and verdict.

    * effect = mean_with - mean_without (the marginal value).
    * Welch's t-test and interval: Welch, B. L. (1947), "The generalization of
      'Student's' problem when several different population variances are involved",
      Biometrika 34: t = effect / se with se = sqrt(s_w^2/n_w + s_o^2/n_o) and
      Welch-Satterthwaite df; computed by scipy.stats.ttest_ind(equal_var=False) and its
      ``confidence_interval(level)``. Valid for one look at a fixed sample size.
    * prob_helps = P(effect > 0 | data) under independent normal models for the two arms
      with the non-informative prior p(mu, log sigma) ~ 1 for each (Gelman et al.,
      *Bayesian Data Analysis*, 3rd ed., section 3.2): the marginal posterior of
      mu_with - mu_without is the Behrens-Fisher distribution (Box & Tiao, *Bayesian
      Inference in Statistical Analysis*, 1973, ch. 2), approximated as in
      Welch-Satterthwaite by effect + se * T with T ~ Student-t(df) using Welch's se
      and df. So prob_helps = scipy.stats.t.cdf(effect / se, df) (= 1 - the one-sided
      p-value for "effect <= 0"). With se = 0 it is 1, 0 or NaN as effect is > 0,
      < 0 or = 0.
    * cs_low, cs_high: the always-valid confidence sequence of
      :func:`confidence_sequence` (Waudby-Smith et al., Annals of Statistics 2024), tuned
      by rho = optimal_rho(cs_t_opt, level) (reported as ``cs_rho``).
    * status: "inconclusive" until both arms have >= min_sessions_per_arm sessions; then
      "positive" if cs_low > 0, "negative" if cs_high < 0, else "inconclusive". Because
      it uses the confidence sequence, checking the status after every session keeps the
      chance of a wrong "positive"/"negative" near 1 - level.
    * sessions_needed_per_arm: 0 when the status is already conclusive; otherwise, with
      the pooled sample sd s_p = sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)) over arms with
      >= 2 sessions, n* = max(min_sessions_per_arm, :func:`sessions_per_arm` (s_p,
      target_effect, level, power)), the sessions per arm at which the confidence
      sequence (which sets the status) excludes 0 with probability ``power`` when the
      true effect is ``target_effect``; the answer is max(0, n* - min(n_w, n_o)). It is
      about twice the size a fixed-n Welch test would need (statsmodels'
      ``TTestIndPower``), the price of a verdict that stays valid under repeated looks.

    Small samples: with fewer than 2 sessions in an arm no variance can be estimated, so
    the function does not raise but returns ci_*, t_statistic, df, p_value, prob_helps,
    cs_* as NaN, status "inconclusive", and sessions_needed_per_arm from the other arm's
    sd (``None`` when neither arm has 2 sessions). Means of an empty arm are NaN.

    Args:
        with_outcomes: 1-D array-like of floats, outcomes of sessions with the learning.
        without_outcomes: 1-D array-like of floats, outcomes of sessions without it.
        level: confidence level for interval, sequence and power analysis, in (0, 1).
        min_sessions_per_arm: sessions per arm before a verdict is given, int >= 2.
        target_effect: smallest effect worth detecting, in outcome units, > 0.
        power: desired power against target_effect, in (0, 1).
        cs_t_opt: total sessions at which the confidence sequence is tightest, > 0.

    Returns:
        An :class:`AblationAnalysis`.

    Raises:
        ValidationError: arrays not 1-D or holding NaN/inf; level or power outside (0, 1);
            min_sessions_per_arm not an int >= 2; target_effect not finite and > 0;
            cs_t_opt not finite and > 0.
    """
    w = _as_outcomes("with_outcomes", with_outcomes)
    o = _as_outcomes("without_outcomes", without_outcomes)
    lvl = _check_open_unit("level", level)
    pw = _check_open_unit("power", power)
    if (
        isinstance(min_sessions_per_arm, bool)
        or not isinstance(min_sessions_per_arm, int | np.integer)
        or min_sessions_per_arm < 2
    ):
        raise ValidationError(
            f"min_sessions_per_arm must be an integer >= 2, got {min_sessions_per_arm!r}"
        )
    try:
        target = float(target_effect)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"target_effect must be a number, got {target_effect!r}") from err
    if not math.isfinite(target) or target <= 0:
        raise ValidationError(f"target_effect must be a finite number > 0, got {target_effect!r}")
    rho = optimal_rho(cs_t_opt, lvl)

    nan = float("nan")
    mean_w = float(w.mean()) if w.size else nan
    mean_o = float(o.mean()) if o.size else nan
    needed = _sessions_needed(w, o, target, lvl, pw, rho, int(min_sessions_per_arm))

    if w.size < 2 or o.size < 2:
        return AblationAnalysis(
            n_with=int(w.size),
            n_without=int(o.size),
            mean_with=mean_w,
            mean_without=mean_o,
            effect=mean_w - mean_o,
            ci_low=nan,
            ci_high=nan,
            t_statistic=nan,
            df=nan,
            p_value=nan,
            prob_helps=nan,
            cs_low=nan,
            cs_high=nan,
            cs_rho=rho,
            status="inconclusive",
            sessions_needed_per_arm=needed,
            level=lvl,
        )

    effect = mean_w - mean_o
    se = math.sqrt(w.var(ddof=1) / w.size + o.var(ddof=1) / o.size)
    with warnings.catch_warnings():
        if se == 0:  # constant arms: scipy warns about precision loss; the result is exact
            warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(w, o, equal_var=False)
        ci = res.confidence_interval(confidence_level=lvl)
    if se > 0:
        prob_helps = float(stats.t.cdf(effect / se, float(res.df)))
    else:
        prob_helps = 1.0 if effect > 0 else 0.0 if effect < 0 else nan
    cs_low, cs_high = _cs(w, o, lvl, rho)

    status: Status = "inconclusive"
    if min(w.size, o.size) >= min_sessions_per_arm:
        if cs_low > 0:
            status = "positive"
        elif cs_high < 0:
            status = "negative"
    if status != "inconclusive":
        needed = 0  # the verdict is in

    return AblationAnalysis(
        n_with=int(w.size),
        n_without=int(o.size),
        mean_with=mean_w,
        mean_without=mean_o,
        effect=effect,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        t_statistic=float(res.statistic),
        df=float(res.df),
        p_value=float(res.pvalue),
        prob_helps=prob_helps,
        cs_low=cs_low,
        cs_high=cs_high,
        cs_rho=rho,
        status=status,
        sessions_needed_per_arm=needed,
        level=lvl,
    )


def to_result(analysis: AblationAnalysis) -> tuple[float, float, bool]:
    """The seed's ``AblationResult`` fields (marginal_value, confidence, is_significant).

    * marginal_value = analysis.effect (outcome units).
    * confidence = the posterior probability that the effect has the sign it was
      estimated with: prob_helps when effect >= 0, else 1 - prob_helps. It lies in
      [0.5, 1] (0.5 = no idea which way; 1 = certain); see :func:`analyze` for the model.
      A prob_helps of NaN (zero effect with zero variance) gives 0.5.
    * is_significant = analysis.status != "inconclusive", i.e. the always-valid
      confidence sequence excludes 0 and both arms have the minimum number of sessions.

    Args:
        analysis: an :class:`AblationAnalysis` with at least 2 sessions in each arm.

    Returns:
        (marginal_value, confidence, is_significant) as (float, float, bool).

    Raises:
        ValidationError: analysis is not an AblationAnalysis, or an arm has fewer than 2
            sessions (nothing to report yet: the experiment's result stays ``None``).
    """
    if not isinstance(analysis, AblationAnalysis):
        raise ValidationError(f"expected an AblationAnalysis, got {type(analysis).__name__}")
    if analysis.n_with < 2 or analysis.n_without < 2:
        raise ValidationError(
            "an ablation result needs at least 2 sessions in each arm "
            f"(have {analysis.n_with} with, {analysis.n_without} without)"
        )
    p = analysis.prob_helps
    confidence = 0.5 if math.isnan(p) else p if analysis.effect >= 0 else 1.0 - p
    return float(analysis.effect), float(confidence), analysis.status != "inconclusive"


def simulate_outcomes(
    true_effect: float,
    n_with: int,
    n_without: int,
    *,
    base: float = 0.5,
    sd: float = 0.25,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated session outcomes of an ablation experiment with a known effect.

    Outcomes are Gaussian and not clipped (so the true difference of means is exactly
    ``true_effect``): without ~ N(base, sd^2), with ~ N(base + true_effect, sd^2).

    Args:
        true_effect: true difference of means (outcome units), finite.
        n_with: sessions with the learning, int >= 0.
        n_without: sessions without it, int >= 0.
        base: mean outcome without the learning, finite.
        sd: outcome standard deviation in both arms, finite and >= 0.
        rng: a numpy ``Generator`` (e.g. ``numpy.random.default_rng(seed)``).

    Returns:
        (with_outcomes, without_outcomes): float arrays of shapes (n_with,), (n_without,).

    Raises:
        ValidationError: rng not a numpy Generator; counts not integers >= 0; effect,
            base or sd not finite, or sd < 0.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValidationError("rng must be a numpy.random.Generator")
    for name, n in (("n_with", n_with), ("n_without", n_without)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValidationError(f"{name} must be an integer >= 0, got {n!r}")
    for name, v in (("true_effect", true_effect), ("base", base), ("sd", sd)):
        if not isinstance(v, int | float | np.number) or not math.isfinite(float(v)):
            raise ValidationError(f"{name} must be a finite number, got {v!r}")
    if sd < 0:
        raise ValidationError(f"sd must be >= 0, got {sd!r}")
    with_outcomes = rng.normal(base + true_effect, sd, size=int(n_with))
    without_outcomes = rng.normal(base, sd, size=int(n_without))
    return with_outcomes, without_outcomes
