"""The audit log of one tier: append-only, hash-chained entries (relation ``audit_log``).

Each entry's ``hash`` is the SHA-256 of the canonical JSON (sorted keys, no white space,
UTF-8) of its other fields, ``prev_hash`` included, so an entry cannot be altered,
inserted or removed without breaking the chain from that point on; :meth:`AuditLog.verify`
walks it. Entries are written only by :class:`groove_core.store.writer.TierWriter`, in the
same transaction as the write they record. A hash chain detects changes made through
anything but a rewrite of every later entry and of ``audit_head``; keep the head hash
printed by ``groove audit verify`` (or a backup) elsewhere to detect even that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groove_core.errors import ValidationError
from groove_core.model.access import AuditEntry
from groove_core.model.serde import from_unix, to_unix
from groove_core.store.engine import Engine

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
AUDIT_COLS = [
    "seq",
    "at",
    "principal",
    "principal_name",
    "via",
    "action",
    "target",
    "before_hash",
    "after_hash",
    "detail",
    "prev_hash",
    "hash",
]
_HEAD = ", ".join(AUDIT_COLS)
INSERT_ENTRIES = (
    f"?[{_HEAD}] <- $audit_entries :insert audit_log {{seq => " + ", ".join(AUDIT_COLS[1:]) + "}"
)
#: The first head of a log (after :data:`ASSERT_NO_HEAD`).
PUT_HEAD = "?[k, seq, hash] <- [[0, $audit_seq, $audit_hash]] :put audit_head {k => seq, hash}"
#: Moves the head on, failing the transaction unless it is still the one the writer read
#: (one statement where an assertion and a put read the head twice: about 7% of an
#: outcome's CPU at 100,000 learnings together with ``:returning``, see usage.py).
ADVANCE_HEAD = (
    "?[k, seq, hash] := k = 0, *audit_head{k, seq: prev_seq, hash: prev_hash}, "
    "prev_seq = $audit_prev_seq, prev_hash = $audit_prev_hash, seq = $audit_seq, "
    "hash = $audit_hash :put audit_head {k => seq, hash} :assert some"
)
ASSERT_NO_HEAD = "?[k] := *audit_head{k} :assert none"


def canonical(value: Any) -> str:
    """Canonical JSON of ``value``: sorted keys, no white space, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class Hashed(str):
    """The :func:`content_hash` of a value, computed already: pass it as ``before`` or
    ``after`` of a write instead of a value too large to hold whole."""

    @classmethod
    def of(cls, items: Iterable[Any]) -> Hashed:
        """The content hash of ``list(items)``, computed one item at a time (the
        canonical JSON of a list is ``[`` + its items' joined by ``,`` + ``]``)."""
        digest = hashlib.sha256(b"[")
        for n, item in enumerate(items):
            digest.update((b"," if n else b"") + canonical(item).encode())
        digest.update(b"]")
        return cls(digest.hexdigest())


def content_hash(value: Any) -> str | None:
    """SHA-256 (hex) of the canonical JSON of ``value``; None for None; a
    :class:`Hashed` value as it is."""
    if value is None:
        return None
    if isinstance(value, Hashed):
        return str(value)
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def entry_hash(row: dict) -> str:
    """The hash of an entry: SHA-256 of the canonical JSON of every column but ``hash``
    (``detail`` as its stored JSON text)."""
    return hashlib.sha256(
        canonical({k: row[k] for k in AUDIT_COLS if k != "hash"}).encode()
    ).hexdigest()


