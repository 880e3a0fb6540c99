"""Dashboard conventions across pages: opening any page writes nothing (the Ablation page
used to record analysis results when opened), and the Ablation page records them only
when asked, as the person acting."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from streamlit.testing.v1 import AppTest

from dashboard import state
from groove_core.simulate import copy_into_simulation, simulate_attribution
from groove_core.tiers import Groove

SIM = "simulation:demo"
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py")
#: Every page but the fingerprint map (its UMAP projection is slow; it writes only its
#: projection cache, on disk, and each change there is a button).
PAGES = [
    "overview",
    "learnings",
    "review",
    "audit",
    "tiers",
    "posterior",
    "attribution",
    "ablation",
    "parameters",
    "gaps",
    "novelty",
]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home whose user tier holds learnings, copied into a simulation tier that holds
    simulated sessions and experiments, their stored results cleared (so an analysis
    differs from what is stored, which a page that writes would record). Pages open on
    the simulation tier: the only one holding experiments."""
    import groove_core.tiers

    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    h = tmp_path / "home"
    monkeypatch.setenv("GROOVE_HOME", str(h))
    monkeypatch.chdir(tmp_path)
    with Groove(h, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(
            [make_learning(f"Rule {i} about testing", f"insight {i}") for i in range(12)]
        )
        sim, _ = copy_into_simulation(g, SIM, "user")
        simulate_attribution(sim, seed=3, sessions=120, experiments=4)
        for e in sim.attribution.experiments():
            sim.attribution.record_result(e.learning_id, None)
    yield h
    import dashboard.state

    dashboard.state._open.clear()


def heads(home: Path) -> dict[str, int]:
    """Every tier's data version (the audit log's head: every write through groove)."""
    with Groove(home, embedder=HashingEmbedder()) as g:
        tiers, _ = g.available(synthetic=True)
        return {t.name: t.data_version for t in tiers}


def open_page(name: str) -> AppTest:
    """``name`` opened on the simulation tier (``?tier=``), through the router."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    at.query_params["tier"] = SIM
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_opening_any_page_writes_nothing(home):
    before = heads(home)
    with Groove(home, embedder=HashingEmbedder()) as g:
        assert all(e.result is None for e in g.tier(SIM).attribution.experiments())
    for name in PAGES:
        open_page(name)
        assert heads(home) == before, f"opening the {name} page wrote to a tier"
    with Groove(home, embedder=HashingEmbedder()) as g:
        assert all(e.result is None for e in g.tier(SIM).attribution.experiments())


def test_ablation_results_are_recorded_on_request_by_whoever_acts(home):
    before = heads(home)[SIM]
    at = open_page("ablation")
    record = [b for b in at.button if b.label == "Record these results"]
    assert record, [b.label for b in at.button]
    record[0].click().run()
    assert not at.exception
    assert any("Recorded the results" in s.value for s in at.success)
    with Groove(home, embedder=HashingEmbedder()) as g:
        sim = g.tier(SIM)
        done = [e for e in sim.attribution.experiments() if e.result is not None]
        entries = [e for e in sim.audit.entries(action="experiment.write") if e.seq > before]
        assert done and len(entries) == len(done) == 4
        assert {e.principal for e in entries} == {g.principal.id}


def test_a_tier_that_needs_a_migration_shows_its_progress_on_the_page(tmp_path, monkeypatch):
    import dashboard.state
    import groove_core.tiers
    from groove_core.store import migrations
    from groove_core.store.engine import Engine

    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    h = tmp_path / "home"
    monkeypatch.setenv("GROOVE_HOME", str(h))
    monkeypatch.chdir(tmp_path)
    with Groove(h, embedder=HashingEmbedder(), project=tmp_path) as g:
        kept = g.user.learnings.store(make_learning("Prefer ruff", "Lint with ruff"))
    with Engine("user", "sqlite", h / "user.db") as db:  # as an older groove left it
        migrations.migrate(db, 8, backup=False)
    dashboard.state._open.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        texts = [e.proto.text for e in at.get("progress")]
        latest = migrations.LATEST
        assert texts == [
            f"migrating tier 'user' {latest - 8}/{latest - 8}: at schema version {latest}"
        ]
        with Engine("user", "sqlite", h / "user.db") as db:
            assert migrations.current_version(db) == latest
        with Groove(h, embedder=HashingEmbedder(), project=tmp_path) as g:
            assert g.user.learnings.get(kept).description == "Prefer ruff"
        again = AppTest.from_file(APP, default_timeout=120)
        again.run()
        assert not again.exception and again.get("progress") == []  # migrated once
    finally:
        dashboard.state._open.clear()


def test_the_server_freezes_objects_that_stay_alive_so_collections_skip_them():
    """settle_heap: past its limit, garbage is collected and what stays alive is frozen
    (a full collection no longer walks it); at or below the limit nothing moves."""

    class Node:
        pass

    gc.collect()
    frozen = gc.get_freeze_count()
    try:
        assert not state.settle_heap(limit=10**9)
        assert gc.get_freeze_count() == frozen
        kept = [[i] for i in range(30_000)]  # 30,001 tracked lists that stay alive
        gc.collect()  # now in the oldest generation
        cycle = Node()
        cycle.me = cycle  # a reference cycle nothing else holds
        dead = weakref.ref(cycle)
        del cycle
        assert state.settle_heap(limit=len(gc.get_objects(generation=2)) - 1)
        assert gc.get_freeze_count() >= frozen + 30_001
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert id(kept) not in oldest and id(kept[-1]) not in oldest
        assert dead() is None  # collected before the freeze, not kept for ever
    finally:
        gc.unfreeze()
