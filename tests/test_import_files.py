"""Imports of ``groove export`` files: every malformed value is a clear error naming the
file and record and nothing is written; values that cannot be stored exactly are refused,
not clamped; duplicate and conflicting ids are reported and settled by ``on_conflict``;
history and outcome events survive a round trip; a failed import leaves ``config.toml``
as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from typer.testing import CliRunner

from groove_core.cli import app
from groove_core.errors import ImportFileError
from groove_core.io.export import export_file, import_file
from groove_core.io.importer import import_paths
from groove_core.model.serde import new_id
from groove_core.tiers import Groove

RELATIONS = {
    "learning": "id, scope, category, description, insight, confidence, source_json",
    "usage_stats": "learning_id, times_injected, confidence_alpha, confidence_beta",
    "learning_relations": "from_id, relation_type, to_id, weight",
    "adaptive_params": "param_name, value, observations",
    "learning_edit": "learning_id, edit_id, at, who, action",
    "outcome_event": "learning_id, event_id, at, outcome, session_id",
    "learning_embeddings": "learning_id",
}


def snapshot(tier) -> dict:
    out = {}
    for rel, cols in RELATIONS.items():
        res = tier.db.run(f"?[{cols}] := *{rel}{{{cols}}}", read_only=True)
        out[rel] = sorted(res.rows, key=json.dumps)
    return out


@pytest.fixture
def groove(tmp_path):
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        yield g


@pytest.fixture
def exported(groove, tmp_path):
    """An export of a tier with two learnings, a relation, a parameter, history and
    outcome events (the tier is then emptied of nothing: it is another tier)."""
    from groove_core.model.params import SystemParam
    from groove_core.model.relations import LearningRelation

    source = groove.tier("enterprise:source")
    a, b = make_learning("Use tabs", "Indent with tabs"), make_learning("Run tests", "Use -x")
    source.learnings.store_many([a, b])
    source.learnings.update(a.id, description="Use tabs everywhere")
    source.learnings.record_outcome(a.id, "helpful", session_id="s1")
    source.learnings.record_outcome(b.id, "ignored")
    source.learnings.store_relation(LearningRelation(a.id, "related_to", b.id))
    source.params.store_param(SystemParam("injection_threshold"))
    path = tmp_path / "export.json"
    export_file(source, path)
    return path, json.loads(path.read_text())


def _write(tmp_path, doc, name="bad.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _mutate(doc, where, value):
    doc = json.loads(json.dumps(doc))
    target = doc
    *path, last = where
    for key in path:
        target = target[key]
    target[last] = value
    return doc


L0 = ("learnings", 0)
BIG_NUMBERS = [
    (
        (*L0, "usage_stats", "times_injected"),
        10**30,
        f"times_injected is {10**30}, outside the range",
    ),
    ((*L0, "usage_stats", "times_helpful"), 2**32, "outside the range"),
    ((*L0, "usage_stats", "times_ignored"), -1, "outside the range"),
    ((*L0, "confidence"), 10**400, "cannot hold exactly"),
    ((*L0, "usage_stats", "confidence_alpha"), 2**53 + 1, "cannot hold exactly"),
    (("params", 0, "param", "observations"), 2**63, "outside the range"),
    ((*L0, "source"), {"Transcript": {"session_id": "s", "message_index": 2**64}}, "range"),
    ((*L0, "source"), {"Transcript": {"session_id": "s", "message_index": -1}}, "range"),
]
MALFORMED = [
    ((*L0, "created_at"), "0001-01-01T00:00:00+01:00", "outside the years 1 to 9999"),
    ((*L0, "updated_at"), "9999-12-31T23:59:59-01:00", "outside the years 1 to 9999"),
    ((*L0, "created_at"), "2024-13-01T00:00:00Z", "not RFC 3339"),
    ((*L0, "created_at"), "2024-01-01T00:00:00", "no UTC offset"),
    ((*L0, "source"), {"Imported": "abc"}, "needs an object of fields"),
    ((*L0, "source"), {"Imported": {"source_file": "x", "imported_at": "soon"}}, "RFC 3339"),
    ((*L0, "source"), {"UserCreated": {"x": 1}}, "takes no fields"),
    ((*L0, "source"), {"Promoted": {"from_scope": "Mars", "original_id": "x"}}, "scope"),
    ((*L0, "source"), {"Martian": {}}, "unknown learning source"),
    ((*L0, "scope"), {"User": 5}, "invalid scope"),
    ((*L0, "category"), "Astrology", "unknown category"),
    ((*L0, "id"), "not-a-uuid", "not a UUID"),
    ((*L0, "content", "description"), "\ud800", "not valid Unicode"),
    ((*L0, "content", "description"), "x" * 100_001, "the limit is 100,000"),
    ((*L0, "content", "pattern"), {"n": float("nan")}, "finite"),
    ((*L0, "confidence"), 1.5, "in [0, 1]"),
    ((*L0, "usage_stats", "confidence_beta"), 0, "must be positive"),
    ((*L0,), 5, "must be an object"),
    (("relations", 0, "weight"), "heavy", "must be a number"),
    (("relations", 0, "relation_type"), "Loves", "unknown relation type"),
    (("history", 0, "before"), 5, "must be an object or null"),
    (("history", 0, "at"), "yesterday", "not RFC 3339"),
    (("outcome_events", 0, "outcome"), "delighted", "unknown outcome"),
    (("outcome_events", 0, "learning_id"), 7, "wrong type"),
    (("version",), True, "'version' must be the number 1, not the bool True"),
    (("version",), "1", "'version' must be the number 1, not the str '1'"),
    (("version",), 2, "version 2 is not supported"),
    (("learnings",), {}, "no 'learnings' list"),
    (("history",), "all of it", "'history' must be a list"),
]


@pytest.mark.parametrize(("where", "value", "message"), BIG_NUMBERS + MALFORMED)
def test_a_malformed_value_is_named_and_nothing_is_written(
    groove, tmp_path, exported, where, value, message
):
    _, doc = exported
    target = groove.tier("enterprise:target")
    target.learnings.store(make_learning("Already here", "x"))
    before = snapshot(target)
    path = _write(tmp_path, _mutate(doc, where, value))
    with pytest.raises(ImportFileError) as err:
        import_paths(target, [path])
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text, text[:400]
    if where[0] in ("learnings", "relations", "history", "outcome_events") and len(where) > 2:
        assert f"{where[0]}[{where[1]}]" in text  # the record is named
    if where[:2] == L0 and len(where) > 2 and where[-1] != "id":
        assert doc["learnings"][0]["id"] in text  # ... with its id
    assert snapshot(target) == before


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{"version": 1,\n "learnings": [\n  {"id": 1,}\n]}', "not valid JSON", 3),
        ('{"version": 1, "learnings": [' + "[" * 200_000 + "]" * 200_000 + "]}", "nested", None),
        ('{"version": 1, "learnings": [], "params": [' + "1" * 5000 + "]}", "4300 digits", None),
        ("[]", "not a groove export", None),
        ("", "not valid JSON", 1),
    ],
)
def test_a_file_that_is_not_readable_json_is_refused(groove, tmp_path, text, message, line):
    before = snapshot(groove.user)
    path = _write(tmp_path, text)
    with pytest.raises(ImportFileError) as err:
        import_paths(groove.user, [path])
    assert message in str(err.value) and err.value.line == line
    assert snapshot(groove.user) == before


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "Infinity", "NaN"])
def test_a_number_no_double_holds_is_refused_not_made_infinite(groove, tmp_path, exported, literal):
    text = json.dumps(exported[1]).replace(
        '"confidence_alpha": ', f'"confidence_alpha": {literal}, "x": ', 1
    )
    before = snapshot(groove.user)
    with pytest.raises(ImportFileError, match="'confidence_alpha' must be a finite number"):
        import_paths(groove.user, [_write(tmp_path, text)])
    assert snapshot(groove.user) == before


def test_a_file_that_is_not_utf8_is_refused(groove, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"version": 1, "learnings": [], "x": "café"}'.encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_paths(groove.user, [path])


def test_a_utf16_rule_file_with_a_byte_order_mark_imports_like_utf8(groove, tmp_path):
    """Windows PowerShell writes UTF-16 with a byte order mark: its rules are the same
    learnings as the UTF-8 file's; UTF-16 without the mark is refused, saying so."""
    rules = (
        "# Style\n\n- Use tabs for indentation in every Python file.\n"
        "- Name the café module after the cache it wraps, always.\n"
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "CLAUDE.md").write_bytes(rules.encode("utf-16"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "CLAUDE.md").write_bytes(rules.encode("utf-8"))
    for folder in ("a", "b"):
        tier = groove.tier(f"project:{tmp_path / folder}")
        assert import_paths(tier, [tmp_path / folder / "CLAUDE.md"]).learnings_added == 2
    texts = [
        sorted((lr.description, lr.insight) for lr in t.learnings.iter_all())
        for t in (groove.tier(f"project:{tmp_path / f}") for f in ("a", "b"))
    ]
    assert texts[0] == texts[1] and any("café" in d + i for d, i in texts[0])
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "AGENTS.md").write_bytes(rules.encode("utf-16-le"))
    with pytest.raises(ImportFileError, match="UTF-16 text without a byte order mark"):
        import_paths(groove.user, [tmp_path / "c" / "AGENTS.md"])


