"""The tiers (docs/architecture.md#tiers-and-roles): user (opened eagerly), project (per
project path) and enterprise (per organisation), both opened on first use; reads that
span tiers, and promotion of a learning from one tier to another. A fourth kind,
``simulation:<name>``, holds only synthetic data (``groove simulate``): it is read only
when named, never as part of a read across tiers."""

from __future__ import annotations

import glob
import heapq
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from groove_core.config import SYNTHETIC_KINDS, Config, TierConfig, home_dir, tier_kind
from groove_core.embed import Embedder, default_embedder
from groove_core.errors import (
    ConfigError,
    GrooveError,
    NotFoundError,
    PermissionDeniedError,
    TierUnavailableError,
    ValidationError,
)
from groove_core.model.access import PROPOSABLE, Action, Principal, Role, os_principal
from groove_core.model.learning import Learning, LearningSource
from groove_core.model.proposal import Proposal, ProposalKind
from groove_core.model.scope import Scope
from groove_core.model.serde import check_uuid, new_id, now
from groove_core.model.usage import UsageStats
from groove_core.progress import ProgressFn
from groove_core.store import migrations, presence
from groove_core.store.access import AccessStore
from groove_core.store.audit import AuditLog
from groove_core.store.engine import DEFAULT_BUSY_TIMEOUT, Engine
from groove_core.store.learnings import LearningStore
from groove_core.store.listing import DEFAULT_SORT, SORTS, LearningFilter, Page
from groove_core.store.migrations import m011_tier_info
from groove_core.store.modes import DEFAULT_MODE
from groove_core.store.params import ParamStore
from groove_core.store.proposals import ProposalStore
from groove_core.store.writer import TierWriter

if TYPE_CHECKING:
    from groove_core.store.attribution import AttributionStore
    from groove_core.store.openworld import OpenWorldStore
    from groove_core.store.search import SearchHit, SearchStore

READ_ORDER = ("project", "user", "enterprise", "simulation")
#: Writes that leave every learning row's existence, category, scope, source and
#: embedding as they were (counts, facets and the embedding count hold across them).
KEEPS_LEARNINGS = frozenset(
    {
        Action.usage_record,
        Action.relation_write,
        Action.relation_remove,
        Action.param_write,
        Action.attribution_write,
        Action.experiment_write,
        Action.openworld_observe,
        Action.openworld_curate,
        Action.access_grant,
        Action.access_revoke,
        Action.proposal_file,
        Action.proposal_withdraw,
        Action.proposal_reject,
        Action.proposal_request_changes,
    }
)

#: Kinds of data (:data:`groove_core.store.presence.KINDS`) that make a new tier worth
#: recording in ``config.toml``, besides proposals waiting and roles.
RECORDED_KINDS = ("learnings", "params", "fingerprints", "events", "gaps", "attribution")


def find_project_root(start: Path | None = None) -> Path:
    """The enclosing git work tree of ``start`` (default: the current folder), else itself."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _missing(cfg: TierConfig) -> bool:
    """Whether a file tier's database does not exist yet."""
    return cfg.engine in ("sqlite", "rocksdb") and cfg.path is not None and not cfg.path.exists()


#: What an open tier keeps beside its database: SQLite's journal files, the holders'
#: folder and the derived search indexes.
_COMPANIONS = ("-wal", "-shm", "-journal", ".holders", ".search")


def _delete_database(path: Path, *, backups: bool, folder: bool = False) -> None:
    """Delete a tier's database and what it keeps beside it (:data:`_COMPANIONS`).

    Args:
        backups: also every other file named after it (its pre-migration backups).
        folder: also its folder when that is left empty.
    """
    if backups:
        paths = list(path.parent.glob(glob.escape(path.name) + "*"))
    else:
        paths = [path, *(path.with_name(path.name + c) for c in _COMPANIONS)]
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    if folder and not any(path.parent.iterdir()):
        path.parent.rmdir()


