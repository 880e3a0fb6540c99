"""AppTest of the evidence pages on a simulated store: the numbers shown are the numbers
of groove_core.analysis on the same data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from streamlit.testing.v1 import AppTest

from groove_core.analysis import ablation, posterior
from groove_core.analysis.evidence import value_trend
from groove_core.experiments import analyze_experiments, deprecation_candidates
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.simulate import simulate_attribution
from groove_core.tiers import Groove

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py")

TEXTS = [
    ("Use tabs for indentation in Makefiles", "Make requires tabs", "preference"),
    ("Prefer pathlib over os.path", "pathlib is clearer", "code_pattern"),
    ("Run pytest with -x when debugging", "stop at the first failure", "tool_usage"),
    ("Retry flaky network calls with backoff", "use tenacity", "error_recovery"),
    ("Use ruff for linting", "fast and complete", "tool_usage"),
    ("Bind Cozo values as params", "never format values into queries", "code_pattern"),
    ("Prefer dataclasses for plain records", "frozen when possible", "code_pattern"),
    ("Write commit messages in imperative mood", "Add, Fix, Remove", "preference"),
    ("Check git status before committing", "avoid stray files", "harness_knowledge"),
    ("Pin torch to the CPU build", "avoid CUDA downloads", "solution"),
    ("Explain the why in docstrings", "not only the what", "preference"),
    ("Use UTC timestamps everywhere", "aware datetimes", "code_pattern"),
    ("Read the error message before retrying", "fix the cause", "error_recovery"),
    ("Prefer small pull requests", "easier review", "preference"),
    ("Keep Datalog in the store package", "pages only lay out", "harness_knowledge"),
    ("Rebuild the HNSW index after a bulk load", "faster than incremental", "solution"),
]
PARAMS = [
    SystemParam("injection_threshold", AdaptiveParam(0.62, 1 / (1 + 40**0.5), 40, 25.0, 15.3)),
    SystemParam("exploration_rate", AdaptiveParam(0.2, 0.25, 9, 2.5, 10.0)),
]


def seed_home(home: Path, seed: int = 0, sessions: int = 300, experiments: int = 6):
    """A groove home whose user tier holds learnings, simulated attribution data and
    adaptive parameters. Returns the simulation report."""
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        t = g.user
        t.learnings.store_many([make_learning(d, i, c) for d, i, c in TEXTS])
        t.params.store_params(PARAMS)
        return simulate_attribution(t, seed=seed, sessions=sessions, experiments=experiments)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("evidence_home")
    seed_home(h)
    return h


@pytest.fixture
def groove_ro(home):
    g = Groove(home, embedder=HashingEmbedder(), project=home)
    yield g.user
    g.close()


def page(home, monkeypatch, name, **query) -> AppTest:
    monkeypatch.setenv("GROOVE_HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def detail_matches(at: AppTest, a) -> None:
    """The experiment metrics shown are those of the analysis ``a``."""
    assert metric(at, "Effect") == f"{a.effect:+.3f}"
    assert metric(at, "p-value") == ("< 0.0001" if a.p_value < 1e-4 else f"{a.p_value:.4f}")
    assert metric(at, "Chance it helps") == f"{a.prob_helps:.3f}"
    assert metric(at, "Status") == a.status
    assert metric(at, "95% CI") == f"[{a.ci_low:+.3f}, {a.ci_high:+.3f}]"
    assert metric(at, "Sequential interval") == f"[{a.cs_low:+.3f}, {a.cs_high:+.3f}]"
    assert metric(at, "Sessions with / without") == f"{a.n_with} / {a.n_without}"
    assert metric(at, "Sessions still needed") == str(a.sessions_needed_per_arm)


def test_posterior_page_numbers(home, groove_ro, monkeypatch):
    exp = groove_ro.attribution.experiments()[1]
    lid = exp.learning_id
    at = page(home, monkeypatch, "posterior", learning=lid)
    u = groove_ro.learnings.usage(lid)
    s = posterior.summarize(u.confidence_alpha, u.confidence_beta, threshold=0.5)
    assert metric(at, "Posterior mean") == f"{s.mean:.3f}"
    assert metric(at, "95% credible interval") == f"[{s.ci_low:.3f}, {s.ci_high:.3f}]"
    assert metric(at, "P(confidence < 0.50)") == f"{s.p_below_threshold:.3f}"
    assert metric(at, "Helpful") == str(u.times_helpful)
    assert metric(at, "Ignored") == str(u.times_ignored)
    assert metric(at, "Contradicted") == str(u.times_contradicted)
    assert metric(at, "α") == f"{u.confidence_alpha:.2f}"
    assert metric(at, "β") == f"{u.confidence_beta:.2f}"
    # its ablation, as the ablation page analyses it
    detail_matches(at, ablation.analyze(exp.with_outcomes(), exp.without_outcomes()))
    # a new threshold moves the tail probability
    at.slider(key="posterior_threshold").set_value(0.95).run()
    s2 = posterior.summarize(u.confidence_alpha, u.confidence_beta, threshold=0.95)
    assert metric(at, "P(confidence < 0.95)") == f"{s2.p_below_threshold:.3f}"
    # the compare table holds one row per chosen learning, with its posterior mean
    chosen = at.multiselect(key="posterior_compare").value
    shown = at.dataframe[0].value
    assert len(shown) == len(chosen) >= 2
    assert shown["mean"].iloc[0] == pytest.approx(s.mean, abs=1e-12)


def test_posterior_page_without_experiment(home, groove_ro, monkeypatch):
    tested = {e.learning_id for e in groove_ro.attribution.experiments()}
    lid = next(lr.id for lr in groove_ro.learnings.iter_all() if lr.id not in tested)
    at = page(home, monkeypatch, "posterior", learning=lid)
    assert any("no ablation experiment" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label == "Sequential interval"]


def test_ablation_page_numbers(home, groove_ro, monkeypatch):
    exps = groove_ro.attribution.experiments()
    at = page(home, monkeypatch, "ablation", learning=exps[2].learning_id)
    assert metric(at, "Experiments") == str(len(exps))
    tested, total = groove_ro.attribution.coverage()
    assert metric(at, "Learnings tested") == f"{tested} of {total} ({tested / total:.0%})"
    table = at.dataframe[0].value
    assert len(table) == len(exps)
    analyses = [ablation.analyze(e.with_outcomes(), e.without_outcomes()) for e in exps]
    for (_, row), a in zip(table.iterrows(), analyses, strict=True):
        assert row["sessions"] == f"{a.n_with} / {a.n_without}"
        assert row["effect"] == pytest.approx(a.effect, abs=1e-12)
        assert row["ci"] == f"[{a.ci_low:+.3f}, {a.ci_high:+.3f}]"
        assert row["cs"] == f"[{a.cs_low:+.3f}, {a.cs_high:+.3f}]"
        assert row["prob_helps"] == pytest.approx(a.prob_helps, abs=1e-12)
        assert row["status"] == a.status
        assert row["needed"] == a.sessions_needed_per_arm
    assert {a.status for a in analyses} >= {"positive", "inconclusive"}
    # the link from the posterior page opens that experiment's detail
    assert at.selectbox(key="ablation_detail").value == exps[2].learning_id
    detail_matches(at, analyses[2])
    # the result was written back through the store
    for e, a in zip(exps, analyses, strict=True):
        stored = groove_ro.attribution.get_experiment(e.learning_id).result
        assert stored.marginal_value == pytest.approx(a.effect, abs=1e-12)
        assert stored.is_significant == (a.status != "inconclusive")
    # deprecation candidates are those of groove_core, with their numbers
    cands = deprecation_candidates(
        groove_ro.attribution, analyze_experiments(groove_ro.attribution, save=False)
    )
    shown = at.dataframe[1].value  # the candidates, after the table of experiments
    assert list(shown["reason"]) == list(cands["reason"]) and len(cands) >= 1
    assert list(shown["mean"]) == pytest.approx(list(cands["mean"]), abs=1e-12)


def test_ablation_page_deprecates_and_starts(tmp_path, monkeypatch):
    rep = seed_home(tmp_path, seed=6, sessions=150, experiments=2)
    at = page(tmp_path, monkeypatch, "ablation")
    target = at.selectbox(key="ablation_dep_pick").value
    # the first learning offered is the first deprecation candidate
    assert at.dataframe[1].value["reason"].iloc[0] == at.text_input(key="ablation_dep_reason").value
    at.text_input(key="ablation_dep_reason").set_value("superseded by the style guide").run()
    at.button(key="ablation_dep_button").click().run()
    at.button(key="ablation_confirm").click().run()
    assert not at.exception
    new = at.selectbox(key="ablation_new_pick").value
    at.button(key="ablation_new_button").click().run()
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        t = g.user
        assert (
            t.attribution.get_learning_value(target).status.reason
            == "superseded by the style guide"
        )
        dep = [e for e in t.learnings.history(target) if e.action == "deprecated"]
        assert dep and dep[-1].after["reason"] == "superseded by the style guide"
        assert dep[-1].before["status"] != dep[-1].after["status"]
        done = analyze_experiments(t.attribution, save=False)
        assert target not in set(deprecation_candidates(t.attribution, done)["id"])
        assert t.attribution.get_experiment(new) is not None
        assert new not in rep.experiments
    # the learning's history on the Learnings page says so, with the reason
    at = page(tmp_path, monkeypatch, "posterior", learning=target)
    assert [w.value for w in at.warning] == ["Deprecated: superseded by the style guide"]
    at = page(tmp_path, monkeypatch, "learnings", id=target)
    assert any(
        "Active → Deprecated: superseded by the style guide" in c.value for c in at.caption
    ), [c.value for c in at.caption]


def test_attribution_page_numbers(home, groove_ro, monkeypatch):
    at = page(home, monkeypatch, "attribution")
    store = groove_ro.attribution
    board = store.leaderboard()
    top = at.dataframe[0].value
    expected = board[board["total_value"] > 0].head(10)
    assert list(top["total_value"]) == pytest.approx(list(expected["total_value"]))
    assert list(top["sessions"]) == list(expected["sessions"])
    assert list(top["confidence"]) == pytest.approx(list(expected["confidence"]))
    confidences = {lr.id: lr.confidence for lr in groove_ro.learnings.iter_all()}
    assert list(top["posterior_mean"]) == pytest.approx(
        [confidences[i] for i in expected["learning_id"]]
    )
    neg = at.dataframe[1].value
    worst = board[board["total_value"] < 0].sort_values("total_value").head(10)
    assert list(neg["total_value"]) == pytest.approx(list(worst["total_value"]))
    # the latest session and the learnings in it, with their attributed values
    timeline = store.session_timeline(limit=1000)
    last = timeline.iloc[-1]["session_id"]
    assert at.selectbox(key="attr_session").value == len(timeline) - 1
    in_session = store.get_attributions_for_session(last)
    detail = at.dataframe[2].value
    assert list(detail["attributed_value"]) == pytest.approx(
        [r.attributed_value for r in in_session]
    )
    assert list(detail["was_activated"]) == [r.was_activated for r in in_session]
    # one learning's value over time
    lid = board.iloc[0]["learning_id"]
    trend = value_trend(store.attribution_frame(learning_ids=[lid]), window=20)
    assert metric(at, "Cumulative value") == f"{trend['cumulative'].iloc[-1]:+.3f}"
    assert metric(at, "Rolling mean (last 20)") == f"{trend['rolling_mean'].iloc[-1]:+.4f}"
    assert metric(at, "95% interval of that mean") == (
        f"[{trend['rolling_low'].iloc[-1]:+.4f}, {trend['rolling_high'].iloc[-1]:+.4f}]"
    )
    # a time range narrows it: the first half of the sessions
    first, end = store.time_bounds()
    middle = first + (end - first) / 2
    at.date_input(key="attr_range").set_value((first.date(), middle.date())).run()
    since = datetime.combine(first.date(), time.min, UTC)
    until = datetime.combine(middle.date(), time.min, UTC) + timedelta(days=1)
    half = store.leaderboard(since, until)
    assert list(at.dataframe[0].value["sessions"]) == list(
        half[half["total_value"] > 0].head(10)["sessions"]
    )
    assert half["sessions"].sum() < board["sessions"].sum()
    # a category filter narrows the leaderboard to that category
    at.selectbox(key="attr_category").set_value("preference").run()
    cats = {lr.id: lr.category.value for lr in groove_ro.learnings.iter_all()}
    shown = store.leaderboard(since, until, category="preference")
    assert set(shown["learning_id"]) <= {i for i, c in cats.items() if c == "preference"}
    assert len(at.dataframe[0].value) == min(10, (shown["total_value"] > 0).sum())


def test_parameters_page_numbers(home, monkeypatch):
    at = page(home, monkeypatch, "parameters")
    table = at.dataframe[0].value
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        params = g.user.params.all_params()
    # the tier's own parameters and those groove simulate taught
    assert list(table["parameter"]) == sorted(
        [p.name for p in PARAMS] + ["ablation_rate", "activation_threshold", "injection_budget"]
    )
    p = next(x for x in params if x.name == table.iloc[0]["parameter"])
    assert table.iloc[0]["observations"] == p.param.observations > 0
    s = posterior.summarize(p.param.prior_alpha, p.param.prior_beta)
    assert table.iloc[0]["ci_low"] == pytest.approx(s.ci_low)
    assert metric(at, "Value") == f"{p.param.value:.3f}"
    assert metric(at, "Observations") == str(p.param.observations)
    assert metric(at, "95% credible interval") == f"[{s.ci_low:.3f}, {s.ci_high:.3f}]"
