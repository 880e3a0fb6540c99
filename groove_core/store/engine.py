"""The one module that touches pycozo and its engine (mnestic, a maintained CozoDB fork).

pycozo's ``Client`` loads its embedded engine from the module ``cozo_embedded``; we make
``mnestic`` that module here and nowhere else. Every value reaches Cozo as a bound
``$param``: :meth:`Engine.run` takes the script and a dict of parameters, never values
formatted into the script.

Concurrency (the ``sqlite`` engine lets several processes read and write one file):

- A sqlite tier is kept in SQLite's write-ahead-log mode (``PRAGMA journal_mode=WAL``,
  set once when groove first opens it): readers never wait for a writer and a writer
  never waits for readers (https://sqlite.org/wal.html, "Advantages").
- Writers queue on a cross-process file lock (``<db>.holders/write.lock``, an ``flock``:
  :class:`groove_core.locking.InterProcessLock`) before the engine starts its
  transaction, retrying with exponential back-off for at most ``busy_timeout`` seconds
  (default
  :data:`DEFAULT_BUSY_TIMEOUT`, per tier ``busy_timeout`` in ``config.toml``). The engine
  itself (mnestic) never waits for SQLite's lock: without the queue a busy writer fails
  at once and, retried at random, can starve.
- A write reports failure only when nothing was committed: :class:`TierBusyError` is
  raised when the queue did not admit the write in time (nothing ran) or when SQLite
  stayed locked by a program outside groove for every attempt (each attempt the engine
  saw locked was rolled back before it returned: mnestic's ``SqliteTx`` rolls back a
  transaction whose ``commit`` did not succeed). Only "database is locked" is retried.
- Each process that opens a tier registers itself in ``<db>.holders/<host>-<pid>-<n>.json``
  BEFORE it opens the database (state ``opening``, then ``open``), and the writer that
  holds the queue leaves its record in ``write.lock``; busy errors name both.

``rocksdb`` allows a single process: a second one fails at once with
:class:`TierUnavailableError` naming the holder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sqlite3
import sys
import threading
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
    ReadOnlyTierError,
    TierBusyError,
    TierUnavailableError,
)
from groove_core.locking import InterProcessLock
from groove_core.model.values import check_text

# Bound unconditionally: pycozo imports ``cozo_embedded`` at every ``Client(...)``, and the
# upstream package of that name (an older engine, see docs/architecture.md#layers) may be
# installed too.
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


def _is_read_only(err: BaseException) -> bool:
    return "attempt to write a readonly database" in _message(err)


class _OpenFailed(Exception):
    """The native engine failed (or panicked) while opening a database."""


def _retrying(deadline: float, **options: Any) -> Retrying:
    """Retry an attempt that met SQLite's lock, with exponential back-off (20 ms doubling
    to 0.5 s, plus jitter) until the monotonic ``deadline``; ``options`` go to tenacity
    (``reraise``, ``before_sleep``)."""
    return Retrying(
        retry=retry_if_exception(_is_locked),
        stop=stop_after_delay(max(0.0, deadline - time.monotonic())),
        wait=wait_exponential_jitter(multiplier=0.02, max=0.5, jitter=0.05),
        **{"reraise": False, **options},
    )


def _clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds))


class Engine:
    """An open Cozo database for one tier.

    Args:
        tier: the tier's name, used in every error message.
        engine: ``sqlite`` (default for local tiers: several processes may share it),
            ``rocksdb`` (one process), ``mem`` (nothing kept) or ``http`` (a Cozo server).
        path: database file (sqlite) or folder (rocksdb); ignored for mem and http.
        options: for http, ``{"host": "http://127.0.0.1:9070", "auth": "..."}``.
        busy_timeout: seconds an open or a write waits for other processes (the write
            queue and SQLite's lock) before it fails with :class:`TierBusyError`.

    Raises:
        TierUnavailableError: the database cannot be opened (the reason says why and who
            holds it when it is locked).
        TierBusyError: a sqlite tier stayed locked for ``busy_timeout`` s while opening.
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
        self.busy_timeout = float(busy_timeout)
        self._host = (options or {}).get("host")
        self._holder_file: Path | None = None
        self._queue: InterProcessLock | None = None
        deadline = time.monotonic() + self.busy_timeout
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not os.access(self.path.parent, os.W_OK):  # the engine's open would panic
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self.path))
                self._register_holder("opening")
            except OSError as err:
                folder = Path(err.filename).parent if err.filename else self.path.parent
                raise TierUnavailableError(tier, self._unwritable(folder, err.strerror)) from None
        try:
            if engine == "sqlite":
                self._queue = InterProcessLock(self._holders_dir / "write.lock")
                with _opening(self.path) as first_in_process:
                    if first_in_process:
                        self._use_wal(deadline)
                    self._client = self._open(engine, options, deadline)
            else:
                self._client = self._open(engine, options, deadline)
        except BaseException:
            self._unregister_holder()
            raise
        if engine == "http":
            try:
                self.run("::relations", read_only=True)
            except DatabaseError as err:
                raise TierUnavailableError(tier, f"{self.location}: {err}") from None
        if self.path is not None:
            self._register_holder("open")

    def _open(self, engine: str, options: dict | None, deadline: float) -> Client:
        try:
            if engine == "http":
                opts = options or {}
                if not opts.get("host"):
                    raise TierUnavailableError(self.tier, "an http tier needs a host")
                return Client("http", options=opts, dataframe=False)
            return self._open_embedded(engine, deadline)
        except _OpenFailed as failed:
            err = failed.__cause__ or failed
            reason = _message(err)
            if "lock" in reason.lower():
                reason = f"it is locked by another process ({self.describe_holders()})"
            raise TierUnavailableError(
                self.tier, f"cannot open {self.location}: {reason}"
            ) from None

    def _unwritable(self, folder: Path, detail: object) -> str:
        """Why a tier next to a folder this process cannot write does not open."""
        return (
            f"cannot open {self.location}: {folder} is not writable here ({detail}). "
            "Every process that opens a tier, a reader too, registers itself beside the "
            "database and shares SQLite's lock files there: the folder must be writable"
        )

    def _use_wal(self, deadline: float) -> None:
        """Put a sqlite tier in write-ahead-log mode once (the mode is kept in the file).
        Switching needs a moment alone with the file, so it waits in the write queue; a
        tier that another program keeps busy is left as it is and tried again next time.

        This uses Python's own SQLite library, a second copy beside the engine's. Closing
        its connection drops every POSIX lock this process holds on the file, also the
        engine's (https://sqlite.org/howtocorrupt.html, 2.2 and 2.3), so it only runs
        while no engine of this process has the file open (see :func:`_opening`)."""
        try:
            with contextlib.closing(sqlite3.connect(self.path, timeout=0.1)) as con:
                if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
            with (
                self.write_lock(deadline),
                contextlib.closing(
                    sqlite3.connect(self.path, timeout=max(0.1, deadline - time.monotonic()))
                ) as con,
            ):
                con.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as err:
            if "not a database" in str(err) or "malformed" in str(err):
                # say so here: the engine's open would panic, printing Rust's panic text
                raise TierUnavailableError(
                    self.tier, f"{self.location} is not a readable SQLite database ({err})"
                ) from None
            return  # busy or locked: the engine's own open reports what matters
        except (sqlite3.Error, TierBusyError):
            return  # busy: the engine's own open reports what matters

    def _open_embedded(self, engine: str, deadline: float) -> Client:
        """Open the native database, retrying while SQLite reports it locked (the engine
        panics instead of waiting when it meets the lock at open)."""

        def attempt() -> Client:
            try:
                return Client(engine, str(self.path or ""), dataframe=False)
            except BaseException as err:  # pyo3 panics are BaseExceptions
                if isinstance(err, KeyboardInterrupt | SystemExit):
                    raise
                raise _OpenFailed(_message(err)) from err

        try:
            for tried in _retrying(deadline):
                with tried:
                    return attempt()
        except RetryError:
            raise TierBusyError(
                self.tier,
                f"{self.location} stayed locked for {self.busy_timeout:g} s while opening "
                f"({self.describe_holders()}); {self._advice()}",
            ) from None
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- holders
    @property
    def location(self) -> str:
        """Where the database lives, for messages."""
        if self.kind == "http":
            return str(self._host)
        return str(self.path) if self.path else self.kind

    @property
    def _holders_dir(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".holders")

    @staticmethod
    def _me(state: str) -> dict:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
            "since": int(time.time()),
            "state": state,
        }

    def _register_holder(self, state: str) -> None:
        folder = self._holders_dir
        folder.mkdir(exist_ok=True)
        if self._holder_file is None:
            name = f"{socket.gethostname()}-{os.getpid()}-{id(self)}.json"
            self._holder_file = folder / name
        _write_json(self._holder_file, self._me(state))

    def _unregister_holder(self) -> None:
        if self._holder_file is not None:
            self._holder_file.unlink(missing_ok=True)
            self._holder_file = None

    def holders(self) -> list[dict]:
        """Processes (on this host) that have this tier open or are opening it, stale
        entries pruned: dicts with ``pid``, ``host``, ``command``, ``since`` (Unix s) and
        ``state`` (``opening`` or ``open``)."""
        if self.path is None or not self._holders_dir.is_dir():
            return []
        out = []
        for entry in self._holders_dir.glob("*.json"):
            info = _read_live(entry)
            if info is not None:
                out.append(info)
        return sorted(out, key=lambda h: h.get("since", 0))

    def writer(self) -> dict | None:
        """The process that last entered this tier's write queue, if it is still alive
        (same keys as :meth:`holders`, ``state`` is ``writing``)."""
        if self._queue is None:
            return None
        return _live(self._queue.note(), None)

    def describe_holders(self) -> str:
        """``held by pid 123 (groove dashboard, open since 14:02:11)`` for each other
        process registered on this tier, or a sentence saying there is none."""
        others = [h for h in self.holders() if h.get("pid") != os.getpid()]
        if not others:
            return "no other groove process has it open"
        return "held by " + ", ".join(_describe(h) for h in others)

    def _advice(self) -> str:
        return (
            "nothing was written; try again when that work is done, or wait longer with "
            f'busy_timeout = <seconds> under [tiers."{self.tier}"] in config.toml'
        )

    def _busy(self, waited: str) -> TierBusyError:
        owner = self.writer()
        if owner is not None and owner.get("pid") != os.getpid():
            who = f"{_describe(owner)} is writing to it"
        else:
            who = "a program outside groove kept it locked"
        return TierBusyError(
            self.tier,
            f"{self.location} {waited} for {self.busy_timeout:g} s: {who} "
            f"({self.describe_holders()}); {self._advice()}",
        )

    # ---------------------------------------------------------------- writes
    @contextlib.contextmanager
    def write_lock(self, deadline: float | None = None) -> Iterator[None]:
        """Hold this tier's cross-process write queue (a no-op for engines other than
        sqlite). Re-entrant within a thread: :meth:`run` inside it does not wait again.

        Args:
            deadline: ``time.monotonic()`` value to give up at (default: now +
                ``busy_timeout``).

        Raises:
            TierBusyError: another process held the queue until the deadline; nothing
                inside the block ran.
        """
        if self._queue is None:
            yield
            return
        if deadline is None:
            deadline = time.monotonic() + self.busy_timeout
        if not self._queue.acquire(deadline, json.dumps(self._me("writing")).encode()):
            raise self._busy("stayed busy")
        try:
            yield
        finally:
            self._queue.release()

    # ---------------------------------------------------------------- queries
    def run(self, script: str, params: dict | None = None, *, read_only: bool = False) -> Result:
        """Run one CozoScript program (which may chain ``{...}`` blocks: those run as one
        transaction) with bound ``$params``. A program that may write (``read_only``
        False) first waits its turn in the tier's write queue.

        Raises:
            TierBusyError: the tier stayed busy for ``busy_timeout`` s; nothing of this
                program was committed.
            DatabaseError: Cozo rejected the query (its message is kept).
            TierUnavailableError: an http tier could not be reached.
        """
        if self._client is None:
            raise TierUnavailableError(self.tier, "it was closed")
        params = params or {}
        deadline = time.monotonic() + self.busy_timeout
        queue = contextlib.nullcontext() if read_only else self.write_lock(deadline)
        try:
            with queue:
                try:  # free most of the time: no retry policy to build (~0.1 ms)
                    res = self._client.run(script, params, read_only)
                except QueryException as err:
                    if not _is_locked(err):
                        raise
                    for tried in _retrying(deadline):
                        with tried:
                            res = self._client.run(script, params, read_only)
        except RetryError:
            raise self._busy("stayed locked") from None
        except QueryException as err:
            _check_params(params)  # a value Cozo cannot hold gets a message for people
            if _is_read_only(err):
                raise ReadOnlyTierError(
                    f"tier '{self.tier}' is read-only for this process ({self.location} "
                    "cannot be written): nothing was written"
                ) from None
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
            TierBusyError: the tier stayed busy for ``busy_timeout`` s.
        """
        if not self.can_import_columnar():
            raise DatabaseError(f"tier '{self.tier}': the {self.kind} engine has no bulk import")
        deadline = time.monotonic() + self.busy_timeout
        try:
            with self.write_lock(deadline):  # a write like any other: take the queue
                for tried in _retrying(deadline):
                    with tried:
                        self._client.embedded.import_columnar_file(
                            relation, str(path), format="arrow_ipc_file"
                        )
        except RetryError:
            raise self._busy("stayed locked") from None
        except TierBusyError:
            raise
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
            for tried in _retrying(
                time.monotonic() + self.busy_timeout,
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
        except BaseException as err:  # pyo3 panics (a damaged file) are BaseExceptions
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            raise DatabaseError(
                f"tier '{self.tier}': restore from {src} failed: {_message(err)}"
            ) from None

    def import_from_backup(self, src: str | os.PathLike, relations: list[str]) -> None:
        """Copy the rows of ``relations`` (which must exist here, with the same columns)
        from a backup written by :meth:`backup` (Cozo's ``import_from_backup``).

        Raises: DatabaseError when the backup lacks one of them or the engine refuses.
        """
        try:
            self._client.import_from_backup(str(src), list(relations))
        except Exception as err:
            raise DatabaseError(
                f"tier '{self.tier}': reading {', '.join(relations)} from {src} failed: "
                f"{_message(err)}"
            ) from None

    def close(self) -> None:
        """Close the database and drop this process's holder entry (once)."""
        self._unregister_holder()
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
            if self.kind == "sqlite":
                _closed(self.path)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: sqlite files this process has open, with how many engines hold each.
_OPEN_FILES: dict[str, int] = {}
_OPEN_FILES_LOCK = threading.Lock()
_OPENING_LOCKS: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def _opening(path: Path) -> Iterator[bool]:
    """Serialise the opening of one sqlite file within this process and say whether no
    engine of this process has it open yet; counts the engine as open when the block
    succeeds (see :meth:`Engine._use_wal` for why this matters)."""
    key = str(path.resolve())
    with _OPEN_FILES_LOCK:
        lock = _OPENING_LOCKS.setdefault(key, threading.Lock())
    with lock:
        with _OPEN_FILES_LOCK:
            first = _OPEN_FILES.get(key, 0) == 0
        yield first
        with _OPEN_FILES_LOCK:
            _OPEN_FILES[key] = _OPEN_FILES.get(key, 0) + 1


def _closed(path: Path | None) -> None:
    if path is None:
        return
    key = str(path.resolve())
    with _OPEN_FILES_LOCK:
        left = _OPEN_FILES.get(key, 0) - 1
        if left > 0:
            _OPEN_FILES[key] = left
        else:
            _OPEN_FILES.pop(key, None)


def _check_params(params: dict) -> None:
    """Raise ValidationError for the first string in ``params`` that Cozo cannot store
    (the model layer refuses such text first; this names it if some caller did not)."""
    stack: list[tuple[Any, str]] = [(v, f"${k}") for k, v in params.items()]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            check_text(value, f"the value of {where}")
        elif isinstance(value, list | tuple):
            stack.extend((v, where) for v in value)
        elif isinstance(value, dict):
            stack.extend((v, where) for v in [*value, *value.values()])


def _write_json(path: Path, data: dict) -> None:
    """Replace ``path`` with ``data`` as JSON atomically (a reader never sees half of it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _read_live(path: Path) -> dict | None:
    """The JSON process record in the file ``path`` if its process is alive (see
    :func:`_live`); the file of a dead process's record is deleted."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return _live(data, path)


def _live(data: bytes, prune: Path | None) -> dict | None:
    """The JSON process record ``data`` if its process is alive (records of other hosts
    are trusted); when it is dead, None, and the file ``prune`` (if given) is deleted."""
    try:
        info = json.loads(data)
        pid, host = int(info["pid"]), info.get("host")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            if prune is not None:
                prune.unlink(missing_ok=True)
            return None
        except PermissionError:  # alive, owned by another user
            pass
    return info


def _describe(h: dict) -> str:
    """``pid 123 (groove import x.json, open since 14:02:11)``."""
    return (
        f"pid {h.get('pid')} ({h.get('command') or '?'}, {h.get('state', 'open')} since "
        f"{_clock(h.get('since', 0))})"
    )
