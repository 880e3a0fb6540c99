"""Benchmark of groove_core.analysis.projection (and HDBSCAN proposals): prints figures.

Not a pytest test. Run:  python benchmarks/bench_projection.py [--sizes 2000 5000]

Every figure comes from this one process, so ratios compare like with like:

* cold fit: ``project`` on a set the cache has never seen (a full UMAP fit + cache write),
  including any numba compilation this size triggers first (from 4,096 points umap-learn
  switches to pynndescent's approximate neighbours, compiled on first use); the very
  first fit in the process (numba JIT or loading umap-learn's numba cache) is on its
  own line; "fit of another set" is the same size again with everything compiled;
* warm hit: ``project`` again on the same set (read from the cache, nothing computed);
* transform: ``project`` on the set plus 100 new points (old coordinates kept, the new
  points placed with ``UMAP.transform``).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from groove_core.analysis.clustering import propose_clusters
from groove_core.analysis.projection import EMBEDDING_DIM, ProjectionCache, project


def fingerprints(n: int, *, k: int = 12, seed: int = 0, prefix: str = "fp"):
    """n L2-normalised 384-d vectors in k gaussian blobs of varied width (MiniLM-like)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, EMBEDDING_DIM))
    which = rng.integers(0, k, size=n)
    widths = rng.uniform(0.4, 1.2, size=k)
    x = centers[which] + rng.normal(size=(n, EMBEDDING_DIM)) * widths[which, None]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return [f"{prefix}-{i:06d}" for i in range(n)], x.astype(np.float32)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_size(n: int, cache: ProjectionCache, n_new: int) -> None:
    ids, x = fingerprints(n, seed=n)
    t_cold, cold = timed(lambda: project(ids, x, cache=cache))
    assert cold.method == "umap"
    t_warm, warm = timed(lambda: project(ids, x, cache=cache))
    assert warm.from_cache
    new_ids, new_x = fingerprints(n_new, seed=n + 1, prefix="new")
    all_ids, all_x = ids + new_ids, np.vstack([x, new_x])
    t_tr, grown = timed(lambda: project(all_ids, all_x, cache=cache))
    assert grown.method == "transform" and grown.n_transformed == n_new
    ids2, x2 = fingerprints(n, seed=n + 2, prefix="again")
    t_refit, _ = timed(lambda: project(ids2, x2, cache=cache))
    t_hdb, props = timed(lambda: propose_clusters(ids, x, min_cluster_size=10))
    rows = [
        ("cold UMAP fit (+ cache write)", t_cold),
        ("fit of another set (numba warm)", t_refit),
        ("warm cache hit", t_warm),
        (f"transform {n_new} new points (+ write)", t_tr),
        (f"HDBSCAN proposals ({len(props)} found)", t_hdb),
    ]
    for name, secs in rows:
        print(f"{n:>6} {name:<34} {secs:9.3f} {secs / t_cold:11.3f}x")
    size_mb = sum(p.stat().st_size for p in cache.directory.iterdir()) / 1e6
    print(f"{n:>6} {'cache on disk (3 entries)':<34} {size_mb:7.1f} MB")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--new", type=int, default=100, help="points added for transform")
    args = parser.parse_args()

    print(
        f"groove projection benchmark  (python {platform.python_version()}, "
        f"{platform.machine()}, 384-d float32, UMAP cosine 2-D)"
    )
    t_import, _ = timed(lambda: __import__("umap"))
    print(f"import umap-learn                        {t_import:8.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        # First fit in the process: numba JIT / numba cache load + a small fit.
        ids, x = fingerprints(500, seed=99, prefix="warmup")
        t_first, _ = timed(lambda: project(ids, x, cache=None))
        print(f"first fit in process, 500 points         {t_first:8.2f} s  (numba JIT/cache load)")
        print()
        header = f"{'n':>6} {'step':<34} {'seconds':>9} {'vs cold fit':>12}"
        print(header)
        print("-" * len(header))
        for n in args.sizes:
            bench_size(n, ProjectionCache(Path(tmp) / f"n{n}"), args.new)


if __name__ == "__main__":
    main()
