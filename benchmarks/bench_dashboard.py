"""Benchmark: the dashboard at N learnings against a minimal Streamlit app over the same
rows in SQLite, both timed in Chromium in one run (issue 9, item 5).

Data: the rules of ``../shared/corpus`` parsed by groove's importer and embedded with
all-MiniLM-L6-v2 (vectors cached OUTSIDE the repository, in ``~/.cache/groove-bench/``),
then perturbed copies (the insight plus one corpus word, the vector plus Gaussian noise,
renormalised) up to N rows; a tenth of the rows have outcomes (Beta usage counts), some
are scoped to projects. The groove home and the SQLite file are built once per N and kept
in the cache folder.

The peer (written to a temp folder at each run): two Streamlit pages over one SQLite file
with an index per sort and filter column and an FTS5 table; the Overview shows the same
counts (per tier, by category, by source) and the newest rows; the Learnings page a table of
50 rows, its count, ``st.pagination`` and a search box answered by FTS5 (BM25 order).

Interactions, each on a fresh page for "first render" and on the open page otherwise,
interleaved groove / peer (the order alternates) and repeated ``--runs`` times:

- ``overview``: open the Overview until its script has finished;
- ``learnings``: open the Learnings page until its first table is shown and the script
  has finished;
- ``next page``: press page 2 of the pager until rows 51-100 are shown;
- ``search``: type a new query and press Enter until its results are shown (groove's
  default hybrid search, the query embedded by the real model, loaded before timing).

Prints the median seconds of each, the peer's, the ratio and the issue's target.

Run: ``python benchmarks/bench_dashboard.py [--rows 100000] [--runs 5]``; ``--quick`` uses
2,000 rows and a hashing stand-in for the model (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from groove_core.embed import DIM  # noqa: E402
from groove_core.io import rules  # noqa: E402
from groove_core.model.learning import Learning, LearningContent, LearningSource  # noqa: E402
from groove_core.model.scope import Scope  # noqa: E402
from groove_core.model.usage import UsageStats  # noqa: E402
from groove_core.store.learnings import text_for_embedding  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "cursorrules" / "rules"
CACHE = Path(os.environ.get("GROOVE_BENCH_CACHE", Path.home() / ".cache" / "groove-bench"))
CHROMIUM = "/usr/bin/chromium"
NOISE = 0.02  # per-component noise of a perturbed copy (cosine to its source ~0.93)
BATCH = 5_000  # learnings per store_many call while building (bounded memory)
TARGETS = {"overview": 1.0, "learnings": 0.8, "next page": 0.3, "search": 0.5}
QUERIES = [
    "react component state management",
    "python type hints and docstrings",
    "docker compose environment variables",
    "error handling in async functions",
    "tailwind css utility classes",
    "database migrations and rollback",
    "unit tests with mocks",
    "next.js server components",
    "rust ownership and borrowing",
    "git commit messages",
    "accessibility of forms",
    "logging and monitoring",
]


# ----------------------------------------------------------------------------- data
def corpus_rules() -> list[tuple[str, str, str, str, str]]:
    """(file, description, insight, heading, category) of every distinct rule of the
    corpus, parsed once and then read from the cache while the files are unchanged."""
    paths = rules.discover([CORPUS])
    stamp = json.dumps([[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths])
    parser = Path(rules.__file__).read_bytes()
    key = hashlib.sha256(stamp.encode() + parser).hexdigest()[:16]
    cached = CACHE / f"dash-corpus-{key}.json"
    if cached.exists():
        return [tuple(r) for r in json.loads(cached.read_text())]
    seen: dict[str, tuple[str, str, str, str, str]] = {}
    for path in paths:
        try:
            parsed = rules.parse_file(path)
        except Exception:  # noqa: BLE001 - a corpus file groove refuses is skipped
            continue
        rel = str(path.relative_to(CORPUS))
        for r in parsed.rules:
            seen.setdefault(r.insight, (rel, r.description, r.insight, r.heading, r.category))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(list(seen.values())))
    return list(seen.values())


def embed(texts: list[str], model: str) -> np.ndarray:
    """Unit vectors of ``texts``: all-MiniLM-L6-v2 (``minilm``) or word hashing
    (``hashing``, for ``--quick``), cached on disk."""
    key = hashlib.sha256(json.dumps([model, texts]).encode()).hexdigest()[:16]
    path = CACHE / f"vectors-{model}-{key}.npy"
    if path.exists():
        return np.load(path)
    if model == "minilm":
        from groove_core.embed import MiniLMEmbedder

        out = np.asarray(MiniLMEmbedder().embed(texts), np.float32)
    else:
        out = np.zeros((len(texts), DIM), np.float32)
        for i, text in enumerate(texts):
            for w in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.blake2b(w.encode(), digest_size=4).hexdigest(), 16) % DIM] += 1
        out += 1e-3
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def dataset(n: int, model: str, seed: int = 0) -> tuple[list[Learning], np.ndarray, dict]:
    """N learnings (stable ids), their vectors and usage stats (id -> UsageStats)."""
    base = corpus_rules()
    contents = [LearningContent(d, i, {"heading": h} if h else None) for _, d, i, h, _ in base]
    vectors = embed([text_for_embedding(c) for c in contents], model)
    rng = np.random.default_rng(seed)
    vocab = sorted({w for _, _, i, _, _ in base for w in re.findall(r"[a-z]{5,}", i.lower())})
    start = 1_700_000_000
    out, vecs, usage = [], np.zeros((n, DIM), np.float32), {}
    for j in range(n):
        src = j % len(base) if j < len(base) else int(rng.integers(len(base)))
        file, _d, _i, _h, category = base[src]
        content, v = contents[src], vectors[src]
        if j >= len(base):  # a perturbed copy
            extra = vocab[int(rng.integers(len(vocab)))]
            content = replace(content, insight=f"{content.insight} {extra}")
            v = v + NOISE * rng.normal(size=DIM).astype(np.float32)
            v = v / np.linalg.norm(v)
        scope = Scope.global_() if j % 7 else Scope("project", f"/src/app{j % 13}")
        at = _utc(start + 37 * j)
        lr = Learning(
            id=str(uuid.UUID(int=j + 1)),
            scope=scope,
            category=category,
            content=content,
            source=LearningSource.imported(f"/rules/{file}", at),
            created_at=at,
            updated_at=at,
        )
        if j % 10 == 3:
            helpful, ignored = int(rng.integers(0, 12)), int(rng.integers(0, 6))
            stats = UsageStats(
                times_injected=helpful + ignored,
                times_helpful=helpful,
                times_ignored=ignored,
                confidence_alpha=1.0 + helpful,
                confidence_beta=1.0 + 0.1 * ignored,
            )
            usage[lr.id] = stats
            lr = replace(lr, confidence=stats.confidence())
        out.append(lr)
        vecs[j] = v
    return out, vecs, usage


def _utc(seconds: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


class GivenVectors:
    """The benchmark's embedder while building: hands back the data set's vectors by
    text (never the product's; the dashboard embeds queries with the real model)."""

    name = "bench-given-vectors"
    dim = DIM

    def __init__(self, learnings: list[Learning], vectors: np.ndarray):
        self.by_text = {
            text_for_embedding(lr.content): v for lr, v in zip(learnings, vectors, strict=True)
        }

    def embed(self, texts):
        return np.stack([self.by_text[t] for t in texts])


def build_groove(home: Path, learnings: list[Learning], vectors: np.ndarray, usage: dict) -> None:
    """The groove home: every learning in the user tier, in batches, Cozo's HNSW index
    built once at the end (as a bulk import does)."""
    from groove_core.store import learnings as lmod
    from groove_core.store.migrations.m001_initial import SEMANTIC_INDEX
    from groove_core.tiers import Groove

    with Groove(home, embedder=GivenVectors(learnings, vectors), project=home) as g:
        store = g.user.learnings
        g.user.db.run("::hnsw drop learning_embeddings:semantic_idx")
        saved, lmod.BULK_MIN_ROWS = lmod.BULK_MIN_ROWS, len(learnings) + 1
        try:
            for first in range(0, len(learnings), BATCH):
                batch = learnings[first : first + BATCH]
                store.store_many(batch, usage=usage, findings={})
                print(f"  groove: {first + len(batch):,} rows", flush=True)
        finally:
            lmod.BULK_MIN_ROWS = saved
        g.user.db.run(SEMANTIC_INDEX)


def build_sqlite(path: Path, learnings: list[Learning], usage: dict) -> None:
    """The peer's file: one table of learnings (an index per sort and filter column) and
    an FTS5 table of description and insight."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE learning (id TEXT PRIMARY KEY, tier TEXT, scope TEXT, category TEXT,"
        " source_type TEXT, source TEXT, description TEXT, insight TEXT, confidence REAL,"
        " uses INT, created_at INT, updated_at INT);"
        "CREATE INDEX by_updated ON learning(updated_at DESC);"
        "CREATE INDEX by_category ON learning(category);"
        "CREATE INDEX by_scope ON learning(scope);"
        "CREATE INDEX by_source ON learning(source_type);"
        "CREATE VIRTUAL TABLE fts USING fts5(description, insight, content='learning',"
        " content_rowid='rowid', tokenize='porter unicode61');"
    )
    with conn:
        conn.executemany(
            "INSERT INTO learning VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    lr.id,
                    "user",
                    lr.scope.to_db(),
                    lr.category.value,
                    lr.source.kind,
                    lr.source.describe(),
                    lr.description,
                    lr.insight,
                    lr.confidence,
                    usage[lr.id].times_injected if lr.id in usage else 0,
                    int(lr.created_at.timestamp()),
                    int(lr.updated_at.timestamp()),
                )
                for lr in learnings
            ],
        )
        conn.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    conn.close()


def data_dir(n: int, model: str) -> Path:
    """The kept groove home and SQLite file for N rows (built when missing)."""
    folder = CACHE / f"dash-{model}-{n}"
    if (folder / "ready").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    learnings, vectors, usage = dataset(n, model)
    start = time.perf_counter()
    build_sqlite(folder / "peer.db", learnings, usage)
    print(f"built the SQLite peer in {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    build_groove(folder / "home", learnings, vectors, usage)
    print(f"built the groove home in {time.perf_counter() - start:.0f} s", flush=True)
    (folder / "ready").write_text(str(n))
    return folder


# ----------------------------------------------------------------------------- the peer
PEER_APP = """
import os
import sqlite3

import pandas as pd
import plotly.express as px
import streamlit as st

st.set_page_config(page_title="peer", layout="wide")
COLUMNS = ["description", "scope", "source", "category", "confidence", "uses", "updated"]
SELECT = (
    "SELECT l.description, l.scope, l.source, l.category, l.confidence, l.uses, "
    "l.updated_at FROM learning l"
)


@st.cache_resource
def db():
    return sqlite3.connect(os.environ["PEER_DB"], check_same_thread=False)


def rows(sql, args=()):
    return db().execute(sql, args).fetchall()


def overview():
    st.title("Overview")
    total = rows("SELECT count(*) FROM learning")[0][0]
    tiers = rows("SELECT tier, count(*) FROM learning GROUP BY tier")
    cols = st.columns(len(tiers) + 1)
    cols[0].metric("Learnings", f"{total:,}")
    for col, (tier, n) in zip(cols[1:], tiers):
        col.metric(f"Tier {tier}", f"{n:,}")
    left, right = st.columns(2)
    for where, column in ((left, "category"), (right, "source_type")):
        counts = pd.DataFrame(
            rows(f"SELECT {column}, tier, count(*) FROM learning GROUP BY 1, 2"),
            columns=["value", "tier", "count"],
        )
        fig = px.bar(counts, x="count", y="value", color="tier", orientation="h")
        where.plotly_chart(fig)
    scopes = pd.DataFrame(
        rows("SELECT scope, count(*) FROM learning GROUP BY 1 ORDER BY 2 DESC"),
        columns=["scope", "learnings"],
    )
    with st.expander(f"By scope ({len(scopes)})"):
        st.dataframe(scopes, hide_index=True)
    st.subheader("Newest learnings")
    newest = rows(SELECT + " ORDER BY l.created_at DESC LIMIT 10")
    st.dataframe(pd.DataFrame(newest, columns=COLUMNS), hide_index=True)


def learnings():
    st.title("Learnings")
    query = st.sidebar.text_input("Search learnings", key="q")
    if query.strip():
        words = " OR ".join('"' + w.replace('"', "") + '"' for w in query.split())
        found = rows(
            SELECT + " JOIN fts ON fts.rowid = l.rowid WHERE fts MATCH ? "
            "ORDER BY bm25(fts) LIMIT 50",
            (words,),
        )
        st.subheader(f"{len(found)} results for \\u201c{query}\\u201d")
        st.dataframe(pd.DataFrame(found, columns=COLUMNS), hide_index=True)
        return
    total = rows("SELECT count(*) FROM learning")[0][0]
    page = st.session_state.get("page", 1)
    found = rows(SELECT + " ORDER BY l.updated_at DESC, l.id LIMIT 50 OFFSET ?", ((page - 1) * 50,))
    st.subheader(f"{total:,} learnings")
    first = (page - 1) * 50 + 1
    st.caption(f"Showing {first:,}\\u2013{first + len(found) - 1:,}, recently updated.")
    st.dataframe(pd.DataFrame(found, columns=COLUMNS), hide_index=True, height=740)
    st.pagination(-(-total // 50), key="page", max_visible_pages=9)


st.navigation(
    [
        st.Page(overview, title="Overview", default=True),
        st.Page(learnings, title="Learnings", url_path="learnings"),
    ]
).run()
"""


# ----------------------------------------------------------------------------- timing
class Server:
    """``streamlit run APP`` on a free port with ``env``; stopped by :meth:`stop`."""

    def __init__(self, app: Path, env: dict, log: Path):
        import socket
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)]
        cmd += ["--server.headless", "true", "--server.address", "127.0.0.1"]
        cmd += ["--browser.gatherUsageStats", "false"]
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):
                    return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{app} did not start:\n{log.read_text()}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


#: Drawn: no shown element (outside closed expanders) is still loading its code (a
#: skeleton) and every shown table has its grid.
DRAWN = """() => {
  const shown = (sel) => [...document.querySelectorAll(sel)].filter(
    (e) => e.getClientRects().length > 0 && !e.closest("details:not([open])"));
  return shown("[data-testid='stSkeleton']").length === 0 &&
    shown("[data-testid='stDataFrame']").every((d) => d.querySelector("canvas"));
}"""


def settled(page, marker) -> None:
    """Wait until ``marker`` (a locator) is visible, the script has finished and every
    element on the page is drawn."""
    t0 = time.perf_counter()
    marker.first.wait_for(state="visible", timeout=120_000)
    t1 = time.perf_counter()
    page.wait_for_selector(IDLE, timeout=120_000)
    t2 = time.perf_counter()
    page.wait_for_function(DRAWN, timeout=120_000)
    if os.environ.get("BENCH_DEBUG"):
        print(f"    marker {t1 - t0:.2f} idle {t2 - t1:.2f} drawn {time.perf_counter() - t2:.2f}")


class App:
    """One app under test in the browser: the four interactions, each timed."""

    def __init__(self, name: str, server: Server, context, n: int):
        self.name, self.server, self.context, self.n = name, server, context, n
        self.page = None

    def _open(self, path: str, marker: str) -> float:
        if self.page is not None:
            self.page.close()
        self.page = self.context.new_page()
        start = time.perf_counter()
        self.page.goto(self.server.url + path)
        settled(self.page, self.page.get_by_text(marker, exact=True))
        return time.perf_counter() - start

    def overview(self) -> float:
        return self._open("/", f"{self.n:,}")

    def learnings(self) -> float:
        return self._open("/learnings", f"{self.n:,} learnings")

    def next_page(self) -> float:
        pg = self.page
        start = time.perf_counter()
        pg.get_by_test_id("stPagination").get_by_role("button", name="Page 2", exact=True).click()
        settled(pg, pg.get_by_text(re.compile(r"^Showing 51–100")))
        return time.perf_counter() - start

    def search(self, query: str) -> float:
        pg = self.page
        box = pg.get_by_label("Search learnings")
        box.fill(query)
        start = time.perf_counter()
        box.press("Enter")
        settled(pg, pg.get_by_text(re.compile(r"results? for “" + re.escape(query))))
        return time.perf_counter() - start


def measure(folder: Path, n: int, runs: int) -> dict[str, dict[str, list[float]]]:
    """Start both servers, warm them up, then time the interactions interleaved."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    peer_app = tmp / "peer_app.py"
    peer_app.write_text(PEER_APP)
    servers = {
        "groove": Server(
            REPO / "dashboard" / "streamlit_app.py",
            {
                "GROOVE_HOME": str(folder / "home"),
                "GROOVE_PROJECT": str(tmp),
                "HF_HUB_OFFLINE": "1",
            },
            tmp / "groove.log",
        ),
        "peer": Server(peer_app, {"PEER_DB": str(folder / "peer.db")}, tmp / "peer.log"),
    }
    times: dict[str, dict[str, list[float]]] = {k: {i: [] for i in TARGETS} for k in servers}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            apps = {
                k: App(k, s, browser.new_context(viewport={"width": 1400, "height": 1000}), n)
                for k, s in servers.items()
            }
            for app in apps.values():  # warm-up: caches, the model, the browser's cache
                app.overview()
                app.learnings()
                app.next_page()
                app.search("warm up the model")
            for run in range(runs):
                order = list(apps.values()) if run % 2 == 0 else list(apps.values())[::-1]
                query = QUERIES[run % len(QUERIES)]
                for app in order:
                    times[app.name]["overview"].append(app.overview())
                for app in order:
                    times[app.name]["learnings"].append(app.learnings())
                for app in order:
                    times[app.name]["next page"].append(app.next_page())
                for app in order:
                    times[app.name]["search"].append(app.search(query))
                print(f"  run {run + 1}/{runs} done", flush=True)
            browser.close()
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def table(n: int, times: dict[str, dict[str, list[float]]]) -> str:
    """The Markdown table of medians, ratios and targets."""
    lines = [
        f"Dashboard at {n:,} learnings, Chromium, median of {len(times['groove']['overview'])} "
        "runs (seconds):",
        "",
        "| interaction | groove | peer (Streamlit + SQLite) | groove / peer | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for what, target in TARGETS.items():
        ours = statistics.median(times["groove"][what])
        theirs = statistics.median(times["peer"][what])
        met = "yes" if ours <= target and ours <= theirs else "no"
        lines.append(
            f"| {what} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} | <= {target:g} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2,000 rows, hashing vectors")
    ap.add_argument("--build-only", action="store_true", help="build the data and stop")
    args = ap.parse_args(argv)
    n, model = (2_000, "hashing") if args.quick else (args.rows, "minilm")
    folder = data_dir(n, model)
    if args.build_only:
        print(folder)
        return
    print(table(n, measure(folder, n, args.runs)))


if __name__ == "__main__":
    main()
