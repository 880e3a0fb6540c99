"""End to end: the real dashboard server in Debian's Chromium. Search, edit a learning
from "tabs" to "spaces", reload and see the edit; a search for "tabs" no longer finds it."""

from __future__ import annotations

import re

import pytest
from conftest import HashingEmbedder, make_learning, wait_idle
from playwright.sync_api import expect

from groove_core.tiers import Groove

pytestmark = pytest.mark.browser


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    with Groove(h, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(
            [
                make_learning("Use tabs for indentation", "Indent code with tabs", "preference"),
                make_learning("Run pytest with -x", "Stop at the first failure", "tool_usage"),
                make_learning(
                    "Prefer dataclasses", "Use frozen dataclasses for records", "code_pattern"
                ),
            ]
        )
    return h


def search(page, text: str) -> None:
    page.get_by_text("Full-text", exact=True).click()
    wait_idle(page)
    box = page.get_by_label("Search learnings")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_search_edit_reload_and_search_again(home, dashboard_factory, page):
    dash = dashboard_factory(home)
    page.goto(dash.url + "/learnings")
    wait_idle(page)
    expect(page.get_by_role("heading", name="3 learnings")).to_be_visible()

    search(page, "tabs")
    expect(page.get_by_role("heading", name=re.compile(r"^1 result for"))).to_be_visible()
    detail = page.get_by_role("heading", name="Use tabs for indentation")
    expect(detail).to_be_visible()

    page.get_by_role("tab", name="Edit").click()
    page.get_by_label("Description").fill("Use spaces for indentation")
    page.get_by_label("Insight").fill("Indent code with four spaces")
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    expect(page.get_by_text("Saved “Use spaces for indentation”.")).to_be_visible()

    page.reload()
    wait_idle(page)
    assert "id=" in page.url  # the selected learning survives the reload
    expect(page.get_by_role("heading", name="Use spaces for indentation")).to_be_visible()
    page.get_by_role("tab", name=re.compile(r"^History")).click()
    expect(page.get_by_role("tab", name="History (2)")).to_be_visible()

    search(page, "tabs")
    expect(page.get_by_text("Nothing matches this search.")).to_be_visible()
    search(page, "spaces")
    expect(page.get_by_role("heading", name=re.compile(r"^1 result for"))).to_be_visible()
    expect(page.get_by_role("heading", name="Use spaces for indentation")).to_be_visible()
