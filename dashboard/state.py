"""Shared dashboard state: the groove home opened once per server process, and small
helpers every page uses to pick tiers and show errors as messages, not tracebacks."""

from __future__ import annotations

import os

import streamlit as st

from groove_core.errors import GrooveError
from groove_core.model.access import Principal
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


def principal() -> Principal:
    """Who acts in this session: the home's identity (``[identity]`` in config.toml, else
    the OS account running the dashboard)."""
    return groove().principal


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
