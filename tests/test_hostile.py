"""Hostile input at every entry point: each CLI command's arguments and options, the
public API's string arguments and import files get strings an attacker or an unlucky
user would send. Each is answered with a clear one-line error (exit status 1, no
traceback) or stored exactly (read back equal), and the home stays usable: ``groove
status`` and ``groove list`` work afterwards."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from typer.testing import CliRunner

from groove_core import (
    GrooveError,
    Learning,
    LearningContent,
    LearningFilter,
    LearningSource,
    Scope,
    SystemParam,
)
from groove_core.cli import app
from groove_core.errors import ValidationError
from groove_core.io.export import export_file
from groove_core.io.importer import import_paths
from groove_core.tiers import Groove

HOSTILE = {
    "lone surrogate": "\ud800",
    "invalid UTF-8": "caf\udce9",  # how Python hands over the argument bytes b"caf\xe9"
    "NUL": "nul\x00byte",
    "DEL": "del\x7fchar",
    "RTL override": "rtl\u202eoverride",
    "100k characters": "x" * 100_000,
    "Cozo syntax": "'] :rm learning {id}",
    "Cozo program": "?[id] := *learning{id} :rm learning {id}",
    "TOML syntax": '[tiers.user]\nengine = "mem"',
    "path traversal": "../../../etc/passwd",
    "terminal markup": "[/] [bold]x :smile:",
}
#: Text no tier can store (Cozo strings are valid Unicode).
UNSTORABLE = {"lone surrogate", "invalid UTF-8"}
#: ... and what no real command line can carry.
NOT_AN_ARGUMENT = UNSTORABLE | {"NUL"}
#: Text a learning does not store (control characters: a terminal would run them).
NOT_LEARNING_TEXT = UNSTORABLE | {"NUL", "DEL"}
#: Values that are no valid part of a tier name (control/format characters, too long).
NOT_A_TIER_NAME = NOT_AN_ARGUMENT | {"DEL", "RTL override", "100k characters", "TOML syntax"}
RULES = "# Style\n\n- Use tabs for indentation in every Python file.\n"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """``run(*args)`` in a home under ``tmp_path``, from a folder deep enough that
    ``../../../`` stays inside ``tmp_path``."""
    import groove_core.tiers

    home = tmp_path / "home"
    cwd = tmp_path / "a" / "b" / "c" / "d"
    cwd.mkdir(parents=True)
    (cwd / "CLAUDE.md").write_text(RULES)
    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    monkeypatch.chdir(cwd)
    runner = CliRunner()

    def run(*args, input="n\n"):
        monkeypatch.setenv("GROOVE_HOME", str(home))  # --home changes it for the process
        result = runner.invoke(app, [str(a) for a in args], input=input)
        output = result.output
        assert "Traceback" not in output and "internal error" not in output, output[-2000:]
        assert result.exit_code in (0, 1), (args[:3], result.exit_code, output[-2000:])
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
        return result

    run.home = home
    return run


def _usable(cli) -> None:
    assert cli("status").exit_code == 0
    assert cli("list").exit_code == 0
    tomllib.loads((cli.home / "config.toml").read_text())  # still parses


def _json(result):
    return json.loads(result.stdout)


def test_every_cli_argument_and_option(cli, tmp_path):
    cli("import", "CLAUDE.md")
    (lid,) = [r["id"] for r in _json(cli("list", "--json"))]

    def refused_unless(storable: bool, result) -> bool:
        assert result.exit_code == (0 if storable else 1), result.output[-500:]
        return storable

    for name, h in HOSTILE.items():
        # text a learning stores: kept exactly
        for option, field in (("--description", "description"), ("--insight", "insight")):
            if refused_unless(name not in NOT_LEARNING_TEXT, cli("edit", lid, option, h)):
                assert _json(cli("show", lid, "--json"))[field] == h, (name, option)
        scoped = cli("edit", lid, "--scope", f"user:{h}")
        if refused_unless(name not in NOT_LEARNING_TEXT, scoped):
            assert _json(cli("show", lid, "--json"))["scope"] == f"user:{h}"
        hits = cli("search", h, "--mode", "fulltext", "--json")
        refused_unless(name not in NOT_AN_ARGUMENT, hits)
        listed = cli("list", "--scope", f"project:{h}", "--json")
        if refused_unless(name not in NOT_AN_ARGUMENT, listed):
            assert _json(listed) == []
        # values that must name something: refused, one line, nothing changed
        for args in (
            ("edit", lid, "--category", h),
            ("edit", lid, "--scope", h),
            ("edit", h, "--description", "x"),
            ("show", h),
            ("delete", h, "--yes"),
            ("restore", h),
            ("list", "--tier", h),
            ("list", "--category", h),
            ("list", "--source", h),
            ("list", "--scope", h),
            ("search", "tabs", "--tier", h),
            ("import", h),
            ("migrate", "--status", "--tier", h),
            ("reembed", "--tier", h),
            ("simulate", "--tier", h),
            ("promote", h, "--to", "enterprise:x"),
        ):
            assert cli(*args).exit_code == 1, (name, args)
    _usable(cli)
    shown = _json(cli("show", lid, "--json"))
    assert shown["id"] == lid and len(cli("list", "--json").stdout) > 2


def test_hostile_tier_names_are_refused_before_anything_is_written_or_kept_exactly(cli):
    cli("import", "CLAUDE.md")
    (lid,) = [r["id"] for r in _json(cli("list", "--json"))]
    for name, h in HOSTILE.items():
        config_before = (cli.home / "config.toml").read_text()
        files_before = sorted(p.name for p in cli.home.rglob("*") if p.suffix == ".db")
        for tier in (f"enterprise:{h}", f"project:/tmp/{h}"):
            result = cli("import", "CLAUDE.md", "--tier", tier, "--json")
            if name in NOT_A_TIER_NAME:
                assert result.exit_code == 1, (name, result.output[-300:])
                assert "tier name" in result.stderr or "argument" in result.stderr
            else:
                assert result.exit_code == 0, (name, result.output[-300:])
                stored = _json(cli("list", "--tier", tier, "--json"))
                canonical = (  # project tiers are named by their resolved path
                    f"project:{Path(tier[8:]).resolve()}" if tier.startswith("project:") else tier
                )
                assert {r["tier"] for r in stored} == {canonical}, name
        promoted = cli("promote", lid, "--to", f"enterprise:promoted-{h}")
        assert promoted.exit_code == (1 if name in NOT_A_TIER_NAME else 0), name
        if name in NOT_A_TIER_NAME:
            assert (cli.home / "config.toml").read_text() == config_before, name
            after = sorted(p.name for p in cli.home.rglob("*") if p.suffix == ".db")
            assert after == files_before, name
        _usable(cli)
    config = tomllib.loads((cli.home / "config.toml").read_text())
    assert "enterprise:'] :rm learning {id}" in config["tiers"]
    status = _json(cli("status", "--json"))
    assert {t["status"] for t in status["tiers"]} == {"ok"}


def test_hostile_paths_and_homes(cli, tmp_path):
    cli("import", "CLAUDE.md")
    for name, h in HOSTILE.items():
        if name in NOT_AN_ARGUMENT:
            assert cli("export", h).exit_code == 1
            assert cli("--home", h, "status").exit_code == 1
            continue
        exported = cli("export", h)
        if exported.exit_code == 0:  # a file of that name, inside tmp_path
            written = (tmp_path / "a" / "b" / "c" / "d" / h).resolve()
            assert written.is_relative_to(tmp_path) and json.loads(written.read_text())
        cli("--home", h, "status")
    _usable(cli)


def test_every_public_api_string_argument(tmp_path):
    g = Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path)
    store = g.user.learnings
    base = make_learning()
    store.store(base)

    def exact_or_refused(name, write, read, refused=UNSTORABLE):
        """``write()`` either raises a one-line GrooveError (only for the ``refused``
        values) or stores what ``read()`` returns equal to what was given."""
        try:
            given = write()
        except GrooveError as err:
            assert name in refused, (name, str(err)[:300])
            reason = (
                "not valid Unicode text, so it cannot be stored"
                if name in UNSTORABLE
                else "control characters are not stored"
                if name in NOT_LEARNING_TEXT
                else "the limit is"
            )
            assert reason in str(err), (name, str(err)[:300])
            assert "\n" not in str(err)
            return
        assert name not in refused, name
        assert read(given) == given, name

    def learning(description, insight, pattern=None, scope="global", source=None):
        return Learning.new(
            Scope.parse(scope),
            "preference",
            LearningContent(description, insight, pattern),
            source or LearningSource.user_created(),
        )

    def stored(lr):
        store.store(lr)
        return lr

    for name, h in HOSTILE.items():
        exact_or_refused(
            name,
            lambda h=h: stored(learning(h, h, {"k": h, h: [h]}, f"user:{h}")),
            lambda lr: store.get(lr.id),
            refused=NOT_LEARNING_TEXT,
        )
        exact_or_refused(
            name,
            lambda h=h: stored(learning("d", "i", source=LearningSource.imported(f"/r/{h}"))),
            lambda lr: store.get(lr.id),
            refused=NOT_LEARNING_TEXT,  # the source's file name is shown like the text
        )
        exact_or_refused(
            name,
            lambda h=h: store.update(base.id, description=h, insight=h, scope=f"project:{h}"),
            lambda lr: store.get(lr.id),
            refused=NOT_LEARNING_TEXT,
        )
        exact_or_refused(
            name,
            lambda h=h: g.user.params.store_param(SystemParam(f"p{h}")) or f"p{h}",
            lambda pname: next(p.name for p in g.user.params.all_params() if p.name == pname),
            refused=UNSTORABLE | {"100k characters"},  # names are at most 1,000 characters
        )
        for call in (
            lambda h=h: g.search(h, mode="fulltext"),
            lambda h=h: g.search(h, mode=h),
            lambda h=h: g.list(flt=LearningFilter(scope=f"user:{h}")),
            lambda h=h: g.list(flt=LearningFilter(category=h)),
            lambda h=h: g.list(flt=LearningFilter(source_type=h)),
            lambda h=h: g.list(sort=h),
            lambda h=h: g.get(h),
            lambda h=h: store.history(h),
            lambda h=h: store.delete(h),
            lambda h=h: Scope.parse(h),
        ):
            try:
                call()
            except GrooveError as err:
                assert "\n" not in str(err) and len(str(err)) < 500, str(err)[:300]
        for tier in (h, f"enterprise:{h}", f"project:{h}"):
            try:
                g.tier(tier)
            except GrooveError as err:
                assert name in NOT_A_TIER_NAME or tier == h, (name, str(err)[:200])
                assert str(err).startswith("invalid tier name"), str(err)[:200]
                assert "\n" not in str(err) and len(str(err)) < 500, str(err)[:300]
    g.close()
    tomllib.loads((tmp_path / "home" / "config.toml").read_text())
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as again:
        # the base, each storable hostile learning, each one imported from a hostile path
        kept = 1 + 2 * (len(HOSTILE) - len(NOT_LEARNING_TEXT))
        assert again.user.learnings.count() == kept


def test_hostile_text_in_import_files_is_stored_exactly_or_refused(tmp_path):
    g = Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path)
    source = g.tier(f"project:{tmp_path / 'source'}")  # an enterprise tier would refuse
    # what the content scan flags (bidi controls) without a curator's override
    storable = {n: h for n, h in HOSTILE.items() if n not in NOT_LEARNING_TEXT}
    written = [make_learning(h, h, scope=f"user:{h}") for h in storable.values()]
    source.learnings.store_many(written)
    path = tmp_path / "export.json"
    export_file(source, path)
    report = import_paths(g.user, [path])
    assert report.learnings_added == len(written)
    for lr in written:
        back = g.user.learnings.get(lr.id)
        assert (back.description, back.insight, back.scope) == (
            lr.description,
            lr.insight,
            lr.scope,
        )
    for name in UNSTORABLE:  # "\ud800" in JSON: a lone surrogate after decoding
        doc = json.loads(path.read_text())
        doc["learnings"][0]["content"]["description"] = HOSTILE[name]
        bad = tmp_path / f"{name}.json"
        bad.write_text(json.dumps(doc))  # json escapes it as \udXXX
        with pytest.raises(GrooveError, match="not valid Unicode") as err:
            import_paths(g.tier(f"project:{tmp_path / 'other'}"), [bad])
        assert str(bad) in str(err.value) and "learnings[0]" in str(err.value)
    assert g.tier(f"project:{tmp_path / 'other'}").learnings.count() == 0
    g.close()


def test_access_review_audit_and_backup_commands(cli, tmp_path):
    """The team commands answer every hostile value with one line or keep it exactly."""
    cli("import", "CLAUDE.md")
    cli("access", "grant", "bob@example.com", "reader", "--tier", "enterprise:team")
    cli("backup", tmp_path / "good.backup", "--tier", "enterprise:team")  # names us admin
    for name, h in HOSTILE.items():
        granted = cli("access", "grant", h, "reader", "--tier", "enterprise:team")
        if granted.exit_code == 0:
            listed = _json(cli("access", "list", "--tier", "enterprise:team", "--json"))["grants"]
            assert h in [g["principal"] for g in listed], name
            cli("access", "revoke", h, "--tier", "enterprise:team")
        for args in (
            ("access", "grant", "bob@example.com", h, "--tier", "enterprise:team"),
            ("access", "list", "--tier", h),
            ("review", "show", h, "--tier", "enterprise:team"),
            ("review", "list", "--tier", h),
            ("review", "reject", h, "--reason", h, "--tier", "enterprise:team"),
            ("audit", "log", "--who", h, "--action", h, "--target", h),
            ("audit", "log", "--since", h),
            ("audit", "verify", "--tier", h),
            ("backup", h, "--tier", h),
            ("restore-backup", h, "--tier", f"enterprise:restored-{len(name)}"),
        ):
            cli(*args)
        if name not in NOT_AN_ARGUMENT:
            result = cli("restore-backup", tmp_path / "good.backup", "--tier", f"enterprise:{h}")
            assert result.exit_code == (1 if name in NOT_A_TIER_NAME else 0), name
    _usable(cli)


def test_damaged_files_and_paths_get_one_line_and_change_nothing(cli, tmp_path):
    """A truncated backup, a foreign SQLite file, a symlink loop, a tier file that is not
    a database or is damaged inside: one line each, nothing created, and ``status``
    still lists the home with the damaged tier as unavailable."""
    import hashlib
    import sqlite3
    import subprocess
    import sys

    cli("import", "CLAUDE.md")
    good = tmp_path / "good.backup"
    cli("backup", good)
    cut = tmp_path / "cut.backup"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    digest = hashlib.sha256(foreign.read_bytes()).hexdigest()
    for src, says in ((cut, "damaged or truncated"), (foreign, "not a groove backup")):
        refused = cli("restore-backup", src, "--tier", "project:/tmp/restored")
        assert refused.exit_code == 1 and says in refused.output, refused.output
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == digest  # not even opened
    assert not list((cli.home / "projects").glob("restored-*.db"))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for args in (("--home", loop, "status"), ("backup", loop)):
        looped = cli(*args)
        assert looped.exit_code == 1 and "Symlink loop" in looped.output
    for ghost in (("export", tmp_path / "x.json"), ("reembed",), ("restore", make_learning().id)):
        missing = cli(*ghost, "--tier", "enterprise:ghost")
        assert missing.exit_code == 1 and "does not exist yet" in missing.output
    refused = cli("access", "grant", "x@example.com", "overlord", "--tier", "enterprise:ghost")
    assert refused.exit_code == 1 and "unknown role" in refused.output
    assert not (cli.home / "enterprise").exists()
    # a project tier whose file is not a database: the engine never sees it (its panic
    # text went straight to stderr); a damaged user tier: status lists it, exit 0
    cli("import", "CLAUDE.md", "--tier", "project")
    (project_db,) = (cli.home / "projects").glob("*.db")
    project_db.write_bytes(b"not a database\n" * 100)
    run = subprocess.run(
        [sys.executable, "-m", "groove_core.cli", "list", "--tier", "project"],
        capture_output=True,
        text=True,
        env={**os.environ, "GROOVE_HOME": str(cli.home), "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert run.returncode == 1 and "not a readable SQLite database" in run.stderr
    assert "panicked" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    user_db = cli.home / "user.db"
    with user_db.open("r+b") as fh:
        fh.seek(user_db.stat().st_size // 2)
        fh.write(b"\x00\xff" * 5000)
    status = cli("status", "--json")
    assert status.exit_code == 0
    rows = {r["tier"]: r for r in json.loads(status.stdout)["tiers"]}
    assert rows["user"]["status"] == "unavailable" and "malformed" in rows["user"]["reason"]


@pytest.mark.parametrize("bad", ["\x1b]0;pwned\x07", "\x1b[2J", "a\x00b", "\x9b31m"])
def test_control_characters_are_never_stored(tmp_path, bad):
    """A terminal escape or NUL in a learning's text, pattern or scope is refused on every
    write path (store, edit, an export's import) and nothing changes; tab and newline
    stay allowed; a principal's display name loses them."""
    from groove_core.model.access import Principal

    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        kept = make_learning("Tabs\tand\nnewlines", "are fine")
        g.user.learnings.store(kept)
        before = g.user.learnings.count()
        variants = [
            replace(kept, id=make_learning().id, content=LearningContent(f"d{bad}", "i")),
            replace(kept, id=make_learning().id, content=LearningContent("d", "i", {bad: 1})),
            replace(kept, id=make_learning().id, scope=Scope("project", f"/src/{bad}")),
        ]
        for lr in variants:
            with pytest.raises(ValidationError, match="control characters are not stored"):
                g.user.learnings.store(lr)
        with pytest.raises(ValidationError, match="control characters are not stored"):
            g.user.learnings.update(kept.id, insight=f"x{bad}")
        export = tmp_path / "bad.json"
        export_file(g.user, export)
        data = json.loads(export.read_text())
        data["learnings"][0]["content"]["insight"] = f"x{bad}"
        data["learnings"][0]["id"] = make_learning().id
        export.write_text(json.dumps(data))
    with Groove(tmp_path / "other", embedder=HashingEmbedder(), project=tmp_path) as g2:
        with pytest.raises(ValidationError, match="control characters are not stored"):
            import_paths(g2.user, [export])
        assert g2.user.learnings.count() == 0
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        assert g.user.learnings.count() == before
        assert g.user.learnings.require(kept.id).insight == "are fine"
    assert Principal("ann@example.com", f"Ann{bad}").name.startswith("Ann")
    assert bad not in Principal("ann@example.com", f"Ann{bad}").name


def test_an_empty_home_is_refused_not_the_current_folder(tmp_path, monkeypatch):
    """``--home ""`` (an unset variable in a script) is a usage error; nothing is written
    in the current folder."""
    monkeypatch.chdir(tmp_path)
    for args in (["--home", "", "status"], ["status", "--home", ""]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "it was empty" in result.output, result.output
    assert list(tmp_path.iterdir()) == []
