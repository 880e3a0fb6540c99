"""What groove's derived search indexes share: where they live and how they follow the
tier's change log (:mod:`groove_core.store.changelog`).

A derived index covers the log up to a ``seq`` of one tier (``tier_uid``). Before it
answers, :meth:`DerivedIndex.sync` reads the log's head: an index of another tier, or
from a later point of the log than the tier has (a tier restored from a backup), is
rebuilt from Cozo; otherwise the learnings named by the log rows after its ``seq`` are
re-read and applied. So a process never answers from an index that lacks a committed
change that groove wrote, whichever process wrote it.

Programs that write the tier without the log (vibes-groove, the Rust side of the data
contract) are caught by a signature: on its first use in a process, and at most every
:data:`RECHECK_SECONDS` after, an index compares aggregates of its entries with the same
over the tier's rows (:meth:`DerivedIndex._drift`: counts, and for the document store the
sum of ``updated_at`` and of the usage counters, which every outcome moves). When they
differ it finds the entries that differ and re-reads only those (a sync at 100,000
learnings, signatures included: 0.8-1.2 s after an edit, 1.1-1.8 s after an outcome,
1.6-2.8 s after an added or deleted learning, where a rebuild takes 35 s). An edit in
place that moves neither ``updated_at`` nor a counter, or a new embedding of a learning
that had one, is seen only at the next rebuild. A check is skipped while the tier's files
prove that nothing at all was committed since the last one (:class:`changelog.FileStamp`):
at 100,000 learnings the signatures take 0.5-0.9 s, which an idle dashboard would pay
every minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from groove_core.progress import Progress, ProgressFn
from groove_core.store import changelog
from groove_core.store.engine import Engine

#: How often (seconds) a long-lived process re-counts the tier's rows against its index.
RECHECK_SECONDS = 60.0


def index_dir(db: Engine) -> Path | None:
    """The folder beside a tier's database that holds its derived index files
    (``<db file>.search``), or None for tiers without a local file (mem, http)."""
    if db.path is None:
        return None
    return db.path.with_name(db.path.name + ".search")


def read_rows(
    db: Engine, relation: str, columns: Sequence[str], ids: Sequence[str] | None, chunk: int
) -> Iterator[list[list[Any]]]:
    """Rows of ``relation`` (``columns``, the first being its key) in chunks of at most
    ``chunk``: those keyed by ``ids`` when given (absent ones left out), else the whole
    relation in key order, one key range per chunk (memory stays bounded whatever the
    tier's size, and no query scans the relation)."""
    key, cols = columns[0], ", ".join(columns)
    if ids is not None:
        ids = sorted(set(ids))
        for start in range(0, len(ids), chunk):
            res = db.run(
                f"?[{cols}] := {key} in $ids, *{relation}{{{cols}}}",
                {"ids": ids[start : start + chunk]},
                read_only=True,
            )
            if res.rows:
                yield res.rows
        return
    after = ""
    while True:
        res = db.run(
            f"?[{cols}] := *{relation}{{{cols}}}, {key} > $after :limit $n",
            {"after": after, "n": chunk},
            read_only=True,
        )
        if not res.rows:
            return
        yield res.rows
        after = max(r[0] for r in res.rows)


def counted(
    chunks: Iterator[list], stage: str, total: int, progress: ProgressFn | None
) -> Iterator[list]:
    """``chunks`` as they come, reporting ``Progress(stage, rows so far, total)`` after
    each (and once before the first) when ``progress`` is given."""
    done = 0
    if progress:
        progress(Progress(stage, 0, total))
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        if progress:
            progress(Progress(stage, done, max(total, done)))


class DerivedIndex:
    """Base of a derived index: subclasses implement :meth:`_covered` (the ``(tier_uid,
    seq)`` the index holds, or None when it has none), :meth:`_rebuild` (from the whole
    tier, covering at least ``head.seq``) and :meth:`_apply` (re-read ``ids``, then cover
    ``seq``)."""

    def __init__(self, db: Engine):
        self.db = db
        self.folder = index_dir(db)
        self._lock = threading.RLock()
        self._checked_at: float | None = None
        self._counted: changelog.FileStamp | None = None  # the tier's files when counted

    def sync(
        self,
        head: changelog.Head | None = None,
        progress: ProgressFn | None = None,
        stamp: changelog.FileStamp | None = None,
    ) -> int:
        """Bring the index up to the log's head (read now unless given). Returns the
        ``seq`` the index covers afterwards. A rebuild from the tier reports
        :class:`~groove_core.progress.Progress` to ``progress`` after each chunk read.
        ``stamp``: the tier's files, taken before ``head`` was read; a due recount is
        skipped when it equals the stamp of the last count and that one proves."""
        with self._lock:
            head = head or changelog.head(self.db)
            self._refresh()
            covered = self._covered()
            rebuilt = covered is None or covered[0] != head.tier_uid or covered[1] > head.seq
            if rebuilt:
                self._rebuild(head, progress)  # writes meanwhile are applied just below
                covered = self._covered()
            self._catch_up(head, covered, rebuilt)
            quiet = self._counted is not None and self._counted.proves
            due = self._check_due() and not (quiet and self._counted.same_files(stamp))
            if due and not rebuilt:
                drift = self._drift()  # written by a program bypassing the log
                covered = self._covered()
                if drift is None or covered is None:
                    self._rebuild(head, progress)
                    self._catch_up(head, self._covered(), True)
                elif drift:
                    self._apply(drift, covered[1], covered[0])
                    if not self._agrees():  # the newest rows did not explain all of it
                        rest = self._drift(full=True)
                        if rest:
                            self._apply(rest, covered[1], covered[0])
                            self._agrees(final=True)
            if due or rebuilt:
                self._counted = stamp
            self._checked_at = time.monotonic()
            self._synced()
            return (self._covered() or (head.tier_uid, head.seq))[1]

    def _catch_up(
        self, head: changelog.Head, covered: tuple[str, int] | None, rebuilt: bool
    ) -> None:
        if covered is not None and (rebuilt or covered[1] < head.seq):
            last, ids = changelog.changes_since(self.db, covered[1])
            if last != covered[1]:
                self._apply(ids, last, head.tier_uid)

    def covers(self, head: changelog.Head) -> bool:
        """True when the index holds exactly the tier's state at ``head`` (False when its
        rows are due to be counted again: :meth:`sync` does that)."""
        with self._lock:
            return not self._check_due() and self._covered() == (head.tier_uid, head.seq)

    def _check_due(self) -> bool:
        return self._checked_at is None or time.monotonic() - self._checked_at > RECHECK_SECONDS

    def covered_state(self) -> tuple[str, int] | None:
        """``(tier_uid, seq)`` of the state the index holds, or None when it holds none."""
        with self._lock:
            return self._covered()

    def check_due(self) -> bool:
        """True when the index's size is due to be compared with the tier's again (see the
        module docstring): :meth:`sync` must then run even if nothing was committed."""
        with self._lock:
            return self._check_due()

    def _synced(self) -> None:
        """Called at the end of each :meth:`sync` (a hook; nothing by default)."""

    def _refresh(self) -> None:
        """Take a newer persisted state of the index when another process saved one (a
        hook; nothing by default)."""

    def _covered(self) -> tuple[str, int] | None:
        raise NotImplementedError

    def _drift(self, full: bool = False) -> set[str] | None:
        """The learnings whose entry here differs from the tier's rows (added, changed or
        deleted by a program that bypasses the log): empty when a signature of both sides
        agrees, None when the index cannot tell which (it is rebuilt then). An index may
        look at the likeliest rows first; ``full`` compares every row."""
        raise NotImplementedError

    def _agrees(self, final: bool = False) -> bool:
        """After the entries of :meth:`_drift` were applied: whether they explain the
        whole difference (else :meth:`sync` asks again with ``full``, then calls this
        with ``final``)."""
        return True

    def _rebuild(self, head: changelog.Head, progress: ProgressFn | None) -> None:
        raise NotImplementedError

    def _apply(self, ids: set[str], seq: int, tier_uid: str) -> None:
        raise NotImplementedError
