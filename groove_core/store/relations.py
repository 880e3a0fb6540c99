"""Relations between learnings of one tier (relation ``learning_relations``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from groove_core.errors import ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.model.serde import check_uuid, from_unix, to_unix
from groove_core.store.base import StoreBase

PUT_RELATIONS = (
    "?[from_id, relation_type, to_id, weight, created_at] <- $relations "
    ":put learning_relations {from_id, relation_type, to_id => weight, created_at}"
)


@dataclass(frozen=True)
class Related:
    """A relation of a learning, seen from it: ``direction`` is ``out`` when the learning
    is ``from_id`` and ``in`` otherwise; ``other`` is the learning at the far end (None
    if it no longer exists)."""

    relation: LearningRelation
    direction: str
    other: Learning | None


class RelationsMixin(StoreBase):
    """Relations between learnings (part of ``LearningStore``)."""

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
            [PUT_RELATIONS],
            {"relations": [relation_row(relation)]},
            actor=actor,
            after=relation.to_json(),
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
        """Learnings related to ``learning_id`` in either direction (vibes-groove's
        ``find_related``)."""
        return [r.other for r in self.related(learning_id, relation_type) if r.other]


def relation_row(r: LearningRelation) -> list:
    return [r.from_id, r.relation_type.value, r.to_id, float(r.weight), to_unix(r.created_at)]


__all__ = ["PUT_RELATIONS", "Related", "RelationsMixin", "relation_row"]
