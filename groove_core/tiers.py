"""The three tiers of seed 001: user (opened eagerly), project (per project path) and
enterprise (per organisation), both opened on first use; reads that span tiers, and
promotion of a learning from one tier to another."""

from __future__ import annotations

import heapq
import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from groove_core.config import Config, home_dir, tier_kind
from groove_core.embed import Embedder, default_embedder
from groove_core.errors import ConfigError, GrooveError, NotFoundError, TierUnavailableError
from groove_core.model.learning import Learning, LearningSource
from groove_core.model.scope import Scope
from groove_core.model.serde import new_id, now
from groove_core.store import migrations
from groove_core.store.engine import DEFAULT_BUSY_TIMEOUT, Engine
from groove_core.store.learnings import SORTS, LearningFilter, LearningStore, Page
from groove_core.store.params import ParamStore
from groove_core.store.search import SearchHit, SearchStore

if TYPE_CHECKING:
    from groove_core.store.attribution import AttributionStore
    from groove_core.store.openworld import OpenWorldStore

READ_ORDER = ("project", "user", "enterprise")


def find_project_root(start: Path | None = None) -> Path:
    """The enclosing git work tree of ``start`` (default: the current folder), else itself."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


class Tier:
    """One open tier: its engine and typed stores.

    Attributes:
        name: ``user``, ``project:<path>`` or ``enterprise:<org>``.
        migration: what opening it migrated (a :class:`MigrationReport`).
    """

    def __init__(self, name: str, db: Engine, embedder: Embedder | None, *, migrate: bool = True):
        self.name = name
        self.db = db
        self.migration = migrations.migrate(db) if migrate else None
        self.learnings = LearningStore(db, embedder)
        self.search = SearchStore(self.learnings)
        self.params = ParamStore(db)

    @property
    def kind(self) -> str:
        return tier_kind(self.name)

    @cached_property
    def attribution(self) -> AttributionStore:
        """Attribution records, learning values and ablation experiments (seed 003)."""
        from groove_core.store.attribution import AttributionStore

        return AttributionStore(self.db, self.learnings)

    @cached_property
    def openworld(self) -> OpenWorldStore:
        """Fingerprints, clusters, capability gaps, failures and novelty events (seed 000)."""
        from groove_core.store.openworld import OpenWorldStore

        return OpenWorldStore(self.db, self.learnings)

    def default_scope(self) -> Scope:
        """The scope new learnings of this tier get: ``project:<path>`` for a project tier,
        ``enterprise:<org>`` for an enterprise tier, global for the user tier."""
        if self.kind == "user":
            return Scope.global_()
        return Scope(self.kind, self.name.split(":", 1)[1])

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class TierProblem:
    """A tier that could not be opened, and why (for the dashboard and ``status``)."""

    name: str
    reason: str


class Groove:
    """All tiers of a groove home.

    Args:
        home: the home folder (see :func:`groove_core.config.home_dir`).
        embedder: the embedder for every tier; default all-MiniLM-L6-v2.
        project: project path the ``project`` alias refers to (default: the git root of
            the current folder).
        open_user: open the user tier now (seed 001: eager).
        busy_timeout: seconds an open or a write waits for other processes, for tiers
            whose ``config.toml`` table sets no ``busy_timeout``.

    Raises:
        TierUnavailableError / SchemaTooNewError / MigrationError: the user tier cannot be
            opened (only when ``open_user``).
        ConfigError: ``config.toml`` is malformed.
    """

    def __init__(
        self,
        home: str | os.PathLike | None = None,
        *,
        embedder: Embedder | None = None,
        project: str | os.PathLike | None = None,
        open_user: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ):
        self.home = home_dir(home)
        self.config = Config(self.home)
        self.embedder = embedder if embedder is not None else default_embedder()
        self.project = Path(project).resolve() if project else find_project_root()
        self.busy_timeout = busy_timeout
        self._tiers: dict[str, Tier] = {}
        self._unrecorded: set[str] = set()
        self._lock = threading.RLock()
        if open_user:
            self.tier("user")

    # ------------------------------------------------------------ tiers
    def resolve(self, name: str) -> str:
        """Canonical tier name: ``project`` means this project's tier; ``project:<path>``
        paths are made absolute.

        Raises:
            ConfigError: not a valid tier name (see :func:`groove_core.config.tier_kind`).
        """
        if name == "project":
            return f"project:{self.project}"
        if tier_kind(name) == "project":
            try:
                path = Path(name.split(":", 1)[1]).expanduser().resolve()
            except (OSError, RuntimeError, ValueError) as err:
                raise ConfigError(f"invalid tier name {name!r:.80}: {err}") from None
            return f"project:{path}"
        return name

    def tier(self, name: str = "user", *, create: bool = True) -> Tier:
        """The open tier ``name``, opening (and migrating) it on first use.

        Args:
            create: make an unconfigured project or enterprise tier that has no database
                yet (writes do; reads pass False so a mistyped name creates nothing).

        Raises:
            TierUnavailableError: the tier cannot be opened, or does not exist and
                ``create`` is False.
        """
        name = self.resolve(name)
        with self._lock:
            if name not in self._tiers:
                if not create and not self.config.exists(name):
                    raise TierUnavailableError(
                        name,
                        "it does not exist yet (import into it or promote a learning to it "
                        "to create it)",
                    )
                cfg = self.config.tier(name)
                busy = self.busy_timeout if cfg.busy_timeout is None else cfg.busy_timeout
                db = Engine(name, cfg.engine, cfg.path, cfg.options, busy_timeout=busy)
                try:
                    self._tiers[name] = Tier(name, db, self.embedder)
                except BaseException:
                    db.close()
                    raise
                if name not in self.config.tiers:
                    self._unrecorded.add(name)
            return self._tiers[name]

    def record_new_tiers(self) -> list[str]:
        """Add to ``config.toml`` the tiers this object created that now hold learnings
        or parameters (so ``groove status``, other processes and the dashboard list them);
        a tier whose first operation failed stays out. Called by :meth:`close` and after
        a promotion. Returns the names recorded.

        Raises:
            ConfigError: ``config.toml`` could not be written.
        """
        recorded = []
        with self._lock:
            for name in sorted(self._unrecorded):
                t = self._tiers.get(name)
                if t is not None and (t.learnings.count() or t.params.all_params()):
                    self.config.record(name)
                    recorded.append(name)
                    self._unrecorded.discard(name)
        return recorded

    @property
    def user(self) -> Tier:
        return self.tier("user")

    def open_tiers(self) -> list[Tier]:
        """Tiers opened so far, in read order (project, user, enterprise)."""
        with self._lock:
            tiers = list(self._tiers.values())
        return sorted(tiers, key=lambda t: (READ_ORDER.index(t.kind), t.name))

    def available(self) -> tuple[list[Tier], list[TierProblem]]:
        """Open every configured tier plus those already open; report the ones that fail
        instead of raising, so a page can show the rest and name the broken ones. Tiers
        this object created that got data since are recorded in ``config.toml`` first
        (:meth:`record_new_tiers`), so a long-lived process (the dashboard) shares them.

        Raises:
            ConfigError: ``config.toml`` could not be written (the home is unusable).
        """
        self.record_new_tiers()
        problems = []
        for name in self.config.known_tiers():
            try:
                self.tier(name)
            except GrooveError as err:
                problems.append(TierProblem(name, str(err)))
        return self.open_tiers(), problems

    def close(self) -> None:
        """Record the new tiers that hold data (:meth:`record_new_tiers`) and close every
        open tier (also when recording fails, which is then raised)."""
        with self._lock:
            try:
                self.record_new_tiers()
            finally:
                for t in self._tiers.values():
                    t.close()
                self._tiers.clear()
                self._unrecorded.clear()

    def __enter__(self) -> Groove:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ reads across tiers
    def _pick(self, tiers: list[str] | None) -> list[Tier]:
        return [self.tier(n, create=False) for n in tiers] if tiers else self.open_tiers()

    def get(self, learning_id: str, tiers: list[str] | None = None) -> Learning | None:
        """The learning with that id from the first tier (read order) that has it."""
        for t in self._pick(tiers):
            found = t.learnings.get(learning_id)
            if found is not None:
                return found
        return None

    def locate(self, learning_id: str) -> Tier:
        """The tier holding ``learning_id``. Raises NotFoundError."""
        for t in self.open_tiers():
            if t.learnings.get(learning_id) is not None:
                return t
        raise NotFoundError(f"no learning {learning_id} in the open tiers")

    def list(
        self,
        tiers: list[str] | None = None,
        flt: LearningFilter | None = None,
        *,
        sort: str = "recency",
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """One page across tiers: each tier returns its first ``offset + limit`` rows in
        Cozo, and the pages are merged by the sort key."""
        chosen = self._pick(tiers)
        if len(chosen) == 1:
            return chosen[0].learnings.list(flt, sort=sort, limit=limit, offset=offset)
        pages = [t.learnings.list(flt, sort=sort, limit=offset + limit) for t in chosen]
        usage: dict[str, int] = {}
        if sort == "usage":
            for t, p in zip(chosen, pages, strict=True):
                stats = t.learnings.usage_many([lr.id for lr in p.items])
                usage.update({i: s.times_injected for i, s in stats.items()})
        merged = list(heapq.merge(*(p.items for p in pages), key=_sort_key(sort, usage)))
        return Page(merged[offset : offset + limit], sum(p.total for p in pages), offset, limit)

    def count(self, tiers: list[str] | None = None, flt: LearningFilter | None = None) -> int:
        """Number of learnings matching ``flt`` in the chosen tiers (default: open ones)."""
        return sum(t.learnings.count(flt) for t in self._pick(tiers))

    def search(
        self,
        text: str,
        *,
        mode: str = "hybrid",
        limit: int = 10,
        tiers: list[str] | None = None,
        flt: LearningFilter | None = None,
    ) -> list[SearchHit]:
        """Search each chosen tier and merge by score (each hit's learning names its tier)."""
        hits = [
            h
            for t in self._pick(tiers)
            for h in t.search.search(text, mode=mode, limit=limit, flt=flt)
        ]
        return sorted(hits, key=lambda h: -h.score)[:limit]

    # ------------------------------------------------------------ promotion
    def promote(
        self,
        learning_id: str,
        to_tier: str,
        *,
        scope: Scope | None = None,
        who: str | None = None,
    ) -> Learning:
        """Copy a learning to another tier as a new learning whose source is ``Promoted``
        (from its scope, with its original id), scoped to the target tier unless ``scope``.

        Raises:
            NotFoundError: the learning is in no open tier. TierUnavailableError: the
            target cannot be opened. GrooveError: source and target are the same tier.
        """
        source_tier = self.locate(learning_id)
        target = self.tier(to_tier)
        if target.name == source_tier.name:
            raise GrooveError(f"learning {learning_id} is already in tier '{target.name}'")
        original = source_tier.learnings.require(learning_id)
        t = now()
        copy = Learning(
            id=new_id(),
            scope=scope or (original.scope if target.kind == "user" else target.default_scope()),
            category=original.category,
            content=original.content,
            source=LearningSource.promoted(original.scope, original.id),
            confidence=original.confidence,
            created_at=t,
            updated_at=t,
        )
        target.learnings.store_many([copy], who=who, action="promoted")
        self.record_new_tiers()
        return copy.with_tier(target.name)


def _sort_key(sort: str, usage: dict[str, int]):
    if sort not in SORTS:
        raise GrooveError(f"unknown sort {sort!r:.80}")
    if sort == "recency":
        return lambda lr: (-lr.updated_at.timestamp(), lr.id)
    if sort == "created":
        return lambda lr: (-lr.created_at.timestamp(), lr.id)
    if sort == "confidence":
        return lambda lr: (-lr.confidence, lr.id)
    if sort == "usage":
        return lambda lr: (-usage.get(lr.id, 0), -lr.updated_at.timestamp(), lr.id)
    return lambda lr: (lr.description, lr.id)


__all__ = ["Groove", "Tier", "TierProblem", "TierUnavailableError", "find_project_root"]
