"""Version 6 (groove's own): open-world extras, and vibes-groove's v2 shape brought to
groove's.

Adds:

- ``gap_history``: every change of a capability gap (creation, status, solutions) with
  who and when;
- ``gap_context``: the fingerprints (context hashes) a gap was found in, so its cluster
  and its failures can be shown;
- ``cluster_proposal_dismissed``: HDBSCAN proposals a person dismissed;
- ``openworld_synthetic``: rows written by ``groove simulate`` (removable exactly);
- ``openworld_legacy``: the original rows of relations this step had to rewrite.

The shipped vibes-groove writes a different version 2: ``anomaly_cluster`` keeps its
members as whole fingerprints in ``members_json`` (no ``cluster_member``),
``pattern_fingerprint`` has no ``associated_learning`` and no vector column (only
``embedding_json``), and there is no HNSW index. The shape is told by the relations'
columns, not by the version number. Such a tier is rewritten here, in the same single
transaction as the rest of the step:

- every fingerprint row is kept; ``embedding`` is filled from ``embedding_json`` where it
  holds 384 numbers (null otherwise), ``associated_learning`` is null;
- fingerprints that only exist inside a cluster's ``members_json`` become
  ``pattern_fingerprint`` rows too, and every member a ``cluster_member`` row;
- each cluster row keeps its id, centroid and times, with ``member_count``; its original
  row (``members_json`` included) is kept verbatim in ``openworld_legacy``.

In every tier, a gap whose ``context_pattern`` is ``context:<u64>`` (what vibes-groove's
gap detector writes) gets that context as a ``gap_context`` row, so its failures and its
cluster can be found.

JSON hashes are u64 and Cozo's JSON numbers lose precision above 2**63, so the JSON is
read here in Python and staged (bound as ``$rows``) in ``m006_stage_*`` relations before
the step's transaction; the step reads the staged rows and removes them. A failed step
leaves only those staging relations behind (rebuilt on the next attempt).

``down`` removes the extras; a tier that was converted from vibes-groove's shape stays in
groove's version 2 shape, which is also what groove itself writes at version 2.
"""

from __future__ import annotations

import json
import math
import re

from groove_core.errors import MigrationError

VERSION = 6
DESCRIPTION = (
    "groove: open-world gap history, gap contexts, dismissed proposals, vibes-groove shape"
)
CONTRACT = False

DIM = 384

FINGERPRINT_SPEC = """pattern_fingerprint {
    hash: Int =>
    embedding_json: String,
    context_summary: String,
    associated_learning: String?,
    created_at: Int,
    embedding: <F32; 384>? default null
}"""
FP_COLS = "hash, embedding_json, context_summary, associated_learning, created_at, embedding"
FP_KEYED = "hash => embedding_json, context_summary, associated_learning, created_at, embedding"

CLUSTER_SPEC = """anomaly_cluster {
    id: String =>
    centroid_json: String,
    member_count: Int,
    created_at: Int,
    last_seen: Int
}"""
CL_COLS = "id, centroid_json, member_count, created_at, last_seen"
CL_KEYED = "id => centroid_json, member_count, created_at, last_seen"

HNSW = """::hnsw create pattern_fingerprint:embedding_idx {
    fields: [embedding],
    dim: 384,
    ef_construction: 50,
    m: 16,
    distance: Cosine
}"""

EXTRAS = [
    """:create gap_history {
    gap_id: String,
    change_id: String =>
    at: Int,
    who: String,
    action: String,
    old_status: String?,
    new_status: String?,
    note: String
}""",
    """:create gap_context {
    gap_id: String,
    context_hash: Int =>
    added_at: Int
}""",
    """:create cluster_proposal_dismissed {
    proposal_id: String =>
    at: Int,
    who: String,
    member_hashes_json: String
}""",
    """:create openworld_synthetic {
    kind: String,
    key: String =>
    run_id: String,
    at: Int
}""",
    """:create openworld_legacy {
    relation: String,
    key: String =>
    row_json: String,
    migrated_at: Int
}""",
    "::index create gap_context:by_hash { context_hash }",
    "::index create gap_history:by_time { at }",
    "::index create openworld_synthetic:by_run { run_id }",
]

DOWN = [
    "::index drop openworld_synthetic:by_run",
    "::index drop gap_history:by_time",
    "::index drop gap_context:by_hash",
    "::remove openworld_legacy",
    "::remove openworld_synthetic",
    "::remove cluster_proposal_dismissed",
    "::remove gap_context",
    "::remove gap_history",
]

STAGES = (
    "m006_stage_fp",
    "m006_stage_cluster",
    "m006_stage_member",
    "m006_stage_legacy",
    "m006_stage_gapctx",
)
CONTEXT_PATTERN = re.compile(r"^context:(\d{1,20})$")


