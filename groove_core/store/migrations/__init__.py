"""Numbered schema migrations and their runner (sqlite-utils' migrations registry is the model).

Each migration module has ``VERSION``, ``DESCRIPTION``, ``CONTRACT`` (versions 1-3 are
the data contract shared with vibes-groove and are never rolled back), ``up(db)``
returning the statements to run and, for groove's own versions, ``down(db)``.
A step runs as ONE chained Cozo program together with its ``schema_version`` row, so it
applies whole or not at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from groove_core.errors import DatabaseError, MigrationError, SchemaTooNewError
from groove_core.model.access import Action, Principal, os_principal
from groove_core.progress import Progress, ProgressFn
from groove_core.store.engine import Engine
from groove_core.store.migrations import (
    m001_initial,
    m002_openworld,
    m003_attribution,
    m004_learning_extras,
    m005_attribution_extras,
    m006_openworld_extras,
    m007_usage_rows,
    m008_access,
    m009_search_log,
    m010_drop_cozo_fulltext,
    m011_tier_info,
)
from groove_core.store.writer import TierWriter

MIGRATIONS: list[ModuleType] = [
    m001_initial,
    m002_openworld,
    m003_attribution,
    m004_learning_extras,
    m005_attribution_extras,
    m006_openworld_extras,
    m007_usage_rows,
    m008_access,
    m009_search_log,
    m010_drop_cozo_fulltext,
    m011_tier_info,
]
LATEST = max(m.VERSION for m in MIGRATIONS)
_BY_VERSION = {m.VERSION: m for m in MIGRATIONS}

_RECORD = (
    "?[version, applied_at, description] <- [[$version, $applied_at, $description]] "
    ":put schema_version {version => applied_at, description}"
)
_UNRECORD = "?[version] <- [[$version]] :rm schema_version {version}"


@dataclass(frozen=True)
class MigrationStatus:
    """One known or recorded migration: ``applied_at`` is Unix seconds or None if pending."""

    version: int
    description: str
    applied_at: int | None
    contract: bool
    reversible: bool


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate` did: versions before and after, steps run, backup written."""

    from_version: int
    to_version: int
    applied: list[int]
    rolled_back: list[int]
    backup: Path | None


def current_version(db: Engine) -> int:
    """Highest recorded schema version (0 for an empty database).

    Raises:
        MigrationError: the database holds relations but no ``schema_version``: it was not
            written by groove or vibes-groove.
    """
    relations = db.relations()
    if "schema_version" not in relations:
        if relations:
            names = ", ".join(sorted(relations)[:5])
            raise MigrationError(
                f"tier '{db.tier}' at {db.location} is not a groove database "
                f"(it has relations {names} but no schema_version)"
            )
        return 0
    return int(db.run("?[max(version)] := *schema_version{version}", read_only=True).scalar(0) or 0)


def status(db: Engine) -> list[MigrationStatus]:
    """Every known migration and every recorded one, in version order."""
    recorded: dict[int, dict] = {}
    if "schema_version" in db.relations():
        for row in db.run(
            "?[version, applied_at, description] := "
            "*schema_version{version, applied_at, description}",
            read_only=True,
        ).dicts():
            recorded[row["version"]] = row
    out = []
    for version in sorted(set(recorded) | set(_BY_VERSION)):
        mod = _BY_VERSION.get(version)
        rec = recorded.get(version)
        out.append(
            MigrationStatus(
                version=version,
                description=mod.DESCRIPTION if mod else rec["description"],
                applied_at=rec["applied_at"] if rec else None,
                contract=bool(mod and mod.CONTRACT),
                reversible=bool(mod and not mod.CONTRACT and hasattr(mod, "down")),
            )
        )
    return out


def _backup(db: Engine, version: int, report: ProgressFn) -> Path | None:
    if db.path is None or db.is_empty():
        return None
    report(Progress(f"backing up tier '{db.tier}' before migrating", message=str(db.path)))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = db.path.with_name(f"{db.path.name}.v{version}-{stamp}.backup")
    n = 1
    while dest.exists():
        n += 1
        dest = db.path.with_name(f"{db.path.name}.v{version}-{stamp}-{n}.backup")
    return db.backup(dest)


