"""groove's derived search indexes (hnswlib graph; document store with tantivy full-text
index) follow the tier's change log: every process's index ends equal to an exact rebuild
when several processes write at once; a search's rows equal the tier's after every kind
of write; a persisted index that is missing, corrupt or from another tier is rebuilt; a
bulk load leaves persisted indexes another process loads; filters and ``ef`` are
honoured; bulk writes land whole."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import DenseEmbedder, make_learning, put_as_another_program

from groove_core.store import changelog, docs, fulltext
from groove_core.store.derived import index_dir
from groove_core.store.embeddings import text_for_embedding
from groove_core.store.engine import Engine
from groove_core.store.learnings import LearningStore
from groove_core.store.listing import SORTS, LearningFilter
from groove_core.store.search import SearchStore

TESTS = Path(__file__).resolve().parent


def tier_state(db: Engine) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """What an exact rebuild would index: unit vectors and texts by learning id."""
    vecs = {
        i: np.asarray(v, np.float32) / np.linalg.norm(v)
        for i, v in db.run("?[i, v] := *learning_embeddings{learning_id: i, embedding: v}").rows
    }
    texts = {
        i: f"{d} {s}"
        for i, d, s in db.run("?[i, d, s] := *learning{id: i, description: d, insight: s}").rows
    }
    return vecs, texts


def assert_index_matches(search: SearchStore) -> None:
    search.sync()
    vecs, texts = tier_state(search.db)
    assert len(search.vectors) == len(vecs)
    have, got = search.vectors.vectors(sorted(vecs))
    assert have == sorted(vecs)
    np.testing.assert_allclose(got, np.stack([vecs[i] for i in have]), atol=1e-5)
    conn = search.docs._conn()
    docs = {i: f"{d} {s}" for i, d, s in conn.execute("SELECT id, description, insight FROM doc")}
    assert docs == texts
    assert search.docs.text.ids() == sorted(texts)  # the full-text index holds every text
    for i, text in list(texts.items())[:5]:  # ... searchable by its own words
        assert i in [h for h, _ in search.docs.query(text, len(texts))]


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    sys.path[:0] = [{tests!r}]
    from conftest import DenseEmbedder, make_learning, put_as_another_program
    from groove_core.store.engine import Engine
    from groove_core.store.learnings import LearningStore
    from groove_core.store.search import SearchStore

    me, barrier, writers = sys.argv[1], Path({barrier!r}), int(sys.argv[2])
    db = Engine("user", "sqlite", {path!r}, busy_timeout=60)
    store = LearningStore(db, DenseEmbedder())
    search = SearchStore(store)
    mine = []
    for n in range(6):
        lr = make_learning(f"writer {{me}} rule {{n}}", f"insight {{n}} of {{me}}")
        store.store(lr)
        mine.append(lr.id)
        if n % 3 == 1:
            store.update(mine[0], insight=f"edited {{n}} by {{me}}")
        if n == 3:
            store.delete(mine.pop())
        search.search("rule insight writer", mode="hybrid", limit=5)  # applies others' writes
    (barrier / me).touch()
    while len(list(barrier.iterdir())) < writers:  # every writer has committed everything
        time.sleep(0.05)
    search.search("rule", mode="semantic", limit=1)
    ids = sorted(search.vectors._labels)
    _, vecs = search.vectors.vectors(ids)
    print(json.dumps({{"ids": ids, "vecs": vecs.tolist()}}))
    """
)