def _u64_to_db(value: int) -> int:
    value = int(value)
    if not 0 <= value < 2**64:
        raise ValueError(f"hash {value} is not a u64")
    return value - 2**64 if value >= 2**63 else value


def _unix(text: object, fallback: int) -> int:
    from groove_core.model.serde import from_rfc3339

    try:
        return int(from_rfc3339(text).timestamp())
    except Exception:
        return fallback


def _vector(values: object) -> list[float] | None:
    """384 finite numbers as a list, else None (kept only as JSON)."""
    if not isinstance(values, list) or len(values) != DIM:
        return None
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def _parse(text: object) -> object:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def fingerprint_is_vibes(cols: list[str]) -> bool:
    return bool(cols) and not {"associated_learning", "embedding"} <= set(cols)


def cluster_is_vibes(cols: list[str]) -> bool:
    return "members_json" in cols


def _indices(db, relation: str) -> list[str]:
    """Statements dropping every index of ``relation``."""
    out = []
    for name, kind, *_ in db.run(f"::indices {relation}", read_only=True).rows:
        verb = {"hnsw": "::hnsw drop", "fts": "::fts drop", "lsh": "::lsh drop"}.get(
            kind, "::index drop"
        )
        out.append(f"{verb} {relation}:{name}")
    return out


def _gap_contexts(db) -> list[list]:
    """``gap_context`` rows for gaps named ``context:<u64>`` (vibes-groove's gap detector
    writes ``format!("context:{}", context_hash)``): ``[gap_id, hash as Int, first_seen]``."""
    if "capability_gap" not in db.relations():
        return []
    res = db.run(
        "?[id, context_pattern, first_seen] := *capability_gap{id, context_pattern, first_seen}",
        read_only=True,
    )
    rows = []
    for gid, pattern, first_seen in res.rows:
        m = CONTEXT_PATTERN.match(str(pattern).strip())
        if m is None:
            continue
        try:
            rows.append([gid, _u64_to_db(int(m.group(1))), int(first_seen)])
        except ValueError:
            continue
    return rows


def _needs_reshape(db, relations: dict | list) -> bool:
    if "pattern_fingerprint" not in relations:
        return False
    return (
        fingerprint_is_vibes(db.columns("pattern_fingerprint"))
        or cluster_is_vibes(db.columns("anomaly_cluster"))
        or "cluster_member" not in relations
        or "pattern_fingerprint:embedding_idx" not in relations
    )


