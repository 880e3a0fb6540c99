"""Usage statistics and outcomes of a learning (docs/architecture.md#relations-v1).

The confidence of a learning is the mean of a Beta(alpha, beta) posterior that starts at
the uniform prior Beta(1, 1) and is updated per injection outcome with the data contract's weights:
helpful adds 1 to alpha, ignored adds 0.1 to beta, contradicted adds 1.5 to beta.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from groove_core.errors import ValidationError

PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0


class Outcome(StrEnum):
    """Outcome of one injection of a learning into a session."""

    HELPFUL = "helpful"
    IGNORED = "ignored"
    CONTRADICTED = "contradicted"


#: (alpha increment, beta increment) per outcome, as vibes-groove's
#: ``UsageStats::record_outcome`` (docs/architecture.md#relations-v1).
OUTCOME_INCREMENTS: dict[Outcome, tuple[float, float]] = {
    Outcome.HELPFUL: (1.0, 0.0),
    Outcome.IGNORED: (0.0, 0.1),
    Outcome.CONTRADICTED: (0.0, 1.5),
}


#: Namespace of the event ids derived from (learning, session): see :meth:`OutcomeEvent.key`.
_EVENT_NAMESPACE = uuid.UUID("6f1d3c1e-7a53-4a0e-9d0c-3c1b7f3f2a10")


@dataclass(frozen=True)
class OutcomeEvent:
    """One injection outcome to record (relation ``outcome_event``).

    ``event_id`` is the idempotency key: recording an event whose id is already stored for
    the learning changes nothing, so a caller may retry a write it is unsure of. When it
    is None, it is derived from the learning and ``session_id`` (one outcome per learning
    per session); with neither, a fresh id is drawn and the event is not idempotent.

    Raises:
        ValidationError: an unknown outcome.
    """

    learning_id: str
    outcome: Outcome
    at: datetime | None = None
    session_id: str | None = None
    event_id: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "outcome", Outcome(self.outcome))
        except ValueError:
            raise ValidationError(
                f"unknown outcome {self.outcome!r:.80} (use helpful, ignored or contradicted)"
            ) from None

    def to_json(self) -> dict:
        """The export form of a recorded event: ``learning_id``, ``event_id`` (its
        :meth:`key`), ``at`` (RFC 3339), ``outcome``, ``session_id``."""
        from groove_core.model.serde import now, to_rfc3339

        return {
            "learning_id": self.learning_id,
            "event_id": self.key(),
            "at": to_rfc3339(self.at or now()),
            "outcome": self.outcome.value,
            "session_id": self.session_id,
        }

    @classmethod
    def from_json(cls, data: object) -> OutcomeEvent:
        """Read the export form; ValidationError naming the bad field otherwise."""
        from groove_core.model.serde import check_uuid, from_rfc3339, require

        what = "outcome event"
        event_id = require(data, "event_id", str, what)
        if not event_id.strip():
            raise ValidationError(f"{what}: event_id must not be empty")
        session = data.get("session_id") if isinstance(data, dict) else None
        return cls(
            learning_id=check_uuid(require(data, "learning_id", str, what), f"{what}: learning_id"),
            outcome=require(data, "outcome", str, what),
            at=from_rfc3339(require(data, "at", str, what), f"{what}: at"),
            session_id=None if session is None else require(data, "session_id", str, what),
            event_id=event_id,
        )

    def key(self) -> str:
        """The event id stored for this outcome (see the class docstring)."""
        if self.event_id is not None:
            if not isinstance(self.event_id, str) or not self.event_id.strip():
                raise ValidationError(f"event id must be non-empty text, got {self.event_id!r}")
            return self.event_id
        if self.session_id is not None:
            return str(uuid.uuid5(_EVENT_NAMESPACE, f"{self.learning_id}\x1f{self.session_id}"))
        from groove_core.model.serde import new_id

        return new_id()


@dataclass
class UsageStats:
    """Per-learning usage counters and Beta posterior parameters (relation ``usage_stats``).

    ``last_used`` is a UTC datetime or ``None``; counts are non-negative integers.
    """

    times_injected: int = 0
    times_helpful: int = 0
    times_ignored: int = 0
    times_contradicted: int = 0
    last_used: datetime | None = None
    confidence_alpha: float = PRIOR_ALPHA
    confidence_beta: float = PRIOR_BETA

    def confidence(self) -> float:
        """Posterior mean alpha / (alpha + beta), in [0, 1]."""
        return self.confidence_alpha / (self.confidence_alpha + self.confidence_beta)

    def record_outcome(self, outcome: Outcome, at: datetime | None = None) -> None:
        """Apply one outcome in place (counts, ``last_used`` and the Beta update)."""
        outcome = Outcome(outcome)
        da, db = OUTCOME_INCREMENTS[outcome]
        self.times_injected += 1
        if outcome is Outcome.HELPFUL:
            self.times_helpful += 1
        elif outcome is Outcome.IGNORED:
            self.times_ignored += 1
        else:
            self.times_contradicted += 1
        self.confidence_alpha += da
        self.confidence_beta += db
        self.last_used = at or datetime.now(UTC)


def usage_to_json(stats: UsageStats) -> dict:
    """serde form of vibes-groove's ``UsageStats`` (``last_used`` omitted when None)."""
    from groove_core.model.serde import to_rfc3339

    out: dict = {
        "times_injected": stats.times_injected,
        "times_helpful": stats.times_helpful,
        "times_ignored": stats.times_ignored,
        "times_contradicted": stats.times_contradicted,
    }
    if stats.last_used is not None:
        out["last_used"] = to_rfc3339(stats.last_used)
    out["confidence_alpha"] = stats.confidence_alpha
    out["confidence_beta"] = stats.confidence_beta
    return out


def usage_from_json(data: object) -> UsageStats:
    """Read the serde form; ValidationError naming the bad field otherwise."""
    from groove_core.errors import ValidationError
    from groove_core.model.serde import from_rfc3339, require
    from groove_core.model.values import U32_MAX, check_int

    what = "usage_stats"
    counts = {  # u32 in vibes-groove's UsageStats, so vibes-groove can read them back
        k: check_int(require(data, k, object, what), f"{what}: {k}", lo=0, hi=U32_MAX)
        for k in ("times_injected", "times_helpful", "times_ignored", "times_contradicted")
    }
    alpha = require(data, "confidence_alpha", float, what)
    beta = require(data, "confidence_beta", float, what)
    if not (alpha > 0 and beta > 0):
        raise ValidationError(f"{what}: confidence_alpha and confidence_beta must be positive")
    last = data.get("last_used") if isinstance(data, dict) else None
    return UsageStats(
        **counts,
        last_used=from_rfc3339(last, "last_used") if last is not None else None,
        confidence_alpha=alpha,
        confidence_beta=beta,
    )
