"""Benchmark: groove against the libraries and a SQLite peer, on the rule corpus, in one run.

Data (issue 9): the rules of ``../shared/corpus`` parsed by groove's importer, embedded
with all-MiniLM-L6-v2 (vectors cached OUTSIDE the repository, in
``~/.cache/groove-bench/``); 200 of them are held out as queries, the rest are the first
learnings and perturbed copies of them (the text plus one corpus word, the vector plus
Gaussian noise, renormalised) fill the data set up to N.

Systems, run interleaved query by query (the order rotates) in one process (numpy's exact
search, which reads the whole matrix and so evicts the caches, in a pass of its own):
- semantic top-10: numpy exact search (the recall baseline), hnswlib, usearch, and
  groove's ``search(mode="semantic")`` end to end (rows included);
- full-text top-10 of keyword queries (the three longest words of each held-out query):
  SQLite FTS5 (``porter unicode61``, rows included) and groove's ``search(mode="fulltext")``;
- hybrid top-10: sqlite-vec (exact KNN) + FTS5 + reciprocal rank fusion in Python, rows
  included, and groove's ``search(mode="hybrid")``; both legs take 50 candidates and the
  peer's FTS5 leg ORs every word of the query;
- bulk load of the N learnings with their embeddings, each in a child process (time and
  peak RSS): groove's ``store_many(vectors=...)`` (Cozo's own HNSW build timed apart)
  against SQLite + sqlite-vec + FTS5;
- ``record_outcome`` against a plain SQLite update of the usage row plus an event row.

Figures are p50/p95 in milliseconds over the queries, recall@10 against exact search, and
the ratio of groove's p50 to the peer's measured in the same run.

Run: ``python benchmarks/bench_peer.py [--rows 10000 100000] [--out table.md]``;
``--quick`` runs 2,000 rows and 30 queries with a hashing stand-in for the model (a smoke
test, not a measurement).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

# One BLAS thread: on 2 shared cores, idle BLAS threads spinning after numpy's exact
# search slowed whichever system ran next (numpy's own p50 was 17 ms at 2,000 rows).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pysqlite3 as sqlite3  # noqa: E402  (the stdlib build here cannot load sqlite-vec)

from groove_core.embed import DIM  # noqa: E402
from groove_core.io import rules  # noqa: E402
from groove_core.model.learning import Learning, LearningContent, LearningSource  # noqa: E402
from groove_core.model.scope import Scope  # noqa: E402
from groove_core.store.embeddings import text_for_embedding  # noqa: E402
from groove_core.store.search import rrf  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "cursorrules" / "rules"
CACHE = Path(os.environ.get("GROOVE_BENCH_CACHE", Path.home() / ".cache" / "groove-bench"))
K = 10
DEPTH = 50  # hybrid candidates per leg, as groove's search takes for limit 10
NOISE = 0.02  # per-component noise of a perturbed copy (cosine to its source ~0.93)
OUTCOMES = 200
BATCH = 1000  # outcomes in one record_outcomes call (a long session's)


# ----------------------------------------------------------------------------- data
def words(text: str) -> list[str]:
    """The distinct lower-cased words of ``text`` in order of first appearance."""
    return list(dict.fromkeys(re.findall(r"\w+", text.lower())))


def match_expression(query_words: list[str]) -> str | None:
    """The FTS5 peer's MATCH expression: each word quoted (operators a user types are
    just words), joined by OR; None when there is no word."""
    quoted = [f'"{w}"' for w in query_words if w]
    return " OR ".join(quoted) if quoted else None


@dataclass
class Dataset:
    """``texts``/``vectors``/``categories`` of the N learnings and the held-out queries."""

    texts: list[str]
    contents: list[tuple[str, str, str | None]]  # (description, insight, heading)
    categories: list[str]
    vectors: np.ndarray
    query_texts: list[str]
    query_vectors: np.ndarray
    keywords: list[str] = field(default_factory=list)


def corpus_rules() -> list[tuple[str, str, str, str]]:
    """(description, insight, heading, category) of every distinct rule in the corpus
    (parsed once, then read from the cache while the files are unchanged)."""
    paths = rules.discover([CORPUS])
    stamp = json.dumps([[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths])
    cached = CACHE / f"corpus-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.json"
    if cached.exists():
        return [tuple(r) for r in json.loads(cached.read_text())]
    seen: dict[str, tuple[str, str, str, str]] = {}
    for path in paths:
        try:
            parsed = rules.parse_file(path)
        except Exception:  # noqa: BLE001 - a corpus file groove refuses is skipped
            continue
        for r in parsed.rules:
            seen.setdefault(r.insight, (r.description, r.insight, r.heading, r.category))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(list(seen.values())))
    return list(seen.values())


def embed(texts: list[str], model: str) -> np.ndarray:
    """Embeddings of ``texts`` with ``model`` ("minilm" or "hashing"), cached on disk."""
    key = hashlib.sha256(json.dumps([model, texts]).encode()).hexdigest()[:16]
    path = CACHE / f"vectors-{model}-{key}.npy"
    if path.exists():
        return np.load(path)
    if model == "minilm":
        from groove_core.embed import MiniLMEmbedder

        embedder = MiniLMEmbedder()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIM), np.float32)
        for start in range(0, len(order), 512):
            part = order[start : start + 512]
            out[part] = embedder.embed([texts[i] for i in part])
    else:
        out = hashing_vectors(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def hashing_vectors(texts: list[str]) -> np.ndarray:
    """Stand-in for the model in ``--quick`` runs: feature hashing of words, dense enough
    for HNSW (each word spreads over 8 dimensions)."""
    out = np.zeros((len(texts), DIM), np.float32)
    for i, text in enumerate(texts):
        for w in re.findall(r"\w+", text.lower()):
            seed = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "big")
            rng = np.random.default_rng(seed)
            out[i, rng.integers(0, DIM, 8)] += rng.normal(size=8)
    out += 1e-3
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build_dataset(n: int, queries: int, model: str, seed: int = 0) -> Dataset:
    """The N learnings and held-out queries described in the module docstring."""
    base = corpus_rules()
    contents = [(d, i, h or None) for d, i, h, _ in base]
    texts = [
        text_for_embedding(LearningContent(d, i, {"heading": h} if h else None))
        for d, i, h in contents
    ]
    vecs = embed(texts, model)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(base))
    held, rest = order[:queries], order[queries:]
    vocab = sorted({w for t in texts for w in words(t) if len(w) > 3})
    picks = np.concatenate([rest, rng.choice(rest, max(0, n - len(rest)))])[:n]
    out_texts, out_contents, cats, out_vecs = [], [], [], np.zeros((n, DIM), np.float32)
    for j, src in enumerate(picks):
        d, i, h = contents[src]
        v = vecs[src]
        if j >= len(rest):  # a perturbed copy
            extra = vocab[rng.integers(len(vocab))]
            i = f"{i} {extra}"
            v = v + NOISE * rng.normal(size=DIM).astype(np.float32)
            v = v / np.linalg.norm(v)
        out_texts.append(f"{d} {i}")
        out_contents.append((d, i, h))
        cats.append(base[src][3])
        out_vecs[j] = v
    query_texts = [texts[q] for q in held]
    keywords = [" ".join(sorted(words(t), key=lambda w: (-len(w), w))[:3]) for t in query_texts]
    return Dataset(
        out_texts, out_contents, cats, out_vecs, query_texts, vecs[held].copy(), keywords
    )


def learnings_of(data: Dataset) -> list[Learning]:
    """The data set as learnings, with the same ids in every process (UUIDs of the row
    number) so the systems' answers can be compared."""
    return [
        replace(
            Learning.new(
                Scope.global_(),
                cat,
                LearningContent(d, i, {"heading": h} if h else None),
                LearningSource.user_created(),
            ),
            id=str(uuid.UUID(int=n + 1)),
        )
        for n, ((d, i, h), cat) in enumerate(zip(data.contents, data.categories, strict=True))
    ]


