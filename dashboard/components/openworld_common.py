"""Shared pieces of the open-world pages: the fingerprint frame, the UMAP projection
(computed by a background job of the server, cached on disk under
``<home>/cache/projections`` and in memory, its progress shown while the rest of the page
works) and the cluster labels."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import streamlit as st
from cachetools import LRUCache

from dashboard.components.progress import show
from dashboard.components.text import short
from groove_core.analysis.clustering import ClusterProposal, propose_clusters
from groove_core.analysis.projection import (
    Projection,
    ProjectionCache,
    cached_projection,
    project_in,
    projection_key,
)
from groove_core.embed import DIM
from groove_core.jobs import BackgroundJobs, Job

SIMULATE_HINT = (
    "From a terminal: `groove simulate --part openworld --corpus <folder of rule files>` "
    "fills a tier with synthetic open-world data (marked synthetic; "
    "`groove simulate --part openworld --remove` takes it out again)."
)
UNCLUSTERED = "unclustered"
#: UMAP's seed for the map: None lets umap-learn use every core (a seed makes it
#: single-threaded); the coordinates are cached, so the picture stays the same anyway.
MAP_SEED: int | None = None
#: Seconds between two looks at a running job.
POLL_S = 1.0
#: Up to this many fingerprints HDBSCAN's proposals are found while the page runs (under
#: a second); above, in the background (10,000 took minutes with its ball tree).
PROPOSALS_INLINE_MAX = 2000

#: Projections and proposals computed for this server in worker processes, one job per
#: fingerprint set (and arguments); two at once, one per core.
JOBS = BackgroundJobs(workers=2)
#: Finished projections and proposals kept in this server's memory (least recently used
#: dropped first); sessions run in threads, hence the lock.
_PROJ: LRUCache[str, Projection] = LRUCache(maxsize=4)
_PROPOSALS: LRUCache[str, list[ClusterProposal]] = LRUCache(maxsize=8)
_LOCK = threading.Lock()


def _recall(memory: LRUCache, key):
    """A value kept in this server's memory, or None."""
    with _LOCK:
        return memory.get(key)


def _keep(memory: LRUCache, key, value):
    """Keep ``value`` under ``key`` (the cache drops its least recently used entry)."""
    with _LOCK:
        memory[key] = value
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


def _in_background(key: str, fn, *args, description: str, **kwargs):
    """``fn``'s result once its background job for ``key`` is done (the job is then
    forgotten: the caller keeps the result), else that job, running or failed (started
    if no session has started it)."""
    job = JOBS.submit(key, fn, *args, description=description, **kwargs)
    if not job.done or job.error() is not None:
        return job
    JOBS.forget(key)
    return job.result()


def projection(g, frame: pd.DataFrame, emb: np.ndarray) -> Projection | Job:
    """The 2-D UMAP projection of a :func:`map_frame`'s fingerprints when it is ready
    (from memory or the disk cache), else the background :class:`Job` computing it (one
    job per fingerprint set, whichever session asks)."""
    key = frame.attrs["projection_key"]
    if (kept := _recall(_PROJ, key)) is not None:
        return kept
    ids = frame["id"].tolist()
    cache = cache_dir(g)
    found = cached_projection(ids, emb, cache=cache, random_state=MAP_SEED)
    if found is None:
        found = _in_background(
            key,
            project_in,
            str(cache.directory),
            ids,
            emb,
            random_state=MAP_SEED,
            description=f"Projecting {len(ids):,} fingerprints with UMAP",
        )
    return found if isinstance(found, Job) else _keep(_PROJ, key, found)


def placed(g, frame: pd.DataFrame, emb: np.ndarray) -> pd.DataFrame | None:
    """``frame`` with each fingerprint's place on the map (``x``, ``y``) when the
    projection is ready; else shows its progress (see :func:`job_progress`) and returns
    None, so the caller goes on without the map."""
    found = projection(g, frame, emb)
    if isinstance(found, Job):
        job_progress(
            found.key,
            "The map appears here when the projection is done; everything else on this "
            "page works meanwhile. The first projection in a server also compiles numba "
            "(about 30-60 s); the result is kept, so this happens once per set of "
            "fingerprints.",
        )
        return None
    out = frame.merge(found.frame, on="id")
    out.attrs.update(frame.attrs)
    return out


def job_progress(key: str, note: str = "") -> None:
    """A background job's progress bar (its stage and the seconds it has run) and
    ``note``, looked at again every :data:`POLL_S` s; the whole page runs again once the
    job is done. A failed job shows its error and a "Try again" button."""
    st.session_state[f"job_looks_{key}"] = 0  # this run of the page draws it afresh
    _job_progress(key, note)


@st.fragment(run_every=POLL_S)
def _job_progress(key: str, note: str) -> None:
    looks = st.session_state[f"job_looks_{key}"] = st.session_state.get(f"job_looks_{key}", 0) + 1
    job = JOBS.get(key)
    if job is None or (job.done and job.error() is None):
        if looks > 1:  # not within the page's own run: it would lose what that run showed
            st.rerun()  # ready: the page can show the result
        st.progress(1.0, text="done")
        return
    failure = job.error()
    if failure is not None:
        st.error(str(failure))
        if st.button("Try again", key=f"job_retry_{key}"):
            JOBS.forget(key)
            st.rerun()
        return
    show(job.progress, prefix=f"{job.description}: ", suffix=f" · {job.elapsed:.0f} s")
    if note:
        st.caption(note)


def map_frame(g, ow, labels: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`fingerprint_frame` with each fingerprint's cluster label (``cluster``) and the
    name of its learning (``learning``); ``attrs["projection_key"]`` names the set (see
    :func:`placed` for the coordinates)."""
    frame, emb = fingerprint_frame(ow)
    if frame.empty:
        return frame, emb
    frame.attrs["projection_key"] = projection_key(frame["id"].tolist(), emb)
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
) -> list[ClusterProposal] | Job:
    """HDBSCAN proposals (:func:`propose_clusters`) for a :func:`map_frame`: found at once
    up to :data:`PROPOSALS_INLINE_MAX` fingerprints, else by a background :class:`Job`
    (returned until it is done); kept in memory for the same fingerprints and arguments:
    the map page runs again on every click."""
    key = (
        "proposals:"
        + hashlib.sha256(
            json.dumps(
                [frame.attrs["projection_key"], int(min_size), sorted(existing), sorted(exclude)]
            ).encode()
        ).hexdigest()
    )
    if (kept := _recall(_PROPOSALS, key)) is not None:
        return kept
    if len(frame) <= PROPOSALS_INLINE_MAX:
        found = propose_clusters(
            frame["id"].tolist(),
            emb,
            min_cluster_size=int(min_size),
            existing_member_ids=existing,
            exclude_ids=exclude,
        )
        return _keep(_PROPOSALS, key, found)
    found = _in_background(
        key,
        propose_clusters,
        frame["id"].tolist(),
        emb,
        min_cluster_size=int(min_size),
        existing_member_ids=frozenset(existing),
        exclude_ids=frozenset(exclude),
        description=f"Looking for proposed clusters among {len(frame):,} fingerprints",
    )
    return found if isinstance(found, Job) else _keep(_PROPOSALS, key, found)


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
