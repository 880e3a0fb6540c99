"""The data model reads and writes exactly the JSON Rust's serde writes (DESIGN.md)."""

import json
from datetime import UTC, datetime

import pytest

from groove_core.errors import ValidationError
from groove_core.model.learning import Learning, LearningCategory, LearningContent, LearningSource
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.model.scope import Scope
from groove_core.model.serde import from_rfc3339, to_rfc3339
from groove_core.model.usage import Outcome, UsageStats, usage_from_json, usage_to_json

RUST_LEARNING = """{
  "id": "0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b",
  "scope": {"Project": "/home/alex/repo"},
  "category": "ErrorRecovery",
  "content": {"description": "Retry on lock", "pattern": {"language": "rust"},
              "insight": "When SQLite says busy, back off and retry"},
  "confidence": 0.75,
  "created_at": "2025-01-02T03:04:05.123456789Z",
  "updated_at": "2025-01-02T05:04:05+02:00",
  "source": {"Transcript": {"session_id": "s1", "message_index": 5}}
}"""


def test_reads_a_learning_as_serde_writes_it():
    lr = Learning.from_json(json.loads(RUST_LEARNING))
    assert lr.scope == Scope("project", "/home/alex/repo")
    assert lr.category is LearningCategory.ERROR_RECOVERY
    assert lr.content.pattern == {"language": "rust"}
    assert lr.source.kind == "transcript"
    assert lr.source.data == {"session_id": "s1", "message_index": 5}
    assert lr.created_at == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert lr.updated_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_writes_serde_form_and_round_trips():
    lr = Learning.from_json(json.loads(RUST_LEARNING))
    out = lr.to_json()
    assert out["category"] == "ErrorRecovery"
    assert out["scope"] == {"Project": "/home/alex/repo"}
    assert out["source"] == {"Transcript": {"session_id": "s1", "message_index": 5}}
    assert out["updated_at"] == "2025-01-02T03:04:05Z"
    assert Learning.from_json(out) == lr


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("UserCreated", "user_created"),
        (
            {
                "Promoted": {
                    "from_scope": {"User": "alex"},
                    "original_id": "0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b",
                }
            },
            "promoted",
        ),
        (
            {"Imported": {"source_file": "CLAUDE.md", "imported_at": "2025-01-01T00:00:00Z"}},
            "imported",
        ),
        ({"EnterpriseCurated": {"curator": "dana"}}, "enterprise_curated"),
    ],
)
def test_every_source_variant(source, kind):
    parsed = LearningSource.from_json(source)
    assert parsed.kind == kind
    assert parsed.to_json() == source


def test_scopes_db_strings_and_json():
    for text, js in [
        ("global", "Global"),
        ("user:alex", {"User": "alex"}),
        ("project:/a:b", {"Project": "/a:b"}),
        ("enterprise:acme", {"Enterprise": "acme"}),
    ]:
        scope = Scope.parse(text)
        assert scope.to_db() == text
        assert scope.to_json() == js
        assert Scope.from_json(js) == scope
    for bad in ["unknown:x", "user:", "", "global:x", 5]:
        with pytest.raises(ValidationError):
            Scope.parse(bad)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(category="Nonsense"),
        lambda d: d.update(id="not-a-uuid"),
        lambda d: d.update(confidence="high"),
        lambda d: d.update(confidence=1.5),
        lambda d: d.update(created_at="yesterday"),
        lambda d: d.update(created_at="2025-01-02T03:04:05"),  # no offset
        lambda d: d["content"].pop("insight"),
        lambda d: d.update(source={"Imported": {"source_file": 3}}),
        lambda d: d.update(scope={"User": "a", "Project": "b"}),
    ],
)
def test_malformed_learning_json_is_refused(mutate):
    data = json.loads(RUST_LEARNING)
    mutate(data)
    with pytest.raises(ValidationError):
        Learning.from_json(data)


