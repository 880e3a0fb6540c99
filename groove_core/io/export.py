"""Export and import of seed 001's ``GrooveExport`` JSON (version 1).

File shape (serde's default JSON of the Rust types)::

    {"version": 1, "exported_at": "2026-01-02T03:04:05Z",
     "learnings": [{...Learning fields..., "usage_stats": {...}}],
     "params": [{"name": ..., "param": {...}, "updated_at": ...}],
     "relations": [{"from_id": ..., "relation_type": "Supersedes", ...}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groove_core.errors import GrooveError, ImportFileError
from groove_core.model.access import Action, Principal
from groove_core.model.learning import Learning
from groove_core.model.params import SystemParam
from groove_core.model.relations import LearningRelation
from groove_core.model.serde import now, to_rfc3339
from groove_core.model.usage import UsageStats, usage_from_json, usage_to_json

EXPORT_VERSION = 1
MAX_EXPORT_BYTES = 512 * 1024 * 1024


@dataclass
class ImportStats:
    """Seed 001's ``ImportStats``: what an import wrote or skipped (counts)."""

    learnings_imported: int = 0
    learnings_skipped: int = 0
    params_imported: int = 0
    relations_imported: int = 0
    embeddings_queued: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


def export_document(tier: Any) -> dict:
    """The ``GrooveExport`` dict of a tier (every learning with its usage stats, every
    parameter, every relation)."""
    learnings = list(tier.learnings.iter_all())
    usage: dict[str, UsageStats] = {}
    ids = [lr.id for lr in learnings]
    for start in range(0, len(ids), 1000):
        usage.update(tier.learnings.usage_many(ids[start : start + 1000]))
    relations = tier.learnings.all_relations()
    return {
        "version": EXPORT_VERSION,
        "exported_at": to_rfc3339(now()),
        "learnings": [
            {**lr.to_json(), "usage_stats": usage_to_json(usage.get(lr.id, UsageStats()))}
            for lr in learnings
        ],
        "params": [p.to_json() for p in tier.params.all_params()],
        "relations": [r.to_json() for r in relations],
    }


def export_file(tier: Any, path: str | os.PathLike) -> dict:
    """Write the tier's export to ``path`` (atomically: a temp file renamed over it).
    Returns the counts written."""
    doc = export_document(tier)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    tmp.replace(path)
    return {k: len(doc[k]) for k in ("learnings", "params", "relations")}


def parse_export(
    text: str, path: str = "<export>"
) -> tuple[list[Learning], dict[str, UsageStats], list[LearningRelation], list[SystemParam]]:
    """Validate a whole ``GrooveExport`` document before anything is written.

    Raises:
        ImportFileError: not JSON (with line), a version this code does not know, or an
            element that does not fit the data model (named by its JSON path).
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportFileError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    if not isinstance(doc, dict) or "learnings" not in doc:
        raise ImportFileError(path, None, "not a groove export (no 'learnings' list)")
    version = doc.get("version")
    if version != EXPORT_VERSION:
        raise ImportFileError(
            path,
            None,
            f"export version {version!r} is not supported (this groove reads "
            f"version {EXPORT_VERSION})",
        )
    learnings: list[Learning] = []
    usage: dict[str, UsageStats] = {}
    relations: list[LearningRelation] = []
    params: list[SystemParam] = []
    for key in ("learnings", "params", "relations"):
        if not isinstance(doc.get(key, []), list):
            raise ImportFileError(path, None, f"'{key}' must be a list")
    where = ""
    try:
        for i, item in enumerate(doc["learnings"]):
            where = f"learnings[{i}]"
            learning = Learning.from_json(item)
            learnings.append(learning)
            if "usage_stats" in item:
                usage[learning.id] = usage_from_json(item["usage_stats"])
        for i, item in enumerate(doc.get("relations", [])):
            where = f"relations[{i}]"
            relations.append(LearningRelation.from_json(item))
        for i, item in enumerate(doc.get("params", [])):
            where = f"params[{i}]"
            params.append(SystemParam.from_json(item))
    except GrooveError as err:
        raise ImportFileError(path, None, f"{where}: {err}") from None
    return learnings, usage, relations, params


def import_file(
    tier: Any,
    path: str | os.PathLike,
    *,
    actor: Principal | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportStats:
    """Import a ``GrooveExport`` file into ``tier`` in ONE transaction.

    Learnings whose id already exists in the tier are skipped (so importing twice adds
    nothing); relations are imported when both ends exist after the import.

    Raises:
        ImportFileError: the file is unreadable, too large or malformed; nothing written.
        PermissionDeniedError: the actor may not import here (a curator's job in an
            enterprise tier); ContentBlockedError: flagged content in an enterprise tier.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ImportFileError(str(path), None, "file is larger than 512 MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ImportFileError(str(path), None, f"cannot read: {err}") from None
    learnings, usage, relations, params = parse_export(text, str(path))
    existing = {lr.id for lr in tier.learnings.get_many([lr.id for lr in learnings])}
    new = [lr for lr in learnings if lr.id not in existing]
    new = list({lr.id: lr for lr in new}.values())
    ids_after = existing | {lr.id for lr in new}
    missing = {end for r in relations for end in (r.from_id, r.to_id) if end not in ids_after}
    if missing:
        present = {lr.id for lr in tier.learnings.get_many(sorted(missing))}
        ids_after |= present
    rels = [r for r in relations if r.from_id in ids_after and r.to_id in ids_after]
    tier.learnings.store_many(
        new,
        actor=actor,
        action=Action.learning_import,
        usage={i: s for i, s in usage.items()},
        relations=rels,
        system_params=params,
        embed_progress=progress,
    )
    return ImportStats(
        learnings_imported=len(new),
        learnings_skipped=len(learnings) - len(new),
        params_imported=len(params),
        relations_imported=len(rels),
        embeddings_queued=len(new) if tier.learnings.embedder is not None else 0,
    )
