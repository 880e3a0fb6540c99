"""AppTest of the open-world pages over a home filled by the simulation (small: UMAP of
~80 points; the first fit in a process compiles numba)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from streamlit.testing.v1 import AppTest

from groove_core.model.openworld import GapStatus
from groove_core.simulate import simulate_openworld
from groove_core.tiers import Groove

PAGES = Path(__file__).resolve().parents[1] / "dashboard" / "app_pages"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("owhome")
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        g.user.learnings.store_many(
            [make_learning(f"Prefer tool {i}", f"Use tool {i}") for i in range(10)]
        )
        simulate_openworld(g.user, seed=5, n_contexts=80)
    return home


@pytest.fixture
def app(home, monkeypatch):
    import dashboard.state as state

    monkeypatch.setenv("GROOVE_HOME", str(home))
    # the dashboard's Groove must not load the real model for these pages
    monkeypatch.setattr(state, "_open", _opener(home))

    def run(page: str) -> AppTest:
        at = AppTest.from_file(str(PAGES / page), default_timeout=240)
        at.run()
        assert not at.exception, at.exception
        return at

    return run


_OPEN: dict[str, Groove] = {}


def _opener(home):
    def open_(_home):
        key = str(home)
        if key not in _OPEN:
            _OPEN[key] = Groove(home, embedder=HashingEmbedder(), project=home)
        return _OPEN[key]

    return open_


def _ow(home):
    return _opener(home)(None).user.openworld


def test_fingerprint_map_page(app, home):
    at = app("fingerprint_map.py")
    assert at.title[0].value == "Fingerprint map"
    assert any("80 fingerprints" in c.value for c in at.caption)
    assert at.radio(key="ow_map_color").value == "cluster"
    assert [s.value for s in at.subheader][:3] == [
        "Selection",
        "Anomaly clusters",
        "Proposed clusters",
    ]
    assert len(at.dataframe) >= 1  # the stored clusters
    for colour in ("learning", "time"):
        at.radio(key="ow_map_color").set_value(colour).run()
        assert not at.exception
    # accept the first proposal, if HDBSCAN made one; else dismissal is not offered
    ow = _ow(home)
    n = len(ow.load_clusters())
    accept = [b for b in at.button if b.key and b.key.startswith("ow_prop_accept_")]
    if accept:
        accept[0].click().run()
        assert not at.exception
        assert len(ow.load_clusters()) == n + 1
        assert any("is now an anomaly cluster" in s.value for s in at.success)


def test_gaps_page_status_change_is_recorded(app, home):
    at = app("gaps.py")
    assert at.title[0].value == "Capability gaps"
    ow = _ow(home)
    gaps = ow.load_gaps()
    assert at.selectbox(key="ow_gap_pick").value == gaps[0].id
    target = next(gp for gp in gaps if gp.status == GapStatus.DETECTED)
    at.selectbox(key="ow_gap_pick").set_value(target.id).run()
    assert at.header[0].value == target.context_pattern
    at.radio(key="ow_gap_next").set_value("confirmed")
    at.text_input(key="ow_gap_note").input("checked by hand")
    at.sidebar.text_input(key="ow_who").input("reviewer-x")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert ow.get_gap(target.id).status == GapStatus.CONFIRMED
    last = ow.gap_history(target.id)[-1]
    assert (last.who, last.note, last.new_status) == (
        "reviewer-x",
        "checked by hand",
        GapStatus.CONFIRMED,
    )
    assert any("reviewer-x moved the gap" in s.value for s in at.success)
    assert "reviewer-x" in at.table[0].value["who"].tolist()
    # filters
    at.multiselect(key="ow_gap_status").set_value(["resolved"]).run()
    assert all("resolved" in o for o in at.selectbox(key="ow_gap_pick").options)


def test_gaps_page_solutions_edit(app, home):
    from groove_core.model.openworld import SolutionAction, SuggestedSolution

    ow = _ow(home)
    gap = ow.load_gaps()[0]
    at = app("gaps.py")
    at.selectbox(key="ow_gap_pick").set_value(gap.id).run()
    at.button(key="ow_sol_save").click().run()  # saving unchanged rows keeps them
    assert not at.exception
    assert ow.get_gap(gap.id).suggested_solutions == gap.suggested_solutions
    assert ow.gap_history(gap.id)[-1].action == "solutions"
    # the editor's rows convert both ways
    from dashboard.components import openworld_gaps as og

    sols = (SuggestedSolution(SolutionAction.request_human_input("why?")),)
    assert og.solutions_from_frame(og.solutions_frame(sols)) == list(sols)


def test_novelty_page_filters(app, home):
    at = app("novelty.py")
    assert at.title[0].value == "Novelty events"
    assert at.dataframe  # the stream
    at.multiselect(key="ow_ev_types").set_value(["gap_created"]).run()
    assert not at.exception
    assert any("events shown" in c.value for c in at.caption)
    at.multiselect(key="ow_ev_types").set_value([]).run()
    assert at.warning[0].value == "Choose at least one event type."


def test_pages_on_an_empty_tier(tmp_path, monkeypatch):
    import dashboard.state as state

    home = tmp_path / "empty"
    home.mkdir()
    monkeypatch.setattr(state, "_open", _opener(home))
    for page in ("fingerprint_map.py", "gaps.py", "novelty.py"):
        at = AppTest.from_file(str(PAGES / page), default_timeout=60)
        at.run()
        assert not at.exception
        assert "groove simulate openworld" in at.info[0].value
