"""The relations of attribution (docs/architecture.md#relations-v1, attribution: ``attribution``,
``learning_value``, ``ablation_experiment``, ``attribution_simulation``) as columns,
statements and row conversions, and the state the parts of
:class:`~groove_core.store.attribution.AttributionStore` share. No query runs here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from groove_core.errors import DatabaseError, GrooveError, ValidationError
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
from groove_core.model.serde import from_unix, to_unix
from groove_core.store.engine import Engine
from groove_core.store.learnings import LearningStore

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

ATTRIBUTION_HEAD = ", ".join(ATTRIBUTION_COLS)
VALUE_HEAD = ", ".join(VALUE_COLS)
EXPERIMENT_HEAD = ", ".join(EXPERIMENT_COLS)
SIM_HEAD = ", ".join(SIM_COLS)

PUT_ATTRIBUTIONS = (
    f"?[{ATTRIBUTION_HEAD}] <- $attributions :put attribution {{learning_id, session_id => "
    + ", ".join(ATTRIBUTION_COLS[2:])
    + "}"
)
PUT_VALUES = (
    f"?[{VALUE_HEAD}] <- $values :put learning_value {{learning_id => "
    + ", ".join(VALUE_COLS[1:])
    + "}"
)
PUT_EXPERIMENTS = (
    f"?[{EXPERIMENT_HEAD}] <- $experiments :put ablation_experiment {{learning_id => "
    + ", ".join(EXPERIMENT_COLS[1:])
    + "}"
)
PUT_SIM = (
    f"?[{SIM_HEAD}] <- $sim :put attribution_simulation {{run_id => "
    + ", ".join(SIM_COLS[1:])
    + "}"
)
ATTRIBUTION_ATOM = "*attribution{" + ATTRIBUTION_HEAD + "}"
VALUE_ATOM = "*learning_value{" + VALUE_HEAD + "}"
EXPERIMENT_ATOM = "*ablation_experiment{" + EXPERIMENT_HEAD + "}"


def attribution_to_row(r: AttributionRecord) -> list[Any]:
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


def row_to_attribution(row: dict, tier: str) -> AttributionRecord:
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


def value_to_row(v: LearningValue) -> list[Any]:
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


def row_to_value(row: dict, tier: str) -> LearningValue:
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


def experiment_to_row(e: AblationExperiment) -> list[Any]:
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


def row_to_experiment(row: dict, tier: str) -> AblationExperiment:
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


def time_range(since: datetime | None, until: datetime | None) -> tuple[int, int]:
    lo = to_unix(since) if since is not None else -(2**62)
    hi = to_unix(until) if until is not None else 2**62
    if hi < lo:
        raise ValidationError("the time range ends before it starts")
    return lo, hi


#: Session ids of synthetic sessions start with this (``groove simulate``).
SIM_PREFIX = "sim-"


class AttributionBase:
    """The state the parts of an attribution store share.

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
        """The tier's name."""
        return self.db.tier


__all__ = [
    "SIM_PREFIX",
    "ATTRIBUTION_ATOM",
    "ATTRIBUTION_COLS",
    "ATTRIBUTION_HEAD",
    "AttributionBase",
    "EXPERIMENT_ATOM",
    "EXPERIMENT_COLS",
    "EXPERIMENT_HEAD",
    "PUT_ATTRIBUTIONS",
    "PUT_EXPERIMENTS",
    "PUT_SIM",
    "PUT_VALUES",
    "SIM_COLS",
    "SIM_HEAD",
    "VALUE_ATOM",
    "VALUE_COLS",
    "VALUE_HEAD",
    "attribution_to_row",
    "experiment_to_row",
    "row_to_attribution",
    "row_to_experiment",
    "row_to_value",
    "time_range",
    "value_to_row",
]
