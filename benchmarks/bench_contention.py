"""Benchmark: several processes writing one sqlite tier at once, groove's engine (WAL, a
cross-process write queue, see groove_core/store/engine.py) against the alternative it
replaced: the same mnestic engine in SQLite's default rollback-journal mode with each
write retried on "database is locked" (exponential back-off up to the same 5 s budget).

Each call is what record_outcome does: one program that creates the usage row if needed,
increments it (a read-modify-write inside Cozo) and adds an outcome_event keyed by the
call, then a read of the row. Afterwards the tier is counted: a call that returned must be
stored once, a call that raised must not be stored at all ("false failure" otherwise).
The two setups run interleaved, twice each. Prints calls/s, calls that failed, false
failures, p50/p99/max latency, and the ratios.

Run: python benchmarks/bench_contention.py [WORKERS] [CALLS]   (default 8 200)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
sys.path.insert(0, REPO)
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_delay
from tenacity import wait_exponential_jitter
from groove_core.errors import TierBusyError
from groove_core.store.engine import Engine, _is_locked
from groove_core.store.rows import USAGE_HEAD, USAGE_KEYED

path, mode, worker, n, start = sys.argv[1:6]
n, start = int(n), float(start)
LID = "0193a0b0-0000-7000-8000-000000000001"
PROGRAM = " ".join("{" + b + "}" for b in [
    f"?[{USAGE_HEAD}] := learning_id = $lid, not *usage_stats{{learning_id}}, "
    "times_injected = 0, times_helpful = 0, times_ignored = 0, times_contradicted = 0, "
    "last_used = null, confidence_alpha = 1.0, confidence_beta = 1.0 "
    f":put usage_stats {{{USAGE_KEYED}}}",
    f"?[{USAGE_HEAD}] := learning_id = $lid, *usage_stats{{learning_id, times_injected: t, "
    "times_helpful, times_ignored, times_contradicted, last_used, confidence_alpha, "
    "confidence_beta}, times_injected = t + 1 "
    f":put usage_stats {{{USAGE_KEYED}}}",
    "?[learning_id, event_id, at, outcome, session_id] <- [[$lid, $key, 0, 'helpful', $key]] "
    ":put outcome_event {learning_id, event_id => at, outcome, session_id}",
])
READ = "?[n] := *usage_stats{learning_id: $lid, times_injected: n}"
time.sleep(max(0.0, start - time.time()))
if mode == "groove":
    db = Engine("user", "sqlite", path, busy_timeout=5)
    def call(script, params, read_only=False):
        db.run(script, params, read_only=read_only)
else:  # rollback journal, every query retried while SQLite reports the lock
    import pycozo.client
    deadline = time.time() + 5
    while True:  # the engine panics when it meets the lock at open: retry as groove did
        try:
            client = pycozo.client.Client("sqlite", path, dataframe=False)
            break
        except BaseException as err:
            if "locked" not in str(err) or time.time() > deadline:
                raise
            time.sleep(0.05)
    def call(script, params, read_only=False):
        try:
            for tried in Retrying(retry=retry_if_exception(_is_locked),
                                  stop=stop_after_delay(5),
                                  wait=wait_exponential_jitter(multiplier=0.02, max=0.5,
                                                               jitter=0.05)):
                with tried:
                    client.run(script, params, read_only)
        except RetryError:
            raise TierBusyError("user", "locked") from None
ok, failed, latency = [], [], []
for i in range(n):
    key = f"{worker}-{i}"
    t = time.perf_counter()
    try:
        call(PROGRAM, {"lid": LID, "key": key})
        call(READ, {"lid": LID}, read_only=True)
        ok.append(key)
        latency.append(time.perf_counter() - t)
    except TierBusyError:
        failed.append(key)
print(json.dumps({"ok": ok, "failed": failed, "latency": latency}))
""".replace("REPO", repr(str(REPO)))


def run(mode: str, workers: int, calls: int) -> dict:
    sys.path.insert(0, str(REPO))
    from groove_core.store import migrations
    from groove_core.store.engine import Engine

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/user.db"
        with Engine("user", "sqlite", path) as db:
            migrations.migrate(db)
        if mode != "groove":  # back to SQLite's default journal
            import sqlite3

            with sqlite3.connect(path) as con:
                con.execute("PRAGMA journal_mode=DELETE")
        start = time.time() + 2.0
        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, path, mode, str(w), str(calls), str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for w in range(workers)
        ]
        outputs = [p.communicate()[0].strip().splitlines() for p in procs]
        results = [json.loads(o[-1]) for o in outputs if o]
        crashed = len(procs) - len(results)
        elapsed = time.perf_counter() - t - 2.0
        with Engine("user", "sqlite", path) as db:
            events = {r[0] for r in db.run("?[e] := *outcome_event{event_id: e}").rows}
    ok = [k for r in results for k in r["ok"]]
    failed = [k for r in results for k in r["failed"]]
    lat = sorted(x for r in results for x in r["latency"])
    return {
        "crashed": crashed,
        "rate": len(ok) / elapsed,
        "failed": len(failed),
        "false_failures": sum(k in events for k in failed),
        "lost": sum(k not in events for k in ok),
        "p50": lat[len(lat) // 2],
        "p99": lat[int(len(lat) * 0.99)],
        "max": lat[-1],
    }


def main(workers: int = 8, calls: int = 200) -> None:
    rows = {"retry-only": [], "groove": []}
    for _ in range(2):
        for mode in ("retry-only", "groove"):
            rows[mode].append(run(mode, workers, calls))
    for mode, runs in rows.items():
        for r in runs:
            print(
                f"{mode:10s} {workers} x {calls}: {r['rate']:6.1f} calls/s, workers that could "
                f"not open {r['crashed']}, failed {r['failed']:3d}"
                f", false failures {r['false_failures']}, lost {r['lost']}, latency p50 "
                f"{r['p50'] * 1000:5.0f} ms p99 {r['p99'] * 1000:5.0f} ms max "
                f"{r['max'] * 1000:5.0f} ms"
            )
    base = {k: sum(r[k] for r in rows["retry-only"]) / 2 for k in ("rate", "p99")}
    ours = {k: sum(r[k] for r in rows["groove"]) / 2 for k in ("rate", "p99")}
    print(
        f"groove / retry-only: throughput {ours['rate'] / base['rate']:.2f}x, "
        f"p99 latency {ours['p99'] / base['p99']:.2f}x"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
