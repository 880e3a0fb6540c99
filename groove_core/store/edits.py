"""Editing learnings in place: one learning's fields (with a guard against a concurrent
edit) or many learnings' category, each with its history entry, embedding and scan mark."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from groove_core.errors import DatabaseError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning, LearningCategory, LearningContent
from groove_core.model.scope import Scope
from groove_core.model.serde import new_id, now, to_unix
from groove_core.store.base import StoreBase
from groove_core.store.embeddings import PUT_EMBEDDING, text_for_embedding
from groove_core.store.history import PUT_EDIT
from groove_core.store.rows import PUT_LEARNING, learning_to_row
from groove_core.store.scanning import PUT_SCAN
from groove_core.store.writer import target

#: Fails the transaction unless the learning is still as it was read (same updated_at).
_GUARD_UNCHANGED = (
    "?[id] := id = $guard_id, *learning{id, updated_at}, updated_at = $guard_updated :assert some"
)


class EditsMixin(StoreBase):
    """Edits of learnings (part of ``LearningStore``)."""

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
        new.check_storable()
        findings = self.scan([new], from_file=False) if new.content != old.content else {}
        override = self.check_findings(findings, override_reason, actor)
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
        blocks = [_GUARD_UNCHANGED, PUT_LEARNING, PUT_EDIT]
        if new.content != old.content:
            marks = self._scan_marks(findings, at, actor if override else None, override)
            params["unmark"] = [[new.id]]
            blocks.append("?[learning_id] <- $unmark :rm learning_scan {learning_id}")
            if marks:
                params["scan_marks"] = marks
                blocks.append(PUT_SCAN)
        if self.embedder is not None and new.content != old.content:
            vec = self.embed_texts([text_for_embedding(new.content)])[0]
            params["embeddings"] = [[new.id, vec.tolist()]]
            blocks.append(PUT_EMBEDDING)
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
            self._logged([PUT_LEARNING, PUT_EDIT], params, [o.id for o in changed]),
            params,
            actor=actor,
            before=[o.to_json() for o in changed],
            after=[n.to_json() for n in news],
            detail={"category": cat.value, "learnings": len(changed)},
        )
        return len(changed)


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


__all__ = ["EditsMixin"]
