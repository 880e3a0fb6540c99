"""groove's derived vector index: an in-process HNSW graph (hnswlib) over a tier's
``learning_embeddings``, persisted beside the tier and kept current by the change log.

HNSW is the algorithm of Malkov & Yashunin, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs" (IEEE TPAMI, 2018);
``m``, ``ef_construction`` and ``ef`` are its parameters. hnswlib (the authors' library)
answers a top-10 query at 100,000 vectors in well under a millisecond, against tens of
milliseconds for Cozo's HNSW on SQLite (measured by ``benchmarks/bench_peer.py``).

Files (in :func:`groove_core.store.derived.index_dir`): ``vectors.json`` names the
current ``vectors-<token>.hnsw`` (the graph) and ``vectors-<token>.ids`` (one learning id
per label, empty for a deleted label) and records the tier and log ``seq`` they cover.
The pair is written first under a new token, then ``vectors.json`` is replaced atomically
(temp file + rename), so a reader never sees half a save. A missing, unreadable or
foreign file is rebuilt from Cozo.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Sequence

import hnswlib
import numpy as np

from groove_core.embed import DIM
from groove_core.progress import ProgressFn
from groove_core.store import changelog
from groove_core.store.derived import DerivedIndex, counted, read_rows
from groove_core.store.engine import Engine

#: HNSW graph degree and construction beam (Malkov & Yashunin 2018, section 4), as seed
#: 001 sets them for Cozo's index. With a construction beam of 100 one build of the rule
#: corpus answered one held-out query with no true neighbour at ``ef`` 64 (the build is
#: multi-threaded, so the graph varies); with 200, recall@10 was >= 0.9 on every one of
#: 210 queries and 1.000 on average.
M = 16
EF_CONSTRUCTION = 200
#: Default search beam: recall@10 >= 0.95 against exact search at 10,000 and 100,000
#: learnings (benchmarks/bench_peer.py); callers may pass their own ``ef``.
DEFAULT_EF = 64
#: Applied changes after which the persisted file is rewritten.
SAVE_AFTER = 1000
_FORMAT = 1
_CHUNK = 4096


def read_embeddings(
    db: Engine, ids: Sequence[str] | None = None, chunk: int = _CHUNK
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Stored embeddings as ``(ids, float32 (n, 384))`` chunks of at most ``chunk`` rows:
    of ``ids`` when given (absent ones left out), else of the whole tier in key order."""
    for rows in read_rows(db, "learning_embeddings", ["learning_id", "embedding"], ids, chunk):
        yield [r[0] for r in rows], np.asarray([r[1] for r in rows], np.float32)


