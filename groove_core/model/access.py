"""Who acts on a tier and what they may do: principals, roles and the write actions.

This module is the one definition of the access vocabulary (see ``docs/architecture.md``,
"Security model"):

- a :class:`Principal` is the actor of every write: a stable ``id`` (an email for people
  signed in through OpenID Connect or named in ``config.toml``; the OS login name
  otherwise), a display ``name`` and ``via``, how the identity was established;
- a :class:`Role` is stored per tier (relation ``tier_role``): ``reader`` <
  ``contributor`` < ``curator`` < ``admin``;
- an :class:`Action` names a kind of write; :data:`REQUIRED_ROLE` gives the least role
  that may perform it directly. In an enterprise tier a contributor's learning changes
  become proposals that a curator other than the author approves.
"""

from __future__ import annotations

import os
import pwd
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from groove_core.errors import ValidationError

#: How a principal's identity was established.
VIA = ("os", "config", "oidc")
#: Identities established on this machine (the OS account, or config.toml it owns).
LOCAL_VIA = ("os", "config")

_ID_RE = re.compile(r"^[^\s\x00-\x1f\x7f-\x9f]{1,254}$")


@dataclass(frozen=True)
class Principal:
    """Who performs a write.

    Attributes:
        id: stable identifier: an email (``alice@example.com``) or an OS login (``alice``);
            1-254 characters, no white space or control characters.
        name: display name (defaults to the id).
        via: ``os`` (the OS account running the process), ``config`` (``[identity]`` in
            ``config.toml``) or ``oidc`` (signed in to the dashboard through OpenID Connect).

    Raises:
        ValidationError: an empty or malformed id, a ``via`` not in :data:`VIA`.
    """

    id: str
    name: str = ""
    via: str = "os"

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ValidationError(
                f"a principal id must be 1-254 characters without spaces, got {self.id!r}"
            )
        if self.via not in VIA:
            raise ValidationError(f"unknown identity source {self.via!r} (use {', '.join(VIA)})")
        name = self.name if isinstance(self.name, str) and self.name.strip() else self.id
        name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
        object.__setattr__(self, "name", " ".join(name.split())[:200] or self.id)

    @property
    def is_local(self) -> bool:
        """True for identities of this machine's account (``os`` or ``config``)."""
        return self.via in LOCAL_VIA

    def __str__(self) -> str:
        return self.id if self.name == self.id else f"{self.name} <{self.id}>"

    def to_json(self) -> dict[str, str]:
        """``{"id", "name", "via"}``."""
        return {"id": self.id, "name": self.name, "via": self.via}

    @classmethod
    def from_json(cls, data: Any) -> Principal:
        """Inverse of :meth:`to_json`. Raises ValidationError for a malformed value."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValidationError(f"not a principal: {data!r}")
        return cls(data["id"], data.get("name") or "", data.get("via") or "os")


def os_principal() -> Principal:
    """The OS account running this process, read from the password database by uid.

    Environment variables such as ``USER`` or ``LOGNAME`` are not consulted: they are set
    by whoever starts the process, so ``USER=security-team groove edit ...`` still acts as
    the real account.
    """
    try:
        entry = pwd.getpwuid(os.getuid())
        login, gecos = entry.pw_name, entry.pw_gecos.split(",")[0]
    except KeyError:  # a uid with no passwd entry (some containers)
        login, gecos = f"uid{os.getuid()}", ""
    return Principal(login, gecos or login, "os")


class Role(IntEnum):
    """A principal's role in one tier; a higher role may do everything a lower one may."""

    reader = 1
    contributor = 2
    curator = 3
    admin = 4

    @classmethod
    def parse(cls, value: Any) -> Role:
        """``Role`` from its name (``"curator"``) or itself.

        Raises: ValidationError naming the roles.
        """
        if isinstance(value, Role):
            return value
        try:
            return cls[str(value).strip().lower()]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise ValidationError(f"unknown role {value!r} (use one of {names})") from None


class Action(StrEnum):
    """Every kind of write, as recorded in the audit log's ``action`` column."""

    learning_create = "learning.create"
    learning_import = "learning.import"
    learning_edit = "learning.edit"
    learning_delete = "learning.delete"
    learning_restore = "learning.restore"
    learning_promote = "learning.promote"
    learning_status = "learning.status"
    learning_reembed = "learning.reembed"
    learning_scan = "learning.scan"
    usage_record = "usage.record"
    relation_write = "relation.write"
    relation_remove = "relation.remove"
    param_write = "param.write"
    attribution_write = "attribution.write"
    experiment_write = "experiment.write"
    openworld_observe = "openworld.observe"
    openworld_curate = "openworld.curate"
    access_grant = "access.grant"
    access_revoke = "access.revoke"
    proposal_file = "proposal.file"
    proposal_withdraw = "proposal.withdraw"
    proposal_approve = "proposal.approve"
    proposal_reject = "proposal.reject"
    proposal_request_changes = "proposal.request_changes"
    scan_override = "scan.override"
    tier_migrate = "tier.migrate"
    tier_rollback = "tier.rollback"
    tier_restore = "tier.restore"


