"""Anomaly clusters, their members (``cluster_member``) and the clustering proposals
a person dismissed (``cluster_proposal_dismissed``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from groove_core.embed import DIM
from groove_core.errors import NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.openworld import (
    AnomalyCluster,
    OpenWorldEvent,
    check_hash,
    f32_values,
    hash_from_db,
    hash_to_db,
    parse_vector_json,
    vector_json,
)
from groove_core.model.serde import check_uuid, from_unix, now, to_rfc3339, to_unix
from groove_core.store.openworld.fingerprints import Fingerprints
from groove_core.store.openworld.rows import (
    CL_COLS,
    PUT_CL,
    PUT_EV,
    event_row,
)
from groove_core.store.writer import target


@dataclass(frozen=True)
class DismissedProposal:
    """An HDBSCAN proposal a person dismissed: who (principal id), when, its members
    (u64 fingerprint hashes)."""

    proposal_id: str
    at: datetime
    who: str
    member_hashes: tuple[int, ...]


class Clusters(Fingerprints):
    """Anomaly-cluster methods of :class:`~groove_core.store.openworld.OpenWorldStore`."""

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
            f"?[{CL_COLS}] := {bind}*anomaly_cluster{{{CL_COLS}}} :order created_at, id",
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
        blocks = [PUT_CL.replace("$clusters", f"$cl{n}")]
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
            params["events"].append(event_row(self._cluster_event(updated, actor.id)))
            out.append(updated)
        self._write(
            Action.openworld_curate,
            target([c.id for c in out], "clusters"),
            [*blocks, PUT_EV],
            params,
            actor,
            detail={"clusters": {c.id: len(c.members) for c in out}},
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
