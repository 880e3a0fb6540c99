"""Open-world types (docs/architecture.md#relations-v2): fingerprints, anomaly clusters,
capability gaps, failures and open-world events, with the JSON forms vibes-groove's serde writes.

Cozo columns hold the snake_case strings (``missing_knowledge``, ``in_progress``, ...);
serde JSON (``solutions_json``, ``event_data_json``, exports) holds the Rust variant
names (``MissingKnowledge``, ``InProgress``). Every enum here accepts both on reading.

Fingerprint hashes are ``u64`` in Rust; Cozo's ``Int`` is a signed 64-bit integer. A
hash is kept in Python as the unsigned value (``0 <= h < 2**64``) and stored in Cozo as
the same 64 bits read as two's complement (:func:`hash_to_db`: values ``>= 2**63``
become negative; :func:`hash_from_db` undoes it). JSON keeps the unsigned number, as
serde writes it. Hashes below ``2**63`` are stored unchanged, so rows written by
vibes-groove (which formats the ``u64`` into its script and can only store those) read
back as they were.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np

from groove_core.errors import ValidationError
from groove_core.model.learning import LearningCategory
from groove_core.model.serde import (
    check_uuid,
    from_rfc3339,
    new_id,
    now,
    require,
    tagged,
    to_rfc3339,
)

U64 = 2**64
I64_MAX = 2**63 - 1
_CONTEXT_PATTERN = re.compile(r"^context:(\d{1,20})$")


# ---------------------------------------------------------------- hashes
def check_hash(value: Any, what: str = "fingerprint hash") -> int:
    """``value`` as an unsigned 64-bit hash; ValidationError if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValidationError(f"{what} must be an unsigned 64-bit integer, got {value!r}")
    value = int(value)
    if not 0 <= value < U64:
        raise ValidationError(f"{what} {value} is outside 0..2**64-1")
    return value


def hash_to_db(value: int) -> int:
    """The ``Int`` a u64 hash is stored as (same bits, two's complement)."""
    value = check_hash(value)
    return value - U64 if value > I64_MAX else value


def hash_from_db(value: int) -> int:
    """The u64 hash of a stored ``Int`` (inverse of :func:`hash_to_db`)."""
    value = int(value)
    return value + U64 if value < 0 else value


def context_hash(text: str) -> int:
    """A u64 hash of a context text (blake2b, 8 bytes, big-endian)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _pascal(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def _snake(pascal: str) -> str:
    out = []
    for i, ch in enumerate(pascal):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class _SnakeEnum(StrEnum):
    """A string enum whose value is the DB (snake_case) string; :attr:`serde` is the
    Rust variant name; :meth:`parse` accepts either."""

    @property
    def serde(self) -> str:
        return _pascal(self.value)

    @property
    def label(self) -> str:
        """For people: ``in progress``."""
        return self.value.replace("_", " ")

    @classmethod
    def parse(cls, text: Any):
        if isinstance(text, cls):
            return text
        for member in cls:
            if text in (member.value, member.serde):
                return member
        names = ", ".join(m.value for m in cls)
        raise ValidationError(f"unknown {cls.__name__} {text!r} (expected one of {names})")


class GapCategory(_SnakeEnum):
    MISSING_KNOWLEDGE = "missing_knowledge"
    INCORRECT_PATTERN = "incorrect_pattern"
    CONTEXT_MISMATCH = "context_mismatch"
    TOOL_GAP = "tool_gap"


class GapSeverity(_SnakeEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 (low) .. 3 (critical), for sorting."""
        return list(GapSeverity).index(self)

    @classmethod
    def for_failures(cls, failure_count: int) -> GapSeverity:
        """vibes-groove's rule: up to 2 failures low, 3-10 medium, more high."""
        if failure_count <= 2:
            return cls.LOW
        return cls.MEDIUM if failure_count <= 10 else cls.HIGH


class GapStatus(_SnakeEnum):
    DETECTED = "detected"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"

    def next_statuses(self) -> tuple[GapStatus, ...]:
        """The statuses a gap may move to from this one (the review workflow)."""
        return GAP_WORKFLOW[self]


