"""Learnings, usage stats, relations, edit history and embeddings of one tier.

Every multi-row write is one chained Cozo program, so it applies whole or not at all.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from groove_core.embed import DIM, Embedder, content_hash
from groove_core.errors import (
    ContentBlockedError,
    DatabaseError,
    EmbeddingError,
    NotFoundError,
    ValidationError,
)
from groove_core.model.access import Action, Principal, os_principal
from groove_core.model.learning import Learning, LearningCategory, LearningContent
from groove_core.model.params import SystemParam
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.model.scope import Scope
from groove_core.model.serde import (
    check_uuid,
    from_rfc3339,
    from_unix,
    new_id,
    now,
    require,
    to_rfc3339,
    to_unix,
)
from groove_core.model.usage import OUTCOME_INCREMENTS, Outcome, OutcomeEvent, UsageStats
from groove_core.model.values import check_json
from groove_core.store import changelog
from groove_core.store.audit import Hashed
from groove_core.store.engine import Engine, Result
from groove_core.store.migrations.m001_initial import SEMANTIC_INDEX
from groove_core.store.params import PUT_PARAMS, param_to_row
from groove_core.store.rows import (
    LEARNING_COLS,
    LEARNING_HEAD,
    LEARNING_KEYED,
    USAGE_COLS,
    USAGE_HEAD,
    USAGE_KEYED,
    learning_to_row,
    row_to_learning,
    row_to_usage,
    usage_to_row,
)
from groove_core.store.writer import TierWriter, target

if TYPE_CHECKING:
    import numpy as np

    from groove_core.scan import Finding

#: Sort orders for :meth:`LearningStore.list`: name -> Cozo ``:order`` clause.
SORTS = {
    "recency": "-updated_at, id",
    "created": "-created_at, id",
    "confidence": "-confidence, id",
    "usage": "-times_injected, -updated_at, id",
    "description": "description, id",
}
#: Sort orders that an index of ``learning`` keeps (migration 4): sort name -> index.
_SORT_INDEX = {"recency": "by_updated", "created": "by_created", "usage": "by_updated"}
#: Deepest window (offset + limit) :meth:`LearningStore.page` reads from the newest rows
#: of an index instead of sorting all of it (each of ~32 probes reads up to this many).
NEWEST_MAX = 1_000
#: How far past now a timestamp may lie and still be found by the newest-rows search.
_FUTURE_SECONDS = 100 * 365 * 86_400
_SOURCE_TYPES = ("transcript", "user_created", "promoted", "imported", "enterprise_curated")

_LEARNING_ATOM = "*learning{" + LEARNING_HEAD + "}"
_PUT_LEARNING = f"?[{LEARNING_HEAD}] <- $learnings :put learning {{{LEARNING_KEYED}}}"
_PUT_USAGE = f"?[{USAGE_HEAD}] <- $usage :put usage_stats {{{USAGE_KEYED}}}"
_PUT_EMBEDDING = (
    "?[learning_id, embedding] <- $embeddings :put learning_embeddings {learning_id => embedding}"
)
_DROP_SEMANTIC_INDEX = "::hnsw drop learning_embeddings:semantic_idx"
#: Bulk writes of at least this many learnings may rebuild the HNSW index (see store_many).
BULK_MIN_ROWS = 200
#: Cost of one HNSW insert relative to one row of an index build (measured, see above).
INSERT_TO_BUILD_COST = 20
_PUT_RELATIONS = (
    "?[from_id, relation_type, to_id, weight, created_at] <- $relations "
    ":put learning_relations {from_id, relation_type, to_id => weight, created_at}"
)
_EDIT_COLS = ["learning_id", "edit_id", "at", "who", "action", "before_json", "after_json"]
_PUT_EDIT = (
    "?[learning_id, edit_id, at, who, action, before_json, after_json] <- $edits "
    ":put learning_edit {learning_id, edit_id => at, who, action, before_json, after_json}"
)
_PUT_SCAN = (
    "?[learning_id, scanned_at, findings_json, override_by, override_reason] <- $scan_marks "
    ":put learning_scan {learning_id => scanned_at, findings_json, override_by, override_reason}"
)
#: Fails the transaction unless the learning is still as it was read (same updated_at).
_GUARD_UNCHANGED = (
    "?[id] := id = $guard_id, *learning{id, updated_at}, updated_at = $guard_updated :assert some"
)
#: The history verb (relation ``learning_edit``, column ``action``) of each way in.
_HISTORY_VERB = {
    Action.learning_create: "created",
    Action.learning_import: "imported",
    Action.learning_promote: "promoted",
    Action.learning_restore: "restored",
    Action.proposal_approve: "created",
}
#: Outcome events as they are (an export's): ``:put`` by key, so importing twice is a no-op.
_PUT_EVENTS = (
    "?[learning_id, event_id, at, outcome, session_id] <- $events "
    ":put outcome_event {learning_id, event_id => at, outcome, session_id}"
)


def text_for_embedding(content: LearningContent) -> str:
    """The text a learning is embedded by: its description and insight (the description
    is left out when the insight starts with it), after the ``heading`` of its pattern
    when it has one: imported rules keep their file's heading path there, the context a
    single rule line lacks, like a title field in document retrieval."""
    parts = []
    if isinstance(content.pattern, dict) and isinstance(content.pattern.get("heading"), str):
        parts.append(content.pattern["heading"])
    if not content.insight.startswith(content.description.rstrip("…")):
        parts.append(content.description)
    parts.append(content.insight)
    return "\n".join(p for p in parts if p.strip())


@dataclass(frozen=True)
class LearningFilter:
    """Filters for :meth:`LearningStore.list` and ``count``; ``None`` means any.

    ``scope`` is a DB scope string, ``category`` a category DB string, ``source_type`` one
    of the seed's source types, ``ids`` restricts to those ids.
    """

    scope: str | None = None
    category: str | None = None
    source_type: str | None = None
    ids: Sequence[str] | None = None

    def body(self, atom: str) -> tuple[str, dict[str, Any]]:
        """The rule body that reads ``atom`` (a ``*learning{...}`` atom binding ``id``,
        ``scope``, ``category`` and ``source_type``) through this filter, and its bound
        parameters.

        Cozo plans a body in the order it is written, so the one condition that can
        select rows by key or index is bound BEFORE the atom (ids by key, else category
        or scope by their index) and the others filter AFTER it: a value bound before the
        atom that is neither key nor index prefix makes Cozo load the whole relation.

        Raises:
            ValidationError: an unknown category, scope form or source type, or a bad id.
        """
        conds: list[tuple[str, str, Any]] = []  # (parameter, condition, value)
        if self.ids is not None:
            conds.append(("f_ids", "id in $f_ids", [check_uuid(i) for i in self.ids]))
        if self.category:
            value = LearningCategory.parse(self.category).value
            conds.append(("f_category", "category = $f_category", value))
        if self.scope:
            conds.append(("f_scope", "scope = $f_scope", Scope.parse(self.scope).to_db()))
        if self.source_type:
            if self.source_type not in _SOURCE_TYPES:
                raise ValidationError(f"unknown source type {self.source_type!r:.80}")
            conds.append(("f_source", "source_type = $f_source", self.source_type))
        params = {name: value for name, _, value in conds}
        if not conds or conds[0][0] == "f_source":  # no key or index to use
            return ", ".join([atom] + [c for _, c, _ in conds]), params
        first, *rest = (c for _, c, _ in conds)
        return ", ".join([first, atom, *rest]), params

    def matches(self, learning: Learning) -> bool:
        """Whether ``learning`` passes this filter (as :meth:`body` selects in Cozo).

        Raises:
            ValidationError: an unknown category or scope form."""
        if self.ids is not None and learning.id not in set(self.ids):
            return False
        if self.category and learning.category != LearningCategory.parse(self.category):
            return False
        if self.scope and learning.scope.to_db() != Scope.parse(self.scope).to_db():
            return False
        return not self.source_type or learning.source.kind == self.source_type


@dataclass(frozen=True)
class Page:
    """One page of learnings: ``items`` in order, ``total`` matching rows, the window."""

    items: list[Learning]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Edit:
    """One entry of a learning's history: who did what when, with the fields before and
    after (``None`` for a creation's before or a deletion's after)."""

    learning_id: str
    edit_id: str
    at: Any
    who: str
    action: str
    before: dict | None
    after: dict | None

    def to_json(self) -> dict:
        """The export form (``at`` as RFC 3339; ``before``/``after`` as JSON objects)."""
        return {
            "learning_id": self.learning_id,
            "edit_id": self.edit_id,
            "at": to_rfc3339(self.at),
            "who": self.who,
            "action": self.action,
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: Any) -> Edit:
        """Read the export form; ValidationError naming the bad field otherwise."""
        what = "history entry"
        sides = {}
        for side in ("before", "after"):
            value = data.get(side) if isinstance(data, dict) else None
            if value is not None and not isinstance(value, dict):
                raise ValidationError(f"{what}: field '{side}' must be an object or null")
            sides[side] = check_json(value, f"{what}: {side}")
        return cls(
            learning_id=check_uuid(require(data, "learning_id", str, what), f"{what}: learning_id"),
            edit_id=_key_text(require(data, "edit_id", str, what), f"{what}: edit_id"),
            at=from_rfc3339(require(data, "at", str, what), f"{what}: at"),
            who=require(data, "who", str, what),
            action=_key_text(require(data, "action", str, what), f"{what}: action"),
            **sides,
        )


def _key_text(value: str, what: str) -> str:
    if not value.strip():
        raise ValidationError(f"{what} must not be empty")
    return value


@dataclass(frozen=True)
class Related:
    """A relation of a learning, seen from it: ``direction`` is ``out`` when the learning
    is ``from_id`` and ``in`` otherwise; ``other`` is the learning at the far end (None
    if it no longer exists)."""

    relation: LearningRelation
    direction: str
    other: Learning | None


@dataclass(frozen=True)
class ScanMark:
    """The content-scan findings stored with a learning (relation ``learning_scan``) and,
    when it was let in despite them, who overrode the scan and why."""

    learning_id: str
    scanned_at: Any
    findings: list
    override_by: str | None
    override_reason: str | None

    def to_json(self) -> dict:
        """``{"findings": [...], "override_by", "override_reason"}`` for ``--json`` rows."""
        return {
            "findings": [f.to_json() for f in self.findings],
            "override_by": self.override_by,
            "override_reason": self.override_reason,
        }


class LearningStore:
    """Typed access to the learnings of one tier (seed 001 ``LearningStore``).

    Args:
        db: the tier's open engine (already migrated).
        embedder: embeds description + insight; ``None`` stores learnings without
            embeddings (semantic search then skips them until :meth:`reembed`).
        writer: the tier's :class:`TierWriter` (role checks and audit); default: one
            acting as the OS account.
    """

    def __init__(
        self, db: Engine, embedder: Embedder | None = None, writer: TierWriter | None = None
    ):
        self.db = db
        self.embedder = embedder
        self.writer = writer or TierWriter(db, os_principal())
        #: The :class:`~groove_core.store.search.SearchStore` over this store, if one is
        #: open: a bulk write hands it what it wrote (see :meth:`store_many`).
        self.derived: Any = None

    @property
    def tier(self) -> str:
        return self.db.tier

    # ------------------------------------------------------------ embeddings
    def embed_texts(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        batch_size: int = 512,
    ) -> np.ndarray:
        """Embeddings of ``texts`` as float32 ``(n, 384)``, each distinct text embedded once:
        the tier's ``embedding_cache`` (keyed by content hash) is read first and filled
        with what had to be computed. ``progress(k)`` is called after each batch of ``k``.

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
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            vecs = np.asarray(self.embedder.embed([first_text[k] for k in batch]), np.float32)
            if vecs.shape != (len(batch), DIM) or not np.isfinite(vecs).all():
                raise EmbeddingError(
                    f"embedder {model} returned shape {vecs.shape}, expected ({len(batch)}, {DIM})"
                )
            self.db.run(
                "?[content_hash, embedding] <- $rows "
                ":put embedding_cache {content_hash => embedding}",
                {"rows": [[k, v.tolist()] for k, v in zip(batch, vecs, strict=True)]},
            )
            found.update(zip(batch, vecs, strict=True))
            if progress:
                progress(len(batch))
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        """Embedding of a search query (cached like any text)."""
        return self.embed_texts([text])[0]

    # ------------------------------------------------------------ writes
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
        embed_progress: Callable[[int], None] | None = None,
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
        large = len(learnings) >= BULK_MIN_ROWS
        vectors = self._vectors(learnings, vectors, embed_progress)
        blocks, params, info = self.plan_store(
            learnings,
            actor=actor,
            action=action,
            usage=usage,
            relations=relations,
            system_params=system_params,
            embed_progress=embed_progress,
            findings=findings,
            override_reason=override_reason,
            history=history,
            outcome_events=outcome_events,
            vectors=vectors,
            lazy=large,  # bulk.staged consumes the rows a chunk at a time
        )
        from groove_core.store import bulk  # numpy and pyarrow: only when writing

        publish = large and self._publishes()
        if publish:
            before, empty = changelog.head(self.db), self.count() == 0
        rebuild = _DROP_SEMANTIC_INDEX in blocks
        with bulk.staged(self.db, blocks, params, _bulk_tables(), large) as (blocks, params):
            self.writer.write(
                action,
                target([lr.id for lr in learnings]),
                blocks,
                params,
                actor=actor,
                after=Hashed.of(lr.to_json() for lr in learnings),
                detail={**(detail or {}), **info},
                check=False,
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
        embed_progress: Callable[[int], None] | None = None,
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
        EmbeddingError, ValidationError (``vectors`` of the wrong shape).
        """
        findings = self.scan(learnings) if findings is None else findings
        override = self._check_findings(findings, override_reason, actor)
        usage = usage or {}
        vectors = self._vectors(learnings, vectors, embed_progress)
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
        blocks = [_PUT_LEARNING, _PUT_USAGE, _PUT_EDIT] if learnings else []
        info: dict[str, Any] = {"learnings": len(learnings)}
        marks = self._scan_marks(findings, at, actor if override else None, override)
        if marks:
            params["scan_marks"] = marks
            blocks.append(_PUT_SCAN)
            info["flagged"] = len(marks)
        if override:
            info["override_reason"] = override
        if relations:
            params["relations"] = [_relation_row(r) for r in relations]
            blocks.append(_PUT_RELATIONS)
            info["relations"] = len(relations)
        if system_params:
            params["params"] = [param_to_row(p) for p in system_params]
            blocks.append(PUT_PARAMS)
            info["params"] = len(system_params)
        if history:
            params["history"] = [_edit_row(e) for e in history]
            blocks.append(_PUT_EDIT.replace("$edits", "$history"))
            info["history"] = len(history)
        if outcome_events:
            params["events"] = [
                [e.learning_id, e.key(), to_unix(e.at), e.outcome.value, e.session_id]
                for e in outcome_events
            ]
            blocks.append(_PUT_EVENTS)
            info["outcome_events"] = len(outcome_events)
        if vectors is not None:
            params["embeddings"] = rows(
                [lr.id, v if lazy else v.tolist()] for lr, v in zip(learnings, vectors, strict=True)
            )
            blocks += self._embedding_blocks(len(learnings))
        return self._logged(blocks, params, [lr.id for lr in learnings]), params, info

    def _vectors(
        self,
        learnings: Sequence[Learning],
        vectors: np.ndarray | Sequence | None,
        embed_progress: Callable[[int], None] | None,
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

    # ------------------------------------------------------------ content scan
    def scan(self, learnings: Sequence[Learning]) -> dict[str, list[Finding]]:
        """Content-scan findings of each learning that has any (id -> findings), scanned in
        one batch (:func:`groove_core.scan.scan_contents`); an imported learning's findings
        name its file and line."""
        from groove_core.scan import scan_contents

        sources = []
        for lr in learnings:
            file = lr.source.data.get("source_file") if lr.source.kind == "imported" else None
            line = lr.content.pattern.get("line") if isinstance(lr.content.pattern, dict) else None
            sources.append((file, line if isinstance(line, int) else None))
        found = scan_contents([lr.content for lr in learnings], sources=sources)
        return {lr.id: f for lr, f in zip(learnings, found, strict=True) if f}

    def _check_findings(
        self, findings: dict[str, list[Finding]], override_reason: str | None, actor: Principal
    ) -> str | None:
        """The override reason that lets flagged learnings in (None when there are no
        findings or the tier only marks them).

        Raises:
            ContentBlockedError: findings in an enterprise tier and no override reason.
            PermissionDeniedError: an override by someone who is not a curator.
        """
        if not findings or self.writer.kind != "enterprise":
            return None
        reason = (override_reason or "").strip()
        if not reason:
            flat = [f for fs in findings.values() for f in fs]
            first = flat[0]
            raise ContentBlockedError(
                f"content scan: {len(flat)} finding(s) in {len(findings)} learning(s), "
                f"first {first.rule} at {first.where()}: {first.message}; an enterprise "
                "tier takes them only with a curator's written override reason",
                flat,
            )
        self.writer.authorize(Action.scan_override, actor)
        return reason

    @staticmethod
    def _scan_marks(
        findings: dict[str, list[Finding]],
        at: int,
        override_by: Principal | None,
        override_reason: str | None,
    ) -> list[list]:
        return [
            [
                lid,
                at,
                json.dumps([f.to_json() for f in found], ensure_ascii=False),
                override_by.id if override_by else None,
                override_reason,
            ]
            for lid, found in findings.items()
        ]

    def scan_marks(self, ids: Sequence[str]) -> dict[str, ScanMark]:
        """The stored content-scan marks of those of ``ids`` that have one."""
        from groove_core.scan import Finding

        if not self.writer._has("learning_scan"):
            return {}
        res = self.db.run(
            "?[learning_id, scanned_at, findings_json, override_by, override_reason] := "
            "learning_id in $ids, *learning_scan{learning_id, scanned_at, findings_json, "
            "override_by, override_reason}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {
            lid: ScanMark(
                lid,
                from_unix(at),
                [Finding.from_json(f) for f in json.loads(fj)],
                by,
                why,
            )
            for lid, at, fj, by, why in res.rows
        }

    def _logged(self, blocks: list[str], params: dict[str, Any], ids: Sequence[str]) -> list[str]:
        """``blocks`` with, first, the row of the search change log naming ``ids``
        (learnings whose text or embedding the write changes or deletes) when the tier has
        the log (:mod:`groove_core.store.changelog`); its parameters go into ``params``."""
        if not ids or not self.writer._has("search_head"):
            return blocks
        log, log_params = changelog.statements(ids)
        params.update(log_params)
        return [*log, *blocks]

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
                return [_DROP_SEMANTIC_INDEX, _PUT_EMBEDDING]
        return [_PUT_EMBEDDING]

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

    def plan_update(
        self,
        learning_id: str,
        *,
        description: str | None = None,
        insight: str | None = None,
        category: str | LearningCategory | None = None,
        scope: str | Scope | None = None,
    ) -> tuple[Learning, Learning]:
        """``(current, edited)``: the learning as it is and as the edit would make it
        (``edited is current`` when nothing changes). Nothing is written.

        Raises:
            NotFoundError: no such learning. ValidationError: a field is invalid.
        """
        old = self.require(learning_id)
        content = LearningContent(
            description if description is not None else old.content.description,
            insight if insight is not None else old.content.insight,
            old.content.pattern,
        )
        new_scope = Scope.parse(scope) if isinstance(scope, str) else (scope or old.scope)
        new = replace(
            old,
            content=content,
            category=LearningCategory.parse(category) if category else old.category,
            scope=new_scope,
            updated_at=max(now(), old.updated_at),
        )
        return old, (new if _diff(old, new)[1] else old)

    def update(
        self,
        learning_id: str,
        *,
        description: str | None = None,
        insight: str | None = None,
        category: str | LearningCategory | None = None,
        scope: str | Scope | None = None,
        actor: Principal | None = None,
        override_reason: str | None = None,
        expect: Learning | None = None,
    ) -> Learning:
        """Edit fields of a learning in one transaction: the row (``updated_at`` bumped), its
        embedding, the content-scan mark, an ``edited`` history entry with the fields
        before and after, and the audit entry.

        Args:
            expect: the learning as the caller saw it: the edit is refused when it has
                changed since (someone else edited it).

        Raises:
            NotFoundError: no such learning. ValidationError: a field is invalid, or the
            learning changed since ``expect``. PermissionDeniedError, ContentBlockedError:
            see :meth:`store_many`.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_edit, actor)
        old, new = self.plan_update(
            learning_id, description=description, insight=insight, category=category, scope=scope
        )
        if expect is not None and old.to_json() != expect.to_json():
            raise ValidationError(
                f"learning {old.id} was changed by someone else since it was read; "
                "reload it and edit again"
            )
        if new is old:
            return old
        return self.apply_edit(old, new, actor=actor, override_reason=override_reason)

    def apply_edit(
        self,
        old: Learning,
        new: Learning,
        *,
        actor: Principal | None = None,
        action: Action = Action.learning_edit,
        override_reason: str | None = None,
        extra: tuple[list[str], dict[str, Any]] = ([], {}),
        detail: dict | None = None,
        history_who: str | None = None,
    ) -> Learning:
        """Write ``new`` over ``old`` (same id) as one transaction, with its history entry,
        embedding, scan mark and audit entry; ``extra`` adds statements to the same
        transaction (an approved proposal's status). The row must still be ``old``.
        ``history_who`` is the principal named in the history (default: ``actor``).

        Raises:
            ValidationError: the learning changed since ``old`` was read.
            PermissionDeniedError / ContentBlockedError: see :meth:`store_many`.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(action, actor)
        findings = self.scan([new]) if new.content != old.content else {}
        override = self._check_findings(findings, override_reason, actor)
        before, after = _diff(old, new)
        at = to_unix(now())
        params: dict[str, Any] = {
            "learnings": [learning_to_row(new)],
            "edits": [
                [
                    new.id,
                    new_id(),
                    at,
                    history_who or actor.id,
                    "edited",
                    json.dumps(before),
                    json.dumps(after),
                ]
            ],
            "guard_id": old.id,
            "guard_updated": to_unix(old.updated_at),
        }
        blocks = [_GUARD_UNCHANGED, _PUT_LEARNING, _PUT_EDIT]
        if new.content != old.content:
            marks = self._scan_marks(findings, at, actor if override else None, override)
            params["unmark"] = [[new.id]]
            blocks.append("?[learning_id] <- $unmark :rm learning_scan {learning_id}")
            if marks:
                params["scan_marks"] = marks
                blocks.append(_PUT_SCAN)
        if self.embedder is not None and new.content != old.content:
            vec = self.embed_texts([text_for_embedding(new.content)])[0]
            params["embeddings"] = [[new.id, vec.tolist()]]
            blocks.append(_PUT_EMBEDDING)
        blocks = self._logged(blocks + extra[0], params, [new.id])
        params.update(extra[1])
        info = {**(detail or {}), "fields": sorted(after)}
        if override:
            info["override_reason"] = override
        try:
            self.writer.write(
                action,
                new.id,
                blocks,
                params,
                actor=actor,
                before=old.to_json(),
                after=new.to_json(),
                detail=info,
                check=False,
            )
        except DatabaseError as err:
            if self.get(old.id) != old:
                raise ValidationError(
                    f"learning {old.id} was changed by someone else meanwhile; reload it and "
                    "edit again"
                ) from None
            raise err
        return new

    def recategorize_many(
        self,
        ids: Sequence[str],
        category: str | LearningCategory,
        *,
        actor: Principal | None = None,
    ) -> int:
        """Set the category of several learnings in one transaction (with history).

        Raises: NotFoundError for an id that is not here; PermissionDeniedError."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_edit, actor)
        cat = LearningCategory.parse(category)
        olds = [self.require(i) for i in ids]
        changed = [o for o in olds if o.category != cat]
        if not changed:
            return 0
        t = now()
        at = to_unix(t)
        news = [replace(o, category=cat, updated_at=max(t, o.updated_at)) for o in changed]
        params: dict[str, Any] = {
            "learnings": [learning_to_row(n) for n in news],
            "edits": [
                [
                    o.id,
                    new_id(),
                    at,
                    actor.id,
                    "edited",
                    json.dumps({"category": o.category.value}),
                    json.dumps({"category": cat.value}),
                ]
                for o in changed
            ],
        }
        self.writer.write(
            Action.learning_edit,
            target([o.id for o in changed]),
            self._logged([_PUT_LEARNING, _PUT_EDIT], params, [o.id for o in changed]),
            params,
            actor=actor,
            before=[o.to_json() for o in changed],
            after=[n.to_json() for n in news],
            detail={"category": cat.value, "learnings": len(changed)},
            check=False,
        )
        return len(changed)

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
        and relations, what :meth:`restore` needs). Nothing is written."""
        ids = [check_uuid(i) for i in ids]
        existing = {lr.id: lr for lr in self.get_many(ids)}
        keep = list(existing)
        if not keep:
            return [], [], {}, {}
        usages = self.usage_many(keep)
        rels: dict[str, list[dict]] = {i: [] for i in keep}
        for rel in self._relations_touching(keep):
            for end in (rel.from_id, rel.to_id):
                if end in rels:
                    rels[end].append(rel.to_json())
        snapshot = {
            i: {
                "learning": existing[i].to_json(),
                "usage": usage_to_row(i, usages.get(i, UsageStats())),
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
            _PUT_EDIT,
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
            check=False,
        )
        return len(keep)

    def deleted(self, limit: int = 50) -> list[Edit]:
        """The most recent deletions whose learning is still gone (newest first)."""
        res = self.db.run(
            "?[learning_id, edit_id, at, who, action, before_json, after_json] := "
            "*learning_edit{learning_id, edit_id, at, who, action, before_json, after_json}, "
            "action = 'deleted', not *learning{id: learning_id} "
            ":order -at :limit $limit",
            {"limit": int(limit)},
            read_only=True,
        )
        return [_edit(r) for r in res.dicts()]

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

    # ------------------------------------------------------------ reads
    def get(self, learning_id: str) -> Learning | None:
        """The learning with that id, or None."""
        found = self.get_many([learning_id])
        return found[0] if found else None

    def require(self, learning_id: str) -> Learning:
        """Like :meth:`get` but raises NotFoundError naming the tier."""
        found = self.get(learning_id)
        if found is None:
            raise NotFoundError(f"no learning {learning_id} in tier '{self.tier}'")
        return found

    def get_many(self, ids: Sequence[str]) -> list[Learning]:
        """The learnings among ``ids`` that exist, in the order of ``ids``."""
        ids = [check_uuid(i) for i in ids]
        if not ids:
            return []
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := id in $ids, {_LEARNING_ATOM}",
            {"ids": ids},
            read_only=True,
        )
        by_id = {r["id"]: row_to_learning(r, self.tier) for r in res.dicts()}
        return [by_id[i] for i in ids if i in by_id]

    def count(self, flt: LearningFilter | None = None) -> int:
        """Number of learnings matching ``flt`` (all when None)."""
        if flt is None or flt == LearningFilter():  # the narrow index counts twice as fast
            body, params = "*learning:by_updated{id}", {}
        else:
            body, params = flt.body("*learning{id, scope, category, source_type}")
        return int(self.db.run(f"?[count(id)] := {body}", params, read_only=True).scalar(0))

    def list(
        self,
        flt: LearningFilter | None = None,
        *,
        sort: str = "recency",
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """One page of learnings matching ``flt``, sorted by ``sort`` (a key of
        :data:`SORTS`), with the number of matching rows (:meth:`page` and
        :meth:`count`): only the page's rows come back to Python, whatever the size of
        the tier.

        Raises:
            ValidationError: unknown sort, negative limit/offset, or a bad filter value.
        """
        items = self.page(flt, sort=sort, limit=limit, offset=offset)
        return Page(items, self.count(flt), int(offset), int(limit))

    def page(
        self,
        flt: LearningFilter | None = None,
        *,
        sort: str = "recency",
        limit: int = 50,
        offset: int = 0,
    ) -> list[Learning]:
        """The learnings ``offset`` to ``offset + limit`` of those matching ``flt`` in the
        order ``sort`` (a key of :data:`SORTS`); sorting and paging happen inside Cozo.

        The first pages of all learnings by recency or creation (``offset + limit`` up to
        :data:`NEWEST_MAX`) read only the newest rows of the sort's index
        (:meth:`_newest_ids`): about 15 ms at 100,000 learnings, where sorting the whole
        index takes 640 ms.

        Raises:
            ValidationError: unknown sort, negative limit/offset, or a bad filter value.
        """
        if sort not in SORTS:
            raise ValidationError(f"unknown sort {sort!r:.80} (use one of {', '.join(SORTS)})")
        limit, offset = int(limit), int(offset)
        if limit < 1 or offset < 0:
            raise ValidationError("limit must be >= 1 and offset >= 0")
        flt = flt or LearningFilter()
        # Sort (sort columns, id) only, then fetch the page's rows by key: narrower tuples
        # sort faster, and with no filter the recency and creation orders read their
        # index, a much narrower relation (at 100,000 learnings: 217 ms against 418 ms).
        order = [c.strip().lstrip("-") for c in SORTS[sort].split(",")]
        cols = [c for c in order if c != "times_injected"]
        if flt == LearningFilter() and sort in _SORT_INDEX:
            if sort != "usage" and offset + limit <= NEWEST_MAX:
                ids = self._newest_ids(_SORT_INDEX[sort], cols[0], offset + limit)
                if ids is not None:
                    return self.get_many(ids[offset : offset + limit])
            atoms, params = f"*learning:{_SORT_INDEX[sort]}{{{', '.join(cols)}}}", {}
        else:
            needed = dict.fromkeys(["id", "scope", "category", "source_type", *cols])
            atoms, params = flt.body("*learning{" + ", ".join(needed) + "}")
        head = ", ".join(order)
        tail = f":order {SORTS[sort]} :limit $limit :offset $offset"
        if sort == "usage":  # every learning has a usage row (migration 7, store_many)
            script = f"?[{head}] := {atoms}, *usage_stats{{learning_id: id, times_injected}} {tail}"
        else:
            script = f"?[{head}] := {atoms} {tail}"
        res = self.db.run(script, {**params, "limit": limit, "offset": offset}, read_only=True)
        at = order.index("id")
        return self.get_many([row[at] for row in res.rows])

    def _newest_ids(self, index: str, column: str, n: int) -> list[str] | None:
        """The ids of the ``n`` rows with the largest ``column`` (ties by id) of the
        index ``learning:<index>`` (``{column, id}``), without sorting the whole index:
        Cozo reads a range ``column >= t`` of an index by its key, so a binary search
        finds the largest ``t`` with at least ``n`` rows at or above it (each probe reads
        at most ``n`` rows), then those rows are sorted. None when fewer than ``n`` rows
        have a timestamp >= 0 (the caller sorts the whole index)."""
        probe = f"?[{column}, id] := *learning:{index}{{{column}, id}}, {column} >= $t"

        def enough(t: int) -> bool:
            res = self.db.run(f"{probe} :limit $n", {"t": t, "n": n}, read_only=True)
            return len(res.rows) >= n

        low, high = 0, to_unix(now()) + _FUTURE_SECONDS
        if not enough(low):
            return None
        while low < high:  # invariant: enough(low)
            mid = (low + high + 1) // 2
            if enough(mid):
                low = mid
            else:
                high = mid - 1
        rows = self.db.run(probe, {"t": low}, read_only=True).rows
        rows.sort(key=lambda r: (-r[0], r[1]))
        return [r[1] for r in rows[:n]]

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

    def ids(self) -> list[str]:
        """Every learning's id, in id order (one query over a narrow index)."""
        res = self.db.run("?[id] := *learning:by_updated{id} :order id", read_only=True)
        return [r[0] for r in res.rows]

    def iter_all(self, batch: int = 1000) -> Iterable[Learning]:
        """Every learning, in id order, read ``batch`` rows at a time by key (a keyset
        query such as ``id > $last`` would scan the relation for every batch)."""
        ids = self.ids()
        for start in range(0, len(ids), batch):
            yield from self.get_many(ids[start : start + batch])

    def find_by_scope(self, scope: Scope | str) -> list[Learning]:
        """All learnings in a scope (seed 001)."""
        s = scope.to_db() if isinstance(scope, Scope) else Scope.parse(scope).to_db()
        return self._all(LearningFilter(scope=s))

    def find_by_category(self, category: LearningCategory | str) -> list[Learning]:
        """All learnings of a category (seed 001)."""
        return self._all(LearningFilter(category=LearningCategory.parse(category).value))

    def _all(self, flt: LearningFilter) -> list[Learning]:
        body, params = flt.body(_LEARNING_ATOM)
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := {body} :order id",
            params,
            read_only=True,
        )
        return [row_to_learning(r, self.tier) for r in res.dicts()]

    def facets(self) -> dict[str, dict[str, int]]:
        """Counts by category, scope and source type (for filters and the overview); the
        first two read their narrow index rather than the learning rows."""
        out: dict[str, dict[str, int]] = {}
        for col, relation in (
            ("category", "learning:by_category"),
            ("scope", "learning:by_scope"),
            ("source_type", "learning"),
        ):
            res = self.db.run(f"?[{col}, count(id)] := *{relation}{{id, {col}}}", read_only=True)
            out[col] = {k: int(n) for k, n in res.rows}
        return out

    def import_keys(self) -> set[str]:
        """The ``import_key`` of every imported learning (kept in its pattern): lets a
        rule-file import skip what is already here."""
        res = self.db.run(
            "?[pattern_json] := *learning{source_type, pattern_json}, "
            "source_type = 'imported', !is_null(pattern_json)",
            read_only=True,
        )
        keys = set()
        for (text,) in res.rows:
            try:
                key = json.loads(text).get("import_key")
            except (ValueError, AttributeError):
                continue
            if isinstance(key, str):
                keys.add(key)
        return keys

    # ------------------------------------------------------------ usage
    def usage(self, learning_id: str) -> UsageStats:
        """Usage stats of a learning (defaults if none are stored).

        Raises: NotFoundError when the learning does not exist.
        """
        self.require(learning_id)
        return self.usage_many([learning_id]).get(check_uuid(learning_id), UsageStats())

    def usage_many(self, ids: Sequence[str]) -> dict[str, UsageStats]:
        """Usage stats by id for those of ``ids`` that have a stored row."""
        res = self.db.run(
            f"?[{USAGE_HEAD}] := learning_id in $ids, *usage_stats{{{USAGE_HEAD}}}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {r["learning_id"]: row_to_usage(r) for r in res.dicts()}

    def record_outcome(
        self,
        learning_id: str,
        outcome: Outcome | str,
        *,
        session_id: str | None = None,
        event_id: str | None = None,
        at: Any = None,
        actor: Principal | None = None,
    ) -> UsageStats:
        """Apply one injection outcome with the seed's Beta update and keep it as an
        ``outcome_event`` (see :meth:`record_outcomes`). Returns the usage stats after it.

        A retry of an outcome already recorded (same ``event_id``, or same learning and
        ``session_id``) changes nothing and returns the stats as they are.

        Raises:
            NotFoundError: no such learning. ValidationError: unknown outcome.
            PermissionDeniedError: the actor may not record outcomes here.
        """
        event = OutcomeEvent(check_uuid(learning_id), outcome, at, session_id, event_id)
        _, read = self._record_outcomes([event], actor, read_usage=True)
        rows = read.dicts() if read is not None else []
        if rows:  # read in the writing transaction: no second round trip
            return row_to_usage(rows[0])
        return self.usage_many([event.learning_id])[event.learning_id]

    def record_outcomes(
        self, events: Sequence[OutcomeEvent], *, actor: Principal | None = None
    ) -> int:
        """Record many outcomes (a session's) in ONE transaction: an ``outcome_event``
        each, the usage counters and Beta parameters summed per learning inside Cozo (so
        concurrent writers lose no update; seed 001's increments, see
        :data:`~groove_core.model.usage.OUTCOME_INCREMENTS`), ``learning.confidence`` kept
        at the posterior mean, and one audit entry.

        Exactly once: an event whose ``event_id`` (:meth:`OutcomeEvent.key`) is already
        stored for its learning is skipped, also when a concurrent retry stores it first;
        the call fails only when nothing was committed.

        Returns: the number of events recorded now (skipped retries not counted).

        Raises:
            NotFoundError: a learning does not exist (nothing is written).
            ValidationError: an unknown outcome, or two events with one key and different
                content. PermissionDeniedError: the actor may not record outcomes here.
        """
        return self._record_outcomes(events, actor, read_usage=False)[0]

    def _record_outcomes(
        self, events: Sequence[OutcomeEvent], actor: Principal | None, *, read_usage: bool
    ) -> tuple[int, Result | None]:
        """:meth:`record_outcomes`, and with ``read_usage`` the usage rows of the events'
        learnings as that transaction left them (None when nothing was written now)."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.usage_record, actor)
        rows: dict[tuple[str, str], list] = {}
        for e in events:
            lid = check_uuid(e.learning_id)
            row = [lid, e.key(), to_unix(e.at) if e.at is not None else to_unix(now())]
            row += [e.outcome.value, e.session_id]
            prior = rows.setdefault((lid, row[1]), row)
            if prior[3:] != row[3:]:
                raise ValidationError(f"two outcomes with event id {row[1]} differ")
        todo = list(rows.values())
        for _ in range(5):
            if not todo:
                return 0, None
            blocks, params = outcome_blocks(todo, logged=self.writer._has("search_head"))
            lids = sorted({r[0] for r in todo})
            try:
                read = self.writer.write(
                    Action.usage_record,
                    target(lids),
                    blocks,
                    params,
                    actor=actor,
                    after=todo,
                    detail={"events": len(todo)},
                    check=False,
                    returning=_READ_USAGE if read_usage else None,
                )
                return len(todo), read
            except DatabaseError:
                missing = set(lids) - {lr.id for lr in self.get_many(lids)}
                if missing:
                    raise NotFoundError(
                        f"no learning {min(missing)} in tier '{self.tier}'"
                    ) from None
                stored = self._stored_events([(r[0], r[1]) for r in todo])
                if not stored:
                    raise
                todo = [r for r in todo if (r[0], r[1]) not in stored]
        raise DatabaseError(f"tier '{self.tier}': outcomes kept conflicting with other writers")

    def _stored_events(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (learning id, event id) pairs are stored."""
        res = self.db.run(
            "k[learning_id, event_id] <- $keys\n?[learning_id, event_id] := "
            "k[learning_id, event_id], *outcome_event{learning_id, event_id}",
            {"keys": [list(k) for k in keys]},
            read_only=True,
        )
        return {(a, b) for a, b in res.rows}

    def outcome_events(self, learning_id: str) -> list[dict]:
        """Every recorded outcome of a learning, oldest first: dicts with ``timestamp``
        (aware datetime), ``outcome`` and ``session_id``."""
        res = self.db.run(
            "?[at, event_id, outcome, session_id] := learning_id = $id, "
            "*outcome_event{learning_id, event_id, at, outcome, session_id} :order at, event_id",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        return [
            {"timestamp": from_unix(at), "outcome": o, "session_id": s} for at, _e, o, s in res.rows
        ]

    # ------------------------------------------------------------ relations
    def store_relation(self, relation: LearningRelation, *, actor: Principal | None = None) -> None:
        """Store (or replace) a relation between two learnings of this tier.

        Raises: NotFoundError when either end does not exist. ValidationError for a
        self-loop. PermissionDeniedError.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.relation_write, actor)
        if relation.from_id == relation.to_id:
            raise ValidationError("a learning cannot be related to itself")
        for end in (relation.from_id, relation.to_id):
            self.require(end)
        self.writer.write(
            Action.relation_write,
            relation.from_id,
            [_PUT_RELATIONS],
            {"relations": [_relation_row(relation)]},
            actor=actor,
            after=relation.to_json(),
            check=False,
        )

    def _relations_touching(self, ids: Sequence[str]) -> list[LearningRelation]:
        res = self.db.run(
            "?[from_id, relation_type, to_id, weight, created_at] := from_id in $ids, "
            "*learning_relations{from_id, relation_type, to_id, weight, created_at} "
            "?[from_id, relation_type, to_id, weight, created_at] := to_id in $ids, "
            "*learning_relations{from_id, relation_type, to_id, weight, created_at}",
            {"ids": list(ids)},
            read_only=True,
        )
        return [
            LearningRelation(f, RelationType.parse(t), to, w, from_unix(c))
            for f, t, to, w, c in res.rows
        ]

    def all_relations(self) -> list[LearningRelation]:
        """Every relation of the tier."""
        res = self.db.run(
            "?[from_id, relation_type, to_id, weight, created_at] := *learning_relations{"
            "from_id, relation_type, to_id, weight, created_at}",
            read_only=True,
        )
        return [
            LearningRelation(f, RelationType.parse(t), to, w, from_unix(c))
            for f, t, to, w, c in res.rows
        ]

    def related(
        self, learning_id: str, relation_type: RelationType | str | None = None
    ) -> list[Related]:
        """Relations of a learning in both directions, each with the learning at the other
        end, optionally of one type only."""
        lid = check_uuid(learning_id)
        rtype = RelationType.parse(relation_type) if relation_type else None
        rels = [
            r for r in self._relations_touching([lid]) if rtype is None or r.relation_type == rtype
        ]
        others = {
            lr.id: lr
            for lr in self.get_many([r.to_id if r.from_id == lid else r.from_id for r in rels])
        }
        return [
            Related(
                r,
                "out" if r.from_id == lid else "in",
                others.get(r.to_id if r.from_id == lid else r.from_id),
            )
            for r in rels
        ]

    def find_related(
        self, learning_id: str, relation_type: RelationType | str | None = None
    ) -> list[Learning]:
        """Learnings related to ``learning_id`` in either direction (seed 001)."""
        return [r.other for r in self.related(learning_id, relation_type) if r.other]

    def all_outcome_events(self) -> list[OutcomeEvent]:
        """Every ``outcome_event`` row of the tier (also of deleted learnings), oldest
        first, as recorded (``at`` an aware datetime, ``event_id`` the stored key)."""
        res = self.db.run(
            "?[learning_id, event_id, at, outcome, session_id] := "
            "*outcome_event{learning_id, event_id, at, outcome, session_id} "
            ":order at, learning_id, event_id",
            read_only=True,
        )
        return [
            OutcomeEvent(lid, outcome, from_unix(at), session, event_id)
            for lid, event_id, at, outcome, session in res.rows
        ]

    # ------------------------------------------------------------ history
    def all_history(self) -> list[Edit]:
        """Every history entry of the tier (also of deleted learnings), oldest first."""
        res = self.db.run(
            "?[learning_id, edit_id, at, who, action, before_json, after_json] := "
            "*learning_edit{learning_id, edit_id, at, who, action, before_json, after_json} "
            ":order at, learning_id, edit_id",
            read_only=True,
        )
        return [_edit(r) for r in res.dicts()]

    def history(self, learning_id: str) -> list[Edit]:
        """Edit history of a learning, oldest first."""
        res = self.db.run(
            "?[learning_id, edit_id, at, who, action, before_json, after_json] := "
            "learning_id = $id, "
            "*learning_edit{learning_id, edit_id, at, who, action, before_json, after_json} "
            ":order at, edit_id",
            {"id": check_uuid(learning_id)},
            read_only=True,
        )
        return [_edit(r) for r in res.dicts()]

    def count_unembedded(self) -> int:
        """Number of learnings without a stored embedding (semantic search misses them).

        Embeddings are deleted with their learning, so when both relations hold as many
        rows none is missing and the exact (five times slower) count is skipped."""
        embedded = self.db.run(
            "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
        ).scalar(0)
        if embedded == self.count():
            return 0
        return int(
            self.db.run(
                "?[count(id)] := *learning:by_updated{id}, "
                "not *learning_embeddings{learning_id: id}",
                read_only=True,
            ).scalar(0)
        )

    def reembed(
        self, progress: Callable[[int], None] | None = None, *, actor: Principal | None = None
    ) -> int:
        """Compute embeddings for learnings that have none (e.g. written by another program).
        Returns how many were added.

        Raises: PermissionDeniedError, EmbeddingError."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_reembed, actor)
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := {_LEARNING_ATOM}, not *learning_embeddings{{learning_id: id}}",
            read_only=True,
        )
        todo = [row_to_learning(r, self.tier) for r in res.dicts()]
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
            check=False,
        )
        if _DROP_SEMANTIC_INDEX in blocks:
            self.build_semantic_index()
        return len(todo)


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
        bulk.Table(_PUT_LEARNING, "learnings", "learning", LEARNING_COLS),
        bulk.Table(_PUT_USAGE, "usage", "usage_stats", USAGE_COLS),
        bulk.Table(_PUT_EDIT, "edits", "learning_edit", _EDIT_COLS),
        bulk.Table(
            _PUT_EMBEDDING, "embeddings", "learning_embeddings", ["learning_id", "embedding"]
        ),
    ]


