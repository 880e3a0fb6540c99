"""AppTest of the open-world pages over a home filled by the simulation (small: UMAP of
~80 points, in the background worker of dashboard.components.openworld_common; its first
fit compiles numba)."""

from __future__ import annotations

import base64
import functools
import json
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder, make_learning, rendered
from streamlit.testing.v1 import AppTest

from groove_core.model.access import os_principal
from groove_core.model.openworld import CapabilityGap, GapStatus
from groove_core.serve import AUTH_ENV
from groove_core.simulate import simulate_openworld
from groove_core.simulate.openworld import THEMES
from groove_core.tiers import Groove

SIM = "simulation:demo"

PAGES = Path(__file__).resolve().parents[1] / "dashboard" / "app_pages"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("owhome")
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        g.tier(SIM).learnings.store_many(
            [make_learning(f"Prefer tool {i}", f"Use tool {i}") for i in range(10)]
        )
        simulate_openworld(g.tier(SIM), seed=5, n_contexts=80)
        # someone signed in from elsewhere needs a role in the owner's simulation tier
        g.tier(SIM).access.grant("rev@example.com", "curator")
    return home


@pytest.fixture
def app(home, monkeypatch):
    import dashboard.state as state

    monkeypatch.setenv("GROOVE_HOME", str(home))
    # the dashboard's Groove must not load the real model for these pages
    monkeypatch.setattr(state, "_open", _opener(home))

    def run(page: str, user: dict | None = None) -> AppTest:
        """Run a page; ``user`` (``st.user``) signs someone in as under ``--auth oidc``.
        A projection it started in the background is waited for and the page run again."""
        monkeypatch.setenv(AUTH_ENV, "oidc" if user else "none")
        at = AppTest.from_file(str(PAGES / page), default_timeout=240)
        at.query_params["tier"] = SIM  # the simulation writes only into its own tier
        if user:
            at.user = user
        at.run()
        return _settled(at)

    return run


_OPEN: dict[str, Groove] = {}


def _settled(at: AppTest) -> AppTest:
    """Run the page again until no background job's progress shows (each time once the
    jobs have ended): what a person sees after waiting."""
    while not at.exception and at.get("progress"):
        _finish_projections()
        at.run()
    assert not at.exception, at.exception
    return at


def _finish_projections(timeout: float = 540) -> bool:
    """Wait for the projections running in the background; True if there were any."""
    from dashboard.components.openworld_common import JOBS

    jobs = JOBS.running()
    deadline = time.monotonic() + timeout
    while not all(job.done for job in jobs):
        assert time.monotonic() < deadline, "the projection did not finish"
        time.sleep(0.1)
    return bool(jobs)


def gated_project(go: str, *args, progress, **kwargs):
    """The page's projection job, held until the file ``go`` exists (runs in the worker)."""
    from groove_core.analysis.projection import project_in
    from groove_core.progress import Progress

    progress(Progress("waiting for the test", 0.25, 1))
    while not Path(go).exists():
        time.sleep(0.05)
    return project_in(*args, progress=progress, **kwargs)


def refused_project(*args, progress, **kwargs):
    """A projection job that fails (runs in the worker)."""
    from groove_core.errors import ValidationError

    raise ValidationError("the worker ran out of memory")


def _opener(home):
    def open_(*_args):
        key = str(home)
        if key not in _OPEN:
            _OPEN[key] = Groove(home, embedder=HashingEmbedder(), project=home)
        return _OPEN[key]

    return open_


def _ow(home):
    return _opener(home)().tier(SIM).openworld


def _texts(elements) -> list[str]:
    return [rendered(e.value) for e in elements]


