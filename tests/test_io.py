"""Export and import of GrooveExport JSON, and rule-file import into a tier: round trips
that reproduce every row, idempotence, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest
from conftest import HashingEmbedder, make_learning

from groove_core.errors import ImportFileError
from groove_core.io.export import export_file, import_file
from groove_core.io.importer import import_paths
from groove_core.model.learning import LearningSource
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.tiers import Groove

CONTRACT_RELATIONS = {
    "learning": "id, scope, category, description, pattern_json, insight, confidence, "
    "created_at, updated_at, source_type, source_json",
    "usage_stats": "learning_id, times_injected, times_helpful, times_ignored, "
    "times_contradicted, last_used, confidence_alpha, confidence_beta",
    "learning_relations": "from_id, relation_type, to_id, weight, created_at",
    "adaptive_params": "param_name, value, uncertainty, observations, prior_alpha, "
    "prior_beta, updated_at",
}
GROOVE_RELATIONS = {
    "learning_edit": "learning_id, edit_id, at, who, action, before_json, after_json",
    "outcome_event": "learning_id, event_id, at, outcome, session_id",
}


def rows(tier, relation: str) -> list[list]:
    cols = {**CONTRACT_RELATIONS, **GROOVE_RELATIONS}[relation]
    res = tier.db.run(f"?[{cols}] := *{relation}{{{cols}}}", read_only=True)
    return sorted(res.rows, key=json.dumps)


@pytest.fixture
def groove(tmp_path):
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        yield g


def fill(tier):
    ls = [
        make_learning("Use tabs", "Indent with tabs", scope="user:alex"),
        make_learning(
            "Retry on lock",
            "Back off",
            "error_recovery",
            scope="project:/work/app",
            source=LearningSource("transcript", {"session_id": "s1", "message_index": 5}),
        ),
        make_learning(
            "Käse — 日本語 'quotes' \"double\" $param {braces}",
            "?[x] := *learning{id: x} :rm learning {id}",
            "harness_knowledge",
            source=LearningSource.imported("/tmp/CLAUDE.md"),
        ),
    ]
    store = tier.learnings
    store.store_many(ls)
    store.record_outcome(ls[0].id, "helpful")
    store.record_outcome(ls[0].id, "contradicted")
    store.record_outcome(ls[1].id, "ignored")
    store.store_relation(LearningRelation(ls[0].id, RelationType.SUPERSEDES, ls[1].id, 0.75))
    store.store_relation(LearningRelation(ls[2].id, RelationType.RELATED_TO, ls[0].id))
    p = AdaptiveParam.with_prior(2.0, 3.0)
    p.update(1.0)
    tier.params.store_param(SystemParam("injection_threshold", p))
    return ls


def test_export_then_import_into_an_empty_tier_reproduces_every_row(groove, tmp_path):
    source = groove.user
    ls = fill(source)
    path = tmp_path / "export.json"
    counts = export_file(source, path)
    assert counts == {
        "learnings": 3,
        "params": 1,
        "relations": 2,
        "history": 3,
        "outcome_events": 3,
    }

    target = groove.tier("enterprise:copy")
    stats = import_file(target, path)
    assert (stats.learnings_imported, stats.learnings_skipped) == (3, 0)
    assert (stats.relations_imported, stats.params_imported) == (2, 1)
    assert (stats.history_imported, stats.outcome_events_imported) == (3, 3)
    for relation in CONTRACT_RELATIONS:
        assert rows(target, relation) == rows(source, relation), relation
    # history and outcome events came along; the import added one entry per learning
    assert rows(target, "outcome_event") == rows(source, "outcome_event")
    copied = rows(target, "learning_edit")
    assert [r for r in copied if r[4] != "imported"] == rows(source, "learning_edit")
    assert sorted(r[0] for r in copied if r[4] == "imported") == sorted(lr.id for lr in ls)
    # embeddings were computed for the imported learnings, so search finds them
    assert target.learnings.count_unembedded() == 0
    hits = target.search.search("tabs", mode="hybrid", limit=1)
    assert hits[0].learning.id == ls[0].id

    again = import_file(target, path)
    assert (again.learnings_imported, again.learnings_skipped) == (0, 3)
    assert target.learnings.count() == 3


def test_the_export_file_is_serde_json(groove, tmp_path):
    ls = fill(groove.user)
    path = tmp_path / "export.json"
    export_file(groove.user, path)
    doc = json.loads(path.read_text())
    assert doc["version"] == 1 and doc["exported_at"].endswith("Z")
    by_id = {item["id"]: item for item in doc["learnings"]}
    first = by_id[ls[0].id]
    assert first["scope"] == {"User": "alex"}
    assert first["category"] == "Preference"
    assert first["source"] == "UserCreated"
    assert first["content"] == {"description": "Use tabs", "insight": "Indent with tabs"}
    assert first["usage_stats"]["times_helpful"] == 1
    assert first["usage_stats"]["confidence_beta"] == pytest.approx(2.5)
    assert by_id[ls[1].id]["source"] == {"Transcript": {"session_id": "s1", "message_index": 5}}
    assert by_id[ls[1].id]["scope"] == {"Project": "/work/app"}
    assert {r["relation_type"] for r in doc["relations"]} == {"Supersedes", "RelatedTo"}
    assert doc["params"][0]["name"] == "injection_threshold"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 2, "learnings": []}', "version 2 is not supported"),
        ('{"version": 1}', "no 'learnings' list"),
        (
            '{"version": 1, "learnings": [{"id": "x"}]}',
            r"learnings\[0\] \(id x\): learning: missing field 'scope'",
        ),
        ('{"version": 1, "learnings": [], "relations": {}}', "'relations' must be a list"),
    ],
)
def test_a_bad_export_is_refused_and_changes_nothing(groove, tmp_path, content, message):
    fill(groove.user)
    before = {r: rows(groove.user, r) for r in CONTRACT_RELATIONS}
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message) as info:
        import_paths(groove.user, [path])
    assert str(path) in str(info.value)
    assert {r: rows(groove.user, r) for r in CONTRACT_RELATIONS} == before


def test_an_export_with_one_bad_learning_writes_none_of_them(groove, tmp_path):
    ls = fill(groove.user)
    path = tmp_path / "export.json"
    export_file(groove.user, path)
    doc = json.loads(path.read_text())
    doc["learnings"][-1]["category"] = "Astrology"
    path.write_text(json.dumps(doc))
    target = groove.tier("enterprise:copy")
    with pytest.raises(ImportFileError, match="learnings\\[2\\]"):
        import_file(target, path)
    assert target.learnings.count() == 0
    assert len(ls) == 3


RULES = """---
description: House rules
globs: **/*.py
alwaysApply: true
---
# Style

- Prefer composition over inheritance in service classes.
- Never commit secrets; load them from the environment instead.

## Tools

Run the linter with `ruff check .` before every commit.
"""


def test_rule_import_is_idempotent_and_keeps_the_heading(groove, tmp_path):
    project = tmp_path / "project"
    (project / ".cursor" / "rules").mkdir(parents=True)
    (project / ".cursor" / "rules" / "house.mdc").write_text(RULES)
    (project / "AGENTS.md").write_text(
        "# Agents\n\n- Écrivez les messages de commit en français, au présent.\n"
        "- コミットする前にテストを実行してください。\n"
    )
    report = import_paths(groove.user, [project])
    assert report.learnings_added == 5
    assert len(report.files) == 2
    found = {lr.description: lr for lr in groove.user.learnings.iter_all()}
    linter = next(lr for d, lr in found.items() if d.startswith("Run the linter"))
    assert linter.source.kind == "imported"
    assert linter.content.pattern["heading"].endswith("Tools")
    assert any("コミット" in d for d in found)

    again = import_paths(groove.user, [project])
    assert (again.learnings_added, again.learnings_skipped) == (0, 5)
    assert groove.user.learnings.count() == 5


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b"- fine rule number one here\n- bad \x00 byte in this rule\n", ":2", "NUL"),
        (b"- fine rule number one here\n- caf\xe9 latin-1 rule here\n", ":2", "UTF-8"),
        (b"---\ndescription: [unclosed\n---\n- a rule that is long enough\n", ":", "YAML"),
        (b"---\na: &x [1]\nb: *x\n---\n- a rule that is long enough\n", ":3", "alias"),
        (b"---\ndescription: never closed\n- a rule that is long enough\n", ":1", "never"),
    ],
)
def test_a_hostile_rule_file_names_file_and_line_and_nothing_is_written(
    groove, tmp_path, data, where, reason
):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "good.mdc").write_text("- A perfectly good rule about testing code.\n")
    bad = folder / "bad.mdc"
    bad.write_bytes(data)
    with pytest.raises(ImportFileError) as info:
        import_paths(groove.user, [folder])
    message = str(info.value)
    assert message.startswith(f"{bad}{where}"), message
    assert reason.lower() in message.lower()
    assert groove.user.learnings.count() == 0

    report = import_paths(groove.user, [folder], skip_bad=True)
    assert report.learnings_added == 1
    assert [e.split(":")[0] for e in report.errors] == [str(bad)]


def test_a_missing_path_is_a_clear_error(groove, tmp_path):
    with pytest.raises(ImportFileError, match="does not exist|no such"):
        import_paths(groove.user, [tmp_path / "nowhere"])


def test_learnings_without_embeddings_are_found_after_reembed(groove):
    store = groove.user.learnings
    lr = make_learning("Cache docker layers", "Order the Dockerfile")
    store.store(lr)
    store.db.run("?[learning_id] <- [[$id]] :rm learning_embeddings {learning_id}", {"id": lr.id})
    assert store.count_unembedded() == 1
    assert groove.user.search.search("docker layers", mode="semantic") == []
    assert store.reembed() == 1
    assert store.count_unembedded() == 0
    assert groove.user.search.search("docker layers", mode="semantic")[0].learning.id == lr.id


def test_export_never_replaces_what_it_should_not(groove, tmp_path):
    """An existing file only with ``overwrite``; a symlink or a device never; a missing
    folder is named. Refusals write nothing."""
    from groove_core.errors import ValidationError

    kept = tmp_path / "kept.json"
    kept.write_text("mine")
    with pytest.raises(ValidationError, match="exists already"):
        export_file(groove.user, kept)
    assert kept.read_text() == "mine"
    link = tmp_path / "link.json"
    link.symlink_to(kept)
    with pytest.raises(ValidationError, match="link or a special file"):
        export_file(groove.user, link, overwrite=True)
    assert link.is_symlink() and kept.read_text() == "mine"
    with pytest.raises(ValidationError, match="does not exist"):
        export_file(groove.user, tmp_path / "nope" / "x.json")
    assert not list(tmp_path.glob("**/*.tmp"))
    export_file(groove.user, kept, overwrite=True)
    assert json.loads(kept.read_text())["version"]
