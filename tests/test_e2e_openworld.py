"""End to end in Chromium: the fingerprint map's first projection runs in the background
while the page works, then the map shows every fingerprint, a lasso around a
proposed group makes it an anomaly cluster and one around another adds it to that
cluster; the gap review shows a gap's cluster and
failures, and a status change is recorded with who and when, still shown after a reload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import HashingEmbedder, make_learning, wait_idle

from groove_core.model.openworld import GapStatus
from groove_core.simulate import simulate_openworld
from groove_core.tiers import Groove

SIM = "simulation:demo"

pytestmark = pytest.mark.browser
#: ``[identity]`` of the home's config.toml: who the dashboard records without sign-in
REVIEWER = "e2e-reviewer@example.com"

# pixel box of a trace's points and their fingerprint ids (customdata[0])
_TRACE = """(prefix) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  const fl = gd._fullLayout, r = gd.getBoundingClientRect();
  const total = gd._fullData.reduce((n, t) => n + t.x.length, 0);
  const tr = gd._fullData.find(t => (t.name || '').startsWith(prefix));
  const xs = tr.x.map(v => fl.xaxis.d2p(v) + fl._size.l + r.left);
  const ys = tr.y.map(v => fl.yaxis.d2p(v) + fl._size.t + r.top);
  return {ids: tr.customdata.map(c => String(c[0])), total: total,
          box: [Math.min(...xs) - 8, Math.min(...ys) - 8,
                Math.max(...xs) + 8, Math.max(...ys) + 8]};
}"""


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        g.tier(SIM).learnings.store_many(
            [make_learning(f"Prefer tool {i}", f"Use tool {i}") for i in range(10)]
        )
        simulate_openworld(g.tier(SIM), seed=7, n_contexts=80)
    with open(home / "config.toml", "a") as config:  # who the dashboard records
        config.write(f'\n[identity]\nemail = "{REVIEWER}"\nname = "E2E Reviewer"\n')
    return home


def _ow(home):
    return Groove(home, embedder=HashingEmbedder(), project=home)


def test_map_and_gap_review_in_chromium(home, dashboard_factory, page):
    """One server (UMAP compiles numba once per process): the map, then the review."""
    dash = dashboard_factory(home)
    select_points_into_a_cluster(page, dash.url, home)
    review_a_gap(page, dash.url, home)


def select_points_into_a_cluster(page, url, home):
    page.goto(url + "/fingerprint_map?tier=" + SIM)
    page.get_by_role("heading", name="Fingerprint map").wait_for(timeout=120_000)
    # the first projection runs in the background (its worker compiles numba first): its
    # progress stands in the map's place and the rest of the page works meanwhile
    page.get_by_text("Projecting 80 fingerprints with UMAP").wait_for(timeout=120_000)
    assert page.locator(".js-plotly-plot").count() == 0
    page.get_by_role("heading", name="Anomaly clusters").wait_for()
    page.get_by_text("Associated learning").click()
    page.get_by_text("10 learnings linked to fingerprints").wait_for()
    page.get_by_text("Cluster", exact=True).click()
    page.get_by_text("10 learnings linked to fingerprints").wait_for(state="detached")
    page.locator(".js-plotly-plot").first.wait_for(timeout=480_000)  # then the map
    page.locator(".legendtext", has_text="proposed:").first.wait_for(timeout=120_000)
    wait_idle(page, 60_000)
    assert page.get_by_text("Showing all 80 fingerprints.").is_visible()
    trace = page.evaluate(_TRACE, "proposed:")
    assert trace["total"] == 80 and len(trace["ids"]) >= 5  # every point is drawn

    lasso(page, trace["box"])
    create = page.get_by_role("button", name="Create a cluster of these")
    n = int(create.inner_text().rsplit(" ", 1)[1])
    assert n >= len(trace["ids"])
    with _ow(home) as g:
        before = {c.id for c in g.tier(SIM).openworld.load_clusters()}
    create.click()
    wait_idle(page)
    page.get_by_text(f"Created a cluster of {n} fingerprints.").wait_for()
    with _ow(home) as g:
        (made,) = [c for c in g.tier(SIM).openworld.load_clusters() if c.id not in before]
    assert made.size == n and {str(h) for h in made.members} >= set(trace["ids"])
    label = f"Cluster {len(before) + 1} · {made.id[-8:]}"
    page.locator(".legendtext", has_text=label).wait_for()  # a colour of its own on the map

    # the other proposed group: added to that cluster
    trace = page.evaluate(_TRACE, "proposed:")
    lasso(page, trace["box"])
    add = page.get_by_role("button", name="Add them to this cluster")
    add.wait_for()
    combo = page.get_by_role("combobox", name="Add to cluster")
    combo.click()
    if not page.get_by_role("option").count():
        combo.press("ArrowDown")  # open the list if the click only focused it
    page.get_by_role("option", name=label).click()
    wait_idle(page)
    add.click()
    wait_idle(page)
    with _ow(home) as g:
        grown = g.tier(SIM).openworld.get_cluster(made.id)
    assert set(made.members) < set(grown.members)
    assert {str(h) for h in grown.members} >= set(trace["ids"])
    page.get_by_text(f"{label} now has {grown.size} fingerprints.").wait_for()


def lasso(page, box) -> None:
    """Draw a lasso around a box on the map (its drag mode is lasso)."""
    x0, y0, x1, y1 = box
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)):
        page.mouse.move(x, y, steps=6)
    page.mouse.up()
    wait_idle(page)


def review_a_gap(page, url, home):
    page.goto(url + "/gaps?tier=" + SIM)
    wait_idle(page, 240_000)
    page.get_by_role("heading", name="Capability gaps").wait_for()
    with _ow(home) as g:
        ow = g.tier(SIM).openworld
        first = ow.load_gaps()[0]  # the one the review opens with
        gap = next(x for x in ow.load_gaps() if x.context_pattern == "Helm release rollback")
        fails = ow.gap_failures(gap.id)
        (cid, n), *_ = ow.gap_clusters(gap.id)
        number = [c.id for c in ow.load_clusters()].index(cid) + 1
        first_history = len(ow.gap_history(first.id))
    assert first.id != gap.id and gap.status == GapStatus.IN_PROGRESS
    pick(page, gap.context_pattern)
    # which cluster it came from, its failures and where its contexts lie
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Cluster")
    assert metric.inner_text().split("\n")[-1] == f"Cluster {number}"
    sessions = len({f.session_id for f in fails})
    page.get_by_text(f"{len(fails)} failures in {sessions} sessions.").wait_for()
    page.get_by_text(f"{n} contexts of this gap, in red ({n} in Cluster {number})").wait_for()
    assert page.locator(".js-plotly-plot").count() == 2  # failures over time, the map

    # two changes in a row: both are made to this gap (the review stays on it)
    for old, new, note in (
        ("in progress", "resolved", "rollback documented"),
        ("resolved", "confirmed", "seen again"),
    ):
        page.locator("[data-testid='stForm'] [data-testid='stRadio']").get_by_text(
            new, exact=True
        ).click()
        page.get_by_label("Note (optional)").fill(note)
        page.get_by_role("button", name="Record status change").click()
        wait_idle(page)
        page.get_by_text(f"{REVIEWER} moved the gap from {old} to {new}").wait_for()
        page.get_by_role("heading", name=gap.context_pattern).wait_for()
        assert page.get_by_label("Note (optional)").input_value() == ""

    page.reload()
    wait_idle(page)
    pick(page, gap.context_pattern)
    table = page.locator("[data-testid='stTable']").first
    table.wait_for()
    text = table.inner_text()
    assert "in progress → resolved" in text and "resolved → confirmed" in text
    assert text.count(REVIEWER) == 2 and "rollback documented" in text
    assert datetime.now(UTC).strftime("%Y-%m-%d") in text  # when
    with _ow(home) as g:
        ow = g.tier(SIM).openworld
        assert ow.get_gap(gap.id).status == GapStatus.CONFIRMED
        changes = [(h.who, h.old_status, h.new_status) for h in ow.gap_history(gap.id)[-2:]]
        assert changes == [
            (REVIEWER, GapStatus.IN_PROGRESS, GapStatus.RESOLVED),
            (REVIEWER, GapStatus.RESOLVED, GapStatus.CONFIRMED),
        ]
        assert ow.get_gap(first.id).status == first.status  # no other gap was changed
        assert len(ow.gap_history(first.id)) == first_history


def pick(page, context: str) -> None:
    """Open a gap in the review by its context."""
    page.get_by_role("combobox", name="Review gap").click()
    page.get_by_role("option").filter(has_text=context).click()
    wait_idle(page)
    page.get_by_role("heading", name=context).wait_for()