def _values(array) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array ``{"dtype", "bdata"}`` (base64)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def test_fingerprint_map_page(app, home, monkeypatch):
    at = app("fingerprint_map.py")
    assert at.title[0].value == "Fingerprint map"
    assert any("80 fingerprints" in c for c in _texts(at.caption))
    assert "Showing all 80 fingerprints." in _texts(at.caption)
    assert at.radio(key="ow_map_color").value == "cluster"
    assert [s.value for s in at.subheader][:3] == [
        "Selection",
        "Anomaly clusters",
        "Proposed clusters",
    ]
    clusters = at.dataframe[0].value
    assert sorted(clusters["members"]) == sorted(rep for rep in _theme_sizes(home)[:3])
    at.radio(key="ow_map_color").set_value("learning").run()
    assert not at.exception
    assert any(c.startswith("10 learnings linked to fingerprints") for c in _texts(at.caption))
    at.radio(key="ow_map_color").set_value("time").run()
    assert not at.exception

    # the unclustered themes are proposed; accepting one stores exactly its members and
    # leaves the other proposal as it was
    ow = _ow(home)
    n = len(ow.load_clusters())
    accept = [b for b in at.button if b.key and b.key.startswith("ow_prop_accept_")]
    assert len(accept) >= 2
    before = [m.value for m in at.markdown if m.value.startswith("**Proposal")]
    accept[0].click().run()
    assert not at.exception
    clusters = ow.load_clusters()
    assert len(clusters) == n + 1
    assert any("is now an anomaly cluster" in s for s in _texts(at.success))
    after = [m.value for m in at.markdown if m.value.startswith("**Proposal")]
    assert [a.split(" · ", 1)[1] for a in after] == [b.split(" · ", 1)[1] for b in before[1:]]
    # dismissing one records it and takes it off the page
    dismiss = [b for b in at.button if b.key and b.key.startswith("ow_prop_dismiss_")]
    dismiss[0].click().run()
    assert not at.exception
    assert len(ow.dismissed_proposals()) == 1
    assert [m.value for m in at.markdown if m.value.startswith("**Proposal")] == after[1:]

    # above the plot's limit the map shows a sample and says so
    import dashboard.components.openworld_map as om

    monkeypatch.setattr(om, "MAX_POINTS", 30)
    at = app("fingerprint_map.py")
    assert any(w.startswith("Showing 30 of 80 fingerprints") for w in _texts(at.warning))


def _fresh_home(home: Path, seed: int, monkeypatch) -> Path:
    """A home of 40 simulated contexts that no projection has seen, opened by the pages."""
    import dashboard.state as state

    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        simulate_openworld(g.tier(SIM), seed=seed, n_contexts=40)
    monkeypatch.setattr(state, "_open", _opener(home))
    monkeypatch.setenv(AUTH_ENV, "none")
    return home


def session(page: str = "fingerprint_map.py") -> AppTest:
    """One browser session's first run of ``page`` on the simulation tier."""
    at = AppTest.from_file(str(PAGES / page), default_timeout=240)
    at.query_params["tier"] = SIM
    at.run()
    assert not at.exception, at.exception
    return at


def test_map_page_works_while_the_projection_runs_then_shows_the_map(tmp_path, monkeypatch):
    """A set never projected: the page shows the projection's progress in the map's
    place while its lists and sidebar work; a second session shares the one job; once
    it is done the map appears, and a new server reads it from the disk cache."""
    import dashboard.components.openworld_common as oc

    home = _fresh_home(tmp_path / "fresh", 9, monkeypatch)
    go = tmp_path / "go"
    monkeypatch.setattr(oc, "project_in", functools.partial(gated_project, str(go)))
    monkeypatch.setattr(oc, "PROPOSALS_INLINE_MAX", 0)  # HDBSCAN in the background too
    started = oc.JOBS.started
    try:
        first = session()
        (job,) = [j for j in oc.JOBS.running() if j.description.startswith("Projecting")]
        deadline = time.monotonic() + 120
        while job.progress is None:  # the worker reports once it has started
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = session()
        first.run()
        # one projection and one search for proposals, whichever session asks
        assert oc.JOBS.started == started + 2 and not job.done
        n = len(_ow(home).load_fingerprints())
        for at in (first, second):
            assert not at.get("plotly_chart")  # no map yet: its progress instead
            bars = [b.proto.text for b in at.get("progress")]
            wait = f"Projecting {n:,} fingerprints with UMAP: waiting for the test 25%"
            assert bars[0].startswith(wait)
            assert "Select points on the map once it is ready." in _texts(at.caption)
            assert len(at.dataframe[0].value) == len(_ow(home).load_clusters())
            assert [s.value for s in at.subheader] == [
                "Selection",
                "Anomaly clusters",
                "Proposed clusters",
            ]
            assert any(c.startswith("HDBSCAN over the 40 fingerprints") for c in _texts(at.caption))
        first.number_input(key="ow_map_min_size").set_value(6).run()  # the sidebar works
        assert not first.exception and not first.get("plotly_chart")
    finally:
        go.touch()
    _settled(first)
    assert f"Showing all {n} fingerprints." in _texts(first.caption)
    assert len(first.get("plotly_chart")) == 1
    shown = [b.key for b in first.button if b.key and b.key.startswith("ow_prop_accept_")]
    assert shown or "No proposals" in " ".join(_texts(first.caption))  # HDBSCAN's answer
    files = sorted(p.suffix for p in (home / "cache" / "projections").iterdir())
    assert files == [".json", ".npz"]  # coordinates only, no model

    oc._PROJ.clear()  # a new server: nothing in memory, the disk cache answers
    before = oc.JOBS.started
    again = session()
    assert len(again.get("plotly_chart")) == 1 and oc.JOBS.started == before


