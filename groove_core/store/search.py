"""Search over one tier's learnings: semantic (HNSW), full-text (BM25) and hybrid
(reciprocal rank fusion of the two, Cormack, Clarke & Büttcher 2009), answered from
derived indexes that follow the tier's change log (:mod:`groove_core.store.changelog`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from groove_core.embed import DIM
from groove_core.errors import ValidationError
from groove_core.model.learning import Learning
from groove_core.store import changelog
from groove_core.store.ann import DEFAULT_EF, VectorIndex
from groove_core.store.derived import DerivedIndex
from groove_core.store.fulltext import TextIndex
from groove_core.store.learnings import LearningFilter, LearningStore
from groove_core.store.rows import LEARNING_HEAD, row_to_learning

MODES = ("semantic", "fulltext", "hybrid")
RRF_K = 60  # Cormack et al. 2009


@dataclass(frozen=True)
class SearchHit:
    """One search result with its score breakdown.

    ``score`` is what the result list is ordered by: cosine similarity in [-1, 1] for
    semantic, the engine's BM25 score for fulltext, the RRF sum for hybrid. Each leg's
    1-based rank and raw score are kept (None when the leg did not return the learning).
    """

    learning: Learning
    score: float
    mode: str
    semantic_rank: int | None = None
    semantic_score: float | None = None
    text_rank: int | None = None
    text_score: float | None = None

    def summary(self) -> dict:
        """Flat dict for tables and ``--json``: the learning's fields plus score columns."""
        return {
            **self.learning.summary(),
            "score": self.score,
            "semantic_rank": self.semantic_rank,
            "semantic_score": self.semantic_score,
            "text_rank": self.text_rank,
            "text_score": self.text_score,
        }


