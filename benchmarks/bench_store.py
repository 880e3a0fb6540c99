"""Benchmark: what the Learnings page and search do on a tier of N learnings.

Prints figures and ratios against baselines run in the same process:
- each call of one Learnings page render (a page of 50 in Cozo, its count, the facets,
  usage of the page, the selected learning's history) against loading the whole tier
  and sorting it in Python;
- HNSW semantic search against exact numpy search over the same vectors, with recall@10;
- bulk load (HNSW index rebuilt once per batch) against inserting into the index row by
  row, on the first batch.

The texts share a nine-word vocabulary, so a full-text query matches a third of the tier:
a worst case for BM25 (on the real rule corpus the same call takes 2-5 ms).

Run: python benchmarks/bench_store.py [N [BULK_N]]   (defaults 100000 and 1000; clustered
random unit vectors stand in for embeddings, so no model is needed)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from groove_core.model.learning import Learning, LearningContent, LearningSource
from groove_core.model.scope import Scope
from groove_core.store import embeddings as learnings_module
from groove_core.store import migrations
from groove_core.store.embeddings import text_for_embedding
from groove_core.store.engine import Engine
from groove_core.store.learnings import LearningStore
from groove_core.store.listing import LearningFilter
from groove_core.store.search import SearchStore

CATS = ["code_pattern", "preference", "solution", "error_recovery", "tool_usage"]
WORDS = ["tabs", "spaces", "retry", "cache", "docker", "flutter", "state", "lint", "async"]
BATCH = 20_000


class VectorsByText:
    """Gives learning ``i`` the pre-computed unit vector ``i`` (benchmark only, never the
    product): vectors are looked up by text, whatever order the store embeds in."""

    name = "bench-random"
    dim = 384

    def __init__(self, vectors: np.ndarray):
        self.by_text = {text_for_embedding(learning(i).content): v for i, v in enumerate(vectors)}

    def embed(self, texts):
        return np.stack([self.by_text[t] for t in texts])


def clustered_unit_vectors(rng: np.random.Generator, n: int, topics: int = 1000) -> np.ndarray:
    """``(n, 384)`` unit vectors around ``topics`` random centres, as sentence embeddings
    cluster by topic. (Uniformly random vectors are a worst case no real text produces:
    all nearly equidistant, they leave HNSW's recall@10 near 0.1 at 100,000 rows, while
    the rule corpus's real embeddings reach 0.995.)"""
    centres = np.random.default_rng(7).normal(size=(topics, 384))
    out = centres[rng.integers(0, topics, n)] + 0.6 * rng.normal(size=(n, 384))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def median_seconds(fn, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def learning(i: int) -> Learning:
    return Learning.new(
        Scope.global_(),
        CATS[i % len(CATS)],
        LearningContent(
            f"rule {i} about {WORDS[i % len(WORDS)]}", f"insight {i} {WORDS[i * 7 % len(WORDS)]}"
        ),
        LearningSource.user_created(),
    )


def open_store(folder: Path, embedder: VectorsByText) -> LearningStore:
    db = Engine("user", "sqlite", folder / "bench.db")
    migrations.migrate(db)
    return LearningStore(db, embedder)


def bulk_load_vs_row_by_row(embedder: VectorsByText, n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bulk = open_store(Path(folder) / "bulk", embedder)
        t_bulk = median_seconds(lambda: bulk.store_many([learning(i) for i in range(n)]), 1)
        rows = open_store(Path(folder) / "rows", embedder)
        saved = learnings_module.BULK_MIN_ROWS
        learnings_module.BULK_MIN_ROWS = n + 1  # force the row-by-row path
        try:
            t_rows = median_seconds(lambda: rows.store_many([learning(i) for i in range(n)]), 1)
        finally:
            learnings_module.BULK_MIN_ROWS = saved
    print(f"store_many({n}) row-by-row HNSW inserts (baseline) {t_rows:8.2f} s")
    print(
        f"store_many({n}) bulk: index rebuilt once        {t_bulk:8.2f} s  "
        f"({t_bulk / t_rows:.3f}x baseline)"
    )


def main(n: int, bulk_n: int) -> None:
    rng = np.random.default_rng(0)
    vectors = clustered_unit_vectors(rng, n)
    embedder = VectorsByText(vectors)
    bulk_load_vs_row_by_row(embedder, min(bulk_n, n))

    folder = Path(tempfile.mkdtemp())
    store = open_store(folder, embedder)
    start = time.perf_counter()
    ids: list[str] = []
    for first in range(0, n, BATCH):
        batch = [learning(i) for i in range(first, min(n, first + BATCH))]
        store.store_many(batch)
        ids.extend(lr.id for lr in batch)
    load = time.perf_counter() - start
    print(f"loaded {n} learnings with embeddings in {load:.1f} s ({n / load:.0f}/s)")

    baseline = median_seconds(
        lambda: sorted(store.iter_all(batch=5000), key=lambda lr: lr.updated_at)[:50], 1
    )
    print(f"baseline: load the whole tier and sort in Python  {baseline * 1000:8.1f} ms")
    flt = LearningFilter(category="solution")
    page_ids = ids[1000:1050]
    calls = [
        ("page 1 (recency) with its count", lambda: store.list(limit=50)),
        ("page at offset n/2", lambda: store.list(limit=50, offset=n // 2)),
        ("page 1 filtered by category", lambda: store.list(flt, limit=50)),
        ("page 1 by confidence", lambda: store.list(sort="confidence", limit=50)),
        ("page 1 by usage", lambda: store.list(sort="usage", limit=50)),
        ("facets (filter counts)", store.facets),
        ("usage_many(page of 50)", lambda: store.usage_many(page_ids)),
        (
            "get + history + related of one",
            lambda: (store.get(ids[7]), store.history(ids[7]), store.related(ids[7])),
        ),
    ]
    for label, fn in calls:
        secs = median_seconds(fn)
        print(f"{label:48s} {secs * 1000:8.1f} ms  ({secs / baseline:.3f}x baseline)")

    search = SearchStore(store)
    queries = clustered_unit_vectors(rng, 20)
    exact_t, hnsw_t, recalls = [], [], []
    for q in queries:
        start = time.perf_counter()
        exact = np.argpartition(-(vectors @ q), 10)[:10]
        exact_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        got = search.semantic_ranked(q, 10)
        hnsw_t.append(time.perf_counter() - start)
        recalls.append(len({ids[j] for j in exact} & {i for i, _ in got}) / 10)
    e, h = statistics.median(exact_t), statistics.median(hnsw_t)
    print(f"exact numpy search (baseline)                    {e * 1000:8.1f} ms")
    print(
        f"HNSW semantic search                             {h * 1000:8.1f} ms  "
        f"({h / e:.2f}x baseline), recall@10 = {statistics.mean(recalls):.3f}"
    )
    text = median_seconds(lambda: search.fulltext_ranked("docker cache retry", 10))
    print(f"full-text search                                 {text * 1000:8.1f} ms")
    store.db.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 100_000, args[1] if len(args) > 1 else 1000)
