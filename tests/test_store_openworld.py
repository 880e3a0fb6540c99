"""OpenWorldStore: round trips of every relation, HNSW self-nearest, cluster members,
the gap workflow and its history, failures, events, synthetic removal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from conftest import as_principal

from groove_core.errors import DatabaseError, NotFoundError, ValidationError
from groove_core.model.openworld import (
    AnomalyCluster,
    CapabilityGap,
    FailureRecord,
    GapStatus,
    OpenWorldEvent,
    PatternFingerprint,
    SolutionAction,
    SolutionSource,
    SuggestedSolution,
    context_hash,
    f32_text,
    hash_from_db,
    hash_to_db,
)
from groove_core.store.openworld import OpenWorldBatch, OpenWorldStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ow(engine, store):
    return OpenWorldStore(engine, store)


def fingerprints(store, n=30, prefix="context"):
    texts = [f"{prefix} {i} about topic{i % 5} and word{i}" for i in range(n)]
    emb = store.embed_texts(texts)
    return [
        PatternFingerprint(context_hash(t), emb[i], t, None, T0 + timedelta(minutes=i))
        for i, t in enumerate(texts)
    ]


def test_hash_mapping_is_twos_complement():
    for h in (0, 1, 2**63 - 1, 2**63, 2**64 - 1, 12345678901234567890):
        stored = hash_to_db(h)
        assert -(2**63) <= stored < 2**63
        assert hash_from_db(stored) == h
    assert hash_to_db(2**64 - 1) == -1
    with pytest.raises(ValidationError):
        hash_to_db(2**64)
    with pytest.raises(ValidationError):
        hash_to_db(-1)


def test_fingerprint_round_trip_and_big_hashes(ow, store):
    fps = fingerprints(store, 5)
    big = PatternFingerprint(2**64 - 7, fps[0].embedding, "big hash", None, T0)
    learning = make_learning_id(store)
    linked = PatternFingerprint(2**63 + 11, fps[1].embedding, "linked", learning, T0)
    ow.save_fingerprints([*fps, big, linked])
    loaded = {f.hash: f for f in ow.load_fingerprints()}
    assert len(loaded) == 7
    for f in [*fps, big, linked]:
        assert loaded[f.hash] == f
    assert ow.get_fingerprint(2**64 - 7) == big
    assert ow.get_fingerprint(linked.hash).associated_learning == learning
    assert ow.count_fingerprints() == 7
    # serde form
    js = linked.to_json()
    assert js["hash"] == 2**63 + 11 and js["created_at"] == "2025-03-01T12:00:00Z"
    assert PatternFingerprint.from_json(json.loads(json.dumps(js))) == linked
    ow.set_associated_learning([big.hash], learning)
    assert ow.get_fingerprint(big.hash).associated_learning == learning
    assert ow.delete_fingerprints([big.hash]) == 1
    assert ow.get_fingerprint(big.hash) is None


def test_embedding_json_is_written_as_serde_writes_vec_f32(ow):
    """serde_json writes f32s with ryu: shortest digits, ``1.0``, ``1e-7``; compact."""
    values = [0.1, -0.25, 1e-7, 1.0, 123456.7, 0.001234, 3.4e38, -0.0]
    assert [f32_text(v) for v in values] == [
        "0.1",
        "-0.25",
        "1e-7",
        "1.0",
        "123456.7",
        "0.001234",
        "3.4e38",
        "-0.0",
    ]
    emb = np.array(values + [0.5] * (384 - len(values)), np.float32)
    fp = PatternFingerprint(42, emb, "serde floats", None, T0)
    ow.save_fingerprint(fp)
    raw = ow.db.run("?[j] := *pattern_fingerprint{hash: 42, embedding_json: j}").scalar()
    assert raw.startswith("[0.1,-0.25,1e-7,1.0,123456.7,0.001234,3.4e38,-0.0,0.5,")
    assert np.array_equal(np.asarray(json.loads(raw), np.float32), emb)
    assert json.dumps(fp.to_json()["embedding"][:2]) == "[0.1, -0.25]"
    with pytest.raises(ValidationError):
        f32_text(float("nan"))


def make_learning_id(store):
    from conftest import make_learning

    lr = make_learning("Prefer pathlib", "Use pathlib over os.path")
    store.store(lr)
    return lr.id


def test_hnsw_nearest_of_a_stored_embedding_is_itself(ow, store):
    fps = fingerprints(store, 60)
    ow.save_fingerprints(fps)
    for fp in fps[::7]:
        hits = ow.find_similar(fp.embedding, 5)
        assert hits[0].fingerprint.hash == fp.hash
        assert hits[0].distance == pytest.approx(0.0, abs=1e-5)
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert ow.find_similar(fps[3].embedding, 1)[0].fingerprint == fps[3]
    with pytest.raises(ValidationError):
        ow.find_similar(np.zeros(10), 3)


def test_cluster_round_trip_and_member_management(ow, store):
    fps = fingerprints(store, 12)
    ow.save_fingerprints(fps)
    hashes = [f.hash for f in fps]
    c = AnomalyCluster(
        "01900000-0000-7000-8000-000000000001",
        fps[0].embedding,
        tuple(hashes[:3]),
        T0,
        T0 + timedelta(hours=1),
    )
    ow.save_cluster(c)
    assert ow.get_cluster(c.id) == c
    assert ow.load_clusters() == [c]
    after = ow.add_cluster_member(c.id, hashes[5])
    assert set(after.members) == {*hashes[:3], hashes[5]}
    assert ow.get_cluster(c.id).members == after.members
    assert ow.get_cluster(c.id).size == 4
    # centroid follows the members
    mean = np.mean([fps[i].embedding for i in (0, 1, 2, 5)], axis=0)
    assert np.dot(after.centroid, mean / np.linalg.norm(mean)) == pytest.approx(1.0, abs=1e-5)
    after = ow.remove_cluster_members(c.id, hashes[:2])
    assert set(after.members) == {hashes[2], hashes[5]}
    made = ow.create_cluster(hashes[6:10], actor=as_principal("alex"))
    assert ow.get_cluster(made.id).size == 4
    # out of every cluster at once (one transaction, an event per changed cluster)
    ow.add_cluster_members(made.id, [hashes[5]])
    changed = ow.remove_from_clusters([hashes[5], hashes[11]], actor=as_principal("sam"))
    assert {x.id for x in changed} == {c.id, made.id}
    assert hashes[5] not in ow.cluster_membership()
    assert ow.get_cluster(made.id).members == tuple(sorted(hashes[6:10]))
    assert ow.remove_from_clusters([hashes[11]]) == []
    assert ow.cluster_membership()[hashes[7]] == [made.id]
    assert ow.counts()["cluster_member"] == 5
    with pytest.raises(ValidationError):
        ow.create_cluster([])
    with pytest.raises(ValidationError):
        ow.create_cluster([12345])
    with pytest.raises(NotFoundError):
        ow.add_cluster_members("01900000-0000-7000-8000-0000000000ff", hashes[:1])
    # saving a cluster replaces its member set exactly
    ow.save_cluster(AnomalyCluster(c.id, c.centroid, (hashes[11],), T0, T0))
    assert ow.get_cluster(c.id).members == (hashes[11],)
    assert ow.delete_cluster(made.id)
    assert ow.get_cluster(made.id) is None
    assert ow.counts()["cluster_member"] == 1
    events = ow.load_novelty_events(event_types=["cluster_updated"])
    assert events and events[0].data["cluster"]["members"]


def solutions():
    return (
        SuggestedSolution(
            SolutionAction.create_learning("Use helm rollback", "code_pattern"),
            SolutionSource.TEMPLATE,
            0.8,
        ),
        SuggestedSolution(SolutionAction.request_human_input("What is the deploy flow?")),
        SuggestedSolution(
            SolutionAction.adjust_strategy("tool_usage", 0.1, -0.05),
            SolutionSource.PATTERN_ANALYSIS,
            0.4,
            applied=True,
        ),
    )


def test_gap_round_trip_status_workflow_and_history(ow, store):
    fps = fingerprints(store, 6)
    ow.save_fingerprints(fps)
    cluster = ow.create_cluster([f.hash for f in fps[:4]])
    gap = CapabilityGap(
        "01900000-0000-7000-8000-0000000000a1",
        "tool_gap",
        "high",
        "detected",
        "helm rollback",
        12,
        T0,
        T0 + timedelta(days=2),
        solutions(),
    )
    ow.save_gap(
        gap, actor=as_principal("detector"), contexts=[fps[0].hash, fps[1].hash, fps[5].hash]
    )
    assert ow.get_gap(gap.id) == gap
    assert ow.get_gap(gap.id) == gap
    assert ow.gap_contexts(gap.id) == sorted([fps[0].hash, fps[1].hash, fps[5].hash])
    assert ow.gap_clusters(gap.id) == [(cluster.id, 2)]
    assert ow.gaps_by_cluster() == {cluster.id: [gap.id]}
    # serde of solutions: the struct with an externally tagged action
    raw = ow.db.run(
        "?[s] := *capability_gap{id, solutions_json: s}, id = $id", {"id": gap.id}
    ).scalar()
    first = json.loads(raw)[0]
    assert first == {
        "action": {"CreateLearning": {"content": "Use helm rollback", "category": "CodePattern"}},
        "source": "Template",
        "confidence": 0.8,
        "applied": False,
    }

    with pytest.raises(ValidationError):
        ow.update_gap_status(gap.id, "resolved")  # detected -> resolved is not a move
    with pytest.raises(ValidationError):
        ow.update_gap_status(gap.id, "detected")
    ow.update_gap_status(gap.id, GapStatus.CONFIRMED, actor=as_principal("alex"), note="seen twice")
    ow.update_gap_status(gap.id, "in_progress", actor=as_principal("sam"))
    assert ow.get_gap(gap.id).status == GapStatus.IN_PROGRESS
    hist = ow.gap_history(gap.id)
    assert [(h.action, h.who, h.old_status, h.new_status) for h in hist] == [
        ("created", "detector", None, GapStatus.DETECTED),
        ("status", "alex", GapStatus.DETECTED, GapStatus.CONFIRMED),
        ("status", "sam", GapStatus.CONFIRMED, GapStatus.IN_PROGRESS),
    ]
    assert hist[1].note == "seen twice"
    changed = ow.load_novelty_events(event_types=["gap_status_changed"])
    assert changed[0].to_json()["GapStatusChanged"]["new"] == "InProgress"

    new_solutions = solutions()[:1]
    ow.update_gap_solutions(gap.id, new_solutions, actor=as_principal("alex"))
    assert ow.get_gap(gap.id).suggested_solutions == new_solutions
    ow.add_gap_solutions(gap.id, solutions()[1:2], actor=as_principal("alex"))
    assert len(ow.get_gap(gap.id).suggested_solutions) == 2
    assert [h.action for h in ow.gap_history(gap.id)][-2:] == ["solutions", "solutions"]

    added = ow.load_novelty_events(event_types=["solution_generated"])
    assert len(added) == 1 and added[0].data["gap_id"] == gap.id
    assert added[0].timestamp == ow.gap_history(gap.id)[-1].at  # one transaction

    # a gap named the way vibes-groove's detector names it: its context, failures, cluster
    named = CapabilityGap.new("context_mismatch", f"context:{fps[2].hash}")
    ow.save_gap(named)
    assert named.context_hash == fps[2].hash
    assert ow.gap_contexts(named.id) == [fps[2].hash]
    ow.save_failure(FailureRecord.new("s9", "low_confidence", fps[2].hash))
    assert [f.session_id for f in ow.gap_failures(named.id)] == ["s9"]
    assert ow.clusters_by_gap() == {gap.id: [(cluster.id, 2)], named.id: [(cluster.id, 1)]}
    assert {c: set(g) for c, g in ow.gaps_by_cluster().items()} == {cluster.id: {gap.id, named.id}}
    ow.delete_gap(named.id)

    other = CapabilityGap.new("missing_knowledge", "graphql federation")
    ow.save_gap(other)
    assert [g.id for g in ow.load_gaps()] == [gap.id, other.id]  # high before low
    assert [g.id for g in ow.load_gaps(status="detected")] == [other.id]
    assert [g.id for g in ow.load_gaps(category=["tool_gap"], severity="high")] == [gap.id]
    ow.delete_gap(other.id)
    assert ow.get_gap(other.id) is None and ow.gap_history(other.id) == []


def test_failures_by_context_and_session(ow, store):
    fps = fingerprints(store, 3)
    ow.save_fingerprints(fps)
    lid = make_learning_id(store)
    big = 2**64 - 3
    recs = [
        FailureRecord(
            "01900000-0000-7000-8000-0000000000b1",
            "s1",
            "learning_not_activated",
            fps[0].hash,
            (lid,),
            T0,
        ),
        FailureRecord(
            "01900000-0000-7000-8000-0000000000b2",
            "s1",
            "negative_attribution",
            big,
            (),
            T0 + timedelta(hours=1),
        ),
        FailureRecord(
            "01900000-0000-7000-8000-0000000000b3",
            "s2",
            "explicit_feedback",
            fps[0].hash,
            (),
            T0 + timedelta(hours=2),
        ),
    ]
    ow.save_failures(recs)
    assert ow.load_failures_by_context(fps[0].hash) == [recs[2], recs[0]]
    assert ow.load_failures_by_context(big) == [recs[1]]
    assert ow.load_failures_by_session("s1") == [recs[1], recs[0]]
    assert ow.recent_failures(2) == [recs[2], recs[1]]
    raw = ow.db.run(
        "?[t, j] := *failure_record{id, failure_type: t, learning_ids_json: j}, id = $id",
        {"id": recs[0].id},
    ).rows[0]
    assert raw == ["learning_not_activated", json.dumps([lid])]


def test_events_since_limit_and_types(ow, store):
    fps = fingerprints(store, 4)
    events = [
        OpenWorldEvent.novelty_detected(fp, None, T0 + timedelta(hours=i))
        for i, fp in enumerate(fps)
    ]
    gap = CapabilityGap.new("context_mismatch", "x")
    events.append(
        OpenWorldEvent.gap_status_changed(gap.id, "detected", "confirmed", T0 + timedelta(hours=10))
    )
    ow.save_novelty_events(events)
    got = ow.load_novelty_events(T0 + timedelta(hours=1), 10)
    assert [e.id for e in got] == [events[4].id, events[3].id, events[2].id, events[1].id]
    assert got[0] == events[4]
    assert len(ow.load_novelty_events(T0, 2)) == 2
    only = ow.load_novelty_events(T0, 10, event_types=["novelty_detected"])
    assert {e.event_type for e in only} == {"novelty_detected"} and len(only) == 4
    assert len(ow.load_novelty_events(T0, 10, until=T0 + timedelta(hours=2))) == 2
    raw = ow.db.run(
        "?[t, j] := *novelty_event{id, event_type: t, event_data_json: j}, id = $id",
        {"id": events[4].id},
    ).rows[0]
    assert raw[0] == "gap_status_changed"
    assert json.loads(raw[1]) == {
        "GapStatusChanged": {"gap_id": gap.id, "old": "Detected", "new": "Confirmed"}
    }
    assert ow.event_type_counts() == {"novelty_detected": 4, "gap_status_changed": 1}
    # counted per bucket over every event, not over a page of them
    assert ow.event_timeline(T0, bucket_seconds=7200) == [
        (T0, "novelty_detected", 2),
        (T0 + timedelta(hours=2), "novelty_detected", 2),
        (T0 + timedelta(hours=10), "gap_status_changed", 1),
    ]
    assert ow.event_timeline(T0 + timedelta(hours=1), event_types=["novelty_detected"]) == [
        (T0.replace(hour=0), "novelty_detected", 3)  # the UTC day
    ]


def test_dismissed_proposals(ow):
    ow.dismiss_proposal("prop-abc", [3, 1, 2], actor=as_principal("alex"))
    (d,) = ow.dismissed_proposals()
    assert (d.proposal_id, d.who, d.member_hashes) == ("prop-abc", "alex", (1, 2, 3))
    ow.undismiss_proposal("prop-abc")
    assert ow.dismissed_proposals() == []


def test_write_batch_is_atomic_and_synthetic_rows_are_removable(ow, store, monkeypatch):
    real = fingerprints(store, 4, prefix="real")
    ow.save_fingerprints(real)
    before = ow.counts()
    fps = fingerprints(store, 8, prefix="synthetic")
    cluster = AnomalyCluster.new(fps[0].embedding, [f.hash for f in fps[:4]] + [real[0].hash])
    gap = CapabilityGap.new("missing_knowledge", "synthetic gap")
    batch = OpenWorldBatch(
        fingerprints=fps,
        clusters=[cluster],
        gaps=[gap],
        gap_contexts={gap.id: [fps[0].hash]},
        failures=[FailureRecord.new("sim", "low_confidence", fps[0].hash)],
        events=[OpenWorldEvent.gap_created(gap)],
    )
    ow.write_batch(batch, synthetic_run="run-1")
    assert ow.counts()["pattern_fingerprint"] == 12
    assert ow.synthetic_runs() == {"run-1": 1 + 8 + 1 + 1 + 1}
    # a batch that fails in its last statement writes nothing
    import groove_core.store.openworld.batch as mod

    monkeypatch.setattr(mod, "event_row", lambda e: [e.id, "x"])  # wrong arity
    bad = OpenWorldBatch(
        fingerprints=fingerprints(store, 2, prefix="bad"), events=[OpenWorldEvent.gap_created(gap)]
    )
    with pytest.raises(DatabaseError):
        ow.write_batch(bad, synthetic_run="run-bad")
    monkeypatch.undo()
    assert ow.counts()["pattern_fingerprint"] == 12
    assert "run-bad" not in ow.synthetic_runs()
    removed = ow.remove_synthetic("run-1")
    assert removed == {"fingerprint": 8, "cluster": 1, "gap": 1, "failure": 1, "event": 1}
    after = ow.counts()
    assert after == before
    assert {f.hash for f in ow.load_fingerprints()} == {f.hash for f in real}
    assert ow.synthetic_runs() == {}
