"""Search over a tier: semantic (HNSW), full-text (BM25) and hybrid (RRF), with filters,
score breakdowns, edits visible to the next search, hostile query strings, and the bulk
load that rebuilds the HNSW index."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DenseEmbedder, HashingEmbedder, make_learning

from groove_core.errors import DatabaseError, ValidationError
from groove_core.store import embeddings as learnings_module
from groove_core.store.embeddings import text_for_embedding
from groove_core.store.listing import LearningFilter
from groove_core.store.search import RRF_K, SearchStore
from groove_core.tiers import Groove


@pytest.fixture
def seeded(store):
    items = {
        "tabs": make_learning("Use tabs for indentation", "Indent code with tabs"),
        "docker": make_learning(
            "Cache docker layers", "Order the Dockerfile so dependencies cache", "tool_usage"
        ),
        "retry": make_learning(
            "Retry when the database is locked", "Back off exponentially", "error_recovery"
        ),
        "quotes": make_learning("Prefer double quotes", "Strings use double quotes"),
    }
    store.store_many(list(items.values()))
    return items


@pytest.mark.parametrize("mode", ["semantic", "fulltext", "hybrid"])
def test_each_mode_finds_the_learning_about_the_query(store, seeded, mode):
    hits = SearchStore(store).search("docker layers cache", mode=mode, limit=3)
    assert hits[0].learning.id == seeded["docker"].id
    assert hits[0].mode == mode
    assert hits[0].learning.tier == "user"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_score_is_the_reciprocal_rank_fusion_of_both_legs(store, seeded):
    search = SearchStore(store)
    hits = search.search("retry locked database", mode="hybrid", limit=4)
    sem = [i for i, _ in search.semantic_ranked("retry locked database", 50)]
    txt = [i for i, _ in search.fulltext_ranked("retry locked database", 50)]
    for hit in hits:
        expected = 0.0
        if hit.learning.id in sem:
            assert hit.semantic_rank == sem.index(hit.learning.id) + 1
            expected += 1 / (RRF_K + hit.semantic_rank)
        else:
            assert hit.semantic_rank is None
        if hit.learning.id in txt:
            assert hit.text_rank == txt.index(hit.learning.id) + 1
            expected += 1 / (RRF_K + hit.text_rank)
        else:
            assert hit.text_rank is None and hit.text_score is None
        assert hit.score == pytest.approx(expected, abs=1e-12)
    top = hits[0]
    assert top.learning.id == seeded["retry"].id
    assert top.semantic_rank == 1 and top.text_rank == 1 and top.text_score > 0


def test_an_edit_is_visible_to_the_next_search(store, seeded):
    search = SearchStore(store)
    lid = seeded["tabs"].id
    assert [h.learning.id for h in search.search("tabs", mode="fulltext")] == [lid]
    store.update(lid, description="Use spaces for indentation", insight="Indent with spaces")
    assert search.search("tabs", mode="fulltext") == []
    assert [h.learning.id for h in search.search("spaces", mode="fulltext")] == [lid]
    hybrid = {h.learning.id: h for h in search.search("tabs", mode="hybrid")}
    assert lid not in hybrid or hybrid[lid].text_rank is None
    # the stored embedding is the one of the new text
    new_text = text_for_embedding(store.require(lid).content)
    (best_id, best_score), *_ = search.semantic_ranked(store.embed_query(new_text), 1)
    assert best_id == lid and best_score == pytest.approx(1.0, abs=1e-5)


def test_filters_narrow_every_mode(store, seeded):
    search = SearchStore(store)
    flt = LearningFilter(category="preference")
    for mode in ("semantic", "fulltext", "hybrid"):
        hits = search.search("docker cache quotes tabs", mode=mode, limit=10, flt=flt)
        assert hits, mode
        assert {h.learning.category.value for h in hits} == {"preference"}, mode


@pytest.mark.parametrize("limit", [10, 50])
def test_a_selective_filter_among_many_identical_learnings_finds_its_rows(tmp_path, limit):
    """300 identical learnings and two others: a search filtered to the code pattern or to
    the learning the content scan flagged returns exactly that one in every mode (the
    filtered rows lay beyond the first 8 x limit matches; hnswlib refused a walk over
    identical vectors), and an unfiltered search still returns ``limit`` rows."""
    key, secret = "AKIA" + "IOSFODNN7" + "EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfi" + "CYEXAMPLEKEY"
    pattern = make_learning("Deploy the service", "deploy with make deploy", "code_pattern")
    marked = make_learning("Deploy the service", f"deploy with {key} {secret}")
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        same = [make_learning("Deploy the service", "deploy deploy") for _ in range(300)]
        g.user.learnings.store_many([*same, pattern, marked])
        for mode in ("semantic", "fulltext", "hybrid"):
            hits = g.search("deploy the service", mode=mode, limit=limit)
            assert len(hits) == limit, mode
            for flt, wanted in (
                (LearningFilter(category="code_pattern"), pattern),
                (LearningFilter(flagged=True), marked),
            ):
                hits = g.search("deploy the service", mode=mode, limit=limit, flt=flt)
                assert [h.learning.id for h in hits] == [wanted.id], (mode, flt)


def test_semantic_search_of_a_small_tier_is_the_exact_cosine_ranking(store):
    """Where the neighbours asked for are half the tier or more, the ranking and the
    scores are numpy's exact cosine over the same vectors."""
    store.embedder = DenseEmbedder()
    learnings = [make_learning(f"Learning {i}", f"insight number {i}") for i in range(40)]
    store.store_many(learnings)
    vectors = _vectors(store, learnings)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = DenseEmbedder().embed(["what to look for"])[0]
    scores = vectors @ query
    expected = [learnings[i].id for i in np.argsort(-scores, kind="stable")[:20]]
    found = SearchStore(store).semantic_ranked(query, 20)
    assert [i for i, _ in found] == expected
    assert np.allclose([s for _, s in found], np.sort(scores)[::-1][:20], atol=1e-5)


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        '"unbalanced',
        "tabs AND NOT spaces NEAR/2 x*",
        "?[id] := *learning{id} :rm learning {id}",
        "$q $limit",
        "{} [] () <> ::relations",
        "tabs\u0000spaces",
        "インデントにはタブ",
        "x" * 5000,
    ],
)
def test_hostile_queries_are_just_text(store, seeded, query):
    search = SearchStore(store)
    for mode in ("semantic", "fulltext", "hybrid"):
        search.search(query, mode=mode, limit=5)
    assert store.count() == len(seeded)


