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

An optional ``[identity]`` table names who acts (``email = "alice@example.com"``,
``name = "Alice"``); without it the OS account acts.

Tier names are ``user``, ``project:<path>``, ``enterprise:<org>`` and
``simulation:<name>`` (synthetic data written by ``groove simulate``, kept apart from the
real tiers); an unconfigured project, enterprise or simulation tier gets a sqlite file
under the home.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from groove_core.errors import ConfigError, ValidationError
from groove_core.model.access import Principal, os_principal
from groove_core.store.engine import ENGINES

DEFAULT_CONFIG = """# groove configuration: one [tiers.<name>] table per tier.
# engine: sqlite (default; a dashboard and the CLI can share it), rocksdb (one process),
# mem (nothing kept) or http (a Cozo server: host = "http://...", auth = "...").
# Relative paths are relative to this folder.

[tiers.user]
engine = "sqlite"
path = "user.db"
"""


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The groove home: ``home`` if given, else ``$GROOVE_HOME``, else platformdirs'."""
    chosen = home or os.environ.get("GROOVE_HOME") or platformdirs.user_data_dir("groove")
    return Path(chosen).expanduser().resolve()


#: Tier kinds holding synthetic data only (never read across tiers unless named).
SYNTHETIC_KINDS = ("simulation",)
_FOLDERS = {"project": "projects", "enterprise": "enterprise", "simulation": "simulations"}


def tier_kind(name: str) -> str:
    """``user``, ``project``, ``enterprise`` or ``simulation`` for a tier name.

    Raises:
        ConfigError: the name is none of ``user``, ``project:<path>``, ``enterprise:<org>``,
            ``simulation:<name>``.
    """
    if name == "user":
        return "user"
    kind, sep, rest = name.partition(":")
    if sep and rest and kind in _FOLDERS:
        return kind
    raise ConfigError(
        f"invalid tier name {name!r}: use user, project:<path>, enterprise:<org> or "
        "simulation:<name>"
    )


@dataclass(frozen=True)
class TierConfig:
    """How to open one tier: ``engine`` and ``path`` (sqlite/rocksdb) or ``host``/``auth``."""

    name: str
    engine: str = "sqlite"
    path: Path | None = None
    host: str | None = None
    auth: str | None = None

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
            home.mkdir(parents=True, exist_ok=True)
            self.path.write_text(DEFAULT_CONFIG)
        try:
            data = tomllib.loads(self.path.read_text()) if self.path.exists() else {}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{self.path} is not valid TOML: {err}") from None
        tiers = data.get("tiers", {})
        if not isinstance(tiers, dict):
            raise ConfigError(f"{self.path}: [tiers] must be a table of tier tables")
        self.tiers: dict[str, TierConfig] = {}
        for name, table in tiers.items():
            self.tiers[name] = self._parse(name, table)
        self.tiers.setdefault("user", TierConfig("user", "sqlite", home / "user.db"))
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
        unknown = set(table) - {"engine", "path", "host", "auth"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if engine == "http":
            if not isinstance(table.get("host"), str):
                raise ConfigError(f'{where}: an http tier needs host = "http://..."')
            return TierConfig(name, engine, None, table["host"], table.get("auth"))
        path = table.get("path")
        if engine in ("sqlite", "rocksdb"):
            if path is None:
                path = self.default_path(name, engine).name
            if not isinstance(path, str):
                raise ConfigError(f"{where}: path must be a string")
            p = Path(path).expanduser()
            return TierConfig(name, engine, p if p.is_absolute() else self.home / p)
        return TierConfig(name, engine)

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
        """The configuration of tier ``name``. An unconfigured project or enterprise tier
        gets a sqlite file under the home and is recorded in ``config.toml`` so later runs
        (and the dashboard) know it."""
        if name in self.tiers:
            return self.tiers[name]
        tier_kind(name)
        cfg = TierConfig(name, "sqlite", self.default_path(name))
        if self.path.exists():
            with self.path.open("a") as fh:
                fh.write(self._added(cfg))
        self.tiers[name] = cfg
        return cfg

    def _added(self, cfg: TierConfig) -> str:
        """The block :meth:`tier` appends to ``config.toml`` for an unconfigured tier."""
        rel = cfg.path.relative_to(self.home).as_posix() if cfg.path else ""
        return (
            f"\n# added by groove when first opened\n[tiers.{_toml_key(cfg.name)}]\n"
            f'engine = "sqlite"\npath = {_toml_key(rel)}\n'
        )

    def exists(self, name: str) -> bool:
        """True when tier ``name`` is configured or its default database exists."""
        return name in self.tiers or self.default_path(name).exists()

    def forget(self, name: str) -> None:
        """Remove tier ``name``'s table from ``config.toml`` (comments and the other
        tables stay as they are; tomlkit) and from this configuration."""
        cfg = self.tiers.pop(name, None)
        if not self.path.exists():
            return
        text = self.path.read_text()
        if cfg is not None and cfg.path is not None and self._added(cfg) in text:
            self.path.write_text(text.replace(self._added(cfg), "", 1))
            return
        import tomlkit  # only to edit the file: reading it needs only tomllib

        doc = tomlkit.parse(text)
        tiers = doc.get("tiers")
        if tiers is not None and name in tiers:
            del tiers[name]
            self.path.write_text(tomlkit.dumps(doc))

    def known_tiers(self) -> list[str]:
        """Every configured tier name (``user`` first)."""
        return sorted(self.tiers, key=lambda n: (n != "user", n))


def _toml_key(text: str) -> str:
    """A TOML basic string for ``text`` (used for table keys and values)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped) + '"'
