"""Cluster proposals over fingerprint embeddings with scikit-learn's HDBSCAN.

Pure analysis: arrays in, frozen dataclasses out; no database access. A proposal is
only a suggestion shown on the dashboard; a person turns it into a stored
``anomaly_cluster`` (through the store, not here).

Metric: HDBSCAN runs with ``metric="euclidean"`` on the L2-normalised vectors (they
are normalised again here, defensively). For unit vectors
``|a - b|^2 = 2 - 2 cos(a, b)``, so Euclidean distance orders pairs exactly as cosine
distance does, and HDBSCAN's density tree (built from distance *orderings* through core
distances and the minimum spanning tree) finds the same clusters; Euclidean lets
scikit-learn use its fast paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from groove_core.analysis.projection import validate_embeddings
from groove_core.errors import ValidationError
from groove_core.progress import Progress, ProgressFn

__all__ = [
    "NOISE_LABEL",
    "ClusterProposal",
    "assign_labels",
    "centroid",
    "propose_clusters",
    "proposal_id_for",
]

NOISE_LABEL = "noise"
STAGE_HDBSCAN = "finding dense groups (HDBSCAN)"

_BRUTE_MAX_N = 5000
"""Up to this many points HDBSCAN uses the full distance matrix: in 384-d it is about
10x faster than scikit-learn's trees (5,000 points: ~1.5 s against ~19 s with a ball
tree, measured here) at a peak of about n^2 x 16 bytes (~400 MB at 5,000). Above it,
a ball tree (slow but with memory linear in n)."""


@dataclass(frozen=True)
class ClusterProposal:
    """A group of fingerprints HDBSCAN found dense enough to be a cluster.

    Attributes:
        proposal_id: ``"prop-"`` + 16 hex digits of sha256 over the sorted member ids;
            the same members always give the same id.
        member_ids: the members, sorted.
        centroid: float32 ``(384,)``, the L2-normalised mean of the members (read-only).
        size: number of members.
        mean_probability: mean HDBSCAN membership strength of the members, in ``[0, 1]``
            (scikit-learn's HDBSCAN does not expose cluster persistence).
        representative_id: the member closest to the centroid (to show as an example).
        label: for display, ``"Proposal 1"`` for the largest, and so on.
    """

    proposal_id: str
    member_ids: tuple[str, ...]
    centroid: np.ndarray = field(compare=False, repr=False)
    size: int
    mean_probability: float
    representative_id: str
    label: str


def proposal_id_for(member_ids: Iterable[str]) -> str:
    """Stable id of a proposal: a hash of its sorted member ids."""
    h = hashlib.sha256(b"groove-proposal-v1")
    for mid in sorted(member_ids):
        raw = mid.encode("utf-8")
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
    return "prop-" + h.hexdigest()[:16]


def _normalise(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """L2-normalised mean of one or more embeddings, float32 ``(dim,)``.

    Used for proposals and when a person makes a cluster from selected points. Raises
    :class:`ValidationError` for an empty selection, NaNs, or vectors that cancel out.
    """
    arr = np.asarray(embeddings)
    if arr.ndim == 1:
        arr = arr[None, :]
    ids = [str(i) for i in range(arr.shape[0])] if arr.ndim == 2 else []
    _, arr = validate_embeddings(ids, arr, allow_empty=False)
    mean = _normalise(arr).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        raise ValidationError("the selected embeddings cancel out; they have no mean direction")
    return (mean / norm).astype(np.float32)


def propose_clusters(
    ids: Sequence[str],
    embeddings: np.ndarray,
    *,
    min_cluster_size: int = 5,
    min_samples: int | None = None,
    existing_member_ids: set[str] | frozenset[str] = frozenset(),
    exclude_ids: set[str] | frozenset[str] = frozenset(),
    progress: ProgressFn | None = None,
) -> list[ClusterProposal]:
    """HDBSCAN's clusters that no stored cluster holds yet, largest first.

    HDBSCAN runs over every fingerprint except ``exclude_ids`` (e.g. those linked to a
    learning: known contexts, not anomalies). The members of stored clusters
    (``existing_member_ids``) stay in that input, so accepting one proposal leaves the
    clustering, and therefore the other proposals and their ids, unchanged. Afterwards a
    found cluster whose members are at least half stored is dropped; from the others the
    stored members are taken out, and what is left is proposed when it still has
    ``min_cluster_size`` members.

    ``min_samples`` defaults to ``min_cluster_size`` (scikit-learn's default) and is
    clamped to the number of points. Fewer points than ``min_cluster_size`` -> ``[]``.
    Rows are clustered in sorted-id order and ties in size are ordered by
    ``proposal_id``, so the result does not depend on the input order. ``progress``
    hears :data:`STAGE_HDBSCAN` when HDBSCAN starts (it reports nothing inside) and
    ``"done"`` at the end.
    """
    from sklearn.cluster import HDBSCAN

    id_list, arr = validate_embeddings(ids, embeddings)
    if isinstance(min_cluster_size, bool) or not isinstance(min_cluster_size, int | np.integer):
        raise ValidationError(f"min_cluster_size must be an integer; got {min_cluster_size!r}")
    if min_cluster_size < 2:
        raise ValidationError(f"min_cluster_size must be >= 2; got {min_cluster_size}")
    if min_samples is not None and (
        isinstance(min_samples, bool)
        or not isinstance(min_samples, int | np.integer)
        or min_samples < 1
    ):
        raise ValidationError(f"min_samples must be a positive integer; got {min_samples!r}")

    existing, excluded = set(existing_member_ids), set(exclude_ids)
    # Canonical row order (sorted ids): HDBSCAN breaks distance ties by position, so
    # this makes the proposals independent of the order the caller loaded the rows in.
    rows = [
        k
        for k in sorted(range(len(id_list)), key=id_list.__getitem__)
        if id_list[k] not in excluded
    ]
    id_arr = np.array([id_list[k] for k in rows], dtype=object)
    unit = _normalise(arr[rows]) if rows else np.zeros((0, arr.shape[1]))
    n = len(id_arr)
    if n < min_cluster_size or n < 2:
        return []

    samples = min(min_samples if min_samples is not None else min_cluster_size, n)
    if progress is not None:
        progress(Progress(STAGE_HDBSCAN, 0, 1, f"{n:,} fingerprints"))
    model = HDBSCAN(
        min_cluster_size=int(min_cluster_size),
        min_samples=int(samples),
        metric="euclidean",
        algorithm="brute" if n <= _BRUTE_MAX_N else "ball_tree",
        copy=False,  # `unit` is our own array
    )
    labels = model.fit_predict(unit)
    probs = model.probabilities_

    found = []
    for lab in np.unique(labels):
        if lab < 0:
            continue
        idx = np.flatnonzero(labels == lab)
        stored = np.array([i in existing for i in id_arr[idx]], dtype=bool)
        if 2 * stored.sum() >= len(idx) or len(idx) - stored.sum() < min_cluster_size:
            continue
        idx = idx[~stored]
        members = sorted(id_arr[idx].tolist())
        c = centroid(unit[idx])
        rep = str(id_arr[idx][int(np.argmax(unit[idx] @ c.astype(np.float64)))])
        found.append((members, c, float(np.mean(probs[idx])), rep))
    found.sort(key=lambda t: (-len(t[0]), proposal_id_for(t[0])))

    proposals = []
    for rank, (members, c, prob, rep) in enumerate(found, start=1):
        c.setflags(write=False)
        proposals.append(
            ClusterProposal(
                proposal_id=proposal_id_for(members),
                member_ids=tuple(members),
                centroid=c,
                size=len(members),
                mean_probability=prob,
                representative_id=rep,
                label=f"Proposal {rank}",
            )
        )
    if progress is not None:
        progress(Progress("done", 1, 1))
    return proposals


def assign_labels(ids: Sequence[str], proposals: Sequence[ClusterProposal]) -> pd.Series:
    """Each id's proposal label, or ``"noise"``; a Series indexed by id, named ``cluster``.

    Raises :class:`ValidationError` when an id belongs to two proposals.
    """
    owner: dict[str, str] = {}
    for prop in proposals:
        for mid in prop.member_ids:
            if mid in owner and owner[mid] != prop.label:
                raise ValidationError(
                    f"id {mid!r} is in two proposals ({owner[mid]!r} and {prop.label!r})"
                )
            owner[mid] = prop.label
    id_list = list(ids)
    return pd.Series(
        [owner.get(i, NOISE_LABEL) for i in id_list],
        index=pd.Index(id_list, name="id"),
        name="cluster",
        dtype=object,
    )
