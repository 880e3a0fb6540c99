"""LearningStore: rows written and read back, edits, deletes with undo, paging, usage."""

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import as_principal, make_learning

from groove_core.errors import NotFoundError, ValidationError
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.model.scope import Scope
from groove_core.model.usage import UsageStats
from groove_core.store.listing import LearningFilter
from groove_core.store.params import ParamStore


def test_store_get_count_and_find(store):
    a = make_learning("Alice one", scope="user:alice")
    b = make_learning("Alice two", scope="user:alice", category="solution")
    c = make_learning("Bob", scope="user:bob")
    store.store_many([a, b, c])
    got = store.get(a.id)
    assert got == a and got.tier == "user"
    assert store.count() == 3
    assert {x.id for x in store.find_by_scope(Scope("user", "alice"))} == {a.id, b.id}
    assert [x.id for x in store.find_by_category("solution")] == [b.id]
    assert store.get("0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b") is None
    assert store.usage(a.id) == UsageStats()


def test_update_bumps_updated_at_and_keeps_history(store):
    lr = make_learning()
    store.store(lr)
    time.sleep(1.1)
    new = store.update(
        lr.id,
        description="Use spaces",
        category="code_pattern",
        scope="project:/repo",
        actor=as_principal("dana"),
    )
    assert new.updated_at > lr.updated_at and new.created_at == lr.created_at
    again = store.get(lr.id)
    assert (again.description, again.category.value, again.scope.to_db()) == (
        "Use spaces",
        "code_pattern",
        "project:/repo",
    )
    edit = store.history(lr.id)[-1]
    assert (edit.who, edit.action) == ("dana", "edited")
    assert edit.before == {"description": "Use tabs", "category": "preference", "scope": "global"}
    assert edit.after == {
        "description": "Use spaces",
        "category": "code_pattern",
        "scope": "project:/repo",
    }


@pytest.mark.parametrize(
    "kwargs", [{"description": "  "}, {"category": "nonsense"}, {"scope": "galaxy:far"}]
)
def test_invalid_edit_changes_nothing(store, kwargs):
    lr = make_learning()
    store.store(lr)
    with pytest.raises(ValidationError):
        store.update(lr.id, **kwargs)
    assert store.get(lr.id) == lr
    assert [e.action for e in store.history(lr.id)] == ["created"]


def test_delete_cascades_and_restore_undoes_it(store):
    a, b = make_learning("A"), make_learning("B")
    store.store_many([a, b])
    store.record_outcome(a.id, "helpful")
    store.store_relation(LearningRelation(a.id, RelationType.SUPERSEDES, b.id))
    assert store.delete(a.id) is True
    assert store.get(a.id) is None
    assert store.related(b.id) == []
    db = store.db
    for rel, col in [("usage_stats", "learning_id"), ("learning_embeddings", "learning_id")]:
        assert (
            db.run(f"?[x] := *{rel}{{{col}: x}}, x = $id", {"id": a.id}, read_only=True).rows == []
        )
    assert store.delete(a.id) is False
    assert [e.learning_id for e in store.deleted()] == [a.id]
    restored = store.restore(a.id)
    assert restored.description == "A"
    assert store.usage(a.id).times_helpful == 1
    assert [(r.direction, r.other.id) for r in store.related(b.id)] == [("in", a.id)]
    assert store.deleted() == []
    with pytest.raises(NotFoundError):
        store.restore(a.id)


def test_bulk_delete_and_recategorize_are_one_transaction_each(store):
    items = [make_learning(f"L{i}") for i in range(5)]
    store.store_many(items)
    assert store.recategorize_many([i.id for i in items[:3]], "solution") == 3
    assert store.count(LearningFilter(category="solution")) == 3
    assert store.delete_many([i.id for i in items[:2]]) == 2
    assert store.count() == 3


def test_list_pages_filters_and_sorts(store):
    items = [
        make_learning(f"L{i:02d}", category="solution" if i % 2 else "preference")
        for i in range(25)
    ]
    store.store_many(items)
    for i, lr in enumerate(items[:5]):
        for _ in range(i + 1):
            store.record_outcome(lr.id, "helpful")
    page = store.list(limit=10, offset=0, sort="description")
    assert page.total == 25 and [x.description for x in page.items] == [
        f"L{i:02d}" for i in range(10)
    ]
    page3 = store.list(limit=10, offset=20, sort="description")
    assert [x.description for x in page3.items] == [f"L{i:02d}" for i in range(20, 25)]
    sol = store.list(LearningFilter(category="solution"), limit=100)
    assert sol.total == 12 and all(x.category.value == "solution" for x in sol.items)
    by_usage = store.list(sort="usage", limit=3).items
    assert [x.description for x in by_usage] == ["L04", "L03", "L02"]
    by_conf = store.list(sort="confidence", limit=1).items
    assert by_conf[0].description == "L04"
    with pytest.raises(ValidationError):
        store.list(sort="bogus")


