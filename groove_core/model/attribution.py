"""Attribution types (docs/architecture.md#relations-v1): per-session attribution
records, a learning's aggregated value and status, and ablation experiments with their results.

JSON forms are what Rust's serde writes by default (docs/architecture.md#serde-json):

- ``ActivationSignal`` is externally tagged:
  ``{"EmbeddingSimilarity": {"score": 0.85, "message_idx": 5}}`` or
  ``{"ExplicitReference": {"pattern": "use Result", "message_idx": 3}}``; the column
  ``attribution.activation_signals_json`` holds the JSON list of them.
- ``SessionOutcome`` is ``{"session_id": "s1", "outcome": 0.7, "timestamp": "<RFC 3339>"}``;
  ``ablation_experiment.sessions_with_json`` / ``sessions_without_json`` hold JSON lists.
- ``LearningStatus`` is stored in ``learning_value.status`` (a ``String`` column) as the
  serde JSON text of the enum, so ``serde_json::from_str::<LearningStatus>(&status)``
  reads it back: ``"Active"`` and ``"Experimental"`` (JSON strings, i.e. with the double
  quotes), ``{"Deprecated":{"reason":"..."}}``. Reading also accepts the bare variant
  names (``Active``) and the lower-case words later vibes-groove versions write
  (``active``, ``deprecated``, ``experimental``; ``disabled`` reads as deprecated).

Timestamps in rows are Unix seconds; in JSON they are RFC 3339 strings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.serde import (
    check_uuid,
    from_rfc3339,
    now,
    require,
    tagged,
    to_rfc3339,
)

__all__ = [
    "AblationExperiment",
    "AblationResult",
    "ActivationSignal",
    "AttributionRecord",
    "EmbeddingSimilarity",
    "ExplicitReference",
    "LearningStatus",
    "LearningValue",
    "SessionOutcome",
    "sessions_from_json",
    "sessions_to_json",
    "signal_from_json",
    "signal_to_json",
]


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"{what} must be finite, got {value!r}")
    return number


def _index(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{what} must be an integer >= 0 (u32), got {value!r}")
    return value


def _session_id(value: Any, what: str = "session_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}")
    return value


# --------------------------------------------------------------------------- signals
@dataclass(frozen=True)
class EmbeddingSimilarity:
    """The learning's content matched a response by embedding similarity ``score`` at
    message ``message_idx``."""

    score: float
    message_idx: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", _finite(self.score, "score"))
        _index(self.message_idx, "message_idx")


@dataclass(frozen=True)
class ExplicitReference:
    """The learning was referenced explicitly by ``pattern`` at message ``message_idx``."""

    pattern: str
    message_idx: int

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise ValidationError(f"pattern must be text, got {self.pattern!r}")
        _index(self.message_idx, "message_idx")


ActivationSignal = EmbeddingSimilarity | ExplicitReference


def signal_to_json(signal: ActivationSignal) -> dict:
    """serde's externally tagged form of one signal."""
    if isinstance(signal, EmbeddingSimilarity):
        return {"EmbeddingSimilarity": {"score": signal.score, "message_idx": signal.message_idx}}
    if isinstance(signal, ExplicitReference):
        return {"ExplicitReference": {"pattern": signal.pattern, "message_idx": signal.message_idx}}
    raise ValidationError(f"not an activation signal: {signal!r}")


