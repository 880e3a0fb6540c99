"""The engine: bound parameters, atomic programs, busy tiers, and pinned behaviours of the
chosen Cozo build (mnestic) that DESIGN.md's engine decision rests on."""

import subprocess
import sys
import textwrap
import time

import pytest
from conftest import hold

from groove_core.errors import DatabaseError, TierBusyError, TierUnavailableError
from groove_core.store.engine import Engine

HOSTILE = [
    "it's",
    'say "hi"',
    "]] :rm learning {id} [[",
    "$param",
    "\\x00\\n",
    "{}",
    "'; ::remove learning; '",
    "🙂 中文 ρ",
]


def test_values_are_bound_not_formatted(tmp_path):
    with Engine("t", "sqlite", tmp_path / "t.db") as db:
        db.run(":create k {a: String => b: Int}")
        db.run(
            "?[a, b] <- $rows :put k {a => b}", {"rows": [[h, i] for i, h in enumerate(HOSTILE)]}
        )
        got = db.run("?[a, b] := *k{a, b} :order b", read_only=True).rows
        assert [a for a, _ in got] == HOSTILE
        assert set(db.relations()) == {"k"}


def test_chained_program_is_one_transaction(tmp_path):
    with Engine("t", "sqlite", tmp_path / "t.db") as db:
        db.run(":create k {a: Int => b: Int}")
        with pytest.raises(DatabaseError):
            db.run_chain(
                [
                    "?[a, b] <- [[1, 1]] :put k {a => b}",
                    "?[a, b] <- [[2, 'not an int']] :put k {a => b}",
                ]
            )
        assert db.run("?[a] := *k{a}", read_only=True).rows == []


def test_mnestic_full_text_forgets_replaced_text(tmp_path):
    """cozo-embedded 0.7.6 kept stale FTS entries after :put (DESIGN.md); mnestic must not."""
    with Engine("t", "mem") as db:
        db.run(":create doc {id: String => body: String}")
        db.run("::fts create doc:fts {extractor: body, tokenizer: Simple, filters: [Lowercase]}")
        db.run("?[id, body] <- [['a', 'indent with tabs']] :put doc {id => body}")
        db.run("?[id, body] <- [['a', 'indent with spaces']] :put doc {id => body}")
        q = "?[id] := ~doc:fts{id | query: $q, k: 5}"
        assert db.run(q, {"q": "tabs"}, read_only=True).rows == []
        assert db.run(q, {"q": "spaces"}, read_only=True).rows == [["a"]]


def test_mnestic_reports_a_failed_multi_statement_commit(tmp_path):
    """cozo-embedded 0.7.6 could report a failed multi-statement commit as success."""
    with Engine("t", "sqlite", tmp_path / "t.db") as db:
        db.run(":create k {a: Int => b: Int}")
        with pytest.raises(DatabaseError, match="coercion|expected"):
            db.run_chain(
                ["?[a, b] <- [[1, 1]] :put k {a => b}", "?[a, b] <- [[1, 'x']] :put k {a => b}"]
            )
        assert db.run("?[count(a)] := *k{a}", read_only=True).scalar() == 0


def test_mnestic_hnsw_on_nullable_vector_column_skips_nulls():
    with Engine("t", "mem") as db:
        db.run_chain(
            [
                ":create p {h: Int => v: <F32; 3>? default null}",
                "::hnsw create p:i {dim: 3, m: 16, ef_construction: 50, fields: [v], "
                "distance: Cosine}",
            ]
        )
        db.run("?[h, v] <- [[1, null], [2, [1, 0, 0]]] :put p {h => v}")
        rows = db.run(
            "?[h] := ~p:i{h | query: vec($q), k: 5, ef: 20}", {"q": [1, 0, 0]}, read_only=True
        ).rows
        assert rows == [[2]]


def test_busy_tier_fails_within_seconds_and_names_the_holder(tmp_path):
    path = tmp_path / "user.db"
    with Engine("user", "sqlite", path) as db:
        db.run(":create k {a: Int => b: Int}")
    holder = hold(path, 30)
    try:
        with Engine("user", "sqlite", path, busy_timeout=1.5) as db:
            assert db.run("?[a] := *k{a}", read_only=True).rows == []  # readers still work
            start = time.monotonic()
            with pytest.raises(TierBusyError) as err:
                db.run("?[a, b] <- [[1, 1]] :put k {a => b}")
            assert time.monotonic() - start < 10
            assert f"pid {holder.pid}" in str(err.value)
            assert "tier 'user'" in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_busy_tier_write_goes_through_when_the_lock_is_released(tmp_path):
    path = tmp_path / "user.db"
    with Engine("user", "sqlite", path) as db:
        db.run(":create k {a: Int => b: Int}")
    holder = hold(path, 1)
    with Engine("user", "sqlite", path, busy_timeout=10) as db:
        db.run("?[a, b] <- [[1, 1]] :put k {a => b}")
        holder.wait()
        assert sorted(db.run("?[a] := *k{a}", read_only=True).rows) == [[1], [9]]


def test_rocksdb_second_process_is_refused_with_the_holder(tmp_path):
    path = tmp_path / "user.rocksdb"
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(sys.path[0])!r})
        from groove_core.store.engine import Engine
        db = Engine("user", "rocksdb", {str(path)!r})
        print("open", flush=True)
        time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        start = time.monotonic()
        with pytest.raises(TierUnavailableError) as err:
            Engine("user", "rocksdb", path)
        assert time.monotonic() - start < 10
        assert f"pid {proc.pid}" in str(err.value)
    finally:
        proc.kill()
        proc.wait()


def test_unknown_engine_and_unreachable_http(tmp_path):
    with pytest.raises(TierUnavailableError, match="unknown engine"):
        Engine("user", "postgres", tmp_path / "x")
    with pytest.raises(TierUnavailableError, match="enterprise:acme"):
        Engine("enterprise:acme", "http", options={"host": "http://127.0.0.1:9"})
