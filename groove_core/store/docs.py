"""groove's derived document store: what a search shows of each learning, kept beside the
tier so a search needs no Cozo query for its rows.

A SQLite file (``docs-v1.sqlite`` in :func:`groove_core.store.derived.index_dir`, or an
in-memory database for tiers without a file) holds each learning's row (the columns of
``learning``: :data:`groove_core.store.rows.LEARNING_COLS`) and its usage stats (the
columns of ``usage_stats``), and a ``meta`` row with the tier and the change-log ``seq``
they cover. The text of each learning (description and insight, joined by a space) is
indexed for BM25 search in tantivy (:mod:`groove_core.store.fulltext`).

Both follow the tier's change log (:mod:`groove_core.store.changelog`), which names every
write of a learning's row, its usage or its embedding, and every deletion. Several
processes share the files: each catch-up runs in one ``BEGIN IMMEDIATE`` transaction of
the SQLite file that re-reads ``meta`` first, so changes are applied once, and writes the
full-text index inside it (tantivy itself admits one writer at a time). The full-text
index is rewritten only for learnings whose text changed (an outcome changes usage and
confidence, not text); ``meta.text_seq`` names the ``seq`` it was last written at, which
the index records in the same commit as the texts. When the two disagree (a crash between
the two commits, a deleted folder), the full-text index is rebuilt from the rows here.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from groove_core.model.learning import Learning
from groove_core.model.usage import UsageStats
from groove_core.progress import ProgressFn
from groove_core.store import changelog
from groove_core.store.derived import DerivedIndex, counted, read_rows
from groove_core.store.engine import Engine
from groove_core.store.fulltext import TantivyText
from groove_core.store.rows import LEARNING_COLS, USAGE_COLS, UnreadableRows, row_to_pair

FILE = "docs-v1.sqlite"
#: Columns of the ``doc`` table: the learning's, then its usage stats' (None: no usage row).
COLS = LEARNING_COLS + USAGE_COLS[1:]
_DESC, _INSIGHT = LEARNING_COLS.index("description"), LEARNING_COLS.index("insight")
#: The columns a listing filters and counts by (facets).
FACETS = ("category", "scope", "source_type")
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 0), "
    "tier_uid TEXT NOT NULL, seq INTEGER NOT NULL, text_seq INTEGER NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS doc (id TEXT PRIMARY KEY, {', '.join(COLS[1:])}) WITHOUT ROWID",
    # counts and facets scan these narrow indexes, not the rows
    *(f"CREATE INDEX IF NOT EXISTS doc_{c} ON doc ({c})" for c in FACETS),
    # pages of all learnings in the orders listings use walk these instead of sorting
    "CREATE INDEX IF NOT EXISTS doc_updated ON doc (updated_at DESC, id)",
    "CREATE INDEX IF NOT EXISTS doc_created ON doc (created_at DESC, id)",
    "CREATE INDEX IF NOT EXISTS doc_confidence ON doc (confidence DESC, id)",
    "CREATE INDEX IF NOT EXISTS doc_usage ON doc (times_injected DESC, updated_at DESC, id)",
]
#: The usage counters of a doc row summed (every outcome moves one), and the same over
#: ``usage_stats`` in Cozo: :meth:`DocumentIndex._drift` compares them.
_N = "times_injected + times_helpful + times_ignored + times_contradicted"
_USAGE_N = (
    "*usage_stats{learning_id, times_injected, times_helpful, times_ignored, "
    f"times_contradicted, last_used}}, n = {_N}"
)
_SIGNATURE = f"SELECT count(*), total(updated_at), count(times_injected), total({_N}) FROM doc"
_CHUNK = 2000
_CACHED = 4096  # converted rows kept
_INSERT = f"INSERT OR REPLACE INTO doc ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})"


def _where(where: dict[str, str]) -> tuple[str, list[str]]:
    """`` WHERE a = ? AND ...`` (empty for no condition) selecting the rows whose
    :data:`FACETS` columns equal ``where``, and its arguments.

    Raises: ValueError for a column outside :data:`FACETS`."""
    if not set(where) <= set(FACETS):
        raise ValueError(f"cannot select by {sorted(set(where) - set(FACETS))}")
    cols = sorted(where)
    if not cols:
        return "", []
    return " WHERE " + " AND ".join(f"{c} = ?" for c in cols), [where[c] for c in cols]


def text_of(row: Sequence[Any]) -> str:
    """The indexed text of a ``learning`` row (:data:`LEARNING_COLS` order): description
    and insight joined by a space."""
    return f"{row[_DESC]} {row[_INSIGHT]}"


def fetch_rows(db: Engine, ids: Sequence[str] | None) -> Iterator[list[list[Any]]]:
    """``doc`` rows (:data:`COLS` order) read from the tier, in chunks: of ``ids`` when
    given (absent ones left out), else of every learning."""
    for rows in read_rows(db, "learning", LEARNING_COLS, ids, _CHUNK):
        usage = {
            r[0]: r[1:]
            for part in read_rows(db, "usage_stats", USAGE_COLS, [r[0] for r in rows], _CHUNK)
            for r in part
        }
        blank = [None] * (len(USAGE_COLS) - 1)
        yield [list(r) + list(usage.get(r[0], blank)) for r in rows]


def _key(row: Sequence[Any]) -> str:
    return row[0]


class DocumentIndex(DerivedIndex):
    """The rows and texts of one tier's learnings, derived from the tier (see the module
    docstring). :meth:`rows` and :meth:`query` answer from what the last :meth:`sync`
    brought in; a row that does not follow the data contract is left out of both and
    recorded in ``skipped`` (the learning store's :class:`UnreadableRows`)."""

    def __init__(self, db: Engine, skipped: UnreadableRows | None = None):
        super().__init__(db)
        self.skipped = skipped or UnreadableRows()
        self._there: tuple[float, ...] | None = None  # the tier's signature at the last check
        self._unexplained: tuple[float, ...] | None = None  # a gap no row explains
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        self.text = TantivyText(self.folder)
        # a row read again (the same values) gives the same objects: converting a row
        # (JSON, scope, timestamps) costs several times its read
        self._objects = functools.lru_cache(maxsize=_CACHED)(
            functools.partial(row_to_pair, tier=db.tier)
        )

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared across threads);
        one shared in-memory database for tiers without a file."""
        if self.folder is None:
            if self._memory is None:
                self._memory = self._open(":memory:")
            return self._memory
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            conn = self._open(str(self.folder / FILE))
            self._local.conn = conn
        return conn

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            for stmt in _SCHEMA:
                conn.execute(stmt)
        except sqlite3.DatabaseError:
            # not a database (a damaged file): start it again, it is derived data
            conn.close()
            if path == ":memory:":
                raise
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            return DocumentIndex._open(path)
        return conn

    # ------------------------------------------------------------ reads
    def facets(self) -> dict[str, dict[str, int]]:
        """Counts by category, scope and source type (:data:`FACETS`) over the rows held,
        as :meth:`LearningStore.facets` reads them from the tier (sync first)."""
        conn = self._conn()
        return {
            col: {
                k: int(n)
                for k, n in conn.execute(f"SELECT {col}, count(*) FROM doc GROUP BY {col}")
            }
            for col in FACETS
        }

    def count(self, where: dict[str, str]) -> int:
        """Rows whose :data:`FACETS` columns equal ``where`` (column -> value; all rows
        when empty), as :meth:`LearningStore.count` counts them in the tier (sync first).

        Raises: ValueError for a column outside :data:`FACETS`."""
        cond, args = _where(where)
        return int(self._conn().execute(f"SELECT count(*) FROM doc{cond}", args).fetchone()[0])

    def ids(self) -> Iterator[str]:
        """The id of every row held (sync first)."""
        for (learning_id,) in self._conn().execute("SELECT id FROM doc"):
            yield learning_id

    def page(self, where: dict[str, str], order: str, limit: int, offset: int) -> list[Learning]:
        """Rows ``offset`` to ``offset + limit`` of those whose :data:`FACETS` columns
        equal ``where`` (as :meth:`count`), in the order of ``order``, a Cozo ``:order``
        clause over :data:`COLS` (``"-updated_at, id"``: descending where a column has a
        ``-``), as :meth:`LearningStore.page` reads them from the tier (sync first).
        SQLite compares text by its UTF-8 bytes, as Cozo does.

        Raises: ValueError for a column outside :data:`FACETS` or :data:`COLS`."""
        cond, args = _where(where)
        terms = [t.strip() for t in order.split(",")]
        names = [t.lstrip("-") for t in terms]
        if not set(names) <= set(COLS):
            raise ValueError(f"cannot order by {sorted(set(names) - set(COLS))}")
        sql = (
            f"SELECT {', '.join(COLS)} FROM doc{cond}"
            + " ORDER BY "
            + ", ".join(
                f"{n} {'DESC' if t.startswith('-') else 'ASC'}"
                for t, n in zip(terms, names, strict=True)
            )
            + " LIMIT ? OFFSET ?"
        )
        found = self._conn().execute(sql, [*args, int(limit), int(offset)])
        return [pair[0] for pair in self.skipped.decode(found, self._objects, _key)]

    def rows(self, ids: Sequence[str]) -> dict[str, tuple[Learning, UsageStats | None]]:
        """The learning and usage stats (None when it has no usage row) of those of
        ``ids`` that are here."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self._conn().execute(
            f"SELECT {', '.join(COLS)} FROM doc WHERE id IN ({marks})", list(ids)
        )
        return {pair[0].id: pair for pair in self.skipped.decode(found, self._objects, _key)}

    def query(self, text: str, k: int, ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best learnings for free ``text`` (among ``ids`` when given): (id, BM25
        score; higher is better), best first (see :meth:`TantivyText.query`)."""
        return self.text.query(text, k, ids)

    def _synced(self) -> None:
        """After each sync: load the full-text index's last commit when another process
        wrote it."""
        meta = self._meta()
        if meta is not None and self.text.covered() != (meta[0], meta[2]):
            self.text.reload()

    # ------------------------------------------------------------ derived index
    def _meta(self, conn: sqlite3.Connection | None = None) -> tuple[str, int, int] | None:
        conn = conn or self._conn()
        row = conn.execute("SELECT tier_uid, seq, text_seq FROM meta WHERE k = 0").fetchone()
        return (row[0], int(row[1]), int(row[2])) if row else None

    def _covered(self) -> tuple[str, int] | None:
        meta = self._meta()
        return (meta[0], meta[1]) if meta else None

    def _drift(self, full: bool = False) -> set[str]:
        """Learnings whose row or usage stats here differ from the tier's. First a
        signature of each side (:data:`_SIGNATURE`: count and sum of ``updated_at`` of the
        learnings, count and sum of the usage counters); where it differs, the learnings'
        ``updated_at`` of those updated at or after the newest held here (a rewrite moves
        it; every row when the counts differ or those explain nothing) and the usage
        counters of the rows whose ``last_used`` is at or after the newest held here (an
        outcome moves it; every row when those explain nothing) are compared row by row;
        with ``full``, every row at once (see :meth:`_agrees`). At 100,000 learnings:
        0.4-0.8 s for the signature, then about 0.1 s for an edit, 0.3 s for an outcome,
        0.8-1.5 s for an added or deleted learning."""
        conn = self._conn()
        here = self._signature_here(conn)
        learned = self.db.run(
            "?[count(id), sum(updated_at)] := *learning:by_updated{id, updated_at}",
            read_only=True,
        ).rows
        used = self.db.run(f"?[count(learning_id), sum(n)] := {_USAGE_N}", read_only=True).rows
        there = tuple(float(v or 0) for v in [*(learned or [[0, 0]])[0], *(used or [[0, 0]])[0]])
        self._there = there
        if not full and self._same(here, there):
            return set()
        drift: set[str] = set()
        if full or here[:2] != there[:2]:  # learnings added, deleted or rewritten
            if not full and here[0] == there[0]:  # rewritten: a rewrite moves updated_at
                newest = conn.execute("SELECT max(updated_at) FROM doc").fetchone()[0]
                drift = self._learning_drift(conn, newest or 0)
            drift = drift or self._learning_drift(conn, None)
        if full or here[2:] != there[2:]:  # outcomes recorded
            if not full:
                newest = conn.execute("SELECT max(last_used) FROM doc").fetchone()[0]
                drift |= self._usage_drift(conn, newest or 0)
            if full or not drift:  # else the rows found are applied, then _agrees checks
                drift |= self._usage_drift(conn, None)
        if not drift:
            self._agrees(final=True)
        return drift

    def _signature_here(self, conn: sqlite3.Connection) -> tuple[float, ...]:
        return tuple(float(v or 0) for v in conn.execute(_SIGNATURE).fetchone())

    def _same(self, here: tuple[float, ...], there: tuple[float, ...]) -> bool:
        gap = tuple(t - h for t, h in zip(there, here, strict=True))
        return here == there or gap == self._unexplained

    def _agrees(self, final: bool = False) -> bool:
        """Whether the rows held now have the signature the tier had at the last
        :meth:`_drift`: False when the newest rows it compared did not explain every
        difference (a learning deleted and another added), so every row is compared.
        ``final`` (after every row was compared): a gap left is one no row explains
        (usage rows of deleted learnings); later checks that find the same gap stop at
        the signature."""
        if self._there is None:
            return True
        here = self._signature_here(self._conn())
        if final and not self._same(here, self._there):
            self._unexplained = tuple(t - h for t, h in zip(self._there, here, strict=True))
        return self._same(here, self._there)

    def _learning_drift(self, conn: sqlite3.Connection, since: int | None) -> set[str]:
        """Learnings whose ``updated_at`` here differs from the tier's, among the rows
        updated at or after ``since`` (read by the ``learning:by_updated`` index), or
        every row on both sides (None: added and deleted ones too)."""
        if since is None:
            stored = "?[id, updated_at] := *learning:by_updated{id, updated_at}"
            tier = dict(self.db.run(stored, read_only=True).rows)
            held = self._held(conn, "updated_at")
            return {i for i in tier.keys() | held.keys() if tier.get(i) != held.get(i)}
        stored = "?[id, updated_at] := *learning:by_updated{updated_at, id}, updated_at >= $t"
        tier = dict(self.db.run(stored, {"t": since}, read_only=True).rows)
        held = self._held(conn, "updated_at", list(tier))
        return {i for i, t in tier.items() if held.get(i) != t}

    def _held(
        self, conn: sqlite3.Connection, expr: str, ids: list[str] | None = None
    ) -> dict[str, Any]:
        """``expr`` (a column or :data:`_N`) of the rows held here among ``ids`` (every
        row: None, one read)."""
        if ids is None:
            return dict(conn.execute(f"SELECT id, {expr} FROM doc"))
        held: dict[str, Any] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            held.update(conn.execute(f"SELECT id, {expr} FROM doc WHERE id IN ({marks})", part))
        return held

    def _usage_drift(self, conn: sqlite3.Connection, since: int | None) -> set[str]:
        """Learnings held here whose usage counters differ from the tier's usage row,
        among the rows whose ``last_used`` is at or after ``since`` (every row: None)."""
        if since is None:
            stored = self.db.run(f"?[learning_id, n] := {_USAGE_N}", read_only=True).rows
        else:
            stored = self.db.run(
                f"?[learning_id, n] := {_USAGE_N}, !is_null(last_used), last_used >= $since",
                {"since": since},
                read_only=True,
            ).rows
        tier = dict(stored)
        held = self._held(conn, _N, None if since is None else list(tier))
        return {i for i, n in tier.items() if i in held and held[i] != n}

    def _write(
        self,
        head: changelog.Head,
        fn: Callable[[sqlite3.Connection], tuple[list[tuple[str, str]], list[str]] | None],
        *,
        after: tuple[str, int] | None,
    ) -> bool:
        """In one immediate transaction: unless ``after`` is None (a rebuild), go on only
        when ``meta`` is still ``after`` (another process may have done the work); run
        ``fn(conn)``, which writes rows and returns the (id, text) pairs and removed ids
        for the full-text index (None: it rebuilt the whole index); set ``meta`` to
        ``head``. Returns whether it wrote."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            meta = self._meta(conn)
            if after is not None and (meta is None or (meta[0], meta[1]) != after):
                conn.execute("COMMIT")
                return False
            text_seq = meta[2] if meta else None
            self.text.reload()
            if after is not None and self.text.covered() != (head.tier_uid, text_seq):
                self._rebuild_text(conn, (head.tier_uid, after[1]))
                text_seq = after[1]
            changes = fn(conn)
            if changes is None:
                text_seq = head.seq
            elif changes[0] or changes[1]:
                self.text.write(changes[0], changes[1], (head.tier_uid, head.seq))
                text_seq = head.seq
            conn.execute(
                "INSERT OR REPLACE INTO meta (k, tier_uid, seq, text_seq) VALUES (0, ?, ?, ?)",
                (head.tier_uid, head.seq, text_seq),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True

    def _rebuild_text(self, conn: sqlite3.Connection, state: tuple[str, int]) -> None:
        """Index the text of every row here anew (the rows are the truth at ``state``)."""
        rows = conn.execute("SELECT id, description, insight FROM doc").fetchall()
        self.text.write(((i, f"{d} {s}") for i, d, s in rows), (), state, clear=True)

    def _rebuild(self, head: changelog.Head, progress: ProgressFn | None = None) -> None:
        total = int(
            self.db.run("?[count(id)] := *learning:by_updated{id}", read_only=True).scalar(0)
        )
        self.replace_all(
            head, counted(fetch_rows(self.db, None), "indexing texts", total, progress)
        )

    def replace_all(self, head: changelog.Head, chunks: Iterable[list[list[Any]]]) -> None:
        """Make the store hold exactly the rows of ``chunks`` (:data:`COLS` order), as the
        tier's state at ``head``."""

        def fill(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM doc")
            texts = []
            for chunk in chunks:
                conn.executemany(_INSERT, chunk)
                texts += [(r[0], text_of(r)) for r in chunk]
            self.text.write(texts, (), (head.tier_uid, head.seq), clear=True)

        self._write(head, fill, after=None)

    def _apply(self, ids: set[str], seq: int, tier_uid: str) -> None:
        covered = self._covered()
        if covered is not None:
            self.apply_rows(covered, changelog.Head(seq, tier_uid), ids, None)

    def apply_rows(
        self,
        covered: tuple[str, int],
        head: changelog.Head,
        ids: Iterable[str],
        rows: list[list[Any]] | None,
    ) -> bool:
        """Bring the store from ``covered`` to ``head``: the learnings ``ids`` take the
        ``rows`` given (:data:`COLS` order; ids without a row were deleted), or, when
        ``rows`` is None, their rows read from the tier now. Nothing happens when the
        store no longer covers ``covered`` (another process moved it). Returns whether it
        wrote."""
        wanted = sorted(set(ids))

        def update(conn: sqlite3.Connection) -> tuple[list[tuple[str, str]], list[str]]:
            old: dict[str, str] = {}
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(part))
                for i, d, s in conn.execute(
                    f"SELECT id, description, insight FROM doc WHERE id IN ({marks})", part
                ):
                    old[i] = f"{d} {s}"
                conn.executemany("DELETE FROM doc WHERE id = ?", [(i,) for i in part])
            changed: list[tuple[str, str]] = []
            present: set[str] = set()
            for chunk in [rows] if rows is not None else fetch_rows(self.db, wanted):
                conn.executemany(_INSERT, chunk)
                for r in chunk:
                    present.add(r[0])
                    if old.get(r[0]) != text_of(r):
                        changed.append((r[0], text_of(r)))
            return changed, [i for i in old if i not in present]

        return self._write(head, update, after=covered)