class Tier:
    """One open tier: its engine and typed stores.

    Args:
        name: the tier's name.
        db: its open engine.
        embedder: the embedder of its learnings (None: none are embedded).
        actor: who acts on writes that name no actor (default: the OS account); opening
            the tier migrates it as
            this principal, and the principal that creates an enterprise tier becomes its
            first admin. An existing enterprise tier that an older groove or another
            program wrote gets no admin by being opened (a developer's assistant reading it
            first must not become its admin): its curator claims it deliberately
            (:meth:`groove_core.store.access.AccessStore.bootstrap`, ``groove access
            claim``).
        progress: told how that migration goes (see :func:`migrations.migrate`).

    Attributes:
        name: ``user``, ``project:<path>`` or ``enterprise:<org>``.
        migration: what opening it migrated (a :class:`MigrationReport`).
        writer: the door every write goes through (role check, audit entry).
        learnings, search, params, access, proposals, audit: its stores.
    """

    def __init__(
        self,
        name: str,
        db: Engine,
        embedder: Embedder | None,
        actor: Principal | None = None,
        *,
        migrate: bool = True,
        progress: ProgressFn | None = None,
    ):
        actor = actor or os_principal()
        self.name = name
        self.db = db
        self.writer = TierWriter(db, actor)
        self.migration = (
            migrations.migrate(db, writer=self.writer, progress=progress) if migrate else None
        )
        recorded = m011_tier_info.recorded(db)
        if recorded and recorded[0] == "enterprise" and self.kind != "enterprise":
            raise TierUnavailableError(
                name,
                f"{db.location} is the database of enterprise tier '{recorded[1]}'; it opens "
                "only as an enterprise tier (under another kind its roles and review would "
                "not apply)",
            )
        self.learnings = LearningStore(db, embedder, self.writer)
        self.params = ParamStore(db, self.writer)
        self.access = AccessStore(db, self.writer)
        self.proposals = ProposalStore(db, self.learnings)
        self.audit = AuditLog(db)
        if (
            self.kind == "enterprise"
            and self.migration is not None
            and self.migration.from_version == 0  # created now, not an older tier
            and not self.access.grants()
        ):
            self.access.bootstrap(actor)

    @property
    def actor(self) -> Principal:
        """The principal acting on this tier when a write names none."""
        return self.writer.actor

    def role(self, principal: Principal | None = None) -> Role | None:
        """The role of ``principal`` (default: :attr:`actor`) here, or None."""
        return self.writer.role_of(principal)

    def must_propose(self, action: Action, actor: Principal | None = None) -> bool:
        """True when ``actor``'s change of kind ``action`` has to be filed as a proposal
        (a contributor's learning change, or any promotion, into an enterprise tier);
        False when it may be applied directly.

        Raises:
            PermissionDeniedError: the actor may neither apply nor propose it here.
        """
        actor = actor or self.actor
        action = Action(action)
        if self.kind != "enterprise" or action not in PROPOSABLE:
            return False
        role = self.role(actor)
        if action != Action.learning_promote and role is not None and role >= Role.curator:
            return False
        if role is None or role < Role.contributor:
            raise PermissionDeniedError(
                action.value,
                self.name,
                Role.contributor.name,
                actor.id,
                "it needs the contributor role to propose a change, or curator to make it",
            )
        return True

    @property
    def kind(self) -> str:
        return tier_kind(self.name)

    @property
    def data_version(self) -> int:
        """A number that changes with every write made through groove to this tier, in
        any process: the sequence number of its audit log's newest entry (0 when empty).
        One key read, so a page can key its cached reads by it. Writes by programs that
        keep no audit entry (vibes-groove) do not change it."""
        head = self.audit.head()
        return head[0] if head else 0

    @property
    def synthetic(self) -> bool:
        """True for a simulation tier: everything in it was made by ``groove simulate``."""
        return self.kind in SYNTHETIC_KINDS

    @property
    def label(self) -> str:
        """The name, with ``(synthetic)`` after a simulation tier's, for pickers."""
        return f"{self.name} (synthetic)" if self.synthetic else self.name

    @cached_property
    def attribution(self) -> AttributionStore:
        """Attribution records, learning values and ablation experiments
        (docs/architecture.md#relations-v1)."""
        from groove_core.store.attribution import AttributionStore

        return AttributionStore(self.db, self.learnings)

    @cached_property
    def search(self) -> SearchStore:
        """Semantic, full-text and hybrid search over this tier's learnings."""
        from groove_core.store.search import SearchStore

        return SearchStore(self.learnings)

    @cached_property
    def openworld(self) -> OpenWorldStore:
        """Fingerprints, clusters, capability gaps, failures and novelty events
        (docs/architecture.md#relations-v2)."""
        from groove_core.store.openworld import OpenWorldStore

        return OpenWorldStore(self.db, self.learnings)

    def learnings_version(self, known: tuple[int, int] | None = None) -> tuple[int, int]:
        """``(data version, learnings version)``. The learnings version changes only
        when a write may have changed which learnings exist or their category, scope,
        source or embedding (any action but :data:`KEEPS_LEARNINGS`), so counts and
        facets read at one learnings version hold until it changes, however many
        outcomes were recorded meanwhile.

        Args:
            known: the pair this returned before; only the audit entries written since
                are read (a range of the log's key). Without it (or after more than 10,000
                entries) the learnings version is the data version.
        """
        head = self.data_version
        if known is None or head < known[0]:
            return head, head
        if head == known[0]:
            return known
        actions = self.audit.actions_after(known[0])
        if actions is None or any(a not in KEEPS_LEARNINGS for a in actions):
            return head, head
        return head, known[1]

    def holds(self, kind: str) -> bool:
        """True when this tier holds any ``kind`` of data (``learnings``, ``outcomes``,
        ``attribution``, ``experiments``, ``params``, ``fingerprints``, ``gaps``,
        ``events``): one key read. Raises ValidationError for another kind."""
        return presence.holds(self.db, kind)

    def default_scope(self) -> Scope:
        """The scope new learnings of this tier get: ``project:<path>`` for a project tier,
        ``enterprise:<org>`` for an enterprise tier, global for the user tier."""
        if self.kind in ("user", *SYNTHETIC_KINDS):
            return Scope.global_()
        return Scope(self.kind, self.name.split(":", 1)[1])

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class Submission:
    """What a change submitted through :class:`Groove` did: applied to the tier
    (``learnings`` written, ``count`` rows), or filed as ``proposal`` for review."""

    tier: str
    proposal: Proposal | None = None
    learnings: tuple[Learning, ...] = ()
    count: int = 0

    @property
    def applied(self) -> bool:
        return self.proposal is None

    def describe(self) -> str:
        """One line for people."""
        if self.proposal is not None:
            return (
                f"filed proposal {self.proposal.id} in tier '{self.tier}' for a curator to "
                "review (groove review list)"
            )
        return f"{self.count} learning(s) changed in tier '{self.tier}'"


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
        open_user: open the user tier now (the user tier is opened eagerly).
        busy_timeout: seconds an open or a write waits for other processes, for tiers
            whose ``config.toml`` table sets no ``busy_timeout``.
        principal: who acts on writes that name no actor (default: ``[identity]`` of
            ``config.toml``, else the OS account).
        progress: told how the migration of an existing tier goes when opening it needs
            one (:func:`groove_core.store.migrations.migrate`).

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
        principal: Principal | None = None,
        progress: ProgressFn | None = None,
    ):
        self.home = home_dir(home)
        self.progress = progress
        self.config = Config(self.home)
        self._config_stamp = self._stamp()
        self.principal = principal or self.config.identity
        self.embedder = embedder if embedder is not None else default_embedder()
        self.project = Path(project).resolve() if project else find_project_root()
        self.busy_timeout = busy_timeout
        self._tiers: dict[str, Tier] = {}
        self._unrecorded: set[str] = set()
        #: Tiers whose database this object created: {name: (audit head right after,
        #: whether its folder was created too)}.
        self._created: dict[str, tuple[int, bool]] = {}
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
                new = _missing(cfg)
                if not create and tier_kind(name) == "enterprise" and new:
                    # its creator becomes its admin: a read (any developer's) creates nothing
                    raise TierUnavailableError(
                        name,
                        f"it is configured but {cfg.path} does not exist yet (its curator "
                        "creates it by importing into it or granting a role in it)",
                    )
                busy = self.busy_timeout if cfg.busy_timeout is None else cfg.busy_timeout
                new_folder = new and not cfg.path.parent.exists()
                db = Engine(name, cfg.engine, cfg.path, cfg.options, busy_timeout=busy)
                try:
                    self._tiers[name] = Tier(
                        name, db, self.embedder, self.principal, progress=self.progress
                    )
                except BaseException:
                    db.close()
                    raise
                if name not in self.config.tiers:
                    self._unrecorded.add(name)
                    if new:
                        head = self._tiers[name].data_version
                        self._created[name] = (head, new_folder)
            return self._tiers[name]

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.config.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def refresh(self) -> bool:
        """Re-read ``config.toml`` when it changed on disk since it was read (its
        modification time, size or inode: one ``stat``), so tiers another process (the
        CLI) configured since become known to :meth:`available` in a long-lived process
        such as the dashboard. Tiers already open stay open. Returns True when re-read.

        Raises:
            ConfigError: the changed ``config.toml`` is malformed (the old one stays).
        """
        stamp = self._stamp()
        with self._lock:
            if stamp == self._config_stamp:
                return False
            self.config = Config(self.home)
            self._config_stamp = stamp
        return True

    def record_new_tiers(self) -> list[str]:
        """Add to ``config.toml`` the tiers this object created that now hold learnings,
        parameters, open-world or attribution records (:data:`RECORDED_KINDS`), proposals
        waiting for review, or roles granted beyond the first admin (a curator
        setting up an enterprise tier), so ``groove status``, other processes and the
        dashboard list them (merely opening a tier does not count);
        a tier whose first operation failed stays out. Called by :meth:`close` and after
        a promotion. Returns the names recorded.

        Raises:
            ConfigError: ``config.toml`` could not be written.
        """
        recorded = []
        with self._lock:
            for name in sorted(self._unrecorded):
                t = self._tiers.get(name)
                if t is not None and (
                    any(t.holds(kind) for kind in RECORDED_KINDS)
                    or t.proposals.count_waiting()
                    or len(t.access.grants()) > 1
                ):
                    self.config.record(name)
                    recorded.append(name)
                    self._unrecorded.discard(name)
        return recorded

    @property
    def user(self) -> Tier:
        return self.tier("user")

    def open_tiers(self, *, synthetic: bool = False) -> list[Tier]:
        """Tiers opened so far, in read order (project, user, enterprise); simulation
        tiers only with ``synthetic`` (last)."""
        with self._lock:
            tiers = [t for t in self._tiers.values() if synthetic or not t.synthetic]
        return sorted(tiers, key=lambda t: (READ_ORDER.index(t.kind), t.name))

    def available(self, *, synthetic: bool = False) -> tuple[list[Tier], list[TierProblem]]:
        """Open every configured tier plus those already open; report the ones that fail
        instead of raising, so a page can show the rest and name the broken ones.
        Simulation tiers are opened and listed only with ``synthetic``. Tiers this object
        created that got data since are recorded in ``config.toml`` first
        (:meth:`record_new_tiers`), so a long-lived process (the dashboard) shares them.

        Raises:
            ConfigError: ``config.toml`` could not be written (the home is unusable).
        """
        self.record_new_tiers()
        problems = []
        for name in self.config.known_tiers():
            if not synthetic and tier_kind(name) in SYNTHETIC_KINDS:
                continue
            try:
                self.tier(name, create=False)  # a read: a configured enterprise tier's
            except GrooveError as err:  # creator would become its admin
                problems.append(TierProblem(name, str(err)))
        return self.open_tiers(synthetic=synthetic), problems

    def unreadable(self) -> dict[str, dict[str, str]]:
        """The learnings that listings and searches of this object left out because
        their rows do not follow the data contract (another program, or a newer version
        of one, wrote them), by tier: tier name -> (id -> reason), tiers with none left
        out; checked again now (see :meth:`LearningStore.unreadable`). Does not raise
        for a tier that cannot be read any more (it is left out)."""
        out = {}
        for t in self.open_tiers(synthetic=True):
            try:
                found = t.learnings.unreadable()
            except GrooveError:
                continue
            if found:
                out[t.name] = found
        return out

    def drop_tier(self, name: str) -> bool:
        """Delete a simulation tier: close it, delete its database and forget it in
        ``config.toml``. Returns False when it did not exist.

        Raises:
            GrooveError: ``name`` is not a simulation tier (real tiers are never dropped
                here), or its engine keeps data elsewhere (http).
        """
        name = self.resolve(name)
        if tier_kind(name) not in SYNTHETIC_KINDS:
            raise GrooveError(f"only simulation tiers can be dropped, not '{name}'")
        if not self.config.exists(name):
            return False
        cfg = self.config.tier(name)
        if cfg.engine == "http":
            raise GrooveError(f"tier '{name}' lives on a Cozo server: remove it there")
        with self._lock:
            open_tier = self._tiers.pop(name, None)
            if open_tier is not None:
                open_tier.close()
            if cfg.path is not None:
                _delete_database(cfg.path, backups=True)
            self.config.forget(name)
        return True

    def _unused_new_tiers(self) -> list[Tier]:
        """Tiers this object created that no write reached since (every write refused:
        the audit head is where creating it left it) and that no other process holds:
        closing leaves no file of them, so a refused first write changes nothing."""
        return [
            t
            for name, (head, _) in self._created.items()
            if name in self._unrecorded
            and (t := self._tiers.get(name)) is not None
            and t.data_version == head
            and not any(t.holds(kind) for kind in RECORDED_KINDS)
            and all(h.get("pid") == os.getpid() for h in t.db.holders())
        ]

    def close(self) -> None:
        """Record the new tiers that hold data (:meth:`record_new_tiers`) and close every
        open tier (also when recording fails, which is then raised). A tier this object
        created that no write reached (each was refused) is deleted, so a refused first
        write leaves nothing behind: not even an enterprise tier with its would-be writer
        as admin."""
        with self._lock:
            unused: list[Tier] = []
            try:
                self.record_new_tiers()
                unused = self._unused_new_tiers()
            finally:
                for t in self._tiers.values():
                    t.close()
                for t in unused:
                    _delete_database(t.db.path, backups=False, folder=self._created[t.name][1])
                self._tiers.clear()
                self._unrecorded.clear()
                self._created.clear()

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
        sort: str = DEFAULT_SORT,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """One page across tiers (:meth:`page`) with the number of matching rows."""
        items = self.page(tiers, flt, sort=sort, limit=limit, offset=offset)
        return Page(items, self.count(tiers, flt), offset, limit)

    def page(
        self,
        tiers: list[str] | None = None,
        flt: LearningFilter | None = None,
        *,
        sort: str = DEFAULT_SORT,
        limit: int = 50,
        offset: int = 0,
        derived: bool = False,
    ) -> list[Learning]:
        """The learnings ``offset`` to ``offset + limit`` across the chosen tiers in the
        order ``sort``: each tier returns its first ``offset + limit`` rows in Cozo
        (:meth:`LearningStore.page`), and they are merged by the sort key. With
        ``derived`` each tier's derived document store answers (:meth:`SearchStore.page`;
        ``derived`` as for :meth:`count`).

        Raises: ValidationError (unknown sort, bad window or filter value).
        """
        chosen = self._pick(tiers)

        def page_of(t: Tier, limit: int, offset: int) -> list[Learning]:
            store = t.search if derived else t.learnings
            return store.page(flt, sort=sort, limit=limit, offset=offset)

        if len(chosen) == 1:
            return page_of(chosen[0], limit, offset)
        pages = [page_of(t, offset + limit, 0) for t in chosen]
        usage: dict[str, int] = {}
        if sort == "usage":
            for t, p in zip(chosen, pages, strict=True):
                stats = t.learnings.usage_many([lr.id for lr in p])
                usage.update({i: s.times_injected for i, s in stats.items()})
        merged = list(heapq.merge(*pages, key=_sort_key(sort, usage)))
        return merged[offset : offset + limit]

    def count(
        self,
        tiers: list[str] | None = None,
        flt: LearningFilter | None = None,
        *,
        derived: bool = False,
    ) -> int:
        """Number of learnings matching ``flt`` in the chosen tiers (default: open ones).
        With ``derived`` each tier's derived document store answers (fast at any size,
        but it loads the search libraries: the dashboard's choice, not a quick command's).
        """
        return sum(
            (t.search.count(flt) if derived else t.learnings.count(flt)) for t in self._pick(tiers)
        )

    def facets_by_tier(
        self, tiers: list[str] | None = None, *, derived: bool = False
    ) -> dict[str, dict[str, dict]]:
        """Tier -> facet (``category``, ``scope``, ``source_type``) -> value -> count;
        ``derived`` as for :meth:`count`."""
        return {
            t.name: (t.search.facets() if derived else t.learnings.facets())
            for t in self._pick(tiers)
        }

    def facets(self, tiers: list[str] | None = None) -> dict[str, dict[str, int]]:
        """Counts by category, scope and source type summed over the chosen tiers."""
        return sum_facets(self.facets_by_tier(tiers).values())

    def get_many(self, ids: list[str], tiers: list[str] | None = None) -> list[Learning]:
        """The learnings among ``ids`` in the chosen tiers (default: the open ones), in the
        order of ``ids`` without repeats; an id held by several tiers is read from the
        first in read order; ids in no chosen tier are left out (one query per tier).

        Raises: ValidationError (an id that is not a UUID).
        """
        found: dict[str, Learning] = {}
        left = list(dict.fromkeys(ids))
        for t in self._pick(tiers):
            if not left:
                break
            found.update((lr.id, lr) for lr in t.learnings.get_many(left))
            left = [i for i in left if i not in found]
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def by_tier(self, ids: list[str], tiers: list[str] | None = None) -> dict[str, list[str]]:
        """The tier holding each of ``ids`` (read order: the first tier that has it),
        as tier -> ids in the order given; ids in no chosen tier are left out."""
        out: dict[str, list[str]] = {}
        for lr in self.get_many(ids, tiers):
            out.setdefault(lr.tier, []).append(lr.id)
        return out

    def delete_many(
        self,
        ids: list[str],
        *,
        tiers: list[str] | None = None,
        reason: str = "",
        actor: Principal | None = None,
    ) -> list[Submission]:
        """Delete learnings wherever they are (one transaction per tier; a contributor's
        deletion in an enterprise tier is filed as a proposal), one :class:`Submission`
        per tier. Undo with :meth:`restore_many`.

        Raises: PermissionDeniedError (nothing of that tier changed).
        """
        return [
            self.delete(name, tids, reason=reason, actor=actor)
            for name, tids in self.by_tier(ids, tiers).items()
        ]

    def recategorize_many(
        self,
        ids: list[str],
        category: str,
        *,
        tiers: list[str] | None = None,
        reason: str = "",
        actor: Principal | None = None,
    ) -> list[Submission]:
        """Set the category of learnings wherever they are (one transaction per tier); in
        an enterprise tier a contributor's changes are filed as one proposal each.

        Raises: PermissionDeniedError, ValidationError (an unknown category).
        """
        actor = actor or self.principal
        out = []
        for name, tids in self.by_tier(ids, tiers).items():
            t = self.tier(name, create=False)
            if t.must_propose(Action.learning_edit, actor):
                out += [
                    self.edit(name, i, category=category, reason=reason, actor=actor) for i in tids
                ]
            else:
                n = t.learnings.recategorize_many(tids, category, actor=actor)
                out.append(Submission(name, None, (), n))
        return out

    def restore_many(
        self, deleted: dict[str, list[str]], *, actor: Principal | None = None
    ) -> tuple[int, list[str]]:
        """Undo deletions: ``deleted`` is tier -> ids (as :meth:`delete_many` reports
        them). Returns (restored, errors for people); one learning that cannot be
        restored does not stop the others."""
        restored, errors = 0, []
        for name, tids in deleted.items():
            for i in tids:
                try:
                    self.tier(name, create=False).learnings.restore(
                        i, actor=actor or self.principal
                    )
                    restored += 1
                except GrooveError as err:
                    errors.append(f"{i}: {err}")
        return restored, errors

    def search(
        self,
        text: str,
        *,
        mode: str = DEFAULT_MODE,
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

    # ------------------------------------------------------------ changes (routed)
    def create(
        self,
        tier: str,
        learning: Learning,
        *,
        reason: str = "",
        actor: Principal | None = None,
        override_reason: str | None = None,
    ) -> Submission:
        """Add a learning to ``tier``, or file it as a proposal where the actor's role
        asks for review (see :meth:`Tier.must_propose`).

        Raises: PermissionDeniedError, ContentBlockedError, ValidationError.
        """
        t = self.tier(tier)
        actor = actor or self.principal
        if t.must_propose(Action.learning_create, actor):
            p = t.proposals.file(ProposalKind.create, after=[learning], reason=reason, actor=actor)
            return Submission(t.name, p)
        t.learnings.store(learning, actor=actor, override_reason=override_reason)
        return Submission(t.name, None, (learning.with_tier(t.name),), 1)

    def edit(
        self,
        tier: str,
        learning_id: str,
        *,
        description: str | None = None,
        insight: str | None = None,
        category: str | None = None,
        scope: str | None = None,
        reason: str = "",
        actor: Principal | None = None,
        override_reason: str | None = None,
        expect: Learning | None = None,
    ) -> Submission:
        """Edit a learning of ``tier``, or file the edit as a proposal.

        Raises: NotFoundError, ValidationError (also when ``expect`` is stale),
        PermissionDeniedError, ContentBlockedError.
        """
        t = self.tier(tier, create=False)
        actor = actor or self.principal
        fields = dict(description=description, insight=insight, category=category, scope=scope)
        if t.must_propose(Action.learning_edit, actor):
            old, new = t.learnings.plan_update(learning_id, **fields)
            if expect is not None and old.to_json() != expect.to_json():
                raise ValidationError(f"learning {old.id} changed since it was read; reload it")
            if new is old:
                return Submission(t.name, None, (old,), 0)
            p = t.proposals.file(
                ProposalKind.edit, before=[old], after=[new], reason=reason, actor=actor
            )
            return Submission(t.name, p)
        before = t.learnings.require(learning_id)
        new = t.learnings.update(
            learning_id, **fields, actor=actor, override_reason=override_reason, expect=expect
        )
        return Submission(t.name, None, (new,), int(new is not before and new != before))

    def delete(
        self,
        tier: str,
        ids: list[str],
        *,
        reason: str = "",
        actor: Principal | None = None,
    ) -> Submission:
        """Delete learnings of ``tier`` (undo: :meth:`LearningStore.restore`), or file the
        deletion as a proposal. Ids not in the tier are ignored. A learning whose row
        does not follow the data contract (:meth:`unreadable`) is deleted too, its row
        kept in its history (it cannot be restored, nor shown in a proposal).

        Raises:
            PermissionDeniedError: the actor may not delete here.
            ValidationError: a deletion to be filed as a proposal names such a learning.
        """
        t = self.tier(tier, create=False)
        actor = actor or self.principal
        ids = [check_uuid(i) for i in ids]  # as the tier keeps them
        found = t.learnings.get_many(ids, skip_unreadable=True)
        broken = sorted(set(ids) & set(t.learnings.unreadable()))
        if not found and not broken:
            return Submission(t.name)
        if t.must_propose(Action.learning_delete, actor):
            if broken:
                raise ValidationError(
                    f"learning {broken[0]} does not follow the data contract, so a proposal "
                    "cannot show it to a reviewer: a curator deletes it"
                )
            p = t.proposals.file(ProposalKind.delete, before=found, reason=reason, actor=actor)
            return Submission(t.name, p)
        n = t.learnings.delete_many([lr.id for lr in found] + broken, actor=actor)
        return Submission(t.name, None, tuple(found), n)

    def promote(
        self,
        learning_id: str,
        to_tier: str,
        *,
        scope: Scope | None = None,
        reason: str = "",
        actor: Principal | None = None,
    ) -> Submission:
        """Copy a learning to another tier as a new learning whose source is ``Promoted``
        (from its scope, with its original id), scoped to the target tier unless ``scope``.
        The copy starts without evidence: its usage counts are zero and its confidence is
        the prior's mean (:class:`~groove_core.model.usage.UsageStats` defaults), the same
        number its Beta posterior gives.
        Into an enterprise tier the copy is always filed as a proposal: company memory
        takes nobody's personal memory without review.

        Raises:
            NotFoundError: the learning is in no open tier. TierUnavailableError: the
            target cannot be opened. GrooveError: source and target are the same tier,
            or the target holds a copy promoted from it before.
            PermissionDeniedError: the actor may not promote into the target.
        """
        source_tier = self.locate(learning_id)
        target = self.tier(to_tier)
        actor = actor or self.principal
        if target.name == source_tier.name:
            raise GrooveError(f"learning {learning_id} is already in tier '{target.name}'")
        original = source_tier.learnings.require(learning_id)
        earlier = target.learnings.promoted_copy(original.id)
        if earlier is not None:
            raise GrooveError(
                f"learning {learning_id} was promoted to tier '{target.name}' before, as "
                f"learning {earlier}; edit that one (nothing was written)"
            )
        t = now()
        copy = Learning(
            id=new_id(),
            scope=scope or (original.scope if target.kind == "user" else target.default_scope()),
            category=original.category,
            content=original.content,
            source=LearningSource.promoted(original.scope, original.id),
            confidence=UsageStats().confidence(),
            created_at=t,
            updated_at=t,
        )
        if target.must_propose(Action.learning_promote, actor):
            p = target.proposals.file(
                ProposalKind.promote,
                after=[copy],
                reason=reason,
                source={"tier": source_tier.name, "id": original.id},
                actor=actor,
            )
            return Submission(target.name, p)
        target.learnings.store_many([copy], actor=actor, action=Action.learning_promote)
        self.record_new_tiers()
        return Submission(target.name, None, (copy.with_tier(target.name),), 1)


def sum_facets(per_tier: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Facet counts (``category``, ``scope``, ``source_type`` -> value -> count, as
    :meth:`LearningStore.facets` returns them) summed over several tiers."""
    out: dict[str, dict[str, int]] = {"category": {}, "scope": {}, "source_type": {}}
    for facets in per_tier:
        for col, counts in facets.items():
            for value, n in counts.items():
                out[col][value] = out[col].get(value, 0) + n
    return out


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


__all__ = ["Groove", "Submission", "Tier", "TierProblem", "find_project_root", "sum_facets"]
