"""The tier's change log for derived search indexes (schema version 9).

Cozo is the system of record. groove's faster search indexes (an HNSW graph in process,
a document store and a tantivy full-text index beside the tier) are *derived*: they can
be rebuilt from the tier at any time, and they follow it through this log. Every write of
a learning's row (its text, category, confidence...), usage stats or embedding, and every
deletion, appends ONE row ``search_log{seq => ids, at}`` in the same Cozo transaction as
the write (callers add :func:`statements` to their chain), and bumps
``search_head.seq``. The read of the head and the ``:insert`` of the new row run inside
that transaction; Cozo's SQLite engine serialises write transactions across processes,
and ``:insert`` refuses an existing ``seq``, so two writers can never both take one
number: the sequence is monotonic in commit order (checked by a multi-process test).

A reader knows the ``seq`` its index covers; before it answers it compares it with the
head and re-reads the learnings named by the rows after it (:func:`changes_since`).

Reading the head is a Cozo query (about 0.2-1 ms). On the ``sqlite`` engine a reader can
often skip it: every commit writes the tier's file or its write-ahead log, so their size,
modification time and inode (:func:`file_stamp`, two ``stat`` calls) change, unless the
commit falls in the same tick of the file clock as the last write before the stamp. A
stamp whose newest modification lies more than :data:`RACY_SECONDS` before it was taken
is therefore proof that nothing was committed as long as it stays equal; a younger one
proves nothing and the head is read (the "racy clean" rule of git's index). The files are
never opened: closing a descriptor of the tier's file from Python would drop the
engine's POSIX locks (https://sqlite.org/howtocorrupt.html, 2.2), and WAL commits leave
the header's change counter alone.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from groove_core.model.serde import now, to_unix
from groove_core.store.engine import Engine

_APPEND = (
    "?[seq, ids, at] := *search_head{k: 0, seq: last}, seq = last + 1, "
    "ids = $search_log_ids_TAG, at = $search_log_at_TAG :insert search_log {seq => ids, at}"
)
_BUMP = (
    "?[k, seq, tier_uid] := k = 0, *search_head{k, seq: last, tier_uid}, seq = last + 1 "
    ":update search_head {k => seq, tier_uid}"
)
#: Reads the head in the same snapshot as a query it is joined to.
HEAD_ATOM = "*search_head{k: 0, seq: head_seq, tier_uid}"


@dataclass(frozen=True)
class Head:
    """Where the log stands: ``seq`` of its last row (0 when empty) and ``tier_uid``, a
    random UUID written when the tier got schema version 9 (it tells an index file built
    from one tier from one built from another)."""

    seq: int
    tier_uid: str


def statements(ids: Iterable[str]) -> tuple[list[str], dict]:
    """The statements that append the log row naming ``ids`` (and bump the head), and
    their bound parameters, to add to a write's chain. Several may go in one chain (each
    gets its own parameter names and sees the head the one before it bumped)."""
    tag = secrets.token_hex(4)
    params = {
        f"search_log_ids_{tag}": sorted(set(ids)),
        f"search_log_at_{tag}": to_unix(now()),
    }
    return [_APPEND.replace("TAG", tag), _BUMP], params


def has_log(db: Engine) -> bool:
    """True when the tier has the change log (schema version 9 or later)."""
    return "search_head" in db.relations()


def head(db: Engine) -> Head:
    """The log's head (one keyed read, about 0.2 ms)."""
    seq, uid = db.run("?[seq, tier_uid] := *search_head{k: 0, seq, tier_uid}", read_only=True).rows[
        0
    ]
    return Head(int(seq), uid)


def changes_since(db: Engine, seq: int) -> tuple[int, set[str]]:
    """The ids touched by log rows after ``seq`` and the last ``seq`` read (a range scan
    of the log's key, not a scan of the log)."""
    res = db.run(
        "?[seq, ids] := *search_log{seq, ids}, seq > $since",
        {"since": int(seq)},
        read_only=True,
    )
    touched: set[str] = set()
    last = int(seq)
    for row_seq, ids in res.rows:
        touched.update(ids)
        last = max(last, int(row_seq))
    return last, touched


#: How long before a stamp its files' newest modification must lie for the stamp to
#: prove that nothing was committed while it stays equal (file clocks tick coarsely).
RACY_SECONDS = 0.1


@dataclass(frozen=True)
class FileStamp:
    """``(size, mtime_ns, inode)`` of a tier's SQLite file and of its ``-wal`` (None when
    absent), taken at ``taken`` (``time.time()`` seconds)."""

    files: tuple
    taken: float

    @property
    def proves(self) -> bool:
        """Whether an equal stamp taken later proves that no commit happened meanwhile:
        the newest modification lies more than :data:`RACY_SECONDS` before ``taken``."""
        newest = max((f[1] for f in self.files if f is not None), default=0)
        return newest / 1e9 < self.taken - RACY_SECONDS

    def same_files(self, other: FileStamp | None) -> bool:
        """Whether ``other`` saw the files as this stamp does."""
        return other is not None and other.files == self.files


def file_stamp(db: Engine) -> FileStamp | None:
    """The :class:`FileStamp` of a sqlite tier by ``os.stat`` alone (the files are never
    opened, see the module docstring), or None for other engines or an unreadable file."""
    if db.kind != "sqlite" or db.path is None:
        return None
    taken = time.time()
    files = []
    for path in (db.path, f"{db.path}-wal"):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            files.append(None)
            continue
        except OSError:
            return None
        files.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return FileStamp(tuple(files), taken)
