"""End to end in Chromium: the fingerprint map renders, and a gap's status change in the
review is recorded with who and when, still shown after a reload."""

from __future__ import annotations

import pytest
from conftest import HashingEmbedder, make_learning, wait_idle

from groove_core.model.openworld import GapStatus
from groove_core.simulate import simulate_openworld
from groove_core.tiers import Groove

pytestmark = pytest.mark.browser


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        g.user.learnings.store_many(
            [make_learning(f"Prefer tool {i}", f"Use tool {i}") for i in range(10)]
        )
        simulate_openworld(g.user, seed=7, n_contexts=80)
    return home


def test_map_and_gap_review_in_chromium(home, dashboard_factory, page):
    dash = dashboard_factory(home)

    page.goto(dash.url + "/fingerprint_map")
    wait_idle(page, 240_000)  # the first UMAP fit compiles numba
    page.get_by_role("heading", name="Fingerprint map").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.get_by_text("Showing all 80 fingerprints.").is_visible()
    assert page.get_by_text("Anomaly clusters").first.is_visible()

    page.goto(dash.url + "/gaps")
    wait_idle(page)
    page.get_by_role("heading", name="Capability gaps").wait_for()
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        gap = g.user.openworld.load_gaps()[0]  # the one the review opens with
    assert gap.status == GapStatus.CONFIRMED
    page.get_by_role("heading", name=gap.context_pattern).wait_for()

    name = page.get_by_label("Your name (recorded with changes)")
    name.fill("e2e-reviewer")
    name.press("Enter")
    wait_idle(page)
    page.locator("[data-testid='stForm'] [data-testid='stRadio']").get_by_text(
        "in progress", exact=True
    ).click()
    page.get_by_label("Note (optional)").fill("taken up in the sprint")
    page.get_by_role("button", name="Record status change").click()
    wait_idle(page)
    page.get_by_text("e2e-reviewer moved the gap from confirmed to in progress").wait_for()

    page.reload()
    wait_idle(page)
    table = page.locator("[data-testid='stTable']").first
    table.wait_for()
    text = table.inner_text()
    assert "e2e-reviewer" in text and "confirmed → in progress" in text
    assert "taken up in the sprint" in text
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        ow = g.user.openworld
        assert ow.get_gap(gap.id).status == GapStatus.IN_PROGRESS
        assert ow.gap_history(gap.id)[-1].who == "e2e-reviewer"
