"""Proposals of one tier (relation ``proposal``): filing, listing and deciding them.

Deciding is a write like any other (role checked, audit entry in the same transaction).
Approval applies the proposed change and records the decision in ONE transaction, guarded
so that a proposal is applied at most once even when two curators approve it at the same
moment; an edit or deletion whose learning changed since the proposal was filed is
refused (the reviewer asks the author to revise it).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from groove_core.errors import (
    DatabaseError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.proposal import Proposal, ProposalKind, ProposalStatus
from groove_core.model.serde import check_uuid, from_unix, new_id, now, to_unix
from groove_core.model.values import check_controls
from groove_core.store.engine import Engine
from groove_core.store.learnings import LearningStore
from groove_core.store.rows import read_row

_COLS = [
    "id",
    "created_at",
    "updated_at",
    "author",
    "author_name",
    "kind",
    "learning_ids_json",
    "reason",
    "before_json",
    "after_json",
    "findings_json",
    "status",
    "decided_by",
    "decision_note",
    "override_reason",
    "source_json",
]
_HEAD = ", ".join(_COLS)
_PUT = f"?[{_HEAD}] <- $proposal :put proposal {{id => {', '.join(_COLS[1:])}}}"
_DECIDE = (
    "?[id, updated_at, status, decided_by, decision_note, override_reason] <- "
    "[[$pid, $p_at, $p_status, $p_by, $p_note, $p_override]] "
    ":update proposal {id => updated_at, status, decided_by, decision_note, override_reason}"
)
#: Fails the transaction unless the proposal still has the status it was read with.
_GUARD = "?[id] := id = $pid, *proposal{id, status}, status = $p_was :assert some"
#: Fails the transaction unless the proposal would still write what it was read with.
_SAME_AFTER = "?[id] := id = $pid, *proposal{id, after_json}, after_json == $p_after :assert some"
#: Fails the transaction when a learning a proposal would add is in the tier already.
_NEW_IDS = "?[id] := id in $p_new_ids, *learning{id} :assert none"
_WAITING = (ProposalStatus.open, ProposalStatus.changes_requested)


def _check_words(p: Proposal, *, decision: bool = False) -> None:
    """The words people give with a proposal (its reason; with ``decision`` only the
    decision's note and override reason, so a proposal another program filed with
    control characters can still be decided) hold no control character but tab, newline
    and carriage return, like a learning's text
    (:func:`~groove_core.model.values.check_controls`).

    Raises: ValidationError naming the field and the character."""
    if not decision:
        check_controls(p.reason, "the reason of a proposal")
    check_controls(p.decision_note, "the note of a decision")
    check_controls(p.override_reason, "the override reason")


class ProposalStore:
    """File, list and decide proposals in one tier.

    Args:
        db: the tier's open engine (schema version 8 or later).
        learnings: the tier's :class:`LearningStore` (its writer, scanner and the plans
            that apply a change).
    """

    def __init__(self, db: Engine, learnings: LearningStore):
        self.db = db
        self.learnings = learnings
        self.writer = learnings.writer

    # ------------------------------------------------------------ reads
    def get(self, proposal_id: str) -> Proposal | None:
        """The proposal with that id, or None."""
        res = self.db.run(
            f"?[{_HEAD}] := id = $id, *proposal{{{_HEAD}}}",
            {"id": check_uuid(proposal_id, "proposal id")},
            read_only=True,
        )
        return _proposal(res.dicts()[0], self.db.tier) if res.rows else None

    def require(self, proposal_id: str) -> Proposal:
        """Like :meth:`get`; NotFoundError naming the tier when there is none."""
        found = self.get(proposal_id)
        if found is None:
            raise NotFoundError(f"no proposal {proposal_id} in tier '{self.writer.tier}'")
        return found

    def list(
        self, status: Sequence[ProposalStatus | str] | None = _WAITING, limit: int = 200
    ) -> list[Proposal]:
        """Proposals with one of ``status`` (default: awaiting review; None: all), oldest
        first, at most ``limit``."""
        params: dict[str, Any] = {"limit": max(1, int(limit))}
        if status is None:
            body = f"*proposal{{{_HEAD}}}"
        else:
            params["statuses"] = [ProposalStatus(s).value for s in status]
            body = (
                "status in $statuses, *proposal:by_status{status, created_at, id}, "
                f"*proposal{{{_HEAD}}}"
            )
        res = self.db.run(
            f"?[{_HEAD}] := {body} :order created_at, id :limit $limit", params, read_only=True
        )
        return [_proposal(r, self.db.tier) for r in res.dicts()]

    def count_waiting(self) -> int:
        """Number of proposals awaiting review."""
        res = self.db.run(
            "?[count(id)] := status in $s, *proposal:by_status{status, id}",
            {"s": [s.value for s in _WAITING]},
            read_only=True,
        )
        return int(res.scalar(0) or 0)

    # ------------------------------------------------------------ filing
    def file(
        self,
        kind: ProposalKind | str,
        *,
        before: Sequence[Learning] = (),
        after: Sequence[Learning] = (),
        reason: str = "",
        source: dict | None = None,
        actor: Principal | None = None,
    ) -> Proposal:
        """File a proposal (action ``proposal.file``: a contributor's). ``after`` is scanned
        now; its findings travel with the proposal to the reviewer.

        Raises:
            PermissionDeniedError: the actor is not at least a contributor here.
            ValidationError: nothing to propose.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.proposal_file, actor)
        kind = ProposalKind(kind)
        if not before and not after:
            raise ValidationError("a proposal needs the learnings it changes")
        if kind not in (ProposalKind.edit, ProposalKind.delete):
            self._refuse_existing(after)
        findings = self.learnings.scan(after)
        at = now()
        p = Proposal(
            id=new_id(),
            created_at=at,
            updated_at=at,
            author=actor.id,
            author_name=actor.name,
            kind=kind,
            learning_ids=tuple(lr.id for lr in (after or before)),
            reason=(reason or "").strip(),
            before=tuple(lr.to_json() for lr in before),
            after=tuple(lr.to_json() for lr in after),
            findings=tuple(f.to_json() for fs in findings.values() for f in fs),
            status=ProposalStatus.open,
            source=source,
        )
        _check_words(p)
        self.writer.write(
            Action.proposal_file,
            p.id,
            [_PUT],
            {"proposal": [_row(p)]},
            actor=actor,
            before=list(p.before) or None,
            after=list(p.after) or None,
            detail={"kind": kind.value, "learnings": len(p.learning_ids)},
        )
        return p

    def revise(
        self,
        proposal_id: str,
        after: Sequence[Learning],
        *,
        reason: str | None = None,
        actor: Principal | None = None,
    ) -> Proposal:
        """The author replaces what an open or changes-requested proposal would write; it
        is open again and rescanned.

        Raises: PermissionDeniedError (not the author), ValidationError (decided already
        or a delete).
        """
        actor = actor or self.writer.actor
        p = self._authors(proposal_id, actor, Action.proposal_file, "revises")
        if p.kind == ProposalKind.delete:
            raise ValidationError("a proposed deletion has nothing to revise; withdraw it")
        if p.kind != ProposalKind.edit:
            self._refuse_existing(after)
        findings = self.learnings.scan(after)
        new = replace(
            p,
            after=tuple(lr.to_json() for lr in after),
            learning_ids=tuple(lr.id for lr in after),
            findings=tuple(f.to_json() for fs in findings.values() for f in fs),
            reason=p.reason if reason is None else reason.strip(),
            status=ProposalStatus.open,
            updated_at=now(),
        )
        self._put(Action.proposal_file, p, new, actor, {"revised": True})
        return new

    # ------------------------------------------------------------ decisions
    def approve(
        self,
        proposal_id: str,
        *,
        revision: str | None,
        note: str = "",
        override_reason: str | None = None,
        actor: Principal | None = None,
    ) -> Proposal:
        """Apply the proposal and record the approval in ONE transaction.

        ``revision`` is :attr:`Proposal.revision` of what the reviewer read: a proposal
        its author revised since is refused, so an approval never applies content nobody
        reviewed (None approves whatever it holds now: for callers that show nothing).
        The transaction asserts that what it applies is still what it read. Content-scan
        findings in what it would write block approval unless ``override_reason`` is
        given (recorded with the learnings and in the audit log).

        Raises:
            PermissionDeniedError: the actor is not a curator here, or is the author.
            ContentBlockedError: findings and no override reason.
            ValidationError: the proposal was decided already, was revised since
                ``revision``, or its learning changed since it was filed.
        """
        actor = actor or self.writer.actor
        self.writer.authorize(Action.proposal_approve, actor)
        p = self._waiting(proposal_id)
        if revision is not None and revision != p.revision:
            raise ValidationError(
                f"proposal {p.id} was revised since you read it (revision {revision}, now "
                f"{p.revision}): review it again before approving"
            )
        if actor.id == p.author:
            raise PermissionDeniedError(
                Action.proposal_approve.value,
                self.writer.tier,
                "",
                actor.id,
                "nobody approves their own proposal; ask another curator",
            )
        decided = replace(
            p,
            status=ProposalStatus.approved,
            decided_by=actor.id,
            decision_note=note.strip() or None,
            override_reason=(override_reason or "").strip() or None,
            updated_at=now(),
        )
        blocks, params = self._decision_blocks(p, decided)
        after_json = _row(p)[_COLS.index("after_json")]  # as stored: what _SAME_AFTER compares
        extra = ([_SAME_AFTER, *blocks], {**params, "p_after": after_json})
        detail = {
            "proposal": p.id,
            "kind": p.kind.value,
            "author": p.author,
            "revision": p.revision,
        }
        after = [Learning.from_json(x) for x in p.after]
        with self._first_decision(p):
            if p.kind == ProposalKind.edit:
                self._approve_edit(p, after[0], actor, override_reason, extra, detail)
            elif p.kind == ProposalKind.delete:
                self._approve_delete(p, actor, extra, detail)
            else:
                self._approve_new(p, after, actor, override_reason, extra, detail)
        return decided

    @contextlib.contextmanager
    def _first_decision(self, p: Proposal) -> Iterator[None]:
        """Around the write of a decision on ``p``: a write refused because someone else
        decided ``p`` meanwhile (its status is asserted in the transaction) says so.

        Raises: ValidationError (decided meanwhile); else the DatabaseError as it was."""
        try:
            yield
        except DatabaseError:
            if self.require(p.id).status != p.status:
                raise ValidationError(
                    f"proposal {p.id} was decided by someone else meanwhile"
                ) from None
            raise

    def _approve_new(self, p, after, actor, override_reason, extra, detail) -> None:
        self._refuse_existing(after)  # and asserted in the transaction (_NEW_IDS)
        blocks, params, info = self.learnings.plan_store(
            after,
            actor=actor,
            action=Action.learning_promote
            if p.kind == ProposalKind.promote
            else Action.learning_create,
            override_reason=override_reason,
            history_who=p.author,
        )
        self.writer.write(
            Action.proposal_approve,
            p.id,
            [*extra[0], _NEW_IDS, *blocks],
            {**params, **extra[1], "p_new_ids": [lr.id for lr in after]},
            actor=actor,
            after=list(p.after),
            detail={**detail, **info},
        )

    def _approve_edit(self, p, new: Learning, actor, override_reason, extra, detail) -> None:
        old = self.learnings.get(new.id)
        if old is None or old.to_json() != p.before[0]:
            raise ValidationError(
                f"learning {new.id} changed or was deleted since proposal {p.id} was filed; "
                "request changes so the author revises it"
            )
        self.learnings.apply_edit(
            old,
            replace(new, updated_at=max(now(), old.updated_at)),
            actor=actor,
            action=Action.proposal_approve,
            override_reason=override_reason,
            extra=extra,
            detail=detail,
            history_who=p.author,
        )

    def _approve_delete(self, p, actor, extra, detail) -> None:
        current = {lr.id: lr.to_json() for lr in self.learnings.get_many(p.learning_ids)}
        if any(current.get(b["id"]) != b for b in p.before):
            raise ValidationError(
                f"a learning of proposal {p.id} changed or was deleted since it was filed; "
                "request changes so the author files it again"
            )
        keep, blocks, params, snapshot = self.learnings.plan_delete(p.learning_ids, p.author)
        self.writer.write(
            Action.proposal_approve,
            p.id,
            [*extra[0], *blocks],
            {**params, **extra[1]},
            actor=actor,
            before=snapshot,
            detail={**detail, "learnings": len(keep)},
        )

    def reject(self, proposal_id: str, reason: str, *, actor: Principal | None = None) -> Proposal:
        """Reject with a reason; nothing of the proposal reaches the tier.

        Raises: PermissionDeniedError (not a curator), ValidationError (no reason, or
        decided already)."""
        return self._decide(
            proposal_id, ProposalStatus.rejected, reason, Action.proposal_reject, actor
        )

    def request_changes(
        self, proposal_id: str, note: str, *, actor: Principal | None = None
    ) -> Proposal:
        """Ask the author to revise (see :meth:`revise`).

        Raises: PermissionDeniedError (not a curator), ValidationError (no note)."""
        return self._decide(
            proposal_id,
            ProposalStatus.changes_requested,
            note,
            Action.proposal_request_changes,
            actor,
        )

    def withdraw(self, proposal_id: str, *, actor: Principal | None = None) -> Proposal:
        """The author takes a waiting proposal back.

        Raises: PermissionDeniedError (not the author)."""
        actor = actor or self.writer.actor
        p = self._authors(proposal_id, actor, Action.proposal_withdraw, "withdraws")
        new = replace(p, status=ProposalStatus.withdrawn, updated_at=now())
        self._write_decision(Action.proposal_withdraw, p, new, actor)
        return new

    def _decide(self, proposal_id, status, words, action, actor) -> Proposal:
        actor = actor or self.writer.actor
        self.writer.authorize(action, actor)
        if not isinstance(words, str) or not words.strip():
            raise ValidationError("say why: a reason is recorded with the decision")
        p = self._waiting(proposal_id)
        new = replace(
            p, status=status, decided_by=actor.id, decision_note=words.strip(), updated_at=now()
        )
        self._write_decision(action, p, new, actor)
        return new

    def _write_decision(self, action: Action, old: Proposal, new: Proposal, actor) -> None:
        blocks, params = self._decision_blocks(old, new)
        with self._first_decision(old):
            self.writer.write(
                action,
                old.id,
                blocks,
                params,
                actor=actor,
                detail={"status": new.status.value, "note": new.decision_note},
            )

    def _put(self, action: Action, old: Proposal, new: Proposal, actor, detail: dict) -> None:
        _check_words(new)
        self.writer.write(
            action,
            new.id,
            [_GUARD, _PUT],
            {"proposal": [_row(new)], "pid": old.id, "p_was": old.status.value},
            actor=actor,
            before=list(old.after) or None,
            after=list(new.after) or None,
            detail=detail,
        )

    @staticmethod
    def _decision_blocks(old: Proposal, new: Proposal) -> tuple[list[str], dict[str, Any]]:
        _check_words(new, decision=True)
        return [_GUARD, _DECIDE], {
            "pid": old.id,
            "p_was": old.status.value,
            "p_at": to_unix(new.updated_at),
            "p_status": new.status.value,
            "p_by": new.decided_by,
            "p_note": new.decision_note,
            "p_override": new.override_reason,
        }

    def _refuse_existing(self, after: Sequence[Learning]) -> None:
        """A proposal to add learnings never replaces one: an id already in the tier is
        refused (changing a learning is an edit proposal, with its before for review).

        Raises: ValidationError naming the first such id."""
        there = self.learnings.get_many([lr.id for lr in after])
        if there:
            raise ValidationError(
                f"learning {there[0].id} is already in tier '{self.writer.tier}': a "
                "proposal to add learnings cannot replace one; propose an edit instead"
            )

    def _authors(self, proposal_id: str, actor: Principal, action: Action, verb: str) -> Proposal:
        """The waiting proposal, when ``actor`` wrote it; else PermissionDeniedError."""
        p = self._waiting(proposal_id)
        if actor.id != p.author:
            raise PermissionDeniedError(
                action.value,
                self.writer.tier,
                "",
                actor.id,
                f"only the author ({p.author}) {verb} proposal {p.id}",
            )
        return p

    def _waiting(self, proposal_id: str) -> Proposal:
        p = self.require(proposal_id)
        if p.status.is_final:
            raise ValidationError(f"proposal {p.id} is already {p.status.value}")
        return p