# ----------------------------------------------------------------------------- loads
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_sqlite(path: Path, data: Dataset, learnings: list[Learning]) -> None:
    """The peer: one table of learnings, an FTS5 index of their text, a vec0 table."""
    import sqlite_vec

    conn = sqlite3.connect(path)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.executescript(
        "CREATE TABLE learning (id TEXT UNIQUE, scope TEXT, category TEXT, description TEXT,"
        " insight TEXT, confidence REAL, created_at INT, updated_at INT, source_json TEXT);"
        "CREATE TABLE usage (id TEXT PRIMARY KEY, n INT, helpful INT, alpha REAL, beta REAL);"
        "CREATE TABLE outcome_event (id TEXT, at INT, outcome TEXT);"
        "CREATE VIRTUAL TABLE fts USING fts5(description, insight, tokenize='porter unicode61');"
        f"CREATE VIRTUAL TABLE vec USING vec0(embedding float[{DIM}] distance_metric=cosine);"
    )
    with conn:
        for n, (lr, vec) in enumerate(zip(learnings, data.vectors, strict=True), start=1):
            c = lr.content
            conn.execute(
                "INSERT INTO learning (rowid, id, scope, category, description, insight, "
                "confidence, created_at, updated_at, source_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    n,
                    lr.id,
                    lr.scope.to_db(),
                    lr.category.value,
                    c.description,
                    c.insight,
                    0.5,
                    0,
                    0,
                    json.dumps(lr.source.to_json()),
                ),
            )
            conn.execute("INSERT INTO usage VALUES (?, 0, 0, 1.0, 1.0)", (lr.id,))
            conn.execute(
                "INSERT INTO fts (rowid, description, insight) VALUES (?,?,?)",
                (n, c.description, c.insight),
            )
            conn.execute("INSERT INTO vec (rowid, embedding) VALUES (?, ?)", (n, vec.tobytes()))
    conn.close()


