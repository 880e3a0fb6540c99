"""``groove import``: rule files (CLAUDE.md, AGENTS.md, .cursorrules, .mdc, ...) and
``GrooveExport`` JSON files into a tier.

Rule-file import is idempotent: every imported learning carries, in its ``pattern``, an
``import_key`` (sha256 of its scope and the rule text as first imported); rules whose key
is already in the tier are skipped, even if the learning was edited since. The pattern
also keeps the rule's ``line``, ``end_line`` and context ``heading`` in its file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groove_core.errors import GrooveError, ImportFileError
from groove_core.io import rules
from groove_core.io.export import (
    ExportFile,
    ImportPlan,
    ImportStats,
    plan_import,
    read_export,
    write_plan,
)
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning, LearningContent, LearningSource
from groove_core.model.proposal import Proposal, ProposalKind
from groove_core.model.scope import Scope
from groove_core.model.serde import now
from groove_core.progress import Progress, ProgressFn
from groove_core.store.embeddings import text_for_embedding

if TYPE_CHECKING:
    from groove_core.tiers import Tier

#: Seconds between two progress reports of a stage that runs in a worker thread.
HEARTBEAT = 0.5


def _with_heartbeat(
    stage: str,
    fn: Callable[[], Any],
    progress: ProgressFn | None,
    state: Callable[[], tuple[int, int]] | None = None,
) -> Any:
    """Run ``fn`` in a worker thread (the model and the engine release the GIL) while this
    thread reports a :class:`Progress` of ``stage`` every :data:`HEARTBEAT` s, so every
    report comes from the caller's thread (Streamlit draws only from its script thread).

    ``state`` gives ``(done, total)``; without it the length of the stage is unknown and
    a report carries the seconds elapsed as ``done`` with ``total`` None. The stage ends
    with a report of ``done == total`` (1 of 1 without ``state``). Returns what ``fn``
    returns."""
    if progress is None:
        return fn()
    start = time.monotonic()

    def beat() -> Progress:
        if state:
            return Progress(stage, *state())
        seconds = int(time.monotonic() - start)
        return Progress(stage, seconds, None, f"{seconds} s")

    progress(beat())
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(fn)
        while True:
            try:
                result = future.result(timeout=HEARTBEAT)
                break
            except TimeoutError:
                progress(beat())
    total = state()[1] if state else 1
    progress(Progress(stage, total, total))  # the stage is complete
    return result


@dataclass
class ImportReport:
    """What an import did: files read, learnings added, replaced (an export's learning
    whose id was there with other content, with ``on_conflict="replace"``), skipped
    because the tier already had them, and ``learnings_duplicate``: rules met more than
    once in this import (kept once); per-file counts, the files refused (only with
    ``skip_bad``), the learnings the content scan flagged (``flagged``: id, description
    and findings naming file:line), and the proposal it filed instead of writing (a
    contributor's import into an enterprise tier).
    """

    files: list[str] = field(default_factory=list)
    learnings_added: int = 0
    learnings_replaced: int = 0
    learnings_skipped: int = 0
    learnings_duplicate: int = 0
    per_file: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    exports: list[ImportStats] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    proposal: Proposal | None = None

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "learnings_added": self.learnings_added,
            "learnings_replaced": self.learnings_replaced,
            "learnings_skipped": self.learnings_skipped,
            "learnings_duplicate": self.learnings_duplicate,
            "per_file": self.per_file,
            "errors": self.errors,
            "exports": [s.to_json() for s in self.exports],
            "flagged": self.flagged,
            "proposal": self.proposal.id if self.proposal else None,
        }


def import_key(scope: Scope, text: str) -> str:
    """Identity of an imported rule: sha256 over its scope and text."""
    return hashlib.sha256(
        json.dumps([scope.to_db(), text], ensure_ascii=False).encode()
    ).hexdigest()


def is_export_file(path: Path) -> bool:
    """A ``.json`` file is read as a ``GrooveExport``."""
    return path.suffix.lower() == ".json"


def import_paths(
    tier: Tier,
    paths: Iterable[str | os.PathLike],
    *,
    scope: Scope | None = None,
    skip_bad: bool = False,
    on_conflict: str = "fail",
    actor: Principal | None = None,
    reason: str = "",
    override_reason: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import rule files, folders of them and ``GrooveExport`` JSON files into ``tier``.

    Every file is read and validated, and the export files compared with the tier,
    before anything is written; a malformed or hostile file raises
    :class:`ImportFileError` naming the file (and line) and nothing is written (unless
    ``skip_bad``, which imports the good files and lists the bad ones in ``errors``).
    Everything is then written in ONE transaction, embedded in batches first.

    Every learning is content-scanned: in a user or project tier flagged ones are
    imported, marked and listed in ``flagged``; in an enterprise tier they block the
    import unless a curator gives ``override_reason``. A contributor's import of rule
    files into an enterprise tier files one proposal (``report.proposal``) instead; an
    export file there needs a curator.

    Args:
        on_conflict: what to do with an export's learning whose id is already in the tier
            with different content: ``fail``, ``skip`` or ``replace`` (see
            :mod:`groove_core.io.export`).
        actor: who imports (default: the tier's acting principal); ``reason`` goes with
            a proposal.
        progress: receives a :class:`~groove_core.progress.Progress` at least every
            :data:`HEARTBEAT` seconds (docs/architecture.md#progress). Stages in order:
            ``reading`` (files), ``checking`` (what the tier already has), ``embedding``
            (learnings), ``writing`` (the one transaction); ``checking`` and ``writing``
            have no known total (``done`` counts seconds) and end at 1 of 1.

    Raises:
        ImportFileError: a path does not exist, is unsupported or malformed, or an export
            conflicts with the tier and ``on_conflict`` is ``fail``.
        PermissionDeniedError, ContentBlockedError: nothing was written.
    """
    actor = actor or tier.actor
    given = [Path(p).expanduser() for p in paths]
    try:
        exports = [p for p in given if p.is_file() and is_export_file(p)]
        others = [p for p in given if p not in exports]
        rule_paths = rules.discover(others) if others else []
    except OSError as err:  # e.g. a name longer than the file system allows
        where = str(err.filename) if err.filename is not None else "a path"
        raise ImportFileError(where[:200], None, f"cannot read: {err.strerror or err}") from None
    report = ImportReport()
    scope = scope or tier.default_scope()
    parsed: list[rules.RuleFile] = []
    for i, path in enumerate(rule_paths):
        if progress:
            progress(Progress("reading", i, len(rule_paths)))
        try:
            parsed.append(rules.parse_file(path))
        except ImportFileError as err:
            if not skip_bad:
                raise
            report.errors.append(str(err))
    if progress and rule_paths:
        progress(Progress("reading", len(rule_paths), len(rule_paths)))
    files, plan = _plan_exports(tier, exports, on_conflict, report.errors if skip_bad else None)
    known = _with_heartbeat("checking", tier.learnings.import_keys, progress)
    seen: set[str] = set()
    fresh: list[Learning] = []
    at = now()
    for rf in parsed:
        report.files.append(str(rf.path))
        added = 0
        source = LearningSource.imported(str(Path(rf.path).resolve()), at)
        for rule in rf.rules:
            key = import_key(scope, rule.text)
            if key in seen:  # met before in this import (counted once, below, if known)
                report.learnings_duplicate += 1
                continue
            seen.add(key)
            if key in known:
                report.learnings_skipped += 1
                continue
            pattern = {"import_key": key, "line": rule.line, "end_line": rule.end_line}
            if rule.heading:
                pattern["heading"] = rule.heading
            fresh.append(
                Learning.new(
                    scope,
                    rule.category,
                    LearningContent(rule.description, rule.insight, pattern),
                    source,
                )
            )
            added += 1
        report.per_file[str(rf.path)] = added
    if plan.learnings or plan.params or plan.relations or plan.history or plan.outcome_events:
        tier.writer.authorize(Action.learning_import, actor)  # before a proposal is filed
    findings = _with_heartbeat(
        "checking", lambda: tier.learnings.scan([*fresh, *plan.learnings]), progress
    )
    report.flagged = [
        {
            "id": lr.id,
            "description": lr.description,
            "findings": [f.to_json() for f in findings[lr.id]],
        }
        for lr in [*fresh, *plan.learnings]
        if lr.id in findings
    ]
    if fresh and tier.must_propose(Action.learning_import, actor):
        report.proposal = tier.proposals.file(
            ProposalKind.import_, after=fresh, reason=reason, actor=actor
        )
        fresh = []
    report.learnings_added = len(fresh)
    for f, stats in zip(files, plan.stats, strict=True):
        report.files.append(f.path)
        report.exports.append(stats)
        report.learnings_added += stats.learnings_imported
        report.learnings_replaced += stats.learnings_replaced
        report.learnings_skipped += stats.learnings_skipped
    todo = [*fresh, *plan.learnings]
    if not (todo or plan.params or plan.relations or plan.history or plan.outcome_events):
        return report
    done = 0

    def embedded(p: Progress) -> None:  # in the worker thread: only counts
        nonlocal done
        done = int(p.done)

    # refuse blocked content before the model runs: embedding fills the tier's cache
    tier.learnings.writer.authorize(Action.learning_import, actor)
    tier.learnings.check_findings(findings, override_reason, actor)
    vectors = None
    if tier.learnings.embedder is not None and todo:
        texts = [text_for_embedding(lr.content) for lr in todo]
        vectors = _with_heartbeat(
            "embedding",
            lambda: tier.learnings.embed_texts(texts, embedded),
            progress,
            lambda: (done, len(todo)),
        )
    _with_heartbeat(
        "writing",
        lambda: write_plan(
            tier,
            plan,
            also=fresh,
            actor=actor,
            vectors=vectors,
            findings=findings,
            override_reason=override_reason,
            detail={"files": len(parsed) + len(files)},
        ),
        progress,
    )
    return report


def _plan_exports(
    tier: Tier, paths: list[Path], on_conflict: str, errors: list[str] | None
) -> tuple[list[ExportFile], ImportPlan]:
    """Read the export files and plan them against the tier (nothing is written). When
    ``errors`` is a list (``skip_bad``), a file that fails is listed there and left out;
    otherwise its ImportFileError is raised."""
    files: list[ExportFile] = []
    for path in paths:
        try:
            doc = read_export(path, on_conflict=on_conflict)
            plan_import(tier, [*files, doc], on_conflict=on_conflict)  # conflicts raise
        except GrooveError as err:
            if errors is None:
                raise
            errors.append(str(err))
            continue
        files.append(doc)
    embed = tier.learnings.embedder is not None
    return files, plan_import(tier, files, on_conflict=on_conflict, embed=embed)