def test_a_failed_projection_is_said_and_can_be_tried_again(tmp_path, monkeypatch):
    import dashboard.components.openworld_common as oc

    home = _fresh_home(tmp_path / "failing", 4, monkeypatch)
    monkeypatch.setattr(oc, "project_in", refused_project)
    at = _settled(session())
    assert [e.value for e in at.error] == [
        f"Projecting {len(_ow(home).load_fingerprints()):,} fingerprints with UMAP failed: "
        "the worker ran out of memory"
    ]
    started = oc.JOBS.started
    retry = next(b for b in at.button if b.key and b.key.startswith("job_retry_"))
    retry.click().run()
    assert oc.JOBS.started == started + 1  # a new job, not the failed one again
    _finish_projections()


def _theme_sizes(home) -> list[int]:
    fps = _ow(home).load_fingerprints()
    return [sum(f.context_summary.startswith(tuple(t[4])) for f in fps) for t in THEMES]


def test_gaps_page_status_change_is_recorded(app, home):
    """Signed in through OpenID Connect, the change is recorded under that email."""
    at = app("gaps.py", user={"is_logged_in": True, "email": "rev@example.com", "name": "Rev"})
    assert at.title[0].value == "Capability gaps"
    ow = _ow(home)
    gaps = ow.load_gaps()
    assert at.selectbox(key="ow_gap_pick").value == gaps[0].id
    table = at.dataframe[0].value
    assert table["context"].tolist() == [g.context_pattern for g in gaps]
    helm = table[table["context"] == "Helm release rollback"].iloc[0]
    assert helm["cluster"].startswith("Cluster ") and helm["failures"] == 14
    target = next(gp for gp in gaps if gp.status == GapStatus.DETECTED)
    at.selectbox(key="ow_gap_pick").set_value(target.id).run()
    assert at.header[0].value == target.context_pattern
    at.radio(key="ow_gap_next").set_value("confirmed")
    at.text_input(key="ow_gap_note").input("checked by hand")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert ow.get_gap(target.id).status == GapStatus.CONFIRMED
    last = ow.gap_history(target.id)[-1]
    assert (last.who, last.note, last.new_status) == (
        "rev@example.com",
        "checked by hand",
        GapStatus.CONFIRMED,
    )
    assert any("rev@example.com moved the gap" in s for s in _texts(at.success))
    assert at.text_input(key="ow_gap_note").value == ""  # not carried to the next change
    assert "rev@example.com" in [rendered(w) for w in at.table[0].value["who"]]
    # filters
    at.multiselect(key="ow_gap_status").set_value(["resolved"]).run()
    assert all("resolved" in o for o in at.selectbox(key="ow_gap_pick").options)


