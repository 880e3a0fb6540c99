"""Values groove can store exactly: the one check every user-facing value passes.

Every string, number and JSON value that reaches a tier from a person or a file (model
constructors, ``from_json``, search text, tier names, CLI arguments) goes through these
functions, which either return it unchanged or raise :class:`ValidationError` with a
message that names the value and says why. Nothing is clamped or repaired.

What "stored exactly" means here:

- text: a Cozo ``String`` is a Rust ``String``, always valid Unicode, so a lone surrogate
  (U+D800..U+DFFF; Python also uses U+DC80..U+DCFF for bytes that were not valid UTF-8)
  cannot be stored. NUL and other control characters can be, except in names that become
  TOML keys and file names (tier names), which refuse control and format characters
  (Unicode categories Cc and Cf: NUL, DEL, bidirectional overrides, ...).
- integers: Cozo's ``Int`` is a signed 64-bit integer (it saturates larger values, so a
  usage count of 10**30 would silently become 2**63-1); fields the data contract types
  more narrowly (usage counts are ``u32`` in vibes-groove's ``UsageStats``) are bounded by
  that type.
- floats: Cozo's ``Float`` and serde's ``f64`` hold finite IEEE 754 doubles; an integer is
  accepted as a float only when the double holds it exactly, and infinities and NaN
  (which Python's json reads from ``1e400``, ``Infinity`` and ``NaN``) are refused.
- JSON values (a learning's ``pattern``): vibes-groove reads them with serde_json, whose
  default recursion limit is 128 nested arrays or objects, and an export file nests a
  pattern 4 levels deep, so patterns may nest :data:`MAX_JSON_DEPTH` levels; their
  integers must fit serde_json's ``i64``/``u64`` and their floats must be finite.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from groove_core.errors import ValidationError

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
MAX_JSON_DEPTH = 100
_ESCAPED_BYTES = range(0xDC80, 0xDD00)  # what surrogateescape makes of undecodable bytes


def describe_char(ch: str) -> str:
    """``U+007F (DEL)``-style label of one character for messages."""
    code = ord(ch)
    if code in _ESCAPED_BYTES:
        return f"the byte 0x{code - 0xDC00:02X} (not valid UTF-8)"
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X}"
    name = unicodedata.name(ch, "") or {0: "NUL", 0x7F: "DEL"}.get(code, "control character")
    return f"U+{code:04X} ({name})"


#: Control characters (Unicode Cc) but tab, newline and carriage return: refused in what a
#: learning stores and in rule files.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_controls(value: Any, what: str) -> None:
    """Refuse control characters other than tab, newline and carriage return in text a
    learning stores (every string of a JSON value too): a terminal listing it would run
    an escape sequence (``ESC ] 0;``...) and a NUL cuts it short. Rule files are refused
    for the same characters (:mod:`groove_core.io.rules`).

    Raises: ValidationError naming the character and its position."""
    if isinstance(value, str):
        found = CONTROLS.search(value)
        if found:
            raise ValidationError(
                f"{what} contains {describe_char(found.group())} at character "
                f"{found.start() + 1}: control characters are not stored (a terminal "
                "showing it would run them)"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_controls(key, f"a key of {what}")
            check_controls(item, f"{what}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_controls(item, f"{what}[{i}]")


def check_text(value: Any, what: str, *, max_chars: int | None = None, name: bool = False) -> str:
    """Return ``value`` if it is text groove can store exactly.

    Args:
        value: the candidate (must be a ``str``).
        what: how messages name it (``description``, ``tier name``, ...).
        max_chars: longest allowed length in characters, or None for no limit.
        name: also refuse control and format characters (Unicode Cc and Cf), for names
            that become TOML keys and file names.

    Raises:
        ValidationError: not a string, too long, a lone surrogate or undecodable byte,
            or (``name``) a control or format character; the message gives its position.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, got {type(value).__name__}")
    if max_chars is not None and len(value) > max_chars:
        raise ValidationError(
            f"{what} is {len(value):,} characters long; the limit is {max_chars:,}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValidationError(
            f"{what} contains {describe_char(value[err.start])} at character "
            f"{err.start + 1}: it is not valid Unicode text, so it cannot be stored"
        ) from None
    if name:
        for i, ch in enumerate(value):
            if unicodedata.category(ch) in ("Cc", "Cf"):
                raise ValidationError(
                    f"{what} contains the control character {describe_char(ch)} at "
                    f"character {i + 1}; use printable characters only"
                )
    return value


def check_int(value: Any, what: str, *, lo: int = I64_MIN, hi: int = I64_MAX) -> int:
    """Return ``value`` if it is an integer (not a bool) in ``[lo, hi]``.

    Raises:
        ValidationError: not an integer, or outside the range (the message gives it).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an integer, got {_short(value)}")
    if not lo <= value <= hi:
        raise ValidationError(
            f"{what} is {_short(value)}, outside the range groove can store exactly "
            f"({lo} to {hi}); it was not clamped"
        )
    return value


def check_float(value: Any, what: str) -> float:
    """Return ``value`` as a finite float; integers only when a double holds them exactly.

    Raises:
        ValidationError: not a number, not finite, or an integer a double cannot hold.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{what} must be a number, got {_short(value)}")
    if isinstance(value, int):
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if as_float != value:
            raise ValidationError(
                f"{what} is {_short(value)}, which a 64-bit float cannot hold exactly"
            )
        return as_float
    if not math.isfinite(value):
        raise ValidationError(
            f"{what} must be a finite number, got {value!r} (a number too large for a "
            "64-bit float reads as infinity)"
        )
    return value


def check_json(value: Any, what: str, *, depth: int = MAX_JSON_DEPTH) -> Any:
    """Return ``value`` if it is a JSON value vibes-groove's serde_json reads back exactly:
    text as :func:`check_text`, integers within ``i64``/``u64``, finite floats, object
    keys that are strings, at most ``depth`` nested arrays/objects.

    Raises:
        ValidationError: naming the path of the first offending element.
    """
    stack: list[tuple[Any, str, int]] = [(value, what, 0)]
    while stack:
        item, where, level = stack.pop()
        if isinstance(item, dict | list):
            if level >= depth:
                raise ValidationError(f"{what} nests more than {depth} arrays or objects")
            if isinstance(item, dict):
                for key, sub in item.items():
                    if not isinstance(key, str):
                        raise ValidationError(f"{where} has a key that is not text: {key!r}")
                    check_text(key, f"a key of {where}")
                    stack.append((sub, f"{where}.{key}", level + 1))
            else:
                stack.extend((sub, f"{where}[{i}]", level + 1) for i, sub in enumerate(item))
        elif isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            check_int(item, where, lo=I64_MIN, hi=U64_MAX)
        elif isinstance(item, float):
            check_float(item, where)
        else:
            raise ValidationError(f"{where} is not a JSON value ({type(item).__name__})")
    return value


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**40 else None
    if text is None:
        digits = len(str(abs(value))) if value.bit_length() < 14_000 else None
        return f"an integer of {digits} digits" if digits else "an enormous integer"
    return text if len(text) <= 60 else text[:57] + "..."
