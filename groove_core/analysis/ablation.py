"""Statistics of ablation experiments (``AblationExperiment``/``AblationResult``,
docs/architecture.md#data-contract).

An ablation experiment withholds a learning from a random share of sessions and compares
session outcomes: ``with_outcomes`` are the outcomes of sessions where the learning was
injected, ``without_outcomes`` of sessions where it was withheld, each in the order the
sessions ran. Outcomes are floats (typically in [0, 1] or [-1, 1]); the learning's
*marginal value* is the difference of the two arms' mean outcomes.

:func:`analyze` reports, for that difference:

* a fixed-n Welch (1947) t-test and confidence interval (scipy.stats.ttest_ind with
  ``equal_var=False``), valid for one look at a sample size fixed in advance;
* the exact posterior probability that the learning helps under independent normal
  models with the standard non-informative prior (the Behrens-Fisher posterior,
  integrated numerically);
* an *always-valid* confidence sequence, valid at every look from the first session on,
  although the dashboard and the assistant look after every session and may stop
  whenever they like: sessions are paired in the order they ran (Scheffé's 1943 pairing
  solution of the Behrens-Fisher problem) and Lai's (1976) scale-invariant normal-mixture
  confidence sequence is applied to the paired differences. The experiment's ``status``
  is decided by this sequence, so peeking does not inflate the rate of false
  "positive"/"negative" verdicts, however small the minimum number of sessions.

Degenerate data (no variation within the arms, or arms identical up to floating-point
rounding) carry no information about the noise: they give no p-value, no interval and
no verdict, never "significance".

All functions are pure: numbers and numpy arrays in, frozen dataclasses or arrays out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy import integrate, optimize, special, stats

from groove_core.analysis.posterior import _check_shape as _check_positive
from groove_core.errors import ValidationError

__all__ = [
    "AblationAnalysis",
    "analyze",
    "confidence_sequence",
    "finite_from_pairs",
    "mixture_precision",
    "prob_greater",
    "sequential_path",
    "sessions_per_arm",
    "simulate_outcomes",
    "to_result",
]

Status = Literal["inconclusive", "positive", "negative"]

#: Total sessions (both arms) at which the confidence sequence is tightest by default.
DEFAULT_CS_T_OPT = 200
#: Spreads and differences below RESOLUTION x the largest |outcome| are rounding noise.
RESOLUTION = 1e-9


@dataclass(frozen=True)
class AblationAnalysis:
    """What an ablation experiment says about one learning's marginal value.

    Outcome units are those of the session outcomes; "effect" always means
    mean_with - mean_without (positive = the learning helps).

    Fields marked *inferential* are ``float('nan')`` (``None`` for
    ``sessions_needed_per_arm``) when either arm has fewer than 2 sessions, because a
    variance cannot be estimated from one observation, and also when the data are
    degenerate (see ``degenerate``); ``status`` is then ``"inconclusive"``. Fixed-n
    figures (``ci_*``, ``p_value``) are computed whenever they can be, but they are
    findings only once ``enough_sessions`` is true: the pages show them only then.

    Attributes:
        n_with: number of sessions with the learning injected (int >= 0).
        n_without: number of sessions with the learning withheld (int >= 0).
        mean_with: mean outcome of the injected arm (NaN when that arm is empty).
        mean_without: mean outcome of the withheld arm (NaN when that arm is empty).
        effect: mean_with - mean_without, the estimated marginal value (NaN when an arm
            is empty; exactly 0.0 when the arms are identical up to rounding).
        ci_low: lower end of the Welch confidence interval for the effect at ``level``
            (scipy ``TtestResult.confidence_interval``); inferential.
        ci_high: upper end of that interval; inferential.
        t_statistic: Welch's t = effect / se, se = sqrt(s_w^2 / n_w + s_o^2 / n_o);
            inferential.
        df: Welch-Satterthwaite degrees of freedom; inferential.
        p_value: two-sided p-value of Welch's (1947) t-test of "no effect"; inferential.
        prob_helps: exact posterior probability that the effect is > 0, in [0, 1] (see
            :func:`prob_greater`); inferential.
        cs_low: lower end of the always-valid confidence sequence for the effect at
            ``level`` (see :func:`confidence_sequence`); ``-inf`` while the sequence is
            still unbounded (the first pairs); inferential.
        cs_high: upper end of that confidence sequence (``+inf`` while unbounded).
        cs_pairs: pairs of sessions (one per arm, in the order they ran) the sequence
            uses: min(n_with, n_without).
        cs_precision: the sequence's tuning c^2 (see :func:`mixture_precision`).
        status: ``"positive"`` (cs_low > 0: the learning helps), ``"negative"``
            (cs_high < 0: it harms) or ``"inconclusive"``.
        reason: one sentence for people saying why the status is what it is (what is
            missing, or that the data are degenerate).
        degenerate: ``None``, ``"identical"`` (the arms are identical up to rounding: no
            detectable difference) or ``"no variation"`` (no outcome varies within an
            arm, so no uncertainty can be estimated).
        min_sessions_per_arm: sessions per arm required before a verdict.
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
    cs_pairs: int
    cs_precision: float
    status: Status
    reason: str
    degenerate: str | None
    min_sessions_per_arm: int
    sessions_needed_per_arm: int | None
    level: float

    @property
    def enough_sessions(self) -> bool:
        """Both arms have at least ``min_sessions_per_arm`` sessions."""
        return min(self.n_with, self.n_without) >= self.min_sessions_per_arm