def test_a_rule_file_whose_path_is_not_utf8_is_named_and_skippable(groove, tmp_path):
    """A file named with bytes that are not UTF-8 is refused naming it (its bytes
    escaped); with skip_bad the other files are imported and it is listed."""
    (tmp_path / "CLAUDE.md").write_text("- Use tabs for indentation in every Python file.\n")
    bad = os.fsdecode(bytes(tmp_path) + b"/r\xfe.mdc")
    Path(bad).write_text("- Prefer dataclasses over dictionaries for records.\n")
    with pytest.raises(ImportFileError, match=r"r\\xfe\.mdc: its path is not UTF-8 text"):
        import_paths(groove.user, [tmp_path])
    assert groove.user.learnings.count() == 0
    report = import_paths(groove.user, [tmp_path], skip_bad=True)
    assert report.learnings_added == 1
    assert [e.split(": ", 1)[1] for e in report.errors] == [
        "its path is not UTF-8 text: rename the file or its folder"
    ]


def test_a_bad_export_among_good_rule_files_writes_nothing(groove, tmp_path, exported):
    (tmp_path / "CLAUDE.md").write_text("- Use tabs for indentation in every Python file.\n")
    bad = _write(tmp_path, _mutate(exported[1], (*L0, "confidence"), 7))
    with pytest.raises(ImportFileError, match="confidence"):
        import_paths(groove.user, [tmp_path / "CLAUDE.md", bad])
    assert groove.user.learnings.count() == 0
    report = import_paths(groove.user, [tmp_path / "CLAUDE.md", bad], skip_bad=True)
    assert report.learnings_added == 1 and report.errors[0].startswith(str(bad))


