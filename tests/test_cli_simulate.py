"""`groove simulate` from the command line: it says it is synthetic in its help, in its
output and in the data; it writes only into its own simulation tier, whose removal leaves
every relation of the real tier exactly as it was (issue 10: a learning with 30 real
contradicted outcomes went from Beta(1, 46) to Beta(17, 55) and off the deprecation list)."""

from __future__ import annotations

import json

import pytest
from conftest import HashingEmbedder, make_learning
from typer.testing import CliRunner

from groove_core.cli import app
from groove_core.experiments import analyze_experiments, deprecation_candidates
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.store.engine import Engine
from groove_core.tiers import Groove


def dump(path) -> dict:
    """Every stored relation of the database at ``path``, every row and column, sorted:
    the full content of a tier, to compare byte for byte."""
    db = Engine("check", "sqlite", path)
    try:
        names = [r[0] for r in db.run("::relations").rows]
        out = {}
        for name in names:
            cols = [r[0] for r in db.run(f"::columns {name}").rows]
            head = ", ".join(cols)
            rows = db.run(f"?[{head}] := *{name}{{{head}}}").rows
            out[name] = sorted(repr(r) for r in rows)
        return out
    finally:
        db.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home whose user tier holds 12 learnings, real history and a parameter; one
    learning has 30 real contradicted outcomes (Beta(1, 46): a deprecation candidate)."""
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "elsewhere"))
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        t = g.user
        learnings = [
            make_learning(f"Learning {i}", f"insight {i}", "preference") for i in range(12)
        ]
        t.learnings.store_many(learnings)
        bad = learnings[0].id
        for k in range(30):
            t.learnings.record_outcome(bad, "contradicted", session_id=f"real-{k}")
        t.learnings.record_outcome(learnings[1].id, "helpful", session_id="real-x")
        t.attribution.start_experiment(learnings[2].id)
        t.params.store_param(SystemParam("injection_budget", AdaptiveParam.with_prior(8.0, 2.0)))
    return tmp_path, bad


def candidates(home) -> set[str]:
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        store = g.user.attribution
        return set(deprecation_candidates(store, analyze_experiments(store, save=False))["id"])


def test_simulate_never_touches_the_real_tier(home):
    tmp_path, bad = home
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        u = g.user.learnings.usage(bad)
    assert (u.confidence_alpha, u.confidence_beta) == (1.0, 46.0)
    assert bad in candidates(tmp_path)
    before = dump(tmp_path / "user.db")
    config_before = (tmp_path / "config.toml").read_text()
    runner = CliRunner()

    helped = runner.invoke(app, ["simulate", "--help"], terminal_width=200)
    assert helped.exit_code == 0
    assert "SYNTHETIC" in helped.output and "--remove" in helped.output
    assert "--from" in helped.output and "simulation:demo" in helped.output

    # a real tier is refused, and nothing is written
    refused = runner.invoke(app, ["simulate", "--home", str(tmp_path), "--tier", "user"])
    assert refused.exit_code == 1 and "simulation tier" in refused.output
    assert dump(tmp_path / "user.db") == before

    # (the open-world part embeds new contexts with the real model: tested where marked)
    args = ["simulate", "--home", str(tmp_path), "--seed", "4", "--part", "attribution"]
    done = runner.invoke(app, [*args, "--sessions", "60", "--experiments", "3"])
    assert done.exit_code == 0, done.output
    assert "SYNTHETIC" in done.output and "groove simulate --remove" in done.output
    assert "copied 12 learnings" in done.output
    # the real tier: every relation exactly as before, the posterior and the verdict too
    assert dump(tmp_path / "user.db") == before
    assert bad in candidates(tmp_path)
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        u = g.user.learnings.usage(bad)
        assert (u.confidence_alpha, u.confidence_beta) == (1.0, 46.0)
        # the simulation tier holds the copies and the synthetic data
        sim = g.tier("simulation:demo", create=False)
        assert sim.synthetic and sim.label == "simulation:demo (synthetic)"
        copies = list(sim.learnings.iter_all())
        assert len(copies) == 12 and {c.source.kind for c in copies} == {"promoted"}
        originals = {c.source.data["original_id"] for c in copies}
        assert originals == set(g.user.learnings.ids())
        assert not originals & {c.id for c in copies}
        (run,) = sim.attribution.simulation_runs()
        assert run.params["synthetic"] is True
        sessions = sim.db.run("?[session_id] := *attribution{session_id}").rows
        assert sessions and all(s.startswith("sim-4-") for (s,) in sessions)
        assert len(sim.attribution.experiments()) == 3
        assert {p.name for p in sim.params.all_params()} >= {"injection_budget", "ablation_rate"}
        # cross-tier reads leave the simulation tier out unless it is named
        assert [t.name for t in g.open_tiers()] == ["user"]
        assert g.count() == 12 and g.count(["simulation:demo"]) == 12
    listed = runner.invoke(app, ["list", "--home", str(tmp_path), "--tier", "all", "--json"])
    assert len(json.loads(listed.output)) == 12
    assert {r["tier"] for r in json.loads(listed.output)} == {"user"}
    found = runner.invoke(
        app,
        ["search", "Learning", "--home", str(tmp_path), "--tier", "all", "--json"]
        + ["--mode", "fulltext"],
    )
    assert {r["tier"] for r in json.loads(found.output)} == {"user"}

    # a second run with another seed reuses the copies
    again = runner.invoke(app, [*args[:3], "--seed", "5", "--part", "attribution"])
    assert again.exit_code == 0, again.output
    assert "copied 0 learnings (12 copied before)" in again.output

    removed = runner.invoke(app, ["simulate", "--home", str(tmp_path), "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "deleted simulation tier 'simulation:demo'" in removed.output
    assert dump(tmp_path / "user.db") == before
    assert (tmp_path / "config.toml").read_text() == config_before
    assert not list((tmp_path / "simulations").glob("*"))
    assert bad in candidates(tmp_path)


def test_bad_options_are_refused_before_anything_is_copied(tmp_path, monkeypatch):
    """A negative seed, a file given as --corpus, an absurd number of sessions: usage
    errors before the simulation tier exists (it would hold a copy of the learnings)."""
    from typer.testing import CliRunner

    from groove_core.cli import app

    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "home"))
    (tmp_path / "rules.md").write_text("- Use tabs.\n")
    runner = CliRunner()
    for args in (
        ["--seed", "-5"],
        ["--corpus", str(tmp_path / "rules.md")],
        ["--sessions", "1000000000"],
    ):
        result = runner.invoke(app, ["simulate", "--tier", "simulation:s", *args])
        assert result.exit_code == 2, (args, result.output)
    assert not list((tmp_path / "home").glob("simulations/*.db"))
