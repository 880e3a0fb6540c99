"""Open-world store (seed 000): fingerprints with HNSW search, anomaly clusters and their
members, capability gaps with their review history, failures and novelty events.

Two database shapes are read (told apart by the relations' columns, see
:meth:`OpenWorldStore.shape`):

- ``groove``: seed 000's relations as groove creates them (version 2) plus version 6's
  extras (``gap_history``, ``gap_context``, ``cluster_proposal_dismissed``,
  ``openworld_synthetic``);
- ``vibes``: what the shipped vibes-groove writes at version 2 (cluster members inside
  ``anomaly_cluster.members_json``, no ``associated_learning``, embeddings only as JSON,
  no HNSW index). Such a tier is read as it is; opening it through
  :class:`groove_core.tiers.Groove` migrates it to ``groove`` (version 6). Writes need
  the ``groove`` shape.

Every value is bound as a ``$param``; every write of several rows is one chained Cozo
program (one transaction). Fingerprint hashes are u64 in Python and two's complement
``Int`` in Cozo (:func:`groove_core.model.openworld.hash_to_db`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from groove_core.embed import DIM
from groove_core.errors import DatabaseError, NotFoundError, ValidationError
from groove_core.model.access import Action, Principal, os_principal
from groove_core.model.openworld import (
    AnomalyCluster,
    CapabilityGap,
    FailureRecord,
    FailureType,
    GapCategory,
    GapChange,
    GapSeverity,
    GapStatus,
    OpenWorldEvent,
    PatternFingerprint,
    SuggestedSolution,
    check_hash,
    dumps,
    f32_values,
    hash_from_db,
    hash_to_db,
    parse_vector_json,
    solutions_from_json,
    solutions_to_json,
    vector_json,
)
from groove_core.model.serde import check_uuid, from_unix, new_id, now, to_rfc3339, to_unix
from groove_core.store.engine import Engine
from groove_core.store.writer import TierWriter, target

# ---------------------------------------------------------------- statements
_FP_COLS = "hash, embedding_json, context_summary, associated_learning, created_at, embedding"
_FP_KEYED = "hash => embedding_json, context_summary, associated_learning, created_at, embedding"
_FP_VIBES = "hash, embedding_json, context_summary, created_at"
_PUT_FP = f"?[{_FP_COLS}] <- $fps :put pattern_fingerprint {{{_FP_KEYED}}}"
_CL_COLS = "id, centroid_json, member_count, created_at, last_seen"
_PUT_CL = (
    f"?[{_CL_COLS}] <- $clusters :put anomaly_cluster "
    "{id => centroid_json, member_count, created_at, last_seen}"
)
_PUT_MEMBERS = (
    "?[cluster_id, fingerprint_hash, added_at] <- $members "
    ":put cluster_member {cluster_id, fingerprint_hash => added_at}"
)
_GAP_COLS = (
    "id, category, severity, status, context_pattern, failure_count, first_seen, "
    "last_seen, solutions_json"
)
_PUT_GAP = (
    f"?[{_GAP_COLS}] <- $gaps :put capability_gap {{id => category, severity, "
    "status, context_pattern, failure_count, first_seen, last_seen, solutions_json}"
)
_HIST_COLS = "gap_id, change_id, at, who, action, old_status, new_status, note"
_PUT_HIST = (
    f"?[{_HIST_COLS}] <- $history :put gap_history {{gap_id, change_id => at, who, "
    "action, old_status, new_status, note}"
)
_PUT_CTX = (
    "?[gap_id, context_hash, added_at] <- $contexts "
    ":put gap_context {gap_id, context_hash => added_at}"
)
_FAIL_COLS = "id, session_id, failure_type, context_hash, learning_ids_json, timestamp"
_PUT_FAIL = (
    f"?[{_FAIL_COLS}] <- $failures :put failure_record {{id => session_id, "
    "failure_type, context_hash, learning_ids_json, timestamp}"
)
_EV_COLS = "id, event_type, event_data_json, timestamp"
_PUT_EV = (
    f"?[{_EV_COLS}] <- $events :put novelty_event {{id => event_type, event_data_json, timestamp}}"
)
_PUT_SYN = (
    "?[kind, key, run_id, at] <- $synthetic :put openworld_synthetic {kind, key => run_id, at}"
)

#: Sort rank of severities in Cozo (critical first).
_SEV_RANK = {s.value: s.rank for s in GapSeverity}


@dataclass(frozen=True)
class SimilarFingerprint:
    """A fingerprint found by :meth:`OpenWorldStore.find_similar`, with its cosine
    distance to the query (0 = same direction)."""

    fingerprint: PatternFingerprint
    distance: float


@dataclass(frozen=True)
class DismissedProposal:
    proposal_id: str
    at: datetime
    who: str
    member_hashes: tuple[int, ...]


@dataclass(frozen=True)
class OpenWorldBatch:
    """Rows to write in one transaction with :meth:`OpenWorldStore.write_batch`."""

    fingerprints: Sequence[PatternFingerprint] = ()
    clusters: Sequence[AnomalyCluster] = ()
    gaps: Sequence[CapabilityGap] = ()
    gap_contexts: dict[str, Sequence[int]] | None = None
    gap_history: Sequence[GapChange] = ()
    failures: Sequence[FailureRecord] = ()
    events: Sequence[OpenWorldEvent] = ()


def _fp_row(fp: PatternFingerprint) -> list:
    vec = fp.embedding.tolist() if fp.embedding.shape == (DIM,) else None
    return [
        hash_to_db(fp.hash),
        vector_json(fp.embedding),
        fp.context_summary,
        fp.associated_learning,
        to_unix(fp.created_at),
        vec,
    ]


def _gap_row(gap: CapabilityGap) -> list:
    return [
        gap.id,
        gap.category.value,
        gap.severity.value,
        gap.status.value,
        gap.context_pattern,
        gap.failure_count,
        to_unix(gap.first_seen),
        to_unix(gap.last_seen),
        solutions_to_json(gap.suggested_solutions),
    ]


def _hist_row(ch: GapChange) -> list:
    return [
        ch.gap_id,
        ch.change_id,
        to_unix(ch.at),
        ch.who,
        ch.action,
        ch.old_status.value if ch.old_status else None,
        ch.new_status.value if ch.new_status else None,
        ch.note,
    ]


def _fail_row(f: FailureRecord) -> list:
    return [
        f.id,
        f.session_id,
        f.failure_type.value,
        hash_to_db(f.context_hash),
        dumps(list(f.learning_ids)),
        to_unix(f.timestamp),
    ]


def _event_row(e: OpenWorldEvent) -> list:
    return [e.id, e.event_type, dumps(e.to_json()), to_unix(e.timestamp)]


def _row_to_gap(r: dict) -> CapabilityGap:
    return CapabilityGap(
        id=r["id"],
        category=r["category"],
        severity=r["severity"],
        status=r["status"],
        context_pattern=r["context_pattern"],
        failure_count=int(r["failure_count"]),
        first_seen=from_unix(r["first_seen"]),
        last_seen=from_unix(r["last_seen"]),
        suggested_solutions=solutions_from_json(r["solutions_json"]),
    )


def _row_to_failure(r: dict) -> FailureRecord:
    try:
        ids = json.loads(r["learning_ids_json"] or "[]")
    except ValueError as err:
        raise ValidationError(f"failure {r['id']}: learning_ids_json is not JSON") from err
    return FailureRecord(
        id=r["id"],
        session_id=r["session_id"],
        failure_type=r["failure_type"],
        context_hash=hash_from_db(r["context_hash"]),
        learning_ids=tuple(ids),
        timestamp=from_unix(r["timestamp"]),
    )


def _event_filter(
    since: datetime | None, until: datetime | None, event_types: Iterable[str] | None
) -> tuple[str, dict[str, Any]]:
    """Conditions on ``novelty_event`` rows (time window, types) and their parameters."""
    conds = ["timestamp >= $since"]
    params: dict[str, Any] = {"since": to_unix(since) if since else -(2**62)}
    if until is not None:
        conds.append("timestamp < $until")
        params["until"] = to_unix(until)
    if event_types is not None:
        conds.append("is_in(event_type, $types)")
        params["types"] = [str(t) for t in event_types]
    return ", ".join(conds), params


def _row_to_event(r: dict) -> OpenWorldEvent:
    try:
        data = json.loads(r["event_data_json"])
    except ValueError:
        data = {r["event_type"]: {"raw": r["event_data_json"]}}
    if not isinstance(data, dict | str):
        data = {r["event_type"]: {"value": data}}
    event = OpenWorldEvent.from_json(data, id=r["id"], timestamp=from_unix(r["timestamp"]))
    return event


class OpenWorldStore:
    """Typed access to the open-world relations of one tier (seed 000 ``OpenWorldStore``).

    Args:
        db: the tier's open engine.
        learnings: the tier's :class:`~groove_core.store.learnings.LearningStore` (its
            embedder and embedding cache; learning descriptions for labels).

    Writes take an ``actor`` (default: the tier's principal). Recording what the assistant
    observed (fingerprints, clusters it formed, gaps, failures, events) needs the
    contributor role in an enterprise tier; a person's curation (clusters made or changed
    by hand, gap review, dismissals, deletions) needs a curator.
    """

    def __init__(self, db: Engine, learnings: Any = None):
        self.db = db
        self.learnings = learnings
        self.writer: TierWriter = (
            learnings.writer if learnings is not None else TierWriter(db, os_principal())
        )
        self._shape: str | None = None

    def _write(
        self,
        action: Action,
        target: str,
        blocks: list[str],
        params: dict[str, Any],
        actor: Principal | None,
        **audit: Any,
    ) -> None:
        self.writer.write(action, target, blocks, params, actor=actor, **audit)

    @property
    def tier(self) -> str:
        return self.db.tier

    # ------------------------------------------------------------ shape
    def shape(self) -> str:
        """``groove``, ``vibes`` (vibes-groove's v2 shape) or ``none`` (no open-world
        relations), from the relations' columns."""
        if self._shape is None:
            fp = self.db.columns("pattern_fingerprint")
            cl = self.db.columns("anomaly_cluster")
            if not fp:
                self._shape = "none"
            elif "members_json" in cl or not {"associated_learning", "embedding"} <= set(fp):
                self._shape = "vibes"
            else:
                self._shape = "groove"
        return self._shape

    def refresh(self) -> None:
        """Look at the relations again (after a migration)."""
        self._shape = None

    def _readable(self) -> str:
        shape = self.shape()
        if shape == "none":
            raise DatabaseError(f"tier '{self.tier}' has no open-world relations (schema < 2)")
        return shape

    def _writable(self) -> None:
        if self.shape() != "groove":
            raise DatabaseError(
                f"tier '{self.tier}' holds vibes-groove's open-world shape; open it with groove "
                "(which migrates it to schema 6) before changing open-world data"
            )

    def _has(self, relation: str) -> bool:
        return relation in self.db.relations()

    # ------------------------------------------------------------ fingerprints
    def save_fingerprint(self, fp: PatternFingerprint, *, actor: Principal | None = None) -> None:
        """Store one fingerprint (replacing the same hash)."""
        self.save_fingerprints([fp], actor=actor)

    def save_fingerprints(
        self, fps: Sequence[PatternFingerprint], *, actor: Principal | None = None
    ) -> int:
        """Store fingerprints in one transaction; returns how many."""
        self._writable()
        rows = [_fp_row(fp) for fp in fps]
        if rows:
            self._write(
                Action.openworld_observe,
                "fingerprints",
                [_PUT_FP],
                {"fps": rows},
                actor,
                detail={"fingerprints": len(rows)},
            )
        return len(rows)

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
        cols = _FP_COLS if self._readable() == "groove" else _FP_VIBES
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

    def find_similar_fingerprints(
        self,
        embedding: Any,
        limit: int = 10,
    ) -> list[PatternFingerprint]:
        """The ``limit`` fingerprints nearest to ``embedding`` (cosine), nearest first."""
        return [s.fingerprint for s in self.find_similar(embedding, limit)]

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
            f"?[{_FP_COLS}, dist] := ~pattern_fingerprint:embedding_idx{{hash | query: vec($q), "
            f"k: $k, ef: $ef, bind_distance: dist}}, *pattern_fingerprint{{{_FP_COLS}}} "
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

    # ------------------------------------------------------------ clusters
    def load_clusters(self) -> list[AnomalyCluster]:
        """Every anomaly cluster with its members, oldest first."""
        return self._clusters()

    def get_cluster(self, cluster_id: str) -> AnomalyCluster | None:
        """One anomaly cluster with its members, or None. ValidationError: not a UUID."""
        found = self._clusters(check_uuid(cluster_id, "cluster id"))
        return found[0] if found else None

    def require_cluster(self, cluster_id: str) -> AnomalyCluster:
        """One anomaly cluster; NotFoundError when there is none with this id."""
        found = self.get_cluster(cluster_id)
        if found is None:
            raise NotFoundError(f"no anomaly cluster {cluster_id} in tier '{self.tier}'")
        return found

    def _clusters(self, only: str | None = None) -> list[AnomalyCluster]:
        bind = "id = $id, " if only else ""
        params = {"id": only} if only else {}
        if self._readable() == "vibes" and "members_json" in self.db.columns("anomaly_cluster"):
            res = self.db.run(
                "?[id, centroid_json, members_json, created_at, last_seen] := "
                f"{bind}*anomaly_cluster{{id, centroid_json, members_json, created_at, last_seen}}"
                " :order created_at, id",
                params,
                read_only=True,
            )
            out = []
            for r in res.dicts():
                try:
                    members = json.loads(r["members_json"] or "[]")
                except ValueError as err:
                    raise ValidationError(f"cluster {r['id']}: members_json is not JSON") from err
                hashes = [
                    check_hash(m["hash"]) for m in members if isinstance(m, dict) and "hash" in m
                ]
                out.append(
                    AnomalyCluster(
                        r["id"],
                        parse_vector_json(r["centroid_json"], "centroid_json"),
                        tuple(hashes),
                        from_unix(r["created_at"]),
                        from_unix(r["last_seen"]),
                    )
                )
            return out
        res = self.db.run(
            f"?[{_CL_COLS}] := {bind}*anomaly_cluster{{{_CL_COLS}}} :order created_at, id",
            params,
            read_only=True,
        )
        rows = res.dicts()
        if not rows:
            return []
        mres = self.db.run(
            "?[cluster_id, fingerprint_hash] := "
            + ("cluster_id = $id, " if only else "")
            + "*cluster_member{cluster_id, fingerprint_hash}",
            params,
            read_only=True,
        )
        members: dict[str, list[int]] = {}
        for cid, h in mres.rows:
            members.setdefault(cid, []).append(hash_from_db(h))
        return [
            AnomalyCluster(
                r["id"],
                parse_vector_json(r["centroid_json"], "centroid_json"),
                tuple(members.get(r["id"], ())),
                from_unix(r["created_at"]),
                from_unix(r["last_seen"]),
            )
            for r in rows
        ]

    def cluster_membership(self) -> dict[int, list[str]]:
        """Fingerprint hash -> ids of the clusters it belongs to."""
        out: dict[int, list[str]] = {}
        for c in self.load_clusters():
            for h in c.members:
                out.setdefault(h, []).append(c.id)
        return out

    def _cluster_blocks(
        self, cluster: AnomalyCluster, params: dict, n: int, *, replace_members: bool = True
    ) -> list[str]:
        params[f"cl{n}"] = [
            [
                cluster.id,
                vector_json(cluster.centroid),
                cluster.size,
                to_unix(cluster.created_at),
                to_unix(cluster.last_seen),
            ]
        ]
        params[f"cid{n}"] = cluster.id
        params[f"mem{n}"] = [
            [cluster.id, hash_to_db(h), to_unix(cluster.last_seen)] for h in cluster.members
        ]
        blocks = [_PUT_CL.replace("$clusters", f"$cl{n}")]
        if replace_members:
            blocks.append(
                f"?[cluster_id, fingerprint_hash] := cluster_id = $cid{n}, "
                "*cluster_member{cluster_id, fingerprint_hash}, "
                f"not is_in(fingerprint_hash, $keep{n}) "
                ":rm cluster_member {cluster_id, fingerprint_hash}"
            )
            params[f"keep{n}"] = [hash_to_db(h) for h in cluster.members]
            # members already present keep their added_at
            blocks.append(
                "?[cluster_id, fingerprint_hash, added_at] := "
                f"rows[cluster_id, fingerprint_hash, added_at], "
                "not *cluster_member{cluster_id, fingerprint_hash}\n"
                f"rows[a, b, c] <- $mem{n} "
                ":put cluster_member {cluster_id, fingerprint_hash => added_at}"
            )
        return blocks

    def save_cluster(self, cluster: AnomalyCluster, *, actor: Principal | None = None) -> None:
        """Store a cluster and exactly its members (one transaction)."""
        self.save_clusters([cluster], actor=actor)

    def save_clusters(
        self, clusters: Sequence[AnomalyCluster], *, actor: Principal | None = None
    ) -> None:
        """Store clusters (as the assistant's detector forms them) and exactly their
        members, all in one transaction."""
        self._writable()
        params: dict[str, Any] = {}
        blocks: list[str] = []
        for n, c in enumerate(clusters):
            blocks += self._cluster_blocks(c, params, n)
        if blocks:
            self._write(
                Action.openworld_observe,
                "clusters",
                blocks,
                params,
                actor,
                detail={"clusters": [c.id for c in clusters]},
            )

    def _centroid_of(self, hashes: Sequence[int]) -> np.ndarray:
        from groove_core.analysis.clustering import centroid

        fps = self.get_fingerprints(hashes)
        vecs = [f.embedding for f in fps if f.embedding.shape == (DIM,)]
        if not vecs:
            raise ValidationError("none of the selected fingerprints has a 384-d embedding")
        return centroid(np.stack(vecs))

    def _changed_cluster(
        self, cluster: AnomalyCluster, members: set[int], actor: Principal | None
    ) -> AnomalyCluster:
        return self._changed_clusters([(cluster, members)], actor)[0]

    def _changed_clusters(
        self, changes: Sequence[tuple[AnomalyCluster, set[int]]], actor: Principal | None
    ) -> list[AnomalyCluster]:
        """Give clusters new member sets (centroid and last_seen follow), with a
        ``ClusterUpdated`` event each: one transaction."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.openworld_curate, actor)
        params: dict[str, Any] = {"events": []}
        blocks: list[str] = []
        out = []
        for n, (cluster, members) in enumerate(changes):
            members = set(members)
            centroid = self._centroid_of(sorted(members)) if members else cluster.centroid
            updated = AnomalyCluster(
                cluster.id, centroid, tuple(members), cluster.created_at, now()
            )
            blocks += self._cluster_blocks(updated, params, n)
            params["events"].append(_event_row(self._cluster_event(updated, actor.id)))
            out.append(updated)
        self._write(
            Action.openworld_curate,
            target([c.id for c in out], "clusters"),
            [*blocks, _PUT_EV],
            params,
            actor,
            detail={"clusters": {c.id: len(c.members) for c in out}},
            check=False,
        )
        return out

    def _cluster_event(self, cluster: AnomalyCluster, who: str | None) -> OpenWorldEvent:
        fps = self.get_fingerprints(cluster.members)
        data = {
            "cluster": {
                "id": cluster.id,
                "centroid": f32_values(cluster.centroid),
                "members": [f.to_json() for f in fps],
                "created_at": to_rfc3339(cluster.created_at),
                "last_seen": to_rfc3339(cluster.last_seen),
            }
        }
        if who:
            data["who"] = who
        return OpenWorldEvent.new("ClusterUpdated", data, cluster.last_seen)

    def create_cluster(
        self,
        hashes: Iterable[int],
        *,
        actor: Principal | None = None,
    ) -> AnomalyCluster:
        """A new anomaly cluster of the given fingerprints (centroid = their normalised
        mean), with a ``ClusterUpdated`` event. Raises ValidationError when empty or when
        a hash is not a stored fingerprint."""
        self._writable()
        members = {check_hash(h) for h in hashes}
        if not members:
            raise ValidationError("select at least one fingerprint to make a cluster")
        known = {f.hash for f in self.get_fingerprints(members)}
        missing = members - known
        if missing:
            raise ValidationError(f"no fingerprint {min(missing)} in tier '{self.tier}'")
        cluster = AnomalyCluster.new(self._centroid_of(sorted(members)), members)
        return self._changed_cluster(cluster, members, actor)

    def add_cluster_member(
        self, cluster_id: str, hash_: int, *, actor: Principal | None = None
    ) -> AnomalyCluster:
        """Add one fingerprint to a cluster (vibes-groove's ``add_cluster_member``)."""
        return self.add_cluster_members(cluster_id, [hash_], actor=actor)

    def add_cluster_members(
        self, cluster_id: str, hashes: Iterable[int], *, actor: Principal | None = None
    ) -> AnomalyCluster:
        """Add fingerprints to a cluster; its centroid, count and last_seen follow."""
        self._writable()
        cluster = self.require_cluster(cluster_id)
        new = {check_hash(h) for h in hashes}
        known = {f.hash for f in self.get_fingerprints(new)}
        if new - known:
            raise ValidationError(f"no fingerprint {min(new - known)} in tier '{self.tier}'")
        return self._changed_cluster(cluster, set(cluster.members) | new, actor)

    def remove_cluster_members(
        self, cluster_id: str, hashes: Iterable[int], *, actor: Principal | None = None
    ) -> AnomalyCluster:
        """Take fingerprints out of a cluster (the cluster stays, even when empty)."""
        self._writable()
        cluster = self.require_cluster(cluster_id)
        gone = {check_hash(h) for h in hashes}
        return self._changed_cluster(cluster, set(cluster.members) - gone, actor)

    def remove_from_clusters(
        self, hashes: Iterable[int], *, actor: Principal | None = None
    ) -> list[AnomalyCluster]:
        """Take fingerprints out of every cluster that holds them, in one transaction;
        returns the changed clusters (each stays, even when empty)."""
        self._writable()
        gone = {check_hash(h) for h in hashes}
        changes = [
            (c, set(c.members) - gone) for c in self.load_clusters() if gone & set(c.members)
        ]
        return self._changed_clusters(changes, actor) if changes else []

    def delete_cluster(self, cluster_id: str, *, actor: Principal | None = None) -> bool:
        """Remove a cluster and its member rows (the fingerprints stay)."""
        self._writable()
        cid = check_uuid(cluster_id, "cluster id")
        existed = self.get_cluster(cid) is not None
        self._write(
            Action.openworld_curate,
            cid,
            [
                "?[cluster_id, fingerprint_hash] := cluster_id = $id, "
                "*cluster_member{cluster_id, fingerprint_hash} "
                ":rm cluster_member {cluster_id, fingerprint_hash}",
                "?[id] := id = $id, *anomaly_cluster{id} :rm anomaly_cluster {id}",
            ],
            {"id": cid},
            actor,
            detail={"deleted": "cluster"},
        )
        return existed

    # ------------------------------------------------------------ proposals
    def dismiss_proposal(
        self, proposal_id: str, member_hashes: Iterable[int], *, actor: Principal | None = None
    ) -> None:
        """Remember that a person dismissed an HDBSCAN proposal."""
        self._writable()
        if not isinstance(proposal_id, str) or not proposal_id:
            raise ValidationError("proposal id must be non-empty text")
        actor = actor or self.writer.actor
        self._write(
            Action.openworld_curate,
            proposal_id,
            [
                "?[proposal_id, at, who, member_hashes_json] <- [[$pid, $at, $who, $members]] "
                ":put cluster_proposal_dismissed {proposal_id => at, who, member_hashes_json}"
            ],
            {
                "pid": proposal_id,
                "at": to_unix(now()),
                "who": actor.id,
                "members": json.dumps(sorted(check_hash(h) for h in member_hashes)),
            },
            actor,
            detail={"dismissed": True},
        )

    def dismissed_proposals(self) -> list[DismissedProposal]:
        """HDBSCAN proposals a person dismissed (who, when, members), newest first."""
        if not self._has("cluster_proposal_dismissed"):
            return []
        res = self.db.run(
            "?[proposal_id, at, who, member_hashes_json] := *cluster_proposal_dismissed"
            "{proposal_id, at, who, member_hashes_json} :order -at",
            read_only=True,
        )
        return [
            DismissedProposal(
                r["proposal_id"],
                from_unix(r["at"]),
                r["who"],
                tuple(json.loads(r["member_hashes_json"])),
            )
            for r in res.dicts()
        ]

    def undismiss_proposal(self, proposal_id: str, *, actor: Principal | None = None) -> None:
        """Forget a dismissal: the proposal is offered again."""
        self._writable()
        self._write(
            Action.openworld_curate,
            str(proposal_id),
            ["?[proposal_id] <- [[$pid]] :rm cluster_proposal_dismissed {proposal_id}"],
            {"pid": proposal_id},
            actor,
            detail={"dismissed": False},
        )

    # ------------------------------------------------------------ gaps
    def save_gap(
        self,
        gap: CapabilityGap,
        *,
        actor: Principal | None = None,
        contexts: Iterable[int] | None = None,
    ) -> None:
        """Store a gap (new or replacing the same id). A new gap gets a ``created`` entry in
        its history and a ``GapCreated`` event; ``contexts`` (fingerprint hashes) link it to
        the contexts it was found in."""
        self._writable()
        actor = actor or self.writer.actor
        is_new = self.get_gap(gap.id) is None
        params: dict[str, Any] = {"gaps": [_gap_row(gap)]}
        blocks = [_PUT_GAP]
        if is_new:
            params["history"] = [
                _hist_row(GapChange(gap.id, new_id(), now(), actor.id, "created", None, gap.status))
            ]
            params["events"] = [_event_row(OpenWorldEvent.gap_created(gap))]
            blocks += [_PUT_HIST, _PUT_EV]
        if contexts is not None:
            params["contexts"] = [[gap.id, hash_to_db(h), to_unix(now())] for h in contexts]
            blocks.append(_PUT_CTX)
        self._write(Action.openworld_observe, gap.id, blocks, params, actor, after=gap.to_json())

    def load_gaps(
        self,
        *,
        status: Any = None,
        severity: Any = None,
        category: Any = None,
    ) -> list[CapabilityGap]:
        """Gaps, most severe first, then most recently seen. Each filter is one value or a
        list of values (enum members or their strings)."""
        self._readable()
        conds, params = [], {}
        for name, value, enum in (
            ("status", status, GapStatus),
            ("severity", severity, GapSeverity),
            ("category", category, GapCategory),
        ):
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            conds.append(f"is_in({name}, $f_{name})")
            params[f"f_{name}"] = [enum.parse(v).value for v in values]
        body = ", ".join([f"*capability_gap{{{_GAP_COLS}}}", *conds])
        res = self.db.run(f"?[{_GAP_COLS}] := {body}", params, read_only=True)
        gaps = [_row_to_gap(r) for r in res.dicts()]
        return sorted(gaps, key=lambda g: (-g.severity.rank, -g.last_seen.timestamp(), g.id))

    def get_gap(self, gap_id: str) -> CapabilityGap | None:
        """seed 000's ``load_gap``."""
        self._readable()
        res = self.db.run(
            f"?[{_GAP_COLS}] := id = $id, *capability_gap{{{_GAP_COLS}}}",
            {"id": check_uuid(gap_id, "gap id")},
            read_only=True,
        )
        rows = res.dicts()
        return _row_to_gap(rows[0]) if rows else None

    load_gap = get_gap

    def require_gap(self, gap_id: str) -> CapabilityGap:
        """One capability gap; NotFoundError when there is none with this id."""
        gap = self.get_gap(gap_id)
        if gap is None:
            raise NotFoundError(f"no capability gap {gap_id} in tier '{self.tier}'")
        return gap

    def update_gap_status(
        self,
        gap_id: str,
        status: Any,
        *,
        actor: Principal | None = None,
        note: str = "",
        enforce_workflow: bool = True,
    ) -> GapChange:
        """Move a gap to ``status``, recording who and when in ``gap_history`` and a
        ``GapStatusChanged`` event, in one transaction that fails if the gap's status
        changed meanwhile.

        Raises:
            NotFoundError: no such gap. ValidationError: same status, or a move the
            workflow (:data:`~groove_core.model.openworld.GAP_WORKFLOW`) does not allow.
            DatabaseError: another writer changed the status first.
        """
        self._writable()
        actor = actor or self.writer.actor
        self.writer.authorize(Action.openworld_curate, actor)
        new = GapStatus.parse(status)
        gap = self.require_gap(gap_id)
        old = gap.status
        if new == old:
            raise ValidationError(f"gap {gap.id} is already {new.label}")
        if enforce_workflow and new not in old.next_statuses():
            allowed = ", ".join(s.label for s in old.next_statuses())
            raise ValidationError(
                f"a {old.label} gap cannot become {new.label} (allowed: {allowed})"
            )
        change = GapChange(gap.id, new_id(), now(), actor.id, "status", old, new, note or "")
        event = OpenWorldEvent.gap_status_changed(gap.id, old, new, change.at)
        try:
            self._write(
                Action.openworld_curate,
                gap.id,
                [
                    "?[id] := id = $id, *capability_gap{id, status}, status = $old :assert some",
                    "?[id, status] <- [[$id, $new]] :update capability_gap {id => status}",
                    _PUT_HIST,
                    _PUT_EV,
                ],
                {
                    "id": gap.id,
                    "old": old.value,
                    "new": new.value,
                    "history": [_hist_row(change)],
                    "events": [_event_row(event)],
                },
                actor,
                before={"status": old.value},
                after={"status": new.value},
                detail={"note": note} if note else None,
                check=False,
            )
        except DatabaseError as err:
            if "asserted" in str(err):
                raise DatabaseError(
                    f"gap {gap.id} was changed by someone else meanwhile; reload and retry"
                ) from None
            raise
        return change

    def update_gap_solutions(
        self,
        gap_id: str,
        solutions: Sequence[SuggestedSolution],
        *,
        actor: Principal | None = None,
        note: str = "",
    ) -> CapabilityGap:
        """Replace a gap's suggested solutions (recorded in its history, one transaction).

        Raises:
            NotFoundError: no such gap.
        """
        self._writable()
        return self._write_solutions(
            self.require_gap(gap_id),
            tuple(solutions),
            actor,
            note,
            added=(),
            action=Action.openworld_curate,
        )

    def add_gap_solutions(
        self,
        gap_id: str,
        solutions: Sequence[SuggestedSolution],
        *,
        actor: Principal | None = None,
    ) -> CapabilityGap:
        """Append suggested solutions (vibes-groove's ``add_gap_solutions``) with a
        ``SolutionGenerated`` event each, in the same transaction as the history entry."""
        self._writable()
        gap = self.require_gap(gap_id)
        return self._write_solutions(
            gap,
            (*gap.suggested_solutions, *solutions),
            actor,
            f"{len(solutions)} solution(s) added",
            added=tuple(solutions),
            action=Action.openworld_observe,
        )

    def _write_solutions(
        self,
        gap: CapabilityGap,
        solutions: tuple[SuggestedSolution, ...],
        actor: Principal | None,
        note: str,
        *,
        added: tuple[SuggestedSolution, ...],
        action: Action,
    ) -> CapabilityGap:
        actor = actor or self.writer.actor
        updated = gap.with_(suggested_solutions=solutions)
        n_old, n_new = len(gap.suggested_solutions), len(solutions)
        change = GapChange(
            gap.id,
            new_id(),
            now(),
            actor.id,
            "solutions",
            None,
            None,
            note or f"solutions edited ({n_old} -> {n_new})",
        )
        blocks = [
            "?[id, solutions_json] <- [[$id, $sol]] :update capability_gap {id => solutions_json}",
            _PUT_HIST,
        ]
        params: dict[str, Any] = {
            "id": gap.id,
            "sol": solutions_to_json(solutions),
            "history": [_hist_row(change)],
        }
        if added:
            blocks.append(_PUT_EV)
            params["events"] = [
                _event_row(OpenWorldEvent.solution_generated(gap.id, sol, change.at))
                for sol in added
            ]
        self._write(
            action,
            gap.id,
            blocks,
            params,
            actor,
            before=solutions_to_json(gap.suggested_solutions),
            after=params["sol"],
        )
        return updated

    def gap_history(self, gap_id: str) -> list[GapChange]:
        """Every recorded change of a gap, oldest first."""
        if not self._has("gap_history"):
            return []
        res = self.db.run(
            f"?[{_HIST_COLS}] := gap_id = $id, *gap_history{{{_HIST_COLS}}} :order at, change_id",
            {"id": check_uuid(gap_id, "gap id")},
            read_only=True,
        )
        return [
            GapChange(
                r["gap_id"],
                r["change_id"],
                from_unix(r["at"]),
                r["who"],
                r["action"],
                GapStatus.parse(r["old_status"]) if r["old_status"] else None,
                GapStatus.parse(r["new_status"]) if r["new_status"] else None,
                r["note"],
            )
            for r in res.dicts()
        ]

    def link_gap_contexts(
        self, gap_id: str, hashes: Iterable[int], *, actor: Principal | None = None
    ) -> None:
        """Record fingerprints (u64 hashes) a gap was found in. NotFoundError: no gap."""
        self._writable()
        gid = self.require_gap(gap_id).id
        rows = [[gid, hash_to_db(h), to_unix(now())] for h in hashes]
        if rows:
            self._write(
                Action.openworld_observe,
                gid,
                [_PUT_CTX],
                {"contexts": rows},
                actor,
                detail={"contexts": len(rows)},
            )

    def gap_contexts(self, gap_id: str) -> list[int]:
        """Hashes of the fingerprints a gap was found in: its ``gap_context`` rows and the
        context its pattern names (``context:<u64>``, as vibes-groove writes it)."""
        gap = self.get_gap(gap_id)
        if gap is None:
            return []
        return sorted(self._contexts_by_gap([gap]).get(gap.id, set()))

    def _contexts_by_gap(self, gaps: Sequence[CapabilityGap] | None = None) -> dict[str, set[int]]:
        """Gap id -> context hashes, for ``gaps`` (default: every gap)."""
        gaps = self.load_gaps() if gaps is None else gaps
        out: dict[str, set[int]] = {g.id: set() for g in gaps}
        for g in gaps:
            if g.context_hash is not None:
                out[g.id].add(g.context_hash)
        if self._has("gap_context") and gaps:
            res = self.db.run(
                "?[gap_id, context_hash] := gap_id in $ids, *gap_context{gap_id, context_hash}",
                {"ids": list(out)},
                read_only=True,
            )
            for gid, h in res.rows:
                out[gid].add(hash_from_db(h))
        return out

    def clusters_by_gap(
        self, gaps: Sequence[CapabilityGap] | None = None
    ) -> dict[str, list[tuple[str, int]]]:
        """Gap id -> the clusters holding its contexts, with how many of them, most first,
        for ``gaps`` (default: every gap; those whose contexts lie in no cluster are left
        out)."""
        membership = self.cluster_membership()
        out: dict[str, list[tuple[str, int]]] = {}
        for gid, hashes in self._contexts_by_gap(gaps).items():
            counts: dict[str, int] = {}
            for h in hashes:
                for cid in membership.get(h, ()):
                    counts[cid] = counts.get(cid, 0) + 1
            if counts:
                out[gid] = sorted(counts.items(), key=lambda t: (-t[1], t[0]))
        return out

    def gap_clusters(self, gap_id: str) -> list[tuple[str, int]]:
        """Clusters holding a gap's contexts, with how many of them, most first."""
        gap = self.get_gap(gap_id)
        return self.clusters_by_gap([gap]).get(gap.id, []) if gap else []

    def gaps_by_cluster(self) -> dict[str, list[str]]:
        """Cluster id -> ids of the gaps whose contexts lie in it."""
        out: dict[str, list[str]] = {}
        for gid, found in self.clusters_by_gap().items():
            for cid, _n in found:
                out.setdefault(cid, []).append(gid)
        return out

    def delete_gap(self, gap_id: str, *, actor: Principal | None = None) -> None:
        """Remove a gap, its contexts and its history (the audit log keeps the deletion)."""
        self._writable()
        gid = check_uuid(gap_id, "gap id")
        gap = self.get_gap(gid)
        self._write(
            Action.openworld_curate,
            gid,
            [
                "?[gap_id, context_hash] := gap_id = $id, *gap_context{gap_id, context_hash} "
                ":rm gap_context {gap_id, context_hash}",
                "?[gap_id, change_id] := gap_id = $id, *gap_history{gap_id, change_id} "
                ":rm gap_history {gap_id, change_id}",
                "?[id] := id = $id, *capability_gap{id} :rm capability_gap {id}",
            ],
            {"id": gid},
            actor,
            before=gap.to_json() if gap else None,
            detail={"deleted": "gap"},
        )

    # ------------------------------------------------------------ failures
    def save_failure(self, failure: FailureRecord, *, actor: Principal | None = None) -> None:
        """Store one failure record (replacing the same id)."""
        self.save_failures([failure], actor=actor)

    def save_failures(
        self, failures: Sequence[FailureRecord], *, actor: Principal | None = None
    ) -> int:
        """Store failure records in one transaction; returns how many."""
        self._writable()
        rows = [_fail_row(f) for f in failures]
        if rows:
            self._write(
                Action.openworld_observe,
                "failures",
                [_PUT_FAIL],
                {"failures": rows},
                actor,
                detail={"failures": len(rows)},
            )
        return len(rows)

    def _failures(
        self,
        cond: str,
        params: dict,
        limit: int | None = None,
    ) -> list[FailureRecord]:
        self._readable()
        tail = " :order -timestamp, id" + (" :limit $limit" if limit else "")
        if limit:
            params = {**params, "limit": int(limit)}
        res = self.db.run(
            f"?[{_FAIL_COLS}] := "
            + (f"{cond}, " if cond else "")
            + f"*failure_record{{{_FAIL_COLS}}}"
            + tail,
            params,
            read_only=True,
        )
        return [_row_to_failure(r) for r in res.dicts()]

    def load_failures_by_context(self, context_hash: int) -> list[FailureRecord]:
        """Failures in one context, newest first."""
        return self._failures("context_hash = $h", {"h": hash_to_db(context_hash)})

    def load_failures_by_session(self, session_id: str) -> list[FailureRecord]:
        """Failures of one session, newest first."""
        return self._failures("session_id = $s", {"s": str(session_id)})

    def load_failures_by_contexts(self, hashes: Iterable[int]) -> list[FailureRecord]:
        """Failures in any of these contexts (u64 hashes), newest first."""
        keys = [hash_to_db(h) for h in hashes]
        return self._failures("context_hash in $keys", {"keys": keys}) if keys else []

    def gap_failures(self, gap_id: str) -> list[FailureRecord]:
        """Failures in the contexts of a gap, newest first."""
        return self.load_failures_by_contexts(self.gap_contexts(gap_id))

    def recent_failures(self, limit: int = 100) -> list[FailureRecord]:
        """The ``limit`` newest failures, newest first."""
        return self._failures("", {}, limit)

    # ------------------------------------------------------------ events
    def save_novelty_event(self, event: OpenWorldEvent, *, actor: Principal | None = None) -> None:
        """Store one open-world event (vibes-groove's ``save_novelty_event``)."""
        self.save_novelty_events([event], actor=actor)

    def save_novelty_events(
        self, events: Sequence[OpenWorldEvent], *, actor: Principal | None = None
    ) -> int:
        """Store events in one transaction; returns how many."""
        self._writable()
        rows = [_event_row(e) for e in events]
        if rows:
            self._write(
                Action.openworld_observe,
                "events",
                [_PUT_EV],
                {"events": rows},
                actor,
                detail={"events": len(rows)},
            )
        return len(rows)

    def load_novelty_events(
        self,
        since: datetime | None = None,
        limit: int = 100,
        *,
        until: datetime | None = None,
        event_types: Iterable[str] | None = None,
    ) -> list[OpenWorldEvent]:
        """Events at or after ``since`` (and before ``until``), newest first, at most
        ``limit``, optionally only of some types (``novelty_detected``, ...)."""
        self._readable()
        limit = int(limit)
        if limit < 1:
            raise ValidationError("limit must be >= 1")
        conds, params = _event_filter(since, until, event_types)
        res = self.db.run(
            f"?[{_EV_COLS}] := *novelty_event{{{_EV_COLS}}}, {conds} "
            ":order -timestamp, -id :limit $limit",
            {**params, "limit": limit},
            read_only=True,
        )
        return [_row_to_event(r) for r in res.dicts()]

    def event_timeline(
        self,
        since: datetime | None = None,
        *,
        until: datetime | None = None,
        event_types: Iterable[str] | None = None,
        bucket_seconds: int = 86400,
    ) -> list[tuple[datetime, str, int]]:
        """How many events of each type fell in each ``bucket_seconds`` window (UTC,
        aligned to the Unix epoch) at or after ``since``: ``(bucket start, event_type,
        count)``, oldest first. Counted in Cozo over every matching event, not a page."""
        self._readable()
        bucket = int(bucket_seconds)
        if bucket < 1:
            raise ValidationError("bucket_seconds must be >= 1")
        conds, params = _event_filter(since, until, event_types)
        res = self.db.run(
            f"?[start, event_type, count(id)] := *novelty_event{{{_EV_COLS}}}, {conds}, "
            "start = $b * floor(timestamp / $b) :order start, event_type",
            {**params, "b": bucket},
            read_only=True,
        )
        return [(from_unix(int(t)), k, int(n)) for t, k, n in res.rows]

    def event_type_counts(self) -> dict[str, int]:
        """``event_type`` -> number of stored events of that type."""
        self._readable()
        res = self.db.run(
            "?[event_type, count(id)] := *novelty_event{id, event_type}", read_only=True
        )
        return {t: int(n) for t, n in res.rows}

    # ------------------------------------------------------------ bulk / synthetic
    def write_batch(
        self,
        batch: OpenWorldBatch,
        *,
        synthetic_run: str | None = None,
        actor: Principal | None = None,
    ) -> None:
        """Write many rows of every kind in ONE transaction; with ``synthetic_run`` every
        row is also marked synthetic under that run id (see :meth:`remove_synthetic`)."""
        self._writable()
        params: dict[str, Any] = {}
        blocks: list[str] = []
        marks: list[list] = []
        at = to_unix(now())

        def mark(kind: str, key: Any) -> None:
            if synthetic_run:
                marks.append([kind, str(key), synthetic_run, at])

        if batch.fingerprints:
            params["fps"] = [_fp_row(f) for f in batch.fingerprints]
            blocks.append(_PUT_FP)
            for f in batch.fingerprints:
                mark("fingerprint", hash_to_db(f.hash))
        for n, c in enumerate(batch.clusters):
            blocks += self._cluster_blocks(c, params, n)
            mark("cluster", c.id)
        if batch.gaps:
            params["gaps"] = [_gap_row(g) for g in batch.gaps]
            blocks.append(_PUT_GAP)
            for g in batch.gaps:
                mark("gap", g.id)
        if batch.gap_contexts:
            params["contexts"] = [
                [gid, hash_to_db(h), at] for gid, hs in batch.gap_contexts.items() for h in hs
            ]
            blocks.append(_PUT_CTX)
        if batch.gap_history:
            params["history"] = [_hist_row(h) for h in batch.gap_history]
            blocks.append(_PUT_HIST)
        if batch.failures:
            params["failures"] = [_fail_row(f) for f in batch.failures]
            blocks.append(_PUT_FAIL)
            for f in batch.failures:
                mark("failure", f.id)
        if batch.events:
            params["events"] = [_event_row(e) for e in batch.events]
            blocks.append(_PUT_EV)
            for e in batch.events:
                mark("event", e.id)
        if marks:
            params["synthetic"] = marks
            blocks.append(_PUT_SYN)
        if blocks:
            self._write(
                Action.openworld_observe,
                synthetic_run or "batch",
                blocks,
                params,
                actor,
                detail={"synthetic_run": synthetic_run, "statements": len(blocks)},
            )

    def synthetic_runs(self) -> dict[str, int]:
        """Run id -> number of rows marked synthetic by it."""
        if not self._has("openworld_synthetic"):
            return {}
        res = self.db.run(
            "?[run_id, count(key)] := *openworld_synthetic{run_id, key}", read_only=True
        )
        return {r: int(n) for r, n in res.rows}

    def remove_synthetic(
        self, run_id: str | None = None, *, actor: Principal | None = None
    ) -> dict[str, int]:
        """Remove every row marked synthetic (by one run, or all), with the member rows of
        synthetic clusters, the history and contexts of synthetic gaps, memberships of
        synthetic fingerprints and the marks themselves: one transaction. Returns counts
        by kind."""
        self._writable()
        bind = "run_id = $run, " if run_id else ""
        params: dict[str, Any] = {"run": run_id} if run_id else {}
        res = self.db.run(
            f"?[kind, count(key)] := {bind}*openworld_synthetic{{kind, key, run_id}}",
            params,
            read_only=True,
        )
        counts = {k: int(n) for k, n in res.rows}
        if not counts:
            return {}
        syn = f"syn[kind, key] := {bind}*openworld_synthetic{{kind, key, run_id}}\n"
        blocks = [
            syn + "?[cluster_id, fingerprint_hash] := *cluster_member{cluster_id, "
            "fingerprint_hash}, syn['cluster', cluster_id] "
            ":rm cluster_member {cluster_id, fingerprint_hash}",
            syn + "?[cluster_id, fingerprint_hash] := *cluster_member{cluster_id, "
            "fingerprint_hash}, syn['fingerprint', k], fingerprint_hash = to_int(k) "
            ":rm cluster_member {cluster_id, fingerprint_hash}",
            syn + "?[id] := *anomaly_cluster{id}, syn['cluster', id] :rm anomaly_cluster {id}",
            syn + "?[hash] := *pattern_fingerprint{hash}, syn['fingerprint', k], "
            "hash = to_int(k) :rm pattern_fingerprint {hash}",
            syn + "?[gap_id, change_id] := *gap_history{gap_id, change_id}, syn['gap', gap_id] "
            ":rm gap_history {gap_id, change_id}",
            syn + "?[gap_id, context_hash] := *gap_context{gap_id, context_hash}, "
            "syn['gap', gap_id] :rm gap_context {gap_id, context_hash}",
            syn + "?[gap_id, context_hash] := *gap_context{gap_id, context_hash}, "
            "syn['fingerprint', k], context_hash = to_int(k) "
            ":rm gap_context {gap_id, context_hash}",
            syn + "?[id] := *capability_gap{id}, syn['gap', id] :rm capability_gap {id}",
            syn + "?[id] := *failure_record{id}, syn['failure', id] :rm failure_record {id}",
            syn + "?[id] := *novelty_event{id}, syn['event', id] :rm novelty_event {id}",
            f"?[kind, key] := {bind}*openworld_synthetic{{kind, key, run_id}} "
            ":rm openworld_synthetic {kind, key}",
        ]
        self._write(
            Action.openworld_curate,
            run_id or "synthetic",
            blocks,
            params,
            actor,
            detail={"removed": counts},
        )
        return counts

    # ------------------------------------------------------------ overview
    def counts(self) -> dict[str, int]:
        """Rows per open-world relation (0 for the ones this tier lacks)."""
        out = {}
        rels = self.db.relations()
        for rel, key in (
            ("pattern_fingerprint", "hash"),
            ("anomaly_cluster", "id"),
            ("cluster_member", "cluster_id"),
            ("capability_gap", "id"),
            ("failure_record", "id"),
            ("novelty_event", "id"),
            ("gap_history", "gap_id"),
        ):
            if rel not in rels:
                out[rel] = 0
                continue
            out[rel] = int(
                self.db.run(f"?[count({key})] := *{rel}{{{key}}}", read_only=True).scalar(0)
            )
        return out

    def learning_labels(self, ids: Iterable[str]) -> dict[str, str]:
        """Learning id -> its description (for plot labels), for those that exist."""
        ids = sorted({i for i in ids if i})
        if not ids or self.learnings is None:
            return {}
        return {lr.id: lr.content.description for lr in self.learnings.get_many(ids)}


__all__ = [
    "DismissedProposal",
    "FailureType",
    "OpenWorldBatch",
    "OpenWorldStore",
    "SimilarFingerprint",
]
