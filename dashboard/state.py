"""Shared dashboard state: the groove home opened once per server process, who is
acting (:func:`principal`), and small helpers every page uses to pick tiers and show
errors as messages, not tracebacks."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator, Sequence

import streamlit as st

from dashboard.components import identity, progress
from dashboard.components.text import escape
from groove_core.errors import GrooveError, ValidationError
from groove_core.model.access import Principal
from groove_core.progress import Progress
from groove_core.serve import AUTH_ENV, DashboardAuth
from groove_core.tiers import Groove

#: The address parameter of the tier a page shows (``?tier=<name>``).
TIER_PARAM = "tier"


#: Objects the garbage collector's oldest generation may hold before :func:`settle_heap`
#: freezes them.
SETTLE_AFTER = 50_000

#: Where the migrations of the running script's thread are drawn (see :func:`_drawn`).
_drawing = threading.local()


def _report(p: Progress) -> None:
    """The progress callback of the process-wide :class:`Groove`: a tier that migrates
    when it is first opened is drawn on the page of the run that opened it (Streamlit runs
    each session's script in a thread of its own), when that run asked (:func:`_drawn`)."""
    draw = getattr(_drawing, "draw", None)
    if draw is not None:
        draw(p)


@contextlib.contextmanager
def _drawn() -> Iterator[None]:
    """Tiers first opened in the block that need a migration (a backup and schema steps,
    tens of seconds on a large tier) show it as a progress bar where the block runs; the
    bar stays, at its last report, until the next run."""
    bar = None

    def draw(p: Progress) -> None:
        nonlocal bar
        bar = bar or st.empty()
        progress.show(p, bar=bar)

    _drawing.draw = draw
    try:
        yield
    finally:
        _drawing.draw = None


def settle_heap(limit: int | None = None) -> bool:
    """At the end of a run: when the garbage collector's oldest generation holds more
    than ``limit`` objects (default :data:`SETTLE_AFTER`), collect once and move every
    live object to its permanent generation (:func:`gc.freeze`, Python's documented way
    to exempt long-lived objects from collection). Returns True when it froze.

    Why: the server keeps what it imported (Streamlit, pandas, plotly, groove_core, and
    torch once the embedding model is loaded), 120,000-400,000 objects that a full
    collection walks again. Without this one ran on almost every run of the Learnings page,
    0.1-0.4 s of CPU each at 2 cores, taken from the browser drawing the page
    (``benchmarks/bench_dashboard.py``). Objects frozen are still freed when their last
    reference goes; only reference cycles among them are never collected, so a freeze
    follows a collection and happens only after that many objects stayed alive."""
    if len(gc.get_objects(generation=2)) <= (SETTLE_AFTER if limit is None else limit):
        return False
    gc.collect()
    gc.freeze()
    return True


@st.cache_resource(show_spinner="Opening the groove store...")
def _open(home: str | None, project: str | None) -> Groove:
    # the user tier opens in groove(), outside this cache: elements drawn inside a cached
    # function would be replayed on every later run
    return Groove(home, project=project, open_user=False, progress=_report)


def groove() -> Groove:
    """The process-wide :class:`Groove` for ``$GROOVE_HOME`` (or the default home) and the
    project ``$GROOVE_PROJECT`` (set by ``groove dashboard`` to the folder it was started
    in; default: the git root of the server's working folder), with ``config.toml`` re-read
    when another process changed it (:meth:`Groove.refresh`, one ``stat`` per run).

    On failure the page shows which tier could not be opened and why, then stops.
    """
    home = os.environ.get("GROOVE_HOME") or None
    project = os.environ.get("GROOVE_PROJECT") or None
    try:
        g = _open(home, project)
        g.refresh()  # tiers another process (the CLI) configured since the last run
        with _drawn():
            g.tier("user")  # opened (and migrated) on the first run
        return g
    except GrooveError as err:
        st.error(f"groove could not open its store: {escape(err)}")
        st.info(
            "Close the program named above or fix the tier in config.toml, then reload this page."
        )
        st.stop()
        raise  # unreachable: st.stop() raises


def auth_mode() -> DashboardAuth:
    """How this server identifies people: ``$GROOVE_DASHBOARD_AUTH``, set by ``groove
    dashboard --auth`` (default ``none``). An unknown value shows an error and stops: the
    page never falls back to serving without sign-in."""
    value = os.environ.get(AUTH_ENV) or DashboardAuth.none.value
    try:
        return DashboardAuth(value)
    except ValueError:
        st.error(f"{AUTH_ENV}={value!r} is not a sign-in mode (use none or oidc).")
        st.stop()
        raise  # unreachable: st.stop() raises


def principal() -> Principal:
    """Who acts in this browser session, for every write a page makes.

    - Under ``groove dashboard --auth oidc``: the signed-in person,
      ``Principal(st.user.email, st.user.name, "oidc")``. Before sign-in this shows only
      the sign-in screen and stops the script; a signed-in account whose provider gives
      no email (or says it is unverified) is refused with a message and a way to sign out.
    - Otherwise: ``groove().principal``, the ``[identity]`` of ``config.toml`` or else
      the OS account running the server.
    """
    if auth_mode() is DashboardAuth.none:
        return groove().principal
    user = st.user
    if user.get("is_logged_in") is not True:
        identity.sign_in_screen()
        st.stop()
    email = user.get("email")
    name = user.get("name")
    if not isinstance(email, str) or not email.strip():
        identity.refuse("Your identity provider did not give an email address for this account.")
    if user.get("email_verified") is False:
        identity.refuse(f"Your identity provider has not verified the address {email}.")
    try:
        return Principal(email.strip(), name if isinstance(name, str) else "", "oidc")
    except ValidationError as err:
        identity.refuse(f"This account's email cannot identify you: {err}")
        raise  # unreachable: refuse() stops


def tier_names(g: Groove, *, synthetic: bool = False) -> list[str]:
    """Names of the tiers that opened, showing the ones that failed as warnings.
    Simulation tiers (synthetic data) are listed, last, only with ``synthetic``."""
    tiers, problems = _available(g, synthetic=synthetic)
    for p in problems:
        st.warning(f"Tier '{escape(p.name)}' is not available: {escape(p.reason)}")
    return [t.name for t in tiers]


def _available(g: Groove, *, synthetic: bool = False) -> tuple[list, list]:
    """:meth:`Groove.available`, migrations of tiers it opens drawn (:func:`_drawn`)."""
    with _drawn():
        return g.available(synthetic=synthetic)


def tier_label(g: Groove, name: str) -> str:
    """A tier's name for pickers: simulation tiers say ``(synthetic)``."""
    return g.tier(name, create=False).label


def pick_tier(
    g: Groove,
    *,
    key: str,
    holds: str | None = None,
    prefer: Sequence[str] = (),
    before: Sequence[str] = (),
    names: list[str] | None = None,
    label: str = "Tier",
    sidebar: bool = True,
    format_func: Callable[[str], str] | None = None,
    help: str | None = None,
) -> str | None:
    """A select box of the open tiers whose choice stays the user's: remembered in the
    session when they go to another page and come back (each page has its own ``key``)
    and written to the address as ``?tier=<name>``, so a link opens the page on that tier.

    When the page opens (the widget has no value yet) the choice is, in order: the
    address's ``?tier=`` when it names an option; the choice made on this page before in
    this session; the first of ``prefer`` that is open; the first tier that holds
    ``holds`` data (see :meth:`groove_core.tiers.Tier.holds`), so a page never opens on
    an empty tier while another has its data; else the first option.

    Args:
        before: options listed before the tiers (e.g. "All tiers"); the first option is
            left out of the address when chosen.
        names: the tiers to offer (default: :func:`tier_names` with the simulation tiers,
            last, labelled synthetic by the default ``format_func``).

    Returns: the chosen option, or None (with a warning) when there is none.
    """
    names = tier_names(g, synthetic=True) if names is None else names
    options = [*before, *names]
    if not options:
        st.warning("No tier is open.")
        return None
    ss = st.session_state
    kept = f"{key}__chosen"
    if ss.get(key) not in options:
        wanted = st.query_params.get(TIER_PARAM)
        ss[key] = (
            next(
                (c for c in (wanted, ss.get(kept), *prefer) if c in options),
                None,
            )
            or first_holding(g, names, holds)
            or options[0]
        )
    if format_func is None:
        format_func = lambda n: n if n in before else tier_label(g, n)  # noqa: E731
    where = st.sidebar if sidebar else st
    choice = where.selectbox(label, options, key=key, format_func=format_func, help=help)
    ss[kept] = choice
    if choice == options[0] and before:
        st.query_params.pop(TIER_PARAM, None)
    elif st.query_params.get(TIER_PARAM) != choice:
        st.query_params[TIER_PARAM] = choice
    return choice


def first_holding(g: Groove, names: list[str], holds: str | None) -> str | None:
    """The first of ``names`` whose tier holds ``holds`` data (a kind of
    :meth:`groove_core.tiers.Tier.holds`); None when none does or ``holds`` is None."""
    if holds is None:
        return None
    for name in names:
        try:
            if g.tier(name, create=False).holds(holds):
                return name
        except GrooveError:
            continue
    return None


def report(err: Exception) -> None:
    """Show a groove error as a message (other exceptions propagate)."""
    if isinstance(err, GrooveError):
        st.error(escape(err))  # errors quote values others wrote
    else:
        raise err


def waiting_counts(g: Groove, names: list[str] | None = None) -> dict[str, int]:
    """Proposals awaiting review per tier (``names``, default: every tier that opens).
    A tier that cannot be read is left out silently: the pages name it."""
    if names is None:
        names = [t.name for t in _available(g)[0]]
    out: dict[str, int] = {}
    for name in names:
        try:
            out[name] = g.tier(name).proposals.count_waiting()
        except GrooveError:
            continue
    return out


def open_page(title: str) -> tuple[Groove, list[str]]:
    """Start a curation page: its title, the store, the names of the tiers that opened
    (the others named in warnings) and the messages queued by the last action. Stops the
    page when no tier opened."""
    from dashboard.components.messages import show_flash

    st.title(title)
    g = groove()
    names = tier_names(g)
    show_flash()
    if not names:
        st.stop()
    return g, names


def enterprise(names: list[str]) -> list[str]:
    """The enterprise tiers among ``names`` (the curation pages open on one first)."""
    return [n for n in names if n.startswith("enterprise:")]
