"""Shared pieces of the open-world pages: the fingerprint frame, the UMAP projection
(cached on disk under ``<home>/cache/projections`` and in memory, with progress while it
runs) and the cluster labels."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import streamlit as st

from groove_core.analysis.clustering import ClusterProposal, propose_clusters
from groove_core.analysis.projection import Projection, ProjectionCache, project, projection_key
from groove_core.embed import DIM

SIMULATE_HINT = (
    "From a terminal: `groove simulate --part openworld --corpus <folder of rule files>` "
    "fills a tier with synthetic open-world data (marked synthetic; "
    "`groove simulate --part openworld --remove` takes it out again)."
)
UNCLUSTERED = "unclustered"

_PROJ: OrderedDict[str, Projection] = OrderedDict()
_PROPOSALS: OrderedDict[tuple, list[ClusterProposal]] = OrderedDict()
_LOCK = threading.Lock()


def _recall(memory: OrderedDict, key):
    """A value kept in this server's memory (most recently used last), or None."""
    with _LOCK:
        if key in memory:
            memory.move_to_end(key)
            return memory[key]
    return None


def _keep(memory: OrderedDict, key, value, size: int):
    """Keep ``value`` under ``key``, dropping the least recently used beyond ``size``."""
    with _LOCK:
        memory[key] = value
        while len(memory) > size:
            memory.popitem(last=False)
    return value


def cache_dir(g) -> ProjectionCache:
    return ProjectionCache(g.home / "cache" / "projections")


def fingerprint_frame(ow) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per fingerprint with a 384-d embedding (id, hash, summary, learning id,
    created_at, clusters), and the embeddings in the same order."""
    fps = [f for f in ow.load_fingerprints() if f.embedding.shape == (DIM,)]
    membership = ow.cluster_membership()
    frame = pd.DataFrame(
        {
            "id": [f.id for f in fps],
            "hash": [f.hash for f in fps],
            "summary": [f.context_summary for f in fps],
            "learning_id": [f.associated_learning for f in fps],
            "created_at": pd.to_datetime([f.created_at for f in fps], utc=True),
            "cluster_id": [(membership.get(f.hash) or [None])[0] for f in fps],
        }
    )
    emb = np.stack([f.embedding for f in fps]) if fps else np.zeros((0, DIM), np.float32)
    return frame, emb


def projection(g, ids: list[str], emb: np.ndarray) -> Projection:
    """The 2-D UMAP projection of these fingerprints: from memory, from the disk cache, or
    computed while a progress bar shows the stage, UMAP's epochs and the time taken (the
    first run compiles numba, about 30-60 s)."""
    key = projection_key(ids, emb)
    if (kept := _recall(_PROJ, key)) is not None:
        return kept
    cache = cache_dir(g)
    if key in cache:
        proj = project(ids, emb, cache=cache)
    else:
        with st.status(
            f"Projecting {len(ids):,} fingerprints with UMAP...", expanded=True
        ) as status:
            st.caption(
                "The first projection in a server compiles numba: about 30-60 s. "
                "The result is kept, so this happens once per set of fingerprints."
            )
            bar = st.progress(0.0, text="starting")
            seen = {"stage": "starting", "fraction": 0.0}  # written by the worker thread
            start = time.monotonic()
            with ThreadPoolExecutor(1) as pool:
                job = pool.submit(
                    project,
                    ids,
                    emb,
                    cache=cache,
                    progress=lambda stage, fraction: seen.update(stage=stage, fraction=fraction),
                )
                while not job.done():
                    took = time.monotonic() - start
                    bar.progress(seen["fraction"], text=f"{seen['stage']} · {took:.0f} s")
                    wait_for([job], timeout=0.5)
                proj = job.result()
            how = {
                "umap": "fitted",
                "transform": "new points placed into the earlier map",
                "cache": "from the cache",
                "trivial": "too few points for UMAP",
            }
            status.update(
                label=f"Projected {len(ids):,} fingerprints ({how.get(proj.method, proj.method)}) "
                f"in {time.monotonic() - start:.0f} s",
                state="complete",
                expanded=False,
            )
    return _keep(_PROJ, key, proj, 4)


def map_frame(g, ow, labels: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`fingerprint_frame` with each fingerprint's place on the map (``x``, ``y``),
    its cluster label (``cluster``) and the name of its learning (``learning``)."""
    frame, emb = fingerprint_frame(ow)
    if frame.empty:
        return frame, emb
    proj = projection(g, frame["id"].tolist(), emb)
    frame = frame.merge(proj.frame, on="id")
    frame.attrs["projection_key"] = proj.key
    frame["cluster"] = frame["cluster_id"].map(labels).fillna(UNCLUSTERED)
    names = ow.learning_labels(frame["learning_id"].dropna().unique())
    frame["learning"] = frame["learning_id"].map(
        lambda i: short(names.get(i, i).replace("**", ""), 60) if pd.notna(i) else "none"
    )
    frame.attrs["learning_names"] = names
    return frame, emb


def proposals(
    frame: pd.DataFrame,
    emb: np.ndarray,
    min_size: int,
    existing: set[str],
    exclude: set[str],
) -> list[ClusterProposal]:
    """HDBSCAN proposals (:func:`propose_clusters`) for a :func:`map_frame`, kept in memory
    for the same fingerprints and arguments: the map page reruns on every click."""
    key = (
        frame.attrs["projection_key"],
        int(min_size),
        frozenset(existing),
        frozenset(exclude),
    )
    if (kept := _recall(_PROPOSALS, key)) is not None:
        return kept
    found = propose_clusters(
        frame["id"].tolist(),
        emb,
        min_cluster_size=int(min_size),
        existing_member_ids=existing,
        exclude_ids=exclude,
    )
    return _keep(_PROPOSALS, key, found, 8)


def cluster_labels(clusters) -> dict[str, str]:
    """Cluster id -> ``Cluster 3 · 1a2b3c4d`` (numbered by age)."""
    return {c.id: f"Cluster {i} · {c.id[-8:]}" for i, c in enumerate(clusters, start=1)}


def ago(ts: datetime | pd.Timestamp) -> str:
    """``3 h ago`` style age of a timestamp."""
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize(UTC)
    sec = (pd.Timestamp.now(tz=UTC) - ts).total_seconds()
    if sec < 90:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if sec >= size:
            return f"{int(sec // size)} {unit} ago"
    return "just now"


def short(text: str, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"
