"""Synthetic attribution data (``groove simulate``): sessions, injections, outcomes,
attribution records, learning values and ablation experiments for the learnings of a tier,
drawn from a seeded model in which every learning has a known true effect.

Everything it writes is marked synthetic: session ids start with ``sim-<seed>-``, and the
run is recorded in ``attribution_simulation`` with its parameters, the true effect of
every learning (the ground truth) and a snapshot of what it changed, so that
:func:`remove_attribution_simulation` restores the tier exactly.

The model (all draws from ``numpy.random.default_rng(seed)``):

* each learning gets a true effect ``delta`` on a session's outcome: with probability
  0.2 a clear help (uniform 0.12..0.25), 0.15 a clear harm (uniform -0.25..-0.12), else
  a small one (normal, sd 0.02); a popularity (lognormal) and an activation rate
  (uniform 0.4..0.9);
* sessions are spread evenly over the ``days`` before ``end``; each injects 1 + Poisson(2.5)
  learnings drawn by popularity; a learning under an ablation experiment is, once the
  experiment has started, also eligible in 45 % of sessions and then withheld with
  probability 1/2 (a fair coin, independent of everything else);
* a session's outcome is ``0.55 + sum(delta of injected learnings) + N(0, 0.1^2)``, not
  clipped, so an experiment's difference of means estimates exactly ``delta``;
* each injection gets an outcome (helpful / ignored / contradicted, more often helpful
  when delta is larger; never helpful unless activated) recorded like a real one (usage
  stats, confidence and an outcome event), and an attribution record whose temporal
  signal and attributed value follow delta's sign with noise;
* learning values aggregate those records (the value estimate of
  :func:`groove_core.analysis.evidence.learning_values`: outcome units, with P(value > 0)
  as its confidence); experiments carry their sessions with and without the learning and
  the result of :func:`groove_core.analysis.ablation.analyze`;
* the adaptive parameters of :data:`SIM_PARAMS` learn from the sessions by the Bayesian
  update of :meth:`groove_core.model.params.AdaptiveParam.update`, starting from their
  stored value if any:
  ``injection_budget`` from each session's outcome (clipped to [0, 1]),
  ``activation_threshold`` from the activation confidence of each activated injection,
  ``ablation_rate`` from each experiment session (1 when the learning was withheld).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from groove_core.analysis.evidence import (
    experiment_analysis,
    learning_values,
    temporal_confidence,
)
from groove_core.errors import GrooveError, ValidationError
from groove_core.model.attribution import (
    AblationExperiment,
    AttributionRecord,
    EmbeddingSimilarity,
    ExplicitReference,
    LearningStatus,
    LearningValue,
    SessionOutcome,
)
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.serde import new_id, now
from groove_core.model.usage import Outcome, OutcomeEvent
from groove_core.progress import Progress, ProgressFn
from groove_core.simulate.tier import require_simulation_tier
from groove_core.store.attribution_rows import SIM_PREFIX
from groove_core.store.simulation_runs import SimulationRun

__all__ = [
    "AttributionSimulationReport",
    "effect_prior",
    "remove_attribution_simulation",
    "simulate_attribution",
]

BASE_OUTCOME = 0.55
NOISE_SD = 0.1
P_HELP, P_HARM = 0.2, 0.15
BIG_EFFECT = (0.12, 0.25)
SMALL_SD = 0.02
MEAN_EXTRA_INJECTIONS = 2.5
P_ELIGIBLE = 0.45
P_WITHHOLD = 0.5
#: Adaptive parameters the simulation teaches (see the module docstring).
SIM_PARAMS = ("ablation_rate", "activation_threshold", "injection_budget")


@dataclass(frozen=True)
class AttributionSimulationReport:
    """What :func:`simulate_attribution` wrote (all of it synthetic).

    ``truth`` maps learning id -> true effect on a session's outcome; ``experiments``
    lists the learnings given an ablation experiment.
    """

    tier: str
    run_id: str
    seed: int
    session_prefix: str
    sessions: int
    learnings: int
    experiments: list[str]
    truth: dict[str, float]
    attributions: int
    outcomes: int
    values: int
    start: datetime
    end: datetime
    synthetic: bool = field(default=True)

    def summary(self) -> str:
        """One paragraph for the CLI."""
        return (
            f"SYNTHETIC data written to tier '{self.tier}' (run {self.run_id}, seed "
            f"{self.seed}): {self.sessions} sessions ({self.session_prefix}*) from "
            f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}, {self.learnings} learnings, "
            f"{self.attributions} attribution records, {self.outcomes} outcomes, "
            f"{len(self.experiments)} ablation experiments, {len(SIM_PARAMS)} adaptive "
            f"parameters. Remove it with: groove simulate --remove --tier {self.tier}"
        )


def effect_prior(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` true effects (outcome units) from the simulation's prior: with probability 0.2
    a clear help (uniform 0.12..0.25), 0.15 a clear harm (uniform -0.25..-0.12), else a
    small effect (normal, sd 0.02). Returns a float array of shape (n,)."""
    kind = rng.random(n)
    return np.where(
        kind < P_HELP,
        rng.uniform(*BIG_EFFECT, n),
        np.where(
            kind < P_HELP + P_HARM, -rng.uniform(*BIG_EFFECT, n), rng.normal(0.0, SMALL_SD, n)
        ),
    )


