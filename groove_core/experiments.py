"""Analyse ablation experiments and write their results back (store + analysis)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd

from groove_core.analysis import deprecation
from groove_core.analysis.evidence import (
    VALUE_COLUMNS,
    ExperimentAnalysis,
    experiment_analysis,
    learning_values,
)
from groove_core.errors import NotFoundError
from groove_core.model.access import Principal
from groove_core.model.attribution import LearningValue
from groove_core.model.usage import PRIOR_ALPHA, PRIOR_BETA
from groove_core.store.attribution import AttributionStore


def value_board(
    store: AttributionStore,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    category: str | None = None,
) -> pd.DataFrame:
    """The tier's leaderboard (:meth:`AttributionStore.leaderboard`) over a period, with
    each learning's value estimate from the records of that period
    (:func:`groove_core.analysis.evidence.learning_values`, computed over *all* sessions
    of the period, then restricted to ``category``): columns ``value``, ``se``,
    ``ci_low``, ``ci_high`` (outcome units), ``p_positive``, ``n_injected``, ``n_other``
    are added (NaN for a learning without an estimate)."""
    board = store.leaderboard(since, until, category=category)
    values = learning_values(store.attribution_frame(since, until))
    return board.merge(values[VALUE_COLUMNS], on="learning_id", how="left")


__all__ = ["analyze_experiment", "analyze_experiments", "deprecation_candidates", "value_board"]


def analyze_experiment(
    store: AttributionStore,
    learning_id: str,
    *,
    save: bool = True,
    **options: Any,
) -> ExperimentAnalysis:
    """Analyse a learning's ablation experiment with
    :func:`groove_core.analysis.ablation.analyze` (``options`` are passed on: level,
    min_sessions_per_arm, target_effect, power) and, with ``save``, write the result back
    through :meth:`AttributionStore.record_result` when it differs from the stored one.

    Raises: NotFoundError when the learning has no experiment.
    """
    exp = store.get_experiment(learning_id)
    if exp is None:
        raise NotFoundError(f"learning {learning_id} has no ablation experiment")
    done = experiment_analysis(exp, **options)
    if save and done.result != exp.result and done.result is not None:
        store.record_result(exp.learning_id, done.result)
        done = ExperimentAnalysis(replace(exp, result=done.result), done.analysis, done.result)
    return done


def analyze_experiments(
    store: AttributionStore,
    *,
    save: bool = True,
    actor: Principal | None = None,
    **options: Any,
) -> list[ExperimentAnalysis]:
    """:func:`analyze_experiment` for every experiment of the tier, oldest first; with
    ``save`` each changed result is recorded as ``actor`` (default: the tier's).

    Raises: PermissionDeniedError (``save`` by an actor who may not write experiments).
    """
    out = []
    for exp in store.experiments():
        done = experiment_analysis(exp, **options)
        if save and done.result is not None and done.result != exp.result:
            store.record_result(exp.learning_id, done.result, actor=actor)
            done = ExperimentAnalysis(replace(exp, result=done.result), done.analysis, done.result)
        out.append(done)
    return out


def deprecation_candidates(
    store: AttributionStore,
    analyses: Sequence[ExperimentAnalysis],
    values: Mapping[str, LearningValue] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The tier's deprecation candidates: :func:`groove_core.analysis.deprecation.candidates`
    over every learning's confidence posterior (its usage stats; the prior Beta(1, 1)
    without any) and the analysis of its experiment in ``analyses`` (e.g. from
    :func:`analyze_experiments`), leaving out learnings already deprecated. ``values``:
    the tier's learning values when the caller has them already (else those of the
    candidates are read). ``options`` go to ``candidates`` (min_evidence, low_confidence,
    threshold_prob, ...).

    Learnings with neither usage stats nor an experiment are read only when the prior
    itself is a candidate under ``options`` (never with the defaults): about 0.5 s at
    100,000 learnings, one scan of the usage stats.

    Returns: the frame of ``candidates`` (columns ``deprecation.CANDIDATE_COLUMNS``),
    ordered by id.

    Raises: ValidationError: an option out of range (see ``candidates``).
    """
    prior = {"id": ["prior"], "alpha": [PRIOR_ALPHA], "beta": [PRIOR_BETA]}
    prior_counts = not deprecation.candidates(pd.DataFrame(prior), **options).empty
    params = store.learnings.posterior_params()
    by_id = {d.experiment.learning_id: d.analysis for d in analyses}
    ids = sorted(set(params) | set(by_id) | set(store.learnings.ids() if prior_counts else ()))
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "id": ids,
            "alpha": [params[i][0] if i in params else PRIOR_ALPHA for i in ids],
            "beta": [params[i][1] if i in params else PRIOR_BETA for i in ids],
            "effect": [by_id[i].effect if i in by_id else nan for i in ids],
            "cs_low": [by_id[i].cs_low if i in by_id else nan for i in ids],
            "cs_high": [by_id[i].cs_high if i in by_id else nan for i in ids],
            "status": [by_id[i].status if i in by_id else None for i in ids],
        }
    )
    out = deprecation.candidates(frame, **options)
    found = list(out["id"])
    if values is None:
        values = store.values_many(found)
    live = {lr.id for lr in store.learnings.get_many(found)}  # a usage row may outlive it
    gone = {i for i, v in values.items() if v.status.is_deprecated} | (set(found) - live)
    return out[~out["id"].isin(gone)].reset_index(drop=True)
