"""The open-world simulation: real text in, known structure out, reproducible, removable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import CORPUS, make_learning, needs_corpus

from groove_core.model.openworld import FailureRecord, GapStatus
from groove_core.simulate import remove_openworld_simulation, simulate_openworld
from groove_core.simulate.openworld import THEMES, corpus_lines
from groove_core.tiers import Groove

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def tier(tmp_path, embedder):
    g = Groove(tmp_path / "home", embedder=embedder, project=tmp_path)
    t = g.tier("simulation:test")  # the simulators write nowhere else
    t.learnings.store_many(
        [
            make_learning(f"Prefer tool {i}", f"Use tool {i} for task {i % 4}", "tool_usage")
            for i in range(12)
        ]
    )
    yield t
    g.close()


def snapshot(ow):
    return (
        sorted(
            (f.hash, f.context_summary, f.associated_learning, f.created_at)
            for f in ow.load_fingerprints()
        ),
        sorted((c.id, c.members) for c in ow.load_clusters()),
        sorted((g.id, g.status, g.severity, g.failure_count) for g in ow.load_gaps()),
        sorted(f.id for f in ow.recent_failures(10_000)),
        sorted(e.id for e in ow.load_novelty_events(limit=10_000)),
    )


@needs_corpus
def test_simulation_structure_reproducible_and_removable(tier, embedder):
    ow = tier.openworld
    real = ow.load_fingerprints()
    assert real == []
    stages = []
    rep = simulate_openworld(
        tier,
        seed=3,
        corpus_dir=CORPUS,
        n_contexts=120,
        now=NOW,
        progress=lambda p: stages.append((p.stage, p.done)),
    )
    assert stages[-1] == ("done", 1.0)
    assert rep.fingerprints == 120 and rep.novel + rep.familiar == 120
    assert rep.from_learnings > 0 and rep.from_corpus > 0
    assert rep.clusters == 3 and rep.gaps == 4
    fps = ow.load_fingerprints()
    assert len(fps) == 120
    assert sum(f.associated_learning is not None for f in fps) == rep.from_learnings
    clusters = ow.load_clusters()
    assert sorted(c.size for c in clusters) == sorted(rep.themes[THEMES[t][0]] for t in range(3))
    gaps = ow.load_gaps()
    assert {g.context_pattern for g in gaps} == {THEMES[t][0] for t in range(4)}
    by_name = {g.context_pattern: g for g in gaps}
    assert by_name["Terraform state drift"].status == GapStatus.RESOLVED
    helm = by_name["Helm release rollback"]
    assert helm.status == GapStatus.IN_PROGRESS
    hist = ow.gap_history(helm.id)
    assert [h.new_status for h in hist] == [
        GapStatus.DETECTED,
        GapStatus.CONFIRMED,
        GapStatus.IN_PROGRESS,
    ]
    assert all(h.who == "simulation" for h in hist)
    # each gap comes from its cluster, and its failures lie in its contexts
    assert ow.gap_clusters(helm.id)[0][1] == rep.themes["Helm release rollback"]
    fails = ow.gap_failures(helm.id)
    assert len(fails) == 14 and all(isinstance(f, FailureRecord) for f in fails)
    assert rep.events == len(ow.load_novelty_events(limit=10_000))
    embedded = embedder.texts

    # same seed and time: the same rows (and nothing embedded again)
    first = snapshot(ow)
    remove_openworld_simulation(tier)
    assert snapshot(ow) == ([], [], [], [], [])
    simulate_openworld(tier, seed=3, corpus_dir=CORPUS, n_contexts=120, now=NOW)
    assert snapshot(ow) == first
    assert embedder.texts == embedded

    # a real fingerprint added to a synthetic cluster survives removal
    from groove_core.model.openworld import PatternFingerprint, context_hash

    vec = tier.learnings.embed_texts(["a real context about helm charts"])[0]
    mine = PatternFingerprint(
        context_hash("a real context about helm charts"), vec, "a real context about helm charts"
    )
    ow.save_fingerprint(mine)
    ow.add_cluster_members(clusters[0].id, [mine.hash])
    removed = remove_openworld_simulation(tier, rep.run_id)
    assert removed["fingerprint"] == 120 and removed["cluster"] == 3
    assert [f.hash for f in ow.load_fingerprints()] == [mine.hash]
    assert ow.load_clusters() == [] and ow.load_gaps() == []
    assert ow.counts()["cluster_member"] == 0 and ow.counts()["gap_history"] == 0
    # the cluster-update event the person caused is not synthetic and stays
    assert {e.event_type for e in ow.load_novelty_events(limit=100)} == {"cluster_updated"}


def test_other_seed_differs_and_small_sizes(tier):
    a = simulate_openworld(tier, seed=1, n_contexts=40, now=NOW)
    ow = tier.openworld
    one = {f.hash for f in ow.load_fingerprints()}
    b = simulate_openworld(tier, seed=2, n_contexts=40, now=NOW)
    assert a.run_id != b.run_id
    assert ow.synthetic_runs().keys() == {a.run_id, b.run_id}
    remove_openworld_simulation(tier, a.run_id)
    assert ow.synthetic_runs().keys() == {b.run_id}
    assert {f.hash for f in ow.load_fingerprints()} != one
    with pytest.raises(Exception, match="at least 40"):
        simulate_openworld(tier, n_contexts=10)


@needs_corpus
def test_corpus_lines_are_prose():
    lines = corpus_lines(CORPUS, limit_files=20)
    assert len(lines) > 50
    assert all(40 <= len(x) <= 220 and not x.startswith(("#", "```", "---")) for x in lines)


def test_a_real_tier_is_refused(tmp_path, embedder):
    from groove_core.errors import GrooveError

    with Groove(tmp_path / "home", embedder=embedder, project=tmp_path) as g:
        g.user.learnings.store_many([make_learning("Prefer tool", "Use tool")])
        with pytest.raises(GrooveError, match="simulation tier"):
            simulate_openworld(g.user, seed=1, n_contexts=40, now=NOW)
        assert g.user.openworld.load_fingerprints() == []