def signal_from_json(data: Any) -> ActivationSignal:
    """Read one externally tagged signal; ValidationError for any other shape."""
    variant, payload = tagged(data)
    what = f"activation signal {variant}"
    if variant == "EmbeddingSimilarity":
        return EmbeddingSimilarity(
            require(payload, "score", float, what), require(payload, "message_idx", int, what)
        )
    if variant == "ExplicitReference":
        return ExplicitReference(
            require(payload, "pattern", str, what), require(payload, "message_idx", int, what)
        )
    raise ValidationError(f"unknown activation signal {variant!r}")


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class AttributionRecord:
    """What the attribution layers concluded about one learning in one session
    (relation ``attribution``, key ``(learning_id, session_id)``).

    Layer 1 (activation): ``was_activated``, ``activation_confidence`` in [0, 1] and the
    ``activation_signals`` behind it. Layer 2 (temporal correlation): ``temporal_positive``,
    ``temporal_negative`` and ``net_temporal``. Layer 3 (ablation): ``was_withheld`` (the
    learning was deliberately not injected). ``session_outcome`` is the session's outcome
    and ``attributed_value`` the share of it credited to this learning.
    """

    learning_id: str
    session_id: str
    timestamp: datetime
    was_activated: bool
    activation_confidence: float
    activation_signals: tuple[ActivationSignal, ...] = ()
    temporal_positive: float = 0.0
    temporal_negative: float = 0.0
    net_temporal: float = 0.0
    was_withheld: bool = False
    session_outcome: float = 0.0
    attributed_value: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "learning_id", check_uuid(self.learning_id, "learning_id"))
        _session_id(self.session_id)
        if not isinstance(self.timestamp, datetime) or self.timestamp.tzinfo is None:
            raise ValidationError(f"timestamp must be an aware datetime, got {self.timestamp!r}")
        for name in ("was_activated", "was_withheld"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be true or false")
        for name in (
            "activation_confidence",
            "temporal_positive",
            "temporal_negative",
            "net_temporal",
            "session_outcome",
            "attributed_value",
        ):
            object.__setattr__(self, name, _finite(getattr(self, name), name))
        signals = tuple(self.activation_signals)
        for s in signals:
            if not isinstance(s, EmbeddingSimilarity | ExplicitReference):
                raise ValidationError(f"not an activation signal: {s!r}")
        object.__setattr__(self, "activation_signals", signals)

    def signals_json(self) -> str:
        """``activation_signals_json`` column value."""
        return json.dumps([signal_to_json(s) for s in self.activation_signals])

    def to_json(self) -> dict:
        """serde form of the Rust ``AttributionRecord``."""
        return {
            "learning_id": self.learning_id,
            "session_id": self.session_id,
            "timestamp": to_rfc3339(self.timestamp),
            "was_activated": self.was_activated,
            "activation_confidence": self.activation_confidence,
            "activation_signals": [signal_to_json(s) for s in self.activation_signals],
            "temporal_positive": self.temporal_positive,
            "temporal_negative": self.temporal_negative,
            "net_temporal": self.net_temporal,
            "was_withheld": self.was_withheld,
            "session_outcome": self.session_outcome,
            "attributed_value": self.attributed_value,
        }

    @classmethod
    def from_json(cls, data: Any) -> AttributionRecord:
        what = "attribution record"
        signals = require(data, "activation_signals", list, what)
        return cls(
            learning_id=require(data, "learning_id", str, what),
            session_id=require(data, "session_id", str, what),
            timestamp=from_rfc3339(require(data, "timestamp", str, what)),
            was_activated=require(data, "was_activated", bool, what),
            activation_confidence=require(data, "activation_confidence", float, what),
            activation_signals=tuple(signal_from_json(s) for s in signals),
            temporal_positive=require(data, "temporal_positive", float, what),
            temporal_negative=require(data, "temporal_negative", float, what),
            net_temporal=require(data, "net_temporal", float, what),
            was_withheld=require(data, "was_withheld", bool, what),
            session_outcome=require(data, "session_outcome", float, what),
            attributed_value=require(data, "attributed_value", float, what),
        )


# --------------------------------------------------------------------------- status
@dataclass(frozen=True)
class LearningStatus:
    """``Active``, ``Deprecated { reason }`` or ``Experimental``
    (docs/architecture.md#relations-v1).

    Build with :meth:`active`, :meth:`deprecated` or :meth:`experimental`; ``kind`` is
    the serde variant name, ``reason`` is set only for ``Deprecated``.
    """

    kind: str = "Active"
    reason: str | None = None

    _KINDS = ("Active", "Deprecated", "Experimental")

    def __post_init__(self) -> None:
        if self.kind not in self._KINDS:
            raise ValidationError(f"unknown learning status {self.kind!r}")
        if self.kind == "Deprecated":
            if not isinstance(self.reason, str):
                raise ValidationError("a deprecation needs a reason (text)")
        elif self.reason is not None:
            raise ValidationError(f"status {self.kind} takes no reason")

    @classmethod
    def active(cls) -> LearningStatus:
        return cls("Active")

    @classmethod
    def experimental(cls) -> LearningStatus:
        return cls("Experimental")

    @classmethod
    def deprecated(cls, reason: str) -> LearningStatus:
        return cls("Deprecated", reason)

    @property
    def is_deprecated(self) -> bool:
        return self.kind == "Deprecated"

    def label(self) -> str:
        """``active``, ``experimental`` or ``deprecated: <reason>`` for tables."""
        if self.kind == "Deprecated":
            return f"deprecated: {self.reason}" if self.reason else "deprecated"
        return self.kind.lower()

    def to_json(self) -> Any:
        """serde's externally tagged form: ``"Active"`` or ``{"Deprecated": {"reason": ..}}``."""
        if self.kind == "Deprecated":
            return {"Deprecated": {"reason": self.reason}}
        return self.kind

    @classmethod
    def from_json(cls, data: Any) -> LearningStatus:
        variant, payload = tagged(data)
        if variant == "Deprecated":
            return cls.deprecated(require(payload, "reason", str, "Deprecated status"))
        if variant in ("Active", "Experimental") and payload is None:
            return cls(variant)
        raise ValidationError(f"unknown learning status {data!r}")

    def to_db(self) -> str:
        """The ``learning_value.status`` column: the serde JSON text of the enum."""
        return json.dumps(self.to_json(), ensure_ascii=False)

    @classmethod
    def from_db(cls, text: Any, reason: str | None = None) -> LearningStatus:
        """Read the column: serde JSON text, a bare variant name, or the lower-case words
        of later vibes-groove versions (with their ``status_reason`` if given)."""
        if not isinstance(text, str):
            raise ValidationError(f"learning status must be text, got {text!r}")
        words = {"active": "Active", "experimental": "Experimental"}
        low = text.strip().lower()
        if low in words:
            return cls(words[low])
        if low in ("deprecated", "disabled"):
            return cls.deprecated(reason or "")
        try:
            data = json.loads(text)
        except ValueError:
            raise ValidationError(f"unknown learning status {text!r}") from None
        return cls.from_json(data)


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class LearningValue:
    """Aggregated lifetime value of a learning (relation ``learning_value``).

    ``estimated_value`` is in outcome units (positive helps), ``confidence`` in [0, 1],
    ``session_count`` the sessions it took part in, ``activation_rate`` the share of
    those in which it was activated; per-source estimates from temporal correlation and
    (optional) ablation; ``status`` and when it was last updated.
    """

    learning_id: str
    estimated_value: float
    confidence: float
    session_count: int
    activation_rate: float
    temporal_value: float
    temporal_confidence: float
    ablation_value: float | None = None
    ablation_confidence: float | None = None
    status: LearningStatus = field(default_factory=LearningStatus.active)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "learning_id", check_uuid(self.learning_id, "learning_id"))
        for name in (
            "estimated_value",
            "confidence",
            "activation_rate",
            "temporal_value",
            "temporal_confidence",
        ):
            object.__setattr__(self, name, _finite(getattr(self, name), name))
        for name in ("ablation_value", "ablation_confidence"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, _finite(v, name))
        if (
            isinstance(self.session_count, bool)
            or not isinstance(self.session_count, int)
            or self.session_count < 0
        ):
            raise ValidationError(
                f"session_count must be an integer >= 0, got {self.session_count!r}"
            )
        if not isinstance(self.status, LearningStatus):
            raise ValidationError(f"status must be a LearningStatus, got {self.status!r}")
        if not isinstance(self.updated_at, datetime) or self.updated_at.tzinfo is None:
            raise ValidationError("updated_at must be an aware datetime")

    def to_json(self) -> dict:
        """serde form (``Option`` fields as ``null`` when absent, as serde writes them)."""
        return {
            "learning_id": self.learning_id,
            "estimated_value": self.estimated_value,
            "confidence": self.confidence,
            "session_count": self.session_count,
            "activation_rate": self.activation_rate,
            "temporal_value": self.temporal_value,
            "temporal_confidence": self.temporal_confidence,
            "ablation_value": self.ablation_value,
            "ablation_confidence": self.ablation_confidence,
            "status": self.status.to_json(),
            "updated_at": to_rfc3339(self.updated_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> LearningValue:
        what = "learning value"
        opt = {}
        for name in ("ablation_value", "ablation_confidence"):
            opt[name] = (
                None
                if not isinstance(data, dict) or data.get(name) is None
                else require(data, name, float, what)
            )
        return cls(
            learning_id=require(data, "learning_id", str, what),
            estimated_value=require(data, "estimated_value", float, what),
            confidence=require(data, "confidence", float, what),
            session_count=require(data, "session_count", int, what),
            activation_rate=require(data, "activation_rate", float, what),
            temporal_value=require(data, "temporal_value", float, what),
            temporal_confidence=require(data, "temporal_confidence", float, what),
            status=LearningStatus.from_json(require(data, "status", (str, dict), what)),
            updated_at=from_rfc3339(require(data, "updated_at", str, what)),
            **opt,
        )


# --------------------------------------------------------------------------- ablation
@dataclass(frozen=True)
class SessionOutcome:
    """One session of an ablation arm: its id, outcome and time."""

    session_id: str
    outcome: float
    timestamp: datetime

    def __post_init__(self) -> None:
        _session_id(self.session_id)
        object.__setattr__(self, "outcome", _finite(self.outcome, "outcome"))
        if not isinstance(self.timestamp, datetime) or self.timestamp.tzinfo is None:
            raise ValidationError("timestamp must be an aware datetime")

    def to_json(self) -> dict:
        return {
            "session_id": self.session_id,
            "outcome": self.outcome,
            "timestamp": to_rfc3339(self.timestamp),
        }

    @classmethod
    def from_json(cls, data: Any) -> SessionOutcome:
        what = "session outcome"
        return cls(
            session_id=require(data, "session_id", str, what),
            outcome=require(data, "outcome", float, what),
            timestamp=from_rfc3339(require(data, "timestamp", str, what)),
        )


def sessions_to_json(sessions: tuple[SessionOutcome, ...] | list[SessionOutcome]) -> str:
    """``sessions_*_json`` column value."""
    return json.dumps([s.to_json() for s in sessions], ensure_ascii=False)


def sessions_from_json(text: str, what: str = "sessions") -> tuple[SessionOutcome, ...]:
    """Read a ``sessions_*_json`` column."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{what}: not JSON ({err})") from None
    if not isinstance(data, list):
        raise ValidationError(f"{what}: expected a JSON list")
    return tuple(SessionOutcome.from_json(d) for d in data)


@dataclass(frozen=True)
class AblationResult:
    """Result of an ablation experiment: ``marginal_value`` (mean with minus mean without,
    outcome units), ``confidence`` in [0.5, 1] that the effect has that sign, and whether
    it ``is_significant`` (see :func:`groove_core.analysis.ablation.to_result`)."""

    marginal_value: float
    confidence: float
    is_significant: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "marginal_value", _finite(self.marginal_value, "marginal_value"))
        object.__setattr__(self, "confidence", _finite(self.confidence, "confidence"))
        if not isinstance(self.is_significant, bool):
            raise ValidationError("is_significant must be true or false")

    def to_json(self) -> dict:
        return {
            "marginal_value": self.marginal_value,
            "confidence": self.confidence,
            "is_significant": self.is_significant,
        }

    @classmethod
    def from_json(cls, data: Any) -> AblationResult:
        what = "ablation result"
        return cls(
            require(data, "marginal_value", float, what),
            require(data, "confidence", float, what),
            require(data, "is_significant", bool, what),
        )


@dataclass(frozen=True)
class AblationExperiment:
    """An A/B experiment on one learning (relation ``ablation_experiment``): sessions in
    which it was injected (``sessions_with``) or withheld (``sessions_without``) and, once
    analysed, its :class:`AblationResult`.

    groove calls an experiment *concluded* when its result is significant and *running*
    otherwise (the contract's relation has no separate state column).
    """

    learning_id: str
    started_at: datetime
    sessions_with: tuple[SessionOutcome, ...] = ()
    sessions_without: tuple[SessionOutcome, ...] = ()
    result: AblationResult | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "learning_id", check_uuid(self.learning_id, "learning_id"))
        if not isinstance(self.started_at, datetime) or self.started_at.tzinfo is None:
            raise ValidationError("started_at must be an aware datetime")
        for name in ("sessions_with", "sessions_without"):
            items = tuple(getattr(self, name))
            for s in items:
                if not isinstance(s, SessionOutcome):
                    raise ValidationError(f"{name} must hold SessionOutcome values")
            object.__setattr__(self, name, items)
        if self.result is not None and not isinstance(self.result, AblationResult):
            raise ValidationError("result must be an AblationResult or None")

    @property
    def state(self) -> str:
        """``concluded`` (significant result) or ``running``."""
        return "concluded" if self.result is not None and self.result.is_significant else "running"

    def with_outcomes(self) -> list[float]:
        return [s.outcome for s in self.sessions_with]

    def without_outcomes(self) -> list[float]:
        return [s.outcome for s in self.sessions_without]

    def to_json(self) -> dict:
        return {
            "learning_id": self.learning_id,
            "started_at": to_rfc3339(self.started_at),
            "sessions_with": [s.to_json() for s in self.sessions_with],
            "sessions_without": [s.to_json() for s in self.sessions_without],
            "result": None if self.result is None else self.result.to_json(),
        }

    @classmethod
    def from_json(cls, data: Any) -> AblationExperiment:
        what = "ablation experiment"
        result = data.get("result") if isinstance(data, dict) else None
        return cls(
            learning_id=require(data, "learning_id", str, what),
            started_at=from_rfc3339(require(data, "started_at", str, what)),
            sessions_with=tuple(
                SessionOutcome.from_json(s) for s in require(data, "sessions_with", list, what)
            ),
            sessions_without=tuple(
                SessionOutcome.from_json(s) for s in require(data, "sessions_without", list, what)
            ),
            result=None if result is None else AblationResult.from_json(result),
        )
