"""Content-scan marks of learnings (relation ``learning_scan``): scanning learnings before
they are written, refusing flagged ones in an enterprise tier without a curator's override,
and reading the marks back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from groove_core.errors import ContentBlockedError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.serde import check_uuid, from_unix, now, to_unix
from groove_core.model.values import check_controls
from groove_core.progress import Progress, ProgressFn
from groove_core.store.base import StoreBase
from groove_core.store.writer import target

if TYPE_CHECKING:
    from groove_core.scan import Finding

PUT_SCAN = (
    "?[learning_id, scanned_at, findings_json, override_by, override_reason] <- $scan_marks "
    ":put learning_scan {learning_id => scanned_at, findings_json, override_by, override_reason}"
)


@dataclass(frozen=True)
class ScanMark:
    """The content-scan findings stored with a learning (relation ``learning_scan``) and,
    when it was let in despite them, who overrode the scan and why."""

    learning_id: str
    scanned_at: Any
    findings: list
    override_by: str | None
    override_reason: str | None

    def to_json(self) -> dict:
        """``{"findings": [...], "override_by", "override_reason"}`` for ``--json`` rows."""
        return {
            "findings": [f.to_json() for f in self.findings],
            "override_by": self.override_by,
            "override_reason": self.override_reason,
        }


class ScanningMixin(StoreBase):
    """Content scanning of learnings (part of ``LearningStore``)."""

    def scan(
        self, learnings: Sequence[Learning], *, from_file: bool = True
    ) -> dict[str, list[Finding]]:
        """Content-scan findings of each learning that has any (id -> findings), scanned in
        one batch (:func:`groove_core.scan.scan_contents`); an imported learning's findings
        name its file and line unless ``from_file`` is False (an edit: the text no longer
        comes from the file)."""
        from groove_core.scan import scan_contents

        sources = []
        for lr in learnings:
            imported = from_file and lr.source.kind == "imported"
            file = lr.source.data.get("source_file") if imported else None
            pattern = lr.content.pattern
            line = pattern.get("line") if file and isinstance(pattern, dict) else None
            sources.append((file, line if isinstance(line, int) else None))
        found = scan_contents([lr.content for lr in learnings], sources=sources)
        return {lr.id: f for lr, f in zip(learnings, found, strict=True) if f}

    def check_findings(
        self, findings: dict[str, list[Finding]], override_reason: str | None, actor: Principal
    ) -> str | None:
        """The override reason that lets flagged learnings in (None when there are no
        findings or the tier only marks them): what a write checks before anything is
        computed or written, so an importer can refuse blocked content before embedding.

        Raises:
            ContentBlockedError: findings in an enterprise tier and no override reason.
            PermissionDeniedError: an override by someone who is not a curator.
        """
        if not findings or self.writer.kind != "enterprise":
            return None
        reason = (override_reason or "").strip()
        if not reason:
            flat = [f for fs in findings.values() for f in fs]
            first = flat[0]
            raise ContentBlockedError(
                f"content scan: {len(flat)} finding(s) in {len(findings)} learning(s), "
                f"first {first.rule} at {first.where()}: {first.message}; an enterprise "
                "tier takes them only with a curator's written override reason",
                flat,
            )
        check_controls(reason, "the override reason")
        self.writer.authorize(Action.scan_override, actor)
        return reason

    @staticmethod
    def _scan_marks(
        findings: dict[str, list[Finding]],
        at: int,
        override_by: Principal | None,
        override_reason: str | None,
    ) -> list[list]:
        return [
            [
                lid,
                at,
                json.dumps([f.to_json() for f in found], ensure_ascii=False),
                override_by.id if override_by else None,
                override_reason,
            ]
            for lid, found in findings.items()
        ]

    def scan_all(
        self,
        progress: ProgressFn | None = None,
        *,
        actor: Principal | None = None,
        batch: int = 500,
    ) -> int:
        """Scan every learning of the tier that carries no mark yet (one another program
        wrote bypasses the scan a groove write runs) and mark those with findings, in one
        write with its audit entry (``learning.scan``). Marks already stored, and a
        curator's overrides, stay. Reports :class:`~groove_core.progress.Progress`
        ("scanning learnings", learnings read, total) after each ``batch``; rows that do
        not follow the data contract are left out (:meth:`unreadable`).

        Returns: how many learnings were newly flagged.

        Raises: PermissionDeniedError (a curator's act in an enterprise tier)."""
        actor = actor or self.writer.actor
        self.writer.authorize(Action.learning_scan, actor)
        marked = set(self.flagged_ids(limit=None))
        ids = self.ids()
        found: dict[str, list[Finding]] = {}
        for start in range(0, len(ids), batch):
            part = [i for i in ids[start : start + batch] if i not in marked]
            found.update(self.scan(self.get_many(part, skip_unreadable=True)))
            if progress:
                progress(Progress("scanning learnings", min(start + batch, len(ids)), len(ids)))
        if not found:
            return 0
        self.writer.write(
            Action.learning_scan,
            target(list(found)),
            [PUT_SCAN],
            {"scan_marks": self._scan_marks(found, to_unix(now()), None, None)},
            actor=actor,
            detail={"learnings": len(ids), "flagged": len(found)},
        )
        return len(found)

    def flagged_ids(self, limit: int | None = 1000) -> list[str]:
        """Ids of learnings of this tier that the content scan flagged (a stored mark, also
        when a curator overrode it), at most ``limit`` (None: all), newest mark first. The
        marks are few (one per flagged learning): ``learning_scan`` is read whole and each
        mark's learning looked up by key (a mark of a deleted learning is left out)."""
        if not self.writer._has("learning_scan"):
            return []
        tail = "" if limit is None else " :limit $limit"
        res = self.db.run(
            "?[learning_id, scanned_at] := *learning_scan{learning_id, scanned_at}, "
            f"*learning{{id: learning_id}} :order -scanned_at{tail}",
            {} if limit is None else {"limit": max(1, int(limit))},
            read_only=True,
        )
        return [r[0] for r in res.rows]

    def marked(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` that have a content-scan mark (a key lookup each)."""
        if not ids or not self.writer._has("learning_scan"):
            return set()
        res = self.db.run(
            "?[learning_id] := learning_id in $ids, *learning_scan{learning_id}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {r[0] for r in res.rows}

    def scan_marks(self, ids: Sequence[str]) -> dict[str, ScanMark]:
        """The stored content-scan marks of those of ``ids`` that have one."""
        from groove_core.scan import Finding

        if not self.writer._has("learning_scan"):
            return {}
        res = self.db.run(
            "?[learning_id, scanned_at, findings_json, override_by, override_reason] := "
            "learning_id in $ids, *learning_scan{learning_id, scanned_at, findings_json, "
            "override_by, override_reason}",
            {"ids": [check_uuid(i) for i in ids]},
            read_only=True,
        )
        return {
            lid: ScanMark(
                lid,
                from_unix(at),
                [Finding.from_json(f) for f in json.loads(fj)],
                by,
                why,
            )
            for lid, at, fj, by, why in res.rows
        }


__all__ = ["PUT_SCAN", "ScanMark", "ScanningMixin"]
