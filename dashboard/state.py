"""Shared dashboard state: the groove home opened once per server process, who is
acting (:func:`principal`), and small helpers every page uses to pick tiers and show
errors as messages, not tracebacks."""

from __future__ import annotations

import os

import streamlit as st

from dashboard.components import identity
from groove_core.errors import GrooveError, ValidationError
from groove_core.model.access import Principal
from groove_core.serve import AUTH_ENV, DashboardAuth
from groove_core.tiers import Groove


@st.cache_resource(show_spinner="Opening the groove store...")
def _open(home: str | None, project: str | None) -> Groove:
    return Groove(home, project=project)


def groove() -> Groove:
    """The process-wide :class:`Groove` for ``$GROOVE_HOME`` (or the default home) and the
    project ``$GROOVE_PROJECT`` (set by ``groove dashboard`` to the folder it was started
    in; default: the git root of the server's working folder).

    On failure the page shows which tier could not be opened and why, then stops.
    """
    home = os.environ.get("GROOVE_HOME") or None
    project = os.environ.get("GROOVE_PROJECT") or None
    try:
        return _open(home, project)
    except GrooveError as err:
        st.error(f"groove could not open its store: {err}")
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
    tiers, problems = g.available(synthetic=synthetic)
    for p in problems:
        st.warning(f"Tier '{p.name}' is not available: {p.reason}")
    return [t.name for t in tiers]


def tier_label(g: Groove, name: str) -> str:
    """A tier's name for pickers: simulation tiers say ``(synthetic)``."""
    return g.tier(name, create=False).label


def pick_tier(g: Groove, *, key: str, label: str = "Tier", sidebar: bool = True) -> str:
    """A select box of open tiers (user first, simulation tiers last and labelled
    synthetic); ``?tier=<name>`` in the address preselects one. Returns the name."""
    names = tier_names(g, synthetic=True)
    wanted = st.query_params.get("tier")
    if wanted in names and key not in st.session_state:
        st.session_state[key] = wanted
    where = st.sidebar if sidebar else st
    return where.selectbox(label, names, key=key, format_func=lambda n: tier_label(g, n))


def report(err: Exception) -> None:
    """Show a groove error as a message (other exceptions propagate)."""
    if isinstance(err, GrooveError):
        st.error(str(err))
    else:
        raise err


def waiting_counts(g: Groove, names: list[str] | None = None) -> dict[str, int]:
    """Proposals awaiting review per tier (``names``, default: every tier that opens).
    A tier that cannot be read is left out silently: the pages name it."""
    if names is None:
        names = [t.name for t in g.available()[0]]
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
    from dashboard.components.learning_views import show_flash

    st.title(title)
    g = groove()
    names = tier_names(g)
    show_flash()
    if not names:
        st.stop()
    return g, names


def enterprise_first(names: list[str], prefer: list[str] = ()) -> int:
    """Index in ``names`` of the first of ``prefer`` there, else of the first enterprise
    tier, else 0 (the default of a tier select box on the curation pages)."""
    for n in [*prefer, *(n for n in names if n.startswith("enterprise:"))]:
        if n in names:
            return names.index(n)
    return 0