def test_several_processes_writing_at_once_each_end_with_an_exact_index(tmp_path, store):
    store.embedder = DenseEmbedder()
    store.store_many([make_learning(f"seed {i}", f"seed insight {i}") for i in range(10)])
    search = SearchStore(store)
    search.sync()  # the parent's index, kept in memory while the others write
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    script = CHILD.format(tests=str(TESTS), path=str(store.db.path), barrier=str(barrier))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"w{w}", "3"], stdout=subprocess.PIPE, text=True
        )
        for w in range(3)
    ]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    vecs, _ = tier_state(store.db)
    assert len(vecs) == 10 + 3 * 5
    for out in outs:  # each writer's own in-memory index equals an exact rebuild
        assert out["ids"] == sorted(vecs)
        np.testing.assert_allclose(
            np.asarray(out["vecs"]), np.stack([vecs[i] for i in out["ids"]]), atol=1e-5
        )
    assert_index_matches(search)  # the parent applied everything the children wrote
    # the log: one row per write, numbered 1..n without gaps, in commit order
    seqs = [r[0] for r in store.db.run("?[seq] := *search_log{seq} :order seq").rows]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 1 + 3 * (6 + 2 + 1)  # seed + per writer: stores, updates, a delete
    assert changelog.head(store.db).seq == seqs[-1]
    # a fresh process (a new SearchStore, reading the persisted files) agrees too
    assert_index_matches(SearchStore(LearningStore(store.db, store.embedder)))


@pytest.mark.parametrize("damage", ["missing", "corrupt", "other tier", "stale"])
def test_a_bad_persisted_index_is_rebuilt(tmp_path, store, damage):
    store.embedder = DenseEmbedder()
    items = [make_learning(f"rule {i} about topic{i}", f"insight {i}") for i in range(30)]
    store.store_many(items)
    SearchStore(store).sync()  # writes the files
    folder = index_dir(store.db)
    assert (folder / "vectors.json").exists() and (folder / docs.FILE).exists()
    if damage == "missing":
        shutil.rmtree(folder)
    elif damage == "corrupt":
        for f in folder.glob("vectors-*.hnsw"):
            f.write_bytes(b"not an index")
        (folder / docs.FILE).write_bytes(b"garbage" * 100)
        for extra in folder.glob(docs.FILE + "-*"):
            extra.unlink()
        for f in (folder / fulltext.FOLDER).iterdir():
            f.write_bytes(b"garbage")
    elif damage == "other tier":
        with Engine("user", "sqlite", tmp_path / "other.db") as other_db:
            from groove_core.store import migrations

            migrations.migrate(other_db)
            other = LearningStore(other_db, DenseEmbedder())
            other.store_many([make_learning("a rule of another tier", "elsewhere")])
            SearchStore(other).sync()
            shutil.rmtree(folder)
            shutil.copytree(index_dir(other_db), folder)
    else:  # written by a program that bypasses the log (e.g. another implementation)
        gone = items[0].id
        store.db.run(
            "?[learning_id] <- [[$id]] :rm learning_embeddings {learning_id}", {"id": gone}
        )
    fresh = SearchStore(LearningStore(store.db, store.embedder))
    reports = []
    fresh.sync(progress=reports.append)
    if damage != "stale":  # rebuilt from the tier, reporting how far it got
        done = {(p.stage, p.done, p.total) for p in reports}
        assert {("indexing vectors", 30, 30), ("indexing texts", 30, 30)} <= done
    assert_index_matches(fresh)
    vec = DenseEmbedder().embed([text_for_embedding(items[5].content)])[0]
    assert fresh.semantic_ranked(vec, 1)[0][0] == items[5].id
    assert fresh.search("topic7", mode="fulltext")[0].learning.id == items[7].id


def test_a_write_by_another_process_is_seen_by_the_next_search(tmp_path, store):
    store.embedder = DenseEmbedder()
    store.store_many([make_learning("Use tabs", "Indent with tabs")])
    search = SearchStore(store)
    assert [h.learning.description for h in search.search("tabs", mode="fulltext")] == ["Use tabs"]
    with Engine("user", "sqlite", store.db.path) as other_db:  # a second handle, as a CLI has
        other = LearningStore(other_db, DenseEmbedder())
        late = make_learning("Prefer tabs in Makefiles", "tabs are required there")
        other.store(late)
        other.delete(search.search("tabs", mode="fulltext")[0].learning.id)
    for mode in ("fulltext", "semantic", "hybrid"):
        hits = search.search("tabs Makefiles", mode=mode, limit=5)
        assert [h.learning.id for h in hits] == [late.id], mode
    assert [lr.id for lr in search.page()] == [late.id]  # a listing's page too


