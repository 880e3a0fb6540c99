"""Scopes: where a learning applies (docs/architecture.md#scopes), plus groove's
``enterprise:<org>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.serde import tagged
from groove_core.model.values import check_text

_KINDS = ("global", "user", "project", "enterprise")
_SERDE = {"user": "User", "project": "Project", "enterprise": "Enterprise"}


@dataclass(frozen=True, order=True)
class Scope:
    """A scope: ``Scope("global")``, ``Scope("user", "alex")``, ``Scope("project", "/repo")``
    or ``Scope("enterprise", "acme")``.

    DB strings: ``global``, ``user:<id>``, ``project:<path>``, ``enterprise:<org>``.
    serde JSON: ``"Global"``, ``{"User": "alex"}``, ``{"Project": "/repo"}``,
    ``{"Enterprise": "acme"}``.
    """

    kind: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValidationError(f"unknown scope kind {self.kind!r:.80}")
        if self.kind == "global" and self.value:
            raise ValidationError("the global scope takes no value")
        if self.kind != "global" and not self.value:
            raise ValidationError(f"a {self.kind} scope needs a value ({self.kind}:<...>)")
        check_text(self.value, f"the value of a {self.kind} scope")

    @classmethod
    def global_(cls) -> Scope:
        """The global scope."""
        return cls("global")

    def to_db(self) -> str:
        """The scope string kept in Cozo rows."""
        return "global" if self.kind == "global" else f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse a DB scope string; ValidationError for anything else."""
        if not isinstance(text, str):
            raise ValidationError(f"scope must be a string, got {text!r:.80}")
        if text == "global":
            return cls("global")
        kind, sep, value = text.partition(":")
        if not sep or kind not in _SERDE:
            raise ValidationError(
                f"invalid scope {text!r:.80}: use global, user:<id>, project:<path> or "
                "enterprise:<org>"
            )
        return cls(kind, value)

    def to_json(self) -> Any:
        """serde's externally tagged form."""
        return "Global" if self.kind == "global" else {_SERDE[self.kind]: self.value}

    @classmethod
    def from_json(cls, data: Any) -> Scope:
        """Read serde's externally tagged form; ValidationError otherwise."""
        variant, payload = tagged(data)
        if variant == "Global" and payload is None:
            return cls("global")
        for kind, name in _SERDE.items():
            if variant == name and isinstance(payload, str):
                return cls(kind, payload)
        raise ValidationError(f"invalid scope {data!r:.80}")

    def __str__(self) -> str:
        return self.to_db()
