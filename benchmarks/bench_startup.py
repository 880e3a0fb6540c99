"""Benchmark: how long the ``groove`` command takes to start, in fresh processes.

Runs, interleaved round by round, ``groove status``, ``groove list --json`` and
``groove --help`` (the installed console script's code: ``from groove_core.cli import
app; app()``) and, as the floor no command can beat, ``python -c pass`` with the same
interpreter and site-packages. Each command runs on an empty home twice per round: a
new folder (the first run creates the user tier) and a home whose user tier exists but
holds no learnings. Prints the median wall time and median CPU time (user + system of
the child) of ``--rounds`` runs, then the largest import costs of ``groove status``
(``python -X importtime``), summed by top-level package.

The children write and use bytecode caches as an installed package does (a warm-up run
of each command comes first; ``PYTHONDONTWRITEBYTECODE`` is dropped from their
environment). On a machine shared with other work the wall times grow with the load
while the CPU times barely move; the floor line shows what the machine gives.

Run: python benchmarks/bench_startup.py [--rounds 10] [--top 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ENTRY = "import sys; from groove_core.cli import app; sys.exit(app())"
COMMANDS = {
    "python -c pass (floor)": ["-c", "pass"],
    "groove --help": ["-c", ENTRY, "--help"],
    "groove status": ["-c", ENTRY, "status"],
    "groove list --json": ["-c", ENTRY, "list", "--json"],
}
GOAL_S = 0.5


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["GROOVE_HOME"] = str(home)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def run_once(args: list[str], home: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        env=child_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def import_costs(home: Path, top: int) -> None:
    """Print the largest import costs of ``groove status`` by top-level package."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, "status"],
        env=child_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    by_package: dict[str, int] = defaultdict(int)
    line_re = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
    for line in proc.stderr.splitlines():
        m = line_re.match(line)
        if m:
            by_package[m.group(4).split(".")[0]] += int(m.group(1))
    total = sum(by_package.values())
    print("\nimports of `groove status` (python -X importtime, self time summed by package):")
    print(f"{'package':<28} {'ms':>8} {'share':>7}")
    for name, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{name:<28} {us / 1000:8.1f} {us / total:7.1%}")
    print(f"{'all imports':<28} {total / 1000:8.1f}")
    heavy = ("scipy", "pandas", "sklearn", "umap", "torch", "detect_secrets", "numba")
    loaded = [h for h in heavy if h in by_package]
    print(f"heavy packages imported: {', '.join(loaded) if loaded else 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--top", type=int, default=15, help="packages listed by import cost")
    args = parser.parse_args()
    print(
        f"groove start-up benchmark (python {platform.python_version()}, {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f}, median of {args.rounds} fresh runs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        existing = tmp_path / "existing"
        for argv in COMMANDS.values():  # warm-up: bytecode caches, the existing empty tier
            run_once(argv, existing)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for r in range(args.rounds):
            for name, argv in COMMANDS.items():
                fresh = tmp_path / f"new-{r}-{len(samples)}"
                samples[(name, "new home")].append(run_once(argv, fresh))
                samples[(name, "empty tier")].append(run_once(argv, existing))
        print(f"\n{'command':<24} {'home':<11} {'wall s':>8} {'cpu s':>8} {'wall vs goal':>13}")
        for (name, home), runs in samples.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{name:<24} {home:<11} {wall:8.3f} {cpu:8.3f} {wall / GOAL_S:12.2f}x")
        import_costs(tmp_path / "imports", args.top)


if __name__ == "__main__":
    main()