def test_timestamps_like_chrono():
    assert to_rfc3339(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00Z"
    assert (
        to_rfc3339(datetime(2025, 1, 1, 0, 0, 0, 120000, tzinfo=UTC)) == "2025-01-01T00:00:00.120Z"
    )
    assert (
        to_rfc3339(datetime(2025, 1, 1, 0, 0, 0, 120001, tzinfo=UTC))
        == "2025-01-01T00:00:00.120001Z"
    )
    assert from_rfc3339("2025-01-01T00:00:00.5Z").microsecond == 500000


def test_usage_stats_follow_the_seed():
    stats = UsageStats()
    assert stats.confidence() == 0.5
    stats.record_outcome(Outcome.HELPFUL)
    stats.record_outcome(Outcome.IGNORED)
    stats.record_outcome(Outcome.CONTRADICTED)
    assert (stats.confidence_alpha, stats.confidence_beta) == (2.0, pytest.approx(2.6))
    assert (
        stats.times_injected,
        stats.times_helpful,
        stats.times_ignored,
        stats.times_contradicted,
    ) == (3, 1, 1, 1)
    assert stats.last_used is not None
    js = usage_to_json(stats)
    assert usage_from_json(js) == UsageStats(
        **{**stats.__dict__, "last_used": from_rfc3339(js["last_used"])}
    )
    assert "last_used" not in usage_to_json(UsageStats())


def test_adaptive_param_update_and_thompson_sample():
    import numpy as np

    p = AdaptiveParam.with_prior(8, 2)
    assert p.value == pytest.approx(0.8)
    p = AdaptiveParam()
    p.update(1.0, 1.0)
    # weight 1 / (1 + uncertainty 1) = 0.5 towards alpha
    assert (p.prior_alpha, p.prior_beta, p.observations) == (1.5, 1.0, 1)
    assert p.value == pytest.approx(0.6)
    assert p.uncertainty == pytest.approx(0.5)
    draws = [p.sample(np.random.default_rng(i)) for i in range(200)]
    assert all(0 <= d <= 1 for d in draws)
    assert np.mean(draws) == pytest.approx(0.6, abs=0.05)
    sp = SystemParam("injection_budget", p)
    assert SystemParam.from_json(json.loads(json.dumps(sp.to_json()))) == sp


def test_thompson_draws_follow_the_beta_posterior():
    """The draws are Beta(alpha, beta): the same stream as scipy.stats.beta for a seed, and
    a Kolmogorov-Smirnov test against scipy's Beta CDF does not reject them."""
    import numpy as np
    from scipy import stats

    p = AdaptiveParam.with_prior(3.5, 7.25)
    assert p.sample(np.random.default_rng(11)) == pytest.approx(
        stats.beta(3.5, 7.25).rvs(random_state=np.random.default_rng(11))
    )
    rng = np.random.default_rng(3)
    draws = [p.sample(rng) for _ in range(2000)]
    assert stats.kstest(draws, stats.beta(3.5, 7.25).cdf).pvalue > 0.001
    assert 0.0 <= p.sample() <= 1.0  # no generator given: a fresh one


def test_relation_json():
    rel = LearningRelation(
        "0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b",
        RelationType.SUPERSEDES,
        "0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7c",
        0.5,
    )
    js = rel.to_json()
    assert js["relation_type"] == "Supersedes"
    assert LearningRelation.from_json(js) == rel


def test_content_limits():
    with pytest.raises(ValidationError):
        LearningContent("  ", "x")
    with pytest.raises(ValidationError):
        LearningContent("x" * 100_001, "x")


@pytest.mark.parametrize(
    ("outcome", "weight"),
    [
        (float("nan"), 1.0),
        (0.5, float("nan")),
        (0.5, float("inf")),
        (float("inf"), 1.0),
        (0.5, -1.0),
        (1.5, 1.0),
        ("0.5", 1.0),
        (True, 1.0),
    ],
)
def test_adaptive_param_refuses_nan_and_infinite_updates(outcome, weight):
    """Issue 10: update() accepted NaN and infinite weights. A refused update changes
    nothing."""
    p = AdaptiveParam.with_prior(3.0, 2.0)
    p.update(0.7, 2.0)
    before = p.to_json()
    with pytest.raises(ValidationError):
        p.update(outcome, weight)
    assert p.to_json() == before


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0.0, -1.0])
def test_adaptive_param_prior_must_be_finite_and_positive(bad):
    with pytest.raises(ValidationError):
        AdaptiveParam.with_prior(bad, 2.0)
    with pytest.raises(ValidationError):
        AdaptiveParam(prior_alpha=1.0, prior_beta=bad)