def _stage(db, *, reshape: bool, gap_contexts: list[list]) -> tuple[list[str], list[str]]:
    """Read the rows to convert in Python and stage them in ``m006_stage_*`` relations.

    Returns the statements that rewrite vibes-groove's relations (run before the extras
    are created) and those that copy staged rows into the extras and drop the staging
    relations (run after).
    """
    import time

    now = int(time.time())
    relations = db.relations()
    fp_cols = db.columns("pattern_fingerprint") if reshape else []
    cl_cols = db.columns("anomaly_cluster") if reshape else []
    fp_vibes = reshape and fingerprint_is_vibes(fp_cols)
    cl_vibes = reshape and cluster_is_vibes(cl_cols)

    fps: dict[int, list] = {}
    if fp_vibes or cl_vibes:
        have = [
            c
            for c in (
                "hash",
                "embedding_json",
                "context_summary",
                "associated_learning",
                "created_at",
                "embedding",
            )
            if c in fp_cols
        ]
        res = db.run(
            f"?[{', '.join(have)}] := *pattern_fingerprint{{{', '.join(have)}}}", read_only=True
        )
        for r in res.dicts():
            vec = r.get("embedding")
            if vec is None:
                vec = _vector(_parse(r["embedding_json"]))
            fps[int(r["hash"])] = [
                int(r["hash"]),
                r["embedding_json"],
                r["context_summary"],
                r.get("associated_learning"),
                int(r["created_at"]),
                list(map(float, vec)) if vec is not None else None,
            ]
    clusters, members, legacy = [], [], []
    if cl_vibes:
        res = db.run(
            "?[id, centroid_json, members_json, created_at, last_seen] := "
            "*anomaly_cluster{id, centroid_json, members_json, created_at, last_seen}",
            read_only=True,
        )
        for r in res.dicts():
            legacy.append(["anomaly_cluster", r["id"], json.dumps(r), now])
            data = _parse(r["members_json"])
            hashes = set()
            for m in data if isinstance(data, list) else []:
                if not isinstance(m, dict) or not isinstance(m.get("hash"), int):
                    continue
                try:
                    h = _u64_to_db(m["hash"])
                except ValueError:
                    continue
                created = _unix(m.get("created_at"), int(r["created_at"]))
                if h not in fps:
                    emb = m.get("embedding")
                    fps[h] = [
                        h,
                        json.dumps(emb if isinstance(emb, list) else [], separators=(",", ":")),
                        str(m.get("context_summary") or ""),
                        None,
                        created,
                        _vector(emb),
                    ]
                if h not in hashes:
                    hashes.add(h)
                    members.append([r["id"], h, created])
            clusters.append(
                [
                    r["id"],
                    r["centroid_json"],
                    len(hashes),
                    int(r["created_at"]),
                    int(r["last_seen"]),
                ]
            )

    stage_specs = {
        "m006_stage_fp": (
            FINGERPRINT_SPEC.replace("pattern_fingerprint", "m006_stage_fp").replace(
                " default null", ""
            ),
            FP_COLS,
            list(fps.values()),
        ),
        "m006_stage_cluster": (
            CLUSTER_SPEC.replace("anomaly_cluster", "m006_stage_cluster"),
            CL_COLS,
            clusters,
        ),
        "m006_stage_member": (
            "m006_stage_member {cluster_id: String, fingerprint_hash: Int => added_at: Int}",
            "cluster_id, fingerprint_hash, added_at",
            members,
        ),
        "m006_stage_legacy": (
            "m006_stage_legacy {relation: String, key: String => "
            "row_json: String, migrated_at: Int}",
            "relation, key, row_json, migrated_at",
            legacy,
        ),
        "m006_stage_gapctx": (
            "m006_stage_gapctx {gap_id: String, context_hash: Int => added_at: Int}",
            "gap_id, context_hash, added_at",
            gap_contexts,
        ),
    }
    for name, (spec, cols, rows) in stage_specs.items():
        try:
            if name in relations:
                db.run(f"::remove {name}")
            db.run(f":create {spec}")
            for start in range(0, len(rows), 500):
                db.run(
                    f"?[{cols}] <- $rows :put {name} {{{cols}}}",
                    {"rows": rows[start : start + 500]},
                )
        except Exception as err:
            raise MigrationError(
                f"could not stage the open-world rows of tier '{db.tier}' for version 6: {err}"
            ) from None

    before: list[str] = []
    if fp_vibes:
        before += _indices(db, "pattern_fingerprint")
        before += ["::remove pattern_fingerprint", f":create {FINGERPRINT_SPEC}"]
    if fp_vibes or cl_vibes:
        before.append(
            f"?[{FP_COLS}] := *m006_stage_fp{{{FP_COLS}}} :put pattern_fingerprint {{{FP_KEYED}}}"
        )
    if cl_vibes:
        before += _indices(db, "anomaly_cluster")
        before += [
            "::remove anomaly_cluster",
            f":create {CLUSTER_SPEC}",
            f"?[{CL_COLS}] := *m006_stage_cluster{{{CL_COLS}}} :put anomaly_cluster {{{CL_KEYED}}}",
        ]
    if reshape and "cluster_member" not in relations:
        before += [
            ":create cluster_member {cluster_id: String, fingerprint_hash: Int => added_at: Int}",
            "::index create cluster_member:by_hash { fingerprint_hash }",
        ]
    if cl_vibes:
        before.append(
            "?[cluster_id, fingerprint_hash, added_at] := "
            "*m006_stage_member{cluster_id, fingerprint_hash, added_at} "
            ":put cluster_member {cluster_id, fingerprint_hash => added_at}"
        )
    if reshape and (fp_vibes or "pattern_fingerprint:embedding_idx" not in relations):
        before.append(HNSW)
    after = [
        "?[relation, key, row_json, migrated_at] := "
        "*m006_stage_legacy{relation, key, row_json, migrated_at} "
        ":put openworld_legacy {relation, key => row_json, migrated_at}",
        "?[gap_id, context_hash, added_at] := *m006_stage_gapctx{gap_id, context_hash, added_at} "
        ":put gap_context {gap_id, context_hash => added_at}",
        *(f"::remove {name}" for name in STAGES),
    ]
    return before, after


def up(db):
    """The extras, preceded (for a vibes-groove v2 tier) by its rewrite to groove's shape
    and followed by the ``gap_context`` rows of gaps named ``context:<hash>``."""
    relations = db.relations()
    stale = [f"::remove {name}" for name in STAGES if name in relations]
    reshape = _needs_reshape(db, relations)
    gap_contexts = _gap_contexts(db)
    if not reshape and not gap_contexts:
        return stale + EXTRAS
    before, after = _stage(db, reshape=reshape, gap_contexts=gap_contexts)
    return before + EXTRAS + after


def down(db):
    return DOWN