def load_groove(path: Path, data: Dataset, learnings: list[Learning], cozo_hnsw: bool) -> dict:
    """groove's bulk load, its parts timed apart: the content scan, the transaction
    (rows, usage, history, embeddings, change log), the derived indexes the writer builds
    and saves from what it holds, and Cozo's own HNSW build (run here as a second
    transaction, as the product does)."""
    from groove_core.store import learnings as lmod
    from groove_core.store import migrations
    from groove_core.store.engine import Engine

    db = Engine("user", "sqlite", path, busy_timeout=600)
    migrations.migrate(db)
    store = lmod.LearningStore(db, None)
    start = time.perf_counter()
    findings = store.scan(learnings)  # groove's content scan (the peer has none)
    scan = time.perf_counter() - start
    timed = {"publish_s": 0.0, "cozo_hnsw_s": 0.0}

    def timing(name: str, fn, run: bool = True):
        def timed_fn(*args, **kwargs):
            begin = time.perf_counter()
            out = fn(*args, **kwargs) if run else None
            timed[name] += time.perf_counter() - begin
            return out

        return timed_fn

    store._publish = timing("publish_s", store._publish)
    store.build_semantic_index = timing("cozo_hnsw_s", store.build_semantic_index, cozo_hnsw)
    start = time.perf_counter()
    store.store_many(learnings, vectors=data.vectors, findings=findings)
    rows = time.perf_counter() - start - timed["publish_s"] - timed["cozo_hnsw_s"]
    if not cozo_hnsw:
        timed["cozo_hnsw_s"] = float("nan")
    db.close()
    return {"scan_s": scan, "rows_s": rows, **timed}


def child_load(kind: str, n: int, queries: int, model: str, path: str, cozo_hnsw: bool) -> None:
    data = build_dataset(n, queries, model)
    learnings = learnings_of(data)
    before = peak_rss_mb()
    start = time.perf_counter()
    extra = {}
    if kind == "sqlite":
        load_sqlite(Path(path), data, learnings)
    else:
        extra = load_groove(Path(path), data, learnings, cozo_hnsw)
    total = time.perf_counter() - start
    print(json.dumps({"seconds": total, "peak_mb": peak_rss_mb(), "data_mb": before, **extra}))


def run_child(kind: str, args, path: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--rows",
        str(args.n),
        "--queries",
        str(args.queries),
        "--model",
        args.model,
        "--path",
        str(path),
    ]
    if args.no_cozo_hnsw:
        cmd.append("--no-cozo-hnsw")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- queries
