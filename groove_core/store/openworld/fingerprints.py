"""Pattern fingerprints: stored, read by hash, searched by cosine distance through
the HNSW index ``pattern_fingerprint:embedding_idx``, associated with learnings, deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from groove_core.embed import DIM
from groove_core.errors import ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.openworld import (
    PatternFingerprint,
    hash_from_db,
    hash_to_db,
    parse_vector_json,
)
from groove_core.model.serde import check_uuid, from_unix
from groove_core.store.openworld.base import OpenWorldBase
from groove_core.store.openworld.rows import (
    FP_COLS,
    FP_VIBES,
    PUT_FP,
    fp_row,
)


@dataclass(frozen=True)
class SimilarFingerprint:
    """A fingerprint found by :meth:`OpenWorldStore.find_similar`, with its cosine
    distance to the query (0 = same direction)."""

    fingerprint: PatternFingerprint
    distance: float


class Fingerprints(OpenWorldBase):
    """Fingerprint methods of :class:`~groove_core.store.openworld.OpenWorldStore`."""

    def save_fingerprint(self, fp: PatternFingerprint, *, actor: Principal | None = None) -> None:
        """Store one fingerprint (replacing the same hash)."""
        self.save_fingerprints([fp], actor=actor)

    def save_fingerprints(
        self, fps: Sequence[PatternFingerprint], *, actor: Principal | None = None
    ) -> int:
        """Store fingerprints in one transaction; returns how many."""
        self._writable()
        return self._observe("fingerprints", PUT_FP, "fps", [fp_row(fp) for fp in fps], actor)

    def _fp_from_row(self, r: dict) -> PatternFingerprint:
        vec = r.get("embedding")
        emb = (
            np.asarray(vec, np.float32)
            if vec is not None
            else parse_vector_json(
                r["embedding_json"], f"embedding_json of fingerprint {r['hash']}"
            )
        )
        return PatternFingerprint(
            hash=hash_from_db(r["hash"]),
            embedding=emb,
            context_summary=r["context_summary"],
            associated_learning=r.get("associated_learning"),
            created_at=from_unix(r["created_at"]),
        )

    def _fp_query(self, cond: str = "", params: dict | None = None) -> list[PatternFingerprint]:
        cols = FP_COLS if self._readable() == "groove" else FP_VIBES
        body = (f"{cond}, " if cond else "") + f"*pattern_fingerprint{{{cols}}}"
        res = self.db.run(
            f"?[{cols}] := {body} :order created_at, hash", params or {}, read_only=True
        )
        return [self._fp_from_row(r) for r in res.dicts()]

    def load_fingerprints(self) -> list[PatternFingerprint]:
        """Every fingerprint, oldest first."""
        return self._fp_query()

    def get_fingerprint(self, hash_: int) -> PatternFingerprint | None:
        """The fingerprint with this u64 hash, or None."""
        found = self.get_fingerprints([hash_])
        return found[0] if found else None

    def get_fingerprints(self, hashes: Iterable[int]) -> list[PatternFingerprint]:
        """The fingerprints among ``hashes`` that exist (oldest first)."""
        keys = [hash_to_db(h) for h in hashes]
        if not keys:
            return []
        return self._fp_query("hash in $keys", {"keys": keys})

    def count_fingerprints(self) -> int:
        """Number of stored fingerprints."""
        self._readable()
        return int(
            self.db.run("?[count(hash)] := *pattern_fingerprint{hash}", read_only=True).scalar(0)
        )

    def find_similar(
        self,
        embedding: Any,
        limit: int = 10,
        *,
        ef: int = 50,
    ) -> list[SimilarFingerprint]:
        """Nearest fingerprints with their cosine distances, through the HNSW index
        ``pattern_fingerprint:embedding_idx`` (exact search on a vibes-shaped tier, which
        has no index)."""
        q = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if q.shape != (DIM,) or not np.isfinite(q).all():
            raise ValidationError(f"query embedding must be {DIM} finite numbers")
        limit = int(limit)
        if limit < 1:
            raise ValidationError("limit must be >= 1")
        if self._readable() == "vibes" or not self._has("pattern_fingerprint:embedding_idx"):
            fps = self.load_fingerprints()
            if not fps:
                return []
            mat = np.stack([f.embedding for f in fps if f.embedding.shape == (DIM,)])
            fps = [f for f in fps if f.embedding.shape == (DIM,)]
            sims = (mat @ q) / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q) + 1e-12)
            order = np.argsort(-sims, kind="stable")[:limit]
            return [SimilarFingerprint(fps[i], float(1.0 - sims[i])) for i in order]
        res = self.db.run(
            f"?[{FP_COLS}, dist] := ~pattern_fingerprint:embedding_idx{{hash | query: vec($q), "
            f"k: $k, ef: $ef, bind_distance: dist}}, *pattern_fingerprint{{{FP_COLS}}} "
            ":order dist",
            {"q": q.tolist(), "k": limit, "ef": max(int(ef), limit)},
            read_only=True,
        )
        return [SimilarFingerprint(self._fp_from_row(r), float(r["dist"])) for r in res.dicts()]

    def set_associated_learning(
        self,
        hashes: Iterable[int],
        learning_id: str | None,
        *,
        actor: Principal | None = None,
    ) -> int:
        """Associate fingerprints with a learning (or clear it); returns how many."""
        self._writable()
        lid = check_uuid(learning_id, "learning id") if learning_id else None
        keys = [hash_to_db(h) for h in hashes]
        if not keys:
            return 0
        self._write(
            Action.openworld_curate,
            lid or "fingerprints",
            [
                "?[hash, associated_learning] := hash in $keys, *pattern_fingerprint{hash}, "
                "associated_learning = $lid "
                ":update pattern_fingerprint {hash => associated_learning}"
            ],
            {"keys": keys, "lid": lid},
            actor,
            detail={"fingerprints": len(keys)},
        )
        return len(keys)

    def delete_fingerprints(self, hashes: Iterable[int], *, actor: Principal | None = None) -> int:
        """Remove fingerprints and their cluster memberships (one transaction)."""
        self._writable()
        keys = [hash_to_db(h) for h in hashes]
        if not keys:
            return 0
        self._write(
            Action.openworld_curate,
            "fingerprints",
            [
                "?[cluster_id, fingerprint_hash] := fingerprint_hash in $keys, "
                "*cluster_member{cluster_id, fingerprint_hash} "
                ":rm cluster_member {cluster_id, fingerprint_hash}",
                "?[hash] := hash in $keys, *pattern_fingerprint{hash} "
                ":rm pattern_fingerprint {hash}",
            ],
            {"keys": keys},
            actor,
            detail={"deleted_fingerprints": keys},
        )
        return len(keys)