def test_a_selective_filter_is_searched_exactly(store):
    store.embedder = DenseEmbedder()
    many = [make_learning(f"common rule {i}", f"body {i}", "preference") for i in range(300)]
    rare = [make_learning(f"rare rule {i}", f"body {i}", "solution") for i in range(12)]
    store.store_many(many + rare)
    search = SearchStore(store)
    query = DenseEmbedder().embed(["a query"])[0]
    got = search.semantic_ranked(query, 5, LearningFilter(category="solution"))
    vecs = DenseEmbedder().embed([text_for_embedding(r.content) for r in rare])
    exact = np.argsort(-(vecs @ query))[:5]
    assert [i for i, _ in got] == [rare[j].id for j in exact]
    np.testing.assert_allclose([s for _, s in got], (vecs @ query)[exact], atol=1e-5)


def test_ef_is_settable_and_a_wide_beam_finds_the_exact_neighbours(store):
    store.embedder = DenseEmbedder()
    items = [make_learning(f"rule {i}", f"insight {i}") for i in range(400)]
    store.store_many(items)
    vecs = DenseEmbedder().embed([text_for_embedding(r.content) for r in items])
    search = SearchStore(store, ef=16)
    for q in DenseEmbedder().embed([f"query {i}" for i in range(5)]):
        exact = [items[j].id for j in np.argsort(-(vecs @ q))[:10]]
        wide = [h.learning.id for h in search.search("x", mode="semantic", vector=q, ef=400)]
        assert wide == exact


def test_bulk_store_with_given_vectors_lands_whole(store):
    items = [make_learning(f"bulk rule {i}", f"insight {i}") for i in range(250)]
    vecs = DenseEmbedder().embed([f"v{i}" for i in range(250)])
    assert store.store_many(items, vectors=vecs) == 250
    stored = dict(
        store.db.run("?[i, v] := *learning_embeddings{learning_id: i, embedding: v}").rows
    )
    assert len(stored) == 250 and store.count() == 250
    np.testing.assert_allclose(np.asarray([stored[r.id] for r in items]), vecs, atol=1e-7)
    assert [r.id for r in store.get_many([items[3].id])] == [items[3].id]
    assert "groove_bulk" not in " ".join(store.db.relations())  # staging relations removed
    assert changelog.head(store.db).seq == 1  # one write, one log row


def test_a_write_that_bypasses_the_log_is_seen_once_the_rows_are_recounted(store, monkeypatch):
    """vibes-groove writes the tier without groove's change log: a process that already
    has its indexes finds its rows at the next recount (here: at once)."""
    from groove_core.store import derived

    store.embedder = DenseEmbedder()
    store.store_many([make_learning("Use tabs", "Indent with tabs")])
    search = SearchStore(store)
    assert len(search.search("makefile", mode="fulltext")) == 0
    row = make_learning("Tabs in a Makefile", "recipes need tabs")
    cols = "id, scope, category, description, pattern_json, insight, confidence, "
    cols += "created_at, updated_at, source_type, source_json"
    store.db.run(  # as another program writes: the row and its embedding, no log
        f"?[{cols}] <- [[$id, 'global', 'preference', $d, null, $i, 0.5, 0, 0, "
        f"'user_created', $src]] :put learning {{{cols.replace('id,', 'id =>', 1)}}}",
        {
            "id": row.id,
            "d": row.content.description,
            "i": row.content.insight,
            "src": '"UserCreated"',
        },
    )
    vec = DenseEmbedder().embed(["external"])[0]
    store.db.run(
        "?[learning_id, embedding] <- [[$id, $v]] :put learning_embeddings "
        "{learning_id => embedding}",
        {"id": row.id, "v": vec.tolist()},
    )
    assert search.search("makefile", mode="fulltext") == []  # not recounted yet
    monkeypatch.setattr(derived, "RECHECK_SECONDS", 0.0)
    assert [h.learning.id for h in search.search("makefile", mode="fulltext")] == [row.id]
    assert search.search("x", mode="semantic", vector=vec, limit=1)[0].learning.id == row.id