class Timer:
    """Samples in seconds per system."""

    def __init__(self):
        self.samples: dict[str, list[float]] = {}

    def run(self, name: str, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.samples.setdefault(name, []).append(time.perf_counter() - start)
        return out

    def p(self, name: str, q: float) -> float:
        return float(np.percentile(self.samples[name], q)) * 1000


def recall_at_k(found: list, exact: list) -> float:
    """|found ∩ exact| / |exact| for one query (recall@k with k = len(exact))."""
    return len(set(found) & set(exact)) / len(exact)


def sqlite_rows(conn, rowids: list[int]) -> list[tuple]:
    marks = ",".join("?" * len(rowids))
    got = {
        r[0]: r
        for r in conn.execute(f"SELECT rowid, * FROM learning WHERE rowid IN ({marks})", rowids)
    }
    return [got[r] for r in rowids if r in got]


FTS5_ROWS = (
    "SELECT l.* FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?) f "
    "JOIN learning l ON l.rowid = f.rowid ORDER BY f.rank"
)
VEC_KNN = "SELECT rowid FROM vec WHERE embedding MATCH ? AND k = ? ORDER BY distance"
FTS5_IDS = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?"


def peer_hybrid(conn, qv: np.ndarray, text: str) -> list[tuple]:
    """sqlite-vec KNN + FTS5 (every word ORed), fused by RRF, then the rows."""
    vec = [r[0] for r in conn.execute(VEC_KNN, (qv.tobytes(), DEPTH))]
    expr = match_expression(words(text))
    txt = [r[0] for r in conn.execute(FTS5_IDS, (expr, DEPTH))] if expr else []
    fused = rrf({"vector": vec, "text": txt})
    return sqlite_rows(conn, sorted(fused, key=lambda r: -fused[r])[:K])


def systems(V, hn, us, search, conn) -> dict:
    """Each system as ``f(query vector, query text, keywords)``."""
    return {
        "exact": lambda qv, qt, kw: np.argpartition(-(V @ qv), K)[:K].tolist(),
        "hnswlib": lambda qv, qt, kw: hn.knn_query(qv, k=K)[0][0].tolist(),
        "usearch": lambda qv, qt, kw: us.search(qv, K).keys.tolist(),
        "groove_sem": lambda qv, qt, kw: search.search(qt, mode="semantic", limit=K, vector=qv),
        "groove_sem_ids": lambda qv, qt, kw: search.semantic_ranked(qv, K),
        "fts5_ids": lambda qv, qt, kw: conn.execute(
            FTS5_IDS, (match_expression(words(kw)), K)
        ).fetchall(),
        "groove_txt_ids": lambda qv, qt, kw: search.fulltext_ranked(kw, K),
        "fts5": lambda qv, qt, kw: conn.execute(
            FTS5_ROWS, (match_expression(words(kw)), K)
        ).fetchall(),
        "groove_txt": lambda qv, qt, kw: search.search(kw, mode="fulltext", limit=K),
        "peer_hyb": lambda qv, qt, kw: peer_hybrid(conn, qv, qt),
        "groove_hyb": lambda qv, qt, kw: search.search(qt, mode="hybrid", limit=K, vector=qv),
    }


def run_queries(args, data: Dataset, groove_path: Path, sqlite_path: Path) -> dict:
    """Every query through every system, interleaved (the order rotates per query), then
    ``record_outcome`` against a plain SQLite update. Returns the timer, mean recall@10
    per semantic system, each system's answers (learning ids) and the exact ones."""
    import hnswlib
    import sqlite_vec
    from usearch.index import Index as UIndex

    from groove_core.model.usage import OutcomeEvent
    from groove_core.store import ann, migrations
    from groove_core.store.engine import Engine
    from groove_core.store.learnings import LearningStore
    from groove_core.store.search import SearchStore

    db = Engine("user", "sqlite", groove_path)
    migrations.migrate(db)
    store = LearningStore(db, None)
    search = SearchStore(store)
    row_ids = [str(uuid.UUID(int=n + 1)) for n in range(len(data.texts))]
    start = time.perf_counter()
    search.sync()
    index_build = time.perf_counter() - start

    V = data.vectors
    hn = hnswlib.Index(space="cosine", dim=DIM)
    hn.init_index(max_elements=len(V), M=ann.M, ef_construction=ann.EF_CONSTRUCTION)
    hn.add_items(V, np.arange(len(V)))
    hn.set_ef(ann.DEFAULT_EF)
    us = UIndex(
        ndim=DIM,
        metric="cos",
        connectivity=ann.M,
        expansion_add=ann.EF_CONSTRUCTION,
        expansion_search=ann.DEFAULT_EF,
    )
    us.add(np.arange(len(V)), V)
    conn = sqlite3.connect(sqlite_path)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)

    t = Timer()
    fns = systems(V, hn, us, search, conn)
    names = list(fns)
    answers: dict[str, list[list[str]]] = {n: [] for n in names}
    queries = list(zip(data.query_vectors, data.query_texts, data.keywords, strict=True))
    # Exact search, the recall baseline, is timed in a pass of its own: reading the whole
    # matrix (150 MB at 100,000) evicts the caches, and whichever system ran next paid
    # for it (Cozo's reads after it took several times longer).
    for qv, qt, kw in queries:
        answers["exact"].append([row_ids[int(j)] for j in t.run("exact", fns["exact"], qv, qt, kw)])
    names.remove("exact")
    for qi, (qv, qt, kw) in enumerate(queries):
        for name in names[qi % len(names) :] + names[: qi % len(names)]:
            got = t.run(name, fns[name], qv, qt, kw)
            if name in ("hnswlib", "usearch"):
                ids = [row_ids[int(j)] for j in got]
            elif name in ("fts5", "peer_hyb"):
                ids = [r[1] if name == "peer_hyb" else r[0] for r in got]
            elif name == "fts5_ids":
                ids = [row_ids[r[0] - 1] for r in got]
            elif name.endswith("_ids"):
                ids = [i for i, _ in got]
            else:
                ids = [h.learning.id for h in got]
            answers[name].append(ids)
    recalls = {
        name: float(
            np.mean(
                [recall_at_k(a, e) for a, e in zip(answers[name], answers["exact"], strict=True)]
            )
        )
        for name in ("exact", "hnswlib", "usearch", "groove_sem", "groove_sem_ids")
    }
    overlap = np.mean(
        [
            len(set(a) & set(b)) / K
            for a, b in zip(answers["peer_hyb"], answers["groove_hyb"], strict=True)
        ]
    )
    for n, lid in enumerate(np.random.default_rng(1).choice(row_ids, args.outcomes)):
        t.run("groove_outcome", store.record_outcome, str(lid), "helpful", session_id=f"s{n}")
        t.run("sqlite_outcome", plain_outcome, conn, str(lid), n)
    batch = [str(i) for i in np.random.default_rng(2).choice(row_ids, BATCH)]
    events = [OutcomeEvent(lid, "helpful", None, f"batch{n}", None) for n, lid in enumerate(batch)]
    t.run("groove_outcomes_batch", store.record_outcomes, events)
    t.run("sqlite_outcomes_batch", plain_outcomes, conn, batch)
    db.close()
    conn.close()
    return {
        "t": t,
        "recalls": recalls,
        "answers": answers,
        "hybrid_overlap": float(overlap),
        "index_build_s": index_build,
    }


