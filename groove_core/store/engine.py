"""The one module that touches pycozo and its engine (mnestic, a maintained CozoDB fork).

pycozo's ``Client`` loads its embedded engine from the module ``cozo_embedded``; we make
``mnestic`` that module here and nowhere else. Every value reaches Cozo as a bound
``$param``: :meth:`Engine.run` takes the script and a dict of parameters, never values
formatted into the script.

Concurrency: the ``sqlite`` engine lets several processes read and write one file; a
writer that finds the file locked is retried with exponential back-off for
``busy_timeout`` seconds, then fails with :class:`TierBusyError`, which names the
processes that have the tier open (each open engine leaves a small ``<pid>.json`` in a
``<db>.holders`` folder beside the database). ``rocksdb`` allows a single process: a
second one fails at once with :class:`TierUnavailableError` naming the holder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mnestic
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from groove_core.errors import (
    DatabaseError,
    TierBusyError,
    TierUnavailableError,
)

# Bound unconditionally: pycozo imports ``cozo_embedded`` at every ``Client(...)``, and the
# upstream package of that name (an older engine, see DESIGN.md) may be installed too.
sys.modules["cozo_embedded"] = mnestic
from pycozo.client import Client, QueryException  # noqa: E402

ENGINES = ("sqlite", "rocksdb", "mem", "http")
DEFAULT_BUSY_TIMEOUT = 5.0


@dataclass(frozen=True)
class Result:
    """Rows of a query: ``headers`` (column names) and ``rows`` (lists of plain values)."""

    headers: list[str]
    rows: list[list[Any]]

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]

    def scalar(self, default: Any = None) -> Any:
        """First column of the first row, or ``default`` when there is no row."""
        return self.rows[0][0] if self.rows else default

    def __len__(self) -> int:
        return len(self.rows)


def _message(err: QueryException | Exception) -> str:
    resp = getattr(err, "resp", None)
    if isinstance(resp, dict):
        parts = [resp.get("message") or ""] + [str(c) for c in resp.get("causes") or []]
        return ": ".join(p for p in parts if p) or str(resp)
    if isinstance(resp, str):
        return resp
    return str(err)


def _is_locked(err: BaseException) -> bool:
    return "database is locked" in _message(err)


class _OpenFailed(Exception):
    """The native engine failed (or panicked) while opening a database."""


class Engine:
    """An open Cozo database for one tier.

    Args:
        tier: the tier's name, used in every error message.
        engine: ``sqlite`` (default for local tiers: several processes may share it),
            ``rocksdb`` (one process), ``mem`` (nothing kept) or ``http`` (a Cozo server).
        path: database file (sqlite) or folder (rocksdb); ignored for mem and http.
        options: for http, ``{"host": "http://127.0.0.1:9070", "auth": "..."}``.
        busy_timeout: seconds a write waits for another process's lock before failing.

    Raises:
        TierUnavailableError: the database cannot be opened (the reason says why and who
            holds it when it is locked).
    """

    def __init__(
        self,
        tier: str,
        engine: str = "sqlite",
        path: str | os.PathLike | None = None,
        options: dict | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ):
        if engine not in ENGINES:
            raise TierUnavailableError(
                tier, f"unknown engine {engine!r} (use one of {', '.join(ENGINES)})"
            )
        self.tier = tier
        self.kind = engine
        self.path = Path(path) if path and engine in ("sqlite", "rocksdb") else None
        self.busy_timeout = busy_timeout
        self._host = (options or {}).get("host")
        self._holder_file: Path | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if engine == "http":
                opts = options or {}
                if not opts.get("host"):
                    raise TierUnavailableError(tier, "an http tier needs a host")
                self._client = Client("http", options=opts, dataframe=False)
            else:
                self._client = self._open_embedded(engine)
        except TierUnavailableError:
            raise
        except _OpenFailed as failed:
            err = failed.__cause__ or failed
            reason = _message(err)
            if "lock" in reason.lower():
                reason = f"it is locked by another process ({self.describe_holders()})"
            raise TierUnavailableError(tier, f"cannot open {self.location}: {reason}") from None
        if engine == "http":
            try:
                self.run("::relations", read_only=True)
            except DatabaseError as err:
                raise TierUnavailableError(tier, f"{self.location}: {err}") from None
        self._register_holder()

    def _open_embedded(self, engine: str) -> Client:
        """Open the native database, retrying while another process holds the SQLite
        write lock (the engine panics instead of waiting when it meets one at open)."""

        def attempt() -> Client:
            try:
                return Client(engine, str(self.path or ""), dataframe=False)
            except BaseException as err:  # pyo3 panics are BaseExceptions
                if isinstance(err, KeyboardInterrupt | SystemExit):
                    raise
                raise _OpenFailed(_message(err)) from err

        try:
            for tried in Retrying(
                retry=retry_if_exception(_is_locked),
                stop=stop_after_delay(self.busy_timeout),
                wait=wait_exponential_jitter(multiplier=0.02, max=0.5, jitter=0.05),
                reraise=True,
            ):
                with tried:
                    return attempt()
        except _OpenFailed as err:
            if _is_locked(err):
                raise TierBusyError(
                    self.tier,
                    f"{self.location} stayed locked for {self.busy_timeout:g} s "
                    f"while opening ({self.describe_holders()})",
                ) from None
            raise
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- holders
    @property
    def location(self) -> str:
        """Where the database lives, for messages."""
        if self.kind == "http":
            return str(self._host)
        return str(self.path) if self.path else self.kind

    @property
    def _holders_dir(self) -> Path | None:
        return self.path.with_name(self.path.name + ".holders") if self.path else None

    def _register_holder(self) -> None:
        folder = self._holders_dir
        if folder is None:
            return
        folder.mkdir(exist_ok=True)
        self._holder_file = folder / f"{socket.gethostname()}-{os.getpid()}-{id(self)}.json"
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
            "since": int(time.time()),
        }
        self._holder_file.write_text(json.dumps(info))

    def holders(self) -> list[dict]:
        """Processes (on this host) that have this tier open, stale entries pruned."""
        folder = self._holders_dir
        if folder is None or not folder.is_dir():
            return []
        out = []
        for entry in folder.glob("*.json"):
            try:
                info = json.loads(entry.read_text())
                if info.get("host") == socket.gethostname():
                    os.kill(int(info["pid"]), 0)
            except ProcessLookupError:
                entry.unlink(missing_ok=True)
                continue
            except (OSError, ValueError, KeyError):
                continue
            out.append(info)
        return out

    def describe_holders(self) -> str:
        """``pid 123 (groove dashboard) since 14:02`` for each other holder."""
        others = [h for h in self.holders() if h.get("pid") != os.getpid()]
        if not others:
            return "no other groove process is registered as holding it"
        parts = [
            f"pid {h['pid']} ({h.get('command') or '?'}) since "
            f"{time.strftime('%H:%M:%S', time.localtime(h.get('since', 0)))}"
            for h in others
        ]
        return "held by " + ", ".join(parts)

    # ---------------------------------------------------------------- queries
    def run(self, script: str, params: dict | None = None, *, read_only: bool = False) -> Result:
        """Run one CozoScript program (which may chain ``{...}`` blocks: those run as one
        transaction) with bound ``$params``.

        Raises:
            TierBusyError: another process held the write lock for ``busy_timeout`` s.
            DatabaseError: Cozo rejected the query (its message is kept).
        """
        params = params or {}

        def attempt() -> dict:
            return self._client.run(script, params, read_only)

        try:
            for tried in Retrying(
                retry=retry_if_exception(_is_locked),
                stop=stop_after_delay(self.busy_timeout),
                wait=wait_exponential_jitter(multiplier=0.02, max=0.5, jitter=0.05),
                reraise=False,
            ):
                with tried:
                    res = attempt()
        except RetryError:
            raise TierBusyError(
                self.tier,
                f"{self.location} stayed locked for {self.busy_timeout:g} s "
                f"({self.describe_holders()}); try again when that work is done",
            ) from None
        except QueryException as err:
            raise DatabaseError(f"tier '{self.tier}': {_message(err)}") from None
        except OSError as err:  # http engine: requests' ConnectionError and friends
            raise TierUnavailableError(self.tier, f"{self.location}: {err}") from None
        return Result(list(res.get("headers") or []), list(res.get("rows") or []))

    def run_chain(self, blocks: Sequence[str], params: dict | None = None) -> Result:
        """Run several statements as one atomic program (``{b1} {b2} ...``)."""
        if not blocks:
            return Result([], [])
        return self.run(" ".join("{" + b + "}" for b in blocks), params)

    def can_import_columnar(self) -> bool:
        """True when :meth:`import_columnar` works here (embedded engines, not http)."""
        embedded = getattr(self._client, "embedded", None)
        return hasattr(embedded, "import_columnar_file")

    def import_columnar(self, relation: str, path: str | os.PathLike) -> None:
        """Copy an Arrow IPC file into the existing stored ``relation`` (mnestic's
        ``import_columnar_file``: no Python value conversion, one transaction; indexes of
        the relation are NOT maintained, so import into a staging relation and copy from
        it in Cozo).

        Raises:
            DatabaseError: the file does not fit the relation, or the engine cannot.
        """
        if not self.can_import_columnar():
            raise DatabaseError(f"tier '{self.tier}': the {self.kind} engine has no bulk import")
        try:
            self._client.embedded.import_columnar_file(relation, str(path), format="arrow_ipc_file")
        except Exception as err:  # the extension raises plain Exceptions
            raise DatabaseError(f"tier '{self.tier}': bulk import failed: {err}") from None

    def relations(self) -> dict[str, dict]:
        """Stored relations by name (``::relations``), including index relations."""
        res = self.run("::relations", read_only=True)
        return {row["name"]: row for row in res.dicts()}

    def columns(self, relation: str) -> list[str]:
        """Column names of a stored relation (``::columns``)."""
        if relation not in self.relations():
            return []
        return [r[0] for r in self.run(f"::columns {relation}", read_only=True).rows]

    def is_empty(self) -> bool:
        """True when the database holds no stored relation at all."""
        return not self.relations()

    def backup(self, dest: str | os.PathLike) -> Path:
        """Write a consistent copy of the whole database to ``dest`` (a SQLite file),
        waiting (with back-off, up to ``busy_timeout`` seconds) while another process
        holds the write lock.

        Raises: TierBusyError (the lock was never free), DatabaseError (the copy failed).
        """
        dest = Path(dest)
        try:
            for tried in Retrying(
                retry=retry_if_exception(_is_locked),
                stop=stop_after_delay(self.busy_timeout),
                wait=wait_exponential_jitter(multiplier=0.02, max=0.5, jitter=0.05),
                before_sleep=lambda _state: dest.unlink(missing_ok=True),
                reraise=True,
            ):
                with tried:
                    self._client.backup(str(dest))
        except Exception as err:
            dest.unlink(missing_ok=True)
            if _is_locked(err):
                raise TierBusyError(
                    self.tier,
                    f"{self.location} stayed locked for {self.busy_timeout:g} s during the "
                    f"backup ({self.describe_holders()})",
                ) from None
            raise DatabaseError(
                f"tier '{self.tier}': backup to {dest} failed: {_message(err)}"
            ) from None
        return dest

    def restore(self, src: str | os.PathLike) -> None:
        """Load a backup written by :meth:`backup` into this (empty) database.

        Raises: DatabaseError when the engine refuses (a non-empty database, not a backup).
        """
        try:
            self._client.restore(str(src))
        except Exception as err:
            raise DatabaseError(
                f"tier '{self.tier}': restore from {src} failed: {_message(err)}"
            ) from None

    def close(self) -> None:
        """Close the database and drop this process's holder entry."""
        if self._holder_file is not None:
            self._holder_file.unlink(missing_ok=True)
            self._holder_file = None
        with contextlib.suppress(Exception):
            self._client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def opened(*args: Any, **kwargs: Any) -> Iterator[Engine]:
    """``with opened("t", "mem") as db:`` — an :class:`Engine` closed on exit."""
    engine = Engine(*args, **kwargs)
    try:
        yield engine
    finally:
        engine.close()
