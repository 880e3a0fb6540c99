"""Learning values of one tier (relation ``learning_value``): the estimated value of each
learning, its status (active, experimental, deprecated) and the ranking the evidence pages
show."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.attribution import LearningStatus, LearningValue
from groove_core.model.serde import check_uuid, new_id, now, to_unix
from groove_core.store.attribution_rows import (
    PUT_VALUES,
    VALUE_ATOM,
    VALUE_HEAD,
    AttributionBase,
    row_to_value,
    value_to_row,
)
from groove_core.store.history import PUT_EDIT


class ValuesMixin(AttributionBase):
    """Learning values and statuses (part of ``AttributionStore``)."""

    def get_learning_value(self, learning_id: str) -> LearningValue | None:
        """The stored value of a learning, or None."""
        return self.values_many([learning_id]).get(check_uuid(learning_id))

    def values_many(self, ids: Sequence[str]) -> dict[str, LearningValue]:
        """Stored values by learning id, for those of ``ids`` that have one."""
        res = self.db.run(
            f"?[{VALUE_HEAD}] := learning_id in $ids, {VALUE_ATOM}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {r["learning_id"]: row_to_value(r, self.tier) for r in res.dicts()}

    def deprecated_values(self) -> dict[str, LearningValue]:
        """The values of the deprecated learnings, by learning id (a scan of the tier's
        ``learning_value`` rows, which only learnings with evidence have)."""
        res = self.db.run(f"?[{VALUE_HEAD}] := {VALUE_ATOM}", read_only=True)
        values = (row_to_value(r, self.tier) for r in res.dicts())
        return {v.learning_id: v for v in values if v.status.is_deprecated}

    def update_learning_value(
        self, value: LearningValue, *, actor: Principal | None = None
    ) -> None:
        """Insert or replace a learning's value (vibes-groove's ``update_learning_value``)."""
        self.store_bulk(values=[value], actor=actor)

    def list_learning_values(self, limit: int = 100) -> list[LearningValue]:
        """Up to ``limit`` values, highest estimated value first (vibes-groove's
        ``list_learning_values``)."""
        return self.ranked_values(limit=limit)

    def ranked_values(
        self,
        *,
        limit: int = 20,
        negative: bool = False,
        learning_ids: Sequence[str] | None = None,
    ) -> list[LearningValue]:
        """The top ``limit`` learnings by estimated value (best first), or with
        ``negative`` only those whose estimated value is below zero, worst first."""
        if int(limit) < 1:
            raise ValidationError("limit must be >= 1")
        conds = [VALUE_ATOM]
        params: dict[str, Any] = {"limit": int(limit)}
        if negative:
            conds.append("estimated_value < 0")
        if learning_ids is not None:
            conds.insert(0, "learning_id in $ids")
            params["ids"] = [check_uuid(i) for i in learning_ids]
        order = "estimated_value, learning_id" if negative else "-estimated_value, learning_id"
        res = self.db.run(
            f"?[{VALUE_HEAD}] := " + ", ".join(conds) + f" :order {order} :limit $limit",
            params,
            read_only=True,
        )
        return [row_to_value(r, self.tier) for r in res.dicts()]

    def set_status(
        self, learning_id: str, status: LearningStatus, *, actor: Principal | None = None
    ) -> LearningValue:
        """Set a learning's status in ``learning_value`` (creating a zero-valued row if it
        has none) and add a history entry (``deprecated`` or ``status_changed``) with the
        status before and after, in ONE transaction.

        Raises:
            NotFoundError: no such learning in this tier. PermissionDeniedError.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_status, actor)
        lid = self.learnings.require(learning_id).id
        if not isinstance(status, LearningStatus):
            raise ValidationError(f"status must be a LearningStatus, got {status!r}")
        old = self.get_learning_value(lid)
        at = now()
        new = (
            replace(old, status=status, updated_at=at)
            if old is not None
            else LearningValue(lid, 0.0, 0.0, 0, 0.0, 0.0, 0.0, None, None, status, at)
        )
        action = "deprecated" if status.is_deprecated else "status_changed"
        after: dict[str, Any] = {"status": status.to_json()}
        if status.is_deprecated:
            after["reason"] = status.reason
        edits = [
            [
                lid,
                new_id(),
                to_unix(at),
                actor.id,
                action,
                json.dumps({"status": (old.status if old else LearningStatus.active()).to_json()}),
                json.dumps(after),
            ]
        ]
        self.writer.write(
            Action.learning_status,
            lid,
            [PUT_VALUES, PUT_EDIT],
            {"values": [value_to_row(new)], "edits": edits},
            actor=actor,
            before=(old.status if old else LearningStatus.active()).to_json(),
            after=status.to_json(),
        )
        return new

    def deprecate(
        self, learning_id: str, reason: str, *, actor: Principal | None = None
    ) -> LearningValue:
        """Mark a learning ``Deprecated { reason }`` and record a ``deprecated`` entry in its
        history, in one transaction. Raises ValidationError for an empty reason."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("a deprecation needs a reason")
        return self.set_status(learning_id, LearningStatus.deprecated(reason.strip()), actor=actor)


__all__ = ["ValuesMixin"]
