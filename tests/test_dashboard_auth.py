"""AppTest of the dashboard's sign-in gate (``dashboard/streamlit_app.py``): under
``--auth oidc`` nothing but the sign-in screen renders before sign-in and no tier is
opened; an account without a usable email is refused; a signed-in person is named in the
sidebar and is who the pages record. Without sign-in the home's identity acts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from streamlit.testing.v1 import AppTest

from groove_core.model.access import os_principal
from groove_core.serve import AUTH_ENV
from groove_core.tiers import Groove

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py")


@pytest.fixture
def opened(tmp_path, monkeypatch):
    """Homes the dashboard opened during the test (the test embedder stands in)."""
    import dashboard.state as state

    home = tmp_path / "home"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store(make_learning("Use tabs", "Indent with tabs"))
    monkeypatch.setenv("GROOVE_HOME", str(home))
    calls: list[str] = []
    groove = Groove(home, embedder=HashingEmbedder(), project=tmp_path)

    def open_(home_arg, _project):
        calls.append(home_arg)
        return groove

    monkeypatch.setattr(state, "_open", open_)
    yield calls
    groove.close()


def run(monkeypatch, auth: str, user: dict | None = None) -> AppTest:
    monkeypatch.setenv(AUTH_ENV, auth)
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plain(markdown: str) -> str:
    """Markdown source without its backslash escapes."""
    return markdown.replace("\\", "")


def test_before_sign_in_only_the_sign_in_screen_renders(opened, monkeypatch):
    at = run(monkeypatch, "oidc", {"is_logged_in": False})
    assert [t.value for t in at.title] == ["groove"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.caption and not at.header and not at.metric and not at.dataframe
    assert opened == []  # no tier was opened, so nothing of it could be shown


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ({"is_logged_in": True, "name": "No Mail", "sub": "u1"}, "did not give an email"),
        ({"is_logged_in": True, "email": " "}, "did not give an email"),
        (
            {"is_logged_in": True, "email": "eve@example.com", "email_verified": False},
            "has not verified the address eve@example.com",
        ),
    ],
)
def test_an_account_without_a_usable_email_is_refused(opened, monkeypatch, user, says):
    at = run(monkeypatch, "oidc", user)
    (error,) = at.error
    assert says in plain(error.value) and "cannot let you in" in error.value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.metric and opened == []


def test_signed_in_person_is_named_in_the_sidebar_and_sees_the_pages(opened, monkeypatch):
    user = {"is_logged_in": True, "email": "alice@example.com", "name": "Alice Liddell"}
    at = run(monkeypatch, "oidc", user)
    captions = [plain(c.value) for c in at.sidebar.caption]
    assert "Signed in as Alice Liddell <alice@example.com>" in captions
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert [t.value for t in at.title] == ["Overview"]
    assert opened  # the pages read the store once signed in
    at.sidebar.button(key="sign_out").click().run()
    assert at.user == {"is_logged_in": False}  # st.logout ran
    assert [b.label for b in at.button] == ["Sign in"]


def test_without_sign_in_the_homes_identity_acts(opened, monkeypatch):
    at = run(monkeypatch, "none")
    me = os_principal()
    assert [plain(c.value) for c in at.sidebar.caption] == [
        f"Acting as {me} (this computer's account)"
    ]
    assert [t.value for t in at.title] == ["Overview"]


def test_an_unknown_sign_in_mode_stops_before_anything_renders(opened, monkeypatch):
    at = run(monkeypatch, "ldap")
    assert "is not a sign-in mode" in at.error[0].value
    assert not at.title and opened == []
