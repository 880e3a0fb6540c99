"""Benchmark of groove_core.analysis.projection (and HDBSCAN proposals): prints figures.

Not a pytest test. Run:  python benchmarks/bench_projection.py [--sizes 10000] [--reps 1]

Every figure comes from this one process (the background job's from its worker), so
ratios compare like with like. First, umap-learn is imported and numba compiled (a fit of
4,200 points per metric: from 4,096 points umap-learn uses pynndescent, compiled on first
use); then for each size, interleaved ``--reps`` times:

* plain fit: ``umap.UMAP().fit(X)``, umap-learn's defaults, the reference;
* plain fit, groove's parameters: ``umap.UMAP(metric="cosine", n_neighbors=15,
  min_dist=0.1, random_state=<the map's seed>).fit(X)``;
* first projection: ``project`` with the dashboard's parameters on a set its cache has
  never seen (key, fit, coordinates written to disk; the model is not);
* the same through the dashboard's background job (``BackgroundJobs`` +
  ``project_in``, its worker already warm): what a page waits for;

then, once: a warm cache hit, 100 new points placed by ``transform`` (the fitted model
kept in memory), and HDBSCAN proposals. The first projection must cost at most
:data:`GOAL_RATIO` times the plain fit.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from groove_core.analysis.clustering import propose_clusters
from groove_core.analysis.projection import EMBEDDING_DIM, ProjectionCache, project, project_in
from groove_core.jobs import BackgroundJobs

GOAL_RATIO = 1.5
MAP_SEED = None  # dashboard.components.openworld_common.MAP_SEED (not imported: Streamlit)


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


def plain_fit(x: np.ndarray, **params) -> None:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        umap.UMAP(**params).fit(x)


def by_job(jobs: BackgroundJobs, directory: Path, ids, x):
    job = jobs.submit(str(directory), project_in, str(directory), ids, x, random_state=MAP_SEED)
    while not job.done:
        time.sleep(0.05)
    return job.result()


def bench_size(n: int, reps: int, tmp: Path, jobs: BackgroundJobs) -> None:
    ids, x = fingerprints(n, seed=n)
    groove_params = dict(metric="cosine", n_neighbors=15, min_dist=0.1, random_state=MAP_SEED)
    runs: dict[str, list[float]] = {}
    for r in range(reps):  # interleaved; each projection on a cache that never saw the set
        steps = {
            "plain fit: umap.UMAP().fit": lambda: plain_fit(x),
            "plain fit, groove's parameters": lambda: plain_fit(x, **groove_params),
            "first projection (project)": lambda r=r: project(
                ids, x, cache=ProjectionCache(tmp / f"n{n}-r{r}"), random_state=MAP_SEED
            ),
            "first projection, background job": lambda r=r: by_job(
                jobs, tmp / f"job-n{n}-r{r}", ids, x
            ),
        }
        for name, step in steps.items():
            runs.setdefault(name, []).append(timed(step)[0])
    base = statistics.median(runs["plain fit: umap.UMAP().fit"])
    for name, secs in runs.items():
        med = statistics.median(secs)
        print(f"{n:>6} {name:<38} {med:9.2f} {med / base:10.2f}x")
    worst = max(statistics.median(runs[k]) for k in runs if k.startswith("first")) / base
    verdict = "met" if worst <= GOAL_RATIO else "NOT met"
    print(f"{n:>6} {'goal: first projection <= 1.5x plain':<38} {worst:19.2f}x {verdict}")

    cache = ProjectionCache(tmp / f"grow-{n}")
    t_cold, _ = timed(lambda: project(ids, x, cache=cache, random_state=MAP_SEED))
    t_warm, warm = timed(lambda: project(ids, x, cache=cache, random_state=MAP_SEED))
    assert warm.from_cache
    new_ids, new_x = fingerprints(100, seed=n + 1, prefix="new")
    t_tr, grown = timed(
        lambda: project(ids + new_ids, np.vstack([x, new_x]), cache=cache, random_state=MAP_SEED)
    )
    assert grown.method == "transform"
    t_hdb, props = timed(lambda: propose_clusters(ids, x, min_cluster_size=10))
    for name, secs in (
        ("warm cache hit", t_warm),
        ("transform 100 new points (+ write)", t_tr),
        (f"HDBSCAN proposals ({len(props)} found)", t_hdb),
    ):
        print(f"{n:>6} {name:<38} {secs:9.2f} {secs / t_cold:10.3f}x of a fit")
    size_mb = sum(p.stat().st_size for p in cache.directory.iterdir()) / 1e6
    print(f"{n:>6} {'cache on disk (2 entries, no model)':<38} {size_mb:7.1f} MB\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--reps", type=int, default=1, help="interleaved repetitions")
    args = parser.parse_args()

    print(
        f"groove projection benchmark  (python {platform.python_version()}, "
        f"{platform.machine()}, 384-d float32, UMAP 2-D; map seed {MAP_SEED})"
    )
    t_import, _ = timed(lambda: __import__("umap"))
    print(f"import umap-learn                        {t_import:8.2f} s")
    jobs = BackgroundJobs()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        _, warm_x = fingerprints(4200, seed=99, prefix="warmup")
        warm_ids = [f"w{i}" for i in range(len(warm_x))]
        t_first, _ = timed(
            lambda: (plain_fit(warm_x), plain_fit(warm_x, metric="cosine", random_state=MAP_SEED))
        )
        print(f"numba warm-up, 2 fits of 4,200 points    {t_first:8.2f} s (compilation)")
        t_worker, _ = timed(lambda: by_job(jobs, tmp_path / "warm-job", warm_ids, warm_x))
        print(f"background worker warm-up (same fit)     {t_worker:8.2f} s (start, compile)\n")
        header = f"{'n':>6} {'step':<38} {'seconds':>9} {'vs plain':>11}"
        print(header)
        print("-" * len(header))
        for n in args.sizes:
            bench_size(n, args.reps, tmp_path, jobs)
    jobs.shutdown()


if __name__ == "__main__":
    main()
