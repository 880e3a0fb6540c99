"""Search over one tier's learnings: semantic (HNSW), full-text (BM25) and hybrid
(reciprocal rank fusion of the two, Cormack, Clarke & Büttcher 2009)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from groove_core.errors import ValidationError
from groove_core.model.learning import MAX_TEXT, Learning
from groove_core.model.values import check_text
from groove_core.store.learnings import LearningFilter, LearningStore

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


def fulltext_query(text: str) -> str | None:
    """The engine's FTS query for free text: its words joined by OR (so documents that
    share more words rank higher, and operators typed by a user are just words)."""
    words = re.findall(r"\w+", text.lower())
    words = list(dict.fromkeys(w for w in words if w))
    return " OR ".join(words[:64]) if words else None


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
    """Semantic, full-text and hybrid search over a :class:`LearningStore`'s tier."""

    def __init__(self, learnings: LearningStore):
        self.learnings = learnings
        self.db = learnings.db

    def _filtered(self, ids: list[str], flt: LearningFilter | None) -> set[str]:
        if not ids:
            return set()
        flt = replace(flt or LearningFilter(), ids=ids)
        body, params = flt.body("*learning{id, scope, category, source_type}")
        res = self.db.run(f"?[id] := {body}", params, read_only=True)
        return {r[0] for r in res.rows}

    def semantic_ranked(
        self, query: str | np.ndarray, limit: int, flt: LearningFilter | None = None
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first, from the HNSW index ``semantic_idx``."""
        vec = self.learnings.embed_query(query) if isinstance(query, str) else np.asarray(query)
        if vec.shape != (384,):
            raise ValidationError(f"query vector must have shape (384,), got {vec.shape}")
        k = limit if flt is None else max(limit * 8, 100)
        res = self.db.run(
            "?[learning_id, score] := ~learning_embeddings:semantic_idx{learning_id, embedding "
            "| query: vec($q), k: $k, ef: $ef, bind_field: _f}, "
            "*learning_embeddings{learning_id, embedding}, "
            "score = 1.0 - cos_dist(embedding, vec($q)) :order -score :limit $k",
            {"q": vec.astype(np.float32).tolist(), "k": int(k), "ef": int(max(2 * k, 100))},
            read_only=True,
        )
        rows = [(i, float(s)) for i, s in res.rows]
        if flt is not None:
            keep = self._filtered([i for i, _ in rows], flt)
            rows = [r for r in rows if r[0] in keep]
        return rows[:limit]

    def fulltext_ranked(
        self, text: str, limit: int, flt: LearningFilter | None = None
    ) -> list[tuple[str, float]]:
        """(id, BM25 score) best first, from the full-text index ``text_idx``."""
        query = fulltext_query(text)
        if query is None:
            return []
        k = limit if flt is None else max(limit * 8, 100)
        res = self.db.run(
            "?[id, score] := ~learning:text_idx{id | query: $q, k: $k, bind_score: score} "
            ":order -score, id :limit $k",
            {"q": query, "k": int(k)},
            read_only=True,
        )
        rows = [(i, float(s)) for i, s in res.rows]
        if flt is not None:
            keep = self._filtered([i for i, _ in rows], flt)
            rows = [r for r in rows if r[0] in keep]
        return rows[:limit]

    def search(
        self,
        text: str,
        *,
        mode: str = "hybrid",
        limit: int = 10,
        flt: LearningFilter | None = None,
        rrf_k: int = RRF_K,
    ) -> list[SearchHit]:
        """Search learnings by ``text``; ``mode`` is semantic, fulltext or hybrid.

        Hybrid takes up to ``max(3 * limit, 50)`` candidates from each leg and fuses their
        ranks with RRF; each hit keeps both legs' ranks and scores.

        Raises:
            ValidationError: unknown mode, limit < 1, or text that cannot be stored (see
            :func:`groove_core.model.values.check_text`). EmbeddingError: no embedder
            (semantic and hybrid modes).
        """
        if mode not in MODES:
            raise ValidationError(f"unknown search mode {mode!r:.80} (use {', '.join(MODES)})")
        if int(limit) < 1:
            raise ValidationError("limit must be at least 1")
        if not check_text(text, "search text", max_chars=MAX_TEXT).strip():
            return []
        depth = limit if mode != "hybrid" else max(3 * limit, 50)
        sem = self.semantic_ranked(text, depth, flt) if mode != "fulltext" else []
        txt = self.fulltext_ranked(text, depth, flt) if mode != "semantic" else []
        sem_pos = {i: (r, s) for r, (i, s) in enumerate(sem, start=1)}
        txt_pos = {i: (r, s) for r, (i, s) in enumerate(txt, start=1)}
        if mode == "semantic":
            order = [(i, s) for i, s in sem]
        elif mode == "fulltext":
            order = [(i, s) for i, s in txt]
        else:
            fused = rrf({"semantic": [i for i, _ in sem], "fulltext": [i for i, _ in txt]}, rrf_k)
            order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        order = order[:limit]
        by_id = {lr.id: lr for lr in self.learnings.get_many([i for i, _ in order])}
        hits = []
        for item, score in order:
            if item not in by_id:
                continue
            sr, ss = sem_pos.get(item, (None, None))
            tr, ts = txt_pos.get(item, (None, None))
            hits.append(SearchHit(by_id[item], float(score), mode, sr, ss, tr, ts))
        return hits
