"""End to end, as a new user: the README's first command (`groove dashboard`) on a fresh
home, started in a project that holds rule files. The empty store offers to import them;
the import runs with the real model; then the command line works on the same tier while
the dashboard has it open, and the dashboard shows what the command line wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from conftest import GROOVE, GrooveDashboard, search_learnings, tick_row, wait_idle
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "shop"
    (root / ".git").mkdir(parents=True)
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / "CLAUDE.md").write_text(
        "# Shop\n\n- Use tabs for indentation in every Python module.\n"
        "- Prefer dataclasses over dictionaries for order records.\n"
    )
    (root / ".cursorrules").write_text("Always run the test suite before you commit a change.\n")
    (root / ".cursor" / "rules" / "db.mdc").write_text(
        "---\ndescription: Database\nglobs: **/*.sql\n---\n"
        "- Retry a write when the database reports that it is locked.\n"
    )
    return root


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "GROOVE_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}


@pytest.fixture
def dashboard(project, env, tmp_path):
    server = GrooveDashboard(cwd=project, env=env, log=tmp_path / "dashboard.log")
    yield server.url
    server.stop()


def groove(env, cwd, *args) -> subprocess.CompletedProcess:
    """The real command line in its own process; it must answer, never hang."""
    done = subprocess.run(
        [*GROOVE, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def test_first_run_import_then_cli_beside_the_open_dashboard(dashboard, project, env, page):
    page.goto(dashboard)
    wait_idle(page)
    expect(page.get_by_role("heading", name="No learnings yet")).to_be_visible()
    expect(page.get_by_text("CLAUDE.md", exact=True)).to_be_visible()
    page.get_by_role("button", name="Import 3 rule files").click()
    wait_idle(page, timeout=180_000)
    expect(page.get_by_text(re.compile(r"Imported 4 learnings from 3 files"))).to_be_visible()

    # the command line, while the dashboard holds the same tier open
    rows = json.loads(groove(env, project, "list", "--json").stdout)
    assert len(rows) == 4
    extra = project / "AGENTS.md"
    extra.write_text("- Keep every migration reversible with a down step.\n")
    groove(env, project, "import", extra)
    tabs = next(r for r in rows if "tabs" in r["description"])
    groove(env, project, "edit", tabs["id"], "--description", "Use four spaces, never tabs")

    page.reload()
    wait_idle(page)
    total = page.get_by_test_id("stMetric").filter(has_text="Learnings").first
    expect(total.get_by_test_id("stMetricValue")).to_have_text("5")
    page.goto(dashboard + "/learnings")
    wait_idle(page)
    expect(page.get_by_role("heading", name="5 learnings")).to_be_visible()
    search_learnings(page, "four spaces")
    tick_row(page)
    expect(page.get_by_role("heading", name="Use four spaces, never tabs")).to_be_visible()
