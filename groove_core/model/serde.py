"""Helpers for the JSON forms Rust's serde writes by default (see DESIGN.md, data contract).

- timestamps: RFC 3339 strings in UTC as chrono writes them (``2024-01-02T03:04:05.123Z``);
- enums: externally tagged (``"UserCreated"`` or ``{"Transcript": {...}}``);
- Cozo rows keep timestamps as Unix seconds (``Int``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from groove_core.errors import ValidationError


def new_id() -> str:
    """A new UUID v7 (time-ordered) as a hyphenated lowercase string."""
    import uuid6  # 20 ms of importlib.metadata: only when an id is made

    return str(uuid6.uuid7())


def check_uuid(value: Any, what: str = "id") -> str:
    """Return ``value`` as a canonical hyphenated UUID string; ValidationError if it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as err:
        raise ValidationError(f"{what} is not a UUID: {value!r}") from err


def now() -> datetime:
    """The current time in UTC, truncated to whole seconds (what Cozo rows can keep)."""
    return datetime.now(UTC).replace(microsecond=0)


def to_rfc3339(dt: datetime) -> str:
    """Format like chrono's ``to_rfc3339_opts(SecondsFormat::AutoSi, true)`` (serde's default)."""
    dt = dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    micros = dt.microsecond
    if micros == 0:
        frac = ""
    elif micros % 1000 == 0:
        frac = f".{micros // 1000:03d}"
    else:
        frac = f".{micros:06d}"
    return f"{base}{frac}Z"


def from_rfc3339(value: Any, what: str = "timestamp") -> datetime:
    """Parse an RFC 3339 timestamp (any offset, up to nanoseconds) into an aware UTC datetime.

    Raises:
        ValidationError: the value is not a string in RFC 3339 form.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be an RFC 3339 string, got {value!r}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValidationError(f"{what} is not RFC 3339: {value!r}") from err
    if dt.tzinfo is None:
        raise ValidationError(f"{what} has no UTC offset: {value!r}")
    return dt.astimezone(UTC)


def to_unix(dt: datetime) -> int:
    """Unix seconds (``Int``) of an aware datetime."""
    return int(dt.timestamp())


def from_unix(seconds: int | float) -> datetime:
    """Aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(int(seconds), UTC)


def tagged(value: Any) -> tuple[str, Any]:
    """Split an externally tagged serde enum into ``(variant, payload)``.

    ``"UserCreated"`` gives ``("UserCreated", None)``; ``{"User": "alex"}`` gives
    ``("User", "alex")``. Raises ValidationError for any other shape.
    """
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and len(value) == 1:
        ((variant, payload),) = value.items()
        return variant, payload
    raise ValidationError(f"expected an externally tagged enum, got {value!r}")


def require(mapping: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``mapping[key]`` checked to be of ``kind``; ValidationError naming ``what`` otherwise."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise ValidationError(f"{what}: missing field '{key}'")
    value = mapping[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValidationError(f"{what}: field '{key}' has the wrong type ({value!r})")
    return value