def _report(progress: ProgressFn | None, fraction: float, stage: str, message: str = "") -> None:
    if progress is not None:
        progress(Progress(stage, fraction, 1, message))


def _check_arguments(tier, seed, sessions, experiments, days) -> str:
    """The session prefix of a new run; GrooveError/ValidationError as in
    :func:`simulate_attribution`."""
    require_simulation_tier(tier)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"seed must be an integer >= 0, got {seed!r}")
    if int(sessions) < 1 or int(experiments) < 0 or int(days) < 1:
        raise ValidationError("sessions and days must be >= 1 and experiments >= 0")
    prefix = f"{SIM_PREFIX}{seed}-"
    if any(r.session_prefix == prefix for r in tier.attribution.simulation_runs()):
        raise GrooveError(
            f"tier '{tier.name}' already holds simulated data with seed {seed}; remove it "
            "first or use another seed"
        )
    return prefix


@dataclass(frozen=True)
class _Truth:
    """Per learning (index order): true effect, injection probability, activation rate."""

    delta: np.ndarray
    popularity: np.ndarray
    act_rate: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> _Truth:
        """Draw from the prior of the module docstring (``n`` learnings)."""
        delta = effect_prior(rng, n)
        popularity = rng.lognormal(0.0, 0.8, n)
        return cls(delta, popularity / popularity.sum(), rng.uniform(0.4, 0.9, n))


def _pick_experiments(
    rng: np.random.Generator, delta: np.ndarray, n_exp: int, n_sessions: int
) -> dict[int, int]:
    """Learning index -> the session its experiment starts at, for ``n_exp`` learnings
    alternating clear helps, clear harms and small effects; the first half start with
    the first session, the others later (still running)."""
    order = rng.permutation(len(delta))
    groups = [
        [k for k in order if delta[k] >= BIG_EFFECT[0]],
        [k for k in order if delta[k] <= -BIG_EFFECT[0]],
        [k for k in order if abs(delta[k]) < BIG_EFFECT[0]],
    ]
    exp_idx: list[int] = []
    while len(exp_idx) < n_exp:
        for g in groups:
            if g and len(exp_idx) < n_exp:
                exp_idx.append(g.pop(0))
    return {
        k: 0 if j < (n_exp + 1) // 2 else int(rng.uniform(0.3, 0.8) * n_sessions)
        for j, k in enumerate(exp_idx)
    }


@dataclass
class _Sessions:
    """What the simulated sessions produced."""

    records: list[AttributionRecord] = field(default_factory=list)
    outcomes: list[OutcomeEvent] = field(default_factory=list)
    #: experiment learning index -> (sessions with it, sessions without it)
    arms: dict[int, tuple[list[SessionOutcome], list[SessionOutcome]]] = field(default_factory=dict)
    started_at: dict[int, datetime] = field(default_factory=dict)