def test_record_outcome_updates_the_posterior_and_keeps_events(store):
    lr = make_learning()
    store.store(lr)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i, outcome in enumerate(["helpful", "ignored", "contradicted", "helpful"]):
        stats = store.record_outcome(
            lr.id, outcome, session_id=f"s{i}", at=t0 + timedelta(minutes=i)
        )
    assert (stats.confidence_alpha, stats.confidence_beta) == (3.0, pytest.approx(2.6))
    assert stats.times_injected == 4
    assert store.get(lr.id).confidence == pytest.approx(3 / 5.6)
    assert [e["outcome"] for e in store.outcome_events(lr.id)] == [
        "helpful",
        "ignored",
        "contradicted",
        "helpful",
    ]
    with pytest.raises(ValidationError):
        store.record_outcome(lr.id, "meh")
    with pytest.raises(NotFoundError):
        store.record_outcome("0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b", "helpful")


def test_record_outcome_on_a_learning_without_usage_row_starts_from_the_prior(store):
    """A writer outside groove may leave a learning without its usage row: the outcome
    starts from Beta(1, 1), is stored once, and a retry changes nothing."""
    lr = make_learning()
    store.store(lr)
    store.db.run("?[learning_id] <- [[$id]] :rm usage_stats {learning_id}", {"id": lr.id})
    stats = store.record_outcome(lr.id, "contradicted", session_id="s1")
    assert (stats.times_injected, stats.times_contradicted) == (1, 1)
    assert (stats.confidence_alpha, stats.confidence_beta) == (1.0, pytest.approx(2.5))
    assert store.get(lr.id).confidence == pytest.approx(1 / 3.5)
    again = store.record_outcome(lr.id, "contradicted", session_id="s1")
    assert again == stats and store.usage(lr.id) == stats
    assert len(store.outcome_events(lr.id)) == 1


def test_concurrent_outcomes_from_several_processes_lose_nothing(store, tmp_path):
    lr = make_learning()
    store.store(lr)
    path = store.db.path
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(sys.path[0])!r})
        from groove_core.store.engine import Engine
        from groove_core.store.learnings import LearningStore
        db = Engine("user", "sqlite", {str(path)!r}, busy_timeout=60)
        s = LearningStore(db, None)
        for _ in range(25):
            s.record_outcome({lr.id!r}, "helpful")
        db.close()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    for _ in range(25):
        store.record_outcome(lr.id, "contradicted")
    assert all(p.wait(120) == 0 for p in procs)
    stats = store.usage(lr.id)
    assert stats.times_injected == 125
    assert stats.times_helpful == 100 and stats.times_contradicted == 25
    assert stats.confidence_alpha == pytest.approx(101.0)
    assert stats.confidence_beta == pytest.approx(1 + 25 * 1.5)
    assert len(store.outcome_events(lr.id)) == 125


def test_relations_both_directions_and_by_type(store):
    a, b, c = make_learning("A"), make_learning("B"), make_learning("C")
    store.store_many([a, b, c])
    store.store_relation(LearningRelation(a.id, "supersedes", b.id))
    store.store_relation(LearningRelation(c.id, "related_to", a.id, weight=0.3))
    assert {x.id for x in store.find_related(a.id)} == {b.id, c.id}
    assert [x.id for x in store.find_related(a.id, "supersedes")] == [b.id]
    assert [x.id for x in store.find_related(b.id)] == [a.id]
    with pytest.raises(ValidationError):
        store.store_relation(LearningRelation(a.id, "supersedes", a.id))


def test_params_round_trip(engine):
    ps = ParamStore(engine)
    p = SystemParam("injection_budget", AdaptiveParam.with_prior(8, 2))
    ps.store_param(p)
    assert ps.get_param("injection_budget") == p
    assert ps.get_param("nope") is None
    ps.store_param(SystemParam("a_first"))
    assert [x.name for x in ps.all_params()] == ["a_first", "injection_budget"]


def test_embeddings_are_cached_by_content(store, embedder):
    store.store_many([make_learning("Same", "text"), make_learning("Same", "text")])
    assert embedder.texts == 1
    store.embed_query("Same\ntext")
    assert embedder.texts == 1
