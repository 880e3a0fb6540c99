"""The store's keyed operations read by key or index, never by scanning a relation.

Cozo plans a rule in the order it is written: ``*learning{...}, id = $id`` loads every
learning and filters (200 ms at 100,000 rows), while ``id = $id, *learning{...}`` is a
key lookup (0.3 ms). These tests run the keyed operations, ask Cozo to ``::explain``
every query they sent, and fail on a relation read in full: in a keyed plan each
``load_stored`` is consumed by the (negated) prefix join right after it."""

from __future__ import annotations

import re

import pytest
from conftest import as_principal, make_learning

from groove_core.model.params import SystemParam
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.store.listing import LearningFilter
from groove_core.store.params import ParamStore
from groove_core.store.search import SearchStore

_WRITE_TAIL = re.compile(r"\s:(put|rm|update|create|replace|ensure|ensure_not)\s+\w+\s*\{.*$", re.S)


@pytest.fixture
def recorder(engine):
    """Every program the engine runs, split into its blocks."""
    seen: list[tuple[str, dict]] = []
    run, chain = engine.run, engine.run_chain

    def record_run(script, params=None, *, read_only=False):
        if not script.startswith("{"):  # a chain, recorded block by block below
            seen.append((script, dict(params or {})))
        return run(script, params, read_only=read_only)

    def record_chain(blocks, params=None):
        seen.extend((b, dict(params or {})) for b in blocks)
        return chain(blocks, params)

    engine.run, engine.run_chain = record_run, record_chain
    yield seen
    engine.run, engine.run_chain = run, chain


def _first_key(engine, ref: str) -> str:
    return engine.run(f"::columns {ref.lstrip(':')}", read_only=True).rows[0][0]


def _key_range(engine, row: dict) -> bool:
    """A load whose filter bounds the relation's first key column: a range scan (Cozo
    reads only that key range, e.g. the change log after a sequence number)."""
    key = _first_key(engine, row["ref"])
    return any(
        re.match(rf"(gt|ge|lt|le)\({key}, ", f) or re.match(rf"(gt|ge|lt|le)\(\S+, {key}\)", f)
        for f in row.get("filters/expr") or []
    )


def full_scans(engine, seen) -> list[str]:
    """The queries among ``seen`` whose plan reads a stored relation in full."""
    bad = []
    for script, params in seen:
        if script.startswith("::") or "<-" in script.split(":=")[0] and ":=" not in script:
            continue  # system ops and fixed rows read nothing
        query = _WRITE_TAIL.sub("", script)
        rows = engine.run("::explain { " + query + " }", params, read_only=True).dicts()
        for i, row in enumerate(rows):
            if row["op"] == "load_stored":
                following = rows[i + 1]["op"] if i + 1 < len(rows) else None
                if not (following or "").endswith("prefix_join") and not _key_range(engine, row):
                    bad.append(f"{row['ref']} scanned in: {script[:160]}")
    return bad


def test_learning_operations_read_by_key(store, engine, recorder):
    a, b = make_learning("Use tabs", "tabs"), make_learning("Retry", "retry", "error_recovery")
    store.store_many([a, b, *[make_learning(f"filler {i}", "x") for i in range(20)]])
    store.store_relation(LearningRelation(a.id, RelationType.SUPERSEDES, b.id))
    search = SearchStore(store)
    search.sync()  # building the derived indexes reads the whole tier, by design
    recorder.clear()
    store.get(a.id)
    store.get_many([a.id, b.id])
    store.usage(a.id)
    store.usage_many([a.id, b.id])
    store.record_outcome(a.id, "helpful", session_id="s1")
    store.outcome_events(a.id)
    store.update(a.id, description="Use spaces")
    store.history(a.id)
    store.related(a.id)
    store.find_related(b.id, RelationType.SUPERSEDES)
    store.list(LearningFilter(ids=[a.id, b.id]))
    store.count(LearningFilter(category="error_recovery"))
    store.list(LearningFilter(scope="global", category="preference"), limit=5)
    store.embed_texts(["Use spaces\nspaces"])
    store.delete(b.id)
    store.restore(b.id)
    search.search("spaces", mode="hybrid", flt=LearningFilter(category="preference"))
    params = ParamStore(engine)
    params.store_param(SystemParam("threshold"))
    params.get_param("threshold")
    assert not full_scans(engine, recorder)


