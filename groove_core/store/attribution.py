"""Attribution records of one tier (relation ``attribution``, Shapley-style credit of a
session's outcome to the learnings injected in it) and the queries the evidence pages need;
:class:`AttributionStore` composes them with learning values (:mod:`.learning_values`),
ablation experiments (:mod:`.experiments`) and simulation runs (:mod:`.simulation_runs`).

Every multi-row write is one chained Cozo program, so it applies whole or not at all;
every value is bound as a ``$param``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from groove_core.model.access import Action, Principal
from groove_core.model.attribution import AblationExperiment, AttributionRecord, LearningValue
from groove_core.model.learning import LearningCategory
from groove_core.model.serde import check_uuid, from_unix, now, to_unix
from groove_core.model.usage import OutcomeEvent
from groove_core.store.attribution_rows import (
    ATTRIBUTION_ATOM,
    ATTRIBUTION_COLS,
    ATTRIBUTION_HEAD,
    PUT_ATTRIBUTIONS,
    PUT_EXPERIMENTS,
    PUT_VALUES,
    SIM_PREFIX,
    attribution_to_row,
    experiment_to_row,
    row_to_attribution,
    time_range,
    value_to_row,
)
from groove_core.store.experiments import ExperimentsMixin
from groove_core.store.learning_values import ValuesMixin
from groove_core.store.simulation_runs import SimulationRunsMixin
from groove_core.store.usage import outcome_blocks


class AttributionStore(ValuesMixin, ExperimentsMixin, SimulationRunsMixin):
    """Typed access to the attribution relations of one tier
    (docs/architecture.md#relations-v1, attribution).

    Args:
        db: the tier's open engine (migrated).
        learnings: the tier's :class:`LearningStore` (existence checks, history).
    """

    def store_attribution(
        self, record: AttributionRecord, *, actor: Principal | None = None
    ) -> None:
        """Insert or replace one record (key: learning id and session id)."""
        self.store_bulk(attributions=[record], actor=actor)

    def store_bulk(
        self,
        *,
        attributions: Sequence[AttributionRecord] = (),
        values: Sequence[LearningValue] = (),
        experiments: Sequence[AblationExperiment] = (),
        outcomes: Sequence[OutcomeEvent] = (),
        actor: Principal | None = None,
    ) -> int:
        """Write many attribution records, learning values, experiments and injection
        outcomes in ONE transaction: all of it lands, or (any row rejected) nothing.

        Outcomes are applied like :meth:`LearningStore.record_outcomes` (the Beta
        update of ``usage_stats``, ``learning.confidence`` kept at the posterior mean, one
        ``outcome_event`` each), summed per learning inside Cozo, so concurrent writers
        lose no update. Returns the number of rows written.

        Raises: PermissionDeniedError (experiments need a curator; the rest a contributor).
        """
        actor = actor or self.writer.actor
        action = self._authorize_bulk(actor, experiments, outcomes)
        blocks, params = self._bulk_blocks(attributions, values, experiments, outcomes)
        if not blocks:
            return 0
        n = len(attributions) + len(values) + len(experiments) + len(outcomes)
        self.writer.write(
            action,
            "attribution",
            blocks,
            params,
            actor=actor,
            detail={
                "attributions": len(attributions),
                "values": len(values),
                "experiments": len(experiments),
                "outcomes": len(outcomes),
            },
        )
        return n

    def _authorize_bulk(
        self, actor: Principal, experiments: Sequence, outcomes: Sequence
    ) -> Action:
        """The audit action of a bulk write, after checking every action it contains."""
        self.writer.authorize(Action.attribution_write, actor)
        if outcomes:
            self.writer.authorize(Action.usage_record, actor)
        if experiments:
            self.writer.authorize(Action.experiment_write, actor)
            return Action.experiment_write
        return Action.attribution_write

    def _bulk_blocks(
        self,
        attributions: Sequence[AttributionRecord],
        values: Sequence[LearningValue],
        experiments: Sequence[AblationExperiment],
        outcomes: Sequence[OutcomeEvent],
    ) -> tuple[list[str], dict[str, Any]]:
        blocks: list[str] = []
        params: dict[str, Any] = {}
        if attributions:
            params["attributions"] = [attribution_to_row(r) for r in attributions]
            blocks.append(PUT_ATTRIBUTIONS)
        if values:
            params["values"] = [value_to_row(v) for v in values]
            blocks.append(PUT_VALUES)
        if experiments:
            params["experiments"] = [experiment_to_row(e) for e in experiments]
            blocks.append(PUT_EXPERIMENTS)
        if outcomes:
            rows = [
                [
                    check_uuid(o.learning_id),
                    o.key(),
                    to_unix(o.at) if o.at is not None else to_unix(now()),
                    o.outcome.value,
                    o.session_id,
                ]
                for o in outcomes
            ]
            b, p = outcome_blocks(rows, logged=self.writer._has("search_head"))
            blocks += b
            params.update(p)
        return blocks, params

    def get_attributions_for_learning(self, learning_id: str) -> list[AttributionRecord]:
        """Records of one learning, oldest first."""
        res = self.db.run(
            f"?[{ATTRIBUTION_HEAD}] := learning_id = $id, {ATTRIBUTION_ATOM} "
            ":order timestamp, session_id",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        return [row_to_attribution(r, self.tier) for r in res.dicts()]

    def get_attributions_for_session(self, session_id: str) -> list[AttributionRecord]:
        """Records of one session (every learning injected or withheld in it)."""
        res = self.db.run(
            f"?[{ATTRIBUTION_HEAD}] := session_id = $sid, {ATTRIBUTION_ATOM} "
            ":order -attributed_value, learning_id",
            {"sid": str(session_id)},
            read_only=True,
        )
        return [row_to_attribution(r, self.tier) for r in res.dicts()]

    def attributions_between(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        learning_ids: Sequence[str] | None = None,
        category: str | LearningCategory | None = None,
        limit: int | None = None,
    ) -> list[AttributionRecord]:
        """Records with ``since <= timestamp < until`` (either end open), oldest first,
        optionally only of ``learning_ids`` (from any filter, e.g. another tier's) and/or
        of learnings of this tier in ``category``."""
        script, params = self._between_query(since, until, learning_ids, category)
        if limit is not None:
            script += " :limit $limit"
            params["limit"] = int(limit)
        res = self.db.run(script, params, read_only=True)
        return [row_to_attribution(r, self.tier) for r in res.dicts()]

    def _between_query(self, since, until, learning_ids, category) -> tuple[str, dict]:
        lo, hi = time_range(since, until)
        conds = [ATTRIBUTION_ATOM, "timestamp >= $lo", "timestamp < $hi"]
        params: dict[str, Any] = {"lo": lo, "hi": hi}
        if learning_ids is not None:
            conds.insert(0, "learning_id in $ids")
            params["ids"] = [check_uuid(i) for i in learning_ids]
        if category:
            conds.append("*learning{id: learning_id, category}, category = $cat")
            params["cat"] = LearningCategory.parse(category).value
        script = f"?[{ATTRIBUTION_HEAD}] := " + ", ".join(conds) + " :order timestamp, session_id"
        return script, params

    def attribution_frame(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        learning_ids: Sequence[str] | None = None,
        category: str | LearningCategory | None = None,
    ) -> pd.DataFrame:
        """:meth:`attributions_between` as a DataFrame (columns of the relation, with
        ``timestamp`` as aware datetimes and no signals column), oldest first."""
        script, params = self._between_query(since, until, learning_ids, category)
        res = self.db.run(script, params, read_only=True)
        frame = pd.DataFrame(res.rows, columns=res.headers or ATTRIBUTION_COLS)
        frame = frame.drop(columns=["activation_signals_json"])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True)
        for col in ("was_activated", "was_withheld"):
            frame[col] = frame[col].astype(bool)
        return frame

    def time_bounds(self) -> tuple[datetime, datetime] | None:
        """Earliest and latest attribution timestamp, or None when there is none."""
        res = self.db.run(
            "?[min(timestamp), max(timestamp)] := *attribution{timestamp}", read_only=True
        )
        if not res.rows or res.rows[0][0] is None:
            return None
        return from_unix(res.rows[0][0]), from_unix(res.rows[0][1])

    def leaderboard(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        learning_ids: Sequence[str] | None = None,
        category: str | LearningCategory | None = None,
    ) -> pd.DataFrame:
        """Per learning, over the records in the time range: ``sessions`` (records),
        ``activated``, ``withheld``, ``total_value`` (sum of attributed values) and
        ``mean_value`` (their mean over sessions where it was not withheld), joined with its
        stored :class:`LearningValue` (``estimated_value``, ``confidence``, ``session_count``,
        ``status``; NaN/None when it has none). Sorted by total value, best first."""
        lo, hi = time_range(since, until)
        conds = [
            "*attribution{learning_id, session_id, timestamp, was_activated, was_withheld, "
            "attributed_value}",
            "timestamp >= $lo",
            "timestamp < $hi",
        ]
        params: dict[str, Any] = {"lo": lo, "hi": hi}
        if learning_ids is not None:
            conds.insert(0, "learning_id in $ids")
            params["ids"] = [check_uuid(i) for i in learning_ids]
        if category:
            conds.append("*learning{id: learning_id, category}, category = $cat")
            params["cat"] = LearningCategory.parse(category).value
        body = ", ".join(conds)
        script = (
            f"r[learning_id, session_id, act, wh, v, vi] := {body}, "
            "act = if(was_activated, 1, 0), wh = if(was_withheld, 1, 0), "
            "v = attributed_value, vi = if(was_withheld, 0.0, attributed_value)\n"
            "agg[learning_id, count(session_id), sum(act), sum(wh), sum(v), sum(vi)] := "
            "r[learning_id, session_id, act, wh, v, vi]\n"
            "?[learning_id, sessions, activated, withheld, total_value, mean_value] := "
            "agg[learning_id, sessions, activated, withheld, total_value, sv], "
            "ni = sessions - withheld, mean_value = if(ni > 0, sv / ni, null) "
            ":order -total_value, learning_id"
        )
        res = self.db.run(script, params, read_only=True)
        frame = pd.DataFrame(
            res.rows,
            columns=[
                "learning_id",
                "sessions",
                "activated",
                "withheld",
                "total_value",
                "mean_value",
            ],
        )
        frame["mean_value"] = frame["mean_value"].astype(float)
        values = self.values_many(list(frame["learning_id"]))
        frame["estimated_value"] = [
            values[i].estimated_value if i in values else np.nan for i in frame["learning_id"]
        ]
        frame["confidence"] = [
            values[i].confidence if i in values else np.nan for i in frame["learning_id"]
        ]
        frame["session_count"] = [
            values[i].session_count if i in values else 0 for i in frame["learning_id"]
        ]
        frame["status"] = [
            values[i].status.label() if i in values else None for i in frame["learning_id"]
        ]
        return frame

    def session_timeline(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        learning_ids: Sequence[str] | None = None,
        limit: int = 500,
    ) -> pd.DataFrame:
        """One row per session in the range (latest ``limit`` sessions, oldest first):
        ``session_id``, ``timestamp``, ``outcome`` (the session's outcome), ``injected``,
        ``activated``, ``withheld`` counts, ``synthetic`` (id starts with ``sim-``) and
        ``learnings``: a list of dicts ``learning_id``, ``attributed_value``,
        ``was_activated``, ``was_withheld`` (by attributed value, best first)."""
        frame = self.attribution_frame(since, until, learning_ids=learning_ids)
        cols = [
            "session_id",
            "timestamp",
            "outcome",
            "injected",
            "activated",
            "withheld",
            "synthetic",
            "learnings",
        ]
        if frame.empty:
            return pd.DataFrame(columns=cols)
        rows = []
        for sid, grp in frame.groupby("session_id", sort=False):
            grp = grp.sort_values(["attributed_value", "learning_id"], ascending=[False, True])
            rows.append(
                {
                    "session_id": sid,
                    "timestamp": grp["timestamp"].min(),
                    "outcome": float(grp["session_outcome"].iloc[0]),
                    "injected": int((~grp["was_withheld"]).sum()),
                    "activated": int(grp["was_activated"].sum()),
                    "withheld": int(grp["was_withheld"].sum()),
                    "synthetic": str(sid).startswith(SIM_PREFIX),
                    "learnings": [
                        {
                            "learning_id": r.learning_id,
                            "attributed_value": float(r.attributed_value),
                            "was_activated": bool(r.was_activated),
                            "was_withheld": bool(r.was_withheld),
                        }
                        for r in grp.itertuples()
                    ],
                }
            )
        out = pd.DataFrame(rows, columns=cols).sort_values(["timestamp", "session_id"])
        return out.tail(int(limit)).reset_index(drop=True)


__all__ = ["AttributionStore"]