def test_duplicate_ids_in_one_file(groove, tmp_path, exported):
    _, doc = exported
    first = doc["learnings"][0]
    same = json.loads(json.dumps(first))
    changed = _mutate(first, ("content", "description"), "Use spaces")
    target = groove.tier("enterprise:target")

    identical = _write(tmp_path, {**doc, "learnings": [first, same]}, "same.json")
    stats = import_file(target, identical)
    assert (stats.learnings_imported, stats.duplicates) == (1, [first["id"]])

    clash = _write(tmp_path, {**doc, "learnings": [first, changed]}, "clash.json")
    other = groove.tier("enterprise:other")
    with pytest.raises(ImportFileError, match=r"learnings\[1\].*repeats the id of learnings\[0\]"):
        import_file(other, clash)
    assert other.learnings.count() == 0
    import_file(other, clash, on_conflict="skip")
    assert other.learnings.get(first["id"]).description == first["content"]["description"]
    last = groove.tier("enterprise:last")
    import_file(last, clash, on_conflict="replace")
    assert last.learnings.get(first["id"]).description == "Use spaces"


def test_an_existing_id_with_different_content_is_reported_and_the_flag_chooses(
    groove, tmp_path, exported
):
    path, doc = exported
    target = groove.tier("enterprise:target")
    import_file(target, path)
    lid = doc["learnings"][0]["id"]
    target.learnings.record_outcome(lid, "helpful")  # usage differs, content does not
    again = import_file(target, path)
    assert (again.learnings_imported, again.learnings_skipped, again.conflicts) == (0, 2, [])

    target.learnings.update(lid, insight="Edited here")
    before = snapshot(target)
    edited = _write(tmp_path, _mutate(doc, (*L0, "content", "insight"), "From the file"))
    with pytest.raises(ImportFileError) as err:
        import_file(target, edited)
    assert lid in str(err.value) and "--on-conflict" in str(err.value)
    assert snapshot(target) == before

    skipped = import_file(target, edited, on_conflict="skip")
    assert (skipped.conflicts, skipped.learnings_replaced) == ([lid], 0)
    assert target.learnings.get(lid).insight == "Edited here"
    replaced = import_file(target, edited, on_conflict="replace")
    assert (replaced.conflicts, replaced.learnings_replaced) == ([lid], 1)
    assert target.learnings.get(lid).insight == "From the file"
    target.learnings.update(lid, insight="Edited again")
    report = import_paths(target, [edited], on_conflict="replace")  # as `groove import` says
    assert (report.learnings_added, report.learnings_replaced) == (0, 1)
    assert [e.action for e in target.learnings.history(lid)][-1] == "imported"