def test_edits_in_place_around_the_log_are_seen_without_a_rebuild(store, monkeypatch):
    """vibes-groove records outcomes by rewriting ``usage_stats`` rows, edits learnings
    in place (moving ``updated_at``) and deletes them, all without groove's change log:
    at the next check a search and a listing show the tier's values, and only the rows
    that differ are read again (no rebuild)."""
    from groove_core.store import derived

    store.embedder = DenseEmbedder()
    rows = [make_learning(f"Rule {i} about tabs", f"insight {i}") for i in range(6)]
    store.store_many(rows)
    search = SearchStore(store)
    assert len(search.search("tabs", mode="fulltext", limit=10)) == 6
    helped, edited, gone = rows[0].id, rows[1].id, rows[2].id
    store.db.run(  # as another program: no log, no audit
        "?[learning_id, times_injected, times_helpful, confidence_alpha, last_used] <- "
        "[[$id, 7, 5, 6.0, 2000000000]] :update usage_stats "
        "{learning_id => times_injected, times_helpful, confidence_alpha, last_used}",
        {"id": helped},
    )
    store.db.run(
        "?[id, description, updated_at] <- [[$id, 'Rule about spaces now', 2000000000]] "
        ":update learning {id => description, updated_at}",
        {"id": edited},
    )
    store.db.run("?[id] <- [[$id]] :rm learning {id}", {"id": gone})
    monkeypatch.setattr(search.docs, "_rebuild", lambda *a: pytest.fail("rebuilt"))
    applied = []
    real = search.docs._apply
    monkeypatch.setattr(search.docs, "_apply", lambda ids, *a: applied.append(ids) or real(ids, *a))
    monkeypatch.setattr(derived, "RECHECK_SECONDS", 0.0)
    hits = {h.learning.id: h for h in search.search("tabs", mode="fulltext", limit=10)}
    assert applied == [{helped, edited, gone}]
    assert set(hits) == {r.id for r in rows} - {edited, gone}
    assert (hits[helped].usage.times_injected, hits[helped].usage.times_helpful) == (7, 5)
    assert hits[helped].usage == store.usage(helped)  # the tier's row, read back
    (spaces,) = search.search("spaces", mode="fulltext")
    assert spaces.learning.id == edited and spaces.learning == store.get(edited)
    assert [lr.id for lr in search.page(sort="usage", limit=1)] == [helped]
    assert search.count() == 5
    applied.clear()
    search.search("tabs", mode="fulltext")  # checked again: nothing differs
    assert applied == []


