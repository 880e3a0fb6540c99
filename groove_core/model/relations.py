"""Typed links between learnings (relation ``learning_relations``,
docs/architecture.md#relations-v1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.serde import check_uuid, from_rfc3339, now, require, to_rfc3339


class RelationType(StrEnum):
    """Relation kinds; the value is the DB string, :attr:`serde` the JSON variant."""

    SUPERSEDES = "supersedes"  # from replaces to
    CONTRADICTS = "contradicts"
    DERIVED_FROM = "derived_from"
    RELATED_TO = "related_to"
    SPECIALIZES = "specializes"  # from is a specific case of to

    @property
    def serde(self) -> str:
        return "".join(part.title() for part in self.value.split("_"))

    @classmethod
    def parse(cls, text: Any) -> RelationType:
        for rel in cls:
            if text in (rel.value, rel.serde):
                return rel
        raise ValidationError(f"unknown relation type {text!r:.80}")


@dataclass(frozen=True)
class LearningRelation:
    """A directed, weighted edge ``from_id -[relation_type]-> to_id`` (relation
    ``learning_relations``)."""

    from_id: str
    relation_type: RelationType
    to_id: str
    weight: float = 1.0
    created_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_id", check_uuid(self.from_id, "from_id"))
        object.__setattr__(self, "to_id", check_uuid(self.to_id, "to_id"))
        object.__setattr__(self, "relation_type", RelationType.parse(self.relation_type))

    def to_json(self) -> dict:
        return {
            "from_id": self.from_id,
            "relation_type": self.relation_type.serde,
            "to_id": self.to_id,
            "weight": self.weight,
            "created_at": to_rfc3339(self.created_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> LearningRelation:
        what = "relation"
        return cls(
            from_id=require(data, "from_id", str, what),
            relation_type=RelationType.parse(require(data, "relation_type", str, what)),
            to_id=require(data, "to_id", str, what),
            weight=require(data, "weight", float, what),
            created_at=from_rfc3339(require(data, "created_at", str, what)),
        )
