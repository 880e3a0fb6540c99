"""Proposals: learning changes filed for review before they reach an enterprise tier.

A contributor's create, edit, delete, import or promotion into an enterprise tier is kept
as a :class:`Proposal` (relation ``proposal``) with the full learning before and after,
the content-scan findings and a reason. A curator other than the author approves it (the
change is applied in the same transaction that records the decision), rejects it with a
reason, or requests changes, which the author answers by revising it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from groove_core.model.serde import to_rfc3339


class ProposalKind(StrEnum):
    """What a proposal would do to the tier."""

    create = "create"
    edit = "edit"
    delete = "delete"
    import_ = "import"
    promote = "promote"


class ProposalStatus(StrEnum):
    """Where a proposal is in review: ``open`` and ``changes_requested`` await action;
    ``approved``, ``rejected`` and ``withdrawn`` are final."""

    open = "open"
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (ProposalStatus.approved, ProposalStatus.rejected, ProposalStatus.withdrawn)


@dataclass(frozen=True)
class Proposal:
    """A change filed for review.

    Attributes:
        id: UUID v7.
        created_at / updated_at: aware UTC datetimes.
        author / author_name: the principal that filed it.
        kind: :class:`ProposalKind`.
        learning_ids: the learnings it touches (new ids for a create, import or promotion).
        reason: why the author wants it.
        before: the learnings as they were when it was filed (serde JSON, one per id; empty
            for a create, import or promotion).
        after: the learnings as it would make them (empty for a delete).
        findings: content-scan findings (``Finding.to_json`` dicts) of ``after``.
        status: :class:`ProposalStatus`.
        decided_by / decision_note: the reviewer of the latest decision and their words.
        override_reason: the reviewer's reason to accept content the scan flagged.
        source: for a promotion, ``{"tier": ..., "id": ...}`` of the original learning.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    author: str
    author_name: str
    kind: ProposalKind
    learning_ids: tuple[str, ...]
    reason: str
    before: tuple[dict, ...]
    after: tuple[dict, ...]
    findings: tuple[dict, ...]
    status: ProposalStatus
    decided_by: str | None = None
    decision_note: str | None = None
    override_reason: str | None = None
    source: dict | None = None

    @property
    def revision(self) -> str:
        """12 hex digits naming what this proposal would write: sha256 of its kind,
        learnings before and after and scan findings. A revision by the author changes
        it; a reviewer approves the revision they read (``approve(revision=...)``)."""
        body = [self.kind.value, list(self.learning_ids), self.before, self.after, self.findings]
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def summary(self) -> dict[str, Any]:
        """Flat dict for tables and ``--json`` rows."""
        first = (self.after or self.before or ({},))[0]
        return {
            "id": self.id,
            "revision": self.revision,
            "kind": self.kind.value,
            "status": self.status.value,
            "author": self.author,
            "created_at": to_rfc3339(self.created_at),
            "learnings": len(self.learning_ids),
            "description": (first.get("content") or {}).get("description", ""),
            "findings": len(self.findings),
            "reason": self.reason,
            "decided_by": self.decided_by,
        }

    def to_json(self) -> dict[str, Any]:
        """Everything, for ``groove review show --json``."""
        return {
            **self.summary(),
            "updated_at": to_rfc3339(self.updated_at),
            "author_name": self.author_name,
            "learning_ids": list(self.learning_ids),
            "before": list(self.before),
            "after": list(self.after),
            "findings": list(self.findings),
            "decision_note": self.decision_note,
            "override_reason": self.override_reason,
            "source": self.source,
        }


__all__ = ["Proposal", "ProposalKind", "ProposalStatus"]
