"""groove's home folder and its ``config.toml``.

The home is ``--home DIR``, else ``$GROOVE_HOME``, else the platform's user data folder
(platformdirs; ``~/.local/share/groove`` on Linux). ``config.toml`` holds one
``[tiers.<name>]`` table per configured tier::

    [tiers.user]
    engine = "sqlite"          # sqlite | rocksdb | mem | http
    path = "user.db"           # relative to the home

    [tiers."enterprise:acme"]
    engine = "http"
    host = "http://127.0.0.1:9070"
    auth = "secret"

    busy_timeout = 30          # optional: seconds an open or a write waits for other
                               # processes before it fails (default 5)

An optional ``[identity]`` table names who acts (``email = "alice@example.com"``,
``name = "Alice"``); without it the OS account acts.

Tier names are ``user``, ``project:<path>``, ``enterprise:<org>`` and
``simulation:<name>`` (synthetic data written by ``groove simulate``, kept apart from the
real tiers), in printable text (:func:`tier_kind` refuses control characters before
anything is written). An unconfigured project, enterprise or simulation tier gets a
sqlite file under the home; it is added to ``config.toml`` (:meth:`Config.record`) once
it holds data, never by an operation that failed. ``config.toml`` is edited with tomlkit,
so the user's comments and layout stay, under a file lock, and replaced atomically (a
temp file renamed over it) after the new text was checked to parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from groove_core.errors import ConfigError, GrooveError, ValidationError
from groove_core.locking import InterProcessLock
from groove_core.model.access import Principal, os_principal
from groove_core.model.values import check_text
from groove_core.store.engine import ENGINES

#: Longest tier name (a project tier's name holds a path: Linux's PATH_MAX).
MAX_TIER_NAME = 4096
#: Seconds a ``config.toml`` edit waits for another process editing it.
CONFIG_LOCK_TIMEOUT = 10.0

DEFAULT_CONFIG = """# groove configuration: one [tiers.<name>] table per tier.
# engine: sqlite (default; a dashboard and the CLI can share it), rocksdb (one process),
# mem (nothing kept) or http (a Cozo server: host = "http://...", auth = "...").
# Relative paths are relative to this folder.

[tiers.user]
engine = "sqlite"
path = "user.db"
"""


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The groove home: ``home`` if given, else ``$GROOVE_HOME``, else platformdirs'.

    Raises: ConfigError when the path cannot be resolved (a symlink loop)."""
    chosen = home or os.environ.get("GROOVE_HOME") or platformdirs.user_data_dir("groove")
    try:
        return Path(chosen).expanduser().resolve()
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        raise ConfigError(f"groove home {chosen} cannot be used: {err}") from None


#: Tier kinds holding synthetic data only (never read across tiers unless named).
SYNTHETIC_KINDS = ("simulation",)
_FOLDERS = {"project": "projects", "enterprise": "enterprise", "simulation": "simulations"}


def tier_kind(name: str) -> str:
    """``user``, ``project``, ``enterprise`` or ``simulation`` for a tier name.

    Raises:
        ConfigError: the name is none of ``user``, ``project:<path>``, ``enterprise:<org>``,
            ``simulation:<name>``, or holds text that cannot be a TOML key and file name
            (control or format characters, a lone surrogate) or is longer than
            :data:`MAX_TIER_NAME`.
    """
    if name == "user":
        return "user"
    try:
        check_text(name, "the tier name", max_chars=MAX_TIER_NAME, name=True)
    except GrooveError as err:
        raise ConfigError(f"invalid tier name {name!r:.80}: {err}") from None
    kind, sep, rest = name.partition(":")
    if sep and rest.strip() and kind in _FOLDERS:
        return kind
    raise ConfigError(
        f"invalid tier name {name!r:.80}: use user, project:<path>, enterprise:<org> or "
        "simulation:<name>"
    )


