"""The home, its config.toml, and the three tiers: the user tier opened eagerly, project
and enterprise tiers on first use, reads across tiers that name their tier, promotion."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from test_access import dump

from groove_core.config import Config, home_dir
from groove_core.errors import (
    ConfigError,
    ContentBlockedError,
    GrooveError,
    NotFoundError,
    ReadOnlyTierError,
    TierUnavailableError,
    ValidationError,
)
from groove_core.model.access import Principal
from groove_core.model.scope import Scope
from groove_core.tiers import Groove


def test_home_is_argument_then_env_then_platform_data_dir(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("GROOVE_HOME", raising=False)
    assert home_dir() == platformdirs.user_data_path("groove").resolve()
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "env"))
    assert home_dir() == (tmp_path / "env").resolve()
    assert home_dir(tmp_path / "arg") == (tmp_path / "arg").resolve()


def test_a_new_home_gets_a_config_and_a_user_tier(tmp_path):
    with Groove(tmp_path / "h", embedder=HashingEmbedder(), project=tmp_path) as g:
        assert [t.name for t in g.open_tiers()] == ["user"]  # only the user tier, eagerly
        assert g.user.db.kind == "sqlite"
        assert g.user.db.path == (tmp_path / "h" / "user.db").resolve()
    text = (tmp_path / "h" / "config.toml").read_text()
    assert "[tiers.user]" in text and 'engine = "sqlite"' in text


def test_a_tier_holding_only_open_world_data_is_listed_by_the_next_process(tmp_path):
    from groove_core.simulate.openworld import simulate_openworld

    home = tmp_path / "h"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        simulate_openworld(g.tier("simulation:ow"), seed=1, n_contexts=40)
        g.tier("simulation:empty")  # opened, nothing written: stays out
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        names = [t.name for t in g.available(synthetic=True)[0]]
        assert names == ["user", "simulation:ow"]
        assert g.tier("simulation:ow").openworld.count_fingerprints() == 40


def test_config_points_a_tier_at_any_database(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    elsewhere = tmp_path / "written-by-another-program.db"
    (home / "config.toml").write_text(
        f'[tiers.user]\nengine = "mem"\n\n[tiers."enterprise:acme"]\nengine = "sqlite"\n'
        f'path = "{elsewhere}"\n'
    )
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        assert g.user.db.kind == "mem"
        acme = g.tier("enterprise:acme")
        acme.learnings.store(make_learning("Curated rule", "From the org"))
        assert acme.db.path == elsewhere
    assert elsewhere.exists()
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        assert g.user.learnings.count() == 0  # mem keeps nothing
        assert g.tier("enterprise:acme").learnings.count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tiers.user\nengine = 1", "not valid TOML"),
        ('[tiers.user]\nengine = "postgres"', "unknown engine 'postgres'"),
        ('[tiers."team:x"]\nengine = "sqlite"', "invalid tier name"),
        ('[tiers.user]\nengine = "http"', "needs host"),
        ('[tiers.user]\nengine = "sqlite"\npaht = "x.db"', "unknown keys paht"),
        ("tiers = 3", "must be a table"),
    ],
)
def test_a_malformed_config_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        Config(tmp_path)
    assert str(tmp_path / "config.toml") in str(info.value)


def test_project_and_enterprise_tiers_open_on_first_use_and_are_remembered_with_data(tmp_path):
    home = tmp_path / "h"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path / "app") as g:
        assert len(g.open_tiers()) == 1
        project = g.tier("project")
        assert project.name == f"project:{(tmp_path / 'app').resolve()}"
        assert project.default_scope() == Scope("project", str((tmp_path / "app").resolve()))
        g.tier("enterprise:acme")
        assert [t.kind for t in g.open_tiers()] == ["project", "user", "enterprise"]
        project.learnings.store(make_learning("Project rule", "p"))
    config = Config(home.resolve())
    # the project tier got data and is remembered; the enterprise tier stayed empty
    assert set(config.known_tiers()) == {"user", project.name}
    assert config.path.read_text().startswith("# groove configuration")  # comments kept


def test_reads_span_tiers_and_name_their_tier(tmp_path):
    with Groove(tmp_path / "h", embedder=HashingEmbedder(), project=tmp_path) as g:
        u = make_learning("User rule", "u")
        p = make_learning("Project rule", "p")
        e = make_learning("Enterprise rule", "e")
        g.user.learnings.store(u)
        g.tier("project").learnings.store(p)
        g.tier("enterprise:acme").learnings.store(e)
        page = g.list(sort="created", limit=10)
        assert page.total == 3
        assert {lr.description: lr.tier for lr in page.items} == {
            "User rule": "user",
            "Project rule": f"project:{tmp_path.resolve()}",
            "Enterprise rule": "enterprise:acme",
        }
        assert g.get(e.id).tier == "enterprise:acme"
        assert g.count(tiers=["user"]) == 1
        second = g.list(sort="created", limit=2, offset=1)
        assert [lr.id for lr in second.items] == [lr.id for lr in page.items[1:3]]


def test_promotion_copies_with_a_promoted_source(tmp_path):
    alex = Principal("alex@example.com", "Alex", "config")
    project = f"project:{tmp_path / 'repo'}"
    with Groove(tmp_path / "h", embedder=HashingEmbedder(), project=tmp_path, principal=alex) as g:
        original = make_learning("Use ruff", "Lint with ruff", "tool_usage", scope="user:alex")
        g.user.learnings.store(original)
        (copy,) = g.promote(original.id, project).learnings
        assert copy.id != original.id and copy.tier == project
        stored = g.tier(project).learnings.require(copy.id)
        assert stored.source.to_json() == {
            "Promoted": {"from_scope": {"User": "alex"}, "original_id": original.id}
        }
        assert stored.scope.to_db() == project
        assert stored.content == original.content
        assert g.user.learnings.get(original.id) is not None  # a copy, not a move
        history = g.tier(project).learnings.history(copy.id)
        assert [(h.action, h.who) for h in history] == [("promoted", "alex@example.com")]
        with pytest.raises(GrooveError, match="already in tier"):
            g.promote(copy.id, project)
        before = g.tier(project).learnings.count()
        with pytest.raises(GrooveError, match=f"promoted to tier '{project}' before, as "):
            g.promote(original.id, project)  # a second copy of the same learning
        assert g.tier(project).learnings.count() == before
        with pytest.raises(NotFoundError):
            g.promote("01900000-0000-7000-8000-000000000000", project)


def test_a_tier_that_cannot_open_is_reported_and_the_others_work(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text(
        '[tiers.user]\nengine = "sqlite"\npath = "user.db"\n\n'
        '[tiers."enterprise:down"]\nengine = "http"\nhost = "http://127.0.0.1:9"\n'
    )
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        tiers, problems = g.available()
        assert [t.name for t in tiers] == ["user"]
        assert [p.name for p in problems] == ["enterprise:down"]
        assert "127.0.0.1:9" in problems[0].reason
        with pytest.raises(TierUnavailableError):
            g.tier("enterprise:down")


def test_reading_a_tier_that_does_not_exist_creates_nothing(tmp_path):
    home = tmp_path / "h"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        with pytest.raises(TierUnavailableError, match="does not exist yet"):
            g.list(["enterprise:typo"])
        with pytest.raises(TierUnavailableError, match="does not exist yet"):
            g.search("x", tiers=["project:/nowhere"])
        assert "enterprise:typo" not in Config(home.resolve()).known_tiers()
        assert not (home / "enterprise").exists()
        g.tier("enterprise:acme").learnings.store(make_learning("Curated", "rule"))
        assert g.list(["enterprise:acme"]).total == 1  # a write creates it, reads find it


def test_a_tier_whose_every_write_was_refused_leaves_no_file(tmp_path):
    """Refused changes nothing, creating the tier included: an enterprise tier whose first
    write a scan refused is gone when groove closes (its would-be creator is nobody's
    admin), and the next person to write creates it. A tier that a write reached stays,
    even when that write was undone."""
    home = tmp_path / "h"
    ada, bob = Principal("ada@example.com", "Ada"), Principal("bob@example.com", "Bob")
    key = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # AWS's documented example key
    backup = Config(home).default_path("enterprise:beta")  # an older file named after it
    backup = backup.with_name(backup.name + ".v10-20260101T000000.backup")
    backup.parent.mkdir(parents=True)
    backup.write_bytes(b"a backup")
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path, principal=ada) as g:
        with pytest.raises(ContentBlockedError):
            g.tier("enterprise:acme").learnings.store(make_learning("Deploy", f"key {key}"))
        with pytest.raises(ContentBlockedError):
            g.tier("enterprise:beta").learnings.store(make_learning("Deploy", f"key {key}"))
        with pytest.raises(ValidationError):
            g.tier("project:/p").learnings.store(make_learning("Bell\x07", "rule"))
        kept = g.tier("project:/kept")
        lr = make_learning("Written then deleted", "rule")
        kept.learnings.store(lr)
        kept.learnings.delete(lr.id)
    assert [p.name for p in (home / "enterprise").iterdir()] == [backup.name]
    assert [p.name.split("-")[0] for p in (home / "projects").glob("*.db")] == ["kept"]
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path, principal=bob) as g:
        t = g.tier("enterprise:acme")
        t.learnings.store(make_learning("Deploy", "with the pipeline's role"))
        assert [(x.principal, x.role.name) for x in t.access.grants()] == [(bob.id, "admin")]


def test_cross_tier_facets_deletes_recategorisation_and_restore(tmp_path):
    project = f"project:{tmp_path / 'repo'}"
    with Groove(tmp_path / "h", embedder=HashingEmbedder(), project=tmp_path) as g:
        mine = [make_learning(f"user rule {i}", "u", "preference") for i in range(3)]
        theirs = [make_learning(f"project rule {i}", "p", "tool_usage") for i in range(2)]
        g.user.learnings.store_many(mine)
        g.tier(project).learnings.store_many(theirs)
        facets = g.facets()
        assert facets["category"] == {"preference": 3, "tool_usage": 2}
        assert g.facets_by_tier()["user"]["category"] == {"preference": 3}
        picked = [mine[0].id, theirs[1].id, "01900000-0000-7000-8000-000000000000"]
        assert g.by_tier(picked) == {project: [theirs[1].id], "user": [mine[0].id]}
        subs = g.recategorize_many(picked, "solution")
        assert sorted(s.count for s in subs) == [1, 1]
        assert g.facets()["category"] == {"preference": 2, "tool_usage": 1, "solution": 2}
        gone = g.delete_many(picked)
        deleted = {s.tier: [lr.id for lr in s.learnings] for s in gone}
        assert deleted == {project: [theirs[1].id], "user": [mine[0].id]}
        assert g.count() == 3
        assert g.restore_many(deleted) == (2, [])
        assert g.count() == 5
        assert g.get(mine[0].id).category.value == "solution"  # restored as it was deleted


# ---------------------------------------------------------------- read-only tiers
ORG = "enterprise:acme"


@contextlib.contextmanager
def unwritable(*paths: Path):
    """``paths`` made unwritable for this process for the block: read-only modes, or for
    root (whom modes do not stop) ``chattr +i``; skipped where root cannot use chattr."""
    done: list[tuple[Path, int]] = []
    try:
        for p in paths:
            if os.geteuid() != 0:
                done.append((p, p.stat().st_mode))
                p.chmod(0o555 if p.is_dir() else 0o444)
                continue
            made = subprocess.run(["chattr", "+i", str(p)], capture_output=True, text=True)
            if made.returncode:
                pytest.skip(f"chattr +i is not available here: {made.stderr.strip()}")
            done.append((p, -1))
        yield
    finally:
        for p, mode in done:
            if mode < 0:
                subprocess.run(["chattr", "-i", str(p)], check=True)
            else:
                p.chmod(mode)


@pytest.fixture
def shared(tmp_path):
    """An enterprise tier with one learning, its admin, and its database file."""
    ada = Principal("ada@example.com", "Ada", "config")
    with Groove(
        tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path, principal=ada
    ) as g:
        g.create(ORG, make_learning("Pin torch to the CPU build", "torch==2.13.0", scope=ORG))
        path = g.tier(ORG).db.path
    return tmp_path / "home", ada, path


def test_a_tier_whose_file_is_read_only_is_listed_and_searched_and_refuses_writes(tmp_path, shared):
    """A developer whose copy of the enterprise tier is read-only: lists and searches it
    (a search's query embedding is not cached there), and a write is refused, naming the
    tier, with nothing written."""
    home, ada, path = shared
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path, principal=ada) as g:
        before = dump(g.tier(ORG).db)
    with unwritable(path), Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        (lr,) = g.list([ORG]).items
        for mode in ("semantic", "fulltext", "hybrid"):
            assert [h.learning.id for h in g.search("torch CPU", mode=mode)] == [lr.id]
        with pytest.raises(ReadOnlyTierError, match=f"tier '{ORG}' is read-only"):
            g.tier(ORG).learnings.update(lr.id, insight="torch 2.14", actor=ada)
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        assert dump(g.tier(ORG).db) == before


def test_a_tier_in_a_read_only_folder_is_named_unavailable_with_the_reason(tmp_path, shared):
    home, _, path = shared
    with unwritable(path.parent), Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        _, problems = g.available()
        (problem,) = [p for p in problems if p.name == ORG]
        assert "is not writable here" in problem.reason and "must be writable" in problem.reason
        assert str(path.parent) in problem.reason and "unwrap" not in problem.reason
