"""Version 10 (groove's own): drop Cozo's full-text index ``learning:text_idx``.

Version 4 created it for groove's full-text search. Since version 9 that search answers
from a derived tantivy index (:mod:`groove_core.store.fulltext`) and nothing reads
``text_idx``: vibes-groove never did (it is not in the seed schema). Yet Cozo rewrites a
learning's postings on every ``:update`` of its row, also when only ``confidence``
changes, so each recorded outcome paid for it. Measured at 10,000 corpus learnings on
this machine: 36 pages written to the write-ahead log per ``record_outcome``, 23 without
the index (0.6-0.7 ms of 5.7-5.9 ms), and a bulk load's rows about 30% faster
(``benchmarks/bench_peer.py``). Rolling back creates the index again (Cozo fills it from
the rows). A program that wants Cozo's own full-text search over a tier can create the
same index with the statement in :data:`DOWN`.
"""

from groove_core.store.migrations.m004_learning_extras import UP as V4_UP

VERSION = 10
DESCRIPTION = "groove: drop Cozo's full-text index (search uses the derived one)"
CONTRACT = False

#: Version 4's statement creating the index.
CREATE = next(s for s in V4_UP if s.startswith("::fts create learning:text_idx"))
UP = ["::fts drop learning:text_idx"]
DOWN = [CREATE]


def up(db):
    """The statement dropping the index (none when a tier lacks it)."""
    return UP if "learning:text_idx" in db.relations() else []


def down(db):
    """The statement creating the index again."""
    return DOWN
