"""Learnings of one tier: :class:`LearningStore` writes, deletes and restores them, each
write one chained Cozo program that applies whole or not at all, and composes the parts
that read, edit, embed, scan, relate and count them:

- :mod:`.listing` - reads, filters, sort orders and pages;
- :mod:`.edits` - edits in place; :mod:`.history` - the edit history;
- :mod:`.usage` - usage stats and outcomes; :mod:`.relations` - relations;
- :mod:`.embeddings` - embeddings and their index; :mod:`.scanning` - content scan."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from groove_core.errors import NotFoundError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.params import SystemParam
from groove_core.model.relations import LearningRelation
from groove_core.model.serde import check_uuid, new_id, now, to_unix
from groove_core.model.usage import OutcomeEvent, UsageStats
from groove_core.progress import ProgressFn
from groove_core.store import changelog, embeddings
from groove_core.store.audit import Hashed
from groove_core.store.edits import EditsMixin
from groove_core.store.embeddings import DROP_SEMANTIC_INDEX, PUT_EMBEDDING, EmbeddingsMixin
from groove_core.store.history import EDIT_COLS, PUT_EDIT, Edit, HistoryMixin, edit_row
from groove_core.store.listing import ListingMixin
from groove_core.store.params import PUT_PARAMS, param_to_row
from groove_core.store.relations import PUT_RELATIONS, RelationsMixin, relation_row
from groove_core.store.rows import (
    LEARNING_ATOM,
    LEARNING_COLS,
    LEARNING_HEAD,
    PUT_LEARNING,
    PUT_USAGE,
    USAGE_COLS,
    USAGE_HEAD,
    learning_to_row,
    row_to_usage,
    usage_to_row,
)
from groove_core.store.scanning import PUT_SCAN, ScanningMixin
from groove_core.store.usage import PUT_EVENTS, UsageMixin
from groove_core.store.writer import target

if TYPE_CHECKING:
    import numpy as np

    from groove_core.scan import Finding

#: The history verb (relation ``learning_edit``, column ``action``) of each way in.
_HISTORY_VERB = {
    Action.learning_create: "created",
    Action.learning_import: "imported",
    Action.learning_promote: "promoted",
    Action.learning_restore: "restored",
    Action.proposal_approve: "created",
}


class LearningStore(
    ListingMixin,
    EditsMixin,
    HistoryMixin,
    UsageMixin,
    RelationsMixin,
    EmbeddingsMixin,
    ScanningMixin,
):
    """Typed access to the learnings of one tier (the relations of
    docs/architecture.md#relations-v1; method names follow vibes-groove's ``LearningStore``).

    Args:
        db: the tier's open engine (already migrated).
        embedder: embeds description + insight; ``None`` stores learnings without
            embeddings (semantic search then skips them until :meth:`reembed`).
        writer: the tier's :class:`TierWriter` (role checks and audit); default: one
            acting as the OS account.
    """

    def store(
        self,
        learning: Learning,
        *,
        actor: Principal | None = None,
        override_reason: str | None = None,
    ) -> str:
        """Store one learning (new or replacing the same id) with default usage stats, its
        embedding and a ``created`` history entry. Returns its id. See :meth:`store_many`
        for the errors raised."""
        self.store_many([learning], actor=actor, override_reason=override_reason)
        return learning.id

    def store_many(
        self,
        learnings: Sequence[Learning],
        *,
        actor: Principal | None = None,
        action: Action = Action.learning_create,
        usage: dict[str, UsageStats] | None = None,
        relations: Sequence[LearningRelation] = (),
        system_params: Sequence[SystemParam] = (),
        embed_progress: ProgressFn | None = None,
        findings: dict[str, list[Finding]] | None = None,
        override_reason: str | None = None,
        detail: dict | None = None,
        history: Sequence[Edit] = (),
        outcome_events: Sequence[OutcomeEvent] = (),
        vectors: np.ndarray | None = None,
    ) -> int:
        """Store many learnings in ONE transaction (rows, usage stats, embeddings, history,
        content-scan marks, the audit entry, and optionally relations among them, system
        parameters, and earlier history entries and outcome events as they were recorded,
        e.g. from an export: an import lands whole or not at all).

        Every learning is scanned (:mod:`groove_core.scan`) unless ``findings`` (id ->
        findings) is given. In an enterprise tier a learning with findings is refused
        unless ``override_reason`` is given (recorded with the learning and in the audit
        log); elsewhere it is stored and marked.

        Embeddings are computed first, in batches (cached by content), so a failure of the
        model writes nothing; ``vectors`` gives them instead. A batch that is large next to
        the tier drops Cozo's HNSW index in that transaction (a failure leaves the old
        index in place) and builds it again in a second one right after
        (:meth:`build_semantic_index`): about 20x faster than inserting row by row.
        Batches of :data:`BULK_MIN_ROWS` or more travel as Arrow files
        (:mod:`groove_core.store.bulk`), still in that one transaction, and are handed to
        the derived search indexes, which are saved (:meth:`SearchStore.publish`).

        Args:
            action: ``learning.create`` (default), ``learning.import``,
                ``learning.promote`` or ``learning.restore`` (history verb and audit action).
            vectors: embeddings the caller already has (one per learning, e.g. copied
                from another tier, or an array ``(len(learnings), 384)``), used instead
                of computing them.

        Returns: the number of learnings written.

        Raises:
            PermissionDeniedError: the actor's role does not allow ``action`` here.
            ContentBlockedError: findings in an enterprise tier without an override.
            EmbeddingError / DatabaseError: nothing was written.
        """
        if not (learnings or relations or system_params or history or outcome_events):
            return 0
        action = Action(action)
        actor = actor or self.writer.actor
        self.writer.authorize(action, actor)
        large = len(learnings) >= embeddings.BULK_MIN_ROWS
        findings, override = self._admit(learnings, findings, override_reason, actor)
        vectors = self._vectors(learnings, vectors, embed_progress)  # kept to publish
        blocks, params, info = self._plan(
            learnings,
            actor=actor,
            action=action,
            usage=usage,
            relations=relations,
            system_params=system_params,
            findings=findings,
            override=override,
            history=history,
            outcome_events=outcome_events,
            vectors=vectors,
            lazy=large,  # bulk.staged consumes the rows a chunk at a time
        )
        from groove_core.store import bulk  # numpy and pyarrow: only when writing

        publish = large and self._publishes()
        if publish:
            before, empty = changelog.head(self.db), self.count() == 0
        rebuild = DROP_SEMANTIC_INDEX in blocks
        with bulk.staged(self.db, blocks, params, _bulk_tables(), large) as (blocks, params):
            self.writer.write(
                action,
                target([lr.id for lr in learnings]),
                blocks,
                params,
                actor=actor,
                after=Hashed.of(lr.to_json() for lr in learnings),
                detail={**(detail or {}), **info},
            )
        del params, blocks
        after = changelog.head(self.db) if publish else None
        if rebuild:
            self.build_semantic_index()
        if publish:
            self._publish(before, after, empty, learnings, usage or {}, vectors)
        return len(learnings)

    def _publishes(self) -> bool:
        """Whether a bulk write should hand what it wrote to the derived search indexes:
        the tier has the change log and the indexes live in files or are open here."""
        from groove_core.store.derived import index_dir

        has_log = self.writer._has("search_head")
        return has_log and (self.derived is not None or index_dir(self.db) is not None)

    def _publish(
        self,
        before: changelog.Head,
        after: changelog.Head,
        empty: bool,
        learnings: Sequence[Learning],
        usage: dict[str, UsageStats],
        vectors: np.ndarray | None,
    ) -> None:
        """Apply the bulk write just committed to the derived indexes (and save them), from
        the learnings and vectors in hand, when it was the only write between ``before``
        and ``after``: another process's first search then loads files instead of
        re-reading the tier."""
        if after.seq != before.seq + 1 or after.tier_uid != before.tier_uid:
            return
        if self.derived is None:
            from groove_core.store.search import SearchStore

            SearchStore(self)
        rows = [
            learning_to_row(lr) + usage_to_row(lr.id, usage.get(lr.id, UsageStats()))[1:]
            for lr in learnings
        ]
        self.derived.publish(before, after, rows, vectors, empty=empty)

    def plan_store(
        self,
        learnings: Sequence[Learning],
        *,
        actor: Principal,
        action: Action = Action.learning_create,
        usage: dict[str, UsageStats] | None = None,
        relations: Sequence[LearningRelation] = (),
        system_params: Sequence[SystemParam] = (),
        embed_progress: ProgressFn | None = None,
        findings: dict[str, list[Finding]] | None = None,
        override_reason: str | None = None,
        history_who: str | None = None,
        history: Sequence[Edit] = (),
        outcome_events: Sequence[OutcomeEvent] = (),
        vectors: np.ndarray | None = None,
        lazy: bool = False,
    ) -> tuple[list[str], dict[str, Any], dict]:
        """``(statements, params, audit detail)`` that store ``learnings`` as
        :meth:`store_many` does (scan, embeddings computed now); nothing is written.
        ``history_who`` is the principal named in the history (default: ``actor``);
        ``history`` and ``outcome_events`` are earlier rows kept as they were.
        ``vectors`` gives the embeddings (else computed). With ``lazy`` the rows of
        learnings, usage, history and embeddings (numpy vectors) are one-shot generators,
        for :func:`groove_core.store.bulk.staged` to consume a chunk at a time.

        Raises: ContentBlockedError, PermissionDeniedError (an override by a non-curator),
        EmbeddingError, ValidationError (``vectors`` of the wrong shape, a control
        character in a learning).
        """
        findings, override = self._admit(learnings, findings, override_reason, actor)
        return self._plan(
            learnings,
            actor=actor,
            action=action,
            usage=usage,
            relations=relations,
            system_params=system_params,
            findings=findings,
            override=override,
            history_who=history_who,
            history=history,
            outcome_events=outcome_events,
            vectors=self._vectors(learnings, vectors, embed_progress),
            lazy=lazy,
        )

    def _admit(
        self,
        learnings: Sequence[Learning],
        findings: dict[str, list[Finding]] | None,
        override_reason: str | None,
        actor: Principal,
    ) -> tuple[dict[str, list[Finding]], str | None]:
        """``(findings, override reason)`` of learnings groove may store: every text free
        of control characters, scanned (unless ``findings`` are given) and let in by the
        tier's scan policy. Runs before anything is embedded: the embedding cache must not
        keep a vector of refused (secret-bearing) text.

        Raises: ValidationError, ContentBlockedError, PermissionDeniedError."""
        for lr in learnings:
            lr.check_storable()
        findings = self.scan(learnings) if findings is None else findings
        return findings, self.check_findings(findings, override_reason, actor)

    def _plan(
        self,
        learnings: Sequence[Learning],
        *,
        actor: Principal,
        action: Action,
        usage: dict[str, UsageStats] | None,
        relations: Sequence[LearningRelation],
        system_params: Sequence[SystemParam],
        findings: dict[str, list[Finding]],
        override: str | None,
        history_who: str | None = None,
        history: Sequence[Edit],
        outcome_events: Sequence[OutcomeEvent],
        vectors: np.ndarray | None,
        lazy: bool,
    ) -> tuple[list[str], dict[str, Any], dict]:
        """:meth:`plan_store` for learnings already admitted (:meth:`_admit`) with their
        final ``vectors``."""
        usage = usage or {}
        at = to_unix(now())
        verb = _HISTORY_VERB[Action(action)]
        who = history_who or actor.id
        rows = _lazy if lazy else list
        params: dict[str, Any] = {
            "learnings": rows(learning_to_row(lr) for lr in learnings),
            "usage": rows(usage_to_row(lr.id, usage.get(lr.id, UsageStats())) for lr in learnings),
            "edits": rows(
                [lr.id, new_id(), at, who, verb, None, json.dumps(lr.to_json())] for lr in learnings
            ),
        }
        blocks = [PUT_LEARNING, PUT_USAGE, PUT_EDIT] if learnings else []
        info: dict[str, Any] = {"learnings": len(learnings)}
        marks = self._scan_marks(findings, at, actor if override else None, override)
        if marks:
            params["scan_marks"] = marks
            blocks.append(PUT_SCAN)
            info["flagged"] = len(marks)
        if override:
            info["override_reason"] = override
        if relations:
            params["relations"] = [relation_row(r) for r in relations]
            blocks.append(PUT_RELATIONS)
            info["relations"] = len(relations)
        if system_params:
            params["params"] = [param_to_row(p) for p in system_params]
            blocks.append(PUT_PARAMS)
            info["params"] = len(system_params)
        if history:
            params["history"] = [edit_row(e) for e in history]
            blocks.append(PUT_EDIT.replace("$edits", "$history"))
            info["history"] = len(history)
        if outcome_events:
            params["events"] = [
                [e.learning_id, e.key(), to_unix(e.at), e.outcome.value, e.session_id]
                for e in outcome_events
            ]
            blocks.append(PUT_EVENTS)
            info["outcome_events"] = len(outcome_events)
        if vectors is not None:
            params["embeddings"] = rows(
                [lr.id, v if lazy else v.tolist()] for lr, v in zip(learnings, vectors, strict=True)
            )
            blocks += self._embedding_blocks(len(learnings))
        return self._logged(blocks, params, [lr.id for lr in learnings]), params, info

    def delete(self, learning_id: str, *, actor: Principal | None = None) -> bool:
        """Delete a learning with its usage stats, embedding and relations (both directions),
        in one transaction; the history keeps a ``deleted`` entry with the whole learning,
        its usage and relations so :meth:`restore` can undo it. Returns False if absent.

        Raises: PermissionDeniedError."""
        return self.delete_many([learning_id], actor=actor) == 1

    def plan_delete(
        self, ids: Iterable[str], who: str
    ) -> tuple[list[str], list[str], dict[str, Any], dict]:
        """``(ids, statements, params, snapshots)`` that delete those of ``ids`` that exist,
        with ``deleted`` history entries naming ``who`` (snapshots: id -> learning, usage
        and relations, what :meth:`restore` needs; a learning whose row does not follow
        the data contract is kept as its ``row`` as stored, and cannot be restored).
        Nothing is written."""
        ids = [check_uuid(i) for i in ids]
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := id in $ids, {LEARNING_ATOM}", {"ids": ids}, read_only=True
        )
        raw = {r["id"]: r for r in res.dicts()}
        existing = {lr.id: lr for lr in self.skipped.decode(raw.values(), self._decode, _id)}
        keep = [i for i in dict.fromkeys(ids) if i in raw]
        if not keep:
            return [], [], {}, {}
        usage_rows = {
            r[0]: list(r)
            for r in self.db.run(
                f"?[{USAGE_HEAD}] := learning_id in $ids, *usage_stats{{{USAGE_HEAD}}}",
                {"ids": keep},
                read_only=True,
            ).rows
        }
        rels: dict[str, list[dict]] = {i: [] for i in keep}
        for rel in self._relations_touching(keep):
            for end in (rel.from_id, rel.to_id):
                if end in rels:
                    rels[end].append(rel.to_json())
        snapshot = {
            i: {
                # a row that does not follow the data contract is kept as it was stored
                **(
                    {"learning": existing[i].to_json()}
                    if i in existing
                    else {"row": [raw[i][c] for c in LEARNING_COLS]}
                ),
                "usage": usage_rows.get(i) or usage_to_row(i, UsageStats()),
                "relations": rels[i],
            }
            for i in keep
        }
        at = to_unix(now())
        blocks = [
            "?[id] <- $ids :rm learning {id}",
            "?[learning_id] <- $ids :rm usage_stats {learning_id}",
            "?[learning_id] <- $ids :rm learning_embeddings {learning_id}",
            "?[learning_id] <- $ids :rm learning_scan {learning_id}",
            "?[from_id, relation_type, to_id] := from_id in $flat, "
            "*learning_relations{from_id, relation_type, to_id} "
            ":rm learning_relations {from_id, relation_type, to_id}",
            "?[from_id, relation_type, to_id] := to_id in $flat, "
            "*learning_relations{from_id, relation_type, to_id} "
            ":rm learning_relations {from_id, relation_type, to_id}",
            PUT_EDIT,
        ]
        params = {
            "ids": [[i] for i in keep],
            "flat": keep,
            "edits": [
                [i, new_id(), at, who, "deleted", json.dumps(snapshot[i]), None] for i in keep
            ],
        }
        return keep, self._logged(blocks, params, keep), params, snapshot

    def delete_many(self, ids: Iterable[str], *, actor: Principal | None = None) -> int:
        """Delete several learnings in one transaction (see :meth:`delete`).

        Raises: PermissionDeniedError."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_delete, actor)
        keep, blocks, params, snapshot = self.plan_delete(ids, actor.id)
        if not keep:
            return 0
        self.writer.write(
            Action.learning_delete,
            target(keep),
            blocks,
            params,
            actor=actor,
            before=snapshot,
            detail={"learnings": len(keep)},
        )
        return len(keep)

    def restore(self, learning_id: str, *, actor: Principal | None = None) -> Learning:
        """Undo the deletion of a learning: the row, usage stats, relations whose other end
        still exists, and a re-computed embedding, in one transaction.

        Raises:
            NotFoundError: no deletion of that id is recorded, or it exists again.
            PermissionDeniedError: the actor may not restore here.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_restore, actor)
        learning_id = check_uuid(learning_id)
        if self.get(learning_id) is not None:
            raise NotFoundError(f"learning {learning_id} is not deleted")
        edits = [e for e in self.history(learning_id) if e.action == "deleted"]
        if not edits:
            raise NotFoundError(f"no deletion of learning {learning_id} is recorded")
        snap = edits[-1].before or {}
        if "learning" not in snap:
            raise ValidationError(
                f"learning {learning_id} did not follow the data contract when it was "
                "deleted, so groove cannot restore it; its row as it was is kept in the "
                "tier's edit history (the 'deleted' entry of relation learning_edit; the "
                "audit log holds its hash)"
            )
        learning = Learning.from_json(snap["learning"])
        stats = row_to_usage(dict(zip(USAGE_COLS, snap["usage"], strict=True)))
        rels = [LearningRelation.from_json(r) for r in snap.get("relations", [])]
        others = {r.to_id if r.from_id == learning.id else r.from_id for r in rels}
        alive = {lr.id for lr in self.get_many(sorted(others))}
        self.store_many(
            [learning],
            actor=actor,
            action=Action.learning_restore,
            usage={learning.id: stats},
            relations=[
                r for r in rels if (r.to_id if r.from_id == learning.id else r.from_id) in alive
            ],
        )
        return self.require(learning.id)


def _id(row: dict) -> str:
    return row["id"]


def _lazy(rows: Iterable[list]) -> Iterator[list]:
    """Rows as a one-shot iterator (made as they are read)."""
    return iter(rows)


@functools.cache
def _bulk_tables() -> list:
    """What :func:`groove_core.store.bulk.staged` may move through Arrow files: the
    statement, its parameter, the target relation and its columns (a vector column named
    apart). Made on first use: the bulk module loads numpy and pyarrow."""
    from groove_core.store import bulk

    return [
        bulk.Table(PUT_LEARNING, "learnings", "learning", LEARNING_COLS),
        bulk.Table(PUT_USAGE, "usage", "usage_stats", USAGE_COLS),
        bulk.Table(PUT_EDIT, "edits", "learning_edit", EDIT_COLS),
        bulk.Table(
            PUT_EMBEDDING, "embeddings", "learning_embeddings", ["learning_id", "embedding"]
        ),
    ]


__all__ = ["LearningStore"]