@dataclass(frozen=True)
class TierConfig:
    """How to open one tier: ``engine`` and ``path`` (sqlite/rocksdb) or ``host``/``auth``;
    ``busy_timeout`` (seconds) when the tier sets its own."""

    name: str
    engine: str = "sqlite"
    path: Path | None = None
    host: str | None = None
    auth: str | None = None
    busy_timeout: float | None = None

    @property
    def options(self) -> dict:
        return {"host": self.host, "auth": self.auth} if self.engine == "http" else {}


class Config:
    """The parsed ``config.toml`` of a home (written with defaults when missing).

    Raises:
        ConfigError: the file is not valid TOML or a tier table is malformed (the message
            names the file and the tier).
    """

    def __init__(self, home: Path, *, create: bool = True):
        self.home = home
        self.path = home / "config.toml"
        if not self.path.exists() and create:
            try:
                home.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ConfigError(f"cannot create the groove home {home}: {err}") from None
            with self._editing():
                if not self.path.exists():
                    self._replace(DEFAULT_CONFIG)
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{self.path} is not valid TOML: {err}") from None
        except OSError as err:
            raise ConfigError(f"cannot read {self.path}: {err}") from None
        tiers = data.get("tiers", {})
        if not isinstance(tiers, dict):
            raise ConfigError(f"{self.path}: [tiers] must be a table of tier tables")
        self.tiers: dict[str, TierConfig] = {}
        for name, table in tiers.items():
            self.tiers[name] = self._parse(name, table)
        self.tiers.setdefault("user", TierConfig("user", "sqlite", self.home / "user.db"))
        self.identity = self._identity(data.get("identity"))

    def _identity(self, table: object) -> Principal:
        """The principal of this home: ``[identity]`` (``email``, ``name``) when present,
        else the OS account (see :func:`groove_core.model.access.os_principal`)."""
        if table is None:
            return os_principal()
        where = f"{self.path} [identity]"
        if not isinstance(table, dict) or not isinstance(table.get("email"), str):
            raise ConfigError(f'{where} needs email = "you@example.com" (and optionally name)')
        unknown = set(table) - {"email", "name"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        name = table.get("name", "")
        if not isinstance(name, str):
            raise ConfigError(f"{where}: name must be a string")
        try:
            return Principal(table["email"].strip(), name, "config")
        except ValidationError as err:
            raise ConfigError(f"{where}: {err}") from None

    def _parse(self, name: str, table: object) -> TierConfig:
        where = f"{self.path} [tiers.{name}]"
        try:
            tier_kind(name)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        engine = table.get("engine", "sqlite")
        if engine not in ENGINES:
            raise ConfigError(f"{where}: unknown engine {engine!r} (use {', '.join(ENGINES)})")
        unknown = set(table) - {"engine", "path", "host", "auth", "busy_timeout"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        busy = table.get("busy_timeout")
        if busy is not None and (
            isinstance(busy, bool) or not isinstance(busy, int | float) or not 0 < busy <= 3600
        ):
            raise ConfigError(f"{where}: busy_timeout must be a number of seconds in (0, 3600]")
        if engine == "http":
            if not isinstance(table.get("host"), str):
                raise ConfigError(f'{where}: an http tier needs host = "http://..."')
            return TierConfig(name, engine, None, table["host"], table.get("auth"), busy)
        path = table.get("path")
        if engine in ("sqlite", "rocksdb"):
            if path is None:
                path = self.default_path(name, engine).name
            if not isinstance(path, str) or "\0" in path:
                raise ConfigError(f"{where}: path must be a string without NUL")
            p = Path(path).expanduser()
            return TierConfig(
                name, engine, p if p.is_absolute() else self.home / p, busy_timeout=busy
            )
        return TierConfig(name, engine, busy_timeout=busy)

    def default_path(self, name: str, engine: str = "sqlite") -> Path:
        """Where an unconfigured tier lives under the home."""
        suffix = ".db" if engine == "sqlite" else ".rocksdb"
        kind = tier_kind(name)
        if kind == "user":
            return self.home / f"user{suffix}"
        rest = name.split(":", 1)[1]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(rest).name or rest).strip("-") or "tier"
        digest = hashlib.sha256(rest.encode()).hexdigest()[:8]
        return self.home / _FOLDERS[kind] / f"{slug}-{digest}{suffix}"

    def tier(self, name: str) -> TierConfig:
        """The configuration of tier ``name``; an unconfigured project or enterprise tier
        gets a sqlite file under the home (nothing is written: see :meth:`record`).

        Raises:
            ConfigError: ``name`` is not a valid tier name.
        """
        if name in self.tiers:
            return self.tiers[name]
        tier_kind(name)
        return TierConfig(name, "sqlite", self.default_path(name))

    def record(self, name: str) -> bool:
        """Add tier ``name`` (unconfigured so far) to ``config.toml`` so later runs, other
        processes and the dashboard know it. The file is re-read under a lock (another
        process may have changed it), edited with tomlkit (comments kept), checked to
        parse, and replaced atomically. Returns False when it was already configured.

        Raises:
            ConfigError: invalid name, ``config.toml`` unreadable or not writable.
        """
        import tomlkit  # only to edit the file: reading it needs only tomllib

        cfg = self.tier(name)
        with self._editing():
            self._load()
            if name in self.tiers:
                return False
            try:
                doc = tomlkit.parse(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as err:
                raise ConfigError(f"cannot edit {self.path}: {err}") from None
            tiers = doc.get("tiers")
            if tiers is None:
                tiers = doc["tiers"] = tomlkit.table(is_super_table=True)
            table = tomlkit.table()
            table.add(tomlkit.comment("added by groove when the tier got its first data"))
            table["engine"] = cfg.engine
            table["path"] = cfg.path.relative_to(self.home).as_posix()
            tiers[name] = table
            self._replace(tomlkit.dumps(doc))
            self._load()
        return True

    @contextlib.contextmanager
    def _editing(self) -> Iterator[None]:
        lock = InterProcessLock(self.home / ".config.toml.lock")
        with lock.held(CONFIG_LOCK_TIMEOUT) as got:
            if not got:
                raise ConfigError(
                    f"{self.path} stayed locked by another groove process for "
                    f"{CONFIG_LOCK_TIMEOUT:g} s; nothing was changed"
                )
            yield

    def _replace(self, text: str) -> None:
        """Write ``text`` as ``config.toml`` atomically (temp file in the home, fsync,
        rename), after checking that it parses; the file keeps its permissions."""
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:  # never write a file groove cannot read
            raise ConfigError(f"refusing to write {self.path}: {err}") from None
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".config.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644)
            os.replace(tmp, self.path)
        except OSError as err:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise ConfigError(f"cannot write {self.path}: {err}") from None

    def exists(self, name: str) -> bool:
        """True when tier ``name`` is configured or its default database exists."""
        return name in self.tiers or self.default_path(name).exists()

    def forget(self, name: str) -> None:
        """Remove tier ``name``'s table from ``config.toml`` and from this configuration,
        edited like :meth:`record` (under the lock, comments and the other tables kept,
        replaced atomically).

        Raises:
            ConfigError: ``config.toml`` unreadable or not writable.
        """
        import tomlkit  # only to edit the file: reading it needs only tomllib

        self.tiers.pop(name, None)
        if not self.path.exists():
            return
        with self._editing():
            try:
                doc = tomlkit.parse(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as err:
                raise ConfigError(f"cannot edit {self.path}: {err}") from None
            tiers = doc.get("tiers")
            if tiers is not None and name in tiers:
                del tiers[name]  # and the blank line record() put before it, at the end
                self._replace(tomlkit.dumps(doc).rstrip() + "\n")
            self._load()

    def known_tiers(self) -> list[str]:
        """Every configured tier name (``user`` first)."""
        return sorted(self.tiers, key=lambda n: (n != "user", n))
