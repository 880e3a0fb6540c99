"""Conversions between Cozo rows and model objects, and the column lists, atom and
statements that read and put the rows of ``learning`` and ``usage_stats`` (no query runs
here; the columns are the data contract: docs/architecture.md#relations-v1)."""

from __future__ import annotations

import json
from typing import Any

from groove_core.errors import DatabaseError, GrooveError
from groove_core.model.learning import (
    Learning,
    LearningCategory,
    LearningContent,
    LearningSource,
    pattern_to_db,
)
from groove_core.model.scope import Scope
from groove_core.model.serde import from_unix, to_unix
from groove_core.model.usage import UsageStats

LEARNING_COLS = [
    "id",
    "scope",
    "category",
    "description",
    "pattern_json",
    "insight",
    "confidence",
    "created_at",
    "updated_at",
    "source_type",
    "source_json",
]
USAGE_COLS = [
    "learning_id",
    "times_injected",
    "times_helpful",
    "times_ignored",
    "times_contradicted",
    "last_used",
    "confidence_alpha",
    "confidence_beta",
]
LEARNING_HEAD = ", ".join(LEARNING_COLS)
LEARNING_KEYED = "id => " + ", ".join(LEARNING_COLS[1:])
USAGE_HEAD = ", ".join(USAGE_COLS)
USAGE_KEYED = "learning_id => " + ", ".join(USAGE_COLS[1:])
#: A ``learning`` atom binding every column.
LEARNING_ATOM = "*learning{" + LEARNING_HEAD + "}"
#: Puts the rows of ``$learnings`` (in :data:`LEARNING_COLS` order).
PUT_LEARNING = f"?[{LEARNING_HEAD}] <- $learnings :put learning {{{LEARNING_KEYED}}}"
#: Puts the rows of ``$usage`` (in :data:`USAGE_COLS` order).
PUT_USAGE = f"?[{USAGE_HEAD}] <- $usage :put usage_stats {{{USAGE_KEYED}}}"


def learning_to_row(learning: Learning) -> list[Any]:
    """Row for ``:put learning`` in :data:`LEARNING_COLS` order."""
    return [
        learning.id,
        learning.scope.to_db(),
        learning.category.value,
        learning.content.description,
        pattern_to_db(learning.content.pattern),
        learning.content.insight,
        float(learning.confidence),
        to_unix(learning.created_at),
        to_unix(learning.updated_at),
        learning.source.kind,
        json.dumps(learning.source.to_json(), ensure_ascii=False),
    ]


def row_to_learning(row: dict[str, Any], tier: str | None = None) -> Learning:
    """A :class:`Learning` from a row dict with :data:`LEARNING_COLS` keys.

    Raises:
        DatabaseError: the row does not follow the data contract (names the id and field).
    """
    try:
        pattern = json.loads(row["pattern_json"]) if row.get("pattern_json") else None
        return Learning(
            id=row["id"],
            scope=Scope.parse(row["scope"]),
            category=LearningCategory.parse(row["category"]),
            content=LearningContent(row["description"], row["insight"], pattern),
            source=LearningSource.from_json(json.loads(row["source_json"])),
            confidence=min(1.0, max(0.0, float(row["confidence"]))),
            created_at=from_unix(row["created_at"]),
            updated_at=from_unix(row["updated_at"]),
            tier=tier,
        )
    except (GrooveError, ValueError, TypeError, KeyError) as err:
        raise DatabaseError(
            f"learning {row.get('id')!r} in tier '{tier}' does not follow the data contract: {err}"
        ) from None


def usage_to_row(learning_id: str, stats: UsageStats) -> list[Any]:
    """Row for ``:put usage_stats`` in :data:`USAGE_COLS` order."""
    return [
        learning_id,
        stats.times_injected,
        stats.times_helpful,
        stats.times_ignored,
        stats.times_contradicted,
        to_unix(stats.last_used) if stats.last_used else None,
        float(stats.confidence_alpha),
        float(stats.confidence_beta),
    ]


def row_to_usage(row: dict[str, Any]) -> UsageStats:
    """A :class:`UsageStats` from a ``usage_stats`` row dict."""
    return UsageStats(
        times_injected=row["times_injected"],
        times_helpful=row["times_helpful"],
        times_ignored=row["times_ignored"],
        times_contradicted=row["times_contradicted"],
        last_used=from_unix(row["last_used"]) if row.get("last_used") is not None else None,
        confidence_alpha=float(row["confidence_alpha"]),
        confidence_beta=float(row["confidence_beta"]),
    )
