"""Roles of one tier (relation ``tier_role``): who may read, contribute, curate, administer.

Granting and revoking are writes like any other: they need the admin role, and they are
recorded in the audit log in the same transaction. An admin cannot remove the last admin
(the tier would have nobody able to grant roles again).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from groove_core.errors import DatabaseError, ValidationError
from groove_core.model.access import Action, Grant, Principal, Role
from groove_core.model.serde import from_unix, now, to_unix
from groove_core.store.engine import Engine
from groove_core.store.writer import ADMINS, TierWriter

_COLS = "principal, role, name, granted_at, granted_by"
_PUT = f"?[{_COLS}] <- $grant :put tier_role {{principal => role, name, granted_at, granted_by}}"
#: Last statement of a grant or revoke: an admin remains (in the same transaction, so two
#: admins revoking each other at once cannot both succeed).
_AN_ADMIN_LEFT = f"{ADMINS} :assert some"
#: First statement of a first admin's grant: still no admin.
_NO_ADMIN = f"{ADMINS} :assert none"


class AccessStore:
    """List, grant and revoke roles in one tier.

    Args:
        db: the tier's open engine (schema version 8 or later).
        writer: the tier's :class:`TierWriter`.
    """

    def __init__(self, db: Engine, writer: TierWriter):
        self.db = db
        self.writer = writer

    def grants(self) -> list[Grant]:
        """Every stored role, highest role first, then by principal."""
        res = self.db.run(f"?[{_COLS}] := *tier_role{{{_COLS}}}", read_only=True)
        out = [
            Grant(p, name, Role.parse(role), from_unix(at), by)
            for p, role, name, at, by in res.rows
        ]
        return sorted(out, key=lambda g: (-g.role, g.principal))

    def role_of(self, principal: Principal | None = None) -> Role | None:
        """The role of ``principal`` (default: the tier's actor) here, or None."""
        return self.writer.role_of(principal)

    def grant(
        self,
        principal: str | Principal,
        role: Role | str,
        *,
        name: str = "",
        actor: Principal | None = None,
    ) -> Grant:
        """Give ``principal`` (an id such as an email, or a :class:`Principal`) ``role``
        here, replacing the role it had.

        Raises:
            PermissionDeniedError: the actor is not an admin of this tier.
            ValidationError: a malformed principal id or role, or demoting the last admin.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.access_grant, actor)
        who = principal if isinstance(principal, Principal) else Principal(str(principal), name)
        role = Role.parse(role)
        before = self._grant_of(who.id)
        demoting = before is not None and before.role == Role.admin and role != Role.admin
        if demoting:
            self._keep_an_admin(who.id)
        row = [who.id, role.name, who.name, to_unix(now()), actor.id]
        with self._keeping_an_admin(who.id):
            self.writer.write(
                Action.access_grant,
                who.id,
                [_PUT, *([_AN_ADMIN_LEFT] if demoting else [])],
                {"grant": [row], "admin": Role.admin.name},
                actor=actor,
                before=before.to_json() if before else None,
                after=dict(zip(_COLS.split(", "), row, strict=True)),
                detail={"role": role.name},
            )
        return Grant(who.id, who.name, role, from_unix(row[3]), actor.id)

    def revoke(self, principal: str | Principal, *, actor: Principal | None = None) -> bool:
        """Remove ``principal``'s role here. Returns False when it had none.

        Raises:
            PermissionDeniedError: the actor is not an admin of this tier.
            ValidationError: removing the last admin.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.access_revoke, actor)
        pid = principal.id if isinstance(principal, Principal) else str(principal)
        before = self._grant_of(pid)
        if before is None:
            return False
        admin = before.role == Role.admin
        if admin:
            self._keep_an_admin(pid)
        with self._keeping_an_admin(pid):
            self.writer.write(
                Action.access_revoke,
                pid,
                ["?[principal] <- [[$p]] :rm tier_role {principal}"]
                + ([_AN_ADMIN_LEFT] if admin else []),
                {"p": pid, "admin": Role.admin.name},
                actor=actor,
                before=before.to_json(),
            )
        return True

    def bootstrap(self, admin: Principal) -> Grant:
        """Make ``admin`` the first admin of a tier that has no admin yet (the principal
        that creates an enterprise tier, or the curator who claims an older one with
        ``groove access claim``). Recorded in the audit log (``detail.first_admin``).

        Raises: ValidationError when the tier is not an enterprise tier (user and project
            tiers belong to their owner) or already has an admin.
        """
        if self.writer.kind != "enterprise":
            raise ValidationError(
                f"tier '{self.writer.tier}' belongs to its owner: only an enterprise tier "
                "gets a first admin"
            )
        if self.writer.has_admin():
            raise ValidationError(f"tier '{self.writer.tier}' already has an admin")
        row = [admin.id, Role.admin.name, admin.name, to_unix(now()), admin.id]
        self.writer.write(
            Action.access_grant,
            admin.id,
            [_NO_ADMIN, _PUT],
            {"grant": [row], "admin": Role.admin.name},
            actor=admin,
            after=dict(zip(_COLS.split(", "), row, strict=True)),
            detail={"role": "admin", "first_admin": True},
            check=False,
        )
        return Grant(admin.id, admin.name, Role.admin, from_unix(row[3]), admin.id)

    def _grant_of(self, pid: str) -> Grant | None:
        res = self.db.run(
            f"?[{_COLS}] := principal = $p, *tier_role{{{_COLS}}}", {"p": pid}, read_only=True
        )
        if not res.rows:
            return None
        p, role, name, at, by = res.rows[0]
        return Grant(p, name, Role.parse(role), from_unix(at), by)

    @contextlib.contextmanager
    def _keeping_an_admin(self, leaving: str) -> Iterator[None]:
        """Around a grant or revoke: a write refused because it would have left no admin
        (someone else changed the roles meanwhile) says so.

        Raises: ValidationError; else the DatabaseError as it was."""
        try:
            yield
        except DatabaseError:
            self._keep_an_admin(leaving)
            raise

    def _keep_an_admin(self, leaving: str) -> None:
        admins = [g.principal for g in self.grants() if g.role == Role.admin]
        if admins == [leaving]:
            raise ValidationError(
                f"{leaving} is the last admin of tier '{self.writer.tier}'; grant admin to "
                "someone else first"
            )


def backup_facts(src: str | os.PathLike) -> tuple[str | None, set[str]]:
    """What a tier backup (:meth:`Engine.backup`) says about itself: the kind it recorded
    (``tier_info``, schema 11; None before) and the principals it names as admins
    (``tier_role``; empty for a user or project tier's, or one from before schema 8).
    Read into an in-memory database; the backup is left untouched."""
    from groove_core.store.migrations import m008_access, m011_tier_info

    with Engine("backup", "mem") as db:
        db.run(m008_access.RELATIONS["tier_role"])
        db.run(m011_tier_info.UP[0])
        for relation in ("tier_role", "tier_info"):  # one the backup lacks stays empty
            with contextlib.suppress(DatabaseError):
                db.import_from_backup(src, [relation])
        recorded = m011_tier_info.recorded(db)
        res = db.run(ADMINS, {"admin": Role.admin.name}, read_only=True)
    return (recorded[0] if recorded else None), {r[0] for r in res.rows}


__all__ = ["AccessStore", "backup_facts"]