#: The review workflow: detected -> confirmed -> in progress -> resolved, with
#: dismissal from any open state and reopening of resolved or dismissed gaps.
GAP_WORKFLOW: dict[GapStatus, tuple[GapStatus, ...]] = {
    GapStatus.DETECTED: (GapStatus.CONFIRMED, GapStatus.DISMISSED),
    GapStatus.CONFIRMED: (GapStatus.IN_PROGRESS, GapStatus.DISMISSED, GapStatus.DETECTED),
    GapStatus.IN_PROGRESS: (GapStatus.RESOLVED, GapStatus.CONFIRMED, GapStatus.DISMISSED),
    GapStatus.RESOLVED: (GapStatus.CONFIRMED,),
    GapStatus.DISMISSED: (GapStatus.DETECTED, GapStatus.CONFIRMED),
}


class FailureType(_SnakeEnum):
    LEARNING_NOT_ACTIVATED = "learning_not_activated"
    NEGATIVE_ATTRIBUTION = "negative_attribution"
    LOW_CONFIDENCE = "low_confidence"
    EXPLICIT_FEEDBACK = "explicit_feedback"


class SolutionSource(_SnakeEnum):
    TEMPLATE = "template"
    PATTERN_ANALYSIS = "pattern_analysis"
    USER_SUGGESTION = "user_suggestion"


