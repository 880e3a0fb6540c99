"""Embeddings of learnings: the text a learning is embedded by, the tier's embedding cache,
re-embedding what another program wrote without one, and Cozo's HNSW index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from groove_core.embed import DIM, content_hash
from groove_core.errors import EmbeddingError, ReadOnlyTierError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning, LearningContent
from groove_core.model.serde import check_uuid
from groove_core.progress import Progress, ProgressFn
from groove_core.store.base import StoreBase
from groove_core.store.migrations.m001_initial import SEMANTIC_INDEX
from groove_core.store.rows import LEARNING_ATOM, LEARNING_HEAD, row_to_learning
from groove_core.store.writer import target

if TYPE_CHECKING:
    import numpy as np


PUT_EMBEDDING = (
    "?[learning_id, embedding] <- $embeddings :put learning_embeddings {learning_id => embedding}"
)
DROP_SEMANTIC_INDEX = "::hnsw drop learning_embeddings:semantic_idx"
#: Bulk writes of at least this many learnings may rebuild the HNSW index (see store_many).
BULK_MIN_ROWS = 200
#: Cost of one HNSW insert relative to one row of an index build (measured, see above).
INSERT_TO_BUILD_COST = 20


#: The last paragraph of an imported rule's insight names its heading path this way
#: (written by :mod:`groove_core.io.rules`, which the store does not import).
CONTEXT_LINE = "Context: {heading}"


def text_for_embedding(content: LearningContent) -> str:
    """The text a learning is embedded by, each piece once: the ``heading`` of its pattern
    when it has one (imported rules keep their file's heading path there, the context a
    single rule line lacks, first like a title field in document retrieval, so that a
    long insight cut at the model's input limit keeps it), then the description unless
    the insight starts with it, then the insight without a last paragraph that only
    repeats the heading (:data:`CONTEXT_LINE`)."""
    parts = []
    insight = content.insight
    heading = content.pattern.get("heading") if isinstance(content.pattern, dict) else None
    if isinstance(heading, str) and heading.strip():
        parts.append(heading)
        insight = insight.removesuffix("\n\n" + CONTEXT_LINE.format(heading=heading))
    if not content.insight.startswith(content.description.rstrip("…")):
        parts.append(content.description)
    parts.append(insight)
    return "\n".join(p for p in parts if p.strip())


class EmbeddingsMixin(StoreBase):
    """Embedding learnings and their index (part of ``LearningStore``)."""

    def embed_texts(
        self,
        texts: Sequence[str],
        progress: ProgressFn | None = None,
        batch_size: int = 512,
    ) -> np.ndarray:
        """Embeddings of ``texts`` as float32 ``(n, 384)``, each distinct text embedded once:
        the tier's ``embedding_cache`` (keyed by content hash) is read first and filled
        with what had to be computed (unless this process may only read the tier).
        ``progress`` gets a :class:`Progress` ``("embedding", done, total)`` after each
        batch, counting the texts computed (cached ones are not).

        The texts to compute are sorted by length and passed to the model ``batch_size``
        at a time, so its own mini-batches hold texts of similar length (little padding:
        about 5x faster than unsorted batches of 64 with all-MiniLM-L6-v2 on 2 cores).

        Raises:
            EmbeddingError: no embedder is configured or it returned the wrong shape.
        """
        import numpy as np  # not at module level: opening a store does not need it

        if self.embedder is None:
            raise EmbeddingError(f"tier '{self.tier}' has no embedder configured")
        model = self.embedder.name
        keys = [content_hash(t, model) for t in texts]
        unique = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(unique), 2000):
            chunk = unique[start : start + 2000]
            res = self.db.run(
                "?[content_hash, embedding] := content_hash in $keys, "
                "*embedding_cache{content_hash, embedding}",
                {"keys": chunk},
                read_only=True,
            )
            for key, vec in res.rows:
                found[key] = np.asarray(vec, dtype=np.float32)
        first_text = {}
        for key, text in zip(keys, texts, strict=True):
            first_text.setdefault(key, text)
        missing = sorted((k for k in unique if k not in found), key=lambda k: len(first_text[k]))
        done = 0
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            vecs = np.asarray(self.embedder.embed([first_text[k] for k in batch]), np.float32)
            if vecs.shape != (len(batch), DIM) or not np.isfinite(vecs).all():
                raise EmbeddingError(
                    f"embedder {model} returned shape {vecs.shape}, expected ({len(batch)}, {DIM})"
                )
            if self._cache_writable:
                try:
                    self.db.run(
                        "?[content_hash, embedding] <- $rows "
                        ":put embedding_cache {content_hash => embedding}",
                        {"rows": [[k, v.tolist()] for k, v in zip(batch, vecs, strict=True)]},
                    )
                except ReadOnlyTierError:  # a reader's copy: the cache is only a cache
                    self._cache_writable = False
            found.update(zip(batch, vecs, strict=True))
            done += len(batch)
            if progress:
                progress(Progress("embedding", done, len(missing)))
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        """Embedding of a search query (cached like any text)."""
        return self.embed_texts([text])[0]

    def _vectors(
        self,
        learnings: Sequence[Learning],
        vectors: np.ndarray | Sequence | None,
        embed_progress: ProgressFn | None,
    ) -> np.ndarray | None:
        """The embeddings of ``learnings``: ``vectors`` checked and made float32
        ``(n, 384)``, else computed by the embedder (None without one).

        Raises: ValidationError (``vectors`` of the wrong shape), EmbeddingError."""
        import numpy as np  # not at module level: opening a store does not need it

        if vectors is not None:
            if len(vectors) != len(learnings):
                raise ValidationError("store_many needs one vector per learning")
            vectors = np.asarray(vectors, dtype=np.float32).reshape(len(learnings), -1)
            if vectors.shape[1:] != (DIM,) or not np.isfinite(vectors).all():
                raise ValidationError(f"vectors must be finite, {DIM} numbers each")
            return vectors
        if self.embedder is not None and learnings:
            texts = [text_for_embedding(lr.content) for lr in learnings]
            return self.embed_texts(texts, embed_progress)
        return None

    def _embedding_blocks(self, n_new: int) -> list[str]:
        """Statements that write ``$embeddings`` (``n_new`` rows). When building Cozo's
        HNSW index once over all rows is cheaper than inserting the new vectors one by
        one (measured on mnestic, 2 cores: about 20 ms per insert against about 1 ms per
        row for a build), the index is dropped before the load; the caller builds it
        again in a second transaction (:meth:`build_semantic_index`)."""
        if n_new >= BULK_MIN_ROWS:
            existing = self.db.run(
                "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
            ).scalar(0)
            if n_new * INSERT_TO_BUILD_COST >= existing + n_new:
                return [DROP_SEMANTIC_INDEX, PUT_EMBEDDING]
        return [PUT_EMBEDDING]

    def build_semantic_index(self) -> bool:
        """Build Cozo's own HNSW index of the embeddings when it is missing: after a bulk
        write dropped it (its own transaction, right after the write's: the rows are
        readable meanwhile, and Cozo-direct readers get the index when it is built; at
        100,000 embeddings the build took 329 s and 0.55 GB on 2 cores, and holds the
        tier's write lock), or when such a build failed. groove's own search does not
        need it (:mod:`groove_core.store.ann`). Returns whether it built.

        Raises:
            DatabaseError / TierBusyError: the build failed; the rows stay as written.
        """
        if "learning_embeddings:semantic_idx" in self.db.relations():
            return False
        self.db.run(SEMANTIC_INDEX)
        return True

    def embeddings_many(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings by learning id (float32 vectors), for those of ``ids`` that
        have one."""
        import numpy as np  # not at module level: opening a store does not need it

        res = self.db.run(
            "?[learning_id, embedding] := learning_id in $ids, "
            "*learning_embeddings{learning_id, embedding}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {r[0]: np.asarray(r[1], dtype=np.float32) for r in res.rows}

    def count_unembedded(self, learnings: int | None = None) -> int:
        """Number of learnings without a stored embedding (semantic search misses them).

        Embeddings are deleted with their learning, so when both relations hold as many
        rows none is missing and the exact (five times slower) count is skipped. Pass
        ``learnings``, the tier's :meth:`count` if the caller has it, to save counting
        again (0.3 s at 100,000 learnings)."""
        embedded = self.db.run(
            "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
        ).scalar(0)
        if embedded == (self.count() if learnings is None else learnings):
            return 0
        return int(
            self.db.run(
                "?[count(id)] := *learning:by_updated{id}, "
                "not *learning_embeddings{learning_id: id}",
                read_only=True,
            ).scalar(0)
        )

    def reembed(self, progress: ProgressFn | None = None, *, actor: Principal | None = None) -> int:
        """Compute embeddings for learnings that have none (e.g. written by another program).
        Returns how many were added.

        Raises: PermissionDeniedError, EmbeddingError."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_reembed, actor)
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := {LEARNING_ATOM}, not *learning_embeddings{{learning_id: id}}",
            read_only=True,
        )
        todo = self.skipped.decode(
            res.dicts(), lambda r: row_to_learning(r, self.tier), lambda r: r["id"]
        )
        if not todo:
            return 0
        vecs = self.embed_texts([text_for_embedding(lr.content) for lr in todo], progress)
        params = {"embeddings": [[lr.id, v.tolist()] for lr, v in zip(todo, vecs, strict=True)]}
        blocks = self._embedding_blocks(len(todo))
        self.writer.write(
            Action.learning_reembed,
            target([lr.id for lr in todo]),
            self._logged(blocks, params, [lr.id for lr in todo]),
            params,
            actor=actor,
            detail={"learnings": len(todo), "model": self.embedder.name},
        )
        if DROP_SEMANTIC_INDEX in blocks:
            self.build_semantic_index()
        return len(todo)


__all__ = [
    "BULK_MIN_ROWS",
    "CONTEXT_LINE",
    "DROP_SEMANTIC_INDEX",
    "EmbeddingsMixin",
    "PUT_EMBEDDING",
    "text_for_embedding",
]