def test_gap_detail_shows_its_cluster_failures_and_contexts(app, home, monkeypatch):
    ow = _ow(home)
    helm = next(g for g in ow.load_gaps() if g.context_pattern == "Helm release rollback")
    at = app("gaps.py")
    at.selectbox(key="ow_gap_pick").set_value(helm.id).run()
    metrics = {m.label: m.value for m in at.metric}
    (cid, n), *_ = ow.gap_clusters(helm.id)
    assert metrics["Failures"] == "14" and metrics["Cluster"].startswith("Cluster ")
    assert f"{len(ow.gap_failures(helm.id))} failures in" in " ".join(_texts(at.caption))
    assert any(
        c.startswith(f"{n} contexts of this gap, in red ({n} in ") for c in _texts(at.caption)
    )

    import dashboard.components.openworld_map as om

    monkeypatch.setattr(om, "MAX_POINTS", 20)
    at = app("gaps.py")
    at.selectbox(key="ow_gap_pick").set_value(helm.id).run()
    assert any("showing 20 of" in w for w in _texts(at.warning))


def test_gap_named_by_vibes_groove_shows_its_context(app, home):
    """vibes-groove names a gap ``context:<hash>``: the page shows that context instead."""
    ow = _ow(home)
    fp = next(f for f in ow.load_fingerprints() if f.context_summary.startswith("roll back"))
    gap = CapabilityGap.new("missing_knowledge", f"context:{fp.hash}")
    ow.save_gap(gap)
    try:
        at = app("gaps.py")
        assert fp.context_summary in at.dataframe[0].value["context"].tolist()
        at.selectbox(key="ow_gap_pick").set_value(gap.id).run()
        assert at.header[0].value == fp.context_summary
        assert any(f"context:{fp.hash}" in c for c in _texts(at.caption))
    finally:
        ow.delete_gap(gap.id)


def test_gaps_page_solutions_edit(app, home):
    """Edit one solution's text, add a row and delete one in the editor, then save: the
    gap holds exactly the edited list, and the change is in its history."""
    ow = _ow(home)
    gap = next(g for g in ow.load_gaps() if len(g.suggested_solutions) == 2)
    at = app("gaps.py")
    at.selectbox(key="ow_gap_pick").set_value(gap.id).run()
    at.session_state[f"ow_sol_{gap.id}"] = {
        "edited_rows": {0: {"text": "Roll back with helm rollback --wait", "confidence": 0.9}},
        "added_rows": [{"action": "ask a person", "text": "Who owns the chart?"}],
        "deleted_rows": [1],
    }
    at.button(key="ow_sol_save").click().run()
    assert not at.exception
    saved = ow.get_gap(gap.id).suggested_solutions
    assert [(s.action.kind, s.action.text, s.confidence) for s in saved] == [
        ("CreateLearning", "Roll back with helm rollback --wait", 0.9),
        ("RequestHumanInput", "Who owns the chart?", 0.5),
    ]
    assert saved[0].action.data["category"] == gap.suggested_solutions[0].action.data["category"]
    last = ow.gap_history(gap.id)[-1]
    assert (last.action, last.who, last.note) == (
        "solutions",
        os_principal().id,  # no sign-in: the account running the server
        "solutions edited (2 -> 2)",
    )
    assert any("Saved 2 suggested solutions." in s for s in _texts(at.success))

    # a row the model cannot take is refused with its row number, and nothing changes
    at.session_state[f"ow_sol_{gap.id}"] = {
        "edited_rows": {},
        "added_rows": [{"action": "modify learning", "text": "x", "learning id": "nope"}],
        "deleted_rows": [],
    }
    at.button(key="ow_sol_save").click().run()
    assert any(rendered(e.value).startswith("solution row 3:") for e in at.error)
    assert ow.get_gap(gap.id).suggested_solutions == saved


