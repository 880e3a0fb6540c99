"""The peer benchmark runs end to end in its --quick mode (2,000 rows, hashing vectors)
and its recall column is recall@10 against exact search (no timing is asserted)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
from conftest import needs_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@needs_corpus
def test_quick_run_reports_recall_against_exact_search(tmp_path, monkeypatch):
    import bench_peer

    monkeypatch.setenv("GROOVE_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bench_peer, "CACHE", tmp_path / "cache")
    (result,) = bench_peer.main(["--quick", "--out", str(tmp_path / "table.md")])
    data, q = result["data"], result["queries"]
    assert len(data.texts) == 2000 and len(data.query_texts) == 30
    assert not set(data.query_texts) & set(data.texts)  # held-out queries
    # exact search recomputed here, independently of the benchmark
    ids = [str(__import__("uuid").UUID(int=n + 1)) for n in range(2000)]
    exact = [[ids[j] for j in np.argsort(-(data.vectors @ v))[:10]] for v in data.query_vectors]
    assert [set(a) for a in q["answers"]["exact"]] == [set(e) for e in exact]
    table = (tmp_path / "table.md").read_text()
    for name, label in (("hnswlib", "hnswlib"), ("groove_sem", "groove, rows")):
        mine = np.mean(
            [len(set(a) & set(e)) / 10 for a, e in zip(q["answers"][name], exact, strict=True)]
        )
        row = next(line for line in table.splitlines() if f"semantic: {label}" in line)
        shown = float(row.split("|")[4])
        assert abs(shown - mine) < 5e-4, (name, shown, mine)
    assert re.search(r"\| semantic: numpy exact \| [\d.]+ \| [\d.]+ \| 1\.000 \|", table)
    for label in ("full-text: groove", "hybrid: groove", "record_outcome: groove", "bulk load"):
        assert label in table