def rrf(rankings: dict[str, list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: ``score(d) = sum over lists of 1 / (k + rank(d))`` with
    1-based ranks (Cormack, Clarke & Büttcher, SIGIR 2009). ``rankings`` maps a list
    name to ids best first; returns id -> fused score."""
    fused: dict[str, float] = {}
    for ids in rankings.values():
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class SearchStore:
    """Semantic, full-text and hybrid search over a :class:`LearningStore`'s tier.

    Both legs answer from derived indexes that follow the tier's change log (an hnswlib
    graph, :class:`~groove_core.store.ann.VectorIndex`, and SQLite FTS5,
    :class:`~groove_core.store.fulltext.TextIndex`); before each answer they apply what
    any process committed since they last looked, so results match the tier. Cozo's own
    HNSW and FTS indexes stay for programs that read the tier directly.

    Args:
        learnings: the tier's learning store.
        ef: default HNSW search beam (see :data:`groove_core.store.ann.DEFAULT_EF`).
    """

    def __init__(self, learnings: LearningStore, *, ef: int = DEFAULT_EF):
        self.learnings = learnings
        self.db = learnings.db
        self.vectors = VectorIndex(self.db, ef)
        self.text = TextIndex(self.db)

    def sync(self) -> int:
        """Bring both derived indexes up to the tier's change log; returns its ``seq``."""
        head = changelog.head(self.db)
        self.vectors.sync(head)
        return self.text.sync(head)

    def _filtered(self, ids: list[str], flt: LearningFilter | None) -> set[str]:
        if not ids:
            return set()
        flt = replace(flt or LearningFilter(), ids=ids)
        body, params = flt.body("*learning{id, scope, category, source_type}")
        res = self.db.run(f"?[id] := {body}", params, read_only=True)
        return {r[0] for r in res.rows}

    def _post_filter(
        self, rows: list[tuple[str, float]], flt: LearningFilter | None
    ) -> list[tuple[str, float]]:
        if flt is None or flt == LearningFilter():
            return rows
        keep = self._filtered([i for i, _ in rows], flt)
        return [r for r in rows if r[0] in keep]

    def _exact(self, vec: np.ndarray, flt: LearningFilter, limit: int) -> list[tuple[str, float]]:
        """Exact cosine search over the learnings ``flt`` selects (for selective filters,
        where post-filtering the approximate neighbours would return too few)."""
        if flt.ids is not None:
            ids = sorted(self._filtered(list(flt.ids), flt))
        else:
            body, params = flt.body("*learning{id, scope, category, source_type}")
            ids = [r[0] for r in self.db.run(f"?[id] := {body}", params, read_only=True).rows]
        have, vecs = self.vectors.vectors(ids)
        if not have:
            return []
        scores = vecs @ (vec / (np.linalg.norm(vec) or 1.0))
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(have[i], float(scores[i])) for i in order]

    def semantic_ranked(
        self,
        query: str | np.ndarray,
        limit: int,
        flt: LearningFilter | None = None,
        *,
        ef: int | None = None,
        synced: bool = False,
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first, at most ``limit``.

        Approximate (HNSW) unless a filter is selective: the neighbours are oversampled
        (``max(8 * limit, 100)``) and filtered, and when fewer than ``limit`` survive
        while more may exist the filtered learnings are searched exactly. ``ef`` (the
        HNSW beam, default :data:`~groove_core.store.ann.DEFAULT_EF`) trades speed for
        recall. ``synced`` says the caller already ran :meth:`sync`.

        Raises:
            ValidationError: a query vector not of shape (384,). EmbeddingError: a text
            query and no embedder.
        """
        vec = self.learnings.embed_query(query) if isinstance(query, str) else np.asarray(query)
        if vec.shape != (DIM,):
            raise ValidationError(f"query vector must have shape ({DIM},), got {vec.shape}")
        vec = vec.astype(np.float32)
        if not synced:
            self.vectors.sync()
        if flt is None or flt == LearningFilter():
            return self.vectors.query(vec, limit, ef)
        k = max(limit * 8, 100)
        found = self.vectors.query(vec, k, ef)
        rows = self._post_filter(found, flt)
        if len(rows) < limit and len(found) == k:
            rows = self._exact(vec, flt, limit)
        return rows[:limit]

    def fulltext_ranked(
        self,
        text: str,
        limit: int,
        flt: LearningFilter | None = None,
        *,
        synced: bool = False,
    ) -> list[tuple[str, float]]:
        """(id, BM25 score; higher is better) best first, at most ``limit``; with a
        filter, ``max(8 * limit, 100)`` candidates are filtered."""
        if not synced:
            self.text.sync()
        if flt is None or flt == LearningFilter():
            return self.text.query(text, limit)
        return self._post_filter(self.text.query(text, max(limit * 8, 100)), flt)[:limit]

    def search(
        self,
        text: str,
        *,
        mode: str = "hybrid",
        limit: int = 10,
        flt: LearningFilter | None = None,
        rrf_k: int = RRF_K,
        ef: int | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Search learnings by ``text``; ``mode`` is semantic, fulltext or hybrid.

        Hybrid takes up to ``max(3 * limit, 50)`` candidates from each leg and fuses their
        ranks with RRF; each hit keeps both legs' ranks and scores. ``ef`` is the HNSW
        search beam (recall against speed); ``vector`` is the query's embedding when the
        caller has it (else ``text`` is embedded, cached like any text).

        Raises:
            ValidationError: unknown mode or limit < 1. EmbeddingError: no embedder (semantic
            and hybrid modes).
        """
        if mode not in MODES:
            raise ValidationError(f"unknown search mode {mode!r} (use {', '.join(MODES)})")
        if int(limit) < 1:
            raise ValidationError("limit must be at least 1")
        if not text or not text.strip():
            return []
        depth = limit if mode != "hybrid" else max(3 * limit, 50)
        query = text if vector is None else vector
        if isinstance(query, str) and mode != "fulltext":
            query = self.learnings.embed_query(query)
        legs: list[DerivedIndex] = []
        if mode != "fulltext":
            legs.append(self.vectors)
        if mode != "semantic":
            legs.append(self.text)
        head: changelog.Head | None = None
        for _ in range(3):  # optimistic: answer, then check the rows' snapshot of the log
            if head is not None:
                for leg in legs:
                    leg.sync(head)
            sem: list[tuple[str, float]] = []
            txt: list[tuple[str, float]] = []
            if mode != "fulltext":
                sem = self.semantic_ranked(query, depth, flt, ef=ef, synced=True)
            if mode != "semantic":
                txt = self.fulltext_ranked(text, depth, flt, synced=True)
            order = _ranked(mode, sem, txt, rrf_k)[:limit]
            by_id, seen = self._rows_with_head([i for i, _ in order])
            head = seen or changelog.head(self.db)
            if all(leg.covers(head) for leg in legs):
                break
        sem_pos = {i: (r, s) for r, (i, s) in enumerate(sem, start=1)}
        txt_pos = {i: (r, s) for r, (i, s) in enumerate(txt, start=1)}
        hits = []
        for item, score in order:
            if item not in by_id:
                continue
            sr, ss = sem_pos.get(item, (None, None))
            tr, ts = txt_pos.get(item, (None, None))
            hits.append(SearchHit(by_id[item], float(score), mode, sr, ss, tr, ts))
        return hits

    def _rows_with_head(self, ids: list[str]) -> tuple[dict[str, Learning], changelog.Head | None]:
        """The learnings among ``ids`` and the change log's head, read in ONE snapshot (one
        query), so the caller can tell whether its indexes covered that state. The head is
        None when no row came back."""
        if not ids:
            return {}, None
        res = self.db.run(
            f"?[head_seq, tier_uid, {LEARNING_HEAD}] := {changelog.HEAD_ATOM}, "
            f"id in $ids, *learning{{{LEARNING_HEAD}}}",
            {"ids": ids},
            read_only=True,
        )
        rows = res.dicts()
        if not rows:
            return {}, None
        head = changelog.Head(int(rows[0]["head_seq"]), rows[0]["tier_uid"])
        return {r["id"]: row_to_learning(r, self.db.tier) for r in rows}, head


def _ranked(
    mode: str, sem: list[tuple[str, float]], txt: list[tuple[str, float]], rrf_k: int
) -> list[tuple[str, float]]:
    """The result order of a search: one leg's, or both fused by RRF (ties by id)."""
    if mode == "semantic":
        return list(sem)
    if mode == "fulltext":
        return list(txt)
    fused = rrf({"semantic": [i for i, _ in sem], "fulltext": [i for i, _ in txt]}, rrf_k)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
