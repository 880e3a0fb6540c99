"""Capability gaps, their review history (``gap_history``) and the contexts they were
found in (``gap_context``), with the clusters those contexts lie in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from groove_core.errors import DatabaseError, NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.openworld import (
    CapabilityGap,
    FailureRecord,
    GapCategory,
    GapChange,
    GapSeverity,
    GapStatus,
    OpenWorldEvent,
    SuggestedSolution,
    hash_from_db,
    hash_to_db,
    solutions_to_json,
)
from groove_core.model.serde import check_uuid, from_unix, new_id, now, to_unix
from groove_core.store.openworld.clusters import Clusters
from groove_core.store.openworld.records import Records
from groove_core.store.openworld.rows import (
    GAP_COLS,
    HIST_COLS,
    PUT_CTX,
    PUT_EV,
    PUT_GAP,
    PUT_HIST,
    event_row,
    gap_row,
    hist_row,
    row_to_gap,
)


class Gaps(Clusters, Records):
    """Capability-gap methods of :class:`~groove_core.store.openworld.OpenWorldStore`."""

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
        params: dict[str, Any] = {"gaps": [gap_row(gap)]}
        blocks = [PUT_GAP]
        if is_new:
            params["history"] = [
                hist_row(GapChange(gap.id, new_id(), now(), actor.id, "created", None, gap.status))
            ]
            params["events"] = [event_row(OpenWorldEvent.gap_created(gap))]
            blocks += [PUT_HIST, PUT_EV]
        if contexts is not None:
            params["contexts"] = [[gap.id, hash_to_db(h), to_unix(now())] for h in contexts]
            blocks.append(PUT_CTX)
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
        body = ", ".join([f"*capability_gap{{{GAP_COLS}}}", *conds])
        res = self.db.run(f"?[{GAP_COLS}] := {body}", params, read_only=True)
        gaps = self.skipped_gaps.decode(res.dicts(), self._gap, lambda r: r["id"])
        return sorted(gaps, key=lambda g: (-g.severity.rank, -g.last_seen.timestamp(), g.id))

    def get_gap(self, gap_id: str) -> CapabilityGap | None:
        """One capability gap, or None. ValidationError: ``gap_id`` is not a UUID."""
        self._readable()
        res = self.db.run(
            f"?[{GAP_COLS}] := id = $id, *capability_gap{{{GAP_COLS}}}",
            {"id": check_uuid(gap_id, "gap id")},
            read_only=True,
        )
        rows = res.dicts()
        return self._gap(rows[0]) if rows else None

    def _gap(self, row: dict) -> CapabilityGap:
        return row_to_gap(row, self.db.tier)

    def unreadable_gaps(self) -> dict[str, str]:
        """The capability gaps :meth:`load_gaps` left out in this process because their
        rows do not follow the data contract (another program, or a newer version of one,
        wrote them), as id -> what is wrong, checked again now: a row since mended or
        deleted is no longer named."""
        ids = sorted(self.skipped_gaps.found())
        if not ids:
            return {}
        res = self.db.run(
            f"?[{GAP_COLS}] := id in $ids, *capability_gap{{{GAP_COLS}}}",
            {"ids": ids},
            read_only=True,
        )
        rows = res.dicts()
        self.skipped_gaps.forget(set(ids) - {r["id"] for r in rows})
        self.skipped_gaps.decode(rows, self._gap, lambda r: r["id"])
        found = self.skipped_gaps.found()
        return {i: found[i] for i in sorted(found)}

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
                    PUT_HIST,
                    PUT_EV,
                ],
                {
                    "id": gap.id,
                    "old": old.value,
                    "new": new.value,
                    "history": [hist_row(change)],
                    "events": [event_row(event)],
                },
                actor,
                before={"status": old.value},
                after={"status": new.value},
                detail={"note": note} if note else None,
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
            PUT_HIST,
        ]
        params: dict[str, Any] = {
            "id": gap.id,
            "sol": solutions_to_json(solutions),
            "history": [hist_row(change)],
        }
        if added:
            blocks.append(PUT_EV)
            params["events"] = [
                event_row(OpenWorldEvent.solution_generated(gap.id, sol, change.at))
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
            f"?[{HIST_COLS}] := gap_id = $id, *gap_history{{{HIST_COLS}}} :order at, change_id",
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
                [PUT_CTX],
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

    def gap_failures(self, gap_id: str) -> list[FailureRecord]:
        """Failures in the contexts of a gap, newest first."""
        return self.load_failures_by_contexts(self.gap_contexts(gap_id))

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
