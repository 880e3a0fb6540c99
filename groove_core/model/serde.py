"""Helpers for the JSON forms Rust's serde writes by default (docs/architecture.md#serde-json).

- timestamps: RFC 3339 strings in UTC as chrono writes them (``2024-01-02T03:04:05.123Z``);
- enums: externally tagged (``"UserCreated"`` or ``{"Transcript": {...}}``);
- Cozo rows keep timestamps as Unix seconds (``Int``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.values import check_float, check_int, check_text


def new_id() -> str:
    """A new UUID v7 (time-ordered) as a hyphenated lowercase string."""
    import uuid6  # 20 ms of importlib.metadata: only when an id is made

    return str(uuid6.uuid7())


def check_uuid(value: Any, what: str = "id") -> str:
    """Return ``value`` as a canonical hyphenated UUID string; ValidationError if it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as err:
        raise ValidationError(f"{what} is not a UUID: {value!r:.80}") from err


def now() -> datetime:
    """The current time in UTC, truncated to whole seconds (what Cozo rows can keep)."""
    return datetime.now(UTC).replace(microsecond=0)


def to_rfc3339(dt: datetime) -> str:
    """Format like chrono's ``to_rfc3339_opts(SecondsFormat::AutoSi, true)`` (serde's default)."""
    dt = dt.astimezone(UTC)
    base = dt.replace(tzinfo=None, microsecond=0).isoformat()  # 0001-01-01T00:00:00
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
        raise ValidationError(f"{what} must be an RFC 3339 string, got {value!r:.80}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValidationError(f"{what} is not RFC 3339: {value!r:.80}") from err
    if dt.tzinfo is None:
        raise ValidationError(f"{what} has no UTC offset: {value!r:.80}")
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            f"{what} {value!r:.80} is outside the years 1 to 9999 (UTC) that groove can store"
        ) from None


def to_unix(dt: datetime) -> int:
    """Unix seconds (``Int``) of an aware datetime."""
    return int(dt.timestamp())


def from_unix(seconds: int | float) -> datetime:
    """Aware UTC datetime from Unix seconds.

    Raises:
        ValidationError: the value is not a number or lies outside the years 1-9999.
    """
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        raise ValidationError(
            f"{seconds!r:.40} is not a time groove can read (Unix seconds, years 1-9999)"
        ) from None


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
    raise ValidationError(f"expected an externally tagged enum, got {value!r:.80}")


def require(mapping: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``mapping[key]`` checked to be of ``kind``; ValidationError naming ``what`` otherwise.

    ``str``, ``int`` and ``float`` values must also be storable exactly
    (:mod:`groove_core.model.values`): valid Unicode text, a 64-bit integer, a finite
    double (an integer only when a double holds it exactly)."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise ValidationError(f"{what}: missing field '{key}'")
    value = mapping[key]
    label = f"{what}: field '{key}'"
    if kind is float:
        return check_float(value, label)
    if kind is int:
        return check_int(value, label)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValidationError(f"{label} has the wrong type ({value!r:.80})")
    if kind is str:
        check_text(value, label)
    return value
