"""The audit log: one entry per write in the write's own transaction, a hash chain that
reveals an altered, inserted or removed entry, several processes appending without a gap;
identity that $USER cannot spoof; backups that restore every relation into a fresh home."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import HashingEmbedder, as_principal, make_learning
from test_access import dump
from typer.testing import CliRunner

from groove_core.cli import app
from groove_core.store.audit import AUDIT_COLS
from groove_core.tiers import Groove

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tier(tmp_path):
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        yield g.user


def _entries_raw(db) -> list[dict]:
    res = db.run(f"?[{', '.join(AUDIT_COLS)}] := *audit_log{{{', '.join(AUDIT_COLS)}}} :order seq")
    return res.dicts()


def _put_raw(db, row: dict) -> None:
    """Write an audit row around groove, as someone with the database file could."""
    head = ", ".join(AUDIT_COLS)
    db.run(
        f"?[{head}] <- [$row] :put audit_log {{seq => {', '.join(AUDIT_COLS[1:])}}}",
        {"row": [row[c] for c in AUDIT_COLS]},
    )


def _writes(tier) -> None:
    ann = as_principal("ann@example.com")
    a, b = make_learning("Use tabs", "Tabs"), make_learning("Use ruff", "Ruff")
    tier.learnings.store_many([a, b], actor=ann)
    tier.learnings.update(a.id, insight="Tabs always", actor=ann)
    tier.learnings.record_outcome(b.id, "helpful", session_id="s1", actor=ann)
    tier.learnings.delete(b.id, actor=ann)


def test_every_write_has_its_entry_in_order(tier):
    _writes(tier)
    entries = tier.audit.entries(newest_first=False)
    assert [e.action for e in entries][-4:] == [
        "learning.create",
        "learning.edit",
        "usage.record",
        "learning.delete",
    ]
    assert entries[0].action == "tier.migrate"  # opening the tier migrated it
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.principal == "ann@example.com" for e in entries[-4:])
    # the hashes of before and after are those of the rows the write saw
    edit = entries[-3]
    assert edit.before_hash and edit.after_hash and edit.before_hash != edit.after_hash
    v = tier.audit.verify()
    assert v.ok and v.entries == len(entries) and v.head_seq == entries[-1].seq


def test_audit_log_since_takes_dates_and_any_offset(tier):
    """``--since`` as a date, a UTC time, a time with a negative or positive offset (the
    same instant), or nonsense: the entries at or after that instant, or one line."""
    _writes(tier)
    home = str(tier.db.path.parent)
    at = tier.audit.entries(limit=1)[0].at  # the newest entry's time (whole seconds, UTC)

    def since(value):
        result = CliRunner().invoke(
            app, ["audit", "log", "--since", value, "--json", "--home", home]
        )
        return result.exit_code, (
            json.loads(result.stdout) if result.exit_code == 0 else result.output
        )

    utc = at.strftime("%Y-%m-%dT%H:%M:%S")
    minus5 = (at - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S") + "-05:00"
    plus2 = (at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
    expected = [e.seq for e in tier.audit.entries(since=at)]
    for value in (utc, utc + "Z", minus5, plus2):
        code, rows = since(value)
        assert code == 0 and [r["seq"] for r in rows] == expected, value
    code, rows = since(at.strftime("%Y-%m-%d"))
    assert code == 0 and len(rows) >= len(expected)
    code, said = since("yesterday")
    assert code == 1 and "--since must be a date" in said and "yesterdayZ" not in said


@pytest.mark.parametrize(
    "tamper", ["alter", "remove", "insert", "truncate", "rechain-one", "before-the-first"]
)
def test_tampering_is_found_at_the_first_bad_entry(tier, tamper, tmp_path):
    _writes(tier)
    rows = _entries_raw(tier.db)
    n = len(rows)
    victim = rows[n // 2]
    db = tier.db
    if tamper == "alter":  # someone rewrites who did it
        _put_raw(db, {**victim, "principal": "someone-else"})
        expected = victim["seq"]
    elif tamper == "remove":
        db.run("?[seq] <- [[$s]] :rm audit_log {seq}", {"s": victim["seq"]})
        expected = victim["seq"]
    elif tamper == "insert":  # shift the later entries up and slip a forged one in
        for r in reversed(rows[n // 2 :]):
            _put_raw(db, {**r, "seq": r["seq"] + 1})
        forged = {**victim, "action": "access.grant", "target": "mallory"}
        _put_raw(db, forged)
        expected = victim["seq"]
    elif tamper == "truncate":  # drop the newest entries, leave the head
        for r in rows[n // 2 :]:
            db.run("?[seq] <- [[$s]] :rm audit_log {seq}", {"s": r["seq"]})
        expected = victim["seq"]
    elif tamper == "before-the-first":  # a forged entry below seq 1 (audit log lists it)
        from groove_core.store.audit import entry_hash

        forged = {**victim, "seq": -1, "principal": "mallory", "prev_hash": "0" * 64}
        forged["hash"] = entry_hash(forged)
        _put_raw(db, forged)
        expected = 1
    else:  # forge an entry and recompute its own hash, but not the next entry's link
        from groove_core.store.audit import entry_hash

        forged = {**victim, "action": "learning.delete"}
        forged["hash"] = entry_hash(forged)
        _put_raw(db, forged)
        expected = victim["seq"] + 1
    v = tier.audit.verify()
    assert not v.ok and v.first_bad == expected, v
    assert v.problem
    # the command says so and exits non-zero
    home = tier.db.path.parent
    result = CliRunner().invoke(app, ["audit", "verify", "--home", str(home)])
    assert result.exit_code == 1
    assert f"broken at entry {expected}" in result.output


def test_a_kept_head_catches_a_log_rewritten_with_every_hash_recomputed(tier):
    """Someone with the database file rewrites history from the middle on and recomputes
    every hash and the head: the chain alone is intact, the head kept outside is not."""
    from groove_core.errors import ValidationError
    from groove_core.store.audit import entry_hash

    _writes(tier)
    home = tier.db.path.parent
    shown = CliRunner().invoke(app, ["audit", "verify", "--home", str(home)])
    kept = re.search(r"head (\d+:[0-9a-f]{64})", shown.output).group(1)
    seq, digest = kept.split(":")
    assert (int(seq), digest) == tier.audit.head()
    rows = _entries_raw(tier.db)
    start = len(rows) // 2
    prev_hash = rows[start - 1]["hash"]
    for r in rows[start:]:  # the forgery: who did it changed, every link recomputed
        forged = {**r, "principal": "mallory@example.com", "prev_hash": prev_hash}
        forged["hash"] = prev_hash = entry_hash(forged)
        _put_raw(tier.db, forged)
    tier.db.run(
        "?[k, seq, hash] <- [[0, $s, $h]] :put audit_head {k => seq, hash}",
        {"s": rows[-1]["seq"], "h": prev_hash},
    )
    assert tier.audit.verify().ok  # what a chain alone cannot see
    v = tier.audit.verify((int(seq), digest))
    assert not v.ok and v.first_bad == int(seq) and "recorded for it earlier" in v.problem
    result = CliRunner().invoke(app, ["audit", "verify", "--home", str(home), "--anchor", kept])
    assert result.exit_code == 1 and f"broken at entry {seq}" in result.output
    # an anchor past the end: entries were cut off
    gone = tier.audit.verify((int(seq) + 5, digest))
    assert not gone.ok and f"entry {int(seq) + 5}, recorded earlier, is gone" in gone.problem
    # an anchor of the untouched part still holds
    early = rows[start - 1]
    assert tier.audit.verify((early["seq"], early["hash"])).ok
    for bad in ("12", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "²:" + "a" * 64):
        result = CliRunner().invoke(app, ["audit", "verify", "--home", str(home), "--anchor", bad])
        assert result.exit_code == 1 and "SEQ:HASH" in result.output, (bad, result.output)
    with pytest.raises(ValidationError):
        tier.audit.verify((1, "not a hash"))


def test_no_product_path_edits_or_deletes_audit_entries():
    """Only the writer appends (:insert); nothing in groove_core rewrites or removes."""
    offenders = []
    for path in (REPO / "groove_core").rglob("*.py"):
        text = path.read_text()
        for m in re.finditer(r":(put|rm|update|replace|delete|ensure)\s+audit_log\b", text):
            offenders.append(f"{path.name}: {m.group(0)}")
        if re.search(r"::remove\s+audit_log|::index drop audit_log", text):
            offenders.append(f"{path.name}: removes the audit log")
    assert offenders == []
    inserts = [
        p.name for p in (REPO / "groove_core").rglob("*.py") if ":insert audit_log" in p.read_text()
    ]
    assert inserts == ["audit.py"]


def test_several_processes_append_one_dense_chain(tmp_path):
    home = tmp_path / "home"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        ids = [make_learning(f"rule {i}", f"insight {i}") for i in range(4)]
        g.user.learnings.store_many(ids)
        start = g.user.audit.head()[0]
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO / "tests")!r})
        from conftest import HashingEmbedder
        from groove_core.tiers import Groove
        from groove_core.model.access import Principal
        who = Principal(f"worker{{sys.argv[1]}}@example.com", via="config")
        with Groove({str(home)!r}, embedder=HashingEmbedder(), principal=who,
                    busy_timeout=60) as g:
            ids = g.user.learnings.ids()
            for i in range(25):
                g.user.learnings.record_outcome(ids[i % len(ids)], "helpful",
                                                session_id=f"w{{sys.argv[1]}}-{{i}}")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(k)], cwd=REPO, stderr=subprocess.PIPE)
        for k in range(4)
    ]
    for p in procs:
        assert p.wait(180) == 0, p.stderr.read().decode()[-2000:]
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        v = g.user.audit.verify()
        assert v.ok and v.head_seq == start + 100
        outcomes = g.user.audit.entries(action="usage.record", limit=1000)
        assert sorted({e.principal for e in outcomes}) == [
            f"worker{k}@example.com" for k in range(4)
        ]
        total = sum(g.user.learnings.usage(i).times_helpful for i in g.user.learnings.ids())
        assert total == 100


def test_user_env_var_does_not_change_who_acts(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "CLAUDE.md").write_text("# Style\n\n- Use tabs for indentation everywhere.\n")
    env = {**os.environ, "USER": "security-team", "LOGNAME": "security-team", "HF_HUB_OFFLINE": "1"}
    env["GROOVE_HOME"] = str(home)
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO / "tests")!r})
        import groove_core.tiers
        from conftest import HashingEmbedder
        groove_core.tiers.default_embedder = HashingEmbedder
        from groove_core.cli import app
        app()
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "import", str(tmp_path / "CLAUDE.md")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    import pwd

    real = pwd.getpwuid(os.getuid()).pw_name
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        (entry,) = g.user.audit.entries(action="learning.import")
        assert (entry.principal, entry.via) == (real, "os") and real != "security-team"
        (lr,) = g.user.learnings.list().items
        assert g.user.learnings.history(lr.id)[0].who == real


def test_config_identity_names_who_acts(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[identity]\nemail = "dana@example.com"\nname = "Dana"\n')
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store(make_learning())
        (entry,) = g.user.audit.entries(action="learning.create")
        assert (entry.principal, entry.principal_name, entry.via) == (
            "dana@example.com",
            "Dana",
            "config",
        )


def test_backup_while_another_process_writes_then_restore_into_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    org = "enterprise:acme"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        t = g.tier(org)
        t.access.grant("carl@example.com", "contributor")
        lrs = [make_learning(f"rule {i}", f"insight {i}", scope=org) for i in range(30)]
        t.learnings.store_many(lrs)
        t.learnings.update(lrs[0].id, insight="edited")
        t.learnings.delete(lrs[1].id)
        t.proposals.file(
            "create",
            after=[make_learning("p", "q", scope=org)],
            actor=as_principal("carl@example.com", "oidc"),
        )
    # another process keeps writing outcomes while the backup is taken
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                sys.path.insert(0, {str(REPO / "tests")!r})
                from conftest import HashingEmbedder
                from groove_core.tiers import Groove
                with Groove({str(home)!r}, embedder=HashingEmbedder(), busy_timeout=60) as g:
                    t = g.tier({org!r})
                    ids = t.learnings.ids()
                    print("ready", flush=True)
                    for i in range(200):
                        lid = ids[i % len(ids)]
                        t.learnings.record_outcome(lid, "ignored", session_id=f"bg{{i}}")
                """
            ),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "ready"
    backup = tmp_path / "acme.backup"
    runner = CliRunner()
    done = runner.invoke(app, ["backup", str(backup), "--tier", org, "--home", str(home)])
    assert done.exit_code == 0, done.output
    assert writer.wait(120) == 0, writer.stderr.read()[-2000:]
    assert hashlib.sha256(backup.read_bytes()).hexdigest() in done.output
    again = runner.invoke(app, ["backup", str(backup), "--tier", org, "--home", str(home)])
    assert again.exit_code == 1 and "exists already" in again.output  # never overwritten

    fresh = tmp_path / "fresh"
    restored = runner.invoke(
        app, ["restore-backup", str(backup), "--tier", org, "--home", str(fresh)]
    )
    assert restored.exit_code == 0, restored.output
    with Groove(fresh, embedder=HashingEmbedder(), project=tmp_path) as g2:
        copy = dump(g2.tier(org, create=False).db)
        v = g2.tier(org, create=False).audit.verify()
    assert v.ok
    # the backup file itself, opened as a tier, is what was restored, plus the restore's entry
    from groove_core.store.engine import Engine

    with Engine(org, "sqlite", backup) as raw:
        original = dump(raw)
    assert set(copy) == set(original)
    for name in original:
        if name in ("audit_log", "audit_head"):
            continue
        assert copy[name] == original[name], name
    assert set(original["audit_log"]) < set(copy["audit_log"])
    (last,) = set(copy["audit_log"]) - set(original["audit_log"])
    assert "'tier.restore'" in last
    # a taken backup holds what happened: the history, the proposal, the roles
    assert len(original["learning_edit"]) == 32 and len(original["proposal"]) == 1
    assert len(original["tier_role"]) == 2
    # restoring over a tier that holds data is refused and changes nothing
    before = copy
    refused = runner.invoke(
        app, ["restore-backup", str(backup), "--tier", org, "--home", str(fresh)]
    )
    assert refused.exit_code == 1 and "holds data" in refused.output
    with Groove(fresh, embedder=HashingEmbedder(), project=tmp_path) as g2:
        assert dump(g2.tier(org, create=False).db) == before
