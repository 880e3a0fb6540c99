"""Benchmark: the choice of Cozo build, measured again. mnestic (groove's engine)
against upstream cozo-embedded 0.7.6 (a test dependency), each in its own process on the
same vectors: building the initial schema's HNSW index over N existing rows, then inserting rows
into the indexed relation one small batch at a time. Prints seconds and the ratio.

Run: python benchmarks/bench_engines.py [N]   (default 3000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

WORKER = r"""
import importlib, json, sys, time
import numpy as np
module, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.modules["cozo_embedded"] = importlib.import_module(module)
from pycozo.client import Client
db = Client("sqlite", path, dataframe=False)
db.run(":create emb {id: String => v: <F32; 384>}")
x = np.random.default_rng(0).standard_normal((n + 200, 384)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
rows = [[f"r{i}", x[i].tolist()] for i in range(n)]
db.run("?[id, v] <- $rows :put emb {id => v}", {"rows": rows})
t = time.perf_counter()
db.run("::hnsw create emb:idx {dim: 384, m: 16, ef_construction: 200, fields: [v]}")
build = time.perf_counter() - t
t = time.perf_counter()
for start in range(n, n + 200, 20):
    db.run("?[id, v] <- $rows :put emb {id => v}",
           {"rows": [[f"r{i}", x[i].tolist()] for i in range(start, start + 20)]})
insert = time.perf_counter() - t
print(json.dumps({"build": build, "insert": insert}))
"""


def run(module: str, n: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, module, f"{folder}/bench.db", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(n: int) -> None:
    start = time.perf_counter()
    upstream = run("cozo_embedded", n)
    ours = run("mnestic", n)
    print(
        f"HNSW build over {n} rows: cozo-embedded 0.7.6 (baseline) {upstream['build']:7.2f} s"
        f", mnestic {ours['build']:7.2f} s ({ours['build'] / upstream['build']:.3f}x)"
    )
    print(
        f"200 inserts into the index: cozo-embedded 0.7.6 (baseline) {upstream['insert']:7.2f} s"
        f", mnestic {ours['insert']:7.2f} s ({ours['insert'] / upstream['insert']:.3f}x)"
    )
    print(f"(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