class VectorIndex(DerivedIndex):
    """Approximate nearest neighbours by cosine similarity over one tier's embeddings.

    Args:
        db: the tier's engine (schema version 9 or later).
        ef: default search beam (larger: better recall, slower).
    """

    def __init__(self, db: Engine, ef: int = DEFAULT_EF):
        super().__init__(db)
        self.ef = int(ef)
        self._index: hnswlib.Index | None = None
        self._ids: list[str | None] = []  # label -> learning id (None: deleted)
        self._labels: dict[str, int] = {}
        self._state: tuple[str, int] | None = None
        self._unsaved = 0
        self._loaded_file = False

    # ------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, learning_id: object) -> bool:
        return learning_id in self._labels

    def query(self, vector: np.ndarray, k: int, ef: int | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest learnings to ``vector`` as (id, cosine similarity), best
        first. Call :meth:`sync` first to include every committed write.

        Exact (every indexed vector scored) when ``k`` is at least half the learnings
        indexed, or when the HNSW walk reaches fewer than ``k`` of them (hnswlib refuses
        then: a graph of many identical vectors)."""
        with self._lock:
            self._covered()  # reads the persisted index on first use
            live = len(self._labels)
            if self._index is None or live == 0:
                return []
            k = min(int(k), live)
            query = np.asarray(vector, np.float32)
            if 2 * k >= live:
                return self._exact(query, k)
            self._index.set_ef(max(int(ef or self.ef), k))
            try:
                labels, dists = self._index.knn_query(query, k=k)
            except RuntimeError:  # "Cannot return the results in a contiguous 2D array"
                return self._exact(query, k)
        return [
            (self._ids[int(lab)], 1.0 - float(d))
            for lab, d in zip(labels[0], dists[0], strict=True)
            if self._ids[int(lab)] is not None
        ]

    def _exact(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` indexed learnings most similar to ``query`` by exact cosine (the
        index keeps its vectors normalised). Caller holds the lock."""
        assert self._index is not None
        ids = list(self._labels)
        vecs = np.asarray(self._index.get_items(list(self._labels.values())), np.float32)
        scores = vecs @ (query / (np.linalg.norm(query) or 1.0))
        best = np.argsort(-scores, kind="stable")[:k]
        return [(ids[i], float(scores[i])) for i in best]

    def vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The indexed vectors of those ``ids`` that are indexed: (ids, float32 (n, 384))."""
        with self._lock:
            have = [i for i in ids if i in self._labels]
            if not have or self._index is None:
                return [], np.zeros((0, DIM), np.float32)
            labels = [self._labels[i] for i in have]
            return have, np.asarray(self._index.get_items(labels), np.float32)

    # ------------------------------------------------------------ derived index
    def _covered(self) -> tuple[str, int] | None:
        if self._state is None and not self._loaded_file:
            self._loaded_file = True
            self._load()
        return self._state

    def _refresh(self) -> None:
        """Load the persisted index when it covers a later point of this tier's log than
        the one in memory (a bulk load by another process saves its index: loading it
        beats re-reading every vector it added)."""
        if self._state is None or self.folder is None:
            return
        try:
            meta = json.loads((self.folder / "vectors.json").read_text())
        except (OSError, ValueError):
            return
        if meta.get("tier_uid") == self._state[0] and int(meta.get("seq", -1)) > self._state[1]:
            self._load()

    def apply_batch(
        self,
        covered: tuple[str, int] | None,
        head: changelog.Head,
        ids: list[str],
        vecs: np.ndarray,
    ) -> bool:
        """Add the vectors of ``ids`` (float32 ``(n, 384)``, e.g. those a bulk write just
        stored) and move the index from ``covered`` to ``head``, then save it. ``covered``
        None means the tier held no embedding before (the index starts empty). Nothing
        happens, and False is returned, when the index does not cover ``covered``."""
        with self._lock:
            if self._covered() != covered:
                return False
            if covered is None or self._index is None:
                self._index = self._new_index(len(ids) + 16)
                self._ids, self._labels = [], {}
            self._add(list(ids), np.asarray(vecs, np.float32))
            self._state = (head.tier_uid, head.seq)
            self.save()
            return True

    def _drift(self, full: bool = False) -> set[str]:
        """Learnings embedded in the tier but not here, or here but not embedded there,
        when the counts differ (a re-embedding in place is not seen)."""
        stored = self.db.run(
            "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
        ).scalar(0)
        if not full and int(stored) == len(self._labels):
            return set()
        res = self.db.run("?[learning_id] := *learning_embeddings{learning_id}", read_only=True)
        return {r[0] for r in res.rows} ^ set(self._labels)

    def _new_index(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=DIM)
        index.init_index(max_elements=max(capacity, 1024), ef_construction=EF_CONSTRUCTION, M=M)
        return index

    def _rebuild(self, head: changelog.Head, progress: ProgressFn | None = None) -> None:
        count = int(
            self.db.run(
                "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
            ).scalar(0)
        )
        self._index = self._new_index(int(count * 1.1) + 16)
        self._ids, self._labels = [], {}
        chunks = read_rows(
            self.db, "learning_embeddings", ["learning_id", "embedding"], None, _CHUNK
        )
        for rows in counted(chunks, "indexing vectors", count, progress):
            self._add([r[0] for r in rows], np.asarray([r[1] for r in rows], np.float32))
        self._state = (head.tier_uid, head.seq)
        self.save()

    def _add(self, ids: list[str], vecs: np.ndarray) -> None:
        """Insert or replace the vectors of ``ids``."""
        assert self._index is not None
        labels = []
        for learning_id in ids:
            label = self._labels.get(learning_id)
            if label is None:
                label = len(self._ids)
                self._ids.append(learning_id)
                self._labels[learning_id] = label
            else:
                with contextlib.suppress(RuntimeError):  # not marked deleted
                    self._index.unmark_deleted(label)
            labels.append(label)
        needed = len(self._ids)
        if needed > self._index.get_max_elements():
            self._index.resize_index(int(needed * 1.5) + 16)
        self._index.add_items(vecs, np.asarray(labels, dtype=np.int64))

    def _apply(self, ids: set[str], seq: int, tier_uid: str) -> None:
        if self._index is None:
            self._index = self._new_index(len(ids) + 16)
        present: set[str] = set()
        for chunk_ids, vecs in read_embeddings(self.db, sorted(ids)):
            self._add(chunk_ids, vecs)
            present.update(chunk_ids)
        for gone in ids - present:
            label = self._labels.pop(gone, None)
            if label is not None:
                self._index.mark_deleted(label)
                self._ids[label] = None
        self._state = (tier_uid, seq)
        self._unsaved += len(ids)
        if self._unsaved >= SAVE_AFTER:
            self.save()

    # ------------------------------------------------------------ files
    def save(self) -> None:
        """Write the index beside the tier (no-op for tiers without a file): the graph and
        the id list under a new token, then ``vectors.json`` by temp file + rename, then
        files of older tokens are removed once a minute old (a reader may still be
        opening them)."""
        if self.folder is None or self._index is None or self._state is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        token = f"{int(time.time())}-{secrets.token_hex(4)}"
        self._index.save_index(str(self.folder / f"vectors-{token}.hnsw"))
        (self.folder / f"vectors-{token}.ids").write_text(
            "\n".join(i or "" for i in self._ids), encoding="utf-8"
        )
        meta = {
            "format": _FORMAT,
            "token": token,
            "tier_uid": self._state[0],
            "seq": self._state[1],
            "labels": len(self._ids),
            "live": len(self._labels),
            "dim": DIM,
        }
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".vectors-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(meta, out)
        os.replace(tmp, self.folder / "vectors.json")
        self._unsaved = 0
        for old in self.folder.glob("vectors-*"):
            if token not in old.name and time.time() - old.stat().st_mtime > 60:
                old.unlink(missing_ok=True)

    def _load(self) -> None:
        """Read the persisted index if there is a sound one; leave the index empty (to be
        rebuilt) when it is missing or unreadable."""
        if self.folder is None:
            return
        try:
            meta = json.loads((self.folder / "vectors.json").read_text())
            if meta.get("format") != _FORMAT or meta.get("dim") != DIM:
                return
            token = meta["token"]
            ids = (self.folder / f"vectors-{token}.ids").read_text(encoding="utf-8").split("\n")
            if len(ids) != int(meta["labels"]):
                return
            index = hnswlib.Index(space="cosine", dim=DIM)
            index.load_index(str(self.folder / f"vectors-{token}.hnsw"), max_elements=len(ids))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return
        labels = {i: n for n, i in enumerate(ids) if i}
        self._index, self._ids, self._labels = index, [i or None for i in ids], labels
        self._state = (str(meta["tier_uid"]), int(meta["seq"]))
