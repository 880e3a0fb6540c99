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

Reading the head is a Cozo query (about 0.2-1 ms), made before every answer. A cheaper
test on the file itself (its header's change counter) is not used: tiers run in WAL mode,
where commits leave the header alone, and opening then closing the file from Python
drops the engine's POSIX locks (https://sqlite.org/howtocorrupt.html, 2.2).
"""

from __future__ import annotations

import secrets
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
