"""Ablation experiments of one tier (relation ``ablation_experiment``): starting one,
recording its analysed result, and how many learnings have been tested."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from groove_core.errors import GrooveError, NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.attribution import (
    AblationExperiment,
    AblationResult,
    LearningStatus,
    LearningValue,
)
from groove_core.model.serde import check_uuid, new_id, now, to_unix
from groove_core.store.attribution_rows import (
    EXPERIMENT_ATOM,
    EXPERIMENT_HEAD,
    PUT_VALUES,
    AttributionBase,
    row_to_experiment,
    value_to_row,
)
from groove_core.store.history import PUT_EDIT


class ExperimentsMixin(AttributionBase):
    """Ablation experiments (part of ``AttributionStore``)."""

    def get_experiment(self, learning_id: str) -> AblationExperiment | None:
        """The ablation experiment of a learning, or None (vibes-groove's ``get_experiment``)."""
        res = self.db.run(
            f"?[{EXPERIMENT_HEAD}] := learning_id = $id, {EXPERIMENT_ATOM}",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        rows = res.dicts()
        return row_to_experiment(rows[0], self.tier) if rows else None

    def update_experiment(
        self, experiment: AblationExperiment, *, actor: Principal | None = None
    ) -> None:
        """Insert or replace an experiment (vibes-groove's ``update_experiment``)."""
        self.store_bulk(experiments=[experiment], actor=actor)

    def experiments(self, state: str | None = None) -> list[AblationExperiment]:
        """Experiments, oldest first; ``state`` ``running`` (no significant result yet) or
        ``concluded`` (significant result) filters them."""
        conds = [EXPERIMENT_ATOM]
        if state == "concluded":
            # (mnestic 0.18 drops a `== true` filter when the query also has :order)
            conds.append("coalesce(is_significant, false)")
        elif state == "running":
            conds.append("!coalesce(is_significant, false)")
        elif state is not None:
            raise ValidationError(f"unknown experiment state {state!r} (running, concluded)")
        res = self.db.run(
            f"?[{EXPERIMENT_HEAD}] := " + ", ".join(conds) + " :order started_at, learning_id",
            read_only=True,
        )
        return [row_to_experiment(r, self.tier) for r in res.dicts()]

    def start_experiment(
        self, learning_id: str, *, at: datetime | None = None, actor: Principal | None = None
    ) -> AblationExperiment:
        """Start an ablation experiment for a learning: an empty experiment, the learning's
        status set to ``Experimental`` (unless deprecated) and an ``experiment_started``
        history entry, in one transaction.

        Raises:
            NotFoundError: no such learning. GrooveError: it already has an experiment.
            PermissionDeniedError.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.experiment_write, actor)
        lid = self.learnings.require(learning_id).id
        if self.get_experiment(lid) is not None:
            raise GrooveError(f"learning {lid} already has an ablation experiment")
        t = at or now()
        exp = AblationExperiment(lid, t)
        blocks, params = self._bulk_blocks([], [], [exp], [])
        old = self.get_learning_value(lid)
        if old is None or not old.status.is_deprecated:
            new = (
                replace(old, status=LearningStatus.experimental(), updated_at=now())
                if old is not None
                else LearningValue(
                    lid,
                    0.0,
                    0.0,
                    0,
                    0.0,
                    0.0,
                    0.0,
                    None,
                    None,
                    LearningStatus.experimental(),
                    now(),
                )
            )
            blocks.append(PUT_VALUES)
            params["values"] = [value_to_row(new)]
        blocks.append(PUT_EDIT)
        params["edits"] = [
            [
                lid,
                new_id(),
                to_unix(now()),
                actor.id,
                "experiment_started",
                None,
                json.dumps({"started_at": exp.to_json()["started_at"]}),
            ]
        ]
        self.writer.write(
            Action.experiment_write,
            lid,
            blocks,
            params,
            actor=actor,
            after=exp.to_json(),
            detail={"started": True},
        )
        return exp

    def record_result(
        self,
        learning_id: str,
        result: AblationResult | None,
        *,
        actor: Principal | None = None,
    ) -> None:
        """Write an experiment's analysed result (``marginal_value``, ``confidence``,
        ``is_significant``) and copy it into the learning's value (``ablation_value``,
        ``ablation_confidence``) when it has one, in one transaction.

        Raises: NotFoundError when the learning has no experiment. PermissionDeniedError.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.experiment_write, actor)
        lid = check_uuid(learning_id)
        if self.get_experiment(lid) is None:
            raise NotFoundError(f"learning {lid} has no ablation experiment")
        mv = None if result is None else result.marginal_value
        conf = None if result is None else result.confidence
        sig = None if result is None else result.is_significant
        self.writer.write(
            Action.experiment_write,
            lid,
            [
                "?[learning_id, marginal_value, confidence, is_significant] <- "
                "[[$id, $mv, $conf, $sig]] :update ablation_experiment "
                "{learning_id => marginal_value, confidence, is_significant}",
                "?[learning_id, ablation_value, ablation_confidence, updated_at] := "
                "learning_id = $id, *learning_value{learning_id}, ablation_value = $mv, "
                "ablation_confidence = $conf, updated_at = $at :update learning_value "
                "{learning_id => ablation_value, ablation_confidence, updated_at}",
            ],
            {"id": lid, "mv": mv, "conf": conf, "sig": sig, "at": to_unix(now())},
            actor=actor,
            after={"marginal_value": mv, "confidence": conf, "is_significant": sig},
        )

    def coverage(self) -> tuple[int, int]:
        """(learnings with an experiment, learnings in the tier): the share tested."""
        # two queries: Cozo joins the two relations by scanning ``learning`` (0.9 s at
        # 100,000 learnings, even with no experiment), a list of keys by lookups
        ids = self.db.run("?[id] := *ablation_experiment{learning_id: id}", read_only=True)
        tested = self.db.run(
            "?[count(id)] := id in $ids, *learning{id}",
            {"ids": [r[0] for r in ids.rows]},
            read_only=True,
        ).scalar(0)
        return int(tested or 0), self.learnings.count()


__all__ = ["ExperimentsMixin"]
