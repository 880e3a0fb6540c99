"""Numbered migrations: applied in order, one transaction each, recorded, reversible for
groove's own versions, refused for unknown newer versions."""

import pytest
from conftest import make_learning

from groove_core.errors import MigrationError, SchemaTooNewError
from groove_core.store import migrations
from groove_core.store.engine import Engine


def _versions(db):
    return [
        r[0] for r in db.run("?[v] := *schema_version{version: v} :order v", read_only=True).rows
    ]


def test_fresh_tier_gets_every_version_recorded(tmp_path):
    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        report = migrations.migrate(db)
        known = [m.VERSION for m in migrations.MIGRATIONS]
        assert report.applied == known
        assert report.backup is None  # nothing to back up in an empty tier
        assert _versions(db) == known
        rels = db.relations()
        for name in (
            "learning",
            "usage_stats",
            "learning_embeddings",
            "learning_relations",
            "adaptive_params",
            "learning_embeddings:semantic_idx",
            "pattern_fingerprint",
            "capability_gap",
            "attribution",
            "learning_value",
            "ablation_experiment",
        ):
            assert name in rels
        assert "learning:text_idx" not in rels  # dropped by version 10
        assert migrations.migrate(db).applied == []  # idempotent


def test_version_1_is_the_seed_schema_exactly(tmp_path):
    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        migrations.migrate(db, 1)
        assert db.columns("learning") == [
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
        assert db.columns("usage_stats") == [
            "learning_id",
            "times_injected",
            "times_helpful",
            "times_ignored",
            "times_contradicted",
            "last_used",
            "confidence_alpha",
            "confidence_beta",
        ]
        assert db.columns("learning_relations") == [
            "from_id",
            "relation_type",
            "to_id",
            "weight",
            "created_at",
        ]
        assert db.columns("adaptive_params") == [
            "param_name",
            "value",
            "uncertainty",
            "observations",
            "prior_alpha",
            "prior_beta",
            "updated_at",
        ]
        assert db.columns("schema_version") == ["version", "applied_at", "description"]
        assert _versions(db) == [1]


def test_status_lists_applied_and_pending(tmp_path):
    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        migrations.migrate(db, 3)
        status = {s.version: s for s in migrations.status(db)}
        assert status[3].applied_at is not None and status[3].contract
        assert status[4].applied_at is None and status[4].reversible


def test_groove_versions_go_down_and_up_keeping_data(store, embedder):
    db = store.db
    lr = make_learning("Use tabs", "Indent with tabs")
    store.store(lr)
    report = migrations.migrate(db, 3)
    assert report.rolled_back == sorted(
        (m.VERSION for m in migrations.MIGRATIONS if m.VERSION > 3), reverse=True
    )
    assert report.backup is not None and report.backup.exists()
    assert "learning:text_idx" not in db.relations()
    assert _versions(db) == [1, 2, 3]
    migrations.migrate(db)
    assert store.get(lr.id).description == "Use tabs"
    from groove_core.store.search import SearchStore

    hits = SearchStore(store).search("tabs", mode="fulltext")
    assert [h.learning.id for h in hits] == [lr.id]  # the index was rebuilt over old rows


def test_contract_versions_cannot_be_rolled_back(engine):
    before = _versions(engine)
    with pytest.raises(MigrationError, match="data contract"):
        migrations.migrate(engine, 2)
    assert _versions(engine) == before


def test_newer_tier_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "u.db"
    with Engine("user", "sqlite", path) as db:
        migrations.migrate(db)
        db.run(
            "?[version, applied_at, description] <- [[99, 0, 'from the future']] "
            ":put schema_version {version => applied_at, description}"
        )
    size = path.stat().st_size
    with Engine("user", "sqlite", path) as db:
        with pytest.raises(SchemaTooNewError, match="99"):
            migrations.migrate(db)
        assert max(_versions(db)) == 99
    assert path.stat().st_size == size
    assert not list(tmp_path.glob("*.backup"))


def test_failed_step_leaves_the_previous_version(tmp_path, monkeypatch):
    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        migrations.migrate(db, 3)
        mod = migrations._BY_VERSION[4]
        monkeypatch.setattr(mod, "up", lambda db: [*mod.UP, ":create learning {id: String}"])
        with pytest.raises(MigrationError, match="stays at version 3"):
            migrations.migrate(db)
        assert _versions(db) == [1, 2, 3]
        assert "learning_edit" not in db.relations()


def test_foreign_database_is_refused(tmp_path):
    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        db.run(":create something_else {a: Int}")
        with pytest.raises(MigrationError, match="not a groove database"):
            migrations.migrate(db)


def test_version_7_gives_every_learning_a_usage_row(tmp_path, embedder):
    from groove_core.store.learnings import LearningStore

    with Engine("user", "sqlite", tmp_path / "u.db") as db:
        migrations.migrate(db, 6)
        store = LearningStore(db, embedder)
        used, bare = make_learning("Used", "u"), make_learning("Bare", "b")
        store.store_many([used, bare])
        store.record_outcome(used.id, "helpful")
        # a writer outside the contract left one learning without its usage row
        db.run("?[learning_id] <- [[$id]] :rm usage_stats {learning_id}", {"id": bare.id})
        report = migrations.migrate(db)
        assert report.applied[0] == 7 and report.backup is not None
        assert store.usage_many([bare.id])[bare.id].times_injected == 0
        assert [lr.id for lr in store.list(sort="usage").items] == [used.id, bare.id]
        assert store.usage(used.id).times_helpful == 1  # existing rows are untouched
        migrations.migrate(db, 6)
        assert bare.id in store.usage_many([bare.id])  # rolling back keeps valid rows


def test_version_10_drops_cozo_full_text_and_rolling_back_refills_it(store):
    """The derived index serves full-text search; a program that wants Cozo's own gets it
    back, filled from the rows, by rolling back to version 9."""
    db = store.db
    lr = make_learning("Prefer ruff", "Lint with ruff before committing")
    store.store(lr)
    assert "learning:text_idx" not in db.relations()
    later = list(range(migrations.LATEST, 9, -1))  # 10 and every version after it
    assert migrations.migrate(db, 9, backup=False).rolled_back == later
    found = db.run("?[id] := ~learning:text_idx{id | query: 'ruff', k: 5}", read_only=True)
    assert found.rows == [[lr.id]]
    assert migrations.migrate(db, backup=False).applied == later[::-1]
    assert "learning:text_idx" not in db.relations()
    assert store.get(lr.id).description == "Prefer ruff"


def test_migrating_an_existing_tier_reports_each_step_and_a_new_one_nothing(store):
    from groove_core.progress import Progress

    store.store(make_learning("Prefer ruff", "Lint with ruff"))
    seen: list[Progress] = []
    migrations.migrate(store.db, 8, progress=seen.append)
    migrations.migrate(store.db, progress=seen.append)
    stages = [(p.stage, p.done, p.total) for p in seen]
    tier = f"tier '{store.db.tier}'"
    latest = migrations.LATEST
    assert stages.count((f"backing up {tier} before migrating", 0, None)) == 2
    assert stages[-2] == (f"migrating {tier}", latest - 9, latest - 8)
    assert seen[-2].message.startswith(f"schema version {latest}: ")
    assert stages[-1] == (f"migrating {tier}", latest - 8, latest - 8)
    with Engine("new", "sqlite", store.db.path.with_name("new.db")) as db:
        fresh: list[Progress] = []
        migrations.migrate(db, progress=fresh.append)
        assert fresh == []


def test_a_step_that_only_adds_a_relation_needs_no_backup(store):
    """Up through version 11 only (it adds ``tier_info``): no backup, the learnings as
    they were; down (data is dropped) and up through 10 (it drops an index): a backup."""
    db = store.db
    lr = make_learning("Use tabs", "Indent with tabs")
    store.store(lr)
    down = migrations.migrate(db, 10)
    assert down.backup is not None
    up = migrations.migrate(db, 11)
    assert up.applied == [11] and up.backup is None
    assert store.get(lr.id).description == "Use tabs"
    assert migrations.migrate(db, 9).backup is not None
    assert migrations.migrate(db, 11).backup is not None  # 10 is not additive
    migrations.migrate(db)