# ---------------------------------------------------------------- vectors
def _vector(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{what} is not a list of numbers") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValidationError(f"{what} must be a non-empty 1-D vector, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValidationError(f"{what} holds NaN or infinite values")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def f32_text(value: Any) -> str:
    """One ``f32`` as serde_json writes it: the shortest digits that read back as the same
    ``f32`` (numpy's Dragon4 in ``unique`` mode), laid out as the ``ryu`` crate's
    ``format32`` does (``0.1``, ``1.0``, ``0.001234``, ``1e-7``, ``1.5e20``)."""
    f = np.float32(value)
    if not np.isfinite(f):
        raise ValidationError(f"{value!r} is not a finite number")
    if f == 0:
        return "-0.0" if np.signbit(f) else "0.0"
    mantissa, exp = np.format_float_scientific(abs(f), unique=True, trim="-").split("e")
    digits = mantissa.replace(".", "")
    length, kk = len(digits), int(exp) + 1  # 10^(kk-1) <= |f| < 10^kk
    if kk - length >= 0 and kk <= 13:
        text = digits + "0" * (kk - length) + ".0"
    elif 0 < kk <= 13:
        text = f"{digits[:kk]}.{digits[kk:]}"
    elif -6 < kk <= 0:
        text = "0." + "0" * -kk + digits
    elif length == 1:
        text = f"{digits}e{kk - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return "-" + text if f < 0 else text


def f32_values(vec: Any) -> list[float]:
    """A float32 vector as Python floats that ``json.dumps`` writes with the f32's shortest
    digits (``0.1``, not ``0.10000000149011612``): for serde JSON holding ``Vec<f32>``."""
    return [float(f32_text(x)) for x in np.asarray(vec, dtype=np.float32).tolist()]


def vector_json(vec: np.ndarray) -> str:
    """A vector exactly as serde_json writes ``Vec<f32>``: compact, each value by
    :func:`f32_text` (``[0.1,-0.25,1e-7]``)."""
    return "[" + ",".join(f32_text(x) for x in np.asarray(vec).tolist()) + "]"


def dumps(value: Any) -> str:
    """JSON as serde_json's ``to_string`` lays it out (no spaces)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_vector_json(text: str, what: str = "embedding_json") -> np.ndarray:
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{what} is not JSON: {str(text)[:60]!r}") from err
    return _vector(data, what)


# ---------------------------------------------------------------- fingerprints
@dataclass(frozen=True, eq=False)
class PatternFingerprint:
    """An embedded context the assistant met (relation ``pattern_fingerprint``).

    ``hash`` is the u64 context hash (see the module docstring for its storage);
    ``embedding`` a float32 vector (384 wide for all-MiniLM-L6-v2);
    ``associated_learning`` the learning this context is known by, if any.
    """

    hash: int
    embedding: np.ndarray
    context_summary: str
    associated_learning: str | None = None
    created_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", check_hash(self.hash))
        object.__setattr__(self, "embedding", _vector(self.embedding, "embedding"))
        if not isinstance(self.context_summary, str):
            raise ValidationError("context_summary must be text")
        if self.associated_learning is not None:
            object.__setattr__(
                self,
                "associated_learning",
                check_uuid(self.associated_learning, "associated_learning"),
            )

    @property
    def id(self) -> str:
        """The hash as a decimal string (ids of projections and plots)."""
        return str(self.hash)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PatternFingerprint):
            return NotImplemented
        return (
            self.hash == other.hash
            and self.context_summary == other.context_summary
            and self.associated_learning == other.associated_learning
            and self.created_at == other.created_at
            and self.embedding.shape == other.embedding.shape
            and bool(np.array_equal(self.embedding, other.embedding))
        )

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict:
        """serde form; ``associated_learning`` only when set (vibes-groove has none)."""
        out: dict[str, Any] = {
            "hash": self.hash,
            "embedding": f32_values(self.embedding),
            "context_summary": self.context_summary,
        }
        if self.associated_learning is not None:
            out["associated_learning"] = self.associated_learning
        out["created_at"] = to_rfc3339(self.created_at)
        return out

    @classmethod
    def from_json(cls, data: Any) -> PatternFingerprint:
        what = "pattern fingerprint"
        return cls(
            hash=check_hash(require(data, "hash", object, what)),
            embedding=_vector(require(data, "embedding", list, what), "embedding"),
            context_summary=require(data, "context_summary", str, what),
            associated_learning=data.get("associated_learning"),
            created_at=from_rfc3339(require(data, "created_at", str, what)),
        )


@dataclass(frozen=True, eq=False)
class AnomalyCluster:
    """A group of similar novel fingerprints (``anomaly_cluster`` + ``cluster_member``).

    ``members`` are fingerprint hashes (u64), sorted; vibes-groove's ``members_json``
    embeds whole fingerprints instead, which the store reads into this form.
    """

    id: str
    centroid: np.ndarray
    members: tuple[int, ...] = ()
    created_at: datetime = field(default_factory=now)
    last_seen: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_uuid(self.id, "cluster id"))
        object.__setattr__(self, "centroid", _vector(self.centroid, "centroid"))
        object.__setattr__(self, "members", tuple(sorted({check_hash(h) for h in self.members})))

    @classmethod
    def new(cls, centroid: Any, members: Any = ()) -> AnomalyCluster:
        t = now()
        return cls(new_id(), centroid, tuple(members), t, t)

    @property
    def size(self) -> int:
        return len(self.members)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnomalyCluster):
            return NotImplemented
        return (self.id, self.members, self.created_at, self.last_seen) == (
            other.id,
            other.members,
            other.created_at,
            other.last_seen,
        ) and bool(np.array_equal(self.centroid, other.centroid))

    __hash__ = None  # type: ignore[assignment]


# ---------------------------------------------------------------- solutions
_ACTION_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "CreateLearning": {"content": str, "category": str},
    "ModifyLearning": {"id": str, "change": str},
    "DisableLearning": {"id": str},
    "AdjustStrategy": {"category": str, "change": dict},
    "RequestHumanInput": {"question": str},
}


@dataclass(frozen=True)
class SolutionAction:
    """What to do about a gap: serde's externally tagged ``SolutionAction``.

    ``kind`` is the variant (``CreateLearning``, ``ModifyLearning``, ``DisableLearning``,
    ``AdjustStrategy``, ``RequestHumanInput``); ``data`` its fields as serde writes them
    (``{"content": ..., "category": "CodePattern"}``).
    """

    kind: str
    data: dict = field(default_factory=dict)

    KINDS = tuple(_ACTION_FIELDS)

    def __post_init__(self) -> None:
        if self.kind not in _ACTION_FIELDS:
            raise ValidationError(
                f"unknown solution action {self.kind!r} (expected one of "
                f"{', '.join(_ACTION_FIELDS)})"
            )
        data = dict(self.data)
        for name, kind in _ACTION_FIELDS[self.kind].items():
            require(data, name, kind, f"{self.kind} action")
        if "category" in data and self.kind in ("CreateLearning", "AdjustStrategy"):
            data["category"] = LearningCategory.parse(data["category"]).serde
        if "id" in data:
            data["id"] = check_uuid(data["id"], f"{self.kind} learning id")
        object.__setattr__(self, "data", data)

    @classmethod
    def create_learning(cls, content: str, category: str = "code_pattern") -> SolutionAction:
        return cls("CreateLearning", {"content": content, "category": category})

    @classmethod
    def modify_learning(cls, learning_id: str, change: str) -> SolutionAction:
        return cls("ModifyLearning", {"id": learning_id, "change": change})

    @classmethod
    def disable_learning(cls, learning_id: str) -> SolutionAction:
        return cls("DisableLearning", {"id": learning_id})

    @classmethod
    def adjust_strategy(
        cls,
        category: str,
        weight_delta: float = 0.0,
        exploration_delta: float = 0.0,
        variant: Any = None,
    ) -> SolutionAction:
        change = {
            "variant": variant,
            "weight_delta": float(weight_delta),
            "exploration_delta": float(exploration_delta),
        }
        return cls("AdjustStrategy", {"category": category, "change": change})

    @classmethod
    def request_human_input(cls, question: str) -> SolutionAction:
        return cls("RequestHumanInput", {"question": question})

    def to_json(self) -> dict:
        return {self.kind: dict(self.data)}

    @classmethod
    def from_json(cls, data: Any) -> SolutionAction:
        kind, payload = tagged(data)
        return cls(kind, dict(payload or {}))

    def describe(self) -> str:
        """One line for people."""
        d = self.data
        if self.kind == "CreateLearning":
            return (
                f"Create a {LearningCategory.parse(d['category']).value} learning: {d['content']}"
            )
        if self.kind == "ModifyLearning":
            return f"Modify learning {d['id']}: {d['change']}"
        if self.kind == "DisableLearning":
            return f"Disable learning {d['id']}"
        if self.kind == "AdjustStrategy":
            ch = d["change"]
            return (
                f"Adjust strategy for {LearningCategory.parse(d['category']).value}: weight "
                f"{ch.get('weight_delta', 0):+g}, exploration {ch.get('exploration_delta', 0):+g}"
            )
        return f"Ask a person: {d['question']}"

    @property
    def text(self) -> str:
        """The free-text field of the action (content, change or question), or ''."""
        for name in ("content", "change", "question"):
            if isinstance(self.data.get(name), str):
                return self.data[name]
        return ""


@dataclass(frozen=True)
class SuggestedSolution:
    """A suggested fix for a gap: vibes-groove's ``SuggestedSolution`` struct
    ``{"action": {...}, "source": "Template", "confidence": 0.8, "applied": false}``.

    Reading also accepts a bare action (``{"CreateLearning": {...}}``), taken as a user
    suggestion with confidence 0.5; writing always produces the struct form.
    """

    action: SolutionAction
    source: SolutionSource = SolutionSource.USER_SUGGESTION
    confidence: float = 0.5
    applied: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", SolutionSource.parse(self.source))
        c = float(self.confidence)
        if not (math.isfinite(c) and 0.0 <= c <= 1.0):
            raise ValidationError(f"solution confidence must be in [0, 1], got {self.confidence}")
        object.__setattr__(self, "confidence", c)
        object.__setattr__(self, "applied", bool(self.applied))

    def to_json(self) -> dict:
        return {
            "action": self.action.to_json(),
            "source": self.source.serde,
            "confidence": self.confidence,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: Any) -> SuggestedSolution:
        if isinstance(data, dict) and "action" in data:
            what = "suggested solution"
            return cls(
                action=SolutionAction.from_json(data["action"]),
                source=require(data, "source", str, what),
                confidence=require(data, "confidence", float, what),
                applied=require(data, "applied", bool, what),
            )
        return cls(SolutionAction.from_json(data))


def solutions_to_json(solutions: Any) -> str:
    """``solutions_json``: the serde JSON of ``Vec<SuggestedSolution>``."""
    return dumps([s.to_json() for s in solutions])


def solutions_from_json(text: str) -> tuple[SuggestedSolution, ...]:
    try:
        data = json.loads(text) if text else []
    except ValueError as err:
        raise ValidationError(f"solutions_json is not JSON: {text[:60]!r}") from err
    if not isinstance(data, list):
        raise ValidationError("solutions_json must hold a JSON list")
    return tuple(SuggestedSolution.from_json(s) for s in data)


# ---------------------------------------------------------------- gaps
@dataclass(frozen=True)
class CapabilityGap:
    """Something groove cannot handle yet (relation ``capability_gap``)."""

    id: str
    category: GapCategory
    severity: GapSeverity
    status: GapStatus
    context_pattern: str
    failure_count: int = 1
    first_seen: datetime = field(default_factory=now)
    last_seen: datetime = field(default_factory=now)
    suggested_solutions: tuple[SuggestedSolution, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_uuid(self.id, "gap id"))
        object.__setattr__(self, "category", GapCategory.parse(self.category))
        object.__setattr__(self, "severity", GapSeverity.parse(self.severity))
        object.__setattr__(self, "status", GapStatus.parse(self.status))
        if not isinstance(self.context_pattern, str):
            raise ValidationError("context_pattern must be text")
        if isinstance(self.failure_count, bool) or int(self.failure_count) < 0:
            raise ValidationError(f"failure_count must be >= 0, got {self.failure_count}")
        object.__setattr__(self, "failure_count", int(self.failure_count))
        object.__setattr__(self, "suggested_solutions", tuple(self.suggested_solutions))

    @classmethod
    def new(cls, category: Any, context_pattern: str, **kw: Any) -> CapabilityGap:
        """A detected gap with one failure (vibes-groove's ``CapabilityGap::new``)."""
        t = now()
        fields = {
            "severity": GapSeverity.LOW,
            "status": GapStatus.DETECTED,
            "failure_count": 1,
            "first_seen": t,
            "last_seen": t,
        } | kw
        return cls(new_id(), category, context_pattern=context_pattern, **fields)

    def with_(self, **changes: Any) -> CapabilityGap:
        return replace(self, **changes)

    @property
    def context_hash(self) -> int | None:
        """The fingerprint hash named by a ``context:<u64>`` pattern (the form vibes-groove's
        gap detector writes, ``format!("context:{}", context_hash)``), else None."""
        m = _CONTEXT_PATTERN.match(self.context_pattern.strip())
        if m is None:
            return None
        value = int(m.group(1))
        return value if value < U64 else None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "category": self.category.serde,
            "severity": self.severity.serde,
            "status": self.status.serde,
            "context_pattern": self.context_pattern,
            "failure_count": self.failure_count,
            "first_seen": to_rfc3339(self.first_seen),
            "last_seen": to_rfc3339(self.last_seen),
            "suggested_solutions": [s.to_json() for s in self.suggested_solutions],
        }

    @classmethod
    def from_json(cls, data: Any) -> CapabilityGap:
        what = "capability gap"
        return cls(
            id=require(data, "id", str, what),
            category=require(data, "category", str, what),
            severity=require(data, "severity", str, what),
            status=require(data, "status", str, what),
            context_pattern=require(data, "context_pattern", str, what),
            failure_count=require(data, "failure_count", int, what),
            first_seen=from_rfc3339(require(data, "first_seen", str, what)),
            last_seen=from_rfc3339(require(data, "last_seen", str, what)),
            suggested_solutions=tuple(
                SuggestedSolution.from_json(s) for s in data.get("suggested_solutions") or []
            ),
        )


@dataclass(frozen=True)
class GapChange:
    """One entry of a gap's history (relation ``gap_history``): who changed what when.

    ``action`` is ``created``, ``status`` or ``solutions``; ``old_status``/``new_status``
    are set for status changes; ``note`` is free text.
    """

    gap_id: str
    change_id: str
    at: datetime
    who: str
    action: str
    old_status: GapStatus | None
    new_status: GapStatus | None
    note: str = ""


# ---------------------------------------------------------------- failures
@dataclass(frozen=True)
class FailureRecord:
    """A failure that points at a gap (relation ``failure_record``)."""

    id: str
    session_id: str
    failure_type: FailureType
    context_hash: int
    learning_ids: tuple[str, ...] = ()
    timestamp: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_uuid(self.id, "failure id"))
        if not isinstance(self.session_id, str) or not self.session_id:
            raise ValidationError("session_id must be non-empty text")
        object.__setattr__(self, "failure_type", FailureType.parse(self.failure_type))
        object.__setattr__(self, "context_hash", check_hash(self.context_hash, "context_hash"))
        object.__setattr__(
            self, "learning_ids", tuple(check_uuid(i, "learning id") for i in self.learning_ids)
        )

    @classmethod
    def new(
        cls,
        session_id: str,
        failure_type: Any,
        context_hash: int,
        learning_ids: Any = (),
        timestamp: datetime | None = None,
    ) -> FailureRecord:
        return cls(
            new_id(),
            session_id,
            failure_type,
            context_hash,
            tuple(learning_ids),
            timestamp or now(),
        )

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "failure_type": self.failure_type.serde,
            "context_hash": self.context_hash,
            "learning_ids": list(self.learning_ids),
            "timestamp": to_rfc3339(self.timestamp),
        }

    @classmethod
    def from_json(cls, data: Any) -> FailureRecord:
        what = "failure record"
        return cls(
            id=require(data, "id", str, what),
            session_id=require(data, "session_id", str, what),
            failure_type=require(data, "failure_type", str, what),
            context_hash=require(data, "context_hash", object, what),  # u64, see __post_init__
            learning_ids=tuple(require(data, "learning_ids", list, what)),
            timestamp=from_rfc3339(require(data, "timestamp", str, what)),
        )