def plain_outcomes(conn, lids: list[str]) -> None:
    """The peer's batch of outcomes: the same statements for each, in one transaction."""
    with conn:
        conn.executemany(
            "UPDATE usage SET n = n + 1, helpful = helpful + 1, alpha = alpha + 1 WHERE id = ?",
            [(lid,) for lid in lids],
        )
        conn.executemany(
            "INSERT INTO outcome_event VALUES (?, ?, 'helpful')", list(enumerate(lids))
        )


def plain_outcome(conn, lid: str, n: int) -> None:
    """The peer's record_outcome: one UPDATE of the usage row and one event row."""
    with conn:
        conn.execute(
            "UPDATE usage SET n = n + 1, helpful = helpful + 1, alpha = alpha + 1 WHERE id = ?",
            (lid,),
        )
        conn.execute("INSERT INTO outcome_event VALUES (?, ?, 'helpful')", (lid, n))


# ----------------------------------------------------------------------------- table
def table(n: int, q: dict, loads: dict) -> str:
    t: Timer = q["t"]
    rec = q["recalls"]

    def row(label, name, peer=None, recall=None):
        p50, p95 = t.p(name, 50), t.p(name, 95)
        ratio = f"{p50 / t.p(peer, 50):.2f}x {peer}" if peer else ""
        r = f"{recall:.3f}" if recall is not None else ""
        return f"| {label} | {p50:.2f} | {p95:.2f} | {r} | {ratio} |"

    lines = [
        f"### {n:,} learnings, {len(t.samples['exact'])} queries",
        "",
        "| task / system | p50 ms | p95 ms | recall@10 | groove p50 / peer p50 |",
        "| --- | ---: | ---: | ---: | --- |",
        row("semantic: numpy exact", "exact", recall=rec["exact"]),
        row("semantic: hnswlib (groove's M, ef)", "hnswlib", recall=rec["hnswlib"]),
        row("semantic: usearch (groove's M, ef)", "usearch", recall=rec["usearch"]),
        row("semantic: groove, rows included", "groove_sem", "hnswlib", rec["groove_sem"]),
        row("semantic: groove, ids only", "groove_sem_ids", "hnswlib", rec["groove_sem_ids"]),
        row("full-text: SQLite FTS5, rows included", "fts5"),
        row("full-text: groove, rows included", "groove_txt", "fts5"),
        row("full-text: SQLite FTS5, ids only", "fts5_ids"),
        row("full-text: groove, ids only", "groove_txt_ids", "fts5_ids"),
        row("hybrid: sqlite-vec + FTS5 + RRF, rows included", "peer_hyb"),
        row("hybrid: groove, rows included", "groove_hyb", "peer_hyb"),
        row("record_outcome: plain SQLite update + event", "sqlite_outcome"),
        row("record_outcome: groove", "groove_outcome", "sqlite_outcome"),
        "",
        f"record_outcomes, {BATCH} outcomes in one call: groove "
        f"{BATCH / t.p('groove_outcomes_batch', 50) * 1000:,.0f} outcomes/s, plain SQLite "
        f"{BATCH / t.p('sqlite_outcomes_batch', 50) * 1000:,.0f} outcomes/s",
        "",
        f"semantic groove / usearch p50: {t.p('groove_sem', 50) / t.p('usearch', 50):.2f}x; "
        f"groove / exact p50: {t.p('groove_sem', 50) / t.p('exact', 50):.2f}x; "
        f"hybrid top-10 overlap with the peer: {q['hybrid_overlap']:.2f}; "
        f"first sync of a new process after another's bulk load (it loads the indexes the "
        f"writer saved): {q['index_build_s']:.2f} s",
        "",
    ]
    if loads:
        s, g = loads["sqlite"], loads["groove"]
        total = g["scan_s"] + g["rows_s"] + g["publish_s"] + np.nan_to_num(g["cozo_hnsw_s"])
        lines += [
            "| bulk load (child process) | seconds | peak RSS MB | groove / peer |",
            "| --- | ---: | ---: | --- |",
            f"| SQLite + sqlite-vec + FTS5 | {s['seconds']:.1f} | {s['peak_mb']:.0f} | |",
            f"| groove store_many(vectors=...): rows, change log | {g['rows_s']:.1f} "
            f"| {g['peak_mb']:.0f} | {g['rows_s'] / s['seconds']:.2f}x |",
            f"| groove derived indexes built and saved by the writer | {g['publish_s']:.1f} | | |",
            f"| groove content scan of the learnings (detect-secrets) | {g['scan_s']:.1f} | | |",
            f"| groove Cozo HNSW build (second transaction) | {g['cozo_hnsw_s']:.1f} | | |",
            f"| groove total | {total:.1f} | {g['peak_mb']:.0f} | {total / s['seconds']:.2f}x |",
            f"(building the data set takes {s['data_mb']:.0f} MB of each child's peak RSS)",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark; prints (and with ``--out`` writes) one table per size. Returns,
    per size, the data set, the query results (answers included) and the loads."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--outcomes", type=int, default=OUTCOMES)
    ap.add_argument("--model", choices=["minilm", "hashing"], default="minilm")
    ap.add_argument("--quick", action="store_true", help="2,000 rows, 30 queries, hashing vectors")
    ap.add_argument("--no-cozo-hnsw", action="store_true", help="skip timing Cozo's own HNSW build")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", choices=["groove", "sqlite"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.queries, args.outcomes, args.model = [2000], 30, 20, "hashing"
        args.no_cozo_hnsw = True
    if args.child:
        child_load(
            args.child, args.rows[0], args.queries, args.model, args.path, not args.no_cozo_hnsw
        )
        return []
    results, texts = [], []
    for n in args.rows:
        args.n = n
        with tempfile.TemporaryDirectory(prefix="groove-bench-") as folder:
            gpath, spath = Path(folder) / "groove.db", Path(folder) / "peer.sqlite"
            data = build_dataset(n, args.queries, args.model)  # embeds once, then cached
            loads = {"sqlite": run_child("sqlite", args, spath)}
            loads["groove"] = run_child("groove", args, gpath)
            q = run_queries(args, data, gpath, spath)
        texts.append(table(n, q, loads))
        print(texts[-1], flush=True)
        if args.out:
            args.out.write_text("\n".join(texts))
        results.append({"n": n, "data": data, "queries": q, "loads": loads, "table": texts[-1]})
    return results


if __name__ == "__main__":
    main()
