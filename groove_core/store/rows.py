"""Conversions between Cozo rows and model objects, and the column lists, atom and
statements that read and put the rows of ``learning`` and ``usage_stats`` (no query runs
here; the columns are the data contract: docs/architecture.md#relations-v1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from groove_core.errors import DataContractError, GrooveError
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


Row = TypeVar("Row")
Decoded = TypeVar("Decoded")
#: What reading a row that does not follow the data contract raises in the model.
CONTRACT_ERRORS = (GrooveError, ValueError, TypeError, KeyError, RecursionError)


def read_row(convert: Callable[[dict], Decoded], row: dict, tier: str | None, what: str) -> Decoded:
    """``convert(row)`` for a row (a dict by column, keyed by ``id``) of ``tier`` holding
    a ``what`` (proposal, capability gap).

    Raises: DataContractError naming the row when it cannot be read (a value of a newer
    version, JSON that does not parse)."""
    try:
        return convert(row)
    except CONTRACT_ERRORS as err:
        raise DataContractError(tier, row.get("id"), str(err), what) from None


def row_to_learning(row: dict[str, Any], tier: str | None = None) -> Learning:
    """A :class:`Learning` from a row dict with :data:`LEARNING_COLS` keys.

    Raises:
        DataContractError: the row does not follow the data contract.
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
    except CONTRACT_ERRORS as err:
        raise DataContractError(tier, row.get("id"), str(err)) from None


def row_to_pair(row: Sequence[Any], tier: str | None) -> tuple[Learning, UsageStats | None]:
    """The learning and usage stats (None: no usage row, its columns all None) of a row of
    :data:`LEARNING_COLS` followed by :data:`USAGE_COLS` without its key (the derived
    document store's ``doc`` row).

    Raises:
        DataContractError: either part does not follow the data contract.
    """
    n = len(LEARNING_COLS)
    learning = row_to_learning(dict(zip(LEARNING_COLS, row[:n], strict=True)), tier)
    if row[n] is None:
        return learning, None
    try:
        return learning, row_to_usage(dict(zip(USAGE_COLS, [row[0], *row[n:]], strict=True)))
    except CONTRACT_ERRORS as err:
        raise DataContractError(tier, row[0], f"its usage stats: {err}") from None


def left_out(tier: str, n: int, what: str = "learning") -> str:
    """The sentence that tells a user ``n`` rows (``what``: learnings, capability gaps)
    of ``tier`` were left out because they do not follow the data contract (the CLI and
    the dashboard say the same)."""
    many = n != 1
    return (
        f"{n:,} {what}{'s' if many else ''} of tier '{tier}' {'were' if many else 'was'} "
        f"left out: {'their rows do' if many else 'its row does'} not follow groove's data "
        "contract (written by another program, or a newer version of one)"
    )


class UnreadableRows:
    """The rows of one relation of a tier (learnings, capability gaps) that do not follow
    the data contract (docs/architecture.md#relations-v1; another program wrote them), as
    reads in this process met them: id -> what is wrong (:attr:`DataContractError.detail`).

    Listings and searches go through :meth:`decode`, which leaves such a row out and
    records it (skip and count, like a CSV reader's bad lines), so one malformed row does
    not hide every good one; a read of one row by id still raises. A later read
    that decodes the row, or finds it gone, forgets it. Shared by the threads of a
    process (a dashboard's sessions).
    """

    def __init__(self) -> None:
        self._found: dict[str, str] = {}
        self._lock = threading.Lock()

    def decode(
        self,
        rows: Iterable[Row],
        convert: Callable[[Row], Decoded],
        key: Callable[[Row], str],
    ) -> list[Decoded]:
        """``convert(row)`` of each of ``rows`` in order, leaving out (and recording
        under ``key(row)``) the rows for which it raises :class:`DataContractError`."""
        out: list[Decoded] = []
        for row in rows:
            try:
                out.append(convert(row))
            except DataContractError as err:
                with self._lock:
                    self._found[key(row)] = err.detail
            else:
                if self._found:
                    with self._lock:
                        self._found.pop(key(row), None)
        return out

    def forget(self, ids: Iterable[str]) -> None:
        """Stop naming ``ids`` (rows found gone)."""
        with self._lock:
            for i in ids:
                self._found.pop(i, None)

    def found(self) -> dict[str, str]:
        """A copy of what is recorded: id -> what is wrong."""
        with self._lock:
            return dict(self._found)


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
    """A :class:`UsageStats` from a ``usage_stats`` row dict.

    Raises: ValueError, TypeError or KeyError for a row that does not follow the data
    contract (:func:`row_to_pair` turns them into a DataContractError)."""
    return UsageStats(
        times_injected=row["times_injected"],
        times_helpful=row["times_helpful"],
        times_ignored=row["times_ignored"],
        times_contradicted=row["times_contradicted"],
        last_used=from_unix(row["last_used"]) if row.get("last_used") is not None else None,
        confidence_alpha=float(row["confidence_alpha"]),
        confidence_beta=float(row["confidence_beta"]),
    )
