"""Export and import of the ``GrooveExport`` JSON (version 1) vibes-groove reads and
writes (docs/architecture.md#serde-json), with history.

File shape (serde's default JSON of the Rust types)::

    {"version": 1, "exported_at": "2026-01-02T03:04:05Z",
     "learnings": [{...Learning fields..., "usage_stats": {...}}],
     "params": [{"name": ..., "param": {...}, "updated_at": ...}],
     "relations": [{"from_id": ..., "relation_type": "Supersedes", ...}],
     "history": [{"learning_id": ..., "edit_id": ..., "at": ..., "who": ..., "action": ...,
                  "before": {...} | null, "after": {...} | null}],
     "outcome_events": [{"learning_id": ..., "event_id": ..., "at": ...,
                         "outcome": "helpful", "session_id": "s1" | null}]}

``history`` (the ``learning_edit`` relation, deleted learnings' entries included, so
``groove restore`` works in the copy) and ``outcome_events`` (``outcome_event``) are
groove's extension, added in a backwards-compatible way: they are extra top-level keys,
which vibes-groove's reader ignores (its ``GrooveExport`` is a plain serde struct without
``deny_unknown_fields``), and a file without them (vibes-groove's own) imports as before.
The version stays 1.

Importing validates the whole file before anything is written: every value that does
not fit the data model, or could not be stored exactly (see
:mod:`groove_core.model.values`), is an :class:`ImportFileError` naming the file, the
record (``learnings[3] (id ...)``) and the field, with the line for JSON syntax errors.

Ids: a learning whose id is already in the tier with the same content (scope, category,
description, insight, pattern, source, creation time; usage state may differ) is skipped,
so importing a file twice adds nothing. The same id with different content, in the tier
or twice in the file, is a conflict, settled by ``on_conflict``:

- ``fail`` (the default): nothing is written and the error lists the conflicting ids.
  Skipping would silently drop the file's version and replacing would silently drop the
  tier's edits; either may be what the user wants, so groove asks rather than guesses.
- ``skip``: keep the tier's learning (within a file, the first occurrence).
- ``replace``: take the file's learning and usage stats (within a file, the last
  occurrence); the tier's earlier history of it stays.

History entries and outcome events are imported for the learnings the import writes and
for ids that are not learnings of the file (deleted ones); they are keyed by their ids, so
importing them again changes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groove_core.errors import GrooveError, ImportFileError, ValidationError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.params import SystemParam
from groove_core.model.relations import LearningRelation
from groove_core.model.serde import now, to_rfc3339
from groove_core.model.usage import OutcomeEvent, UsageStats, usage_from_json, usage_to_json
from groove_core.progress import ProgressFn
from groove_core.store.history import Edit

if TYPE_CHECKING:
    from groove_core.tiers import Tier

EXPORT_VERSION = 1
MAX_EXPORT_BYTES = 512 * 1024 * 1024
ON_CONFLICT = ("fail", "skip", "replace")
#: Why an import leaves a relation out (:attr:`ImportStats.relations_skipped`), in the
#: words the CLI and the dashboard report it with.
RELATIONS_LEFT_OUT = (
    "an end is in neither the imported files nor the tier, or a learning related to itself"
)


@dataclass
class ImportStats:
    """Seed 001's ``ImportStats`` (the first five counts) and what groove adds: learnings
    replaced, ids repeated within the file, ids that conflicted with the tier (skipped
    or replaced as ``on_conflict`` said), relations left out (an end is missing from the
    file and the tier, or both ends are one learning), and the history entries and outcome
    events written."""

    learnings_imported: int = 0
    learnings_skipped: int = 0
    params_imported: int = 0
    relations_imported: int = 0
    embeddings_queued: int = 0
    learnings_replaced: int = 0
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    relations_skipped: int = 0
    history_imported: int = 0
    outcome_events_imported: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


def learnings_document(
    learnings: Sequence[Learning], usage: Mapping[str, UsageStats] | None = None
) -> dict:
    """The ``GrooveExport`` header and ``learnings`` list: each learning in the given order
    with its usage stats from ``usage`` (id -> stats; the prior's defaults when missing)."""
    usage = usage or {}
    return {
        "version": EXPORT_VERSION,
        "exported_at": to_rfc3339(now()),
        "learnings": [
            {**lr.to_json(), "usage_stats": usage_to_json(usage.get(lr.id, UsageStats()))}
            for lr in learnings
        ],
    }


def export_document(tier: Tier) -> dict:
    """The ``GrooveExport`` dict of a tier: every learning with its usage stats, every
    parameter, every relation, and (groove's extension) every history entry and outcome
    event.

    Raises: DataContractError when a learning's row cannot be read (an export is whole or
    not made: ``groove backup`` copies the database as it is)."""
    learnings = list(tier.learnings.iter_all(skip_unreadable=False))  # whole, or refused
    usage: dict[str, UsageStats] = {}
    ids = [lr.id for lr in learnings]
    for start in range(0, len(ids), 1000):
        usage.update(tier.learnings.usage_many(ids[start : start + 1000]))
    return {
        **learnings_document(learnings, usage),
        "params": [p.to_json() for p in tier.params.all_params()],
        "relations": [r.to_json() for r in tier.learnings.all_relations()],
        "history": [e.to_json() for e in tier.learnings.all_history()],
        "outcome_events": [e.to_json() for e in tier.learnings.all_outcome_events()],
    }


def export_file(tier: Tier, path: str | os.PathLike, *, overwrite: bool = False) -> dict:
    """Write the tier's export to ``path`` (atomically: a temp file renamed over it).
    Returns the counts written (``learnings``, ``params``, ``relations``, ``history``,
    ``outcome_events``).

    An existing file is replaced only with ``overwrite``; a path that is a symlink, a
    device or anything but a regular file never is (the rename would replace the link
    or the device itself).

    Raises:
        ValidationError: ``path`` names a folder, a missing folder, an existing file
            (without ``overwrite``) or something that is not a regular file; nothing is
            written. OSError: the file cannot be written (the temp file is removed).
    """
    path = Path(path)
    if not path.name or path.is_dir():
        raise ValidationError(f"cannot export to {str(path)!r}: it is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValidationError(
            f"cannot export to {str(path)!r}: folder {path.parent} does not exist"
        )
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ValidationError(
            f"cannot export to {str(path)!r}: it is a link or a special file, not a file "
            "groove would replace"
        )
    if path.exists() and not overwrite:
        raise ValidationError(
            f"{str(path)!r} exists already; choose a new file name or overwrite it "
            "(nothing was written)"
        )
    doc = export_document(tier)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return {k: len(doc[k]) for k in ("learnings", "params", "relations", *_EXTRA)}


_EXTRA = ("history", "outcome_events")


@dataclass
class ExportFile:
    """A validated ``GrooveExport``: its learnings (duplicates within the file settled
    by ``on_conflict``), their usage stats by id, relations, params, history entries and
    outcome events, the ids repeated in the file,
    and each learning's record name (``learnings[3]``) for messages."""

    path: str
    learnings: list[Learning]
    usage: dict[str, UsageStats]
    relations: list[LearningRelation]
    params: list[SystemParam]
    history: list[Edit]
    outcome_events: list[OutcomeEvent]
    duplicates: list[str]
    records: dict[str, str]


def read_export(path: str | os.PathLike, *, on_conflict: str = "fail") -> ExportFile:
    """Read and validate a ``GrooveExport`` file; nothing is written.

    Raises:
        ImportFileError: unreadable, larger than 512 MiB, not UTF-8, or malformed (see
            :func:`parse_export`).
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ImportFileError(str(path), None, "file is larger than 512 MiB")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ImportFileError(
            str(path), None, f"not UTF-8 text (byte {err.start}: {err.reason})"
        ) from None
    except OSError as err:
        raise ImportFileError(str(path), None, f"cannot read: {err.strerror or err}") from None
    return parse_export(text, str(path), on_conflict=on_conflict)


def parse_export(text: str, path: str = "<export>", *, on_conflict: str = "fail") -> ExportFile:
    """Validate a whole ``GrooveExport`` document before anything is written.

    Raises:
        ImportFileError: not JSON (with its line), nested too deeply, a version this code
            does not know, a record that does not fit the data model or cannot be stored
            exactly (named by its JSON path, the learning's id and the field), or the same
            learning id twice with different content when ``on_conflict`` is ``fail``.
    """
    if on_conflict not in ON_CONFLICT:
        raise ImportFileError(path, None, f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
    doc = _load_json(text, path)
    if not isinstance(doc, dict) or not isinstance(doc.get("learnings"), list):
        raise ImportFileError(path, None, "not a groove export (no 'learnings' list)")
    version = doc.get("version")
    if type(version) is not int or version != EXPORT_VERSION:
        said = (
            f"'version' must be the number {EXPORT_VERSION}, not the {type(version).__name__} "
            f"{version!r:.40}"
            if type(version) is not int
            else f"export version {version} is not supported (this groove reads version "
            f"{EXPORT_VERSION})"
        )
        raise ImportFileError(path, None, said)
    for key in ("params", "relations", *_EXTRA):
        if not isinstance(doc.get(key, []), list):
            raise ImportFileError(path, None, f"'{key}' must be a list")
    out = ExportFile(path, [], {}, [], [], [], [], [], {})
    kept: dict[str, int] = {}  # id -> index into out.learnings
    where = ""
    try:
        for i, item in enumerate(doc["learnings"]):
            where = _record("learnings", i, item)
            learning = Learning.from_json(_object(item))
            stats = usage_from_json(item["usage_stats"]) if "usage_stats" in item else None
            if learning.id not in kept:
                kept[learning.id] = len(out.learnings)
                out.learnings.append(learning)
                out.records[learning.id] = where
            else:
                first = out.records[learning.id]
                out.duplicates.append(learning.id)
                if not same_content(out.learnings[kept[learning.id]], learning):
                    if on_conflict == "fail":
                        raise GrooveError(
                            f"repeats the id of {first} with different content; choose "
                            "which one counts with --on-conflict skip (the first) or "
                            "replace (the last)"
                        )
                    if on_conflict == "skip":
                        continue
                out.learnings[kept[learning.id]] = learning
                out.records[learning.id] = where
            if stats is not None:
                out.usage[learning.id] = stats
        readers: list[tuple[str, Callable[[Any], Any], list]] = [
            ("relations", LearningRelation.from_json, out.relations),
            ("params", SystemParam.from_json, out.params),
            ("history", Edit.from_json, out.history),
            ("outcome_events", OutcomeEvent.from_json, out.outcome_events),
        ]
        for key, read, into in readers:
            for i, item in enumerate(doc.get(key, [])):
                where = _record(key, i, item)
                into.append(read(_object(item)))
    except GrooveError as err:
        raise ImportFileError(path, None, f"{where}: {err}") from None
    return out


def _load_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportFileError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    except RecursionError:
        raise ImportFileError(
            path, None, "arrays or objects are nested too deeply to read (about 1,000 levels)"
        ) from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise ImportFileError(path, None, f"a value cannot be read: {err}") from None


def _object(item: Any) -> dict:
    if not isinstance(item, dict):
        raise GrooveError(f"must be an object, got {json.dumps(item)[:60]}")
    return item


def _record(key: str, i: int, item: Any) -> str:
    """``learnings[3] (id 0193...)`` naming a record for messages."""
    ident = item.get("id") or item.get("learning_id") if isinstance(item, dict) else None
    return f"{key}[{i}] (id {ident[:40]})" if isinstance(ident, str) else f"{key}[{i}]"


def same_content(a: Learning, b: Learning) -> bool:
    """True when two learnings with one id say the same thing: scope, category, content,
    source and creation time agree (confidence and ``updated_at`` follow usage and may
    differ)."""
    return (a.scope, a.category, a.content, a.source, a.created_at) == (
        b.scope,
        b.category,
        b.content,
        b.source,
        b.created_at,
    )


@dataclass
class ImportPlan:
    """What importing some export files into a tier writes: learnings (new and
    replaced) with their usage stats, relations, params, history and outcome events,
    plus one :class:`ImportStats` per file."""

    learnings: list[Learning] = field(default_factory=list)
    usage: dict[str, UsageStats] = field(default_factory=dict)
    relations: list[LearningRelation] = field(default_factory=list)
    params: list[SystemParam] = field(default_factory=list)
    history: list[Edit] = field(default_factory=list)
    outcome_events: list[OutcomeEvent] = field(default_factory=list)
    stats: list[ImportStats] = field(default_factory=list)


def plan_import(
    tier: Tier, files: Sequence[ExportFile], *, on_conflict: str = "fail", embed: bool = True
) -> ImportPlan:
    """Compare validated export files with the tier and decide what to write (nothing is
    written). A learning id in two files is settled like a duplicate within one file.

    Raises:
        ImportFileError: with ``on_conflict="fail"``, learnings already in the tier (or in
            an earlier file) with different content; the message lists them.
    """
    plan = ImportPlan()
    ids = [lr.id for f in files for lr in f.learnings]
    existing = {lr.id: lr for lr in tier.learnings.get_many(list(dict.fromkeys(ids)))}
    taken: dict[str, tuple[int, Learning]] = {}  # written by this import: id -> (index, lr)
    for f in files:
        stats = ImportStats(duplicates=sorted(set(f.duplicates)))
        clashes = []
        written: set[str] = set()
        for lr in f.learnings:
            earlier = taken[lr.id][1] if lr.id in taken else existing.get(lr.id)
            if earlier is not None and same_content(earlier, lr):
                stats.learnings_skipped += 1
                continue
            if earlier is not None:
                stats.conflicts.append(lr.id)
                clashes.append(f"{lr.id} ({f.records[lr.id]})")
                if on_conflict != "replace":
                    stats.learnings_skipped += 1
                    continue
                stats.learnings_replaced += 1
            else:
                stats.learnings_imported += 1
            index = taken[lr.id][0] if lr.id in taken else len(plan.learnings)
            if index == len(plan.learnings):
                plan.learnings.append(lr)
            plan.learnings[index] = lr
            taken[lr.id] = (index, lr)
            plan.usage[lr.id] = f.usage.get(lr.id, UsageStats())
            written.add(lr.id)
        if clashes and on_conflict == "fail":
            more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
            raise ImportFileError(
                f.path,
                None,
                f"{len(clashes)} learning(s) already in tier '{tier.name}' (or earlier in "
                f"this import) with different content: {', '.join(clashes[:5])}{more}; "
                "nothing was written. Choose with --on-conflict skip (keep the tier's) or "
                "replace (take the file's)",
            )
        in_file = set(f.records)
        carry = [e for e in f.history if e.learning_id in written or e.learning_id not in in_file]
        events = [
            e for e in f.outcome_events if e.learning_id in written or e.learning_id not in in_file
        ]
        plan.history += carry
        plan.outcome_events += events
        plan.params += f.params
        stats.params_imported = len(f.params)
        stats.history_imported = len(carry)
        stats.outcome_events_imported = len(events)
        stats.embeddings_queued = len(written) if embed else 0
        plan.stats.append(stats)
    ids_after = set(existing) | set(taken)
    for f, stats in zip(files, plan.stats, strict=True):
        ends = {end for r in f.relations for end in (r.from_id, r.to_id)} - ids_after
        if ends:  # relations may point at learnings of the tier not in any file
            ids_after |= {lr.id for lr in tier.learnings.get_many(sorted(ends))}
        rels = [
            r
            for r in f.relations
            if r.from_id in ids_after and r.to_id in ids_after and r.from_id != r.to_id
        ]
        plan.relations += rels
        stats.relations_imported = len(rels)
        stats.relations_skipped = len(f.relations) - len(rels)
    return plan


def write_plan(
    tier: Tier,
    plan: ImportPlan,
    *,
    also: Sequence[Learning] = (),
    actor: Principal | None = None,
    vectors: Any = None,
    findings: dict | None = None,
    override_reason: str | None = None,
    detail: dict | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Write a plan (and the learnings ``also``, e.g. from rule files) in ONE transaction
    as a ``learning.import`` by ``actor`` (see
    :meth:`~groove_core.store.learnings.LearningStore.store_many` for ``vectors``, one
    per learning of ``also`` then of the plan, ``findings`` and ``override_reason``);
    ``progress`` receives ``Progress("embedding", done, total)`` after each batch the
    model embeds (docs/architecture.md#progress).

    Raises:
        PermissionDeniedError, ContentBlockedError: nothing was written.
    """
    tier.learnings.store_many(
        [*also, *plan.learnings],
        actor=actor,
        action=Action.learning_import,
        usage=plan.usage,
        relations=plan.relations,
        system_params=plan.params,
        history=plan.history,
        outcome_events=plan.outcome_events,
        vectors=vectors,
        findings=findings,
        override_reason=override_reason,
        detail=detail,
        embed_progress=progress,
    )


def import_file(
    tier: Tier,
    path: str | os.PathLike,
    *,
    on_conflict: str = "fail",
    actor: Principal | None = None,
    override_reason: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportStats:
    """Import a ``GrooveExport`` file into ``tier`` in ONE transaction (see the module
    docstring for conflicts, history and outcome events).

    Args:
        on_conflict: ``fail``, ``skip`` or ``replace`` (see the module docstring).
        actor: who imports (default: the tier's acting principal).
        override_reason: a curator's reason to import flagged content into an enterprise
            tier.
        progress: receives ``Progress("embedding", done, total)`` after each batch the
            model embeds (docs/architecture.md#progress).

    Raises:
        ImportFileError: the file is unreadable, too large or malformed, or a conflict with
            ``on_conflict="fail"``; nothing written.
        PermissionDeniedError: the actor may not import here (a curator's job in an
            enterprise tier); ContentBlockedError: flagged content in an enterprise tier.
    """
    doc = read_export(path, on_conflict=on_conflict)
    plan = plan_import(
        tier, [doc], on_conflict=on_conflict, embed=tier.learnings.embedder is not None
    )
    write_plan(tier, plan, actor=actor, override_reason=override_reason, progress=progress)
    return plan.stats[0]