#: The least role that may perform an action directly (enterprise tiers and, for
#: principals from elsewhere, user and project tiers). Recording evidence of use
#: (outcomes, attribution, open-world observations) and filing proposals is what every
#: contributor's assistant does; changing what the tier teaches is a curator's job;
#: roles are an admin's. Migrations up run when any principal opens a tier (recorded, not
#: checked); rolling a tier's schema back drops data, an admin's act; restoring a backup
#: needs an empty tier.
REQUIRED_ROLE: dict[Action, Role | None] = {
    Action.learning_create: Role.curator,
    Action.learning_import: Role.curator,
    Action.learning_edit: Role.curator,
    Action.learning_delete: Role.curator,
    Action.learning_restore: Role.curator,
    Action.learning_promote: Role.curator,
    Action.learning_status: Role.curator,
    Action.learning_reembed: Role.curator,
    Action.learning_scan: Role.curator,
    Action.usage_record: Role.contributor,
    Action.relation_write: Role.curator,
    Action.relation_remove: Role.curator,
    Action.param_write: Role.curator,
    Action.attribution_write: Role.contributor,
    Action.experiment_write: Role.curator,
    Action.openworld_observe: Role.contributor,
    Action.openworld_curate: Role.curator,
    Action.access_grant: Role.admin,
    Action.access_revoke: Role.admin,
    Action.proposal_file: Role.contributor,
    Action.proposal_withdraw: Role.contributor,
    Action.proposal_approve: Role.curator,
    Action.proposal_reject: Role.curator,
    Action.proposal_request_changes: Role.curator,
    Action.scan_override: Role.curator,
    Action.tier_migrate: None,
    Action.tier_rollback: Role.admin,
    Action.tier_restore: None,
}

#: Learning changes that a contributor files as a proposal in an enterprise tier.
PROPOSABLE = (
    Action.learning_create,
    Action.learning_import,
    Action.learning_edit,
    Action.learning_delete,
    Action.learning_promote,
)


@dataclass(frozen=True)
class AuditEntry:
    """One entry of a tier's audit log (relation ``audit_log``).

    Attributes:
        seq: 1, 2, 3, ... in commit order.
        at: aware UTC datetime of the write.
        principal / principal_name / via: who wrote (see :class:`Principal`).
        action: an :class:`Action` value (``learning.edit``, ...).
        target: what was written (a learning id, a principal, ``tier``, ...).
        before_hash / after_hash: SHA-256 (hex) of the canonical JSON of the rows before
            and after the write (None when there was nothing before or after).
        detail: small JSON-able dict (counts, the proposal id, a reason, ...) or None.
        prev_hash: ``hash`` of entry ``seq - 1`` (64 zeros for the first entry).
        hash: SHA-256 of this entry's other fields (see :func:`groove_core.store.audit.entry_hash`).
    """

    seq: int
    at: Any
    principal: str
    principal_name: str
    via: str
    action: str
    target: str
    before_hash: str | None
    after_hash: str | None
    detail: dict | None
    prev_hash: str
    hash: str

    def to_json(self) -> dict:
        """Flat dict for ``--json`` output (time as RFC 3339)."""
        from groove_core.model.serde import to_rfc3339

        return {
            "seq": self.seq,
            "at": to_rfc3339(self.at),
            "principal": self.principal,
            "principal_name": self.principal_name,
            "via": self.via,
            "action": self.action,
            "target": self.target,
            "before_hash": self.before_hash,
            "after_hash": self.after_hash,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Grant:
    """A principal's role in a tier (relation ``tier_role``), who granted it and when."""

    principal: str
    name: str
    role: Role
    granted_at: Any
    granted_by: str

    def to_json(self) -> dict:
        """Flat dict for ``--json`` output."""
        from groove_core.model.serde import to_rfc3339

        return {
            "principal": self.principal,
            "name": self.name,
            "role": self.role.name,
            "granted_at": to_rfc3339(self.granted_at),
            "granted_by": self.granted_by,
        }


__all__ = [
    "LOCAL_VIA",
    "PROPOSABLE",
    "REQUIRED_ROLE",
    "VIA",
    "Action",
    "AuditEntry",
    "Grant",
    "Principal",
    "Role",
    "os_principal",
]
