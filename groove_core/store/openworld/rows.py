"""Cozo statements and row conversions of the open-world relations.

See docs/architecture.md#relations-v2 for the relations and docs/architecture.md#serde-json
for the JSON of the ``*_json`` columns. Fingerprint hashes are u64 in Python and two's
complement ``Int`` in Cozo (:func:`groove_core.model.openworld.hash_to_db`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from groove_core.embed import DIM
from groove_core.errors import ValidationError
from groove_core.model.openworld import (
    CapabilityGap,
    FailureRecord,
    GapChange,
    OpenWorldEvent,
    PatternFingerprint,
    dumps,
    hash_from_db,
    hash_to_db,
    solutions_from_json,
    solutions_to_json,
    vector_json,
)
from groove_core.model.serde import from_unix, to_unix
from groove_core.store.rows import read_row

# ---------------------------------------------------------------- statements
FP_COLS = "hash, embedding_json, context_summary, associated_learning, created_at, embedding"
FP_KEYED = "hash => embedding_json, context_summary, associated_learning, created_at, embedding"
FP_VIBES = "hash, embedding_json, context_summary, created_at"
PUT_FP = f"?[{FP_COLS}] <- $fps :put pattern_fingerprint {{{FP_KEYED}}}"
CL_COLS = "id, centroid_json, member_count, created_at, last_seen"
PUT_CL = (
    f"?[{CL_COLS}] <- $clusters :put anomaly_cluster "
    "{id => centroid_json, member_count, created_at, last_seen}"
)
GAP_COLS = (
    "id, category, severity, status, context_pattern, failure_count, first_seen, "
    "last_seen, solutions_json"
)
PUT_GAP = (
    f"?[{GAP_COLS}] <- $gaps :put capability_gap {{id => category, severity, "
    "status, context_pattern, failure_count, first_seen, last_seen, solutions_json}"
)
HIST_COLS = "gap_id, change_id, at, who, action, old_status, new_status, note"
PUT_HIST = (
    f"?[{HIST_COLS}] <- $history :put gap_history {{gap_id, change_id => at, who, "
    "action, old_status, new_status, note}"
)
PUT_CTX = (
    "?[gap_id, context_hash, added_at] <- $contexts "
    ":put gap_context {gap_id, context_hash => added_at}"
)
FAIL_COLS = "id, session_id, failure_type, context_hash, learning_ids_json, timestamp"
PUT_FAIL = (
    f"?[{FAIL_COLS}] <- $failures :put failure_record {{id => session_id, "
    "failure_type, context_hash, learning_ids_json, timestamp}"
)
EV_COLS = "id, event_type, event_data_json, timestamp"
PUT_EV = (
    f"?[{EV_COLS}] <- $events :put novelty_event {{id => event_type, event_data_json, timestamp}}"
)
PUT_SYN = (
    "?[kind, key, run_id, at] <- $synthetic :put openworld_synthetic {kind, key => run_id, at}"
)


def fp_row(fp: PatternFingerprint) -> list:
    """The ``pattern_fingerprint`` row of a fingerprint (vector column None unless 384-d)."""
    vec = fp.embedding.tolist() if fp.embedding.shape == (DIM,) else None
    return [
        hash_to_db(fp.hash),
        vector_json(fp.embedding),
        fp.context_summary,
        fp.associated_learning,
        to_unix(fp.created_at),
        vec,
    ]


def gap_row(gap: CapabilityGap) -> list:
    """The ``capability_gap`` row of a gap."""
    return [
        gap.id,
        gap.category.value,
        gap.severity.value,
        gap.status.value,
        gap.context_pattern,
        gap.failure_count,
        to_unix(gap.first_seen),
        to_unix(gap.last_seen),
        solutions_to_json(gap.suggested_solutions),
    ]


def hist_row(ch: GapChange) -> list:
    """The ``gap_history`` row of one change of a gap."""
    return [
        ch.gap_id,
        ch.change_id,
        to_unix(ch.at),
        ch.who,
        ch.action,
        ch.old_status.value if ch.old_status else None,
        ch.new_status.value if ch.new_status else None,
        ch.note,
    ]


def fail_row(f: FailureRecord) -> list:
    """The ``failure_record`` row of a failure."""
    return [
        f.id,
        f.session_id,
        f.failure_type.value,
        hash_to_db(f.context_hash),
        dumps(list(f.learning_ids)),
        to_unix(f.timestamp),
    ]


def event_row(e: OpenWorldEvent) -> list:
    """The ``novelty_event`` row of an event (its data as serde JSON)."""
    return [e.id, e.event_type, dumps(e.to_json()), to_unix(e.timestamp)]


def row_to_gap(r: dict, tier: str | None = None) -> CapabilityGap:
    """The gap of a ``capability_gap`` row (a dict by column) of ``tier``.

    Raises: DataContractError when the row cannot be read (a category, severity or status
    of a newer version, solutions that are not JSON)."""
    return read_row(_gap, r, tier, "capability gap")


def _gap(r: dict) -> CapabilityGap:
    return CapabilityGap(
        id=r["id"],
        category=r["category"],
        severity=r["severity"],
        status=r["status"],
        context_pattern=r["context_pattern"],
        failure_count=int(r["failure_count"]),
        first_seen=from_unix(r["first_seen"]),
        last_seen=from_unix(r["last_seen"]),
        suggested_solutions=solutions_from_json(r["solutions_json"]),
    )


def row_to_failure(r: dict) -> FailureRecord:
    """The failure of a ``failure_record`` row. ValidationError: bad learning_ids_json."""
    try:
        ids = json.loads(r["learning_ids_json"] or "[]")
    except ValueError as err:
        raise ValidationError(f"failure {r['id']}: learning_ids_json is not JSON") from err
    return FailureRecord(
        id=r["id"],
        session_id=r["session_id"],
        failure_type=r["failure_type"],
        context_hash=hash_from_db(r["context_hash"]),
        learning_ids=tuple(ids),
        timestamp=from_unix(r["timestamp"]),
    )


def event_filter(
    since: datetime | None, until: datetime | None, event_types: Iterable[str] | None
) -> tuple[str, dict[str, Any]]:
    """Conditions on ``novelty_event`` rows (time window, types) and their parameters."""
    conds = ["timestamp >= $since"]
    params: dict[str, Any] = {"since": to_unix(since) if since else -(2**62)}
    if until is not None:
        conds.append("timestamp < $until")
        params["until"] = to_unix(until)
    if event_types is not None:
        conds.append("is_in(event_type, $types)")
        params["types"] = [str(t) for t in event_types]
    return ", ".join(conds), params


def row_to_event(r: dict) -> OpenWorldEvent:
    """The event of a ``novelty_event`` row; data that is not JSON is kept as ``raw``."""
    try:
        data = json.loads(r["event_data_json"])
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python reads
        data = {r["event_type"]: {"raw": r["event_data_json"]}}
    if not isinstance(data, dict | str):
        data = {r["event_type"]: {"value": data}}
    event = OpenWorldEvent.from_json(data, id=r["id"], timestamp=from_unix(r["timestamp"]))
    return event
