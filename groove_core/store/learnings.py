"""Learnings, usage stats, relations, edit history and embeddings of one tier.

Every multi-row write is one chained Cozo program, so it applies whole or not at all.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from groove_core.embed import DIM, Embedder, content_hash
from groove_core.errors import EmbeddingError, NotFoundError, ValidationError
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
from groove_core.model.usage import OUTCOME_INCREMENTS, Outcome, UsageStats
from groove_core.model.values import check_json
from groove_core.store.engine import Engine
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
_PUT_EDIT = (
    "?[learning_id, edit_id, at, who, action, before_json, after_json] <- $edits "
    ":put learning_edit {learning_id, edit_id => at, who, action, before_json, after_json}"
)
_EVENT_COLS = ("learning_id", "event_id", "at", "outcome", "session_id")
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


def current_user() -> str:
    """Who is editing, for the history (the OS login name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


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


class LearningStore:
    """Typed access to the learnings of one tier (seed 001 ``LearningStore``).

    Args:
        db: the tier's open engine (already migrated).
        embedder: embeds description + insight; ``None`` stores learnings without
            embeddings (semantic search then skips them until :meth:`reembed`).
    """

    def __init__(self, db: Engine, embedder: Embedder | None = None):
        self.db = db
        self.embedder = embedder

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
    def store(self, learning: Learning, *, who: str | None = None) -> str:
        """Store one learning (new or replacing the same id) with default usage stats, its
        embedding and a ``created`` history entry. Returns its id."""
        self.store_many([learning], who=who)
        return learning.id

    def store_many(
        self,
        learnings: Sequence[Learning],
        *,
        who: str | None = None,
        action: str = "created",
        usage: dict[str, UsageStats] | None = None,
        relations: Sequence[LearningRelation] = (),
        system_params: Sequence[SystemParam] = (),
        embed_progress: Callable[[int], None] | None = None,
        history: Sequence[Edit] = (),
        outcome_events: Sequence[dict] = (),
    ) -> int:
        """Store many learnings in ONE transaction (rows, usage stats, embeddings, history,
        and optionally relations among them, system parameters, earlier history entries
        and outcome events, e.g. from an export: an import lands whole or not at all).

        Embeddings are computed first, in batches (cached by content), so a failure of the
        model writes nothing. A batch that is large next to the tier drops the HNSW index,
        loads the vectors and builds the index again, inside the same transaction (a
        failure leaves the old index in place): about 20x faster than inserting row by row.

        Returns: the number of learnings written.
        """
        if not (learnings or relations or system_params or history or outcome_events):
            return 0
        usage = usage or {}
        vectors = None
        if self.embedder is not None:
            vectors = self.embed_texts(
                [text_for_embedding(lr.content) for lr in learnings], embed_progress
            )
        who = who or current_user()
        at = to_unix(now())
        params: dict[str, Any] = {
            "learnings": [learning_to_row(lr) for lr in learnings],
            "usage": [usage_to_row(lr.id, usage.get(lr.id, UsageStats())) for lr in learnings],
            "edits": [
                [lr.id, new_id(), at, who, action, None, json.dumps(lr.to_json())]
                for lr in learnings
            ],
        }
        blocks = [_PUT_LEARNING, _PUT_USAGE, _PUT_EDIT] if learnings else []
        if relations:
            params["relations"] = [
                [r.from_id, r.relation_type.value, r.to_id, float(r.weight), to_unix(r.created_at)]
                for r in relations
            ]
            blocks.append(_PUT_RELATIONS)
        if system_params:
            params["params"] = [param_to_row(p) for p in system_params]
            blocks.append(PUT_PARAMS)
        if history:
            params["history"] = [_edit_row(e) for e in history]
            blocks.append(_PUT_EDIT.replace("$edits", "$history"))
        if outcome_events:
            params["events"] = [
                [e["learning_id"], e["event_id"], to_unix(e["at"]), e["outcome"], e["session_id"]]
                for e in outcome_events
            ]
            blocks.append(_PUT_EVENTS)
        if vectors is not None and learnings:
            params["embeddings"] = [
                [lr.id, v.tolist()] for lr, v in zip(learnings, vectors, strict=True)
            ]
            blocks += self._embedding_blocks(len(learnings))
        self.db.run_chain(blocks, params)
        return len(learnings)

    def _embedding_blocks(self, n_new: int) -> list[str]:
        """Statements that write ``$embeddings`` (``n_new`` rows). When building the HNSW
        index once over all rows is cheaper than inserting the new vectors one by one
        (measured on mnestic, 2 cores: about 20 ms per insert against about 1 ms per row
        for a build), the index is dropped before the load and built again after it."""
        if n_new >= BULK_MIN_ROWS:
            existing = self.db.run(
                "?[count(learning_id)] := *learning_embeddings{learning_id}", read_only=True
            ).scalar(0)
            if n_new * INSERT_TO_BUILD_COST >= existing + n_new:
                return [_DROP_SEMANTIC_INDEX, _PUT_EMBEDDING, SEMANTIC_INDEX]
        return [_PUT_EMBEDDING]

    def update(
        self,
        learning_id: str,
        *,
        description: str | None = None,
        insight: str | None = None,
        category: str | LearningCategory | None = None,
        scope: str | Scope | None = None,
        who: str | None = None,
    ) -> Learning:
        """Edit fields of a learning in one transaction: the row (``updated_at`` bumped), its
        embedding, and an ``edited`` history entry with the fields before and after.

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
        before, after = _diff(old, new)
        if not after:
            return old
        params: dict[str, Any] = {
            "learnings": [learning_to_row(new)],
            "edits": [
                [
                    new.id,
                    new_id(),
                    to_unix(now()),
                    who or current_user(),
                    "edited",
                    json.dumps(before),
                    json.dumps(after),
                ]
            ],
        }
        blocks = [_PUT_LEARNING, _PUT_EDIT]
        if self.embedder is not None and content != old.content:
            vec = self.embed_texts([text_for_embedding(content)])[0]
            params["embeddings"] = [[new.id, vec.tolist()]]
            blocks.append(_PUT_EMBEDDING)
        self.db.run_chain(blocks, params)
        return new

    def recategorize_many(
        self, ids: Sequence[str], category: str | LearningCategory, *, who: str | None = None
    ) -> int:
        """Set the category of several learnings in one transaction (with history)."""
        cat = LearningCategory.parse(category)
        olds = [self.require(i) for i in ids]
        changed = [o for o in olds if o.category != cat]
        if not changed:
            return 0
        t = now()
        at = to_unix(t)
        who = who or current_user()
        news = [replace(o, category=cat, updated_at=max(t, o.updated_at)) for o in changed]
        self.db.run_chain(
            [_PUT_LEARNING, _PUT_EDIT],
            {
                "learnings": [learning_to_row(n) for n in news],
                "edits": [
                    [
                        o.id,
                        new_id(),
                        at,
                        who,
                        "edited",
                        json.dumps({"category": o.category.value}),
                        json.dumps({"category": cat.value}),
                    ]
                    for o in changed
                ],
            },
        )
        return len(changed)

    def delete(self, learning_id: str, *, who: str | None = None) -> bool:
        """Delete a learning with its usage stats, embedding and relations (both directions),
        in one transaction; the history keeps a ``deleted`` entry with the whole learning,
        its usage and relations so :meth:`restore` can undo it. Returns False if absent."""
        return self.delete_many([learning_id], who=who) == 1

    def delete_many(self, ids: Iterable[str], *, who: str | None = None) -> int:
        """Delete several learnings in one transaction (see :meth:`delete`)."""
        ids = [check_uuid(i) for i in ids]
        existing = {lr.id: lr for lr in self.get_many(ids)}
        if not existing:
            return 0
        keep = list(existing)
        usages = self.usage_many(keep)
        rels: dict[str, list[dict]] = {i: [] for i in keep}
        for rel in self._relations_touching(keep):
            for end in (rel.from_id, rel.to_id):
                if end in rels:
                    rels[end].append(rel.to_json())
        at = to_unix(now())
        who = who or current_user()
        snapshot = {
            i: {
                "learning": existing[i].to_json(),
                "usage": usage_to_row(i, usages.get(i, UsageStats())),
                "relations": rels[i],
            }
            for i in keep
        }
        self.db.run_chain(
            [
                "?[id] <- $ids :rm learning {id}",
                "?[learning_id] <- $ids :rm usage_stats {learning_id}",
                "?[learning_id] <- $ids :rm learning_embeddings {learning_id}",
                "?[from_id, relation_type, to_id] := from_id in $flat, "
                "*learning_relations{from_id, relation_type, to_id} "
                ":rm learning_relations {from_id, relation_type, to_id}",
                "?[from_id, relation_type, to_id] := to_id in $flat, "
                "*learning_relations{from_id, relation_type, to_id} "
                ":rm learning_relations {from_id, relation_type, to_id}",
                _PUT_EDIT,
            ],
            {
                "ids": [[i] for i in keep],
                "flat": keep,
                "edits": [
                    [i, new_id(), at, who, "deleted", json.dumps(snapshot[i]), None] for i in keep
                ],
            },
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

    def restore(self, learning_id: str, *, who: str | None = None) -> Learning:
        """Undo the deletion of a learning: the row, usage stats, relations whose other end
        still exists, and a re-computed embedding, in one transaction.

        Raises:
            NotFoundError: no deletion of that id is recorded, or it exists again.
        """
        learning_id = check_uuid(learning_id)
        if self.get(learning_id) is not None:
            raise NotFoundError(f"learning {learning_id} is not deleted")
        edits = [e for e in self.history(learning_id) if e.action == "deleted"]
        if not edits:
            raise NotFoundError(f"no deletion of learning {learning_id} is recorded")
        snap = edits[-1].before or {}
        learning = Learning.from_json(snap["learning"])
        stats = row_to_usage(dict(zip(USAGE_COLS, snap["usage"], strict=True)))
        self.store_many([learning], who=who, action="restored", usage={learning.id: stats})
        for rel in snap.get("relations", []):
            relation = LearningRelation.from_json(rel)
            other = relation.to_id if relation.from_id == learning.id else relation.from_id
            if self.get(other) is not None:
                self.store_relation(relation)
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
        :data:`SORTS`). Sorting and paging happen inside Cozo: only the page's rows come
        back to Python, whatever the size of the tier.

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
        items = self.get_many([row[at] for row in res.rows])
        return Page(items, self.count(flt), offset, limit)

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

    def update_usage(self, learning_id: str, stats: UsageStats) -> None:
        """Replace a learning's usage stats (seed 001) and keep ``learning.confidence`` equal
        to the posterior mean, in one transaction."""
        self.require(learning_id)
        self.db.run_chain(
            [
                _PUT_USAGE,
                "?[id, confidence] <- [[$id, $confidence]] :update learning {id => confidence}",
            ],
            {
                "usage": [usage_to_row(check_uuid(learning_id), stats)],
                "id": check_uuid(learning_id),
                "confidence": stats.confidence(),
            },
        )

    def record_outcome(
        self,
        learning_id: str,
        outcome: Outcome | str,
        *,
        session_id: str | None = None,
        at: Any = None,
    ) -> UsageStats:
        """Apply one injection outcome with the seed's Beta update and keep it as an
        ``outcome_event``. The read-modify-write runs inside Cozo as one program, so
        several processes recording outcomes for the same learning lose no update.

        Raises:
            NotFoundError: no such learning. ValidationError: unknown outcome.
        """
        try:
            outcome = Outcome(outcome)
        except ValueError:
            raise ValidationError(
                f"unknown outcome {outcome!r:.80} (use helpful, ignored or contradicted)"
            ) from None
        lid = self.require(learning_id).id
        da, dbeta = OUTCOME_INCREMENTS[outcome]
        when = to_unix(at) if at is not None else to_unix(now())
        counts = {
            "dh": int(outcome is Outcome.HELPFUL),
            "dg": int(outcome is Outcome.IGNORED),
            "dc": int(outcome is Outcome.CONTRADICTED),
        }
        self.db.run_chain(
            [
                # make sure a usage row exists (rows written by others may lack one)
                f"?[{USAGE_HEAD}] := learning_id = $id, *learning{{id: learning_id}}, "
                "not *usage_stats{learning_id}, times_injected = 0, times_helpful = 0, "
                "times_ignored = 0, times_contradicted = 0, last_used = null, "
                f"confidence_alpha = 1.0, confidence_beta = 1.0 :put usage_stats {{{USAGE_KEYED}}}",
                f"?[{USAGE_HEAD}] := learning_id = $id, *usage_stats{{learning_id, "
                "times_injected: ti, times_helpful: th, times_ignored: tg, "
                "times_contradicted: tc, confidence_alpha: a, confidence_beta: b}, "
                "times_injected = ti + 1, times_helpful = th + $dh, times_ignored = tg + $dg, "
                "times_contradicted = tc + $dc, last_used = $at, confidence_alpha = a + $da, "
                f"confidence_beta = b + $db :put usage_stats {{{USAGE_KEYED}}}",
                "?[id, confidence] := id = $id, *usage_stats{learning_id: id, "
                "confidence_alpha: a, confidence_beta: b}, confidence = a / (a + b) "
                ":update learning {id => confidence}",
                "?[learning_id, event_id, at, outcome, session_id] <- "
                "[[$id, $eid, $at, $outcome, $session]] "
                ":put outcome_event {learning_id, event_id => at, outcome, session_id}",
            ],
            {
                "id": lid,
                "at": when,
                "da": da,
                "db": dbeta,
                **counts,
                "eid": new_id(),
                "outcome": outcome.value,
                "session": session_id,
            },
        )
        return self.usage_many([lid])[lid]

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
    def store_relation(self, relation: LearningRelation) -> None:
        """Store (or replace) a relation between two learnings of this tier.

        Raises: NotFoundError when either end does not exist. ValidationError for a self-loop.
        """
        if relation.from_id == relation.to_id:
            raise ValidationError("a learning cannot be related to itself")
        for end in (relation.from_id, relation.to_id):
            self.require(end)
        self.store_many([], relations=[relation])

    def remove_relation(self, relation: LearningRelation) -> None:
        """Remove one relation (no error if absent)."""
        self.db.run(
            "?[from_id, relation_type, to_id] <- [[$from, $type, $to]] "
            ":rm learning_relations {from_id, relation_type, to_id}",
            {"from": relation.from_id, "type": relation.relation_type.value, "to": relation.to_id},
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

    def all_outcome_events(self) -> list[dict]:
        """Every ``outcome_event`` row of the tier, oldest first: dicts with
        ``learning_id``, ``event_id``, ``at`` (aware datetime), ``outcome`` and
        ``session_id`` (None when not given)."""
        res = self.db.run(
            f"?[{', '.join(_EVENT_COLS)}] := *outcome_event{{{', '.join(_EVENT_COLS)}}} "
            ":order at, learning_id, event_id",
            read_only=True,
        )
        return [{**r, "at": from_unix(r["at"])} for r in res.dicts()]

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

    def record_history(
        self,
        learning_id: str,
        action: str,
        before: dict | None,
        after: dict | None,
        *,
        who: str | None = None,
    ) -> None:
        """Add a history entry that is not an edit of the row itself (e.g. ``deprecated``)."""
        self.db.run(
            _PUT_EDIT,
            {
                "edits": [
                    [
                        check_uuid(learning_id),
                        new_id(),
                        to_unix(now()),
                        who or current_user(),
                        action,
                        None if before is None else json.dumps(before),
                        None if after is None else json.dumps(after),
                    ]
                ]
            },
        )

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

    def reembed(self, progress: Callable[[int], None] | None = None) -> int:
        """Compute embeddings for learnings that have none (e.g. written by another program).
        Returns how many were added."""
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := {_LEARNING_ATOM}, not *learning_embeddings{{learning_id: id}}",
            read_only=True,
        )
        todo = [row_to_learning(r, self.tier) for r in res.dicts()]
        if not todo:
            return 0
        vecs = self.embed_texts([text_for_embedding(lr.content) for lr in todo], progress)
        self.db.run_chain(
            self._embedding_blocks(len(todo)),
            {"embeddings": [[lr.id, v.tolist()] for lr, v in zip(todo, vecs, strict=True)]},
        )
        return len(todo)


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
