"""Tiers written by another program that follows the data contract (DESIGN.md): the
upstream CozoDB engine writes seed 001's schema and rows as vibes-groove does; groove
opens the tier through config.toml, migrates it (after a backup), reads every row as
typed data, embeds what has no embedding, and the other program can still write to it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder, make_learning

from groove_core.model.scope import Scope
from groove_core.store import migrations
from groove_core.store.engine import Engine
from groove_core.store.rows import LEARNING_COLS, LEARNING_KEYED, USAGE_COLS, USAGE_KEYED
from groove_core.tiers import Groove

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_001 = next(iter(sorted(SEEDS.glob("001_*.txt"))), None)
WRITER = Path(__file__).with_name("vibes_writer.py")
pytestmark = pytest.mark.skipif(SEED_001 is None, reason="seed 001 not available")

IDS = [f"0193a0b0-0000-7000-8000-00000000000{i}" for i in range(1, 7)]
T0 = 1_762_000_000


def _learning(i, scope, category, description, source_type, source, pattern=None):
    return [
        IDS[i],
        scope,
        category,
        description,
        None if pattern is None else json.dumps(pattern),
        f"insight of {description}",
        0.5,
        T0 + i,
        T0 + 10 * i,
        source_type,
        json.dumps(source),
    ]


def _usage(i, injected=0, helpful=0, ignored=0, contradicted=0, last=None, a=1.0, b=1.0):
    return [IDS[i], injected, helpful, ignored, contradicted, last, a, b]


ROWS = {
    "learning": [
        _learning(
            0, "user:alex", "preference", "Use tabs for indentation", "user_created", "UserCreated"
        ),
        _learning(
            1,
            "project:/home/alex/app",
            "error_recovery",
            "Retry on a locked database",
            "transcript",
            {"Transcript": {"session_id": "s-42", "message_index": 7}},
            {"trigger": "database is locked"},
        ),
        _learning(
            2,
            "global",
            "harness_knowledge",
            "Quote 'single' and \"double\" — 日本語",
            "imported",
            {
                "Imported": {
                    "source_file": "/home/alex/CLAUDE.md",
                    "imported_at": "2026-11-01T10:00:00Z",
                }
            },
        ),
        _learning(
            3,
            "global",
            "preference",
            "Indent with tabs everywhere",
            "promoted",
            {"Promoted": {"from_scope": {"User": "alex"}, "original_id": IDS[0]}},
        ),
        _learning(
            4,
            "global",
            "tool_usage",
            "Run cargo clippy before pushing",
            "enterprise_curated",
            {"EnterpriseCurated": {"curator": "dana"}},
        ),
    ],
    "usage_stats": [
        _usage(0, 3, 2, 1, 0, T0 + 100, 3.0, 1.1),
        *[_usage(i) for i in range(1, 5)],
    ],
    "learning_embeddings": [
        [IDS[i], (v / np.linalg.norm(v)).tolist()]
        for i, v in enumerate(np.random.default_rng(1).standard_normal((2, 384)))
    ],
    "learning_relations": [
        [IDS[3], "derived_from", IDS[0], 1.0, T0],
        [IDS[1], "related_to", IDS[2], 0.5, T0],
    ],
    "adaptive_params": [["injection_threshold", 0.6, 0.1, 12, 2.0, 2.0, T0]],
}


def vibes(*args):
    """Run the vibes-groove writer (upstream cozo) in its own process."""
    done = subprocess.run(
        [sys.executable, str(WRITER), *map(str, args)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("engine", ["rocksdb", "sqlite"])
def test_groove_opens_migrates_and_shares_a_tier_written_by_vibes_groove(tmp_path, engine):
    db_path = tmp_path / ("vibes.rocksdb" if engine == "rocksdb" else "vibes.db")
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(ROWS))
    vibes("create", engine, db_path, SEED_001, rows_file)

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(f'[tiers.user]\nengine = "{engine}"\npath = "{db_path}"\n')
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        tier = g.user
        report = tier.migration
        assert (report.from_version, report.to_version) == (1, migrations.LATEST)
        assert report.backup is not None and report.backup.exists()
        store = tier.learnings
        assert store.count() == 5
        tabs = store.require(IDS[0])
        assert tabs.scope == Scope("user", "alex") and tabs.category.value == "preference"
        assert tabs.source.kind == "user_created"
        retry = store.require(IDS[1])
        assert retry.source.to_json() == {"Transcript": {"session_id": "s-42", "message_index": 7}}
        assert retry.content.pattern == {"trigger": "database is locked"}
        assert store.require(IDS[2]).description == ROWS["learning"][2][3]
        assert store.require(IDS[3]).source.to_json()["Promoted"]["original_id"] == IDS[0]
        usage = store.usage(IDS[0])
        assert (usage.times_injected, usage.times_helpful, usage.confidence_beta) == (3, 2, 1.1)
        assert [lr.id for lr in store.find_related(IDS[0])] == [IDS[3]]
        assert [lr.id for lr in store.find_related(IDS[2], "related_to")] == [IDS[1]]
        assert tier.params.get_param("injection_threshold").param.observations == 12
        assert [lr.id for lr in store.find_by_scope("global")] == IDS[2:5]

        # vibes-groove's store() writes no embedding: groove says so and fills them in
        assert store.count_unembedded() == 3
        assert tier.search.count_unembedded() == 3  # the dashboard's, from derived indexes
        assert store.reembed() == 3 and store.count_unembedded() == 0
        assert tier.search.count_unembedded() == 0
        assert [h.learning.id for h in tier.search.search("cargo clippy", mode="fulltext")] == [
            IDS[4]
        ]
        store.record_outcome(IDS[4], "helpful")

    # the backup is the tier as it was: version 1, every learning
    with Engine("backup", "sqlite", report.backup) as backup:
        assert migrations.current_version(backup) == 1
        assert backup.run("?[count(id)] := *learning{id}").scalar() == 5

    # vibes-groove keeps writing to the migrated tier, and groove sees it
    new_rows = tmp_path / "more.json"
    new_rows.write_text(
        json.dumps(
            {
                "learning": [
                    _learning(
                        5,
                        "global",
                        "solution",
                        "Pin torch to the CPU build",
                        "user_created",
                        "UserCreated",
                    )
                ],
                "usage_stats": [_usage(5)],
            }
        )
    )
    vibes("append", engine, db_path, new_rows)
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        store = g.user.learnings
        assert store.count() == 6 and store.count_unembedded() == 1
        assert g.user.search.count_unembedded() == 1
        assert store.usage(IDS[4]).times_helpful == 1
        hits = g.user.search.search("torch CPU build", mode="fulltext")
        assert [h.learning.id for h in hits] == [IDS[5]]


def test_rows_that_break_the_contract_are_left_out_and_named(tmp_path, monkeypatch):
    """Another program adds two learnings groove cannot read (a category from a newer
    version, a source that is not JSON): every listing and search still shows the good
    rows, names the two with what is wrong, a read of one by id says why, and the
    names go once the other program mends or deletes them. The CLI warns on stderr."""
    from typer.testing import CliRunner

    import groove_core.tiers
    from groove_core.cli import app
    from groove_core.errors import DataContractError
    from groove_core.store.modes import MODES

    home = tmp_path / "home"
    good = [
        make_learning(f"Indent rule {i} uses tabs", f"tabs everywhere, case {i}") for i in range(4)
    ]
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(good)
        path = g.user.db.path
    newer = _learning(
        0, "global", "test_pattern", "Tabs rule from the future", "user_created", "UserCreated"
    )
    broken = _learning(
        1, "global", "preference", "Tabs rule with a broken source", "user_created", "UserCreated"
    )
    broken[-1] = "{not json"
    with Engine("user", "sqlite", str(path)) as other:
        other.run(
            f"?[{', '.join(LEARNING_COLS)}] <- $rows :put learning {{{LEARNING_KEYED}}}",
            {"rows": [newer, broken]},
        )
        other.run(
            f"?[{', '.join(USAGE_COLS)}] <- $rows :put usage_stats {{{USAGE_KEYED}}}",
            {"rows": [_usage(0), _usage(1)]},
        )
    good_ids = {lr.id for lr in good}

    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        page = g.list(["user"])
        assert page.total == 6 and {lr.id for lr in page.items} == good_ids
        assert {lr.id for lr in g.page(["user"], derived=True)} == good_ids
        for mode in MODES:
            hits = g.search("tabs rule", mode=mode, limit=10, tiers=["user"])
            assert {h.learning.id for h in hits} == good_ids, mode
        found = g.unreadable()
        assert list(found) == ["user"] and list(found["user"]) == [IDS[0], IDS[1]]
        assert "unknown category 'test_pattern'" in found["user"][IDS[0]]
        with pytest.raises(DataContractError, match="test_pattern") as refused:
            g.user.learnings.require(IDS[0])
        assert refused.value.key == IDS[0] and refused.value.tier == "user"
        assert g.get(good[0].id) == good[0]  # a good row by id, as before

        # the other program mends the first in place and deletes the second
        with Engine("user-2", "sqlite", str(path)) as other:
            other.run(
                "?[id, category] <- [[$id, 'preference']] :update learning {id => category}",
                {"id": IDS[0]},
            )
            other.run("?[id] <- [[$id]] :rm learning {id}", {"id": IDS[1]})
        assert g.unreadable() == {}
        assert g.user.learnings.require(IDS[0]).category.value == "preference"

    # the CLI lists the good rows and names the bad one on stderr, exit status 0
    with Engine("user", "sqlite", str(path)) as other:
        other.run(
            "?[id, source_json] <- [[$id, '{']] :update learning {id => source_json}",
            {"id": IDS[0]},
        )
    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    monkeypatch.setenv("GROOVE_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    listed = CliRunner().invoke(app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["id"] for r in json.loads(listed.stdout)} == good_ids
    assert "1 learning of tier 'user' was left out" in listed.stderr
    assert f"{IDS[0]}: " in listed.stderr and "Traceback" not in listed.output
    shown = CliRunner().invoke(app, ["show", IDS[0]])
    assert shown.exit_code == 1 and "does not follow the data contract" in shown.stderr
    # its owner deletes it (no undo: the row is kept in the edit history)
    deleted = CliRunner().invoke(app, ["delete", IDS[0]], input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert (
        f"Delete learning {IDS[0]} (" in deleted.stderr and "cannot be restored" in deleted.stdout
    )
    listed = CliRunner().invoke(app, ["list", "--json"])
    assert len(json.loads(listed.stdout)) == 4 and "left out" not in listed.stderr
    restored = CliRunner().invoke(app, ["restore", IDS[0]])
    assert restored.exit_code == 1 and "cannot restore it" in restored.stderr