def test_bad_arguments_are_refused(store, seeded):
    search = SearchStore(store)
    with pytest.raises(ValidationError, match="unknown search mode"):
        search.search("tabs", mode="fuzzy")
    with pytest.raises(ValidationError, match="limit"):
        search.search("tabs", limit=0)
    assert search.search("   ") == []


def test_search_spans_tiers_and_each_hit_names_its_tier(tmp_path):
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store(make_learning("Docker cache in the user tier", "layers"))
        g.tier("project").learnings.store(make_learning("Docker cache in the project", "x"))
        g.tier("enterprise:acme").learnings.store(make_learning("Unrelated", "nothing"))
        hits = g.search("docker cache", mode="fulltext", limit=10)
        assert {h.learning.tier for h in hits} == {"user", f"project:{tmp_path.resolve()}"}
        only_user = g.search("docker cache", mode="fulltext", tiers=["user"])
        assert [h.learning.tier for h in only_user] == ["user"]


def _vectors(store, learnings):
    return store.embed_texts([text_for_embedding(lr.content) for lr in learnings])


def test_bulk_load_rebuilds_the_index_and_every_vector_finds_itself(store, monkeypatch):
    store.embedder = DenseEmbedder()
    programs = []
    real = store.db.run_chain
    monkeypatch.setattr(store.db, "run_chain", lambda b, p=None: programs.append(b) or real(b, p))
    many = [make_learning(f"rule {i} word{i}", f"insight {i} term{i * 7}") for i in range(260)]
    assert len(many) >= learnings_module.BULK_MIN_ROWS
    store.store_many(many)
    blocks = programs[-1]  # dropped and loaded in the transaction that stores them ...
    assert "::hnsw drop learning_embeddings:semantic_idx" in blocks
    assert learnings_module.SEMANTIC_INDEX not in blocks  # ... built in a second one
    assert "learning_embeddings:semantic_idx" in store.db.relations()
    search = SearchStore(store)
    vecs = _vectors(store, many)
    for i in range(260):
        assert search.semantic_ranked(vecs[i], 1)[0][0] == many[i].id
    for i in range(0, 260, 37):  # Cozo's own index, for programs that read the tier
        found = store.db.run(
            "?[learning_id] := ~learning_embeddings:semantic_idx{learning_id | "
            "query: vec($q), k: 1, ef: 64}",
            {"q": vecs[i].tolist()},
        )
        assert found.rows == [[many[i].id]]
    # a small batch afterwards takes the row-by-row path and is found too
    few = [make_learning(f"late rule {i} late{i}", "late") for i in range(3)]
    store.store_many(few)
    assert learnings_module.SEMANTIC_INDEX not in programs[-1]  # inserted row by row
    for lr, vec in zip(few, _vectors(store, few), strict=True):
        assert search.semantic_ranked(vec, 1)[0][0] == lr.id


