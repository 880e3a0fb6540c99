"""Tests of groove_core.analysis.deprecation: which learnings are deprecation candidates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from groove_core.analysis.ablation import analyze, simulate_outcomes
from groove_core.analysis.deprecation import (
    CANDIDATE_COLUMNS,
    REASON_HARM,
    REASON_RARELY_HELPS,
    candidates,
)
from groove_core.errors import ValidationError

TOL = 1e-9


def _frame() -> pd.DataFrame:
    harm = analyze(*simulate_outcomes(-0.3, 60, 60, rng=np.random.default_rng(3)))
    good = analyze(*simulate_outcomes(0.3, 60, 60, rng=np.random.default_rng(4)))
    assert harm.status == "negative" and good.status == "positive"
    nan = float("nan")
    return pd.DataFrame(
        {
            "id": ["harmful", "rarely", "new", "popular", "helps-in-ablation", "mixed"],
            # harmful: posterior looks fine, ablation says it hurts
            # rarely: 2 helpful, 20 contradicted -> Beta(3, 31), evidence 32
            # new: 1 contradicted -> Beta(1, 2.5), evidence 1.5 (low mean, little evidence)
            # popular: 20 helpful, 2 ignored
            # helps-in-ablation: low posterior mean but ablation positive, little evidence
            "alpha": [6.0, 3.0, 1.0, 21.0, 1.0, 2.0],
            "beta": [2.0, 31.0, 2.5, 1.2, 4.0, 40.0],
            "effect": [harm.effect, nan, nan, nan, good.effect, harm.effect],
            "cs_low": [harm.cs_low, nan, nan, nan, good.cs_low, harm.cs_low],
            "cs_high": [harm.cs_high, nan, nan, nan, good.cs_high, harm.cs_high],
            "status": ["negative", None, None, "inconclusive", "positive", "negative"],
        }
    )


def test_flags_harm_and_rarely_helps_but_not_new_learnings() -> None:
    learnings = _frame()
    out = candidates(learnings)
    assert list(out.columns) == CANDIDATE_COLUMNS
    assert out["id"].tolist() == ["harmful", "rarely", "mixed"]
    reasons = dict(zip(out["id"], out["reason"], strict=True))
    assert reasons["harmful"] == REASON_HARM == "ablation shows harm"
    assert reasons["rarely"] == REASON_RARELY_HELPS == "rarely helps"
    assert reasons["mixed"] == "ablation shows harm; rarely helps"

    rarely = out.set_index("id").loc["rarely"]
    assert rarely["mean"] == pytest.approx(3 / 34, abs=TOL)
    assert rarely["evidence"] == pytest.approx(32.0, abs=TOL)
    assert rarely["p_below"] == pytest.approx(stats.beta.cdf(0.3, 3, 31), abs=TOL)
    assert rarely["p_below"] > 0.99
    lo, hi = stats.beta.interval(0.95, 3, 31)
    assert rarely["ci_low"] == pytest.approx(lo, abs=TOL)
    assert rarely["ci_high"] == pytest.approx(hi, abs=TOL)
    assert math.isnan(rarely["effect"])

    harmful = out.set_index("id").loc["harmful"]
    src = learnings.set_index("id").loc["harmful"]
    assert harmful["effect"] == pytest.approx(src["effect"], abs=TOL)
    assert harmful["cs_high"] == pytest.approx(src["cs_high"], abs=TOL) and src["cs_high"] < 0
    assert harmful["cs_low"] == pytest.approx(src["cs_low"], abs=TOL)


def test_new_learning_with_low_mean_is_not_flagged_until_evidence_accumulates() -> None:
    # Beta(1, 2.5): P(confidence < 0.3) is about 0.59 and evidence only 1.5
    new = pd.DataFrame({"id": ["n"], "alpha": [1.0], "beta": [2.5]})
    assert candidates(new).empty
    # the same learning after 7 more contradictions: Beta(1, 13), evidence 12
    later = pd.DataFrame({"id": ["n"], "alpha": [1.0], "beta": [13.0]})
    out = candidates(later)
    assert out["id"].tolist() == ["n"]
    assert out["p_below"].iloc[0] == pytest.approx(1 - 0.7**13, abs=TOL)  # Beta(1, b) cdf
    # a stricter evidence bar keeps it off the list
    assert candidates(later, min_evidence=20).empty


def test_thresholds_are_respected() -> None:
    df = pd.DataFrame({"id": ["x"], "alpha": [4.0], "beta": [16.0]})  # evidence 18
    p = stats.beta.cdf(0.3, 4, 16)
    assert 0.8 < p < 0.95
    assert candidates(df, threshold_prob=p - 1e-6)["id"].tolist() == ["x"]
    assert candidates(df, threshold_prob=p + 1e-6).empty
    assert candidates(df, low_confidence=0.5)["id"].tolist() == ["x"]


def test_no_candidates_gives_empty_frame_with_columns() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "alpha": [10.0, 1.0], "beta": [2.0, 1.0]})
    out = candidates(df)
    assert out.empty
    assert list(out.columns) == CANDIDATE_COLUMNS
    zero = candidates(pd.DataFrame({"id": [], "alpha": [], "beta": []}))
    assert zero.empty and list(zero.columns) == CANDIDATE_COLUMNS


def test_without_ablation_columns() -> None:
    df = pd.DataFrame({"id": ["r"], "alpha": [2.0], "beta": [30.0]})
    out = candidates(df)
    assert out["reason"].tolist() == ["rarely helps"]
    assert math.isnan(out["effect"].iloc[0]) and math.isnan(out["cs_high"].iloc[0])


@pytest.mark.parametrize(
    ("frame", "kwargs"),
    [
        (pd.DataFrame({"id": ["a"], "alpha": [0.0], "beta": [1.0]}), {}),
        (pd.DataFrame({"id": ["a"], "alpha": [float("nan")], "beta": [1.0]}), {}),
        (pd.DataFrame({"id": ["a"], "alpha": [0.5], "beta": [1.0]}), {}),  # below prior
        (pd.DataFrame({"id": ["a"], "beta": [1.0]}), {}),
        (pd.DataFrame({"id": ["a"], "alpha": [2.0], "beta": [2.0], "status": ["bad"]}), {}),
        (pd.DataFrame({"id": ["a"], "alpha": [2.0], "beta": [2.0]}), {"low_confidence": 1.0}),
        (pd.DataFrame({"id": ["a"], "alpha": [2.0], "beta": [2.0]}), {"threshold_prob": 1.5}),
        (pd.DataFrame({"id": ["a"], "alpha": [2.0], "beta": [2.0]}), {"min_evidence": -1}),
        (pd.DataFrame({"id": ["a"], "alpha": [2.0], "beta": [2.0]}), {"min_evidence": "x"}),
        ([{"id": "a", "alpha": 2.0, "beta": 2.0}], {}),
    ],
)
def test_rejects_bad_input(frame: object, kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        candidates(frame, **kwargs)  # type: ignore[arg-type]
