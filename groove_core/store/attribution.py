"""Attribution records, learning values and ablation experiments of one tier (seed 003),
plus the queries the evidence pages need and the bookkeeping of ``groove simulate``.

Every multi-row write is one chained Cozo program, so it applies whole or not at all;
every value is bound as a ``$param``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from groove_core.errors import DatabaseError, GrooveError, NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.attribution import (
    AblationExperiment,
    AblationResult,
    AttributionRecord,
    LearningStatus,
    LearningValue,
    sessions_from_json,
    sessions_to_json,
    signal_from_json,
)
from groove_core.model.learning import LearningCategory
from groove_core.model.params import SystemParam
from groove_core.model.serde import check_uuid, from_unix, new_id, now, to_unix
from groove_core.model.usage import Outcome, OutcomeEvent, UsageStats
from groove_core.store import changelog
from groove_core.store.engine import Engine
from groove_core.store.learnings import LearningStore
from groove_core.store.params import PARAM_COLS, PUT_PARAMS, param_to_row
from groove_core.store.rows import USAGE_COLS, USAGE_HEAD, USAGE_KEYED, row_to_usage
from groove_core.store.usage import outcome_blocks

__all__ = [
    "ATTRIBUTION_COLS",
    "AttributionStore",
    "OutcomeEvent",
    "SimulationRun",
]

ATTRIBUTION_COLS = [
    "learning_id",
    "session_id",
    "timestamp",
    "was_activated",
    "activation_confidence",
    "activation_signals_json",
    "temporal_positive",
    "temporal_negative",
    "net_temporal",
    "was_withheld",
    "session_outcome",
    "attributed_value",
]
VALUE_COLS = [
    "learning_id",
    "estimated_value",
    "confidence",
    "session_count",
    "activation_rate",
    "temporal_value",
    "temporal_confidence",
    "ablation_value",
    "ablation_confidence",
    "status",
    "updated_at",
]
EXPERIMENT_COLS = [
    "learning_id",
    "started_at",
    "sessions_with_json",
    "sessions_without_json",
    "marginal_value",
    "confidence",
    "is_significant",
]
SIM_COLS = [
    "run_id",
    "created_at",
    "seed",
    "session_prefix",
    "params_json",
    "truth_json",
    "snapshot_json",
    "summary_json",
]

_A_HEAD = ", ".join(ATTRIBUTION_COLS)
_V_HEAD = ", ".join(VALUE_COLS)
_E_HEAD = ", ".join(EXPERIMENT_COLS)
_S_HEAD = ", ".join(SIM_COLS)

_PUT_ATTR = (
    f"?[{_A_HEAD}] <- $attributions :put attribution {{learning_id, session_id => "
    + ", ".join(ATTRIBUTION_COLS[2:])
    + "}"
)
_PUT_VALUES = (
    f"?[{_V_HEAD}] <- $values :put learning_value {{learning_id => "
    + ", ".join(VALUE_COLS[1:])
    + "}"
)
_PUT_EXPERIMENTS = (
    f"?[{_E_HEAD}] <- $experiments :put ablation_experiment {{learning_id => "
    + ", ".join(EXPERIMENT_COLS[1:])
    + "}"
)
_PUT_EVENTS = (
    "?[learning_id, event_id, at, outcome, session_id] <- $events "
    ":put outcome_event {learning_id, event_id => at, outcome, session_id}"
)
# Same statement shape as LearningStore's history rows (relation learning_edit).
_PUT_EDIT = (
    "?[learning_id, edit_id, at, who, action, before_json, after_json] <- $edits "
    ":put learning_edit {learning_id, edit_id => at, who, action, before_json, after_json}"
)
_PUT_SIM = (
    f"?[{_S_HEAD}] <- $sim :put attribution_simulation {{run_id => " + ", ".join(SIM_COLS[1:]) + "}"
)
_A_ATOM = "*attribution{" + _A_HEAD + "}"
_V_ATOM = "*learning_value{" + _V_HEAD + "}"
_E_ATOM = "*ablation_experiment{" + _E_HEAD + "}"

#: Session ids of synthetic sessions start with this (``groove simulate``).
SIM_PREFIX = "sim-"


# --------------------------------------------------------------------------- rows
def _attr_row(r: AttributionRecord) -> list[Any]:
    return [
        r.learning_id,
        r.session_id,
        to_unix(r.timestamp),
        r.was_activated,
        r.activation_confidence,
        r.signals_json(),
        r.temporal_positive,
        r.temporal_negative,
        r.net_temporal,
        r.was_withheld,
        r.session_outcome,
        r.attributed_value,
    ]


def _row_attr(row: dict, tier: str) -> AttributionRecord:
    try:
        return AttributionRecord(
            learning_id=row["learning_id"],
            session_id=row["session_id"],
            timestamp=from_unix(row["timestamp"]),
            was_activated=bool(row["was_activated"]),
            activation_confidence=float(row["activation_confidence"]),
            activation_signals=tuple(
                signal_from_json(s) for s in json.loads(row["activation_signals_json"] or "[]")
            ),
            temporal_positive=float(row["temporal_positive"]),
            temporal_negative=float(row["temporal_negative"]),
            net_temporal=float(row["net_temporal"]),
            was_withheld=bool(row["was_withheld"]),
            session_outcome=float(row["session_outcome"]),
            attributed_value=float(row["attributed_value"]),
        )
    except (GrooveError, ValueError, TypeError, KeyError) as err:
        raise DatabaseError(
            f"attribution ({row.get('learning_id')}, {row.get('session_id')}) in tier "
            f"'{tier}' does not follow the data contract: {err}"
        ) from None


def _value_row(v: LearningValue) -> list[Any]:
    return [
        v.learning_id,
        v.estimated_value,
        v.confidence,
        v.session_count,
        v.activation_rate,
        v.temporal_value,
        v.temporal_confidence,
        v.ablation_value,
        v.ablation_confidence,
        v.status.to_db(),
        to_unix(v.updated_at),
    ]


def _row_value(row: dict, tier: str) -> LearningValue:
    try:
        return LearningValue(
            learning_id=row["learning_id"],
            estimated_value=float(row["estimated_value"]),
            confidence=float(row["confidence"]),
            session_count=int(row["session_count"]),
            activation_rate=float(row["activation_rate"]),
            temporal_value=float(row["temporal_value"]),
            temporal_confidence=float(row["temporal_confidence"]),
            ablation_value=None if row["ablation_value"] is None else float(row["ablation_value"]),
            ablation_confidence=None
            if row["ablation_confidence"] is None
            else float(row["ablation_confidence"]),
            status=LearningStatus.from_db(row["status"]),
            updated_at=from_unix(row["updated_at"]),
        )
    except (GrooveError, ValueError, TypeError, KeyError) as err:
        raise DatabaseError(
            f"learning_value {row.get('learning_id')!r} in tier '{tier}' does not follow "
            f"the data contract: {err}"
        ) from None


def _experiment_row(e: AblationExperiment) -> list[Any]:
    r = e.result
    return [
        e.learning_id,
        to_unix(e.started_at),
        sessions_to_json(e.sessions_with),
        sessions_to_json(e.sessions_without),
        None if r is None else r.marginal_value,
        None if r is None else r.confidence,
        None if r is None else r.is_significant,
    ]


def _row_experiment(row: dict, tier: str) -> AblationExperiment:
    try:
        result = None
        if row["marginal_value"] is not None and row["confidence"] is not None:
            result = AblationResult(
                float(row["marginal_value"]), float(row["confidence"]), bool(row["is_significant"])
            )
        return AblationExperiment(
            learning_id=row["learning_id"],
            started_at=from_unix(row["started_at"]),
            sessions_with=sessions_from_json(row["sessions_with_json"], "sessions_with_json"),
            sessions_without=sessions_from_json(
                row["sessions_without_json"], "sessions_without_json"
            ),
            result=result,
        )
    except (GrooveError, ValueError, TypeError, KeyError) as err:
        raise DatabaseError(
            f"ablation_experiment {row.get('learning_id')!r} in tier '{tier}' does not "
            f"follow the data contract: {err}"
        ) from None


def _range(since: datetime | None, until: datetime | None) -> tuple[int, int]:
    lo = to_unix(since) if since is not None else -(2**62)
    hi = to_unix(until) if until is not None else 2**62
    if hi < lo:
        raise ValidationError("the time range ends before it starts")
    return lo, hi


# --------------------------------------------------------------------------- helpers
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


class AttributionStore:
    """Typed access to seed 003's relations of one tier.

    Args:
        db: the tier's open engine (migrated).
        learnings: the tier's :class:`LearningStore` (existence checks, history).
    """

    def __init__(self, db: Engine, learnings: LearningStore):
        self.db = db
        self.learnings = learnings
        self.writer = learnings.writer

    @property
    def tier(self) -> str:
        return self.db.tier

    # ------------------------------------------------------------ attribution records
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

        Outcomes are applied like :meth:`LearningStore.record_outcomes` (seed 001's Beta
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
            check=False,
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
            params["attributions"] = [_attr_row(r) for r in attributions]
            blocks.append(_PUT_ATTR)
        if values:
            params["values"] = [_value_row(v) for v in values]
            blocks.append(_PUT_VALUES)
        if experiments:
            params["experiments"] = [_experiment_row(e) for e in experiments]
            blocks.append(_PUT_EXPERIMENTS)
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
            f"?[{_A_HEAD}] := learning_id = $id, {_A_ATOM} :order timestamp, session_id",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        return [_row_attr(r, self.tier) for r in res.dicts()]

    def get_attributions_for_session(self, session_id: str) -> list[AttributionRecord]:
        """Records of one session (every learning injected or withheld in it)."""
        res = self.db.run(
            f"?[{_A_HEAD}] := session_id = $sid, {_A_ATOM} :order -attributed_value, learning_id",
            {"sid": str(session_id)},
            read_only=True,
        )
        return [_row_attr(r, self.tier) for r in res.dicts()]

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
        return [_row_attr(r, self.tier) for r in res.dicts()]

    def _between_query(self, since, until, learning_ids, category) -> tuple[str, dict]:
        lo, hi = _range(since, until)
        conds = [_A_ATOM, "timestamp >= $lo", "timestamp < $hi"]
        params: dict[str, Any] = {"lo": lo, "hi": hi}
        if learning_ids is not None:
            conds.insert(0, "learning_id in $ids")
            params["ids"] = [check_uuid(i) for i in learning_ids]
        if category:
            conds.append("*learning{id: learning_id, category}, category = $cat")
            params["cat"] = LearningCategory.parse(category).value
        script = f"?[{_A_HEAD}] := " + ", ".join(conds) + " :order timestamp, session_id"
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
        lo, hi = _range(since, until)
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

    # ------------------------------------------------------------ learning values
    def get_learning_value(self, learning_id: str) -> LearningValue | None:
        """The stored value of a learning, or None."""
        return self.values_many([learning_id]).get(check_uuid(learning_id))

    def values_many(self, ids: Sequence[str]) -> dict[str, LearningValue]:
        """Stored values by learning id, for those of ``ids`` that have one."""
        res = self.db.run(
            f"?[{_V_HEAD}] := learning_id in $ids, {_V_ATOM}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {r["learning_id"]: _row_value(r, self.tier) for r in res.dicts()}

    def update_learning_value(
        self, value: LearningValue, *, actor: Principal | None = None
    ) -> None:
        """Insert or replace a learning's value (seed 003)."""
        self.store_bulk(values=[value], actor=actor)

    def list_learning_values(self, limit: int = 100) -> list[LearningValue]:
        """Up to ``limit`` values, highest estimated value first (seed 003)."""
        return self.ranked_values(limit=limit)

    def ranked_values(
        self,
        *,
        limit: int = 20,
        negative: bool = False,
        learning_ids: Sequence[str] | None = None,
    ) -> list[LearningValue]:
        """The top ``limit`` learnings by estimated value (best first), or with
        ``negative`` only those whose estimated value is below zero, worst first."""
        if int(limit) < 1:
            raise ValidationError("limit must be >= 1")
        conds = [_V_ATOM]
        params: dict[str, Any] = {"limit": int(limit)}
        if negative:
            conds.append("estimated_value < 0")
        if learning_ids is not None:
            conds.insert(0, "learning_id in $ids")
            params["ids"] = [check_uuid(i) for i in learning_ids]
        order = "estimated_value, learning_id" if negative else "-estimated_value, learning_id"
        res = self.db.run(
            f"?[{_V_HEAD}] := " + ", ".join(conds) + f" :order {order} :limit $limit",
            params,
            read_only=True,
        )
        return [_row_value(r, self.tier) for r in res.dicts()]

    def set_status(
        self, learning_id: str, status: LearningStatus, *, actor: Principal | None = None
    ) -> LearningValue:
        """Set a learning's status in ``learning_value`` (creating a zero-valued row if it
        has none) and add a history entry (``deprecated`` or ``status_changed``) with the
        status before and after, in ONE transaction.

        Raises:
            NotFoundError: no such learning in this tier. PermissionDeniedError.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_status, actor)
        lid = self.learnings.require(learning_id).id
        if not isinstance(status, LearningStatus):
            raise ValidationError(f"status must be a LearningStatus, got {status!r}")
        old = self.get_learning_value(lid)
        at = now()
        new = (
            replace(old, status=status, updated_at=at)
            if old is not None
            else LearningValue(lid, 0.0, 0.0, 0, 0.0, 0.0, 0.0, None, None, status, at)
        )
        action = "deprecated" if status.is_deprecated else "status_changed"
        after: dict[str, Any] = {"status": status.to_json()}
        if status.is_deprecated:
            after["reason"] = status.reason
        edits = [
            [
                lid,
                new_id(),
                to_unix(at),
                actor.id,
                action,
                json.dumps({"status": (old.status if old else LearningStatus.active()).to_json()}),
                json.dumps(after),
            ]
        ]
        self.writer.write(
            Action.learning_status,
            lid,
            [_PUT_VALUES, _PUT_EDIT],
            {"values": [_value_row(new)], "edits": edits},
            actor=actor,
            before=(old.status if old else LearningStatus.active()).to_json(),
            after=status.to_json(),
            check=False,
        )
        return new

    def deprecate(
        self, learning_id: str, reason: str, *, actor: Principal | None = None
    ) -> LearningValue:
        """Mark a learning ``Deprecated { reason }`` and record a ``deprecated`` entry in its
        history, in one transaction. Raises ValidationError for an empty reason."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("a deprecation needs a reason")
        return self.set_status(learning_id, LearningStatus.deprecated(reason.strip()), actor=actor)

    # ------------------------------------------------------------ experiments
    def get_experiment(self, learning_id: str) -> AblationExperiment | None:
        """The ablation experiment of a learning, or None (seed 003)."""
        res = self.db.run(
            f"?[{_E_HEAD}] := learning_id = $id, {_E_ATOM}",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        rows = res.dicts()
        return _row_experiment(rows[0], self.tier) if rows else None

    def update_experiment(
        self, experiment: AblationExperiment, *, actor: Principal | None = None
    ) -> None:
        """Insert or replace an experiment (seed 003)."""
        self.store_bulk(experiments=[experiment], actor=actor)

    def experiments(self, state: str | None = None) -> list[AblationExperiment]:
        """Experiments, oldest first; ``state`` ``running`` (no significant result yet) or
        ``concluded`` (significant result) filters them."""
        conds = [_E_ATOM]
        if state == "concluded":
            # (mnestic 0.18 drops a `== true` filter when the query also has :order)
            conds.append("coalesce(is_significant, false)")
        elif state == "running":
            conds.append("!coalesce(is_significant, false)")
        elif state is not None:
            raise ValidationError(f"unknown experiment state {state!r} (running, concluded)")
        res = self.db.run(
            f"?[{_E_HEAD}] := " + ", ".join(conds) + " :order started_at, learning_id",
            read_only=True,
        )
        return [_row_experiment(r, self.tier) for r in res.dicts()]

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
            blocks.append(_PUT_VALUES)
            params["values"] = [_value_row(new)]
        blocks.append(_PUT_EDIT)
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
            check=False,
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
            check=False,
        )

    def coverage(self) -> tuple[int, int]:
        """(learnings with an experiment, learnings in the tier): the share tested."""
        tested = self.db.run(
            "?[count(learning_id)] := *ablation_experiment{learning_id}, "
            "*learning{id: learning_id}",
            read_only=True,
        ).scalar(0)
        total = self.db.run("?[count(id)] := *learning{id}", read_only=True).scalar(0)
        return int(tested or 0), int(total or 0)

    # ------------------------------------------------------------ simulation runs
    def simulation_runs(self) -> list[SimulationRun]:
        """Recorded ``groove simulate`` runs, oldest first."""
        res = self.db.run(
            f"?[{_S_HEAD}] := *attribution_simulation{{{_S_HEAD}}} :order created_at, run_id",
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
            f"?[{_V_HEAD}] := learning_id in $ids, {_V_ATOM}", {"ids": ids}, read_only=True
        )
        exps = self.db.run(
            f"?[{_E_HEAD}] := learning_id in $ids, {_E_ATOM}", {"ids": ids}, read_only=True
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
        blocks.append(_PUT_SIM)
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
        snap = run.snapshot
        ids = snap["ids"]
        prefix = run.session_prefix
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
        # real outcomes recorded since the run started (uuid v7 event ids are time-ordered)
        # real outcomes recorded since the snapshot (events it did not hold)
        later = self.db.run(
            "known[learning_id, event_id] <- $known\n"
            "?[learning_id, event_id, at, outcome, session_id] := learning_id in $ids, "
            "*outcome_event{learning_id, event_id, at, outcome, session_id}, "
            "not known[learning_id, event_id], "
            "or(is_null(session_id), !starts_with(session_id, $p)) :order at, event_id",
            {"ids": ids, "p": prefix, "known": snap.get("events") or [["", ""]]},
            read_only=True,
        )
        usage_rows: dict[str, list] = {k: list(v) for k, v in snap["usage"].items()}
        confidence: dict[str, float] = dict(snap["confidence"])
        for lid, _eid, at, outcome, _sid in later.rows:
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
        blocks, params = (
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
                f"v[{_V_HEAD}] <- $values\n?[{_V_HEAD}] := v[{_V_HEAD}] "
                ":put learning_value {learning_id => " + ", ".join(VALUE_COLS[1:]) + "}",
                "?[learning_id] := learning_id in $ids, *ablation_experiment{learning_id} "
                ":rm ablation_experiment {learning_id}",
                f"x[{_E_HEAD}] <- $experiments\n?[{_E_HEAD}] := x[{_E_HEAD}] "
                ":put ablation_experiment {learning_id => " + ", ".join(EXPERIMENT_COLS[1:]) + "}",
                "?[param_name] := param_name in $param_names, *adaptive_params{param_name} "
                ":rm adaptive_params {param_name}",
                f"p[{PARAM_COLS}] <- $params\n?[{PARAM_COLS}] := p[{PARAM_COLS}] "
                ":put adaptive_params {param_name => " + PARAM_COLS.split(", ", 1)[1] + "}",
                "?[run_id] <- [[$run]] :rm attribution_simulation {run_id}",
            ],
            {
                "p": prefix,
                "ids": ids,
                "run": run_id,
                "usage_ids": list(usage_rows),
                "usage": list(usage_rows.values()),
                "conf": [[k, v] for k, v in confidence.items()],
                "values": list(snap["values"].values()),
                "experiments": list(snap["experiments"].values()),
                "param_names": snap.get("param_names", []),
                "params": list(snap.get("params", {}).values()),
            },
        )
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
            "attributions": int(n_attr or 0),
            "outcome_events": int(n_events or 0),
            "outcomes_kept": len(later.rows),
            "learnings_restored": len(ids),
        }