def migrate(
    db: Engine,
    target: int | None = None,
    *,
    backup: bool = True,
    actor: Principal | None = None,
    writer: TierWriter | None = None,
    progress: ProgressFn | None = None,
) -> MigrationReport:
    """Bring ``db`` to schema ``target`` (default: the latest this code knows).

    An existing tier that needs a change reports :class:`~groove_core.progress.Progress`
    to ``progress`` (a new one does not): the backup, then each step (``done`` steps of
    ``total``; a step is one transaction, which may take tens of seconds on a large tier).

    From version 8 on, each step is recorded in the audit log (action ``tier.migrate``, or
    ``tier.rollback`` going down) by ``actor`` (default: the OS account) in the step's own
    transaction.

    Going up applies each pending step in order; going down runs the ``down`` of groove's
    own versions (never below version 3, the data contract), and only for a principal
    with the tier's admin role (it drops data: history, roles, the audit log). Before any
    change to a non-empty persistent tier a backup is written beside it
    (``<db>.v<N>-<time>.backup``), unless every step only adds a relation of its own (a
    step module's ``ADDITIVE``).

    Raises:
        PermissionDeniedError: going down, by a principal who is not the tier's admin.
        SchemaTooNewError: the tier's version is newer than this code knows; untouched.
        MigrationError: a step failed (the tier stays at the last complete version) or the
            target is unknown or below the contract versions.
    """
    start = current_version(db)
    writer = writer or TierWriter(db, actor or os_principal())
    if start > LATEST or start == (LATEST if target is None else target):
        return _migrate(db, start, target, backup, writer, progress)
    with db.write_lock():  # other processes opening the tier wait rather than race
        return _migrate(db, current_version(db), target, backup, writer, progress)


def _migrate(
    db: Engine,
    start: int,
    target: int | None,
    backup: bool,
    writer: TierWriter,
    progress: ProgressFn | None,
) -> MigrationReport:
    if start > LATEST:
        raise SchemaTooNewError(
            db.tier,
            f"{db.location} has schema version {start}, but this groove knows versions up "
            f"to {LATEST}; upgrade groove to open it (nothing was changed)",
        )
    target = LATEST if target is None else int(target)
    if target not in _BY_VERSION:
        raise MigrationError(f"unknown schema version {target} (known: 1..{LATEST})")
    applied: list[int] = []
    rolled: list[int] = []
    if target == start:
        return MigrationReport(start, start, applied, rolled, None)
    for version in range(start, target, -1):
        step = _BY_VERSION[version]
        if step.CONTRACT or not hasattr(step, "down"):
            raise MigrationError(
                f"version {version} ({step.DESCRIPTION}) is part of the shared data contract "
                "and cannot be rolled back"
            )
    if target < start:  # drops what later versions hold (history, roles, the audit log)
        writer.authorize(Action.tier_rollback)
    # creating a tier (from version 0) is not news; changing an existing one may be long
    report = progress if progress is not None and start > 0 else (lambda _p: None)
    # a backup guards the data a step changes; steps that only add a relation of their
    # own (ADDITIVE) change none (at 100,000 learnings the backup takes ~30 s)
    additive = target > start and all(
        getattr(_BY_VERSION[v], "ADDITIVE", False) for v in range(start + 1, target + 1)
    )
    written = _backup(db, start, report) if backup and not additive else None
    stage, steps = f"migrating tier '{db.tier}'", abs(target - start)
    version = start
    while version != target:
        up = version < target
        step = _BY_VERSION[version + 1 if up else version]
        done = abs(version - start)
        report(Progress(stage, done, steps, f"schema version {step.VERSION}: {step.DESCRIPTION}"))
        if up:
            _run_step(writer, step, step.up(db) + [_RECORD], up=True)
            applied.append(step.VERSION)
            version = step.VERSION
        else:
            _run_step(writer, step, step.down(db) + [_UNRECORD], up=False)
            rolled.append(version)
            version -= 1
    report(Progress(stage, steps, steps, f"at schema version {version}"))
    return MigrationReport(start, version, applied, rolled, written)


def _run_step(writer: TierWriter, step: ModuleType, blocks: list[str], *, up: bool) -> None:
    db = writer.db
    params = {
        "version": step.VERSION,
        "applied_at": int(time.time()),
        "description": step.DESCRIPTION,
        "tier_kind": writer.kind,
        "tier_name": db.tier,
    }
    try:
        writer.write(
            Action.tier_migrate if up else Action.tier_rollback,
            "schema",
            blocks,
            params,
            detail={"version": step.VERSION, "direction": "up" if up else "down"},
            check=not up,  # up: whoever opens the tier; down: its admin (asserted)
            new_log=up and step.VERSION == m008_access.VERSION,
        )
    except DatabaseError as err:
        # Another process may have applied the same step a moment ago.
        now_at = current_version(db)
        if (up and now_at >= step.VERSION) or (not up and now_at < step.VERSION):
            return
        verb = "apply" if up else "roll back"
        raise MigrationError(
            f"could not {verb} schema version {step.VERSION} ({step.DESCRIPTION}) on tier "
            f"'{db.tier}': {err}; the tier stays at version {now_at}"
        ) from None
