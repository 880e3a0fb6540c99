"""What every part of the open-world store shares: the tier's engine and writer, and
which shape of the relations the tier holds (docs/architecture.md#relations-v2).
"""

from __future__ import annotations

from typing import Any

from groove_core.errors import DatabaseError
from groove_core.model.access import Action, Principal, os_principal
from groove_core.store.engine import Engine
from groove_core.store.rows import UnreadableRows
from groove_core.store.writer import TierWriter


class OpenWorldBase:
    """The engine, writer and relation shape shared by the parts of
    :class:`~groove_core.store.openworld.OpenWorldStore`.

    Args:
        db: the tier's open engine.
        learnings: the tier's :class:`~groove_core.store.learnings.LearningStore` (its
            embedder and embedding cache; learning descriptions for labels), or None.
    """

    def __init__(self, db: Engine, learnings: Any = None):
        self.db = db
        self.learnings = learnings
        self.writer: TierWriter = (
            learnings.writer if learnings is not None else TierWriter(db, os_principal())
        )
        self._shape: str | None = None
        #: Capability gaps that :meth:`load_gaps` left out: their rows do not follow the
        #: data contract (see :meth:`unreadable_gaps`).
        self.skipped_gaps = UnreadableRows()

    def _write(
        self,
        action: Action,
        target: str,
        blocks: list[str],
        params: dict[str, Any],
        actor: Principal | None,
        **audit: Any,
    ) -> None:
        self.writer.write(action, target, blocks, params, actor=actor, **audit)

    @property
    def tier(self) -> str:
        """The tier's name."""
        return self.db.tier

    # ------------------------------------------------------------ shape
    def shape(self) -> str:
        """``groove``, ``vibes`` (vibes-groove's v2 shape) or ``none`` (no open-world
        relations), from the relations' columns."""
        if self._shape is None:
            fp = self.db.columns("pattern_fingerprint")
            cl = self.db.columns("anomaly_cluster")
            if not fp:
                self._shape = "none"
            elif "members_json" in cl or not {"associated_learning", "embedding"} <= set(fp):
                self._shape = "vibes"
            else:
                self._shape = "groove"
        return self._shape

    def refresh(self) -> None:
        """Look at the relations again (after a migration)."""
        self._shape = None

    def _readable(self) -> str:
        shape = self.shape()
        if shape == "none":
            raise DatabaseError(f"tier '{self.tier}' has no open-world relations (schema < 2)")
        return shape

    def _writable(self) -> None:
        if self.shape() != "groove":
            raise DatabaseError(
                f"tier '{self.tier}' holds vibes-groove's open-world shape; open it with groove "
                "(which migrates it to schema 6) before changing open-world data"
            )

    def _observe(self, what: str, statement: str, param: str, rows: list[list], actor) -> int:
        """Put ``rows`` (bound as ``$<param>``) with one statement as an observation of
        the assistant, in one transaction; returns how many."""
        if rows:
            self._write(
                Action.openworld_observe,
                what,
                [statement],
                {param: rows},
                actor,
                detail={what: len(rows)},
            )
        return len(rows)

    def _has(self, relation: str) -> bool:
        return relation in self.db.relations()
