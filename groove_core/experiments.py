"""Analyse ablation experiments and write their results back (store + analysis)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from groove_core.analysis.evidence import ExperimentAnalysis, experiment_analysis
from groove_core.errors import NotFoundError
from groove_core.store.attribution import AttributionStore

__all__ = ["analyze_experiment", "analyze_experiments"]


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
    store: AttributionStore, *, save: bool = True, **options: Any
) -> list[ExperimentAnalysis]:
    """:func:`analyze_experiment` for every experiment of the tier, oldest first."""
    out = []
    for exp in store.experiments():
        done = experiment_analysis(exp, **options)
        if save and done.result is not None and done.result != exp.result:
            store.record_result(exp.learning_id, done.result)
            done = ExperimentAnalysis(replace(exp, result=done.result), done.analysis, done.result)
        out.append(done)
    return out