def test_the_flagged_filter_reads_the_marks_then_each_learning_by_key(store, engine, recorder):
    """Content-scan marks are few and read whole; the learnings they name are read by key
    (a count written as one rule made Cozo read every learning: 1.2 s at 100,000)."""
    store.store_many([make_learning(f"filler {i}", "x") for i in range(20)])
    recorder.clear()
    store.list(LearningFilter(flagged=True))
    store.count(LearningFilter(flagged=True, category="preference"))
    scans = full_scans(engine, recorder)
    assert recorder and [s for s in scans if not s.startswith(":learning_scan ")] == []


def test_attribution_operations_read_by_key(store, engine, recorder):
    from groove_core.store.attribution import AttributionStore

    a = make_learning("Use tabs", "tabs")
    store.store_many([a, *[make_learning(f"filler {i}", "x") for i in range(20)]])
    attribution = AttributionStore(engine, store)
    recorder.clear()
    attribution.get_attributions_for_learning(a.id)
    attribution.get_attributions_for_session("s1")
    attribution.get_learning_value(a.id)
    attribution.values_many([a.id])
    attribution.get_experiment(a.id)
    attribution.ranked_values(limit=10, learning_ids=[a.id])
    attribution.snapshot([a.id], ["threshold"])
    assert not full_scans(engine, recorder)


def test_the_check_catches_a_scan(engine):
    """The detector itself: the same lookup written atom-first is reported."""
    scan = [("?[id] := *learning{id, scope}, id = $id", {"id": "x"})]
    keyed = [("?[id] := id = $id, *learning{id, scope}", {"id": "x"})]
    assert full_scans(engine, scan) and not full_scans(engine, keyed)
    ranged = [("?[seq] := *search_log{seq}, seq > $s", {"s": 3})]
    unbounded = [("?[seq] := *search_log{seq, at}, at > $s", {"s": 3})]
    assert not full_scans(engine, ranged) and full_scans(engine, unbounded)


def test_open_world_operations_read_by_key(store, engine, recorder):
    from datetime import UTC, datetime

    from groove_core.model.openworld import (
        CapabilityGap,
        FailureRecord,
        PatternFingerprint,
        context_hash,
    )
    from groove_core.store.openworld import OpenWorldStore

    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    ow = OpenWorldStore(engine, store)
    texts = [f"context {i} about word{i}" for i in range(12)]
    vectors = store.embed_texts(texts)
    fps = [
        PatternFingerprint(context_hash(t), v, t, None, t0)
        for t, v in zip(texts, vectors, strict=True)
    ]
    ow.save_fingerprints(fps)
    cluster = ow.create_cluster([f.hash for f in fps[:4]])
    gap = CapabilityGap(
        "01900000-0000-7000-8000-0000000000a1",
        "tool_gap",
        "high",
        "detected",
        "helm",
        3,
        t0,
        t0,
        (),
    )
    ow.save_gap(gap, contexts=[fps[0].hash])
    ow.save_failures(
        [
            FailureRecord(
                "01900000-0000-7000-8000-0000000000b1", "s1", "low_confidence", fps[0].hash, (), t0
            )
        ]
    )
    recorder.clear()
    ow.get_fingerprint(fps[1].hash)
    ow.get_fingerprints([f.hash for f in fps[:3]])
    ow.get_cluster(cluster.id)
    ow.get_gap(gap.id)
    ow.update_gap_status(gap.id, "confirmed", actor=as_principal("alex"))
    ow.gap_history(gap.id)
    ow.gap_contexts(gap.id)
    ow.load_failures_by_context(fps[0].hash)
    ow.load_failures_by_session("s1")
    ow.load_failures_by_contexts([fps[0].hash, fps[1].hash])
    ow.set_associated_learning([fps[2].hash], None)
    ow.delete_fingerprints([fps[11].hash])
    assert not full_scans(engine, recorder)