def _row(p: Proposal) -> list:
    return [
        p.id,
        to_unix(p.created_at),
        to_unix(p.updated_at),
        p.author,
        p.author_name,
        p.kind.value,
        json.dumps(list(p.learning_ids)),
        p.reason,
        json.dumps(list(p.before), ensure_ascii=False) if p.before else None,
        json.dumps(list(p.after), ensure_ascii=False) if p.after else None,
        json.dumps(list(p.findings), ensure_ascii=False),
        p.status.value,
        p.decided_by,
        p.decision_note,
        p.override_reason,
        json.dumps(p.source, ensure_ascii=False) if p.source else None,
    ]


def _proposal(r: dict, tier: str) -> Proposal:
    """The proposal of a ``proposal`` row (a dict by column).

    Raises: DataContractError naming the proposal when the row cannot be read (a value
    from a newer groove, JSON that does not parse)."""
    return read_row(_decode, r, tier, "proposal")


def _decode(r: dict) -> Proposal:
    return Proposal(
        id=r["id"],
        created_at=from_unix(r["created_at"]),
        updated_at=from_unix(r["updated_at"]),
        author=r["author"],
        author_name=r["author_name"],
        kind=ProposalKind(r["kind"]),
        learning_ids=tuple(json.loads(r["learning_ids_json"])),
        reason=r["reason"],
        before=tuple(json.loads(r["before_json"])) if r["before_json"] else (),
        after=tuple(json.loads(r["after_json"])) if r["after_json"] else (),
        findings=tuple(json.loads(r["findings_json"])),
        status=ProposalStatus(r["status"]),
        decided_by=r["decided_by"],
        decision_note=r["decision_note"],
        override_reason=r["override_reason"],
        source=json.loads(r["source_json"]) if r["source_json"] else None,
    )


__all__ = ["ProposalStore"]
