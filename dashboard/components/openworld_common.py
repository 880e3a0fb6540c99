"""Shared pieces of the open-world pages: the reviewer's name, the tier picker, the
fingerprint frame, the UMAP projection (cached on disk under ``<home>/cache/projections``
and in memory, with progress while it runs) and the cluster labels."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import streamlit as st

from groove_core.analysis.projection import Projection, ProjectionCache, project, projection_key
from groove_core.embed import DIM
from groove_core.store.learnings import current_user

SIMULATE_HINT = (
    "From a terminal: `groove simulate openworld` fills a tier with synthetic open-world "
    "data (marked synthetic, removable with `--remove`)."
)
UNCLUSTERED = "unclustered"

_PROJ: OrderedDict[str, Projection] = OrderedDict()
_LOCK = threading.Lock()


def who() -> str:
    """The reviewer's name (sidebar), recorded with every change."""
    if "ow_who" not in st.session_state:
        st.session_state["ow_who"] = current_user()
    name = st.sidebar.text_input("Your name (recorded with changes)", key="ow_who")
    return name.strip() or current_user()


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
    computed with a progress bar (the first run compiles numba, about 30-60 s)."""
    key = projection_key(ids, emb)
    with _LOCK:
        if key in _PROJ:
            _PROJ.move_to_end(key)
            return _PROJ[key]
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

            def step(stage: str, fraction: float) -> None:
                bar.progress(fraction, text=stage)

            proj = project(ids, emb, cache=cache, progress=step)
            how = {
                "umap": "fitted",
                "transform": "new points placed into the earlier map",
                "cache": "from the cache",
                "trivial": "too few points for UMAP",
            }
            status.update(
                label=f"Projected {len(ids):,} fingerprints ({how.get(proj.method, proj.method)})",
                state="complete",
                expanded=False,
            )
    with _LOCK:
        _PROJ[key] = proj
        while len(_PROJ) > 4:
            _PROJ.popitem(last=False)
    return proj


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
