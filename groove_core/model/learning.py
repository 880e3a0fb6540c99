"""Learnings: what groove remembers (docs/architecture.md#relations-v1,
docs/architecture.md#serde-json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.scope import Scope
from groove_core.model.serde import (
    check_uuid,
    from_rfc3339,
    new_id,
    now,
    require,
    tagged,
    to_rfc3339,
)
from groove_core.model.values import (
    U64_MAX,
    check_controls,
    check_float,
    check_int,
    check_json,
    check_text,
)

MAX_TEXT = 100_000  # characters in a description or insight


class LearningCategory(StrEnum):
    """Category of a learning; the value is the DB string, :attr:`serde` the JSON variant."""

    CODE_PATTERN = "code_pattern"
    PREFERENCE = "preference"
    SOLUTION = "solution"
    ERROR_RECOVERY = "error_recovery"
    TOOL_USAGE = "tool_usage"
    HARNESS_KNOWLEDGE = "harness_knowledge"

    @property
    def serde(self) -> str:
        """serde variant name, e.g. ``CodePattern``."""
        return "".join(part.title() for part in self.value.split("_"))

    @classmethod
    def parse(cls, text: Any) -> LearningCategory:
        """Accept the DB string (``code_pattern``) or the serde name (``CodePattern``)."""
        if isinstance(text, cls):
            return text
        try:
            return cls(text)  # the DB string: a dict lookup (rows are read by the thousand)
        except (ValueError, TypeError):
            pass
        for cat in cls:
            if text == cat.serde:
                return cat
        names = ", ".join(c.value for c in cls)
        raise ValidationError(f"unknown category {text!r:.80} (expected one of {names})")


@dataclass(frozen=True)
class LearningContent:
    """What was learned: a one-line ``description``, the actionable ``insight``, and an
    optional structured ``pattern`` (any JSON value)."""

    description: str
    insight: str
    pattern: Any = None

    def __post_init__(self) -> None:
        for name in ("description", "insight"):
            check_text(getattr(self, name), name, max_chars=MAX_TEXT)
        if not self.description.strip():
            raise ValidationError("description must not be empty")
        check_json(self.pattern, "pattern")

    def to_json(self) -> dict:
        """serde form (``pattern`` omitted when None)."""
        out: dict[str, Any] = {"description": self.description}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        out["insight"] = self.insight
        return out

    @classmethod
    def from_json(cls, data: Any) -> LearningContent:
        what = "learning content"
        return cls(
            description=require(data, "description", str, what),
            insight=require(data, "insight", str, what),
            pattern=data.get("pattern"),
        )


@dataclass(frozen=True)
class LearningSource:
    """Where a learning came from: ``kind`` is the DB ``source_type`` (``transcript``,
    ``user_created``, ``promoted``, ``imported``, ``enterprise_curated``) and
    ``data`` the variant's fields as serde writes them."""

    kind: str
    data: dict = field(default_factory=dict)

    _SERDE = {
        "transcript": "Transcript",
        "user_created": "UserCreated",
        "promoted": "Promoted",
        "imported": "Imported",
        "enterprise_curated": "EnterpriseCurated",
    }
    _FIELDS = {
        "transcript": ("session_id", "message_index"),
        "user_created": (),
        "promoted": ("from_scope", "original_id"),
        "imported": ("source_file", "imported_at"),
        "enterprise_curated": ("curator",),
    }

    def __post_init__(self) -> None:
        """Check the variant's fields as vibes-groove's ``LearningSource`` types them
        (``message_index: usize``, ``from_scope: Scope``, ``original_id: LearningId``,
        ``imported_at: DateTime<Utc>``, the rest ``String``)."""
        if self.kind not in self._FIELDS:
            raise ValidationError(f"unknown learning source {self.kind!r:.80}")
        what = f"{self._SERDE[self.kind]} source"
        if not isinstance(self.data, dict):
            raise ValidationError(f"{what} must be an object with its fields")
        unknown = set(self.data) - set(self._FIELDS[self.kind])
        if unknown:
            raise ValidationError(f"{what}: unknown fields {', '.join(sorted(unknown))}")
        for name in self._FIELDS[self.kind]:
            if name == "message_index":
                check_int(
                    require(self.data, name, object, what), f"{what}: {name}", lo=0, hi=U64_MAX
                )
            elif name == "from_scope":
                Scope.from_json(require(self.data, name, (str, dict), what))
            elif name == "original_id":
                check_uuid(require(self.data, name, str, what), f"{what}: {name}")
            elif name == "imported_at":
                from_rfc3339(require(self.data, name, str, what), f"{what}: {name}")
            else:
                require(self.data, name, str, what)

    @classmethod
    def user_created(cls) -> LearningSource:
        return cls("user_created")

    @classmethod
    def imported(cls, source_file: str, at: datetime | None = None) -> LearningSource:
        return cls("imported", {"source_file": source_file, "imported_at": to_rfc3339(at or now())})

    @classmethod
    def promoted(cls, from_scope: Scope, original_id: str) -> LearningSource:
        return cls("promoted", {"from_scope": from_scope.to_json(), "original_id": original_id})

    @classmethod
    def curated(cls, curator: str) -> LearningSource:
        return cls("enterprise_curated", {"curator": curator})

    def to_json(self) -> Any:
        """serde's externally tagged form."""
        name = self._SERDE[self.kind]
        return name if not self._FIELDS[self.kind] else {name: dict(self.data)}

    @classmethod
    def from_json(cls, data: Any) -> LearningSource:
        """Read serde's form: ``"UserCreated"`` or ``{"Imported": {...fields...}}``.

        Raises:
            ValidationError: an unknown variant, or a payload of the wrong shape.
        """
        variant, payload = tagged(data)
        for kind, name in cls._SERDE.items():
            if variant == name:
                if not cls._FIELDS[kind]:
                    if payload is not None:
                        raise ValidationError(f"the {name} source takes no fields")
                    return cls(kind)
                if not isinstance(payload, dict):
                    raise ValidationError(
                        f"the {name} source needs an object of fields "
                        f"({', '.join(cls._FIELDS[kind])}), got {payload!r:.60}"
                    )
                return cls(kind, dict(payload))
        raise ValidationError(f"unknown learning source {variant!r:.60}")

    def describe(self) -> str:
        """A short human label, e.g. ``imported from CLAUDE.md``."""
        if self.kind == "imported":
            return f"imported from {self.data['source_file']}"
        if self.kind == "promoted":
            return f"promoted from {Scope.from_json(self.data['from_scope'])}"
        if self.kind == "enterprise_curated":
            return f"curated by {self.data['curator']}"
        if self.kind == "transcript":
            return f"transcript {self.data['session_id']} #{self.data['message_index']}"
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class Learning:
    """A captured piece of knowledge (relation ``learning``).

    ``confidence`` is in [0, 1]; timestamps are aware UTC datetimes (whole seconds in Cozo).
    ``tier`` names the tier a learning was read from (not part of its JSON).
    """

    id: str
    scope: Scope
    category: LearningCategory
    content: LearningContent
    source: LearningSource
    confidence: float = 0.5
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    tier: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_uuid(self.id, "learning id"))
        if not isinstance(self.scope, Scope):
            raise ValidationError(f"scope must be a Scope, got {self.scope!r}")
        object.__setattr__(self, "category", LearningCategory.parse(self.category))
        conf = check_float(self.confidence, "confidence")
        if not 0.0 <= conf <= 1.0:
            raise ValidationError(f"confidence must be a number in [0, 1], got {conf!r}")

    @classmethod
    def new(
        cls,
        scope: Scope,
        category: LearningCategory | str,
        content: LearningContent,
        source: LearningSource,
    ) -> Learning:
        """A new learning with a UUID v7 id, confidence 0.5 and both timestamps now."""
        t = now()
        return cls(new_id(), scope, LearningCategory.parse(category), content, source, 0.5, t, t)

    @property
    def description(self) -> str:
        return self.content.description

    @property
    def insight(self) -> str:
        return self.content.insight

    def with_tier(self, tier: str) -> Learning:
        return replace(self, tier=tier)

    def check_storable(self) -> None:
        """What groove writes must hold no control character but tab, newline and
        carriage return (description, insight, pattern, source, scope): checked on every
        write, not on reading rows another program wrote.

        Raises: ValidationError naming the field, the character and its position."""
        what = f"learning {self.id}"
        check_controls(self.content.description, f"the description of {what}")
        check_controls(self.content.insight, f"the insight of {what}")
        check_controls(self.content.pattern, f"the pattern of {what}")
        check_controls(self.source.to_json(), f"the source of {what}")
        check_controls(self.scope.to_db(), f"the scope of {what}")

    def to_json(self) -> dict:
        """serde form of the Rust ``Learning`` struct."""
        return {
            "id": self.id,
            "scope": self.scope.to_json(),
            "category": self.category.serde,
            "content": self.content.to_json(),
            "confidence": self.confidence,
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
            "source": self.source.to_json(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Learning:
        """Read the serde form; ValidationError naming the bad field otherwise."""
        what = "learning"
        return cls(
            id=require(data, "id", str, what),
            scope=Scope.from_json(require(data, "scope", (str, dict), what)),
            category=LearningCategory.parse(require(data, "category", str, what)),
            content=LearningContent.from_json(require(data, "content", dict, what)),
            source=LearningSource.from_json(require(data, "source", (str, dict), what)),
            confidence=require(data, "confidence", float, what),
            created_at=from_rfc3339(require(data, "created_at", str, what), "created_at"),
            updated_at=from_rfc3339(require(data, "updated_at", str, what), "updated_at"),
        )

    def summary(self) -> dict:
        """Flat dict for tables and ``--json`` output (timestamps as RFC 3339).

        ``source`` is the source type (``"imported"``, ...) and ``source_detail`` the
        whole source as serde writes it (``{"Imported": {"source_file": ...,
        "imported_at": ...}}``, or a bare variant name such as ``"UserCreated"``)."""
        return {
            "id": self.id,
            "tier": self.tier,
            "scope": self.scope.to_db(),
            "category": self.category.value,
            "description": self.description,
            "insight": self.insight,
            "confidence": self.confidence,
            "source": self.source.kind,
            "source_detail": self.source.to_json(),
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
        }


def pattern_to_db(pattern: Any) -> str | None:
    """``pattern_json`` column value."""
    return None if pattern is None else json.dumps(pattern, ensure_ascii=False)