def seal(
    seq: int,
    prev_hash: str,
    *,
    at: datetime,
    principal: str,
    principal_name: str,
    via: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    detail: dict | None = None,
) -> dict:
    """A complete audit row (column -> value, hash computed) following ``prev_hash``."""
    row = {
        "seq": int(seq),
        "at": to_unix(at),
        "principal": principal,
        "principal_name": principal_name,
        "via": via,
        "action": action,
        "target": target,
        "before_hash": content_hash(before),
        "after_hash": content_hash(after),
        "detail": None if detail is None else canonical(detail),
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(row)
    return row


@dataclass(frozen=True)
class Verification:
    """What :meth:`AuditLog.verify` found.

    Attributes:
        ok: True when the chain is intact.
        entries: entries checked.
        head_seq / head_hash: the newest entry (0 and :data:`GENESIS` for an empty log).
        first_bad: sequence number of the first entry found altered, inserted or removed
            (None when ok).
        problem: what is wrong there, for people (None when ok).
    """

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


class AuditLog:
    """Reads of a tier's audit log (entries are written by the tier's writer only)."""

    def __init__(self, db: Engine):
        self.db = db

    @property
    def exists(self) -> bool:
        return "audit_log" in self.db.relations()

    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the newest entry, or None for an empty log."""
        res = self.db.run("?[seq, hash] := k = 0, *audit_head{k, seq, hash}", read_only=True)
        return (int(res.rows[0][0]), res.rows[0][1]) if res.rows else None

    def actions_after(self, seq: int, limit: int = 10_000) -> list[str] | None:
        """The ``action`` of each entry written after entry ``seq``, oldest first (a
        range read of the log's key), or None when more than ``limit`` were."""
        res = self.db.run(
            "?[seq, action] := *audit_log{seq, action}, seq > $seq :order seq :limit $n",
            {"seq": int(seq), "n": int(limit) + 1},
            read_only=True,
        )
        return None if len(res.rows) > limit else [a for _, a in res.rows]

    def entries(
        self,
        *,
        since: datetime | None = None,
        principal: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        """Entries matching every filter given (``action`` may be a prefix such as
        ``learning.``), newest first, at most ``limit``. Each filter that an index keeps
        (principal, target, time) reads that index."""
        conds: list[str] = []
        params: dict[str, Any] = {"limit": max(1, int(limit))}
        if principal is not None:
            conds.append("principal = $who, *audit_log:by_principal{principal, seq}")
            params["who"] = principal
        elif target is not None:
            conds.append("target = $target, *audit_log:by_target{target, seq}")
            params["target"] = target
        elif since is not None:
            conds.append("*audit_log:by_time{at, seq}, at >= $since")
        if since is not None:
            params["since"] = to_unix(since)
        conds.append(f"*audit_log{{{_HEAD}}}")
        if since is not None:
            conds.append("at >= $since")
        if target is not None and principal is not None:
            conds.append("target = $target")
            params["target"] = target
        if action is not None:
            conds.append("starts_with(action, $action)")
            params["action"] = action
        order = "-seq" if newest_first else "seq"
        res = self.db.run(
            f"?[{_HEAD}] := {', '.join(conds)} :order {order} :limit $limit",
            params,
            read_only=True,
        )
        return [_entry(r) for r in res.dicts()]

    def _rows(self, batch: int = 2000) -> Iterator[dict]:
        """Every entry in sequence order, ``batch`` at a time by key range (from the
        lowest ``seq`` stored, so an entry written with ``seq`` 0 or below is walked and
        reported out of order)."""
        head = self.head()
        top = head[0] if head else 0
        res = self.db.run("?[min(seq), max(seq)] := *audit_log{seq}", read_only=True)
        low, high = res.rows[0] if res.rows and res.rows[0][0] is not None else (1, 0)
        top = max(top, int(high))
        for lo in range(min(1, int(low)), top + 1, batch):
            res = self.db.run(
                f"?[{_HEAD}] := *audit_log{{{_HEAD}}}, seq >= $lo, seq < $hi :order seq",
                {"lo": lo, "hi": lo + batch},
                read_only=True,
            )
            yield from res.dicts()

    def verify(self, anchor: tuple[int, str] | None = None) -> Verification:
        """Walk the chain from the first entry: each entry's hash must match its contents,
        sequence numbers must run 1, 2, 3, ... and each ``prev_hash`` must be the hash of
        the entry before; the head must name the last entry. Reports the first entry
        where that fails.

        A chain rewritten from some entry on, every hash recomputed, passes those checks.
        ``anchor``, a ``(seq, hash)`` the verifier recorded earlier outside the tier (the
        head this method or ``groove audit verify`` printed then), catches it: entry
        ``seq`` must still exist and have that hash.

        Raises: ValidationError for a malformed ``anchor`` (see :func:`parse_anchor`).
        """
        if anchor is not None:
            anchor = parse_anchor(f"{anchor[0]}:{anchor[1]}")
        expected_seq, prev, count = 1, None, 0
        prev_hash = GENESIS
        for row in self._rows():
            count += 1
            seq = row["seq"]
            if anchor is not None and seq == anchor[0] and row["hash"] != anchor[1]:
                return self._bad(
                    count,
                    prev,
                    seq,
                    f"entry {seq} does not have the hash recorded for it earlier "
                    f"({anchor[1][:12]}...): the log was rewritten from entry {seq} or before",
                )
            if entry_hash(row) != row["hash"]:
                return self._bad(
                    count,
                    prev,
                    seq,
                    f"entry {seq} was altered: its hash does not match its contents",
                )
            if seq != expected_seq:
                what = (
                    f"entries {expected_seq}..{seq - 1} were removed"
                    if seq > expected_seq
                    else f"entry {seq} is out of order"
                )
                return self._bad(count, prev, expected_seq, what)
            if row["prev_hash"] != prev_hash:
                return self._bad(
                    count,
                    prev,
                    seq,
                    f"entry {seq} does not follow entry {seq - 1}: an entry was inserted, "
                    "removed or rewritten before it",
                )
            prev, prev_hash, expected_seq = row, row["hash"], seq + 1
        head = self.head()
        last_seq = prev["seq"] if prev else 0
        if head is not None and (head[0] != last_seq or head[1] != prev_hash):
            return self._bad(
                count,
                prev,
                min(head[0], last_seq + 1),
                f"the log ends at entry {last_seq} but its head names entry {head[0]}: "
                "entries were removed from the end or the head was changed",
            )
        if head is None and prev is not None:
            return self._bad(count, prev, last_seq, "the log has entries but no head")
        if anchor is not None and anchor[0] > last_seq:
            return self._bad(
                count,
                prev,
                last_seq + 1,
                f"entry {anchor[0]}, recorded earlier, is gone: the log ends at entry "
                f"{last_seq} (entries were removed or the log was rewritten)",
            )
        return Verification(True, count, last_seq, prev_hash)

    @staticmethod
    def _bad(count: int, prev: dict | None, seq: int, problem: str) -> Verification:
        return Verification(
            False,
            count,
            prev["seq"] if prev else 0,
            prev["hash"] if prev else GENESIS,
            seq,
            problem,
        )


def parse_anchor(text: str) -> tuple[int, str]:
    """``"SEQ:HASH"`` (an entry's sequence number and its SHA-256 hex, as ``groove audit
    verify`` prints the head) as ``(seq, hash)`` for :meth:`AuditLog.verify`.

    Raises: ValidationError unless SEQ is a whole number >= 1 and HASH 64 hex digits.
    """
    seq, sep, digest = str(text).strip().partition(":")
    seq, digest = seq.strip(), digest.strip().lower()
    if (
        not sep
        or not (seq.isascii() and seq.isdecimal())
        or int(seq) < 1
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise ValidationError(
            f"an audit anchor is SEQ:HASH (an entry number and its 64-digit SHA-256 hex, as "
            f"`groove audit verify` prints the head), got {str(text)[:80]!r}"
        )
    return int(seq), digest


def _entry(r: dict) -> AuditEntry:
    return AuditEntry(
        seq=r["seq"],
        at=from_unix(r["at"]),
        principal=r["principal"],
        principal_name=r["principal_name"],
        via=r["via"],
        action=r["action"],
        target=r["target"],
        before_hash=r["before_hash"],
        after_hash=r["after_hash"],
        detail=json.loads(r["detail"]) if r["detail"] else None,
        prev_hash=r["prev_hash"],
        hash=r["hash"],
    )


__all__ = [
    "GENESIS",
    "AuditLog",
    "Verification",
    "canonical",
    "content_hash",
    "parse_anchor",
    "seal",
]
