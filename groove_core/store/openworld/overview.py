"""Overview of a tier's open-world data: row counts, labels of associated learnings."""

from __future__ import annotations

from collections.abc import Iterable

from groove_core.store.openworld.base import OpenWorldBase


class Overview(OpenWorldBase):
    """Overview methods of :class:`~groove_core.store.openworld.OpenWorldStore`."""

    def counts(self) -> dict[str, int]:
        """Rows per open-world relation (0 for the ones this tier lacks)."""
        out = {}
        rels = self.db.relations()
        for rel, key in (
            ("pattern_fingerprint", "hash"),
            ("anomaly_cluster", "id"),
            ("cluster_member", "cluster_id"),
            ("capability_gap", "id"),
            ("failure_record", "id"),
            ("novelty_event", "id"),
            ("gap_history", "gap_id"),
        ):
            if rel not in rels:
                out[rel] = 0
                continue
            out[rel] = int(
                self.db.run(f"?[count({key})] := *{rel}{{{key}}}", read_only=True).scalar(0)
            )
        return out

    def learning_labels(self, ids: Iterable[str]) -> dict[str, str]:
        """Learning id -> its description (for plot labels), for those that exist."""
        ids = sorted({i for i in ids if i})
        if not ids or self.learnings is None:
            return {}
        return {lr.id: lr.content.description for lr in self.learnings.get_many(ids)}
