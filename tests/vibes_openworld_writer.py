"""Writes a tier's open-world rows the way the shipped vibes-groove does: its version-2
open-world schema and, for each row, a ``:put`` with the values formatted into the
script (strings quoted with ``'`` doubled) as its ``CozoStore`` does, JSON as serde_json
writes it, run by the upstream CozoDB engine (PyPI ``cozo-embedded`` 0.7.6, the engine
vibes-groove links) on RocksDB. It never imports groove: run it in a subprocess
so that its ``cozo_embedded`` is the upstream one, not groove's mnestic.

    python tests/vibes_openworld_writer.py ENGINE PATH SCRIPTS_JSON

SCRIPTS_JSON is a list of scripts, run in order. The helpers below build them.
"""

from __future__ import annotations

import json
import sys

#: vibes-groove's open-world schema (its migration 2): seed 000's relations without
#: ``associated_learning`` and ``cluster_member``, cluster members as JSON in
#: ``members_json``, no vector column and no HNSW index; plus its six indexes.
OPENWORLD_SCHEMA = [
    ":create pattern_fingerprint {hash: Int => embedding_json: String, "
    "context_summary: String, created_at: Int}",
    ":create anomaly_cluster {id: String => centroid_json: String, members_json: String, "
    "created_at: Int, last_seen: Int}",
    ":create capability_gap {id: String => category: String, severity: String, "
    "status: String, context_pattern: String, failure_count: Int, first_seen: Int, "
    "last_seen: Int, solutions_json: String}",
    ":create failure_record {id: String => session_id: String, failure_type: String, "
    "context_hash: Int, learning_ids_json: String, timestamp: Int}",
    ":create novelty_event {id: String => event_type: String, event_data_json: String, "
    "timestamp: Int}",
    "::index create pattern_fingerprint:by_hash { hash }",
    "::index create capability_gap:by_status { status }",
    "::index create capability_gap:by_category { category }",
    "::index create failure_record:by_context { context_hash }",
    "::index create failure_record:by_session { session_id }",
    "::index create novelty_event:by_timestamp { timestamp }",
]

#: Variant -> ``event_type`` column, as ``emit_event`` maps them.
EVENT_TYPES = {
    "NoveltyDetected": "novelty_detected",
    "ClusterUpdated": "cluster_updated",
    "GapCreated": "gap_created",
    "GapStatusChanged": "gap_status_changed",
    "SolutionGenerated": "solution_generated",
    "StrategyFeedback": "strategy_feedback",
}


def serde(value) -> str:
    """``serde_json::to_string`` (compact), with ``'`` doubled for the script.

    Floats must be given as the f32's shortest decimal (the tests round to 3 places), so
    Python writes the digits serde's ryu writes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("'", "''")


def record_migration(version: int, at: int, description: str) -> str:
    """``CozoStore::apply_migration``'s record of a version."""
    text = description.replace("'", "''")
    return (
        f"?[version, applied_at, description] <- [[{version}, {at}, '{text}']] "
        ":put schema_version {version => applied_at, description}"
    )


def _put(relation: str, keys: str, values: str, cols: list[str], row: list[str]) -> str:
    """``?[cols] <- [[row]] :put relation {keys => values}`` with the row's values
    formatted in, as every write of vibes-groove's ``CozoStore`` does."""
    return f"?[{', '.join(cols)}] <- [[{', '.join(row)}]] :put {relation} {{{keys} => {values}}}"


def _text(value: str) -> str:
    """A string value as ``CozoStore`` formats it: ``'...'`` with ``'`` doubled."""
    return "'" + value.replace("'", "''") + "'"


def save_fingerprint(fp: dict, created_at: int) -> str:
    """``save_fingerprint``: ``fp`` is the serde form of a ``PatternFingerprint``."""
    row = [str(fp["hash"]), f"'{serde(fp['embedding'])}'", _text(fp["context_summary"])]
    return _put(
        "pattern_fingerprint",
        "hash",
        "embedding_json, context_summary, created_at",
        ["hash", "embedding_json", "context_summary", "created_at"],
        [*row, str(created_at)],
    )


def save_cluster(cluster: dict, created_at: int, last_seen: int) -> str:
    """``save_cluster``: ``members_json`` holds the member fingerprints themselves."""
    return _put(
        "anomaly_cluster",
        "id",
        "centroid_json, members_json, created_at, last_seen",
        ["id", "centroid_json", "members_json", "created_at", "last_seen"],
        [
            _text(cluster["id"]),
            f"'{serde(cluster['centroid'])}'",
            f"'{serde(cluster['members'])}'",
            str(created_at),
            str(last_seen),
        ],
    )


def save_gap(gap: dict, first_seen: int, last_seen: int, column: dict) -> str:
    """``save_gap``: ``column`` holds the ``as_str()`` (snake_case) of category, severity
    and status; ``gap`` is the serde form (PascalCase enums)."""
    cols = [
        "id",
        "category",
        "severity",
        "status",
        "context_pattern",
        "failure_count",
        "first_seen",
        "last_seen",
        "solutions_json",
    ]
    return _put(
        "capability_gap",
        "id",
        ", ".join(cols[1:]),
        cols,
        [
            _text(gap["id"]),
            _text(column["category"]),
            _text(column["severity"]),
            _text(column["status"]),
            _text(gap["context_pattern"]),
            str(gap["failure_count"]),
            str(first_seen),
            str(last_seen),
            f"'{serde(gap['suggested_solutions'])}'",
        ],
    )


def save_failure(record: dict, failure_type: str, timestamp: int) -> str:
    """``save_failure``: ``failure_type`` is the ``as_str()`` (snake_case)."""
    cols = ["id", "session_id", "failure_type", "context_hash", "learning_ids_json", "timestamp"]
    return _put(
        "failure_record",
        "id",
        ", ".join(cols[1:]),
        cols,
        [
            _text(record["id"]),
            _text(record["session_id"]),
            _text(failure_type),
            str(record["context_hash"]),
            f"'{serde(record['learning_ids'])}'",
            str(timestamp),
        ],
    )


def emit_event(event_id: str, event: dict, timestamp: int) -> str:
    """``emit_event``: ``event`` is the externally tagged ``OpenWorldEvent``."""
    (variant,) = event
    return _put(
        "novelty_event",
        "id",
        "event_type, event_data_json, timestamp",
        ["id", "event_type", "event_data_json", "timestamp"],
        [_text(event_id), _text(EVENT_TYPES[variant]), f"'{serde(event)}'", str(timestamp)],
    )


def main(argv: list[str]) -> None:
    import cozo_embedded
    from pycozo.client import Client

    assert "mnestic" not in cozo_embedded.__file__, "run with the upstream engine"
    engine, path, scripts_file = argv
    client = Client(engine, path, dataframe=False)
    try:
        with open(scripts_file, encoding="utf-8") as fh:
            for script in json.load(fh):
                client.run(script)
    finally:
        client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
