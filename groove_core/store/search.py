"""Search over one tier's learnings: semantic (HNSW), full-text (BM25) and hybrid
(reciprocal rank fusion of the two, Cormack, Clarke & Büttcher 2009), answered from
derived indexes that follow the tier's change log (:mod:`groove_core.store.changelog`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from groove_core.embed import DIM
from groove_core.errors import ValidationError
from groove_core.model.learning import MAX_TEXT, Learning
from groove_core.model.usage import UsageStats
from groove_core.model.values import check_text
from groove_core.progress import ProgressFn
from groove_core.store import changelog
from groove_core.store.ann import DEFAULT_EF, VectorIndex
from groove_core.store.docs import DocumentIndex
from groove_core.store.learnings import LearningStore
from groove_core.store.listing import DEFAULT_SORT, SORTS, LearningFilter, check_window
from groove_core.store.modes import DEFAULT_MODE, MODES

RRF_K = 60  # Cormack et al. 2009


@dataclass(frozen=True)
class SearchHit:
    """One search result with its score breakdown.

    ``score`` is what the result list is ordered by: cosine similarity in [-1, 1] for
    semantic, the engine's BM25 score for fulltext, the RRF sum for hybrid. Each leg's
    1-based rank and raw score are kept (None when the leg did not return the learning).
    ``usage`` is the learning's usage stats (None when it has no usage row).
    """

    learning: Learning
    score: float
    mode: str
    semantic_rank: int | None = None
    semantic_score: float | None = None
    text_rank: int | None = None
    text_score: float | None = None
    usage: UsageStats | None = None

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

    Searches answer from derived indexes that follow the tier's change log: an hnswlib
    graph (:class:`~groove_core.store.ann.VectorIndex`) and a document store holding each
    learning's row, usage stats and full-text index
    (:class:`~groove_core.store.docs.DocumentIndex`). Before each answer they apply what
    any process committed since they last looked, so results match the tier; on the sqlite
    engine a file stamp that proves nothing was committed
    (:func:`~groove_core.store.changelog.file_stamp`) spares the read of the log's head.
    Cozo's own HNSW index stays for programs that read the tier directly (its full-text
    index went in schema version 10: ``store/migrations/m010_drop_cozo_fulltext.py``).

    Args:
        learnings: the tier's learning store (its bulk writes then update these indexes).
        ef: default HNSW search beam (see :data:`groove_core.store.ann.DEFAULT_EF`).
    """

    def __init__(self, learnings: LearningStore, *, ef: int = DEFAULT_EF):
        self.learnings = learnings
        self.db = learnings.db
        self.vectors = VectorIndex(self.db, ef)
        self.docs = DocumentIndex(self.db, learnings.skipped)
        self._lock = threading.RLock()
        self._seq = 0
        self._stamp: changelog.FileStamp | None = None
        learnings.derived = self

    def sync(self, progress: ProgressFn | None = None, *, vectors: bool = True) -> int:
        """Bring the derived indexes up to the tier's change log (without ``vectors``,
        only the document store); returns the ``seq`` they cover. Costs two ``stat`` calls
        when the tier's files prove nothing was committed since the last full sync, else
        one read of the log's head. An index rebuilt from the tier (none saved, or a
        damaged one) reports :class:`~groove_core.progress.Progress` to ``progress`` as
        it reads."""
        stamp = changelog.file_stamp(self.db)  # before the head: see file_stamp
        indexes = [self.vectors, self.docs] if vectors else [self.docs]
        with self._lock:
            last = self._stamp
            if (
                last is not None
                and last.proves
                and last.same_files(stamp)
                and not any(index.check_due() for index in indexes)
            ):
                return self._seq
            head = changelog.head(self.db)
            if not vectors:  # the vector index is behind: the stamp proves nothing for it
                return self.docs.sync(head, progress, stamp)
            self.vectors.sync(head, progress, stamp)
            self._seq = self.docs.sync(head, progress, stamp)
            self._stamp = stamp
            return self._seq

    def facets(self) -> dict[str, dict[str, int]]:
        """:meth:`LearningStore.facets` answered by the derived document store (a
        ``GROUP BY`` in SQLite instead of three aggregations over the tier)."""
        self.sync(vectors=False)
        return self.docs.facets()

    def count(self, flt: LearningFilter | None = None) -> int:
        """:meth:`LearningStore.count` answered by the derived document store (the tier
        itself counts a filter by ids or by content-scan marks).

        Raises: ValidationError (an invalid filter value)."""
        where = (flt or LearningFilter()).equalities()
        if where is None:
            return self.learnings.count(flt)
        self.sync(vectors=False)
        return self.docs.count(where)

    def count_unembedded(self) -> int:
        """:meth:`LearningStore.count_unembedded` answered by the derived indexes: the
        document store's ids that the vector index lacks (about 40 ms at 100,000
        learnings instead of 0.5 s over the tier; none when both hold as many)."""
        with self._lock:
            self.sync()
            if self.docs.count({}) == len(self.vectors):
                return 0
            return sum(1 for i in self.docs.ids() if i not in self.vectors)

    def page(
        self,
        flt: LearningFilter | None = None,
        *,
        sort: str = DEFAULT_SORT,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Learning]:
        """:meth:`LearningStore.page` answered by the derived document store (an indexed
        ``ORDER BY ... LIMIT`` in SQLite). At 100,000 learnings a page of 50 by recency
        took 1-7 ms at any depth (about 20 ms with a category filter), where the tier took
        26-527 ms. A filter by ids or by content-scan marks is read from the tier.

        Raises: ValidationError (unknown sort, bad window or filter value)."""
        limit, offset = check_window(sort, limit, offset)
        where = (flt or LearningFilter()).equalities()
        if where is None:
            return self.learnings.page(flt, sort=sort, limit=limit, offset=offset)
        self.sync(vectors=False)
        return self.docs.page(where, SORTS[sort], limit, offset)

    def publish(
        self,
        before: changelog.Head,
        after: changelog.Head,
        rows: list[list],
        vectors: np.ndarray | None,
        *,
        empty: bool,
    ) -> None:
        """Apply a write this process just committed to the derived indexes and save them,
        from what the writer holds (no Cozo read): ``rows`` of the written learnings
        (:data:`groove_core.store.docs.COLS` order), their ``vectors`` (or None), the log
        head before and after the write (it must have been the only one in between) and
        whether the tier held no learning before (``empty``: indexes that do not exist
        yet are built from these rows). An index that does not cover ``before`` is left
        to catch up from the log at its next sync."""
        with self._lock:
            covered = (before.tier_uid, before.seq)
            if vectors is not None and len(vectors):
                ids = [r[0] for r in rows]
                mine = self.vectors.apply_batch(covered, after, ids, vectors)
                if not mine and empty:
                    self.vectors.apply_batch(None, after, ids, vectors)
            if self.docs.covered_state() == covered:
                self.docs.apply_rows(covered, after, [r[0] for r in rows], rows)
            elif empty and self.docs.covered_state() is None:
                self.docs.replace_all(after, [rows])

    def _rows(self, ids: list[str]) -> dict[str, tuple[Learning, UsageStats | None]]:
        return self.docs.rows(ids)

    def _post_filter(
        self, rows: list[tuple[str, float]], flt: LearningFilter | None
    ) -> list[tuple[str, float]]:
        if flt is None or flt == LearningFilter():
            return rows
        if flt.flagged:
            marked = self.learnings.marked([i for i, _ in rows])
            rows = [r for r in rows if r[0] in marked]
            if flt == LearningFilter(flagged=True):
                return rows
        found = self._rows([i for i, _ in rows])
        return [r for r in rows if r[0] in found and flt.matches(found[r[0]][0])]

    def _exact(self, vec: np.ndarray, flt: LearningFilter, limit: int) -> list[tuple[str, float]]:
        """Exact cosine search over the learnings ``flt`` selects (for selective filters,
        where post-filtering the approximate neighbours would return too few)."""
        if not self.learnings.has_marks_for(flt):
            return []
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
            self.sync()
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
        filter, the best ``max(8 * limit, 100)`` matches are filtered, then 8 times as many
        while fewer than ``limit`` pass and more matches exist (a selective filter may need
        every match); ``flagged`` asks the index for the flagged learnings' texts only."""
        if not synced:
            self.sync()
        if flt is None or flt == LearningFilter():
            return self.docs.query(text, limit)
        k = max(limit * 8, 100)
        among = None
        if flt.flagged:  # the index returns flagged texts only: the rest is left to check
            among, flt = self.learnings.flagged_ids(limit=None), replace(flt, flagged=False)
        while True:
            found = self.docs.query(text, k, among)
            rows = self._post_filter(found, flt)
            if len(rows) >= limit or len(found) < k:
                return rows[:limit]
            k *= 8

    def search(
        self,
        text: str,
        *,
        mode: str = DEFAULT_MODE,
        limit: int = 10,
        flt: LearningFilter | None = None,
        rrf_k: int = RRF_K,
        ef: int | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Search learnings by ``text``; ``mode`` is semantic, fulltext or hybrid.

        Hybrid takes up to ``max(3 * limit, 50)`` candidates from each leg and fuses their
        ranks with RRF; each hit keeps both legs' ranks and scores, and the learning's
        usage stats. ``ef`` is the HNSW search beam (recall against speed); ``vector`` is
        the query's embedding when the caller has it (else ``text`` is embedded, cached
        like any text).

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
        query = text if vector is None else vector
        if isinstance(query, str) and mode != "fulltext":
            query = self.learnings.embed_query(query)
        with self._lock:
            self.sync(vectors=mode != "fulltext")  # words alone need no vector index
            sem: list[tuple[str, float]] = []
            txt: list[tuple[str, float]] = []
            if mode != "fulltext":
                sem = self.semantic_ranked(query, depth, flt, ef=ef, synced=True)
            if mode != "semantic":
                txt = self.fulltext_ranked(text, depth, flt, synced=True)
            order = _ranked(mode, sem, txt, rrf_k)[:limit]
            rows = self._rows([i for i, _ in order])
        sem_pos = {i: (r, s) for r, (i, s) in enumerate(sem, start=1)}
        txt_pos = {i: (r, s) for r, (i, s) in enumerate(txt, start=1)}
        hits = []
        for item, score in order:
            if item not in rows:
                continue
            sr, ss = sem_pos.get(item, (None, None))
            tr, ts = txt_pos.get(item, (None, None))
            learning, usage = rows[item]
            hits.append(SearchHit(learning, float(score), mode, sr, ss, tr, ts, usage))
        return hits


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
