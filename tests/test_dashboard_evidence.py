"""AppTest of the evidence pages on a simulation tier: the numbers shown are the numbers
of groove_core.analysis on the same data, or of an independent computation."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from conftest import HashingEmbedder, make_learning
from scipy import stats
from streamlit.testing.v1 import AppTest

from groove_core.analysis import ablation, posterior
from groove_core.analysis.evidence import value_trend
from groove_core.experiments import analyze_experiments, deprecation_candidates
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.simulate import copy_into_simulation, simulate_attribution
from groove_core.tiers import Groove

SIM = "simulation:demo"

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
    """A groove home whose user tier holds learnings and adaptive parameters, copied into
    the simulation tier ``simulation:demo`` that holds simulated attribution data.
    Returns the simulation report."""
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        t = g.user
        t.learnings.store_many([make_learning(d, i, c) for d, i, c in TEXTS])
        t.params.store_params(PARAMS)
        sim, _ = copy_into_simulation(g, SIM, "user")
        return simulate_attribution(sim, seed=seed, sessions=sessions, experiments=experiments)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("evidence_home")
    seed_home(h)
    return h


@pytest.fixture
def groove_ro(home):
    g = Groove(home, embedder=HashingEmbedder(), project=home)
    yield g.tier(SIM)
    g.close()


def page(home, monkeypatch, name, **query) -> AppTest:
    monkeypatch.setenv("GROOVE_HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    for k, v in {"tier": SIM, **query}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def interval(lo, hi) -> str:
    return "unbounded" if math.isinf(lo) or math.isinf(hi) else f"[{lo:+.3f}, {hi:+.3f}]"


def detail_matches(at: AppTest, a) -> None:
    """The experiment metrics shown are those of the analysis ``a``; the fixed-n p-value
    and interval only once both arms have the minimum number of sessions."""
    assert metric(at, "Effect") == f"{a.effect:+.3f}"
    if a.enough_sessions:
        p = "< 0.0001" if a.p_value < 1e-4 else f"{a.p_value:.4f}"
        assert metric(at, "p-value") == p
        assert metric(at, "95% CI") == f"[{a.ci_low:+.3f}, {a.ci_high:+.3f}]"
    else:
        assert metric(at, "p-value") == metric(at, "95% CI") == "—"
    assert metric(at, "Chance it helps") == f"{a.prob_helps:.3f}"
    assert metric(at, "Status") == a.status
    assert metric(at, "Sequential interval") == interval(a.cs_low, a.cs_high)
    assert a.reason in [c.value for c in at.caption]
    assert metric(at, "Sessions with / without") == f"{a.n_with} / {a.n_without}"
    assert metric(at, "Sessions still needed") == str(a.sessions_needed_per_arm)


def test_posterior_page_numbers(home, groove_ro, monkeypatch):
    exp = groove_ro.attribution.experiments()[1]
    lid = exp.learning_id
    at = page(home, monkeypatch, "posterior", learning=lid)
    u = groove_ro.learnings.usage(lid)
    s = posterior.summarize(u.confidence_alpha, u.confidence_beta, threshold=0.5)
    assert metric(at, "Posterior mean") == f"{s.mean:.3f}"
    assert metric(at, "95% equal-tailed credible interval") == f"[{s.ci_low:.3f}, {s.ci_high:.3f}]"
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
    # both density plots start at density 0 (a flat Beta(1, 1) reads as a line at 1,
    # not as float noise magnified around it)
    layouts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    densities = [la["yaxis"] for la in layouts if la["yaxis"]["title"]["text"] == "density"]
    assert [y.get("rangemode") for y in densities] == ["tozero", "tozero"]


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
    assert metric(at, "Learnings tested") == f"{tested:,} of {total:,} ({tested / total:.1%})"
    table = at.dataframe[0].value
    assert len(table) == len(exps)
    analyses = [ablation.analyze(e.with_outcomes(), e.without_outcomes()) for e in exps]
    for (_, row), a in zip(table.iterrows(), analyses, strict=True):
        assert row["sessions"] == f"{a.n_with} / {a.n_without}"
        assert row["effect"] == pytest.approx(a.effect, abs=1e-12)
        ci = f"[{a.ci_low:+.3f}, {a.ci_high:+.3f}]"
        assert row["ci"] == (ci if a.enough_sessions else "—")
        assert row["cs"] == interval(a.cs_low, a.cs_high)
        assert row["reason"] == a.reason
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
    at.text_input(key="ablation_dep_reason").set_value("  ")
    at.button(key="ablation_dep_button").click().run()
    assert [e.value for e in at.error] == ["Say why: the reason is recorded with the deprecation."]
    assert not at.get("button") or "ablation_confirm" not in [b.key for b in at.button]
    # typed and clicked at once (one round trip, as the browser sends a form)
    at.text_input(key="ablation_dep_reason").set_value("superseded by the style guide")
    at.button(key="ablation_dep_button").click().run()
    at.button(key="ablation_confirm").click().run()
    assert not at.exception
    new = at.selectbox(key="ablation_new_pick").value
    at.button(key="ablation_new_button").click().run()
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        t = g.tier(SIM)
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
    at.session_state["detail_tab"] = "History"  # a click on the detail's History tab
    at.run()
    assert any("→ Deprecated: superseded by the style guide" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]


def test_attribution_page_numbers(home, groove_ro, monkeypatch):
    at = page(home, monkeypatch, "attribution")
    store = groove_ro.attribution
    board = store.leaderboard()
    top = at.dataframe[0].value
    expected = board[board["total_value"] > 0].head(10)
    assert list(top["total_value"]) == pytest.approx(list(expected["total_value"]))
    assert list(top["sessions"]) == list(expected["sessions"])
    # the value of each learning, recomputed from the raw records with scipy's Welch test
    frame = store.attribution_frame()
    outcome = frame.groupby("session_id")["session_outcome"].first()
    for _, row in top.head(3).iterrows():
        lid = expected.loc[expected["total_value"] == row["total_value"], "learning_id"].iloc[0]
        inj = set(frame[(frame["learning_id"] == lid) & ~frame["was_withheld"]]["session_id"])
        a, b = outcome[outcome.index.isin(inj)], outcome[~outcome.index.isin(inj)]
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        assert row["value"] == pytest.approx(a.mean() - b.mean(), abs=1e-12)
        assert row["ci"] == f"[{ci.low:+.4f}, {ci.high:+.4f}]"
        one_sided = stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue
        assert row["p_positive"] == pytest.approx(1 - one_sided, abs=0.01)
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
    assert any("pointwise" in c.value for c in at.caption)
    assert metric(at, "95% pointwise interval of that mean") == (
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


def test_attribution_keeps_its_tiers_in_the_address(home, monkeypatch):
    """The tiers picked on the Attribution page are the address's ``?tier=`` (one per
    tier), so a copied link opens the same view."""
    at = page(home, monkeypatch, "attribution")
    assert at.multiselect(key="attr_tiers").value == [SIM]
    at.multiselect(key="attr_tiers").select("user").run()
    assert sorted(at.query_params["tier"]) == sorted([SIM, "user"])
    again = page(home, monkeypatch, "attribution", tier=[SIM, "user"])
    assert sorted(again.multiselect(key="attr_tiers").value) == sorted([SIM, "user"])


def test_parameters_page_numbers(home, monkeypatch):
    at = page(home, monkeypatch, "parameters")
    table = at.dataframe[0].value
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        params = g.tier(SIM).params.all_params()
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
    assert metric(at, "95% equal-tailed credible interval") == f"[{s.ci_low:.3f}, {s.ci_high:.3f}]"


SIZES = (2, 5, 20, 200)


def seed_sizes(home: Path) -> dict[int, str]:
    """A simulation tier with one ablation experiment of 2, 5, 20 and 200 sessions per arm
    (true effect 0.15, sd 0.2, unequal arms' sds). Returns learning id by size."""
    import numpy as np

    from groove_core.model.attribution import AblationExperiment, SessionOutcome
    from groove_core.model.serde import now

    rng = np.random.default_rng(2026)
    by_size = {}
    with Groove(home, embedder=HashingEmbedder(), project=home) as g:
        t = g.user
        t.learnings.store_many([make_learning(f"Sized {n}", f"insight {n}") for n in SIZES])
        sim, _ = copy_into_simulation(g, SIM, "user")
        exps = []
        for lr in sim.learnings.iter_all():
            n = int(lr.description.split()[1])
            t0 = now()
            w = rng.normal(0.65, 0.25, n)
            o = rng.normal(0.5, 0.15, n)
            exps.append(
                AblationExperiment(
                    lr.id,
                    t0,
                    tuple(SessionOutcome(f"sim-w{k}", float(v), t0) for k, v in enumerate(w)),
                    tuple(SessionOutcome(f"sim-o{k}", float(v), t0) for k, v in enumerate(o)),
                )
            )
            by_size[n] = lr.id
        sim.attribution.store_bulk(experiments=exps)
    return by_size


def test_what_a_curator_sees_at_2_5_20_and_200_sessions(tmp_path, monkeypatch):
    """Issue 10: at each size the numbers shown mean what they say. Below the minimum of
    20 per arm: no p-value, no fixed-n interval, no verdict, and the reason names the
    missing sessions; the sequential interval is unbounded at 2 and 5. At 20 and 200 the
    p-value and interval are scipy's Welch test on the same sessions, and the chance it
    helps is the Behrens-Fisher posterior (Monte Carlo, 1e6 draws, error < 0.002)."""
    import numpy as np

    by_size = seed_sizes(tmp_path)
    at = page(tmp_path, monkeypatch, "ablation")
    table = at.dataframe[0].value.set_index("sessions")
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        exps = {e.learning_id: e for e in g.tier(SIM).attribution.experiments()}
    rng = np.random.default_rng(5)
    for n, lid in by_size.items():
        row = table.loc[f"{n} / {n}"]
        w, o = np.array(exps[lid].with_outcomes()), np.array(exps[lid].without_outcomes())
        draws = 1_000_000
        mu_w = w.mean() + w.std(ddof=1) / np.sqrt(n) * rng.standard_t(n - 1, draws)
        mu_o = o.mean() + o.std(ddof=1) / np.sqrt(n) * rng.standard_t(n - 1, draws)
        assert row["prob_helps"] == pytest.approx(np.mean(mu_w > mu_o), abs=0.002)
        assert row["effect"] == pytest.approx(w.mean() - o.mean(), abs=1e-12)
        if n < 20:
            assert row["p_value"] == "—" and row["ci"] == "—"
            assert row["cs"] == "unbounded"
            assert row["status"] == "inconclusive"
            assert f"{20 - n} more sessions with the learning" in row["reason"]
        else:
            res = stats.ttest_ind(w, o, equal_var=False)
            ci = res.confidence_interval(0.95)
            assert row["p_value"] == ("< 0.0001" if res.pvalue < 1e-4 else f"{res.pvalue:.4f}")
            assert row["ci"] == f"[{ci.low:+.3f}, {ci.high:+.3f}]"
            assert row["cs"].startswith("[")
    assert table.loc["200 / 200"]["status"] == "positive"
    # only the experiments with enough sessions are drawn, and the page says so
    forest = at.get("plotly_chart")[0].proto.spec
    assert "Sized 200" in forest and "Sized 20 " in forest and "Sized 5" not in forest
    assert any("2 experiment(s) not drawn" in c.value for c in at.caption)
    # the detail of the 2-session experiment says what is missing
    at.selectbox(key="ablation_detail").set_value(by_size[2]).run()
    assert metric(at, "p-value") == metric(at, "95% CI") == "—"
    assert metric(at, "Sequential interval") == "unbounded"
    assert any("18 more sessions with the learning" in c.value for c in at.caption)