def _session(
    rng: np.random.Generator,
    learnings: list,
    truth: _Truth,
    exp_start: dict[int, int],
    s: int,
    sid: str,
    t: datetime,
    out: _Sessions,
) -> None:
    """Session number ``s``: its injections (experiments' coin flips), outcome, records."""
    n = len(learnings)
    k_inj = min(n, 1 + int(rng.poisson(MEAN_EXTRA_INJECTIONS)))
    eligible = set(rng.choice(n, size=k_inj, replace=False, p=truth.popularity).tolist())
    withheld: set[int] = set()
    for k in exp_start:
        if s < exp_start[k]:
            continue
        out.started_at.setdefault(k, t)
        if rng.random() < P_ELIGIBLE:
            eligible.add(k)
        if k in eligible and rng.random() < P_WITHHOLD:
            withheld.add(k)
    injected = sorted(eligible - withheld)
    y = BASE_OUTCOME + float(truth.delta[injected].sum()) + float(rng.normal(0.0, NOISE_SD))
    for k in exp_start:
        if k in eligible:
            out.arms[k][1 if k in withheld else 0].append(SessionOutcome(sid, y, t))
    for k in sorted(eligible):
        delta = float(truth.delta[k])
        rec = _record(rng, learnings[k], sid, t, y, delta, float(truth.act_rate[k]), k in withheld)
        out.records.append(rec)
        if k not in withheld:
            out.outcomes.append(
                OutcomeEvent(learnings[k].id, _outcome(rng, delta, rec.was_activated), t, sid)
            )


def _sessions(
    rng: np.random.Generator,
    learnings: list,
    truth: _Truth,
    exp_start: dict[int, int],
    prefix: str,
    start: datetime,
    end: datetime,
    n_sessions: int,
    progress: ProgressFn | None,
) -> _Sessions:
    """``n_sessions`` sessions spread evenly from ``start`` to ``end``."""
    out = _Sessions(arms={k: ([], []) for k in exp_start})
    step = (end - start) / n_sessions
    for s in range(n_sessions):
        if s % 50 == 0:
            fraction = 0.05 + 0.75 * s / n_sessions
            _report(progress, fraction, "simulating sessions", f"session {s + 1}/{n_sessions}")
        t = (start + step * (s + 1)).replace(microsecond=0)
        _session(rng, learnings, truth, exp_start, s, f"{prefix}{s + 1:05d}", t, out)
    return out


