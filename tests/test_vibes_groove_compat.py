"""A tier written by the shipped vibes-groove (its own version 2 shape) opens with every
open-world row: read as it is, and migrated to groove's shape (version 6) by Groove."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from groove_core.model.openworld import (
    FailureType,
    GapCategory,
    GapSeverity,
    GapStatus,
    PatternFingerprint,
)
from groove_core.store.engine import Engine
from groove_core.store.migrations import m001_initial
from groove_core.store.openworld import OpenWorldStore
from groove_core.tiers import Groove, Tier

# vibes-groove's OPENWORLD_SCHEMA (plugins/vibes-groove/src/store/schema.rs), as shipped
VIBES_V2 = [
    """:create pattern_fingerprint {
        hash: Int =>
        embedding_json: String,
        context_summary: String,
        created_at: Int
    }""",
    """:create anomaly_cluster {
        id: String =>
        centroid_json: String,
        members_json: String,
        created_at: Int,
        last_seen: Int
    }""",
    """:create capability_gap {
        id: String =>
        category: String,
        severity: String,
        status: String,
        context_pattern: String,
        failure_count: Int,
        first_seen: Int,
        last_seen: Int,
        solutions_json: String
    }""",
    """:create failure_record {
        id: String =>
        session_id: String,
        failure_type: String,
        context_hash: Int,
        learning_ids_json: String,
        timestamp: Int
    }""",
    """:create novelty_event {
        id: String =>
        event_type: String,
        event_data_json: String,
        timestamp: Int
    }""",
    "::index create pattern_fingerprint:by_hash { hash }",
    "::index create capability_gap:by_status { status }",
    "::index create capability_gap:by_category { category }",
    "::index create failure_record:by_context { context_hash }",
    "::index create failure_record:by_session { session_id }",
    "::index create novelty_event:by_timestamp { timestamp }",
]

CL1 = "01900000-0000-7000-8000-00000000c001"
CL2 = "01900000-0000-7000-8000-00000000c002"
GAP1 = "01900000-0000-7000-8000-00000000a001"
GAP2 = "01900000-0000-7000-8000-00000000a002"
LEARNING = "01900000-0000-7000-8000-00000000e001"
T = 1_740_000_000


def _vec(seed: int, dim: int = 384) -> list[float]:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return [float(x) for x in (v / np.linalg.norm(v))]


def _fp_json(h: int, seed: int, summary: str, at: str) -> dict:
    return {"hash": h, "embedding": _vec(seed), "context_summary": summary, "created_at": at}


# fingerprints stored in pattern_fingerprint (vibes-groove can only store hashes < 2**63)
STORED = [(1000 + i, i, f"stored context {i}", T + i) for i in range(8)]
STORED.append((2**62 + 5, 50, "large hash context", T + 50))
ODD = (777, "short vector context")  # a 3-d embedding: kept, but not in the vector index
# a member that only lives inside members_json, with a hash >= 2**63
ONLY_IN_CLUSTER = _fp_json(2**64 - 99, 99, "only inside a cluster", "2025-02-19T21:20:00Z")


def build_vibes_db(path) -> None:
    db = Engine("user", "sqlite", path)
    try:
        db.run_chain(m001_initial.up(db))
        db.run(
            ":create schema_version {version: Int => applied_at: Int, description: String}"
        ) if "schema_version" not in db.relations() else None
        for v, d in ((1, "Initial schema"), (2, "Open-world adaptation schema")):
            db.run(
                "?[version, applied_at, description] <- [[$v, $t, $d]] "
                ":put schema_version {version => applied_at, description}",
                {"v": v, "t": T, "d": d},
            )
        db.run_chain(VIBES_V2)
        rows = [[h, json.dumps(_vec(s)), summary, at] for h, s, summary, at in STORED]
        rows.append([ODD[0], "[0.5, 0.25, 0.125]", ODD[1], T + 60])
        db.run(
            "?[hash, embedding_json, context_summary, created_at] <- $rows "
            ":put pattern_fingerprint {hash => embedding_json, context_summary, created_at}",
            {"rows": rows},
        )
        members1 = [
            _fp_json(1000 + i, i, f"stored context {i}", "2025-02-19T21:20:00Z") for i in range(3)
        ] + [ONLY_IN_CLUSTER]
        members2 = [_fp_json(1005, 5, "stored context 5", "2025-02-19T21:20:05.5Z")]
        db.run(
            "?[id, centroid_json, members_json, created_at, last_seen] <- $rows "
            ":put anomaly_cluster {id => centroid_json, members_json, created_at, last_seen}",
            {
                "rows": [
                    [CL1, json.dumps(_vec(7)), json.dumps(members1), T, T + 100],
                    [CL2, json.dumps(_vec(8)), json.dumps(members2), T + 5, T + 5],
                ]
            },
        )
        sol = [
            {
                "action": {
                    "CreateLearning": {
                        "content": "Pin the helm chart version",
                        "category": "CodePattern",
                    }
                },
                "source": "Template",
                "confidence": 0.7,
                "applied": False,
            },
            {
                "action": {"RequestHumanInput": {"question": "Which registry?"}},
                "source": "PatternAnalysis",
                "confidence": 0.3,
                "applied": True,
            },
            {
                "action": {
                    "AdjustStrategy": {
                        "category": "ToolUsage",
                        "change": {"variant": None, "weight_delta": 0.1, "exploration_delta": 0.0},
                    }
                },
                "source": "UserSuggestion",
                "confidence": 0.5,
                "applied": False,
            },
        ]
        db.run(
            "?[id, category, severity, status, context_pattern, failure_count, first_seen, "
            "last_seen, solutions_json] <- $rows :put capability_gap {id => category, "
            "severity, status, context_pattern, failure_count, first_seen, last_seen, "
            "solutions_json}",
            {
                "rows": [
                    [
                        GAP1,
                        "tool_gap",
                        "medium",
                        "in_progress",
                        "helm deploys",
                        4,
                        T,
                        T + 300,
                        json.dumps(sol),
                    ],
                    [
                        GAP2,
                        "missing_knowledge",
                        "critical",
                        "detected",
                        "cuda oom",
                        30,
                        T,
                        T + 10,
                        "[]",
                    ],
                ]
            },
        )
        db.run(
            "?[id, session_id, failure_type, context_hash, learning_ids_json, timestamp] "
            "<- $rows :put failure_record {id => session_id, failure_type, context_hash, "
            "learning_ids_json, timestamp}",
            {
                "rows": [
                    [
                        "01900000-0000-7000-8000-00000000f001",
                        "sess-1",
                        "learning_not_activated",
                        1000,
                        json.dumps([LEARNING]),
                        T + 1,
                    ],
                    [
                        "01900000-0000-7000-8000-00000000f002",
                        "sess-1",
                        "negative_attribution",
                        1001,
                        "[]",
                        T + 2,
                    ],
                    [
                        "01900000-0000-7000-8000-00000000f003",
                        "sess-2",
                        "low_confidence",
                        1000,
                        "[]",
                        T + 3,
                    ],
                    [
                        "01900000-0000-7000-8000-00000000f004",
                        "sess-2",
                        "explicit_feedback",
                        2**62 + 5,
                        "[]",
                        T + 4,
                    ],
                ]
            },
        )
        events = [
            [
                "01900000-0000-7000-8000-0000000e0001",
                "novelty_detected",
                json.dumps(
                    {
                        "NoveltyDetected": {
                            "fingerprint": _fp_json(
                                1003, 3, "stored context 3", "2025-02-19T21:20:03Z"
                            ),
                            "cluster": CL1,
                        }
                    }
                ),
                T + 10,
            ],
            [
                "01900000-0000-7000-8000-0000000e0002",
                "gap_status_changed",
                json.dumps(
                    {"GapStatusChanged": {"gap_id": GAP1, "old": "Confirmed", "new": "InProgress"}}
                ),
                T + 20,
            ],
            [
                "01900000-0000-7000-8000-0000000e0003",
                "strategy_feedback",
                json.dumps({"StrategyFeedback": {"learning_id": LEARNING, "adjustment": -0.25}}),
                T + 30,
            ],
        ]
        db.run(
            "?[id, event_type, event_data_json, timestamp] <- $rows "
            ":put novelty_event {id => event_type, event_data_json, timestamp}",
            {"rows": events},
        )
    finally:
        db.close()


def check_every_row(ow: OpenWorldStore) -> None:
    fps = {f.hash: f for f in ow.load_fingerprints()}
    for h, s, summary, at in STORED:
        assert fps[h].context_summary == summary
        assert int(fps[h].created_at.timestamp()) == at
        assert np.allclose(fps[h].embedding, _vec(s))
        assert fps[h].associated_learning is None
    assert fps[ODD[0]].embedding.shape == (3,)
    clusters = {c.id: c for c in ow.load_clusters()}
    assert set(clusters[CL1].members) == {1000, 1001, 1002, 2**64 - 99}
    assert clusters[CL2].members == (1005,)
    assert np.allclose(clusters[CL1].centroid, _vec(7))
    assert (
        int(clusters[CL1].created_at.timestamp()),
        int(clusters[CL1].last_seen.timestamp()),
    ) == (T, T + 100)
    gaps = {g.id: g for g in ow.load_gaps()}
    g1 = gaps[GAP1]
    assert (g1.category, g1.severity, g1.status) == (
        GapCategory.TOOL_GAP,
        GapSeverity.MEDIUM,
        GapStatus.IN_PROGRESS,
    )
    assert [s.action.kind for s in g1.suggested_solutions] == [
        "CreateLearning",
        "RequestHumanInput",
        "AdjustStrategy",
    ]
    assert g1.suggested_solutions[0].action.data == {
        "content": "Pin the helm chart version",
        "category": "CodePattern",
    }
    assert g1.suggested_solutions[1].applied is True
    assert gaps[GAP2].severity == GapSeverity.CRITICAL
    assert [g.id for g in ow.load_gaps()] == [GAP2, GAP1]  # critical first
    assert [f.failure_type for f in ow.load_failures_by_session("sess-1")] == [
        FailureType.NEGATIVE_ATTRIBUTION,
        FailureType.LEARNING_NOT_ACTIVATED,
    ]
    assert len(ow.load_failures_by_context(1000)) == 2
    assert ow.load_failures_by_context(1000)[-1].learning_ids == (LEARNING,)
    assert len(ow.load_failures_by_context(2**62 + 5)) == 1
    events = ow.load_novelty_events(limit=10)
    assert [e.event_type for e in events] == [
        "strategy_feedback",
        "gap_status_changed",
        "novelty_detected",
    ]
    assert events[1].data == {"gap_id": GAP1, "old": "Confirmed", "new": "InProgress"}
    fp = PatternFingerprint.from_json(events[2].data["fingerprint"])
    assert fp.hash == 1003
    # nearest of a stored embedding is itself (exact on vibes, HNSW on groove)
    hit = ow.find_similar(np.asarray(_vec(4), np.float32), 3)[0]
    assert hit.fingerprint.hash == 1004 and hit.distance == pytest.approx(0, abs=1e-5)


def test_vibes_shape_is_read_as_it_is(tmp_path, embedder):
    path = tmp_path / "user.db"
    build_vibes_db(path)
    db = Engine("user", "sqlite", path)
    try:
        tier = Tier("user", db, embedder, migrate=False)
        ow = tier.openworld
        assert ow.shape() == "vibes"
        check_every_row(ow)
        fps = {f.hash for f in ow.load_fingerprints()}
        assert 2**64 - 99 not in fps  # only in members_json until migrated
        with pytest.raises(Exception, match="vibes-groove"):
            ow.create_cluster([1000])
    finally:
        db.close()


def test_groove_opens_a_vibes_tier_and_migrates_it_without_losing_a_row(tmp_path, embedder):
    home = tmp_path / "home"
    home.mkdir()
    build_vibes_db(home / "user.db")
    before = _raw_counts(home / "user.db")
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        tier = g.user
        assert tier.migration.from_version == 2 and tier.migration.to_version >= 6
        assert tier.migration.backup is not None and tier.migration.backup.exists()
        ow = tier.openworld
        assert ow.shape() == "groove"
        cols = tier.db.columns("pattern_fingerprint")
        assert {"associated_learning", "embedding"} <= set(cols)
        assert "members_json" not in tier.db.columns("anomaly_cluster")
        assert "pattern_fingerprint:embedding_idx" in tier.db.relations()
        assert not [r for r in tier.db.relations() if r.startswith("m006_stage")]
        check_every_row(ow)
        fps = {f.hash: f for f in ow.load_fingerprints()}
        # the member that only lived in members_json is now a fingerprint row
        assert fps[2**64 - 99].context_summary == "only inside a cluster"
        assert len(fps) == before["pattern_fingerprint"] + 1
        for table in ("capability_gap", "failure_record", "novelty_event", "anomaly_cluster"):
            assert ow.counts()[table] == before[table]
        assert ow.counts()["cluster_member"] == 5
        # the original cluster rows are kept verbatim
        legacy = tier.db.run(
            "?[key, row] := *openworld_legacy{relation: 'anomaly_cluster', key, row_json: row}"
        ).rows
        assert {k for k, _ in legacy} == {CL1, CL2}
        assert json.loads(dict(legacy)[CL1])["members_json"]
        # the migrated tier is writable and its HNSW index serves
        hit = ow.find_similar(np.asarray(_vec(2), np.float32), 1)[0]
        assert hit.fingerprint.hash == 1002
        ow.update_gap_status(GAP1, "resolved", who="alex")
        assert ow.gap_history(GAP1)[-1].who == "alex"
        made = ow.add_cluster_members(CL2, [1006])
        assert set(made.members) == {1005, 1006}
    # a second open changes nothing
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        assert g.user.migration.applied == []
        assert set(g.user.openworld.get_cluster(CL2).members) == {1005, 1006}
        assert len(g.user.openworld.load_fingerprints()) == len(fps)


def test_migration_6_rolls_back_to_5(tmp_path, embedder):
    from groove_core.store import migrations

    home = tmp_path / "home"
    home.mkdir()
    build_vibes_db(home / "user.db")
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        db = g.user.db
        migrations.migrate(db, 5)
        assert "gap_history" not in db.relations()
        migrations.migrate(db, 6)
        assert "gap_history" in db.relations()
        g.user.openworld.refresh()
        check_every_row(g.user.openworld)


def _raw_counts(path) -> dict[str, int]:
    db = Engine("raw", "sqlite", path)
    try:
        out = {}
        for rel, key in (
            ("pattern_fingerprint", "hash"),
            ("anomaly_cluster", "id"),
            ("capability_gap", "id"),
            ("failure_record", "id"),
            ("novelty_event", "id"),
        ):
            out[rel] = int(db.run(f"?[count({key})] := *{rel}{{{key}}}").scalar(0))
        return out
    finally:
        db.close()


def test_fingerprint_shape_detection_helpers():
    from groove_core.store.migrations import m006_openworld_extras as m

    assert m.fingerprint_is_vibes(["hash", "embedding_json", "context_summary", "created_at"])
    assert not m.fingerprint_is_vibes(
        [
            "hash",
            "embedding_json",
            "context_summary",
            "associated_learning",
            "created_at",
            "embedding",
        ]
    )
    assert m.cluster_is_vibes(["id", "centroid_json", "members_json", "created_at", "last_seen"])
    assert time.time() > T
