"""Who is using the dashboard: the sign-in screen (Streamlit's ``st.login``), the refusal
of an account that cannot be identified, and the sidebar line naming who acts."""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from dashboard.components.learning_views import escape
from groove_core.model.access import Principal

_HOW = {
    "oidc": "signed in",
    "config": "from [identity] in config.toml",
    "os": "this computer's account",
}


def sign_in_screen() -> None:
    """The only thing shown before sign-in: a title, one line and a "Sign in" button
    that starts the OpenID Connect flow (``st.login()``)."""
    st.title("groove")
    st.write("Sign in to see and curate this team's memory.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)


def refuse(reason: str) -> NoReturn:
    """Refuse a signed-in account that cannot act: say why, offer "Sign out", stop."""
    st.title("groove")
    st.error(
        f"{escape(reason)} groove records every change under your email address, "
        "so it cannot let you in."
    )
    st.button("Sign out", icon=":material/logout:", on_click=st.logout)
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover


def sidebar(who: Principal) -> None:
    """The sidebar's identity line: "Signed in as NAME <email>" and a "Sign out" button
    after OpenID Connect sign-in; "Acting as ..." and where that name comes from
    otherwise."""
    box = st.sidebar.container()
    if who.via == "oidc":
        box.caption(f"Signed in as {escape(who)}")
        box.button("Sign out", key="sign_out", icon=":material/logout:", on_click=st.logout)
    else:
        box.caption(f"Acting as {escape(who)} ({how(who.via)})")


def how(via: str) -> str:
    """How an identity was established, for people (``oidc`` -> "signed in")."""
    return _HOW.get(via, via)
