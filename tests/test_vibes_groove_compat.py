"""A tier written by the shipped vibes-groove (its own version-2 open-world shape) opens
with every open-world row: read as it is, and migrated to groove's shape (version 6) by
Groove without losing one.

The tier is written by ``vibes_openworld_writer.py`` in a subprocess: the upstream CozoDB
engine on RocksDB (what vibes-groove links and opens), seed 001's ``INITIAL_SCHEMA``,
vibes-groove's open-world schema and its ``CozoStore``'s writes with values formatted
in, snake_case enum columns and serde JSON (compact, externally tagged enums,
whole fingerprints in ``members_json``, embeddings only as JSON, gaps named
``context:<hash>`` as its gap detector names them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import vibes_openworld_writer as vibes
from conftest import as_principal
from vibes_writer import initial_schema

from groove_core.model.openworld import (
    CapabilityGap,
    FailureType,
    GapCategory,
    GapSeverity,
    GapStatus,
    PatternFingerprint,
    SuggestedSolution,
    hash_to_db,
)
from groove_core.store.engine import Engine
from groove_core.store.openworld import OpenWorldStore
from groove_core.tiers import Groove, Tier

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_001 = next(iter(sorted(SEEDS.glob("001_*.txt"))), None)
pytestmark = pytest.mark.skipif(SEED_001 is None, reason="seed 001 not available")

CL1 = "01900000-0000-7000-8000-00000000c001"
CL2 = "01900000-0000-7000-8000-00000000c002"
GAP1 = "01900000-0000-7000-8000-00000000a001"
GAP2 = "01900000-0000-7000-8000-00000000a002"
LEARNING = "01900000-0000-7000-8000-00000000e001"
FAIL = [f"01900000-0000-7000-8000-00000000f00{i}" for i in range(1, 5)]
EVENTS = [f"01900000-0000-7000-8000-0000000e000{i}" for i in range(1, 7)]
T = 1_740_000_000
RFC = "2025-02-19T21:20:00Z"  # = T
BIG = 2**62 + 5  # vibes-groove formats the u64 into its script: only < 2**63 is stored
ONLY = 2**64 - 99  # a member that lives only in members_json (a u64 Cozo's Int cannot hold)


def _vec(seed: int, dim: int = 384) -> list[float]:
    """A unit-ish vector rounded to 3 places: Python writes the digits serde's ryu writes
    for the same f32."""
    v = np.random.default_rng(seed).normal(size=dim)
    return [round(float(x), 3) for x in v / np.linalg.norm(v)]


def _fp(h: int, seed: int, summary: str, at: str = RFC) -> dict:
    """serde form of a vibes-groove ``PatternFingerprint``."""
    return {"hash": h, "embedding": _vec(seed), "context_summary": summary, "created_at": at}


STORED = [(1000 + i, i, f"stored context {i}", T + i) for i in range(8)]
STORED.append((BIG, 50, "large hash context", T + 50))
ODD = (777, "short vector context")  # a 3-d embedding: kept, but not in the vector index
ONLY_FP = _fp(ONLY, 99, "only inside a cluster", "2025-02-19T21:20:00.123456789Z")

SOLUTIONS = [
    {
        "action": {
            "CreateLearning": {"content": "Pin the helm chart version", "category": "CodePattern"}
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
GAP1_JSON = {
    "id": GAP1,
    "category": "ToolGap",
    "severity": "Medium",
    "status": "InProgress",
    "context_pattern": "context:1000",
    "failure_count": 4,
    "first_seen": RFC,
    "last_seen": "2025-02-19T21:25:00Z",
    "suggested_solutions": SOLUTIONS,
}
GAP2_JSON = {
    "id": GAP2,
    "category": "MissingKnowledge",
    "severity": "Critical",
    "status": "Detected",
    "context_pattern": f"context:{ONLY}",
    "failure_count": 30,
    "first_seen": RFC,
    "last_seen": "2025-02-19T21:20:10Z",
    "suggested_solutions": [],
}
CL2_JSON = {
    "id": CL2,
    "centroid": _vec(8),
    "members": [_fp(1005, 5, "stored context 5", "2025-02-19T21:20:05.5Z")],
    "created_at": "2025-02-19T21:20:05Z",
    "last_seen": "2025-02-19T21:20:05Z",
}


def vibes_scripts() -> list[str]:
    out = [
        *initial_schema(SEED_001.read_text(encoding="utf-8")),
        vibes.record_migration(1, T, "Initial schema"),
        *vibes.OPENWORLD_SCHEMA,
        vibes.record_migration(2, T, "Open-world adaptation schema"),
    ]
    out += [vibes.save_fingerprint(_fp(h, s, summary), at) for h, s, summary, at in STORED]
    odd = {"hash": ODD[0], "embedding": [0.5, 0.25, 0.125], "context_summary": ODD[1]}
    out.append(vibes.save_fingerprint(odd, T + 60))
    cl1 = {
        "id": CL1,
        "centroid": _vec(7),
        "members": [_fp(1000 + i, i, f"stored context {i}") for i in range(3)] + [ONLY_FP],
    }
    out += [vibes.save_cluster(cl1, T, T + 100), vibes.save_cluster(CL2_JSON, T + 5, T + 5)]
    out.append(
        vibes.save_gap(
            GAP1_JSON,
            T,
            T + 300,
            {"category": "tool_gap", "severity": "medium", "status": "in_progress"},
        )
    )
    out.append(
        vibes.save_gap(
            GAP2_JSON,
            T,
            T + 10,
            {"category": "missing_knowledge", "severity": "critical", "status": "detected"},
        )
    )
    failures = [
        ("sess-1", "learning_not_activated", 1000, [LEARNING]),
        ("sess-1", "negative_attribution", 1001, []),
        ("sess-2", "low_confidence", 1000, []),
        ("sess-2", "explicit_feedback", BIG, []),
    ]
    for i, (session, kind, ctx, lids) in enumerate(failures):
        record = {"id": FAIL[i], "session_id": session, "context_hash": ctx, "learning_ids": lids}
        out.append(vibes.save_failure(record, kind, T + 1 + i))
    events = [
        {"NoveltyDetected": {"fingerprint": _fp(1003, 3, "stored context 3"), "cluster": CL1}},
        {"ClusterUpdated": {"cluster": CL2_JSON}},
        {"GapCreated": {"gap": GAP1_JSON}},
        {"SolutionGenerated": {"gap_id": GAP1, "solution": SOLUTIONS[0]}},
        {"GapStatusChanged": {"gap_id": GAP1, "old": "Confirmed", "new": "InProgress"}},
        {"StrategyFeedback": {"learning_id": LEARNING, "adjustment": -0.25}},
    ]
    out += [vibes.emit_event(EVENTS[i], ev, T + 10 * (i + 1)) for i, ev in enumerate(events)]
    return out


def build_vibes_tier(path: Path, engine: str = "rocksdb") -> None:
    """Write the tier with the upstream engine, in a subprocess (see the module doc)."""
    scripts = path.parent / "vibes_scripts.json"
    scripts.write_text(json.dumps(vibes_scripts()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, vibes.__file__, engine, str(path), str(scripts)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def raw_counts(path: Path) -> dict[str, int]:
    db = Engine("raw", "rocksdb", path)
    try:
        return {
            rel: int(db.run(f"?[count({key})] := *{rel}{{{key}}}").scalar(0))
            for rel, key in (
                ("pattern_fingerprint", "hash"),
                ("anomaly_cluster", "id"),
                ("capability_gap", "id"),
                ("failure_record", "id"),
                ("novelty_event", "id"),
            )
        }
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
    assert set(clusters[CL1].members) == {1000, 1001, 1002, ONLY}
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
    assert (int(g1.first_seen.timestamp()), int(g1.last_seen.timestamp())) == (T, T + 300)
    assert [s.to_json() for s in g1.suggested_solutions] == SOLUTIONS
    assert gaps[GAP2].severity == GapSeverity.CRITICAL
    assert [g.id for g in ow.load_gaps()] == [GAP2, GAP1]  # critical first
    # the gap detector's "context:<hash>" leads to the gap's context, failures and cluster
    assert ow.gap_contexts(GAP1) == [1000]
    assert {f.id for f in ow.gap_failures(GAP1)} == {FAIL[0], FAIL[2]}
    assert ow.gap_clusters(GAP1) == [(CL1, 1)]
    assert ow.gap_contexts(GAP2) == [ONLY] and ow.gap_clusters(GAP2) == [(CL1, 1)]

    assert [f.failure_type for f in ow.load_failures_by_session("sess-1")] == [
        FailureType.NEGATIVE_ATTRIBUTION,
        FailureType.LEARNING_NOT_ACTIVATED,
    ]
    by_ctx = ow.load_failures_by_context(1000)
    assert [f.id for f in by_ctx] == [FAIL[2], FAIL[0]] and by_ctx[-1].learning_ids == (LEARNING,)
    assert [f.id for f in ow.load_failures_by_context(BIG)] == [FAIL[3]]

    events = ow.load_novelty_events(limit=10)
    assert [e.id for e in events] == EVENTS[::-1]
    assert [e.event_type for e in events] == [
        "strategy_feedback",
        "gap_status_changed",
        "solution_generated",
        "gap_created",
        "cluster_updated",
        "novelty_detected",
    ]
    assert events[1].data == {"gap_id": GAP1, "old": "Confirmed", "new": "InProgress"}
    assert SuggestedSolution.from_json(events[2].data["solution"]).to_json() == SOLUTIONS[0]
    assert CapabilityGap.from_json(events[3].data["gap"]) == g1
    (member,) = events[4].data["cluster"]["members"]
    assert PatternFingerprint.from_json(member).hash == 1005
    assert PatternFingerprint.from_json(events[5].data["fingerprint"]).hash == 1003
    assert ow.load_novelty_events(limit=2, event_types=["gap_created"])[0].id == EVENTS[2]
    # nearest of a stored embedding is itself (exact on vibes' shape, HNSW on groove's)
    hit = ow.find_similar(np.asarray(_vec(4), np.float32), 3)[0]
    assert hit.fingerprint.hash == 1004 and hit.distance == pytest.approx(0, abs=1e-5)


@pytest.fixture(scope="module")
def vibes_tier(tmp_path_factory) -> Path:
    """A pristine vibes-groove tier; tests copy it (writing takes a second)."""
    path = tmp_path_factory.mktemp("vibes") / "user.rocksdb"
    build_vibes_tier(path)
    return path


def _copy(src: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(src, dest)
    return dest


def test_vibes_shape_is_read_as_it_is(vibes_tier, tmp_path, embedder):
    path = _copy(vibes_tier, tmp_path / "user.rocksdb")
    db = Engine("user", "rocksdb", path)
    try:
        assert "members_json" in db.columns("anomaly_cluster")
        assert "cluster_member" not in db.relations()
        tier = Tier("user", db, embedder, migrate=False)
        ow = tier.openworld
        assert ow.shape() == "vibes"
        check_every_row(ow)
        assert ONLY not in {f.hash for f in ow.load_fingerprints()}  # only in members_json
        with pytest.raises(Exception, match="vibes-groove"):
            ow.create_cluster([1000])
    finally:
        db.close()


def _home(tmp_path: Path, vibes_tier: Path) -> Path:
    """A groove home whose user tier is the vibes-groove RocksDB database."""
    home = tmp_path / "home"
    home.mkdir()
    _copy(vibes_tier, home / "user.rocksdb")
    (home / "config.toml").write_text(
        '[tiers.user]\nengine = "rocksdb"\npath = "user.rocksdb"\n', encoding="utf-8"
    )
    return home


def test_groove_opens_a_vibes_tier_and_migrates_it_without_losing_a_row(
    vibes_tier, tmp_path, embedder
):
    home = _home(tmp_path, vibes_tier)
    before = raw_counts(home / "user.rocksdb")
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        tier = g.user
        assert tier.db.kind == "rocksdb"
        assert tier.migration.from_version == 2 and tier.migration.to_version >= 6
        assert tier.migration.backup is not None and tier.migration.backup.exists()
        ow = tier.openworld
        assert ow.shape() == "groove"
        assert {"associated_learning", "embedding"} <= set(tier.db.columns("pattern_fingerprint"))
        assert "members_json" not in tier.db.columns("anomaly_cluster")
        assert "pattern_fingerprint:embedding_idx" in tier.db.relations()
        assert not [r for r in tier.db.relations() if r.startswith("m006_stage")]
        check_every_row(ow)
        fps = {f.hash: f for f in ow.load_fingerprints()}
        # the member that only lived in members_json is now a fingerprint row, and each
        # gap's context is a gap_context row
        assert fps[ONLY].context_summary == "only inside a cluster"
        assert np.allclose(fps[ONLY].embedding, ONLY_FP["embedding"])
        assert len(fps) == before["pattern_fingerprint"] + 1
        for table in ("capability_gap", "failure_record", "novelty_event", "anomaly_cluster"):
            assert ow.counts()[table] == before[table]
        assert ow.counts()["cluster_member"] == 5
        assert sorted(tier.db.run("?[g, h] := *gap_context{gap_id: g, context_hash: h}").rows) == [
            [GAP1, 1000],
            [GAP2, hash_to_db(ONLY)],
        ]
        # the original cluster rows are kept verbatim
        legacy = tier.db.run(
            "?[key, row] := *openworld_legacy{relation: 'anomaly_cluster', key, row_json: row}"
        ).rows
        assert {k for k, _ in legacy} == {CL1, CL2}
        assert json.loads(json.loads(dict(legacy)[CL2])["members_json"]) == CL2_JSON["members"]
        # the migrated tier is writable and its HNSW index serves
        assert ow.find_similar(np.asarray(_vec(2), np.float32), 1)[0].fingerprint.hash == 1002
        ow.update_gap_status(GAP1, "resolved", actor=as_principal("alex"))
        assert ow.gap_history(GAP1)[-1].who == "alex"
        made = ow.add_cluster_members(CL2, [1006])
        assert set(made.members) == {1005, 1006}
    # a second open changes nothing
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        assert g.user.migration.applied == []
        assert set(g.user.openworld.get_cluster(CL2).members) == {1005, 1006}
        assert len(g.user.openworld.load_fingerprints()) == len(fps)


def test_migration_6_rolls_back_to_5_and_forward_again(vibes_tier, tmp_path, embedder):
    from groove_core.store import migrations

    home = _home(tmp_path, vibes_tier)
    with Groove(home, embedder=embedder, project=tmp_path) as g:
        db = g.user.db
        migrations.migrate(db, 5)
        assert "gap_history" not in db.relations() and "gap_context" not in db.relations()
        migrations.migrate(db, 6)  # now from groove's own shape: only the gap contexts
        assert "gap_history" in db.relations()
        assert len(db.run("?[g, h] := *gap_context{gap_id: g, context_hash: h}").rows) == 2
        assert not [r for r in db.relations() if r.startswith("m006_stage")]
        g.user.openworld.refresh()
        check_every_row(g.user.openworld)


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
    assert not m.cluster_is_vibes(
        ["id", "centroid_json", "member_count", "created_at", "last_seen"]
    )