def test_novelty_page_filters(app, home):
    from datetime import UTC, datetime, timedelta

    events = _ow(home).load_novelty_events(limit=1000)
    at = app("novelty.py")
    assert at.title[0].value == "Novelty events"
    assert len(at.dataframe[0].value) == len(events) > 20  # the last 30 days: all of them
    assert f"{len(events)} events of these types in this window; the list shows all of them." in (
        _texts(at.caption)
    )
    # the list is limited, the timeline still counts every event in the window
    at.number_input(key="ow_ev_limit").set_value(10).run()
    assert len(at.dataframe[0].value) == 10
    assert f"{len(events)} events of these types in this window; the list shows the newest 10." in (
        _texts(at.caption)
    )
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(_values(trace["y"]).sum() for trace in spec["data"]) == len(events)
    at.number_input(key="ow_ev_limit").set_value(200).run()
    at.segmented_control(key="ow_ev_window").set_value("24 h").run()
    day = datetime.now(UTC) - timedelta(days=1)
    recent = [e for e in events if e.timestamp >= day]
    assert len(at.dataframe[0].value) == len(recent) if recent else not at.dataframe
    at.segmented_control(key="ow_ev_window").set_value("all time").run()
    at.multiselect(key="ow_ev_types").set_value(["gap_created"]).run()
    assert not at.exception
    created = sum(e.event_type == "gap_created" for e in events)
    assert created >= 4  # one per simulated gap
    assert at.dataframe[0].value["type"].tolist() == ["gap created"] * created
    at.multiselect(key="ow_ev_types").set_value([]).run()
    assert at.warning[0].value == "Choose at least one event type."


def test_a_gap_another_program_wrote_in_a_newer_shape_is_named_not_fatal(tmp_path, monkeypatch):
    """A capability gap whose category a newer vibes-groove added: the Gaps page lists
    the others and names it with what is wrong; once mended it is listed."""
    from groove_core.errors import DataContractError

    home = _fresh_home(tmp_path / "home", 3, monkeypatch)
    ow = _ow(home)
    gaps = ow.load_gaps()
    bad = gaps[0]
    ow.db.run(  # as another program writes: no audit
        "?[id, category] <- [[$id, 'hallucinated_api']] :update capability_gap {id => category}",
        {"id": bad.id},
    )
    assert [gp.id for gp in ow.load_gaps()] == [gp.id for gp in gaps[1:]]
    with pytest.raises(DataContractError, match="hallucinated_api"):
        ow.get_gap(bad.id)
    at = session("gaps.py")
    table = at.dataframe[0].value
    assert table["context"].tolist() == [gp.context_pattern for gp in gaps[1:]]
    (warning,) = [rendered(w.value) for w in at.warning if "left out" in w.value]
    assert f"1 capability gap of tier '{SIM}' was left out" in warning
    assert bad.id in warning and "unknown GapCategory 'hallucinated_api'" in warning
    ow.db.run(
        "?[id, category] <- [[$id, $c]] :update capability_gap {id => category}",
        {"id": bad.id, "c": bad.category.value},
    )
    at = session("gaps.py")
    assert not [w for w in at.warning if "left out" in w.value]
    assert at.dataframe[0].value["context"].tolist() == [gp.context_pattern for gp in gaps]


def test_pages_on_an_empty_tier(tmp_path, monkeypatch):
    import dashboard.state as state

    home = tmp_path / "empty"
    home.mkdir()
    monkeypatch.setattr(state, "_open", _opener(home))
    for page in ("fingerprint_map.py", "gaps.py", "novelty.py"):
        at = AppTest.from_file(str(PAGES / page), default_timeout=60)
        at.run()
        assert not at.exception
        assert "groove simulate --part openworld" in at.info[0].value


def test_learning_colour_groups():
    """Colour by learning: the most linked learnings by name, the rest together, and
    fingerprints without a learning (None or NaN after a merge) as "no learning"."""
    import pandas as pd

    from dashboard.components import openworld_map as om

    ids = pd.Series(["a"] * 3 + ["b"] * 2 + [f"x{i}" for i in range(12)] + [None, float("nan")])
    groups, note = om.learning_groups(ids, {"a": "**Use** pathlib"})
    assert groups.iloc[0] == "Use pathlib (3)" and groups.iloc[3] == "b (2)"
    assert groups.tolist()[-2:] == [om.NO_LEARNING, om.NO_LEARNING]
    assert (groups == om.OTHER_LEARNINGS).sum() == 4  # 14 learnings, 10 named
    assert note == (
        "14 learnings linked to fingerprints; the 10 with the most have a colour, "
        "the other 4 share one."
    )