def _relation_row(r: LearningRelation) -> list:
    return [r.from_id, r.relation_type.value, r.to_id, float(r.weight), to_unix(r.created_at)]


def outcome_blocks(
    events: Sequence[list], *, logged: bool = False
) -> tuple[list[str], dict[str, Any]]:
    """Statements applying outcome events (rows ``[learning_id, event_id, at, outcome,
    session_id]``, at most one per key): each event is inserted (the transaction fails on
    a key already stored), usage increments are summed per learning (seed 001's Beta
    update; a learning without a usage row starts from the defaults) and
    ``learning.confidence`` = posterior mean (the transaction fails when a learning does
    not exist: ``:update`` needs its row). With ``logged`` the search change log names the
    learnings (their confidence and usage changed). ``$inc_ids`` holds the learning ids."""
    inc: dict[str, list] = {}
    for lid, _eid, at, outcome, _sid in events:
        da, db = OUTCOME_INCREMENTS[Outcome(outcome)]
        row = inc.setdefault(lid, [lid, 0, 0, 0, 0, 0.0, 0.0, at])
        row[1] += 1
        row[2] += int(outcome == Outcome.HELPFUL)
        row[3] += int(outcome == Outcome.IGNORED)
        row[4] += int(outcome == Outcome.CONTRADICTED)
        row[5] += da
        row[6] += db
        row[7] = max(row[7], at)
    new = "d[learning_id, n, h, g, c, da, db, last]"
    blocks = [
        "?[learning_id, event_id, at, outcome, session_id] <- $events "
        ":insert outcome_event {learning_id, event_id => at, outcome, session_id}",
        f"{new} <- $inc\n"
        f"?[{USAGE_HEAD}] := {new}, "
        "*usage_stats{learning_id, times_injected: ti, times_helpful: th, "
        "times_ignored: tg, times_contradicted: tc, last_used: lu, confidence_alpha: a, "
        "confidence_beta: b}, times_injected = ti + n, times_helpful = th + h, "
        "times_ignored = tg + g, times_contradicted = tc + c, "
        "last_used = if(is_null(lu), last, max(lu, last)), confidence_alpha = a + da, "
        "confidence_beta = b + db\n"
        # rows written by others may lack a usage row: start from the defaults
        f"?[{USAGE_HEAD}] := {new}, not *usage_stats{{learning_id}}, times_injected = n, "
        "times_helpful = h, times_ignored = g, times_contradicted = c, last_used = last, "
        "confidence_alpha = 1.0 + da, confidence_beta = 1.0 + db "
        f":put usage_stats {{{USAGE_KEYED}}}",
        "i[learning_id] <- $inc_ids\n?[id, confidence] := i[id], *usage_stats{learning_id: id, "
        "confidence_alpha: a, confidence_beta: b}, confidence = a / (a + b) "
        ":update learning {id => confidence}",
    ]
    params = {
        "events": [list(e) for e in events],
        "inc": list(inc.values()),
        "inc_ids": [[k] for k in inc],
    }
    if logged:
        log, log_params = changelog.statements(inc)
        blocks = [*log, *blocks]
        params.update(log_params)
    return blocks, params


