"""groove's derived full-text index: SQLite FTS5 (BM25 ranking) in a file beside the
tier, kept current by the change log.

The file (``fulltext.sqlite`` in :func:`groove_core.store.derived.index_dir`, or an
in-memory database for tiers without a file) holds the text of each learning (its
description and insight, as Cozo's ``text_idx`` extracts it), tokenised by FTS5's
``porter unicode61`` tokenizer, and a ``meta`` row with the tier and the log ``seq`` it
covers. Several processes share the file: each catch-up runs in one ``BEGIN IMMEDIATE``
transaction that re-reads ``meta`` first, so changes are applied once and a reader sees
either the old or the new state. ``word_df`` keeps each lower-cased word's document
frequency, so a query can leave out words that most learnings contain.

BM25 is the ranking function of Robertson & Zaragoza, "The Probabilistic Relevance
Framework: BM25 and Beyond" (Foundations and Trends in IR, 2009), as FTS5 implements it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

from groove_core.errors import DatabaseError
from groove_core.store import changelog
from groove_core.store.derived import DerivedIndex, read_rows
from groove_core.store.engine import Engine

#: A query word found in more than this share of learnings is left out (unless every
#: word is): its BM25 idf is close to zero, yet its posting list is the longest to read.
COMMON_SHARE = 0.25
#: At most this many query words are searched: the rarest (highest idf), which carry most
#: of the BM25 score; a whole sentence ORed reads every word's posting list.
MAX_TERMS = 8
_WORD = re.compile(r"\w+")
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 0), "
    "tier_uid TEXT NOT NULL, seq INTEGER NOT NULL, docs INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS doc (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
    "words TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS word_df (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(id UNINDEXED, body, "
    "tokenize = 'porter unicode61')",
]
_CHUNK = 2000


def words(text: str) -> list[str]:
    """The distinct lower-cased words of ``text`` in order of first appearance."""
    return list(dict.fromkeys(_WORD.findall(text.lower())))


def match_expression(query_words: Iterable[str]) -> str | None:
    """An FTS5 MATCH expression: each word quoted (so operators a user types are just
    words) and joined by OR; None when there is no word."""
    quoted = [f'"{w}"' for w in query_words if w]
    return " OR ".join(quoted) if quoted else None


def _texts(db: Engine, ids: list[str] | None) -> Iterator[list[tuple[str, str]]]:
    """(id, description + ' ' + insight) of learnings, in chunks: of ``ids`` when given
    (absent ones left out), else of the whole tier by key ranges."""
    for rows in read_rows(db, "learning", ["id", "description", "insight"], ids, _CHUNK):
        yield [(i, f"{d} {s}") for i, d, s in rows]


class TextIndex(DerivedIndex):
    """BM25 full-text search over one tier's learnings (a derived FTS5 index)."""

    def __init__(self, db: Engine):
        super().__init__(db)
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None

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
            conn = self._open(str(self.folder / "fulltext.sqlite"))
            self._local.conn = conn
        return conn

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
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
            return TextIndex._open(path)
        return conn

    # ------------------------------------------------------------ queries
    def query(self, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best learnings for free ``text`` as (id, BM25 score; higher is
        better), best first. Call :meth:`sync` first to include every committed write."""
        conn = self._conn()
        query_words = words(text)[:64]
        if not query_words:
            return []
        if len(query_words) > 1:
            query_words = self._informative(conn, query_words)
        expr = match_expression(query_words)
        try:
            rows = conn.execute(
                "SELECT id, -bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?",
                (expr, int(k)),
            ).fetchall()
        except sqlite3.OperationalError as err:
            raise DatabaseError(f"tier '{self.db.tier}': full-text query failed: {err}") from None
        return [(i, float(s)) for i, s in rows]

    def _informative(self, conn: sqlite3.Connection, query_words: list[str]) -> list[str]:
        """The at most :data:`MAX_TERMS` rarest of ``query_words``, less those in more than
        :data:`COMMON_SHARE` of learnings (all kept when every one is that common). A word
        never seen as such (it may still match a stemmed form) counts as rare."""
        docs = conn.execute("SELECT docs FROM meta WHERE k = 0").fetchone()
        if not docs or not docs[0]:
            return query_words[:MAX_TERMS]
        marks = ",".join("?" * len(query_words))
        df = dict(
            conn.execute(f"SELECT word, df FROM word_df WHERE word IN ({marks})", query_words)
        )
        keep = [w for w in query_words if df.get(w, 0) <= COMMON_SHARE * docs[0]] or query_words
        return sorted(keep, key=lambda w: (df.get(w, 0), query_words.index(w)))[:MAX_TERMS]

    # ------------------------------------------------------------ derived index
    def _covered(self) -> tuple[str, int] | None:
        row = self._conn().execute("SELECT tier_uid, seq FROM meta WHERE k = 0").fetchone()
        return (row[0], int(row[1])) if row else None

    def _consistent(self) -> bool:
        docs = self._conn().execute("SELECT count(*) FROM doc").fetchone()[0]
        stored = self.db.run("?[count(id)] := *learning:by_updated{id}", read_only=True).scalar(0)
        return int(stored) == int(docs)

    def _write(self, head: changelog.Head, fn, *, rebuild: bool) -> None:
        """Run ``fn(conn)`` and set ``meta`` to ``head`` in one immediate transaction; a
        catch-up (``rebuild`` False) is skipped when another process did it meanwhile
        (``meta`` re-read inside)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT tier_uid, seq FROM meta WHERE k = 0").fetchone()
            stale = row is None or row[0] != head.tier_uid
            needed = rebuild or (not stale and int(row[1]) < head.seq)
            if needed:
                fn(conn)
                docs = conn.execute("SELECT count(*) FROM doc").fetchone()[0]
                conn.execute(
                    "INSERT OR REPLACE INTO meta (k, tier_uid, seq, docs) VALUES (0, ?, ?, ?)",
                    (head.tier_uid, head.seq, docs),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _rebuild(self, head: changelog.Head) -> None:
        def fill(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM fts")
            conn.execute("DELETE FROM doc")
            conn.execute("DELETE FROM word_df")
            df: Counter[str] = Counter()
            for chunk in _texts(self.db, None):
                self._insert(conn, chunk, df)
            conn.executemany("INSERT INTO word_df (word, df) VALUES (?, ?)", df.items())

        self._write(head, fill, rebuild=True)

    @staticmethod
    def _insert(conn: sqlite3.Connection, chunk: list[tuple[str, str]], df: Counter) -> None:
        for learning_id, body in chunk:
            ws = words(body)
            df.update(ws)
            cur = conn.execute(
                "INSERT INTO doc (id, words) VALUES (?, ?)", (learning_id, " ".join(ws))
            )
            conn.execute(
                "INSERT INTO fts (rowid, id, body) VALUES (?, ?, ?)",
                (cur.lastrowid, learning_id, body),
            )

    def _apply(self, ids: set[str], seq: int, tier_uid: str) -> None:
        wanted = sorted(ids)

        def update(conn: sqlite3.Connection) -> None:
            gone: Counter[str] = Counter()
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(part))
                old = conn.execute(
                    f"SELECT rowid, words FROM doc WHERE id IN ({marks})", part
                ).fetchall()
                for rowid, ws in old:
                    gone.update(ws.split())
                    conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
                    conn.execute("DELETE FROM doc WHERE rowid = ?", (rowid,))
            added: Counter[str] = Counter()
            for chunk in _texts(self.db, wanted):
                self._insert(conn, chunk, added)
            delta = Counter(added)
            delta.subtract(gone)
            conn.executemany(
                "INSERT INTO word_df (word, df) VALUES (?, ?) "
                "ON CONFLICT (word) DO UPDATE SET df = df + excluded.df",
                [(w, n) for w, n in delta.items() if n],
            )

        self._write(changelog.Head(seq, tier_uid), update, rebuild=False)
