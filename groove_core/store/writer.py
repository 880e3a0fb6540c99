"""The one door for writes to a tier: the actor's role is checked, and the write and its
audit-log entry run as ONE transaction.

Every store (learnings, attribution, open world, parameters, access, proposals) hands its
statements to :meth:`TierWriter.write` with the acting :class:`Principal` and an
:class:`Action`. The writer

1. refuses the write with :class:`PermissionDeniedError` when the actor's role in the
   tier is below :data:`groove_core.model.access.REQUIRED_ROLE` (nothing is written): the
   role is asserted inside the write's transaction, not only read before it;
2. appends the audit entry (see :mod:`groove_core.store.audit`) to the same chained Cozo
   program, guarded by an assertion that the log's head is still the one it read, so two
   processes can never give out the same sequence number: the loser's whole transaction
   fails, and it reads the new head and tries again.

Roles: in an enterprise tier every principal needs a role (``tier_role``); user and
project tiers belong to their owner, so a principal of this machine (``via`` os or config)
acts as their admin and others need a role there too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from groove_core.errors import DatabaseError, PermissionDeniedError, TierBusyError
from groove_core.model.access import REQUIRED_ROLE, Action, Principal, Role
from groove_core.model.serde import now
from groove_core.store.audit import (
    ADVANCE_HEAD,
    ASSERT_NO_HEAD,
    AUDIT_COLS,
    GENESIS,
    INSERT_ENTRIES,
    PUT_HEAD,
    AuditLog,
    seal,
)
from groove_core.store.engine import Engine, Result

#: Tier kinds whose owner (a principal of this machine) acts as admin.
OWNED_KINDS = ("user", "project", "simulation")
#: First statement of a write whose actor's role comes from ``tier_role``: the role is
#: checked in the write's own transaction, so a role revoked after the caller checked it
#: (another process, a retry after a conflict) refuses the write.
ROLE_GUARD = (
    "?[role] := *tier_role{principal: $audit_actor, role}, role in $audit_roles :assert some"
)
#: The principals holding the admin role (``$admin`` bound to ``Role.admin.name``); the
#: access store asserts on it (an admin remains, none yet).
ADMINS = "?[p] := *tier_role{principal: p, role}, role = $admin"
_MAX_CONFLICTS = 200
_UNKNOWN = object()


def target(keys: Sequence[str], noun: str = "learnings") -> str:
    """The audit ``target`` of a write touching ``keys``: the key itself when there is
    one, else how many (``"3 learnings"``)."""
    return str(keys[0]) if len(keys) == 1 else f"{len(keys)} {noun}"


class TierWriter:
    """Checks roles and writes with an audit entry, for one tier.

    Args:
        db: the tier's open engine (migrated to version 8 or later for auditing).
        actor: the principal that acts when a write names none (the home's identity).
    """

    def __init__(self, db: Engine, actor: Principal):
        self.db = db
        self.actor = actor
        self.kind = db.tier.partition(":")[0]
        self.log = AuditLog(db)
        self._head: Any = _UNKNOWN
        self._lock = threading.Lock()
        self._seen: set[str] = set()

    def _has(self, relation: str) -> bool:
        """Whether the tier has ``relation`` (a relation that exists is remembered)."""
        if relation not in self._seen and relation in self.db.relations():
            self._seen.add(relation)
        return relation in self._seen

    @property
    def tier(self) -> str:
        return self.db.tier

    # ------------------------------------------------------------ roles
    def role_of(self, principal: Principal | None = None) -> Role | None:
        """The role of ``principal`` (default: this writer's actor) in this tier, or None.

        Raises: DatabaseError when the tier cannot be read.
        """
        principal = principal or self.actor
        if self.kind in OWNED_KINDS and principal.is_local:
            return Role.admin
        if not self._has("tier_role"):
            return None
        res = self.db.run(
            "?[role] := principal = $p, *tier_role{principal, role}",
            {"p": principal.id},
            read_only=True,
        )
        return Role.parse(res.rows[0][0]) if res.rows else None

    def authorize(self, action: Action, actor: Principal | None = None) -> Role | None:
        """Check that ``actor`` may perform ``action`` here; returns its role.

        Raises:
            PermissionDeniedError: naming the action, the tier and the role needed.
        """
        actor = actor or self.actor
        needed = REQUIRED_ROLE[Action(action)]
        role = self.role_of(actor)
        if needed is None:
            return role
        if role is None or role < needed:
            detail = ""
            if self.kind == "enterprise" and not self.has_admin():
                detail = (
                    f"it needs the {needed.name} role, and the tier has no admin yet (an "
                    "older groove or another program wrote it): its curator claims it with "
                    f"`groove access claim --tier {self.tier}`"
                )
            raise PermissionDeniedError(
                Action(action).value, self.tier, needed.name, actor.id, detail
            )
        return role

    def has_admin(self) -> bool:
        """Whether any principal holds the admin role in this tier (False before schema
        version 8, which has no roles)."""
        if not self._has("tier_role"):
            return False
        res = self.db.run(f"{ADMINS} :limit 1", {"admin": Role.admin.name}, read_only=True)
        return bool(res.rows)

    def _needs_guard(self, action: Action, actor: Principal) -> bool:
        """Whether a write of ``action`` by ``actor`` asserts the actor's role inside its
        transaction (:data:`ROLE_GUARD`): whenever the role comes from ``tier_role``. A
        tier without roles yet (below schema 8) is checked here, by a read."""
        needed = REQUIRED_ROLE[action]
        if needed is None or (self.kind in OWNED_KINDS and actor.is_local):
            return False
        if not self._has("tier_role"):
            self.authorize(action, actor)  # raises: nobody has a role there
            return False
        return True

    # ------------------------------------------------------------ writes
    def write(
        self,
        action: Action,
        target: str,
        blocks: list[str],
        params: dict[str, Any] | None = None,
        *,
        actor: Principal | None = None,
        before: Any = None,
        after: Any = None,
        detail: dict | None = None,
        check: bool = True,
        new_log: bool = False,
        returning: str | None = None,
    ) -> Result:
        """Run ``blocks`` (Cozo statements) and the audit entry as one transaction.

        Args:
            action: what kind of write this is (checked against the actor's role).
            target: what it writes (a learning id, a principal, ``tier``...).
            blocks, params: the statements and their bound parameters (names starting
                with ``audit_`` are reserved).
            actor: who acts (default: the writer's actor).
            before, after: the rows before and after, hashed into the entry.
            detail: a small JSON-able dict kept in the entry.
            check: False only for writes authorised in another way (migrations, which
                any principal opening a tier runs; the first admin's grant). Otherwise the
                actor's role is asserted inside the transaction (:data:`ROLE_GUARD`), so a
                caller's earlier :meth:`authorize` (to fail before costly work) cannot go
                stale.
            new_log: the blocks may create the audit log (schema version 8): when it does
                not exist yet, this write gets its first entry.
            returning: a statement run last in the same transaction (it sees the write):
                a query, or a write with ``:returning`` (rows with ``_kind``), whose rows
                are returned, saving a second round trip. Without it, or when a
                failed-looking commit turns out to have committed, the rows are empty.

        Raises:
            PermissionDeniedError: the actor may not (or no longer may); nothing was
                written.
            DatabaseError / TierBusyError: the transaction failed; nothing was written.
        """
        actor = actor or self.actor
        action = Action(action)
        params = dict(params or {})
        guarded = check and self._needs_guard(action, actor)
        if guarded:
            blocks = [ROLE_GUARD, *blocks]
            params["audit_actor"] = actor.id
            params["audit_roles"] = [r.name for r in Role if r >= REQUIRED_ROLE[action]]
        new_log = new_log and not self._has("audit_log")
        if new_log:
            self._head = None
        elif not self._has("audit_log"):  # a tier below version 8 (migrating)
            return self.db.run_chain([*blocks, *([returning] if returning else [])], params)
        with self._lock:
            for _ in range(_MAX_CONFLICTS):
                head = self.log.head() if self._head is _UNKNOWN else self._head
                seq, prev_hash = head if head else (0, GENESIS)
                row = seal(
                    seq + 1,
                    prev_hash,
                    at=now(),
                    principal=actor.id,
                    principal_name=actor.name,
                    via=actor.via,
                    action=action.value,
                    target=str(target),
                    before=before,
                    after=after,
                    detail=detail,
                )
                chain = [*blocks, INSERT_ENTRIES, ADVANCE_HEAD if head else PUT_HEAD]
                if not head and not new_log:
                    chain.insert(0, ASSERT_NO_HEAD)
                chain += [returning] if returning else []
                args = {
                    **params,
                    "audit_entries": [[row[c] for c in AUDIT_COLS]],
                    "audit_seq": row["seq"],
                    "audit_hash": row["hash"],
                }
                if head:
                    args["audit_prev_seq"], args["audit_prev_hash"] = head
                try:
                    result = self.db.run_chain(chain, args)
                except DatabaseError:
                    fresh = self.log.head() if self._has("audit_log") else None
                    if fresh == (row["seq"], row["hash"]):  # it committed after all
                        self._head = fresh
                        return Result([], [])
                    if fresh != head and not new_log:  # another writer appended first
                        self._head = fresh
                        continue
                    self._head = _UNKNOWN
                    if guarded:
                        self.authorize(action, actor)  # the actor's role went meanwhile?
                    raise
                self._head = (row["seq"], row["hash"])
                return result
        raise TierBusyError(self.tier, f"{_MAX_CONFLICTS} other writes got in first; try again")


__all__ = ["ADMINS", "OWNED_KINDS", "ROLE_GUARD", "TierWriter", "target"]
