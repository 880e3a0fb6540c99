"""Several processes on one sqlite tier: they open it at once (a new tier: one of them
migrates it), write under contention, and a call fails only when nothing of it was
committed; a busy tier names the process that is writing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import hold

from groove_core.errors import TierBusyError
from groove_core.store.engine import Engine

REPO = str(__import__("pathlib").Path(__file__).resolve().parents[1])
LEARNING = "0193a0b0-0000-7000-8000-000000000001"

# One "call" is what record_outcome does in one program: make sure a usage row exists,
# increment it (a read-modify-write inside Cozo), and add an outcome_event keyed by the
# call; then, like record_outcome, read the row back (a read, which must never fail). A
# call that returns normally must be in the tier exactly once; a call that raises must
# not be there at all.
WORKER = (
    textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, __REPO__)
    from groove_core.errors import TierBusyError
    from groove_core.store import migrations
    from groove_core.store.engine import Engine
    from groove_core.store.rows import USAGE_HEAD, USAGE_KEYED

    path, worker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout, start = float(sys.argv[4]), float(sys.argv[5])
    time.sleep(max(0.0, start - time.time()))  # every worker opens at the same moment
    db = Engine("user", "sqlite", path, busy_timeout=60)  # one of them migrates the new
    migrations.migrate(db)  # tier while the others wait (a loaded machine: seconds)
    db.busy_timeout = timeout
    program = [
        f"?[{USAGE_HEAD}] := learning_id = $lid, not *usage_stats{{learning_id}}, "
        "times_injected = 0, times_helpful = 0, times_ignored = 0, times_contradicted = 0, "
        "last_used = null, confidence_alpha = 1.0, confidence_beta = 1.0 "
        f":put usage_stats {{{USAGE_KEYED}}}",
        f"?[{USAGE_HEAD}] := learning_id = $lid, *usage_stats{{learning_id, "
        "times_injected: t, times_helpful, times_ignored, times_contradicted, last_used, "
        "confidence_alpha, confidence_beta}, times_injected = t + 1 "
        f":put usage_stats {{{USAGE_KEYED}}}",
        "?[learning_id, event_id, at, outcome, session_id] <- "
        "[[$lid, $key, 0, 'helpful', $key]] "
        ":put outcome_event {learning_id, event_id => at, outcome, session_id}",
    ]
    ok, failed, reads_failed = [], [], 0
    for i in range(n):
        key = f"{worker}-{i}"
        try:
            db.run_chain(program, {"lid": __LEARNING__, "key": key})
            ok.append(key)
        except TierBusyError:
            failed.append(key)
        try:  # readers never wait for writers (WAL), even with a 2 ms budget
            db.run("?[n] := *usage_stats{learning_id: $lid, times_injected: n}",
                   {"lid": __LEARNING__}, read_only=True)
        except TierBusyError:
            reads_failed += 1
    db.close()
    print(json.dumps({"ok": ok, "failed": failed, "reads_failed": reads_failed}))
    """)
    .replace("__REPO__", repr(REPO))
    .replace("__LEARNING__", repr(LEARNING))
)


def _run_writers(path, *, workers, calls, timeout):
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(w), str(calls), str(timeout), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr[-2000:]
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    ok = [k for r in results for k in r["ok"]]
    failed = [k for r in results for k in r["failed"]]
    assert sum(r["reads_failed"] for r in results) == 0
    with Engine("user", "sqlite", path) as db:
        events = [r[0] for r in db.run("?[e] := *outcome_event{event_id: e}").rows]
        count = db.run(
            "?[n] := *usage_stats{learning_id: $lid, times_injected: n}", {"lid": LEARNING}
        ).scalar(0)
    return ok, failed, events, count


@pytest.mark.parametrize(("timeout", "calls", "may_fail"), [(30.0, 40, False), (0.002, 20, True)])
def test_eight_writers_lose_nothing_count_nothing_twice_and_fail_only_uncommitted(
    tmp_path, timeout, calls, may_fail
):
    """8 processes open a new tier at once and make ``calls`` calls each. With a generous
    busy_timeout every call succeeds (no false failure); with 2 ms some calls fail, and
    exactly the calls that returned normally are in the tier."""
    ok, failed, events, count = _run_writers(
        tmp_path / "user.db", workers=8, calls=calls, timeout=timeout
    )
    assert len(ok) + len(failed) == 8 * calls
    assert sorted(events) == sorted(ok)  # every success stored once, no failure stored
    assert count == len(ok)  # no lost update, nothing counted twice
    if may_fail:
        assert failed, "a 2 ms busy_timeout under 8 writers should make some calls wait in vain"
    else:
        assert failed == []


def test_a_busy_tier_names_the_writer_reads_go_on_and_nothing_is_written(tmp_path):
    path = tmp_path / "user.db"
    with Engine("user", "sqlite", path) as db:
        db.run(":create k {a: Int => b: Int}")
    writer = hold(path, 30, how="queue")
    try:
        start = time.monotonic()
        with Engine("user", "sqlite", path, busy_timeout=1.0) as db:  # opening is not blocked
            assert db.run("?[a] := *k{a}", read_only=True).rows == []  # nor are reads
            with pytest.raises(TierBusyError) as err:
                db.run("?[a, b] <- [[1, 1]] :put k {a => b}")
            assert time.monotonic() - start < 10
            message = str(err.value)
            assert f"pid {writer.pid}" in message and "is writing" in message
            assert "nothing was written" in message and "busy_timeout" in message
            assert [h["pid"] for h in db.holders()].count(writer.pid) == 1
    finally:
        writer.kill()
        writer.wait()
    with Engine("user", "sqlite", path) as db:
        assert db.run("?[a] := *k{a}", read_only=True).rows == []
        db.run("?[a, b] <- [[1, 1]] :put k {a => b}")  # the queue was freed with the process
        assert db.run("?[a] := *k{a}", read_only=True).rows == [[1]]


def test_the_queue_holders_note_replaces_a_longer_one_whole(tmp_path):
    """The holder's record is written in place (no truncate, no rename); a shorter record
    after a longer one reads back alone."""
    from groove_core.locking import NOTE_BLOCK, InterProcessLock

    lock = InterProcessLock(tmp_path / "write.lock")
    for note in (b'{"pid": 1, "command": "' + b"x" * 700 + b'"}', b'{"pid": 2}'):
        assert lock.acquire(time.monotonic() + 1, note)
        lock.release()
        assert lock.note() == note
    assert (tmp_path / "write.lock").stat().st_size == NOTE_BLOCK
