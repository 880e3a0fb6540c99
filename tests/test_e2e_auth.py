"""End to end: ``groove dashboard --auth oidc`` against a real OpenID Connect provider
(oidc-provider-mock, on loopback), two people in two browsers. Each sees only the sign-in
screen first, signs in, is named in the sidebar, and a learning each deletes is recorded
under their own email; one signs out and is back at the sign-in screen while the other
is still signed in."""

from __future__ import annotations

import os
import re

import pytest
from conftest import (
    GrooveDashboard,
    HashingEmbedder,
    make_learning,
    oidc_secrets,
    sign_in,
    wait_idle,
)
from playwright.sync_api import expect

from groove_core.tiers import Groove

pytestmark = pytest.mark.browser


@pytest.fixture
def team(tmp_path, provider):
    """(dashboard, ids of two learnings) for a home served with sign-in. The home's owner
    lets alice (who has a name at the provider) and bob (a new subject: the provider gives
    him only ``email = sub``) curate its user tier: people signed in from elsewhere need a
    role there."""
    home = tmp_path / "home"
    with Groove(home, embedder=HashingEmbedder(), project=tmp_path) as g:
        ids = [
            g.user.learnings.store(make_learning("Use tabs", "Indent with tabs")),
            g.user.learnings.store(make_learning("Run pytest -x", "Stop at the first failure")),
        ]
        for who in ("alice@example.com", "bob@example.com"):
            g.user.access.grant(who, "curator")
    path = oidc_secrets(tmp_path / "secrets.toml", provider)
    env = {**os.environ, "GROOVE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    server = GrooveDashboard(
        "--auth", "oidc", "--secrets", str(path), cwd=tmp_path, env=env, log=tmp_path / "log"
    )
    yield server, home, ids
    server.stop()


def expect_sign_in_screen_only(pg) -> None:
    expect(pg.get_by_role("button", name="Sign in")).to_be_visible()
    expect(pg.get_by_role("heading", name="groove")).to_be_visible()
    assert pg.get_by_test_id("stSidebarNav").count() == 0  # no navigation
    assert pg.get_by_test_id("stSidebar").count() == 0
    assert pg.get_by_test_id("stHeading").count() == 1  # and no page under it


def delete(pg, url: str, learning_id: str) -> None:
    pg.goto(f"{url}/learnings?id={learning_id}")
    wait_idle(pg)
    pg.get_by_role("tab", name="Edit").click()
    pg.get_by_role("button", name="Delete this learning…").click()
    pg.get_by_role("button", name="Yes, delete").click()
    wait_idle(pg)
    expect(pg.get_by_text("Deleted 1 learning.")).to_be_visible()


def test_two_people_sign_in_act_as_themselves_and_one_signs_out(team, browser):
    server, home, (tabs_id, pytest_id) = team
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in "ab"]
    alice, bob = (c.new_page() for c in contexts)
    try:
        for pg in (alice, bob):
            pg.set_default_timeout(60_000)
            pg.goto(server.url + "/learnings")  # a page's address, before signing in
            wait_idle(pg)
            expect_sign_in_screen_only(pg)
            expect(pg.get_by_text("Use tabs")).to_have_count(0)

        sign_in(alice, "alice@example.com")
        sign_in(bob, "bob@example.com")
        for pg, who in ((alice, "Alice Liddell <alice@example.com>"), (bob, "bob@example.com")):
            sidebar = pg.get_by_test_id("stSidebar")
            expect(sidebar).to_contain_text(f"Signed in as {who}")
            expect(pg.get_by_test_id("stSidebarNav")).to_contain_text("Learnings")
            expect(pg.get_by_role("heading", name="Overview")).to_be_visible()

        delete(alice, server.url, tabs_id)
        delete(bob, server.url, pytest_id)
        with Groove(home, embedder=HashingEmbedder()) as g:
            gone = {e.learning_id: e.who for e in g.user.learnings.deleted()}
        assert gone == {tabs_id: "alice@example.com", pytest_id: "bob@example.com"}

        alice.get_by_role("button", name="Sign out").click()
        # the provider ends its session too, then sends her back to the dashboard
        alice.get_by_role("button", name="End session").click()
        alice.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
        wait_idle(alice)
        expect_sign_in_screen_only(alice)
        alice.goto(server.url + "/learnings")
        wait_idle(alice)
        expect_sign_in_screen_only(alice)

        bob.reload()
        wait_idle(bob)
        expect(bob.get_by_test_id("stSidebar")).to_contain_text("Signed in as bob@example.com")
        expect(bob.get_by_role("heading", name="Learnings", exact=True)).to_be_visible()
    finally:
        for c in contexts:
            c.close()
