"""End to end: the ablation and posterior pages in Chromium on simulated data; the numbers
shown agree with an independent scipy computation on the same rows."""

from __future__ import annotations

import json
import math

import pytest
from conftest import wait_idle
from scipy import stats
from test_dashboard_evidence import seed_home

from groove_core.store.engine import Engine

pytestmark = pytest.mark.browser


def metrics(pg) -> dict[str, str]:
    out = {}
    for m in pg.locator("[data-testid='stMetric']").all():
        label = m.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = m.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def raw_rows(home):
    """The experiments and outcome counts, read straight from the database file."""
    db = Engine("check", "sqlite", home / "user.db")
    try:
        exps = db.run(
            "?[learning_id, started_at, w, o] := *ablation_experiment{learning_id, started_at, "
            "sessions_with_json: w, sessions_without_json: o} :order started_at, learning_id"
        ).rows
        events = db.run(
            "?[learning_id, outcome, count(event_id)] := "
            "*outcome_event{learning_id, event_id, outcome}"
        ).rows
    finally:
        db.close()
    return exps, events


def test_ablation_and_posterior_pages(tmp_path, dashboard_factory, page):
    seed_home(tmp_path, seed=21, sessions=300, experiments=6)
    exps, events = raw_rows(tmp_path)
    app = dashboard_factory(tmp_path)

    # ------------------------------------------------ ablation: first experiment's detail
    page.goto(app.url + "/ablation")
    wait_idle(page)
    page.get_by_text("One experiment in detail").wait_for()
    shown = metrics(page)
    assert shown["Experiments"] == str(len(exps))
    lid, _, w_json, o_json = exps[0]
    w = [s["outcome"] for s in json.loads(w_json)]
    o = [s["outcome"] for s in json.loads(o_json)]
    res = stats.ttest_ind(w, o, equal_var=False)
    effect = sum(w) / len(w) - sum(o) / len(o)
    se = math.sqrt(stats.tvar(w) / len(w) + stats.tvar(o) / len(o))
    assert shown["Effect"] == f"{effect:+.3f}"
    assert shown["p-value"] == f"{res.pvalue:.4f}"
    assert shown["Chance it helps"] == f"{stats.t.cdf(effect / se, res.df):.3f}"
    assert shown["Sessions with / without"] == f"{len(w)} / {len(o)}"
    ci = res.confidence_interval(0.95)
    assert shown["95% CI"] == f"[{ci.low:+.3f}, {ci.high:+.3f}]"
    page.screenshot(path=str(tmp_path / "ablation.png"), full_page=True)

    # ------------------------------------------------ posterior of the same learning
    counts = {(i, oc): n for i, oc, n in events}
    helpful = counts.get((lid, "helpful"), 0)
    ignored = counts.get((lid, "ignored"), 0)
    contradicted = counts.get((lid, "contradicted"), 0)
    a, b = 1 + helpful, 1 + 0.1 * ignored + 1.5 * contradicted
    page.goto(app.url + f"/posterior?learning={lid}")
    wait_idle(page)
    page.get_by_text("How sure are we that it helps?").wait_for()
    shown = metrics(page)
    lo, hi = stats.beta.interval(0.95, a, b)
    assert shown["Posterior mean"] == f"{a / (a + b):.3f}"
    assert shown["95% credible interval"] == f"[{lo:.3f}, {hi:.3f}]"
    assert shown["P(confidence < 0.50)"] == f"{stats.beta.cdf(0.5, a, b):.3f}"
    assert shown["Helpful"] == str(helpful)
    assert shown["Contradicted"] == str(contradicted)
    assert page.locator(".js-plotly-plot").count() >= 2  # density and trajectory drawn
    page.screenshot(path=str(tmp_path / "posterior.png"), full_page=True)
