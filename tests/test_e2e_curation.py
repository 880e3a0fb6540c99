"""End to end, as a new team would try it: an admin creates an enterprise tier from the
CLI and grants a curator and a contributor; the contributor signs in through a real
OpenID Connect provider in one browser and proposes a learning; the curator signs in in
another, sees it in the Review queue with its author and approves it; the learning is on
the Learnings page and the Audit page shows the filing and the approval under the two
real email addresses. And: a rule file carrying an AWS key, imported in the dashboard,
is flagged and the learning carries the badge."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from conftest import (
    GROOVE,
    GrooveDashboard,
    HashingEmbedder,
    choose,
    oidc_secrets,
    search_learnings,
    signed_in_page,
    tick_row,
)
from conftest import wait_idle as idle
from playwright.sync_api import expect
from test_review import aws_pair

from groove_core.model.proposal import ProposalStatus
from groove_core.tiers import Groove

pytestmark = pytest.mark.browser

ORG = "enterprise:acme"
CURATOR = "cora@example.com"
CONTRIBUTOR = "carl@example.com"


def groove(env: dict, *args: str) -> str:
    """Run the ``groove`` command; its output (fails the test on a non-zero exit)."""
    done = subprocess.run([*GROOVE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def audit_count(pg, principal: str, action: str) -> None:
    """Filter the Audit page to ``principal`` and ``action``; expect one entry."""
    sidebar = pg.get_by_test_id("stSidebar")
    box = sidebar.get_by_role("textbox", name="Principal", exact=True)
    box.fill(principal)
    box.press("Enter")
    idle(pg)
    choose(pg, "Action", action, within=sidebar)
    expect(pg.get_by_role("heading", name=f"1 entry in tier {ORG}")).to_be_visible()


def test_contributor_proposes_curator_approves_and_the_audit_names_both(
    tmp_path, provider, browser
):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[identity]\nemail = "ada@example.com"\nname = "Ada"\n')
    env = {**os.environ, "GROOVE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    groove(env, "access", "grant", CURATOR, "curator", "--tier", ORG, "--name", "Cora")
    groove(env, "access", "grant", CONTRIBUTOR, "contributor", "--tier", ORG)
    secrets = oidc_secrets(tmp_path / "secrets.toml", provider)
    server = GrooveDashboard(
        "--auth", "oidc", "--secrets", str(secrets), cwd=tmp_path, env=env, log=tmp_path / "log"
    )
    contexts = []
    try:
        ctx, carl = signed_in_page(browser, server.url, CONTRIBUTOR)
        contexts.append(ctx)
        carl.goto(server.url + "/learnings")
        idle(carl)
        carl.get_by_role("button", name="New learning").click()
        dialog = carl.get_by_role("dialog")
        choose(carl, "Tier", ORG, within=dialog)
        dialog.get_by_role("textbox", name="Description", exact=True).fill(
            "Pin torch to the CPU build"
        )
        dialog.get_by_role("textbox", name="Insight", exact=True).fill(
            "Install torch from the CPU wheel index"
        )
        dialog.get_by_role("textbox", name="Reason", exact=True).fill("saves 3 GB per install")
        dialog.get_by_role("button", name="Add learning").click()
        idle(carl)
        expect(carl.get_by_text(re.compile(r"Filed proposal \S+ in tier"))).to_be_visible()

        ctx, cora = signed_in_page(browser, server.url, CURATOR)
        contexts.append(ctx)
        nav = cora.get_by_test_id("stSidebarNav")
        expect(nav).to_contain_text("Review queue (1)")
        nav.get_by_text("Review queue (1)").click()
        idle(cora)
        expect(cora.get_by_text(f"create by {CONTRIBUTOR}")).to_be_visible()
        expect(cora.get_by_text("Reason: saves 3 GB per install")).to_be_visible()
        cora.get_by_role("textbox", name="Note (optional)", exact=True).fill(
            "matches our build docs"
        )
        cora.get_by_role("button", name="Approve").click()
        idle(cora)
        expect(
            cora.get_by_text(re.compile(r"^Approved proposal \S+ by " + CONTRIBUTOR))
        ).to_be_visible()

        cora.goto(server.url + "/learnings")
        idle(cora)
        search_learnings(cora, "torch CPU build", mode="Hybrid")
        expect(cora.get_by_role("heading", name=re.compile(r"^1 result for"))).to_be_visible()
        tick_row(cora)  # its detail panel
        expect(cora.get_by_role("heading", name="Pin torch to the CPU build")).to_be_visible()

        cora.goto(server.url + "/audit")
        idle(cora)
        audit_count(cora, CONTRIBUTOR, "proposal.file")
        audit_count(cora, CURATOR, "proposal.approve")
    finally:
        for c in contexts:
            c.close()
        server.stop()
    with Groove(home, embedder=HashingEmbedder()) as g:
        tier = g.tier(ORG)
        (p,) = tier.proposals.list(None)
        assert (p.author, p.status, p.decided_by) == (
            CONTRIBUTOR,
            ProposalStatus.approved,
            CURATOR,
        )
        assert [lr.description for lr in tier.learnings.list().items] == [
            "Pin torch to the CPU build"
        ]


def test_a_rule_file_with_a_key_imported_in_the_dashboard_is_flagged(
    tmp_path, dashboard_factory, page
):
    key, secret = aws_pair()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "CLAUDE.md").write_text(
        "# Deploy\n\n- Use tabs for indentation.\n"
        f"- Deploy with aws_access_key_id={key} aws_secret_access_key={secret}\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    dash = dashboard_factory(home)
    page.goto(dash.url)
    idle(page)
    page.get_by_label("Folder or rule file to import").fill(str(rules))
    page.get_by_role("button", name="Import folder").click()
    idle(page)
    expect(page.get_by_text("Imported 2 learnings")).to_be_visible()
    expect(page.get_by_text("the content scan flagged 1 imported learning")).to_be_visible()
    with Groove(home, embedder=HashingEmbedder()) as g:
        items = g.user.learnings.list().items
        marks = g.user.learnings.scan_marks([lr.id for lr in items])
    (flagged,) = marks
    page.goto(f"{dash.url}/learnings?id={flagged}")
    idle(page)
    # the table's Scan column (the grid keeps its cells in the page for screen readers)
    cells = page.locator("td[role='gridcell']")
    expect(cells.filter(has_text="⚠ flagged")).to_have_count(1)
    expect(cells.filter(has_text="secret:AWSKeyDetector").first).to_be_attached()
    # the detail panel of the flagged learning
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text=flagged)
    expect(caption).to_contain_text("⚠ flagged")
    expect(page.get_by_text(re.compile(r"the content scan found \d+ problems? in"))).to_be_visible()
    # the flagged filter lists it alone, and the address keeps the filter
    page.goto(f"{dash.url}/learnings")
    idle(page)
    expect(page.get_by_role("heading", name="2 learnings")).to_be_visible()
    page.get_by_text("Flagged by the content scan").click()
    idle(page)
    expect(page.get_by_role("heading", name="1 learning")).to_be_visible()
    assert "flagged=" in page.url
    page.reload()
    idle(page)
    expect(page.get_by_role("heading", name="1 learning")).to_be_visible()
    # the Review page lists it
    page.goto(f"{dash.url}/review?tier=user")
    idle(page)
    page.get_by_text("1 learning(s) of this tier the content scan flagged").click()
    cells = page.locator("td[role='gridcell']")
    expect(cells.filter(has_text="secret:AWSKeyDetector")).to_have_count(1)