def test_a_deletion_hidden_by_an_insert_and_an_orphan_usage_row_are_handled(store, monkeypatch):
    """Another program deletes one learning and adds another (the count stays): the
    deleted one leaves the search at the next check. A usage row left behind by a
    deletion keeps the signatures apart for good: later checks with other writes do not
    compare every row again."""
    from groove_core.store import derived
    from groove_core.store.docs import DocumentIndex

    store.embedder = DenseEmbedder()
    rows = [make_learning(f"Rule {i} about tabs", f"insight {i}") for i in range(4)]
    store.store_many(rows)
    search = SearchStore(store)
    assert len(search.search("tabs", mode="fulltext", limit=10)) == 4
    added = make_learning("Rule 9 about tabs, added elsewhere", "insight 9")
    put_as_another_program(
        store.db,
        {
            "id": added.id,
            "description": added.content.description,
            "insight": added.content.insight,
            "created_at": 2_000_000_000,
            "updated_at": 2_000_000_000,
        },
    )
    store.db.run("?[id] <- [[$id]] :rm learning {id}", {"id": rows[0].id})  # usage row stays
    monkeypatch.setattr(derived, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(changelog, "RACY_SECONDS", 0.0)
    found = {h.learning.id for h in search.search("tabs", mode="fulltext", limit=10)}
    assert found == {r.id for r in rows[1:]} | {added.id}
    assert search.count() == 4
    full = []
    real = DocumentIndex._usage_drift
    monkeypatch.setattr(
        DocumentIndex,
        "_usage_drift",
        lambda self, conn, since: (since is None and full.append(1)) or real(self, conn, since),
    )
    for i in range(3):  # groove's own writes move both sides alike
        store.record_outcome(rows[1].id, "helpful", session_id=f"s{i}")
        assert len(search.search("tabs", mode="fulltext", limit=10)) == 4
    assert full == []
    assert search.docs.rows([rows[1].id])[rows[1].id][1] == store.usage(rows[1].id)


def test_an_idle_tier_is_not_recounted_a_write_around_the_log_is(store, monkeypatch):
    """A due recount (100,000 learnings: 0.2-0.4 s) is skipped while the tier's files
    prove nothing was committed since the last count; a write that bypasses the log
    changes the files, so the next search counts and finds it."""
    from groove_core.store import derived
    from groove_core.store.docs import DocumentIndex

    store.embedder = DenseEmbedder()
    store.store_many([make_learning("Use tabs", "Indent with tabs")])
    search = SearchStore(store)
    counts = []
    real = DocumentIndex._drift
    monkeypatch.setattr(
        DocumentIndex, "_drift", lambda self, full=False: counts.append(1) or real(self, full)
    )
    monkeypatch.setattr(derived, "RECHECK_SECONDS", 0.0)  # a recount is always due
    monkeypatch.setattr(changelog, "RACY_SECONDS", 0.0)  # every stamp proves
    search.search("tabs", mode="fulltext")
    first = len(counts)
    for _ in range(3):
        assert len(search.search("tabs", mode="fulltext")) == 1
    assert len(counts) == first  # nothing committed since the count: no recount
    row = make_learning("Tabs in a Makefile", "recipes need tabs")
    cols = "id, scope, category, description, pattern_json, insight, confidence, "
    cols += "created_at, updated_at, source_type, source_json"
    store.db.run(  # as another program writes: the row, no log
        f"?[{cols}] <- [[$id, 'global', 'preference', $d, null, $i, 0.5, 0, 0, "
        f"'user_created', $src]] :put learning {{{cols.replace('id,', 'id =>', 1)}}}",
        {"id": row.id, "d": "Tabs in a Makefile", "i": "recipes", "src": '"UserCreated"'},
    )
    assert [h.learning.id for h in search.search("makefile", mode="fulltext")] == [row.id]
    assert len(counts) > first


def test_a_file_stamp_spares_the_head_read_only_when_it_proves_nothing_changed(store, monkeypatch):
    """Unchanged files whose last write is older than the stamp's margin spare the read of
    the log's head; a young stamp does not; another process's commit is seen at once."""
    store.embedder = DenseEmbedder()
    store.store_many([make_learning(f"rule {i} about tabs", f"insight {i}") for i in range(5)])
    search = SearchStore(store)
    reads = []
    real_head = changelog.head
    monkeypatch.setattr(changelog, "head", lambda db: reads.append(1) or real_head(db))
    monkeypatch.setattr(changelog, "RACY_SECONDS", 3600.0)  # every last write is "young"
    search.sync()
    search.sync()
    assert len(reads) == 2  # a young stamp proves nothing: the head is read each time
    monkeypatch.setattr(changelog, "RACY_SECONDS", 0.0)  # now the last write is old enough
    search.sync()
    for _ in range(3):
        search.search("tabs", mode="fulltext")
    assert len(reads) == 2  # the files are as the last full sync saw them: no read
    child = (
        "import sys; sys.path[:0] = [sys.argv[2]]; "
        "from conftest import make_learning; "
        "from groove_core.store.engine import Engine; "
        "from groove_core.store.learnings import LearningStore; "
        "db = Engine('user', 'sqlite', sys.argv[1]); "
        "LearningStore(db, None).store(make_learning('spaces from another process', 'x')); "
        "db.close()"
    )
    subprocess.run([sys.executable, "-c", child, str(store.db.path), str(TESTS)], check=True)
    hits = search.search("spaces another process", mode="fulltext")
    assert [h.learning.description for h in hits][:1] == ["spaces from another process"]
    assert len(reads) == 3


def test_a_searchs_rows_equal_the_tiers_after_every_kind_of_write(store):
    """Rows come from the derived document store, not Cozo: after each kind of write a
    search shows exactly what get_many and usage_many read from the tier."""
    store.embedder = DenseEmbedder()
    items = [
        make_learning(
            f"rule {i} about tabs",
            f"insight {i} on tabs",
            scope="project:/w" if i % 2 else "global",
        )
        for i in range(6)
    ]
    store.store_many(items)
    search = SearchStore(store)
    filters = [
        None,
        LearningFilter(category="solution"),
        LearningFilter(scope="project:/w"),
        LearningFilter(source_type="user_created", scope="global"),
        LearningFilter(category="preference", scope="project:/w", source_type="imported"),
    ]

    def check() -> None:
        # counts and facets (the dashboard's) from the document store equal the tier's
        assert search.facets() == store.facets()
        assert [search.count(f) for f in filters] == [store.count(f) for f in filters]
        # and so do the pages of a listing, in every order
        for f in filters:
            for sort in SORTS:
                for offset in (0, 2):
                    got = search.page(f, sort=sort, limit=3, offset=offset)
                    assert got == store.page(f, sort=sort, limit=3, offset=offset), (f, sort)
        for mode in ("fulltext", "semantic", "hybrid"):
            hits = search.search("tabs rule insight", mode=mode, limit=20)
            ids = [h.learning.id for h in hits]
            assert sorted(ids) == sorted(store.ids()), mode
            assert [h.learning for h in hits] == store.get_many(ids)
            usage = store.usage_many(ids)
            assert {h.learning.id: h.usage for h in hits} == {i: usage.get(i) for i in ids}

    check()
    store.update(items[0].id, insight="rewritten insight on tabs")
    check()
    store.recategorize_many([items[1].id, items[2].id], "solution")
    check()
    after = store.record_outcome(items[3].id, "helpful", session_id="s1")
    assert after == store.usage(items[3].id)  # read in the writing transaction
    assert after.times_helpful == 1
    from groove_core.model.usage import OutcomeEvent

    store.record_outcomes(
        [OutcomeEvent(items[4].id, o, None, f"s{n}", None) for n, o in enumerate(["helpful"] * 3)]
    )
    check()
    store.delete(items[5].id)
    check()
    store.restore(items[5].id)
    check()


def test_a_bulk_load_leaves_indexes_that_another_process_loads_without_rebuilding(
    tmp_path, store, monkeypatch
):
    from groove_core.store import embeddings as lmod
    from groove_core.store.ann import VectorIndex
    from groove_core.store.docs import DocumentIndex

    items = [
        make_learning(f"bulk rule {i} word{i}", f"insight {i}") for i in range(lmod.BULK_MIN_ROWS)
    ]
    vecs = DenseEmbedder().embed([text_for_embedding(r.content) for r in items])
    store.store_many(items, vectors=vecs)  # no SearchStore open: the write makes the files
    assert (index_dir(store.db) / "vectors.json").exists()

    def refuse(*_args):
        raise AssertionError("rebuilt from the tier")

    monkeypatch.setattr(VectorIndex, "_rebuild", refuse)
    monkeypatch.setattr(DocumentIndex, "_rebuild", refuse)
    monkeypatch.setattr(VectorIndex, "_apply", refuse)
    monkeypatch.setattr(DocumentIndex, "_apply", refuse)
    with Engine("user", "sqlite", store.db.path) as other_db:  # as another process opens it
        other = SearchStore(LearningStore(other_db, DenseEmbedder()))
        hit = other.search("x", mode="semantic", vector=vecs[7], limit=1)[0]
        assert hit.learning == store.get(items[7].id)
        assert other.search("word11", mode="fulltext", limit=1)[0].learning.id == items[11].id
    monkeypatch.undo()
    assert_index_matches(SearchStore(LearningStore(store.db, DenseEmbedder())))