def test_export_then_import_keeps_history_and_outcome_events(groove, tmp_path, exported):
    path, doc = exported
    source = groove.tier("enterprise:source")
    deleted = make_learning("Short-lived", "gone")
    source.learnings.store(deleted)
    source.learnings.delete(deleted.id)
    export_file(source, path, overwrite=True)  # the fixture wrote it before the deletion
    target = groove.tier("enterprise:copy")
    import_file(target, path)
    for lr in source.learnings.iter_all():
        copied = [(e.edit_id, e.action, e.before, e.after) for e in target.learnings.history(lr.id)]
        original = [
            (e.edit_id, e.action, e.before, e.after) for e in source.learnings.history(lr.id)
        ]
        assert copied[: len(original)] == original and copied[-1][1] == "imported"
        assert target.learnings.outcome_events(lr.id) == source.learnings.outcome_events(lr.id)
        assert target.learnings.usage(lr.id) == source.learnings.usage(lr.id)
    assert target.learnings.restore(deleted.id).description == "Short-lived"  # via history
    # vibes-groove reads the file: the extension is extra top-level keys only
    assert set(json.loads(path.read_text())) == {
        "version",
        "exported_at",
        "learnings",
        "params",
        "relations",
        "history",
        "outcome_events",
    }
    assert json.loads(path.read_text())["version"] == 1


@pytest.fixture
def cli(tmp_path, monkeypatch):
    import groove_core.tiers

    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return lambda *a: CliRunner().invoke(app, [str(x) for x in a])


def test_a_failed_import_into_a_new_tier_leaves_config_toml_as_it_was(cli, tmp_path, exported):
    cli("status")
    config = tmp_path / "home" / "config.toml"
    config.write_text("# my notes about this home\n" + config.read_text())
    before = config.read_text()
    bad = _write(tmp_path, _mutate(exported[1], (*L0, "usage_stats", "times_injected"), 10**30))
    result = cli("import", bad, "--tier", "enterprise:new")
    assert result.exit_code == 1 and "times_injected" in result.stderr
    assert config.read_text() == before
    refused = cli("import", exported[0], "--tier", "enterprise:bad\x7fname")
    assert refused.exit_code == 1 and "U+007F" in refused.stderr
    assert config.read_text() == before
    ok = cli("import", exported[0], "--tier", "enterprise:new")
    assert ok.exit_code == 0, ok.output
    after = config.read_text()
    assert after.startswith("# my notes about this home\n") and '[tiers."enterprise:new"]' in after
    assert not list(config.parent.glob(".config.*.tmp"))  # written atomically, no leftovers
    status = json.loads(cli("status", "--json").stdout)
    assert {t["tier"] for t in status["tiers"]} == {"user", "enterprise:new"}


def test_status_lists_a_tier_it_cannot_open_and_exits_0(cli, tmp_path):
    from groove_core.store.engine import Engine

    assert cli("status").exit_code == 0
    with Engine("user", "sqlite", tmp_path / "home" / "user.db") as db:
        db.run(
            "?[version, applied_at, description] <- [[99, 0, 'from the future']] "
            ":put schema_version {version => applied_at, description}"
        )
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    (user,) = json.loads(result.stdout)["tiers"]
    assert user["status"] == "unavailable" and "schema version 99" in user["reason"]
    shown = cli("status")
    assert shown.exit_code == 0 and "schema version 99" in shown.stderr
    (tmp_path / "home" / "config.toml").write_text("[tiers.user\n")
    broken = cli("status")
    assert broken.exit_code == 1 and "not valid TOML" in broken.stderr  # the home itself


def test_an_id_made_up_by_a_file_is_a_uuid_the_store_keeps(groove, tmp_path, exported):
    _, doc = exported
    lid = new_id().upper()  # serde's Uuid reads any case; stored canonical
    path = _write(tmp_path, _mutate(doc, (*L0, "id"), lid))
    import_file(groove.user, path)
    assert groove.user.learnings.get(lid.lower()) is not None