#: Reads the usage rows of ``$inc_ids`` (at the end of an outcome write's transaction).
_READ_USAGE = (
    f"i[learning_id] <- $inc_ids\n?[{USAGE_HEAD}] := i[learning_id], *usage_stats{{{USAGE_HEAD}}}"
)


def _diff(old: Learning, new: Learning) -> tuple[dict, dict]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    pairs = {
        "description": (old.content.description, new.content.description),
        "insight": (old.content.insight, new.content.insight),
        "category": (old.category.value, new.category.value),
        "scope": (old.scope.to_db(), new.scope.to_db()),
    }
    for name, (a, b) in pairs.items():
        if a != b:
            before[name] = a
            after[name] = b
    return before, after


def _edit_row(e: Edit) -> list:
    """``learning_edit`` row of an :class:`Edit`."""
    return [
        e.learning_id,
        e.edit_id,
        to_unix(e.at),
        e.who,
        e.action,
        None if e.before is None else json.dumps(e.before),  # as the store writes them
        None if e.after is None else json.dumps(e.after),
    ]


def _edit(row: dict) -> Edit:
    return Edit(
        learning_id=row["learning_id"],
        edit_id=row["edit_id"],
        at=from_unix(row["at"]),
        who=row["who"],
        action=row["action"],
        before=json.loads(row["before_json"]) if row.get("before_json") else None,
        after=json.loads(row["after_json"]) if row.get("after_json") else None,
    )


__all__ = [
    "LEARNING_COLS",
    "SORTS",
    "Edit",
    "LearningFilter",
    "LearningStore",
    "Page",
    "Related",
    "text_for_embedding",
]
