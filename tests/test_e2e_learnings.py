"""End to end: the real dashboard server in Debian's Chromium. Search, edit a learning
from "tabs" to "spaces", reload and see the edit; a search for "tabs" no longer finds it.
A tier the CLI creates while the dashboard runs is shown, and an edit made there lands on
the learning picked and changes nothing else."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from conftest import GROOVE, HashingEmbedder, make_learning, search_learnings, tick_row, wait_idle
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


def test_search_edit_reload_and_search_again(home, dashboard_factory, page):
    dash = dashboard_factory(home)
    page.goto(dash.url + "/learnings")
    wait_idle(page)
    expect(page.get_by_role("heading", name="3 learnings")).to_be_visible()

    search_learnings(page, "tabs")
    expect(page.get_by_role("heading", name=re.compile(r"^1 result for"))).to_be_visible()
    tick_row(page)
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
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_text("2 entries, newest first")).to_be_visible()

    search_learnings(page, "tabs")
    expect(page.get_by_text("Nothing matches this search.")).to_be_visible()
    search_learnings(page, "spaces")
    expect(page.get_by_role("heading", name=re.compile(r"^1 result for"))).to_be_visible()
    tick_row(page)
    expect(page.get_by_role("heading", name="Use spaces for indentation")).to_be_visible()


def groove_cli(home, *args: str) -> subprocess.CompletedProcess:
    """The real ``groove`` command on ``home`` (its own process, the real model)."""
    return subprocess.run(
        [*GROOVE, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=True,
    )


def dump(home) -> dict[str, tuple]:
    """Every learning of every configured tier: id -> (tier, JSON, insight)."""
    with Groove(home, embedder=HashingEmbedder()) as g:
        tiers, problems = g.available()
        assert not problems
        return {lr.id: (t.name, lr.to_json()) for t in tiers for lr in t.learnings.iter_all()}


def test_a_tier_the_cli_creates_while_the_dashboard_runs_is_edited_there(
    home, tmp_path, dashboard_factory, page
):
    dash = dashboard_factory(home)
    page.goto(dash.url + "/learnings")
    wait_idle(page)
    expect(page.get_by_role("heading", name="3 learnings")).to_be_visible()

    # another process (the CLI) creates a project tier while the dashboard is open
    project = tmp_path / "proj"
    project.mkdir()
    (project / "CLAUDE.md").write_text(
        "# Style\n\n- Always run the linter before committing.\n"
        "- Never commit secrets to the repository.\n"
    )
    tier = f"project:{project}"
    groove_cli(home, "import", str(project), "--tier", tier)
    listed = json.loads(groove_cli(home, "list", "--tier", tier, "--json").stdout)
    target = next(r for r in listed if "linter" in r["description"])
    before = dump(home)
    assert before[target["id"]][0] == tier

    # a link to the new learning opens it, in its tier, on the running server
    page.goto(f"{dash.url}/learnings?id={target['id']}")
    wait_idle(page)
    expect(page.get_by_role("heading", name=target["description"])).to_be_visible()
    expect(page.get_by_text(f"tier {tier}")).to_be_visible()
    page.get_by_label("Tier", exact=True).click()
    expect(page.get_by_role("option", name=tier)).to_be_visible()
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Edit").click()
    expect(page.get_by_text(f"Editing learning {target['id']} in tier {tier}.")).to_be_visible()
    page.get_by_label("Insight").fill("Run ruff check before every commit")
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    expect(page.get_by_text(f"Saved “{target['description']}”.")).to_be_visible()

    after = dump(home)
    assert after[target["id"]][1]["content"]["insight"] == "Run ruff check before every commit"
    assert after[target["id"]][0] == tier
    # nothing else changed: every other learning, in every tier, is as it was
    assert {k: v for k, v in after.items() if k != target["id"]} == {
        k: v for k, v in before.items() if k != target["id"]
    }


def test_a_tick_stays_with_its_learning_across_pages(tmp_path, dashboard_factory, page):
    """Tick the first row, turn to page 2: nothing there is ticked ("Delete selected…" is
    gone); back on page 1 the earlier tick is gone too, never moved to another row."""
    h = tmp_path / "home"
    with Groove(h, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(
            [make_learning(f"Rule {i:02d}", f"Insight {i}") for i in range(60)]
        )
    dash = dashboard_factory(h)
    page.goto(dash.url + "/learnings")
    wait_idle(page)
    tick_row(page, 1)
    delete = page.get_by_role("button", name="Delete selected…")
    expect(delete).to_be_visible()
    expect(page.get_by_text("1 selected")).to_be_visible()

    page.get_by_test_id("stPagination").get_by_role("button", name="Page 2", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"^Showing 51–60"))).to_be_visible()
    expect(delete).to_have_count(0)

    page.get_by_test_id("stPagination").get_by_role("button", name="Page 1", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"^Showing 1–50"))).to_be_visible()
    expect(delete).to_have_count(0)
    tick_row(page, 2)  # ticks just row 2
    expect(page.get_by_text("1 selected")).to_be_visible()
