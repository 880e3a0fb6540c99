"""AttributionStore (seed 003): round trips for every relation, ranked values, time
ranges, bulk atomicity, deprecation with history, experiments and write-back."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from conftest import as_principal, make_learning

from groove_core.analysis import ablation
from groove_core.analysis.evidence import value_trend
from groove_core.errors import DatabaseError, GrooveError, NotFoundError, ValidationError
from groove_core.experiments import analyze_experiment
from groove_core.model.attribution import (
    AblationExperiment,
    AblationResult,
    AttributionRecord,
    EmbeddingSimilarity,
    ExplicitReference,
    LearningStatus,
    LearningValue,
    SessionOutcome,
)
from groove_core.model.serde import now
from groove_core.model.usage import OutcomeEvent
from groove_core.store.attribution import AttributionStore

T0 = now() - timedelta(days=10)


@pytest.fixture
def attr(store):
    return AttributionStore(store.db, store)


@pytest.fixture
def two(store):
    a = make_learning("Use tabs", "Indent with tabs", "preference")
    b = make_learning("Prefer pathlib", "Use pathlib over os.path", "code_pattern")
    store.store_many([a, b])
    return a, b


def record(lid, sid, t, value=0.2, withheld=False, activated=True):
    return AttributionRecord(
        learning_id=lid,
        session_id=sid,
        timestamp=t,
        was_activated=activated,
        activation_confidence=0.9 if activated else 0.1,
        activation_signals=(EmbeddingSimilarity(0.81, 2), ExplicitReference('it\'s "x"', 7))
        if activated
        else (),
        temporal_positive=0.5,
        temporal_negative=0.25,
        net_temporal=0.25,
        was_withheld=withheld,
        session_outcome=0.7,
        attributed_value=value,
    )


def value(lid, est=0.1, status=None):
    return LearningValue(
        lid, est, 0.8, 12, 0.5, 0.2, 0.6, None, 0.75, status or LearningStatus.active(), T0
    )


# ---------------------------------------------------------------- serde forms
def test_serde_forms_are_what_rust_writes():
    sig = EmbeddingSimilarity(0.85, 5)
    rec = record("01a1fe89-96fc-7a6b-ba4c-2bd7047abdf4", "s1", T0)
    data = rec.to_json()
    assert data["activation_signals"][0] == {
        "EmbeddingSimilarity": {"score": 0.81, "message_idx": 2}
    }
    assert data["timestamp"].endswith("Z")
    assert AttributionRecord.from_json(json.loads(json.dumps(data))) == rec
    assert json.loads(rec.signals_json())[1] == {
        "ExplicitReference": {"pattern": 'it\'s "x"', "message_idx": 7}
    }
    assert sig.score == 0.85
    assert LearningStatus.active().to_db() == '"Active"'
    assert LearningStatus.experimental().to_db() == '"Experimental"'
    dep = LearningStatus.deprecated("low value")
    assert json.loads(dep.to_db()) == {"Deprecated": {"reason": "low value"}}
    for text in ('"Active"', "Active", "active"):
        assert LearningStatus.from_db(text) == LearningStatus.active()
    assert LearningStatus.from_db(dep.to_db()) == dep
    assert LearningStatus.from_db("deprecated", "old") == LearningStatus.deprecated("old")
    with pytest.raises(ValidationError):
        LearningStatus.from_db('{"Retired": null}')
    exp = AblationExperiment(
        "01a1fe89-96fc-7a6b-ba4c-2bd7047abdf4",
        T0,
        (SessionOutcome("s1", 0.5, T0),),
        (),
        AblationResult(0.1, 0.9, True),
    )
    assert AblationExperiment.from_json(exp.to_json()) == exp
    assert exp.to_json()["sessions_with"][0] == {
        "session_id": "s1",
        "outcome": 0.5,
        "timestamp": exp.to_json()["started_at"],
    }
    v = value("01a1fe89-96fc-7a6b-ba4c-2bd7047abdf4", status=dep)
    assert LearningValue.from_json(v.to_json()) == v
    with pytest.raises(ValidationError):
        EmbeddingSimilarity(float("nan"), 1)
    with pytest.raises(ValidationError):
        ExplicitReference("x", -1)


# ---------------------------------------------------------------- round trips
def test_attribution_round_trip(attr, two):
    a, b = two
    r1, r2 = record(a.id, "s1", T0), record(b.id, "s1", T0 + timedelta(hours=1), -0.1)
    attr.store_attribution(r1)
    attr.store_attribution(r2)
    assert attr.get_attributions_for_learning(a.id) == [r1]
    assert attr.get_attributions_for_session("s1") == [r1, r2]  # best value first
    assert attr.get_attributions_for_session("nope") == []
    # replacing the same key
    r1b = record(a.id, "s1", T0, 0.5)
    attr.store_attribution(r1b)
    assert attr.get_attributions_for_learning(a.id) == [r1b]


def test_learning_value_round_trip(attr, two):
    a, b = two
    assert attr.get_learning_value(a.id) is None
    v = value(a.id, status=LearningStatus.deprecated('it\'s "bad"'))
    attr.update_learning_value(v)
    assert attr.get_learning_value(a.id) == v
    raw = attr.db.run(
        "?[status] := *learning_value{learning_id, status}, learning_id = $id", {"id": a.id}
    ).scalar()
    assert json.loads(raw) == {"Deprecated": {"reason": 'it\'s "bad"'}}
    nulls = LearningValue(
        b.id, -0.2, 0.1, 0, 0.0, 0.0, 0.0, None, None, LearningStatus.experimental(), T0
    )
    attr.update_learning_value(nulls)
    assert attr.get_learning_value(b.id) == nulls


def test_experiment_round_trip(attr, two):
    a, _ = two
    exp = AblationExperiment(
        a.id,
        T0,
        tuple(SessionOutcome(f"w{i}", 0.5 + i / 10, T0 + timedelta(hours=i)) for i in range(3)),
        (SessionOutcome("o1", 0.25, T0),),
    )
    attr.update_experiment(exp)
    assert attr.get_experiment(a.id) == exp
    done = AblationExperiment(
        a.id, T0, exp.sessions_with, exp.sessions_without, AblationResult(0.3, 0.97, True)
    )
    attr.update_experiment(done)
    assert attr.get_experiment(a.id) == done
    assert attr.get_experiment(two[1].id) is None


def test_rows_written_by_rust_are_read(attr, two):
    """A row as vibes-groove writes it (its own JSON strings, lower-case status word)."""
    a, _ = two
    attr.db.run(
        "?[learning_id, estimated_value, confidence, session_count, activation_rate, "
        "temporal_value, temporal_confidence, ablation_value, ablation_confidence, status, "
        "updated_at] <- [[$id, 0.5, 0.5, 3, 0.3, 0.1, 0.2, null, null, 'active', 1700000000]] "
        ":put learning_value {learning_id => estimated_value, confidence, session_count, "
        "activation_rate, temporal_value, temporal_confidence, ablation_value, "
        "ablation_confidence, status, updated_at}",
        {"id": a.id},
    )
    assert attr.get_learning_value(a.id).status == LearningStatus.active()
    attr.db.run(
        "?[learning_id, session_id, timestamp, was_activated, activation_confidence, "
        "activation_signals_json, temporal_positive, temporal_negative, net_temporal, "
        "was_withheld, session_outcome, attributed_value] <- [[$id, 'rs', 1700000000, true, "
        "0.9, $sig, 0.1, 0.0, 0.1, false, 0.8, 0.05]] :put attribution {learning_id, "
        "session_id => timestamp, was_activated, activation_confidence, "
        "activation_signals_json, temporal_positive, temporal_negative, net_temporal, "
        "was_withheld, session_outcome, attributed_value}",
        {"id": a.id, "sig": '[{"EmbeddingSimilarity":{"score":0.85,"message_idx":5}}]'},
    )
    (rec,) = attr.get_attributions_for_session("rs")
    assert rec.activation_signals == (EmbeddingSimilarity(0.85, 5),)


# ---------------------------------------------------------------- queries
def test_ranked_values(attr, store):
    ls = [make_learning(f"learning {i}") for i in range(6)]
    store.store_many(ls)
    ests = [0.3, -0.2, 0.1, -0.5, 0.0, 0.2]
    attr.store_bulk(values=[value(lr.id, e) for lr, e in zip(ls, ests, strict=True)])
    top = attr.ranked_values(limit=3)
    assert [v.estimated_value for v in top] == [0.3, 0.2, 0.1]
    neg = attr.ranked_values(limit=10, negative=True)
    assert [v.estimated_value for v in neg] == [-0.5, -0.2]
    assert [v.estimated_value for v in attr.list_learning_values(2)] == [0.3, 0.2]
    only = attr.ranked_values(limit=10, learning_ids=[ls[1].id, ls[2].id])
    assert [v.learning_id for v in only] == [ls[2].id, ls[1].id]


def test_time_range_and_category(attr, two):
    a, b = two
    recs = [
        record(a.id if i % 2 else b.id, f"s{i}", T0 + timedelta(days=i), 0.1 * i) for i in range(6)
    ]
    attr.store_bulk(attributions=recs)
    got = attr.attributions_between(T0 + timedelta(days=1), T0 + timedelta(days=4))
    assert [r.session_id for r in got] == ["s1", "s2", "s3"]  # until is exclusive
    assert [r.session_id for r in attr.attributions_between(since=T0 + timedelta(days=4))] == [
        "s4",
        "s5",
    ]
    prefs = attr.attributions_between(category="preference")
    assert {r.learning_id for r in prefs} == {a.id}
    by_ids = attr.attributions_between(learning_ids=[b.id], limit=2)
    assert [r.session_id for r in by_ids] == ["s0", "s2"]
    frame = attr.attribution_frame(T0, T0 + timedelta(days=3))
    assert list(frame["session_id"]) == ["s0", "s1", "s2"]
    assert attr.time_bounds()[0] == T0
    with pytest.raises(ValidationError):
        attr.attributions_between(T0, T0 - timedelta(days=1))


def test_leaderboard_and_timeline(attr, two):
    a, b = two
    attr.store_bulk(
        attributions=[
            record(a.id, "s1", T0, 0.4),
            record(a.id, "s2", T0 + timedelta(hours=1), 0.2),
            record(a.id, "s3", T0 + timedelta(hours=2), 0.0, withheld=True, activated=False),
            record(b.id, "s1", T0, -0.3),
        ],
        values=[value(a.id, 0.3)],
    )
    board = attr.leaderboard()
    assert list(board["learning_id"]) == [a.id, b.id]
    row = board.iloc[0]
    assert (row.sessions, row.activated, row.withheld) == (3, 2, 1)
    assert row.total_value == pytest.approx(0.6) and row.mean_value == pytest.approx(0.3)
    assert row.confidence == 0.8 and row.status == "active"
    assert board.iloc[1].session_count == 0
    assert list(attr.leaderboard(category="code_pattern")["learning_id"]) == [b.id]
    tl = attr.session_timeline()
    assert list(tl["session_id"]) == ["s1", "s2", "s3"]
    assert tl.iloc[0]["learnings"][0]["learning_id"] == a.id
    assert (tl.iloc[0]["injected"], tl.iloc[2]["withheld"]) == (2, 1)
    assert not tl["synthetic"].any()


# ---------------------------------------------------------------- bulk
def test_bulk_write_is_atomic(attr, two):
    a, b = two
    good = [record(a.id, f"s{i}", T0) for i in range(3)]
    bad_value = value(b.id)
    object.__setattr__(bad_value, "confidence", "not a number")  # slips past the model
    with pytest.raises(DatabaseError):
        attr.store_bulk(
            attributions=good,
            values=[value(a.id), bad_value],
            outcomes=[OutcomeEvent(a.id, "helpful", T0, "s0")],
        )
    assert attr.get_attributions_for_learning(a.id) == []
    assert attr.get_learning_value(a.id) is None
    assert attr.learnings.outcome_events(a.id) == []
    assert attr.learnings.usage(a.id).times_injected == 0


def test_bulk_outcomes_match_record_outcome(attr, store, two):
    a, b = two
    seq = ["helpful", "ignored", "contradicted", "helpful"]
    attr.store_bulk(
        outcomes=[
            OutcomeEvent(a.id, o, T0 + timedelta(minutes=i), f"x{i}") for i, o in enumerate(seq)
        ]
    )
    for i, o in enumerate(seq):
        store.record_outcome(b.id, o, session_id=f"x{i}", at=T0 + timedelta(minutes=i))
    ua, ub = store.usage(a.id), store.usage(b.id)
    assert ua == ub
    assert store.get(a.id).confidence == pytest.approx(store.get(b.id).confidence)
    assert [e["outcome"] for e in store.outcome_events(a.id)] == seq


# ---------------------------------------------------------------- curation
def test_deprecate_writes_status_and_history(attr, store, two):
    a, _ = two
    attr.update_learning_value(value(a.id, 0.3))
    out = attr.deprecate(a.id, "contradicts the style guide", actor=as_principal("curator"))
    assert out.status == LearningStatus.deprecated("contradicts the style guide")
    stored = attr.get_learning_value(a.id)
    assert stored.status.is_deprecated and stored.estimated_value == 0.3
    last = store.history(a.id)[-1]
    assert (last.action, last.who) == ("deprecated", "curator")
    assert last.before == {"status": "Active"}
    assert last.after["reason"] == "contradicts the style guide"
    with pytest.raises(ValidationError):
        attr.deprecate(a.id, "  ")
    with pytest.raises(NotFoundError):
        attr.deprecate("01a1fe89-96fc-7a6b-ba4c-2bd7047abdf4", "x")


def test_deprecate_without_value_creates_one(attr, two):
    _, b = two
    attr.deprecate(b.id, "never helps")
    assert attr.get_learning_value(b.id).status == LearningStatus.deprecated("never helps")


def test_experiments_by_state_and_write_back(attr, store, two):
    a, b = two
    attr.update_learning_value(value(a.id))
    exp = attr.start_experiment(a.id)
    assert attr.get_learning_value(a.id).status == LearningStatus.experimental()
    assert store.history(a.id)[-1].action == "experiment_started"
    with pytest.raises(GrooveError):
        attr.start_experiment(a.id)
    attr.start_experiment(b.id)
    assert {e.learning_id for e in attr.experiments("running")} == {a.id, b.id}
    assert attr.experiments("concluded") == []
    with_ = tuple(SessionOutcome(f"w{i}", 0.8 + (i % 5) / 10, T0) for i in range(25))
    # (paired in session order the differences vary: a constant difference would carry no
    # noise estimate, and the sequential interval stays unbounded)
    without = tuple(SessionOutcome(f"o{i}", 0.4 + ((i + 2) % 5) / 10, T0) for i in range(25))
    attr.update_experiment(AblationExperiment(a.id, exp.started_at, with_, without))
    done = analyze_experiment(attr, a.id)
    expected = ablation.analyze([s.outcome for s in with_], [s.outcome for s in without])
    assert done.analysis == expected
    assert (
        done.result.marginal_value,
        done.result.confidence,
        done.result.is_significant,
    ) == ablation.to_result(expected)
    stored = attr.get_experiment(a.id)
    assert stored.result == done.result and stored.state == "concluded"
    # written back in the seed's columns of ablation_experiment
    raw = attr.db.run(
        "?[marginal_value, confidence, is_significant] := *ablation_experiment{learning_id, "
        "marginal_value, confidence, is_significant}, learning_id = $id",
        {"id": a.id},
    ).rows
    assert raw == [[done.result.marginal_value, done.result.confidence, True]]
    assert attr.get_learning_value(a.id).ablation_value == done.result.marginal_value
    assert [e.learning_id for e in attr.experiments("concluded")] == [a.id]
    assert attr.coverage() == (2, 2)
    # too few sessions: nothing to write back
    assert analyze_experiment(attr, b.id).result is None
    assert attr.get_experiment(b.id).result is None
    with pytest.raises(ValidationError):
        attr.experiments("paused")


def test_value_trend():
    import numpy as np
    import pandas as pd
    from scipy import stats

    vals = [0.1, 0.3, -0.1, 0.2, 0.4]
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=5, tz="UTC"),
            "attributed_value": vals,
            "was_withheld": [False] * 5,
        }
    )
    tr = value_trend(frame, window=3)
    assert list(tr["cumulative"]) == pytest.approx(np.cumsum(vals))
    last = np.array(vals[-3:])
    half = stats.t.ppf(0.975, 2) * last.std(ddof=1) / np.sqrt(3)
    assert tr["rolling_mean"].iloc[-1] == pytest.approx(last.mean())
    assert tr["rolling_high"].iloc[-1] == pytest.approx(last.mean() + half)
    assert np.isnan(tr["rolling_low"].iloc[0])
    frame.loc[1, "was_withheld"] = True  # withheld sessions say nothing of its value
    assert list(value_trend(frame, window=3)["attributed_value"]) == [0.1, -0.1, 0.2, 0.4]
    for bad in [{"window": 1}, {"window": 2.5}, {"level": 1.0}]:
        with pytest.raises(ValidationError):
            value_trend(frame, **bad)
    with pytest.raises(ValidationError):
        value_trend(frame.drop(columns=["attributed_value"]))


def test_deprecation_candidates_of_a_tier_are_every_learning_the_rule_picks(attr, store):
    """The tier-level list (usage rows scanned, learnings without any added only when the
    prior itself qualifies) equals the rule applied with scipy to every learning."""
    from scipy import stats

    from groove_core.experiments import deprecation_candidates

    learnings = [make_learning(f"Rule {i}", f"insight {i}") for i in range(12)]
    store.store_many(learnings)
    ids = [lr.id for lr in learnings]
    # 0-3 contradicted often, 4-7 helpful, 8-11 never used and, as another program may
    # leave them, without a usage row (the prior Beta(1, 1))
    store.db.run(
        "?[learning_id] <- $ids :rm usage_stats {learning_id}", {"ids": [[i] for i in ids[8:]]}
    )
    events = [
        OutcomeEvent(lid, "contradicted" if k < 4 else "helpful", session_id=f"s{k}-{n}")
        for k, lid in enumerate(ids[:8])
        for n in range(8 + k)
    ]
    store.record_outcomes(events)
    attr.deprecate(ids[1], "superseded")
    # a usage row another program left behind its deleted learning
    store.db.run(
        "?[learning_id, times_injected, times_helpful, times_ignored, times_contradicted, "
        "last_used, confidence_alpha, confidence_beta] <- [[$id, 9, 0, 0, 9, null, 1.0, 14.5]] "
        ":put usage_stats {learning_id => times_injected, times_helpful, times_ignored, "
        "times_contradicted, last_used, confidence_alpha, confidence_beta}",
        {"id": str(uuid.uuid4())},
    )

    def expected(min_evidence, threshold_prob):
        out = []
        for lid in ids:
            u = store.usage(lid)
            a, b = u.confidence_alpha, u.confidence_beta
            rarely = a + b - 2 >= min_evidence and stats.beta.cdf(0.3, a, b) >= threshold_prob
            if rarely and lid != ids[1]:
                out.append(lid)
        return sorted(out)

    found = deprecation_candidates(attr, [])
    assert list(found["id"]) == expected(10, 0.9) == sorted([ids[0], ids[2], ids[3]])
    loose = deprecation_candidates(attr, [], min_evidence=0, threshold_prob=0.2)
    assert list(loose["id"]) == expected(0, 0.2)
    assert set(ids[8:]) <= set(loose["id"])  # the prior qualifies: unused learnings too
