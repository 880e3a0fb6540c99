"""`groove simulate` (attribution part) from the command line: says it is synthetic in its
help, in its output and in the data, and `--remove` takes it all out again."""

from __future__ import annotations

import json

from conftest import HashingEmbedder, make_learning
from typer.testing import CliRunner

from groove_core.cli import app
from groove_core.store.engine import Engine
from groove_core.tiers import Groove


def counts(home) -> dict:
    db = Engine("check", "sqlite", home / "user.db")
    try:
        return {
            "runs": db.run(
                "?[run_id, params_json] := *attribution_simulation{run_id, params_json}"
            ).rows,
            "sessions": db.run("?[session_id] := *attribution{session_id}").rows,
            "experiments": db.run(
                "?[count(learning_id)] := *ablation_experiment{learning_id}"
            ).rows,
            "params": db.run("?[param_name] := *adaptive_params{param_name}").rows,
        }
    finally:
        db.close()


def test_simulate_says_synthetic_and_removes(tmp_path, monkeypatch):
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "elsewhere"))
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(
            [make_learning(f"Learning {i}", f"insight {i}", "preference") for i in range(12)]
        )
    runner = CliRunner()

    helped = runner.invoke(app, ["simulate", "--help"], terminal_width=200)
    assert helped.exit_code == 0
    assert "SYNTHETIC" in helped.output and "--remove" in helped.output

    args = ["simulate", "--home", str(tmp_path), "--part", "attribution", "--seed", "4"]
    done = runner.invoke(app, [*args, "--sessions", "60", "--experiments", "3"])
    assert done.exit_code == 0, done.output
    assert "SYNTHETIC" in done.output and "groove simulate --remove" in done.output
    data = counts(tmp_path)
    ((_, params_json),) = data["runs"]
    assert json.loads(params_json)["synthetic"] is True
    assert data["sessions"] and all(s.startswith("sim-4-") for (s,) in data["sessions"])
    assert data["experiments"] == [[3]]
    assert len(data["params"]) == 3

    removed = runner.invoke(app, [*args, "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "removed 1 attribution simulation run" in removed.output
    assert counts(tmp_path) == {"runs": [], "sessions": [], "experiments": [[0]], "params": []}