def test_a_failed_bulk_load_keeps_the_old_index_and_writes_nothing(store, monkeypatch):
    store.embedder = DenseEmbedder()
    first = [make_learning(f"first {i} alpha{i}", "a") for i in range(5)]
    store.store_many(first)
    real = store.db.run_chain

    def failing(blocks, params=None):
        return real([*blocks, "?[a] <- [[1]] :put no_such_relation {a}"], params)

    monkeypatch.setattr(store.db, "run_chain", failing)
    with pytest.raises(DatabaseError):
        store.store_many([make_learning(f"bulk {i} beta{i}", "b") for i in range(250)])
    monkeypatch.setattr(store.db, "run_chain", real)
    assert store.count() == 5
    assert "learning_embeddings:semantic_idx" in store.db.relations()
    search = SearchStore(store)
    for lr, vec in zip(first, _vectors(store, first), strict=True):
        assert search.semantic_ranked(vec, 1)[0][0] == lr.id
    assert np.isfinite(_vectors(store, first)).all()


def test_an_imported_rule_is_embedded_with_its_heading_once(tmp_path):
    """The heading path of an imported rule leads the embedded text (kept when a long
    insight is cut at the model's input limit) and is not repeated by the insight's
    context line."""
    from groove_core.io.importer import import_paths
    from groove_core.io.rules import CONTEXT_PREFIX

    seen: list[str] = []

    class Recording(HashingEmbedder):
        def embed(self, texts):
            seen.extend(texts)
            return super().embed(texts)

    rules = tmp_path / "CLAUDE.md"
    rules.write_text("# Testing\n\n## Mocks\n\n- Never mock the database in integration tests.\n")
    with Groove(tmp_path / "home", embedder=Recording()) as g:
        import_paths(g.tier("user"), [rules])
        (learning,) = g.tier("user").learnings.page()
    assert learning.content.insight.endswith(CONTEXT_PREFIX + "Testing > Mocks")  # kept
    (text,) = seen
    assert text.splitlines()[0] == "Testing > Mocks"
    assert text.count("Testing > Mocks") == 1
    assert "Never mock the database in integration tests." in text


def test_a_bad_filter_is_refused_even_when_nothing_would_match(tmp_path, monkeypatch):
    """An unknown ``--category`` is an error whether or not the search finds anything."""
    from typer.testing import CliRunner

    from groove_core.cli import app

    monkeypatch.setenv("GROOVE_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["search", "zzzqqq", "--mode", "fulltext", "--category", "x"])
    assert result.exit_code == 1 and "unknown category 'x'" in result.output, result.output
