"""Backups of whole tiers with the engine's own backup (``groove backup``,
``groove restore-backup``).

A backup is Cozo's: a SQLite file holding every stored relation (learnings, history,
outcome events, roles, proposals, the audit log...), written from a consistent snapshot,
so it can be taken while the dashboard or the assistant has the tier open. A restore
only ever fills a new or empty tier: it never overwrites data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groove_core.config import tier_kind
from groove_core.errors import GrooveError, PermissionDeniedError, TierUnavailableError
from groove_core.model.access import Action
from groove_core.store.access import backup_facts
from groove_core.store.engine import Engine

if TYPE_CHECKING:
    from groove_core.tiers import Groove, Tier

_SQLITE_MAGIC = b"SQLite format 3\x00"


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_tier(tier: Tier, dest: str | os.PathLike) -> dict[str, Any]:
    """Write a backup of ``tier`` to ``dest``.

    Returns: ``{"file", "bytes", "sha256"}`` of the written backup.

    Raises:
        GrooveError: ``dest`` exists already (nothing is overwritten), or the tier is an
            http tier (back those up on their Cozo server).
        DatabaseError: the engine's backup failed (a partial file is removed).
    """
    try:
        dest = Path(dest).expanduser().resolve()
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        raise GrooveError(f"cannot write a backup to {dest}: {err}") from None
    if tier.db.kind == "http":
        raise GrooveError(f"tier '{tier.name}' lives on a Cozo server: back it up there")
    if dest.exists():
        raise GrooveError(f"{dest} exists already; choose a new file name (nothing was written)")
    if not dest.parent.is_dir():
        raise GrooveError(f"folder {dest.parent} does not exist")
    try:
        tier.db.backup(dest)
    except GrooveError:
        dest.unlink(missing_ok=True)
        raise
    return {"file": str(dest), "bytes": dest.stat().st_size, "sha256": file_sha256(dest)}


def _checked_backup(src: str | os.PathLike) -> Path:
    """``src`` resolved, once it proves to be a whole backup: a SQLite file that passes
    SQLite's ``quick_check`` (a truncated or damaged copy does not) and holds Cozo's
    store (the ``cozo`` table: not any SQLite file). Read with Python's sqlite3,
    read-only: the file is never a tier's database, so no lock of an engine is touched.

    Raises: GrooveError naming the file and what is wrong with it."""
    try:
        path = Path(src).expanduser().resolve()
        with path.open("rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        raise GrooveError(f"cannot read {src}: {getattr(err, 'strerror', None) or err}") from None
    if magic != _SQLITE_MAGIC:
        raise GrooveError(f"{path} is not a groove backup (not a SQLite file)")
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        ) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as err:
        raise GrooveError(f"{path} is damaged or truncated ({err}): not restored") from None
    if check != "ok":
        raise GrooveError(f"{path} is damaged ({check}): not restored")
    if "cozo" not in tables:
        raise GrooveError(f"{path} is a SQLite file but not a groove backup (no Cozo store)")
    return path


def restore_tier(groove: Groove, name: str, src: str | os.PathLike) -> Tier:
    """Restore the backup ``src`` into tier ``name`` of ``groove``, which must be new or
    empty; the tier is then opened (migrated when the backup is older than this groove)
    and the restore is recorded in its audit log. Returns the opened tier.

    An enterprise tier is restored only from a backup that names ``groove.principal`` as
    an admin (its ``tier_role``): any other file (a user tier's backup, unscanned content,
    no admin to be claimed by whoever comes first) would become the company's shared
    memory on no one's authority. An enterprise tier's backup restores only into an
    enterprise tier.

    Raises:
        GrooveError: ``src`` is missing or not a backup, the tier holds data, or an
            enterprise backup is restored into another kind of tier (nothing is changed).
        PermissionDeniedError: into an enterprise tier, a backup that does not name the
            principal as its admin (nothing is changed).
        TierUnavailableError / DatabaseError: the tier cannot be opened or restored.
    """
    src = _checked_backup(src)
    name = groove.resolve(name)
    if name in {t.name for t in groove.open_tiers()}:
        raise GrooveError(f"tier '{name}' is open and holds data; restore into a new tier")
    cfg = groove.config.tier(name)
    if cfg.engine in ("http", "mem"):
        raise GrooveError(f"tier '{name}' uses the {cfg.engine} engine: restore into a file tier")
    me, kind = groove.principal, tier_kind(name)
    recorded, admins = backup_facts(src)
    if recorded == "enterprise" and kind != "enterprise":
        raise GrooveError(
            f"{src} is an enterprise tier's backup: it restores only into an enterprise tier "
            "(under another kind its roles and review would not apply); nothing was changed"
        )
    if kind == "enterprise" and me.id not in admins:
        named = f"names {', '.join(sorted(admins))} as admin" if admins else "has no admin"
        raise PermissionDeniedError(
            Action.tier_restore.value,
            name,
            "admin",
            me.id,
            f"a backup becomes an enterprise tier only for an admin it names, and this one "
            f"{named} (nothing was changed)",
        )
    with Engine(name, cfg.engine, cfg.path, cfg.options) as db:
        if not db.is_empty():
            raise TierUnavailableError(
                name,
                f"{db.location} holds data; restore into a new tier name, or move that "
                "database away first (nothing was changed)",
            )
        db.restore(src)
    tier = groove.tier(name)
    tier.writer.write(
        Action.tier_restore,
        "tier",
        [],
        {},
        detail={"file": str(src), "sha256": file_sha256(src)},
        check=False,
    )
    return tier


__all__ = ["backup_tier", "file_sha256", "restore_tier"]
