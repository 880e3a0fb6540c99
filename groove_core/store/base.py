"""What every part of :class:`~groove_core.store.learnings.LearningStore` shares: the
tier's engine, embedder and writer, and the search change log that a write of learnings
keeps (see docs/architecture.md#derived-indexes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groove_core.embed import Embedder
from groove_core.model.access import os_principal
from groove_core.store import changelog
from groove_core.store.engine import Engine
from groove_core.store.rows import UnreadableRows
from groove_core.store.writer import TierWriter


class StoreBase:
    """The state the parts of a learning store share.

    Args:
        db: the tier's open engine (already migrated).
        embedder: embeds a learning's text; ``None`` stores learnings without
            embeddings (semantic search then skips them until ``reembed``).
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
        #: Learnings that listings and searches left out: their rows do not follow the
        #: data contract (see :meth:`~groove_core.store.listing.ListingMixin.unreadable`).
        self.skipped = UnreadableRows()
        #: False once a write to the embedding cache found the tier read-only here.
        self._cache_writable = True

    @property
    def tier(self) -> str:
        """The tier's name."""
        return self.db.tier

    def _logged(self, blocks: list[str], params: dict[str, Any], ids: Sequence[str]) -> list[str]:
        """``blocks`` with, first, the row of the search change log naming ``ids``
        (learnings whose text or embedding the write changes or deletes) when the tier has
        the log (:mod:`groove_core.store.changelog`); its parameters go into ``params``."""
        if not ids or not self.writer._has("search_head"):
            return blocks
        log, log_params = changelog.statements(ids)
        params.update(log_params)
        return [*log, *blocks]


__all__ = ["StoreBase"]
