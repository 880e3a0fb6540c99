"""Reading learnings: by id, filtered, sorted and paged inside Cozo, their facets, and the
import keys of imported rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from groove_core.errors import DataContractError, NotFoundError, ValidationError
from groove_core.model.learning import Learning, LearningCategory, LearningSource
from groove_core.model.scope import Scope
from groove_core.model.serde import check_uuid, now, to_unix
from groove_core.store.base import StoreBase
from groove_core.store.rows import LEARNING_ATOM, LEARNING_HEAD, row_to_learning, row_to_pair

#: Sort orders for :meth:`LearningStore.list`: name -> Cozo ``:order`` clause.
SORTS = {
    "recency": "-updated_at, id",
    "created": "-created_at, id",
    "confidence": "-confidence, id",
    "usage": "-times_injected, -updated_at, id",
    "description": "description, id",
}
#: The sort of a listing when none is named.
DEFAULT_SORT = "recency"
#: Sort orders that an index of ``learning`` keeps (migration 4): sort name -> index.
_SORT_INDEX = {"recency": "by_updated", "created": "by_created", "usage": "by_updated"}
#: Deepest window (offset + limit) :meth:`LearningStore.page` reads from the newest rows
#: of an index instead of sorting all of it (each of ~32 probes reads up to this many).
NEWEST_MAX = 1_000
#: How far past now a timestamp may lie and still be found by the newest-rows search.
_FUTURE_SECONDS = 100 * 365 * 86_400
#: The rule atom that keeps learnings with a content-scan mark (binds ``id``).
_FLAGGED = "*learning_scan{learning_id: id}"
_SOURCE_TYPES = ("transcript", "user_created", "promoted", "imported", "enterprise_curated")


@dataclass(frozen=True)
class LearningFilter:
    """Filters for :meth:`LearningStore.list` and ``count``; ``None`` means any.

    ``scope`` is a DB scope string, ``category`` a category DB string, ``source_type`` one
    of the source types of docs/architecture.md#relations-v1, ``ids`` restricts to those ids
    and ``flagged`` to learnings the content scan flagged (a stored ``learning_scan`` mark,
    also when a curator overrode it).

    Raises: ValidationError for an unknown category or source type or a malformed scope,
    when made (a search that finds nothing says so too, not only one that finds rows).
    """

    scope: str | None = None
    category: str | None = None
    source_type: str | None = None
    ids: Sequence[str] | None = None
    flagged: bool = False

    def __post_init__(self) -> None:
        if self.category:
            LearningCategory.parse(self.category)
        if self.scope:
            Scope.parse(self.scope)
        if self.source_type and self.source_type not in _SOURCE_TYPES:
            raise ValidationError(f"unknown source type {self.source_type!r:.80}")

    def body(self, atom: str) -> tuple[str, dict[str, Any]]:
        """The rule body that reads ``atom`` (a ``*learning{...}`` atom binding ``id``,
        ``scope``, ``category`` and ``source_type``) through this filter, and its bound
        parameters.

        Cozo plans a body in the order it is written, so the one condition that can
        select rows by key or index is bound BEFORE the atom (ids by key, else the
        content-scan marks, few, read whole, else category or scope by their index) and
        the others filter AFTER it: a value bound before the atom that is neither key nor
        index prefix makes Cozo load the whole relation.

        Raises:
            ValidationError: an unknown category, scope form or source type, or a bad id.
        """
        conds: list[tuple[str, str, Any]] = []  # (parameter, condition, value)
        if self.ids is not None:
            conds.append(("f_ids", "id in $f_ids", [check_uuid(i) for i in self.ids]))
        if self.category:
            value = LearningCategory.parse(self.category).value
            conds.append(("f_category", "category = $f_category", value))
        if self.scope:
            conds.append(("f_scope", "scope = $f_scope", Scope.parse(self.scope).to_db()))
        if self.source_type:
            if self.source_type not in _SOURCE_TYPES:
                raise ValidationError(f"unknown source type {self.source_type!r:.80}")
            conds.append(("f_source", "source_type = $f_source", self.source_type))
        if self.flagged:  # after ids (a key lookup each), before the other conditions
            conds.insert(1 if self.ids is not None else 0, ("", _FLAGGED, None))
        params = {name: value for name, _, value in conds if name}
        if not conds or conds[0][0] == "f_source":  # no key or index to use
            return ", ".join([atom] + [c for _, c, _ in conds]), params
        first, *rest = (c for _, c, _ in conds)
        return ", ".join([first, atom, *rest]), params

    def equalities(self) -> dict[str, str] | None:
        """The filter as column -> stored value (``category``, ``scope``,
        ``source_type``; empty for no filter), or None when it selects by ids or by
        content-scan marks (which only the tier holds).

        Raises:
            ValidationError: an unknown category, scope form or source type."""
        if self.ids is not None or self.flagged:
            return None
        _, params = self.body("*learning{id, scope, category, source_type}")
        names = {"f_category": "category", "f_scope": "scope", "f_source": "source_type"}
        return {names[k]: v for k, v in params.items()}

    def matches(self, learning: Learning) -> bool:
        """Whether ``learning`` passes this filter (as :meth:`body` selects in Cozo),
        except ``flagged``: a learning does not carry its content-scan mark, the caller
        checks it (:meth:`ScanningMixin.scan_marks`).

        Raises:
            ValidationError: an unknown category or scope form."""
        if self.ids is not None and learning.id not in set(self.ids):
            return False
        if self.category and learning.category != LearningCategory.parse(self.category):
            return False
        if self.scope and learning.scope.to_db() != Scope.parse(self.scope).to_db():
            return False
        return not self.source_type or learning.source.kind == self.source_type


def check_window(sort: str, limit: int, offset: int) -> tuple[int, int]:
    """``(limit, offset)`` as ints once ``sort`` is a key of :data:`SORTS`, ``limit`` at
    least 1 and ``offset`` at least 0.

    Raises: ValidationError naming what is wrong."""
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r:.80} (use one of {', '.join(SORTS)})")
    limit, offset = int(limit), int(offset)
    if limit < 1 or offset < 0:
        raise ValidationError("limit must be >= 1 and offset >= 0")
    return limit, offset


@dataclass(frozen=True)
class Page:
    """One page of learnings: ``items`` in order, ``total`` matching rows, the window."""

    items: list[Learning]
    total: int
    offset: int
    limit: int


class ListingMixin(StoreBase):
    """Reads of learnings (part of ``LearningStore``)."""

    def get(self, learning_id: str) -> Learning | None:
        """The learning with that id, or None."""
        found = self.get_many([learning_id])
        return found[0] if found else None

    def require(self, learning_id: str) -> Learning:
        """Like :meth:`get` but raises NotFoundError naming the tier."""
        found = self.get(learning_id)
        if found is None:
            raise NotFoundError(f"no learning {learning_id} in tier '{self.tier}'")
        return found

    def get_many(self, ids: Sequence[str], *, skip_unreadable: bool = False) -> list[Learning]:
        """The learnings among ``ids`` that exist, in the order of ``ids``.

        With ``skip_unreadable`` (listings), a row that does not follow the data contract
        is left out and recorded (:meth:`unreadable`) instead of raising.

        Raises:
            ValidationError: an id is not a UUID (without ``skip_unreadable``).
            DataContractError: a row does not follow the data contract (without
                ``skip_unreadable``).
        """
        if skip_unreadable:  # ids read from the tier: one another program wrote may be bad
            ids = self.skipped.decode(ids, self._checked_id, str)
        else:
            ids = [check_uuid(i) for i in ids]
        if not ids:
            return []
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := id in $ids, {LEARNING_ATOM}",
            {"ids": ids},
            read_only=True,
        )
        if skip_unreadable:
            found = self.skipped.decode(res.dicts(), self._decode, lambda r: r["id"])
        else:
            found = [self._decode(r) for r in res.dicts()]
        by_id = {lr.id: lr for lr in found}
        return [by_id[i] for i in ids if i in by_id]

    def _checked_id(self, learning_id: str) -> str:
        try:
            return check_uuid(learning_id)
        except ValidationError as err:
            raise DataContractError(self.tier, learning_id, str(err)) from None

    def _decode(self, row: dict[str, Any]) -> Learning:
        return row_to_learning(row, self.tier)

    def unreadable(self) -> dict[str, str]:
        """The learnings of this tier that listings and searches in this process left
        out because their rows (or usage rows) do not follow the data contract (another
        program wrote them), as id -> the reason, checked again now: a row since mended
        or deleted is no longer named. Only rows a read met are known; a read of the id
        (``groove show``) names the problem, :meth:`Groove.delete` removes it.

        Returns: id -> reason, in id order."""
        ids = sorted(self.skipped.found())
        if not ids:
            return {}
        from groove_core.store.docs import fetch_rows  # rare: keeps tantivy off start-up

        rows = [r for chunk in fetch_rows(self.db, ids) for r in chunk]
        self.skipped.forget(set(ids) - {r[0] for r in rows})
        self.skipped.decode(rows, lambda r: row_to_pair(r, self.tier), lambda r: r[0])
        found = self.skipped.found()
        return {i: found[i] for i in sorted(found)}

    def has_marks_for(self, flt: LearningFilter | None) -> bool:
        """False when ``flt`` keeps flagged learnings only and the tier has no content-scan
        marks to read (no ``learning_scan``: a tier from before schema 8 opened without
        migrating it): nothing matches then."""
        return not (flt and flt.flagged) or self.writer._has("learning_scan")

    def count(self, flt: LearningFilter | None = None) -> int:
        """Number of learnings matching ``flt`` (all when None)."""
        if not self.has_marks_for(flt):
            return 0
        if flt is None or flt == LearningFilter():  # the narrow index counts twice as fast
            body, params = "*learning:by_updated{id}", {}
        else:
            body, params = flt.body("*learning{id, scope, category, source_type}")
        script = f"?[count(id)] := {body}"
        if flt is not None and flt.flagged:  # in one rule, Cozo reads every learning first
            script = f"kept[id] := {body}\n?[count(id)] := kept[id]"
        return int(self.db.run(script, params, read_only=True).scalar(0))

    def list(
        self,
        flt: LearningFilter | None = None,
        *,
        sort: str = DEFAULT_SORT,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """One page of learnings matching ``flt``, sorted by ``sort`` (a key of
        :data:`SORTS`), with the number of matching rows (:meth:`page` and
        :meth:`count`): only the page's rows come back to Python, whatever the size of
        the tier.

        Raises:
            ValidationError: unknown sort, negative limit/offset, or a bad filter value.
        """
        items = self.page(flt, sort=sort, limit=limit, offset=offset)
        return Page(items, self.count(flt), int(offset), int(limit))

    def page(
        self,
        flt: LearningFilter | None = None,
        *,
        sort: str = DEFAULT_SORT,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Learning]:
        """The learnings ``offset`` to ``offset + limit`` of those matching ``flt`` in the
        order ``sort`` (a key of :data:`SORTS`); sorting and paging happen inside Cozo.

        The first pages of all learnings by recency or creation (``offset + limit`` up to
        :data:`NEWEST_MAX`) read only the newest rows of the sort's index
        (:meth:`_newest_ids`): about 15 ms at 100,000 learnings, where sorting the whole
        index takes 640 ms.

        Raises:
            ValidationError: unknown sort, negative limit/offset, or a bad filter value.
        """
        limit, offset = check_window(sort, limit, offset)
        flt = flt or LearningFilter()
        if not self.has_marks_for(flt):
            return []
        # Sort (sort columns, id) only, then fetch the page's rows by key: narrower tuples
        # sort faster, and with no filter the recency and creation orders read their
        # index, a much narrower relation (at 100,000 learnings: 217 ms against 418 ms).
        order = [c.strip().lstrip("-") for c in SORTS[sort].split(",")]
        cols = [c for c in order if c != "times_injected"]
        if flt == LearningFilter() and sort in _SORT_INDEX:
            if sort != "usage" and offset + limit <= NEWEST_MAX:
                ids = self._newest_ids(_SORT_INDEX[sort], cols[0], offset + limit)
                if ids is not None:
                    return self.get_many(ids[offset : offset + limit], skip_unreadable=True)
            atoms, params = f"*learning:{_SORT_INDEX[sort]}{{{', '.join(cols)}}}", {}
        else:
            needed = dict.fromkeys(["id", "scope", "category", "source_type", *cols])
            atoms, params = flt.body("*learning{" + ", ".join(needed) + "}")
        head = ", ".join(order)
        tail = f":order {SORTS[sort]} :limit $limit :offset $offset"
        if sort == "usage":  # every learning has a usage row (migration 7, store_many)
            script = f"?[{head}] := {atoms}, *usage_stats{{learning_id: id, times_injected}} {tail}"
        else:
            script = f"?[{head}] := {atoms} {tail}"
        res = self.db.run(script, {**params, "limit": limit, "offset": offset}, read_only=True)
        at = order.index("id")
        return self.get_many([row[at] for row in res.rows], skip_unreadable=True)

    def _newest_ids(self, index: str, column: str, n: int) -> list[str] | None:
        """The ids of the ``n`` rows with the largest ``column`` (ties by id) of the
        index ``learning:<index>`` (``{column, id}``), without sorting the whole index:
        Cozo reads a range ``column >= t`` of an index by its key, so a binary search
        finds the largest ``t`` with at least ``n`` rows at or above it (each probe reads
        at most ``n`` rows), then those rows are sorted. None when fewer than ``n`` rows
        have a timestamp >= 0 (the caller sorts the whole index)."""
        probe = f"?[{column}, id] := *learning:{index}{{{column}, id}}, {column} >= $t"

        def enough(t: int) -> bool:
            res = self.db.run(f"{probe} :limit $n", {"t": t, "n": n}, read_only=True)
            return len(res.rows) >= n

        low, high = 0, to_unix(now()) + _FUTURE_SECONDS
        if not enough(low):
            return None
        while low < high:  # invariant: enough(low)
            mid = (low + high + 1) // 2
            if enough(mid):
                low = mid
            else:
                high = mid - 1
        rows = self.db.run(probe, {"t": low}, read_only=True).rows
        rows.sort(key=lambda r: (-r[0], r[1]))
        return [r[1] for r in rows[:n]]

    def ids(self) -> list[str]:
        """Every learning's id, in id order (one query over a narrow index)."""
        res = self.db.run("?[id] := *learning:by_updated{id} :order id", read_only=True)
        return [r[0] for r in res.rows]

    def iter_all(self, batch: int = 1000, *, skip_unreadable: bool = True) -> Iterable[Learning]:
        """Every learning, in id order, read ``batch`` rows at a time by key (a keyset
        query such as ``id > $last`` would scan the relation for every batch); rows that
        do not follow the data contract are left out (:meth:`unreadable`), or raise
        :class:`DataContractError` without ``skip_unreadable`` (an export must be whole)."""
        ids = self.ids()
        if not skip_unreadable:
            ids = [self._checked_id(i) for i in ids]
        for start in range(0, len(ids), batch):
            yield from self.get_many(ids[start : start + batch], skip_unreadable=skip_unreadable)

    def find_by_scope(self, scope: Scope | str) -> list[Learning]:
        """All learnings in a scope (vibes-groove's ``find_by_scope``)."""
        s = scope.to_db() if isinstance(scope, Scope) else Scope.parse(scope).to_db()
        return self._all(LearningFilter(scope=s))

    def find_by_category(self, category: LearningCategory | str) -> list[Learning]:
        """All learnings of a category (vibes-groove's ``find_by_category``)."""
        return self._all(LearningFilter(category=LearningCategory.parse(category).value))

    def _all(self, flt: LearningFilter) -> list[Learning]:
        body, params = flt.body(LEARNING_ATOM)
        res = self.db.run(
            f"?[{LEARNING_HEAD}] := {body} :order id",
            params,
            read_only=True,
        )
        return self.skipped.decode(res.dicts(), self._decode, lambda r: r["id"])

    def facets(self) -> dict[str, dict[str, int]]:
        """Counts by category, scope and source type (for filters and the overview); the
        first two read their narrow index rather than the learning rows."""
        out: dict[str, dict[str, int]] = {}
        for col, relation in (
            ("category", "learning:by_category"),
            ("scope", "learning:by_scope"),
            ("source_type", "learning"),
        ):
            res = self.db.run(f"?[{col}, count(id)] := *{relation}{{id, {col}}}", read_only=True)
            out[col] = {k: int(n) for k, n in res.rows}
        return out

    def promoted_copy(self, original_id: str) -> str | None:
        """The id of a learning here promoted from ``original_id`` (its source names it),
        or None. Reads the promoted learnings' sources (no index: a promotion is rare)."""
        res = self.db.run(
            "?[id, source_json] := *learning{id, source_type, source_json}, "
            "source_type = 'promoted', str_includes(source_json, $original)",
            {"original": check_uuid(original_id)},
            read_only=True,
        )
        for lid, text in res.rows:
            if LearningSource.from_json(json.loads(text)).data.get("original_id") == original_id:
                return lid
        return None

    def import_keys(self) -> set[str]:
        """The ``import_key`` of every imported learning (kept in its pattern): lets a
        rule-file import skip what is already here."""
        res = self.db.run(
            "?[pattern_json] := *learning{source_type, pattern_json}, "
            "source_type = 'imported', !is_null(pattern_json)",
            read_only=True,
        )
        keys = set()
        for (text,) in res.rows:
            try:
                key = json.loads(text).get("import_key")
            except (ValueError, AttributeError):
                continue
            if isinstance(key, str):
                keys.add(key)
        return keys


__all__ = ["NEWEST_MAX", "SORTS", "LearningFilter", "ListingMixin", "Page", "check_window"]