def _as_outcomes(name: str, values: Any, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a float array of ``ndim`` dimensions, raising
    ValidationError on NaN/inf/shape."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{name} must be an array of numbers") from err
    if ndim == 1 and arr.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.ndim < 1:
        raise ValidationError(f"{name} must be an array, got a scalar")
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


# --------------------------------------------------------------------------- sequence
def _half_width_factor(n: Any, c2: float, alpha: float) -> np.ndarray:
    """Half-width of Lai's confidence sequence after n observations, per unit of the
    sample sd (ddof 1); +inf where the sequence is still the whole line."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_k = -math.log(alpha) + 0.5 * np.log((n + c2) / c2)
        q = -np.expm1(-2.0 * log_k / n)  # 1 - K^(-2/n), K = sqrt((n + c2) / c2) / alpha
        room = n - q * (n + c2)
        factor = np.sqrt(q * (n + c2) * (n - 1.0) / (n * room))
    return np.where((room > 0) & (n >= 2), factor, np.inf)


@lru_cache(maxsize=64)
def _precision(n_opt: float, level: float) -> float:
    """c^2 minimizing the half-width factor after ``n_opt`` pairs (cached)."""
    alpha = 1.0 - level
    found = optimize.minimize_scalar(
        lambda u: float(_half_width_factor(n_opt, math.exp(u), alpha)),
        bounds=(-12.0, 12.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return math.exp(found.x)


def mixture_precision(t_opt: float = DEFAULT_CS_T_OPT, level: float = 0.95) -> float:
    """Tuning c^2 of the confidence sequence that makes it tightest after ``t_opt``
    sessions in all, i.e. n_opt = t_opt / 2 pairs.

    Lai's sequence mixes the standardized effect theta = mu / sigma over a normal prior
    N(0, 1/c^2); c^2 only moves where the sequence is tightest, never its validity. The
    half-width after n pairs, per unit of the sample sd, is computed in closed form (see
    :func:`confidence_sequence`) and minimized over log c^2 at n = n_opt by
    scipy.optimize.minimize_scalar. For large n_opt it approaches n_opt / x with
    log((x + 1) / alpha^2) = x (the optimal normal mixture of Howard, Ramdas, McAuliffe
    & Sekhon, Annals of Statistics 2021), x ~ 8.21 at level 0.95.

    Args:
        t_opt: sessions (both arms) at which the sequence should be tightest, > 2.
        level: confidence level in (0, 1).

    Returns:
        c^2 > 0 (dimensionless).

    Raises:
        ValidationError: t_opt not finite and > 2, level outside (0, 1).
    """
    lvl = _check_open_unit("level", level)
    t = _check_positive("t_opt", t_opt)
    if t <= 2:
        raise ValidationError(f"t_opt must be > 2 (two sessions per pair), got {t_opt!r}")
    return _precision(t / 2.0, lvl)


def finite_from_pairs(level: float = 0.95, t_opt: float = DEFAULT_CS_T_OPT) -> int:
    """The fewest pairs of sessions after which the confidence sequence is bounded (it is
    the whole line before: the data cannot yet rule out any effect at this level).

    Raises: ValidationError for a bad level or t_opt (see :func:`mixture_precision`).
    """
    c2 = mixture_precision(t_opt, level)
    n = 2
    while not np.isfinite(_half_width_factor(n, c2, 1.0 - level)):
        n += 1
    return n


def sequential_path(
    with_outcomes: Any,
    without_outcomes: Any,
    *,
    level: float = 0.95,
    t_opt: float = DEFAULT_CS_T_OPT,
) -> tuple[np.ndarray, np.ndarray]:
    """The always-valid confidence sequence after each pair of sessions, vectorised.

    Pair k is (with_outcomes[..., k], without_outcomes[..., k]); its difference
    d_k = with - without. After n pairs, with mean d_bar_n and sample sd s_n (ddof 1),
    the sequence is d_bar_n +/- s_n * f(n), f as in :func:`confidence_sequence`. Where
    n < 2, where the boundary is still the whole line, or where s_n is zero up to
    rounding (s_n <= RESOLUTION x the largest |outcome| so far: degenerate data carry no
    information about the noise) the sequence is (-inf, +inf).

    Args:
        with_outcomes: array (..., n) of outcomes with the learning, in session order.
        without_outcomes: array of the same shape, outcomes without it.
        level: confidence level in (0, 1).
        t_opt: sessions (both arms) at which the sequence is tightest (see
            :func:`mixture_precision`).

    Returns:
        (low, high): float arrays of the inputs' shape; element [..., k] is the sequence
        after k + 1 pairs, in outcome units.

    Raises:
        ValidationError: arrays of different shapes, NaN/inf values, level or t_opt out
            of range.
    """
    w = _as_outcomes("with_outcomes", with_outcomes, ndim=0)
    o = _as_outcomes("without_outcomes", without_outcomes, ndim=0)
    if w.shape != o.shape:
        raise ValidationError(f"paired arrays differ in shape: {w.shape} and {o.shape}")
    lvl = _check_open_unit("level", level)
    c2 = mixture_precision(t_opt, lvl)
    d = w - o
    n = np.arange(1, d.shape[-1] + 1, dtype=float)
    shifted = d - d[..., :1]  # the variance is shift-invariant; this avoids cancellation
    total = np.cumsum(shifted, axis=-1)
    squares = np.cumsum(shifted * shifted, axis=-1)
    mean = total / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (squares - n * mean * mean) / (n - 1.0)
    sd = np.sqrt(np.clip(np.nan_to_num(var, nan=0.0), 0.0, None))
    scale = np.maximum.accumulate(np.maximum(np.abs(w), np.abs(o)), axis=-1)
    centre = mean + d[..., :1]
    informative = sd > RESOLUTION * scale
    half = np.where(
        informative, np.where(informative, sd, 1.0) * _half_width_factor(n, c2, 1.0 - lvl), np.inf
    )
    return centre - half, centre + half


def confidence_sequence(
    with_outcomes: Any,
    without_outcomes: Any,
    *,
    level: float = 0.95,
    t_opt: float = DEFAULT_CS_T_OPT,
) -> tuple[float, float]:
    """Always-valid confidence sequence for mean_with - mean_without, at the last look.

    Method. Sessions are paired in the order they ran: pair k is the k-th session with
    the learning and the k-th without it (Scheffé, "On solutions of the Behrens-Fisher
    problem based on the t-distribution", Annals of Mathematical Statistics 14, 1943).
    When sessions are i.i.d. and each is withheld independently of its outcome, the
    differences d_k are i.i.d. with mean mu = mean_with - mean_without, whatever the two
    arms' variances. For normal outcomes, Lai's scale-invariant mixture
    (T. L. Lai, "On confidence sequences", Annals of Statistics 4, 1976; see also Wang &
    Ramdas, "Anytime-valid t-tests and confidence sequences for Gaussian means with
    unknown variance", Sequential Analysis 2025, arXiv:2310.03722)

        M_n(mu) = sqrt(c^2 / (n + c^2)) * (V_n / (V_n - S_n^2 / (n + c^2)))^(n / 2),
        S_n = sum (d_k - mu),  V_n = sum (d_k - mu)^2,

    is a nonnegative martingale with M_1 = 1 when mu is the true mean, so by Ville's
    inequality {mu : M_n(mu) < 1 / alpha}, alpha = 1 - level, covers mu at every n at
    once with probability >= level. Solving the inequality gives, with mean d_bar and
    sample sd s after n pairs, K = sqrt((n + c^2) / c^2) / alpha and
    q = 1 - K^(-2/n):

        d_bar +/- s * sqrt( q (n + c^2)(n - 1) / (n (n - q (n + c^2))) ),

    and the whole line while n - q (n + c^2) <= 0 (the first pairs cannot rule out any
    effect: see :func:`finite_from_pairs`). The guarantee is exact for normal outcomes
    from the first session and approximate otherwise (checked by simulation for bounded
    and skewed outcomes in the tests). Unpaired sessions of the larger arm wait for a
    partner; with a fair coin the arms stay close in size. c^2 is
    :func:`mixture_precision` (tightest after ``t_opt`` sessions, t_opt / 2 pairs).

    Args:
        with_outcomes: 1-D array-like of outcomes with the learning, in session order.
        without_outcomes: 1-D array-like of outcomes without it, in session order.
        level: confidence level, in (0, 1).
        t_opt: sessions (both arms) at which the sequence is tightest, > 2.

    Returns:
        (cs_low, cs_high), in outcome units; (-inf, +inf) while the sequence is
        unbounded, or for degenerate data.

    Raises:
        ValidationError: an arm with fewer than 2 values, NaN/inf values, arrays not
            1-D, level outside (0, 1), t_opt not finite and > 2.
    """
    w = _as_outcomes("with_outcomes", with_outcomes)
    o = _as_outcomes("without_outcomes", without_outcomes)
    if w.size < 2 or o.size < 2:
        raise ValidationError("a confidence sequence needs at least 2 sessions in each arm")
    pairs = min(w.size, o.size)
    low, high = sequential_path(w[:pairs], o[:pairs], level=level, t_opt=t_opt)
    return float(low[-1]), float(high[-1])


# --------------------------------------------------------------------------- posterior
def prob_greater(
    effect: float, se_with: float, df_with: float, se_without: float, df_without: float
) -> float:
    """P(mu_with - mu_without > 0 | data): the exact Behrens-Fisher posterior probability.

    Model: each arm's outcomes are i.i.d. normal with their own mean and variance, under
    the non-informative prior p(mu, log sigma) ~ 1 per arm (Gelman et al., *Bayesian Data
    Analysis*, 3rd ed., section 3.2). Then mu_arm = mean_arm + se_arm * T_arm with
    T_arm ~ Student-t(n_arm - 1) and se_arm = s_arm / sqrt(n_arm), the two independent,
    so mu_with - mu_without follows the Behrens-Fisher distribution (Box & Tiao,
    *Bayesian Inference in Statistical Analysis*, 1973, section 2.5) and

        P(effect + se_w T_w - se_o T_o > 0) = integral_0^1 P(T_w > (se_o F_o^-1(u)
                                                 - effect) / se_w) du,

    F_o being the t(df_without) cdf (or the same with the arms' roles swapped, whichever
    arm has the smaller se is integrated over): one bounded integral, computed with
    scipy.integrate.quad (absolute error below 1e-8 in the tests). When one se is 0 the
    other arm's t cdf gives it exactly.

    Args:
        effect: mean_with - mean_without (outcome units), finite.
        se_with, se_without: standard errors s / sqrt(n) of the arm means, finite, >= 0,
            not both 0.
        df_with, df_without: n - 1 of each arm, finite and > 0.

    Returns:
        A probability in [0, 1].

    Raises:
        ValidationError: a non-finite argument, a negative se, both se 0, df <= 0.
    """
    values = [effect, se_with, df_with, se_without, df_without]
    try:
        e, sw, nw, so, no = (float(v) for v in values)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"prob_greater needs numbers, got {values!r}") from err
    if not all(math.isfinite(v) for v in (e, sw, nw, so, no)):
        raise ValidationError(f"prob_greater needs finite numbers, got {values!r}")
    if sw < 0 or so < 0 or (sw == 0 and so == 0) or nw <= 0 or no <= 0:
        raise ValidationError("prob_greater needs se >= 0 (not both 0) and df > 0")
    if so == 0:
        return float(stats.t.cdf(e / sw, nw))
    if sw == 0:
        return float(stats.t.cdf(e / so, no))

    # integrate over the quantiles of the arm with the smaller se: the integrand then
    # varies slowly in u (never a near-step), which keeps quad accurate
    if sw <= so:

        def integrand(u: float) -> float:  # special.stdtr/stdtrit: t cdf and its inverse
            return special.stdtr(no, (e + sw * special.stdtrit(nw, u)) / so)

    else:

        def integrand(u: float) -> float:
            return 1.0 - special.stdtr(nw, (so * special.stdtrit(no, u) - e) / sw)

    with warnings.catch_warnings():  # quad's round-off notice at probabilities ~0 or ~1
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-11, epsrel=1e-10, limit=200)
    return float(min(1.0, max(0.0, value)))


# --------------------------------------------------------------------------- power
def _pooled_sd(w: np.ndarray, o: np.ndarray) -> float | None:
    arms = [a for a in (w, o) if a.size >= 2]
    if not arms:
        return None
    dof = sum(a.size - 1 for a in arms)
    return math.sqrt(sum((a.size - 1) * a.var(ddof=1) for a in arms) / dof)


def _cs_sessions_per_arm(sd: float, effect: float, level: float, power: float, c2: float) -> int:
    """Smallest n per arm at which the sequence excludes 0 with probability ``power``."""
    if sd == 0.0:
        return 2
    z = float(stats.norm.ppf(power))
    alpha = 1.0 - level
    sd_pair = sd * math.sqrt(2.0)

    def reached(n: int) -> bool:
        half = sd_pair * float(_half_width_factor(n, c2, alpha))
        return effect - half - z * sd_pair / math.sqrt(n) >= 0

    lo, hi = 1, 2
    while not reached(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # reached(lo) is False, reached(hi) True
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reached(mid) else (mid, hi)
    return max(2, hi)


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
    promise a verdict the status does not give). With n pairs, outcome sd ``sd`` in both
    arms and true effect d = ``target_effect``, a pair's difference has sd
    sd_d = sqrt(2) sd, the mean difference is approximately N(d, sd_d^2 / n) and the
    sequence's half-width is about sd_d f(n) (f of :func:`confidence_sequence`, with the
    sample sd replaced by its target). The sequence excludes 0 at n with probability
    Phi((d - sd_d f(n)) / (sd_d / sqrt(n))); the answer is the smallest integer n >= 2 at
    which that reaches ``power`` (Phi^-1 is scipy.stats.norm.ppf). It is conservative:
    the sequence may already have excluded 0 at an earlier look. Same logic as any power
    analysis (Cohen, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.,
    1988, ch. 2), applied to Lai's (1976) sequence.

    Args:
        sd: outcome standard deviation in each arm (outcome units), finite and >= 0;
            0 gives 2.
        target_effect: the smallest effect worth detecting (outcome units), > 0.
        level: confidence level of the sequence, in (0, 1).
        power: probability of detecting the effect, in (0, 1).
        t_opt: sessions (both arms) at which the sequence is tightest (its tuning).

    Returns:
        n per arm, an int >= 2.

    Raises:
        ValidationError: sd not finite and >= 0, target_effect not finite and > 0, level
            or power outside (0, 1), t_opt not finite and > 2.
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
    return _cs_sessions_per_arm(s, d, lvl, pw, mixture_precision(t_opt, lvl))


# --------------------------------------------------------------------------- analysis
def _degenerate(w: np.ndarray, o: np.ndarray) -> str | None:
    """``"identical"``, ``"no variation"`` or None (see :class:`AblationAnalysis`)."""
    scale = max(float(np.abs(w).max()), float(np.abs(o).max()))
    tol = RESOLUTION * scale
    if w.std(ddof=1) > tol or o.std(ddof=1) > tol:
        return None
    return "identical" if abs(w.mean() - o.mean()) <= tol else "no variation"


def _reason(status: Status, degenerate: str | None, n_w: int, n_o: int, minimum: int) -> str:
    if degenerate == "identical":
        return "No detectable difference: the two arms are identical up to rounding."
    if degenerate == "no variation":
        return (
            "No verdict: no outcome varies within an arm, so the noise cannot be "
            "estimated and no interval can be trusted."
        )
    if min(n_w, n_o) < minimum:
        return (
            f"No verdict yet: {max(0, minimum - n_w)} more sessions with the learning and "
            f"{max(0, minimum - n_o)} more without it are needed (minimum {minimum} per arm)."
        )
    return {
        "positive": "Conclusive: the sequential interval lies above 0 (sessions go better "
        "with the learning).",
        "negative": "Conclusive: the sequential interval lies below 0 (sessions go worse "
        "with the learning).",
        "inconclusive": "Not conclusive yet: the sequential interval still contains 0.",
    }[status]


def _check_minimum(min_sessions_per_arm: Any) -> int:
    if (
        isinstance(min_sessions_per_arm, bool)
        or not isinstance(min_sessions_per_arm, int | np.integer)
        or min_sessions_per_arm < 2
    ):
        raise ValidationError(
            f"min_sessions_per_arm must be an integer >= 2, got {min_sessions_per_arm!r}"
        )
    return int(min_sessions_per_arm)


def _sessions_needed(
    w: np.ndarray, o: np.ndarray, minimum: int, target: float, level: float, power: float, c2: float
) -> int | None:
    """Further sessions per arm before a verdict: with the pooled sample sd
    s_p = sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)) over arms with >= 2 sessions,
    n* = max(minimum, sessions per arm of :func:`sessions_per_arm` (s_p, target, level,
    power)), max(0, n* - min(n_w, n_o)); None when neither arm has 2 sessions."""
    pooled = _pooled_sd(w, o)
    if pooled is None:
        return None
    required = max(minimum, _cs_sessions_per_arm(pooled, target, level, power, c2))
    return max(0, required - min(w.size, o.size))


def _summary(w: np.ndarray, o: np.ndarray, minimum: int, level: float, c2: float) -> dict:
    """The descriptive fields of :class:`AblationAnalysis` (means NaN for an empty arm)."""
    nan = float("nan")
    return {
        "n_with": int(w.size),
        "n_without": int(o.size),
        "mean_with": float(w.mean()) if w.size else nan,
        "mean_without": float(o.mean()) if o.size else nan,
        "cs_pairs": int(min(w.size, o.size)),
        "cs_precision": c2,
        "min_sessions_per_arm": minimum,
        "level": level,
    }


def _uninformed(
    base: dict, effect: float, reason: str, degenerate: str | None, needed: int | None
) -> AblationAnalysis:
    """An analysis whose inferential fields are NaN and status "inconclusive" (too few
    sessions, or degenerate data)."""
    nan = float("nan")
    return AblationAnalysis(
        **base,
        effect=effect,
        ci_low=nan,
        ci_high=nan,
        t_statistic=nan,
        df=nan,
        p_value=nan,
        prob_helps=nan,
        cs_low=nan,
        cs_high=nan,
        status="inconclusive",
        reason=reason,
        degenerate=degenerate,
        sessions_needed_per_arm=needed,
    )


def _inference(
    w: np.ndarray, o: np.ndarray, effect: float, level: float, cs_t_opt: float
) -> dict[str, float]:
    """Welch's t-test and interval (scipy.stats.ttest_ind(equal_var=False) and its
    ``confidence_interval(level)``), the posterior P(effect > 0) of :func:`prob_greater`
    and the last interval of the confidence sequence of :func:`sequential_path` over the
    sessions paired in the order they ran. Both arms have >= 2 sessions, not degenerate."""
    with warnings.catch_warnings():  # near-constant arms: degenerate cases are out already
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(w, o, equal_var=False)
        ci = res.confidence_interval(confidence_level=level)
    se_w, se_o = math.sqrt(w.var(ddof=1) / w.size), math.sqrt(o.var(ddof=1) / o.size)
    pairs = min(w.size, o.size)
    low, high = sequential_path(w[:pairs], o[:pairs], level=level, t_opt=cs_t_opt)
    return {
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "t_statistic": float(res.statistic),
        "df": float(res.df),
        "p_value": float(res.pvalue),
        "prob_helps": prob_greater(effect, se_w, w.size - 1, se_o, o.size - 1),
        "cs_low": float(low[-1]),
        "cs_high": float(high[-1]),
    }


def _verdict(cs_low: float, cs_high: float, pairs: int, minimum: int) -> Status:
    """ "positive"/"negative" when the sequence excludes 0 after ``minimum`` pairs."""
    if pairs >= minimum:
        if cs_low > 0:
            return "positive"
        if cs_high < 0:
            return "negative"
    return "inconclusive"


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
    """An :class:`AblationAnalysis` of an experiment: marginal value, tests, intervals, verdict.

    * effect = mean_with - mean_without (the marginal value).
    * Welch's t-test and interval: Welch, B. L. (1947), "The generalization of
      'Student's' problem when several different population variances are involved",
      Biometrika 34: t = effect / se, se = sqrt(s_w^2/n_w + s_o^2/n_o), Welch-Satterthwaite
      df (scipy.stats.ttest_ind(equal_var=False)). Valid for one look at a fixed n.
    * prob_helps = P(effect > 0 | data), the exact Behrens-Fisher posterior of
      :func:`prob_greater` (independent normal arms, flat prior on (mu, log sigma)).
    * cs_low, cs_high: the always-valid confidence sequence of :func:`confidence_sequence`
      (Scheffé's pairing, Lai 1976), c^2 = mixture_precision(cs_t_opt, level).
    * status: "inconclusive" until both arms have >= min_sessions_per_arm sessions; then
      "positive" if cs_low > 0, "negative" if cs_high < 0. The sequence is valid at every
      look, so checking after every session keeps the chance of a wrong verdict at most
      1 - level (exactly so for normal outcomes), whatever the minimum.
    * Fewer than 2 sessions in an arm, or degenerate data (the sd of both arms at most
      RESOLUTION x the largest |outcome|): the inferential fields are NaN, the status
      "inconclusive" (see :class:`AblationAnalysis`); identical arms give effect 0.0.
    * sessions_needed_per_arm: 0 once conclusive; otherwise max(0, n* - min(n_w, n_o))
      with n* = max(min_sessions_per_arm, :func:`sessions_per_arm` (pooled sd,
      target_effect, level, power)); None when no arm has 2 sessions or data are degenerate.

    Args:
        with_outcomes: 1-D array-like of floats, outcomes of sessions with the learning,
            in the order the sessions ran.
        without_outcomes: 1-D array-like of floats, outcomes of sessions without it.
        level: confidence level for interval, sequence and power analysis, in (0, 1).
        min_sessions_per_arm: sessions per arm before a verdict is given, int >= 2.
        target_effect: smallest effect worth detecting, in outcome units, > 0.
        power: desired power against target_effect, in (0, 1).
        cs_t_opt: sessions (both arms) at which the confidence sequence is tightest, > 2.

    Raises:
        ValidationError: arrays not 1-D or holding NaN/inf; level or power outside (0, 1);
            min_sessions_per_arm not an int >= 2; target_effect not finite and > 0;
            cs_t_opt not finite and > 2.
    """
    w = _as_outcomes("with_outcomes", with_outcomes)
    o = _as_outcomes("without_outcomes", without_outcomes)
    lvl, pw = _check_open_unit("level", level), _check_open_unit("power", power)
    minimum = _check_minimum(min_sessions_per_arm)
    target = _check_positive("target_effect", target_effect)
    c2 = mixture_precision(cs_t_opt, lvl)
    base = _summary(w, o, minimum, lvl, c2)
    needed = _sessions_needed(w, o, minimum, target, lvl, pw, c2)
    effect = base["mean_with"] - base["mean_without"]
    if w.size < 2 or o.size < 2:
        reason = _reason("inconclusive", None, w.size, o.size, max(2, minimum))
        return _uninformed(base, effect, reason, None, needed)
    degenerate = _degenerate(w, o)
    if degenerate is not None:
        reason = _reason("inconclusive", degenerate, w.size, o.size, minimum)
        effect = 0.0 if degenerate == "identical" else effect
        return _uninformed(base, effect, reason, degenerate, None)
    found = _inference(w, o, effect, lvl, cs_t_opt)
    status = _verdict(found["cs_low"], found["cs_high"], min(w.size, o.size), minimum)
    reason = _reason(status, None, w.size, o.size, minimum)
    needed = 0 if status != "inconclusive" else needed
    return AblationAnalysis(
        **base,
        **found,
        effect=effect,
        status=status,
        reason=reason,
        degenerate=None,
        sessions_needed_per_arm=needed,
    )


def to_result(analysis: AblationAnalysis) -> tuple[float, float, bool]:
    """vibes-groove's ``AblationResult`` fields (marginal_value, confidence, is_significant;
    docs/architecture.md#data-contract).

    * marginal_value = analysis.effect (outcome units).
    * confidence = the posterior probability that the effect has the sign it was
      estimated with: prob_helps when effect >= 0, else 1 - prob_helps. It lies in
      [0.5, 1] (0.5 = no idea which way; 1 = certain); see :func:`prob_greater` for the
      model. Degenerate data (prob_helps NaN) give 0.5.
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