# ---------------------------------------------------------------- events
#: Variants of vibes-groove's ``OpenWorldEvent``; the ``event_type`` column holds the
#: snake_case form (``novelty_detected``, ...).
EVENT_VARIANTS = (
    "NoveltyDetected",
    "ClusterUpdated",
    "GapCreated",
    "GapStatusChanged",
    "SolutionGenerated",
    "StrategyFeedback",
)
EVENT_TYPES = tuple(_snake(v) for v in EVENT_VARIANTS)


@dataclass(frozen=True)
class OpenWorldEvent:
    """One open-world event (relation ``novelty_event``).

    ``variant`` is the serde variant (``GapStatusChanged``), ``data`` its fields as serde
    writes them; ``event_type`` (the column) is the variant in snake_case. Unknown
    variants written by a newer vibes-groove are kept as they are.
    """

    id: str
    variant: str
    data: dict = field(default_factory=dict)
    timestamp: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_uuid(self.id, "event id"))
        if not isinstance(self.variant, str) or not self.variant:
            raise ValidationError("event variant must be non-empty text")
        if self.variant[0].islower():  # given as event_type
            object.__setattr__(self, "variant", _pascal(self.variant))
        if not isinstance(self.data, dict):
            raise ValidationError("event data must be a JSON object")

    @property
    def event_type(self) -> str:
        return _snake(self.variant)

    @classmethod
    def new(cls, variant: str, data: dict, timestamp: datetime | None = None) -> OpenWorldEvent:
        return cls(new_id(), variant, dict(data), timestamp or now())

    @classmethod
    def novelty_detected(
        cls,
        fp: PatternFingerprint,
        cluster_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> OpenWorldEvent:
        return cls.new(
            "NoveltyDetected",
            {"fingerprint": fp.to_json(), "cluster": cluster_id},
            timestamp or fp.created_at,
        )

    @classmethod
    def gap_created(cls, gap: CapabilityGap, timestamp: datetime | None = None) -> OpenWorldEvent:
        return cls.new("GapCreated", {"gap": gap.to_json()}, timestamp or gap.first_seen)

    @classmethod
    def gap_status_changed(
        cls, gap_id: str, old: GapStatus, new: GapStatus, timestamp: datetime | None = None
    ) -> OpenWorldEvent:
        return cls.new(
            "GapStatusChanged",
            {
                "gap_id": gap_id,
                "old": GapStatus.parse(old).serde,
                "new": GapStatus.parse(new).serde,
            },
            timestamp,
        )

    @classmethod
    def solution_generated(
        cls, gap_id: str, solution: SuggestedSolution, timestamp: datetime | None = None
    ) -> OpenWorldEvent:
        return cls.new(
            "SolutionGenerated", {"gap_id": gap_id, "solution": solution.to_json()}, timestamp
        )

    def to_json(self) -> dict:
        """``event_data_json``: the externally tagged enum."""
        return {self.variant: self.data}

    @classmethod
    def from_json(
        cls,
        data: Any,
        *,
        id: str | None = None,  # noqa: A002
        timestamp: datetime | None = None,
    ) -> OpenWorldEvent:
        variant, payload = tagged(data)
        if payload is not None and not isinstance(payload, dict):
            payload = {"value": payload}
        return cls(id or new_id(), variant, dict(payload or {}), timestamp or now())

    def summary(self) -> str:
        """One line for people."""
        d = self.data
        if self.variant == "NoveltyDetected":
            fp = d.get("fingerprint") or {}
            where = f" (cluster {str(d['cluster'])[-8:]})" if d.get("cluster") else ""
            return f"Novel context: {fp.get('context_summary', '?')}{where}"
        if self.variant == "ClusterUpdated":
            c = d.get("cluster") or {}
            n = len(c.get("members") or [])
            return f"Cluster {str(c.get('id', '?'))[-8:]} updated ({n} members)"
        if self.variant == "GapCreated":
            g = d.get("gap") or {}
            cat = _snake(str(g.get("category", "?"))).replace("_", " ")
            return f"Gap created: {g.get('context_pattern', '?')} ({cat})"
        if self.variant == "GapStatusChanged":
            old = _snake(str(d.get("old", "?"))).replace("_", " ")
            new = _snake(str(d.get("new", "?"))).replace("_", " ")
            return f"Gap {str(d.get('gap_id', '?'))[-8:]}: {old} -> {new}"
        if self.variant == "SolutionGenerated":
            try:
                text = SuggestedSolution.from_json(d.get("solution")).action.describe()
            except ValidationError:
                text = "?"
            return f"Solution for gap {str(d.get('gap_id', '?'))[-8:]}: {text}"
        if self.variant == "StrategyFeedback":
            return (
                f"Strategy feedback for learning {str(d.get('learning_id', '?'))[-8:]}: "
                f"{d.get('adjustment', 0):+g}"
            )
        return f"{self.variant}: {json.dumps(d)[:120]}"


__all__ = [
    "EVENT_TYPES",
    "EVENT_VARIANTS",
    "GAP_WORKFLOW",
    "AnomalyCluster",
    "CapabilityGap",
    "FailureRecord",
    "FailureType",
    "GapCategory",
    "GapChange",
    "GapSeverity",
    "GapStatus",
    "OpenWorldEvent",
    "PatternFingerprint",
    "SolutionAction",
    "SolutionSource",
    "SuggestedSolution",
    "check_hash",
    "context_hash",
    "dumps",
    "f32_text",
    "f32_values",
    "hash_from_db",
    "hash_to_db",
    "parse_vector_json",
    "solutions_from_json",
    "solutions_to_json",
    "vector_json",
]
