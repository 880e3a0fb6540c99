"""End to end: the posterior and ablation pages in Chromium on simulated data; the numbers
shown agree with an independent scipy computation on the rows in the database file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import wait_idle
from scipy import special, stats
from test_dashboard_evidence import seed_home

from groove_core.store.engine import Engine

pytestmark = pytest.mark.browser


def metrics(pg) -> dict[str, str]:
    out = {}
    for m in pg.locator("[data-testid='stMetric']").all():
        label = m.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = m.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def settle(pg, marker: str) -> None:
    """Wait until ``marker`` is shown and the script has finished running."""
    pg.get_by_text(marker, exact=True).first.wait_for()
    wait_idle(pg)


def raw_rows(home):
    """The experiments and outcome events, read straight from the database file."""
    db = Engine("check", "sqlite", home / "user.db")
    try:
        exps = db.run(
            "?[learning_id, started_at, w, o] := *ablation_experiment{learning_id, started_at, "
            "sessions_with_json: w, sessions_without_json: o} :order started_at, learning_id"
        ).rows
        events = db.run(
            "?[learning_id, at, event_id, outcome] := "
            "*outcome_event{learning_id, event_id, at, outcome} :order at, event_id"
        ).rows
    finally:
        db.close()
    return exps, events


def expected_ablation(w: list[float], o: list[float]) -> dict[str, str]:
    """What the page should show, computed independently: Welch's test (scipy), the
    Behrens-Fisher chance that the effect is > 0, and the asymptotic confidence sequence of
    Waudby-Smith et al. (2024) with rho^2 = (-W_{-1}(-alpha^2/e) - 1) / 200."""
    res = stats.ttest_ind(w, o, equal_var=False)
    ci = res.confidence_interval(0.95)
    effect = np.mean(w) - np.mean(o)
    se = math.sqrt(stats.tvar(w) / len(w) + stats.tvar(o) / len(o))
    t = len(w) + len(o)
    alpha = 0.05
    x_opt = -special.lambertw(-(alpha**2) / math.e, k=-1).real - 1
    r2 = x_opt / 200
    half = (
        math.sqrt(t)
        * se
        * math.sqrt(2 * (t * r2 + 1) / (t**2 * r2) * math.log(math.sqrt(t * r2 + 1) / alpha))
    )
    lo, hi = effect - half, effect + half
    status = "inconclusive"
    if min(len(w), len(o)) >= 20:
        status = "positive" if lo > 0 else "negative" if hi < 0 else status
    return {
        "Effect": f"{effect:+.3f}",
        "p-value": "< 0.0001" if res.pvalue < 1e-4 else f"{res.pvalue:.4f}",
        "Chance it helps": f"{stats.t.cdf(effect / se, res.df):.3f}",
        "Status": status,
        "95% CI": f"[{ci.low:+.3f}, {ci.high:+.3f}]",
        "Sequential interval": f"[{lo:+.3f}, {hi:+.3f}]",
        "Sessions with / without": f"{len(w)} / {len(o)}",
    }


def test_posterior_and_ablation_pages(tmp_path, dashboard_factory, page):
    seed_home(tmp_path, seed=21, sessions=300, experiments=6)
    exps, events = raw_rows(tmp_path)
    app = dashboard_factory(tmp_path)

    # ------------------------------------------------ ablation page: overview and detail
    page.goto(app.url + "/ablation")
    settle(page, "Sessions still needed")
    shown = metrics(page)
    assert shown["Experiments"] == str(len(exps))
    arms = {
        lid: ([s["outcome"] for s in json.loads(w)], [s["outcome"] for s in json.loads(o)])
        for lid, _, w, o in exps
    }
    first = exps[0][0]
    expected = expected_ablation(*arms[first])
    assert {k: shown[k] for k in expected} == expected
    statuses = [expected_ablation(*arms[lid])["Status"] for lid, *_ in exps]
    assert shown["Conclusive"] == str(sum(s != "inconclusive" for s in statuses))
    page.screenshot(path=str(tmp_path / "ablation.png"), full_page=True)

    # ------------------------------------------------ posterior of a learning under test
    lid = exps[1][0]
    mine = [(at, outcome) for i, at, _, outcome in events if i == lid]
    helpful = sum(o == "helpful" for _, o in mine)
    ignored = sum(o == "ignored" for _, o in mine)
    contradicted = sum(o == "contradicted" for _, o in mine)
    a, b = 1 + helpful, 1 + 0.1 * ignored + 1.5 * contradicted
    page.goto(app.url + f"/posterior?learning={lid}")
    settle(page, "Sessions still needed")
    shown = metrics(page)
    lo, hi = stats.beta.interval(0.95, a, b)
    assert shown["Posterior mean"] == f"{a / (a + b):.3f}"
    assert shown["95% credible interval"] == f"[{lo:.3f}, {hi:.3f}]"
    assert shown["P(confidence < 0.50)"] == f"{stats.beta.cdf(0.5, a, b):.3f}"
    assert shown["Standard deviation"] == f"{stats.beta.std(a, b):.3f}"
    assert (shown["Helpful"], shown["Ignored"], shown["Contradicted"]) == tuple(
        map(str, (helpful, ignored, contradicted))
    )
    # its ablation, on the same page, as computed independently
    expected = expected_ablation(*arms[lid])
    assert {k: shown[k] for k in expected} == expected

    # how it changed: the plotted posterior mean after each recorded outcome
    plots = page.locator(".js-plotly-plot")
    assert plots.count() >= 3  # density, trajectory, comparison
    means = plots.nth(1).evaluate(
        "el => Array.from(el._fullData.find(t => t.name === 'posterior mean').y, Number)"
    )
    inc = {"helpful": (1.0, 0.0), "ignored": (0.0, 0.1), "contradicted": (0.0, 1.5)}
    steps = np.array([[1.0, 1.0]] + [inc[o] for _, o in mine]).cumsum(axis=0)
    np.testing.assert_allclose(means, steps[:, 0] / steps.sum(axis=1), atol=1e-9)
    page.screenshot(path=str(tmp_path / "posterior.png"), full_page=True)

    # ------------------------------------------------ the link opens the same experiment
    page.get_by_text("All experiments on the Ablation page").click()
    settle(page, "One experiment in detail")
    shown = metrics(page)
    assert {k: shown[k] for k in expected} == expected
