"""The bookkeeping of ``groove simulate`` (relation ``attribution_simulation``): a run's
synthetic data written in one transaction with a snapshot of what it changes, and removed
exactly, snapshot restored and real outcomes recorded since applied again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groove_core.errors import NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.attribution import AblationExperiment, AttributionRecord, LearningValue
from groove_core.model.params import SystemParam
from groove_core.model.serde import check_uuid, from_unix, to_unix
from groove_core.model.usage import Outcome, OutcomeEvent, UsageStats
from groove_core.store import changelog
from groove_core.store.attribution_rows import (
    EXPERIMENT_ATOM,
    EXPERIMENT_COLS,
    EXPERIMENT_HEAD,
    PUT_SIM,
    SIM_HEAD,
    SIM_PREFIX,
    VALUE_ATOM,
    VALUE_COLS,
    VALUE_HEAD,
    AttributionBase,
)
from groove_core.store.params import PARAM_COLS, PUT_PARAMS, param_to_row
from groove_core.store.rows import USAGE_COLS, USAGE_HEAD, USAGE_KEYED, row_to_usage


@dataclass(frozen=True)
class SimulationRun:
    """A ``groove simulate`` run recorded in ``attribution_simulation``.

    ``truth`` maps learning id -> its true effect (outcome units) in the simulation;
    ``session_prefix`` starts every synthetic session id of the run; ``snapshot`` is what
    the run changed, as it was before (for exact removal); ``summary`` counts what it wrote.
    """

    run_id: str
    created_at: datetime
    seed: int
    session_prefix: str
    params: dict
    truth: dict[str, float]
    snapshot: dict
    summary: dict


class SimulationRunsMixin(AttributionBase):
    """Simulation runs (part of ``AttributionStore``)."""

    def simulation_runs(self) -> list[SimulationRun]:
        """Recorded ``groove simulate`` runs, oldest first."""
        res = self.db.run(
            f"?[{SIM_HEAD}] := *attribution_simulation{{{SIM_HEAD}}} :order created_at, run_id",
            read_only=True,
        )
        return [
            SimulationRun(
                run_id=r["run_id"],
                created_at=from_unix(r["created_at"]),
                seed=r["seed"],
                session_prefix=r["session_prefix"],
                params=json.loads(r["params_json"]),
                truth=json.loads(r["truth_json"]),
                snapshot=json.loads(r["snapshot_json"]),
                summary=json.loads(r["summary_json"]),
            )
            for r in res.dicts()
        ]

    def snapshot(self, ids: Sequence[str], param_names: Sequence[str] = ()) -> dict:
        """Everything a simulation may change about ``ids``, as it is now: usage rows,
        confidences, learning values and experiments, and the adaptive parameters named
        ``param_names`` (raw rows, keyed by id or name; absent rows are left out)."""
        ids = [check_uuid(i) for i in ids]
        params = self.db.run(
            f"?[{PARAM_COLS}] := param_name in $names, *adaptive_params{{{PARAM_COLS}}}",
            {"names": [str(n) for n in param_names]},
            read_only=True,
        )
        usage = self.db.run(
            f"?[{USAGE_HEAD}] := learning_id in $ids, *usage_stats{{{USAGE_HEAD}}}",
            {"ids": ids},
            read_only=True,
        )
        conf = self.db.run(
            "?[id, confidence] := id in $ids, *learning{id, confidence}",
            {"ids": ids},
            read_only=True,
        )
        vals = self.db.run(
            f"?[{VALUE_HEAD}] := learning_id in $ids, {VALUE_ATOM}", {"ids": ids}, read_only=True
        )
        exps = self.db.run(
            f"?[{EXPERIMENT_HEAD}] := learning_id in $ids, {EXPERIMENT_ATOM}",
            {"ids": ids},
            read_only=True,
        )
        return {
            "ids": ids,
            "usage": {r[0]: r for r in usage.rows},
            "confidence": {r[0]: r[1] for r in conf.rows},
            "values": {r[0]: r for r in vals.rows},
            "experiments": {r[0]: r for r in exps.rows},
            "param_names": [str(n) for n in param_names],
            "events": [
                list(k)
                for k in self.db.run(
                    "?[learning_id, event_id] := learning_id in $ids, "
                    "*outcome_event{learning_id, event_id}",
                    {"ids": ids},
                    read_only=True,
                ).rows
            ],
            "params": {r[0]: r for r in params.rows},
        }

    def save_simulation(
        self,
        run: SimulationRun,
        *,
        attributions: Sequence[AttributionRecord],
        values: Sequence[LearningValue],
        experiments: Sequence[AblationExperiment],
        outcomes: Sequence[OutcomeEvent],
        params: Sequence[SystemParam] = (),
        actor: Principal | None = None,
    ) -> None:
        """Write a simulation's data (and the adaptive parameters it taught) and its
        bookkeeping row in ONE transaction. Every session id must start with the run's
        ``session_prefix`` (``sim-...``); every parameter must be in the snapshot's
        ``param_names``, so that removing the run restores it."""
        if not run.session_prefix.startswith(SIM_PREFIX):
            raise ValidationError(f"simulated session ids must start with {SIM_PREFIX!r}")
        sids = [r.session_id for r in attributions] + [o.session_id or "" for o in outcomes]
        sids += [s.session_id for e in experiments for s in (*e.sessions_with, *e.sessions_without)]
        bad = [s for s in sids if not s.startswith(run.session_prefix)]
        if bad:
            raise ValidationError(f"session {bad[0]!r} does not start with {run.session_prefix!r}")
        unknown = {p.name for p in params} - set(run.snapshot.get("param_names", ()))
        if unknown:
            raise ValidationError(f"parameters {sorted(unknown)} are not in the run's snapshot")
        blocks, args = self._bulk_blocks(attributions, values, experiments, outcomes)
        if params:
            blocks.append(PUT_PARAMS)
            args["params"] = [param_to_row(p) for p in params]
        blocks.append(PUT_SIM)
        action = self._authorize_bulk(actor or self.writer.actor, experiments, outcomes)
        args["sim"] = [
            [
                run.run_id,
                to_unix(run.created_at),
                int(run.seed),
                run.session_prefix,
                json.dumps(run.params),
                json.dumps(run.truth),
                json.dumps(run.snapshot),
                json.dumps(run.summary),
            ]
        ]
        self.writer.write(
            action, run.run_id, blocks, args, actor=actor, detail={"simulation": run.run_id}
        )

    def remove_simulation(self, run_id: str, *, actor: Principal | None = None) -> dict:
        """Remove one simulation run exactly, in ONE transaction: its synthetic attribution
        records and outcome events go, and the usage stats, confidences, learning values
        and experiments it touched get their snapshot back. Outcomes recorded for real
        (not in a ``sim-`` session) after the run started are applied again on top of the
        snapshot, so they are not lost. Returns counts of what was removed.

        Raises: NotFoundError when there is no such run.
        """
        runs = {r.run_id: r for r in self.simulation_runs()}
        if run_id not in runs:
            raise NotFoundError(f"no simulation run {run_id} in tier '{self.tier}'")
        run = runs[run_id]
        ids = run.snapshot["ids"]
        n_attr, n_events = self._synthetic_counts(run.session_prefix)
        later = self._real_outcomes_since(run)
        usage_rows, confidence = _replay(run.snapshot, later)
        blocks, params = _removal(run, usage_rows, confidence)
        if self.writer._has("search_head"):  # usage and confidence of these change
            log, log_params = changelog.statements(ids)
            blocks, params = [*log, *blocks], {**params, **log_params}
        self.writer.write(
            Action.experiment_write,
            run_id,
            blocks,
            params,
            actor=actor,
            detail={"simulation_removed": run_id},
        )
        return {
            "attributions": n_attr,
            "outcome_events": n_events,
            "outcomes_kept": len(later),
            "learnings_restored": len(ids),
        }

    def _synthetic_counts(self, prefix: str) -> tuple[int, int]:
        """(attribution records, outcome events) of sessions whose id starts with
        ``prefix``."""
        n_attr = self.db.run(
            "?[count(session_id)] := *attribution{session_id}, starts_with(session_id, $p)",
            {"p": prefix},
            read_only=True,
        ).scalar(0)
        n_events = self.db.run(
            "?[count(event_id)] := *outcome_event{event_id, session_id}, "
            "!is_null(session_id), starts_with(session_id, $p)",
            {"p": prefix},
            read_only=True,
        ).scalar(0)
        return int(n_attr or 0), int(n_events or 0)

    def _real_outcomes_since(self, run: SimulationRun) -> list[list]:
        """Outcome rows ``[learning_id, event_id, at, outcome, session_id]`` of the run's
        learnings recorded for real since its snapshot (events it did not hold, in no
        session of the run), oldest first."""
        return self.db.run(
            "known[learning_id, event_id] <- $known\n"
            "?[learning_id, event_id, at, outcome, session_id] := learning_id in $ids, "
            "*outcome_event{learning_id, event_id, at, outcome, session_id}, "
            "not known[learning_id, event_id], "
            "or(is_null(session_id), !starts_with(session_id, $p)) :order at, event_id",
            {
                "ids": run.snapshot["ids"],
                "p": run.session_prefix,
                "known": run.snapshot.get("events") or [["", ""]],
            },
            read_only=True,
        ).rows


def _replay(snap: dict, later: list[list]) -> tuple[dict[str, list], dict[str, float]]:
    """The usage rows (by learning id) and confidences of the snapshot with the outcomes
    ``later`` applied again on top (:meth:`UsageStats.record_outcome`)."""
    usage_rows: dict[str, list] = {k: list(v) for k, v in snap["usage"].items()}
    confidence: dict[str, float] = dict(snap["confidence"])
    for lid, _eid, at, outcome, _sid in later:
        row = usage_rows.get(lid)
        stats_ = row_to_usage(dict(zip(USAGE_COLS, row, strict=True))) if row else UsageStats()
        stats_.record_outcome(Outcome(outcome), from_unix(at))
        if row and row[5] is not None and to_unix(stats_.last_used) < row[5]:
            stats_.last_used = from_unix(row[5])
        usage_rows[lid] = [
            lid,
            stats_.times_injected,
            stats_.times_helpful,
            stats_.times_ignored,
            stats_.times_contradicted,
            to_unix(stats_.last_used),
            stats_.confidence_alpha,
            stats_.confidence_beta,
        ]
        confidence[lid] = stats_.confidence()
    return usage_rows, confidence


def _removal(
    run: SimulationRun, usage_rows: dict[str, list], confidence: dict[str, float]
) -> tuple[list[str], dict[str, Any]]:
    """The statements and parameters that remove ``run``'s synthetic rows and put its
    snapshot back (usage rows and confidences as replayed)."""
    snap = run.snapshot
    return (
        [
            "?[learning_id, session_id] := *attribution{learning_id, session_id}, "
            "starts_with(session_id, $p) :rm attribution {learning_id, session_id}",
            "?[learning_id, event_id] := *outcome_event{learning_id, event_id, session_id}, "
            "!is_null(session_id), starts_with(session_id, $p) "
            ":rm outcome_event {learning_id, event_id}",
            # usage: rows that existed come back, rows the run created go
            "?[learning_id] := learning_id in $ids, *usage_stats{learning_id}, "
            "not is_in(learning_id, $usage_ids) :rm usage_stats {learning_id}",
            f"u[{USAGE_HEAD}] <- $usage\n"
            f"?[{USAGE_HEAD}] := u[{USAGE_HEAD}], *learning{{id: learning_id}} "
            f":put usage_stats {{{USAGE_KEYED}}}",
            "c[id, confidence] <- $conf\n"
            "?[id, confidence] := c[id, confidence], *learning{id} "
            ":update learning {id => confidence}",
            "?[learning_id] := learning_id in $ids, *learning_value{learning_id} "
            ":rm learning_value {learning_id}",
            f"v[{VALUE_HEAD}] <- $values\n?[{VALUE_HEAD}] := v[{VALUE_HEAD}] "
            ":put learning_value {learning_id => " + ", ".join(VALUE_COLS[1:]) + "}",
            "?[learning_id] := learning_id in $ids, *ablation_experiment{learning_id} "
            ":rm ablation_experiment {learning_id}",
            f"x[{EXPERIMENT_HEAD}] <- $experiments\n"
            f"?[{EXPERIMENT_HEAD}] := x[{EXPERIMENT_HEAD}] "
            ":put ablation_experiment {learning_id => " + ", ".join(EXPERIMENT_COLS[1:]) + "}",
            "?[param_name] := param_name in $param_names, *adaptive_params{param_name} "
            ":rm adaptive_params {param_name}",
            f"p[{PARAM_COLS}] <- $params\n?[{PARAM_COLS}] := p[{PARAM_COLS}] "
            ":put adaptive_params {param_name => " + PARAM_COLS.split(", ", 1)[1] + "}",
            "?[run_id] <- [[$run]] :rm attribution_simulation {run_id}",
        ],
        {
            "p": run.session_prefix,
            "ids": snap["ids"],
            "run": run.run_id,
            "usage_ids": list(usage_rows),
            "usage": list(usage_rows.values()),
            "conf": [[k, v] for k, v in confidence.items()],
            "values": list(snap["values"].values()),
            "experiments": list(snap["experiments"].values()),
            "param_names": snap.get("param_names", []),
            "params": list(snap.get("params", {}).values()),
        },
    )


__all__ = ["SimulationRun", "SimulationRunsMixin"]
