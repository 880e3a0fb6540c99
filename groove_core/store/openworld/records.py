"""Failure records and novelty events: what the assistant observed, read by context,
session, time window or type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from groove_core.errors import ValidationError
from groove_core.model.access import Principal
from groove_core.model.openworld import (
    FailureRecord,
    OpenWorldEvent,
    hash_to_db,
)
from groove_core.model.serde import from_unix
from groove_core.store.openworld.base import OpenWorldBase
from groove_core.store.openworld.rows import (
    EV_COLS,
    FAIL_COLS,
    PUT_EV,
    PUT_FAIL,
    event_filter,
    event_row,
    fail_row,
    row_to_event,
    row_to_failure,
)


class Records(OpenWorldBase):
    """Failure-record and novelty-event methods of
    :class:`~groove_core.store.openworld.OpenWorldStore`."""

    def save_failure(self, failure: FailureRecord, *, actor: Principal | None = None) -> None:
        """Store one failure record (replacing the same id)."""
        self.save_failures([failure], actor=actor)

    def save_failures(
        self, failures: Sequence[FailureRecord], *, actor: Principal | None = None
    ) -> int:
        """Store failure records in one transaction; returns how many."""
        self._writable()
        return self._observe(
            "failures", PUT_FAIL, "failures", [fail_row(f) for f in failures], actor
        )

    def _failures(
        self,
        cond: str,
        params: dict,
        limit: int | None = None,
    ) -> list[FailureRecord]:
        self._readable()
        tail = " :order -timestamp, id" + (" :limit $limit" if limit else "")
        if limit:
            params = {**params, "limit": int(limit)}
        res = self.db.run(
            f"?[{FAIL_COLS}] := "
            + (f"{cond}, " if cond else "")
            + f"*failure_record{{{FAIL_COLS}}}"
            + tail,
            params,
            read_only=True,
        )
        return [row_to_failure(r) for r in res.dicts()]

    def load_failures_by_context(self, context_hash: int) -> list[FailureRecord]:
        """Failures in one context, newest first."""
        return self._failures("context_hash = $h", {"h": hash_to_db(context_hash)})

    def load_failures_by_session(self, session_id: str) -> list[FailureRecord]:
        """Failures of one session, newest first."""
        return self._failures("session_id = $s", {"s": str(session_id)})

    def load_failures_by_contexts(self, hashes: Iterable[int]) -> list[FailureRecord]:
        """Failures in any of these contexts (u64 hashes), newest first."""
        keys = [hash_to_db(h) for h in hashes]
        return self._failures("context_hash in $keys", {"keys": keys}) if keys else []

    def recent_failures(self, limit: int = 100) -> list[FailureRecord]:
        """The ``limit`` newest failures, newest first."""
        return self._failures("", {}, limit)

    def save_novelty_event(self, event: OpenWorldEvent, *, actor: Principal | None = None) -> None:
        """Store one open-world event (vibes-groove's ``save_novelty_event``)."""
        self.save_novelty_events([event], actor=actor)

    def save_novelty_events(
        self, events: Sequence[OpenWorldEvent], *, actor: Principal | None = None
    ) -> int:
        """Store events in one transaction; returns how many."""
        self._writable()
        return self._observe("events", PUT_EV, "events", [event_row(e) for e in events], actor)

    def load_novelty_events(
        self,
        since: datetime | None = None,
        limit: int = 100,
        *,
        until: datetime | None = None,
        event_types: Iterable[str] | None = None,
    ) -> list[OpenWorldEvent]:
        """Events at or after ``since`` (and before ``until``), newest first, at most
        ``limit``, optionally only of some types (``novelty_detected``, ...)."""
        self._readable()
        limit = int(limit)
        if limit < 1:
            raise ValidationError("limit must be >= 1")
        conds, params = event_filter(since, until, event_types)
        res = self.db.run(
            f"?[{EV_COLS}] := *novelty_event{{{EV_COLS}}}, {conds} "
            ":order -timestamp, -id :limit $limit",
            {**params, "limit": limit},
            read_only=True,
        )
        return [row_to_event(r) for r in res.dicts()]

    def event_timeline(
        self,
        since: datetime | None = None,
        *,
        until: datetime | None = None,
        event_types: Iterable[str] | None = None,
        bucket_seconds: int = 86400,
    ) -> list[tuple[datetime, str, int]]:
        """How many events of each type fell in each ``bucket_seconds`` window (UTC,
        aligned to the Unix epoch) at or after ``since``: ``(bucket start, event_type,
        count)``, oldest first. Counted in Cozo over every matching event, not a page."""
        self._readable()
        bucket = int(bucket_seconds)
        if bucket < 1:
            raise ValidationError("bucket_seconds must be >= 1")
        conds, params = event_filter(since, until, event_types)
        res = self.db.run(
            f"?[start, event_type, count(id)] := *novelty_event{{{EV_COLS}}}, {conds}, "
            "start = $b * floor(timestamp / $b) :order start, event_type",
            {**params, "b": bucket},
            read_only=True,
        )
        return [(from_unix(int(t)), k, int(n)) for t, k, n in res.rows]

    def event_type_counts(self) -> dict[str, int]:
        """``event_type`` -> number of stored events of that type."""
        self._readable()
        res = self.db.run(
            "?[event_type, count(id)] := *novelty_event{id, event_type}", read_only=True
        )
        return {t: int(n) for t, n in res.rows}
