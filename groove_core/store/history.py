"""The edit history of learnings (relation ``learning_edit``): who did what when, with the
fields before and after; deletions keep what ``restore`` needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.serde import (
    check_uuid,
    from_rfc3339,
    from_unix,
    require,
    to_rfc3339,
    to_unix,
)
from groove_core.model.values import check_json
from groove_core.store.base import StoreBase

EDIT_COLS = ["learning_id", "edit_id", "at", "who", "action", "before_json", "after_json"]
EDIT_HEAD = ", ".join(EDIT_COLS)
#: A ``learning_edit`` atom binding every column.
EDIT_ATOM = "*learning_edit{" + EDIT_HEAD + "}"
PUT_EDIT = (
    "?[learning_id, edit_id, at, who, action, before_json, after_json] <- $edits "
    ":put learning_edit {learning_id, edit_id => at, who, action, before_json, after_json}"
)


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


class HistoryMixin(StoreBase):
    """Reading the edit history (part of ``LearningStore``)."""

    def deleted(self, limit: int = 50) -> list[Edit]:
        """The most recent deletions whose learning is still gone (newest first)."""
        return self._edits(
            f"{EDIT_ATOM}, action = 'deleted', not *learning{{id: learning_id}}",
            ":order -at :limit $limit",
            {"limit": int(limit)},
        )

    def all_history(self) -> list[Edit]:
        """Every history entry of the tier (also of deleted learnings), oldest first."""
        return self._edits(EDIT_ATOM, ":order at, learning_id, edit_id")

    def history(self, learning_id: str) -> list[Edit]:
        """Edit history of a learning, oldest first."""
        return self._edits(
            f"learning_id = $id, {EDIT_ATOM}", ":order at, edit_id", {"id": check_uuid(learning_id)}
        )

    def _edits(self, body: str, tail: str, params: dict | None = None) -> list[Edit]:
        """The history entries the rule body ``body`` selects, ``tail`` ordering them."""
        res = self.db.run(f"?[{EDIT_HEAD}] := {body} {tail}", params, read_only=True)
        return [row_to_edit(r) for r in res.dicts()]


def edit_row(e: Edit) -> list:
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


def row_to_edit(row: dict) -> Edit:
    return Edit(
        learning_id=row["learning_id"],
        edit_id=row["edit_id"],
        at=from_unix(row["at"]),
        who=row["who"],
        action=row["action"],
        before=json.loads(row["before_json"]) if row.get("before_json") else None,
        after=json.loads(row["after_json"]) if row.get("after_json") else None,
    )


__all__ = ["EDIT_COLS", "PUT_EDIT", "Edit", "HistoryMixin", "edit_row", "row_to_edit"]