def simulate_attribution(
    tier,
    *,
    seed: int = 0,
    sessions: int = 300,
    experiments: int = 8,
    days: int = 60,
    end: datetime | None = None,
    progress: ProgressFn | None = None,
) -> AttributionSimulationReport:
    """Fill simulation tier ``tier`` with synthetic attribution data for its learnings (see
    the module docstring for the model), in ONE transaction. Real tiers are refused: fill
    a simulation tier with copies first (:func:`groove_core.simulate.tier.copy_into_simulation`).

    Args:
        tier: an open simulation :class:`groove_core.tiers.Tier` (``simulation:<name>``).
        seed: random seed; the same seed on the same learnings gives the same data.
        sessions: number of synthetic sessions (>= 1).
        experiments: number of learnings given an ablation experiment (capped at the
            number of learnings).
        days: the sessions span this many days before ``end``.
        end: time of the last session (default: now, to the hour).
        progress: called with :class:`~groove_core.progress.Progress` whose ``done`` is
            the fraction of the whole run (``total`` 1), docs/architecture.md#progress.

    Raises:
        GrooveError: not a simulation tier, the tier has no learnings, or it already
            holds a run with this seed.
        ValidationError: a bad argument.
    """
    prefix = _check_arguments(tier, seed, sessions, experiments, days)
    store = tier.attribution
    _report(progress, 0.0, "reading learnings")
    learnings = sorted(tier.learnings.iter_all(), key=lambda lr: lr.id)
    if not learnings:
        raise GrooveError(f"tier '{tier.name}' has no learnings to simulate; import some first")
    ids = [lr.id for lr in learnings]
    rng = np.random.default_rng(seed)
    run_id = new_id()
    end = (end or now().replace(minute=0, second=0)).replace(microsecond=0)
    start = end - timedelta(days=int(days))
    truth = _Truth.draw(rng, len(ids))
    n_exp, n_sessions = min(int(experiments), len(ids)), int(sessions)
    exp_start = _pick_experiments(rng, truth.delta, n_exp, n_sessions)
    done = _sessions(rng, learnings, truth, exp_start, prefix, start, end, n_sessions, progress)

    _report(progress, 0.8, "analysing experiments")
    exps = [
        _with_result(
            AblationExperiment(ids[k], done.started_at.get(k, end), tuple(with_), tuple(without))
        )
        for k, (with_, without) in done.arms.items()
    ]
    params = _params(tier, done.records, done.arms, end)
    snapshot = store.snapshot(ids, param_names=SIM_PARAMS)
    values = _values(done.records, exps, store.values_many(ids), end)
    _report(progress, 0.9, "writing")
    effects = {i: float(d) for i, d in zip(ids, truth.delta, strict=True)}
    exp_ids = [ids[k] for k in exp_start]
    run = SimulationRun(
        run_id=run_id,
        created_at=now(),
        seed=seed,
        session_prefix=prefix,
        params={
            "sessions": n_sessions,
            "experiments": n_exp,
            "days": int(days),
            "end": end.isoformat(),
            "base_outcome": BASE_OUTCOME,
            "noise_sd": NOISE_SD,
            "synthetic": True,
            "generator": "groove_core.simulate.attribution",
        },
        truth=effects,
        snapshot=snapshot,
        summary={
            "attributions": len(done.records),
            "outcomes": len(done.outcomes),
            "values": len(values),
            "experiments": exp_ids,
            "params": list(SIM_PARAMS),
        },
    )
    store.save_simulation(
        run,
        attributions=done.records,
        values=values,
        experiments=exps,
        outcomes=done.outcomes,
        params=params,
    )
    _report(progress, 1.0, "done")
    return AttributionSimulationReport(
        tier=tier.name,
        run_id=run_id,
        seed=seed,
        session_prefix=prefix,
        sessions=n_sessions,
        learnings=len(ids),
        experiments=exp_ids,
        truth=effects,
        attributions=len(done.records),
        outcomes=len(done.outcomes),
        values=len(values),
        start=start,
        end=end,
    )


def _params(tier, records, arms, at) -> list[SystemParam]:
    """The adaptive parameters of SIM_PARAMS after learning from the simulated sessions."""
    stored = {p.name: p for p in tier.params.all_params()}
    learned = {
        name: replace(stored[name].param) if name in stored else AdaptiveParam()
        for name in SIM_PARAMS
    }
    outcomes = {r.session_id: r.session_outcome for r in records}
    for y in outcomes.values():
        learned["injection_budget"].update(min(1.0, max(0.0, y)))
    for r in records:
        if r.was_activated:
            learned["activation_threshold"].update(r.activation_confidence)
    for with_, without in arms.values():
        looks = sorted([(x.timestamp, 0.0) for x in with_] + [(x.timestamp, 1.0) for x in without])
        for _, withheld in looks:
            learned["ablation_rate"].update(withheld)
    return [SystemParam(name, learned[name], at) for name in SIM_PARAMS]


def _with_result(exp: AblationExperiment) -> AblationExperiment:
    done = experiment_analysis(exp)
    return AblationExperiment(
        exp.learning_id, exp.started_at, exp.sessions_with, exp.sessions_without, done.result
    )


def _record(rng, learning, sid, t, y, delta, act_rate, withheld) -> AttributionRecord:
    activated = (not withheld) and bool(rng.random() < act_rate)
    if activated:
        conf = float(rng.uniform(0.55, 0.98))
        signals: list = [EmbeddingSimilarity(round(conf, 3), int(rng.integers(0, 40)))]
        if rng.random() < 0.3:
            words = " ".join(learning.description.split()[:4])
            signals.append(ExplicitReference(words, int(rng.integers(0, 40))))
        net = float(np.clip(2.5 * delta + rng.normal(0.0, 0.15), -1.0, 1.0))
        positive = max(net, 0.0) + abs(float(rng.normal(0.0, 0.05)))
        negative = positive - net
        attributed = conf * net * 0.4
    else:
        conf = 0.0 if withheld else float(rng.uniform(0.0, 0.35))
        signals, positive, negative, net, attributed = [], 0.0, 0.0, 0.0, 0.0
    return AttributionRecord(
        learning_id=learning.id,
        session_id=sid,
        timestamp=t,
        was_activated=activated,
        activation_confidence=conf,
        activation_signals=tuple(signals),
        temporal_positive=positive,
        temporal_negative=negative,
        net_temporal=positive - negative,
        was_withheld=withheld,
        session_outcome=y,
        attributed_value=attributed,
    )


def _outcome(rng, delta: float, activated: bool) -> Outcome:
    u = rng.random()
    if not activated:
        return Outcome.IGNORED
    p_help = float(np.clip(0.6 + 2.0 * delta, 0.05, 0.95))
    p_contra = min(float(np.clip(0.12 - delta, 0.02, 0.4)), 1.0 - p_help)
    if u < p_help:
        return Outcome.HELPFUL
    if u < p_help + p_contra:
        return Outcome.CONTRADICTED
    return Outcome.IGNORED


def _values(records, exps, old_values, at) -> list[LearningValue]:
    """Learning values from the simulated records: ``estimated_value`` and ``confidence``
    are the value estimate (outcome units) and P(value > 0) of
    :func:`groove_core.analysis.evidence.learning_values`; ``temporal_confidence`` is
    :func:`groove_core.analysis.evidence.temporal_confidence` of the net temporal signals
    (0.5 where the data say nothing either way)."""
    frame = pd.DataFrame(
        {
            "learning_id": [r.learning_id for r in records],
            "session_id": [r.session_id for r in records],
            "session_outcome": [r.session_outcome for r in records],
            "was_withheld": [r.was_withheld for r in records],
        }
    )
    estimates = learning_values(frame).set_index("learning_id")
    by_learning: dict[str, list[AttributionRecord]] = {}
    for r in records:
        by_learning.setdefault(r.learning_id, []).append(r)
    exp_by = {e.learning_id: e for e in exps}
    out = []
    for lid, recs in by_learning.items():
        inj = [r for r in recs if not r.was_withheld]
        act = [r for r in inj if r.was_activated]
        n_inj = len(inj)
        exp = exp_by.get(lid)
        result = exp.result if exp is not None else None
        old = old_values.get(lid)
        if old is not None and old.status.is_deprecated:
            status = old.status
        elif exp is not None and exp.state == "running":
            status = LearningStatus.experimental()
        else:
            status = LearningStatus.active()
        est = estimates.loc[lid] if lid in estimates.index else None
        value = 0.0 if est is None or np.isnan(est["value"]) else float(est["value"])
        conf = 0.5 if est is None or np.isnan(est["p_positive"]) else float(est["p_positive"])
        temporal = [r.net_temporal for r in act]
        out.append(
            LearningValue(
                learning_id=lid,
                estimated_value=value,
                confidence=conf,
                session_count=n_inj,
                activation_rate=len(act) / n_inj if n_inj else 0.0,
                temporal_value=float(np.mean(temporal)) if temporal else 0.0,
                temporal_confidence=temporal_confidence(temporal),
                ablation_value=None if result is None else result.marginal_value,
                ablation_confidence=None if result is None else result.confidence,
                status=status,
                updated_at=at,
            )
        )
    return out


def remove_attribution_simulation(tier, run_id: str | None = None) -> list[dict]:
    """Remove simulated attribution data from ``tier`` exactly: one run, or every run
    (latest first), restoring usage stats, confidences, learning values and experiments
    to what they were before. Returns one dict of counts per run removed (empty when the
    tier holds no simulation)."""
    store = tier.attribution
    runs = store.simulation_runs()
    if run_id is not None:
        at = [k for k, r in enumerate(runs) if r.run_id == run_id]
        if not at:
            raise GrooveError(f"no simulation run {run_id} in tier '{tier.name}'")
        if at[0] != len(runs) - 1:
            raise GrooveError(
                f"simulation run {run_id} has later runs on top of it; remove those first"
            )
        runs = runs[at[0] :]
    out = []
    for run in reversed(runs):
        done = store.remove_simulation(run.run_id)
        out.append({"run_id": run.run_id, "seed": run.seed, **done})
    return out
