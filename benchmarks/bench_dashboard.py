"""Benchmark: the dashboard at N learnings against a minimal Streamlit app over the same
rows in SQLite, both timed in Chromium in one run (issue 9, item 5).

Data: ``bench_peer``'s data set (the corpus rules with their all-MiniLM-L6-v2 vectors, then
perturbed copies up to N; vectors cached outside the repository in
``~/.cache/groove-bench/``), given what a curator's tier holds besides: a seventh of the
rows scoped to one of 13 projects, most imported from a rule file and the rest written by
hand, a creation time each (37 s apart) and, for a tenth, outcomes (Beta usage counts). The
groove home (loaded in one ``store_many`` with the vectors given, as a bulk import does) and
the SQLite file are built once per N and kept in the cache folder.

The peer (written to a temp folder at each run): two Streamlit pages over one SQLite file
with an index per sort and filter column and an FTS5 table: the Overview shows the same
counts (per tier, by category, by source, by scope) and the newest rows; the Learnings page
a table of 50 rows, its count, ``st.pagination`` and a search box answered by FTS5 (BM25).

Interactions, interleaved groove / peer (the order alternates), repeated ``--runs`` times;
each is timed until its marker text is shown, the script has finished and every shown
element is drawn (no element still loading, every table's grid painted):

- ``overview``: open the Overview in a new tab;
- ``learnings, sidebar`` and ``overview, sidebar``: from there, go to the Learnings page
  and back to the Overview by their links in the sidebar (how a curator who has the
  dashboard open moves between pages);
- ``learnings``: open the Learnings page in a new tab;
- ``next page``: press page 2 of the pager until rows 51-100 are shown;
- ``search``: type a new query and press Enter until its results are shown (groove's
  default hybrid search, the query embedded by the real model, loaded before timing).

``--write-between`` records an outcome in the groove home before each run (another process
writing, as the assistant does while a curator looks: the data version moves on, so rows
are read again; counts and facets stay cached as outcomes do not change them).

A third app, two pages that show only their title and the marker, is timed alongside:
the floor of what any Streamlit page costs on the machine (a new tab opens a new
session and runs Streamlit's own frontend, which is most of the time at 2 cores).

Prints the medians in seconds, the ratio to the peer, the empty app's time and the
issue's target.

``--pages`` instead runs every page of the dashboard once and again on the groove home in
Streamlit's test harness (``AppTest``, no browser) and prints the server's time for each:
no page may keep a curator waiting at N learnings.

Run: ``python benchmarks/bench_dashboard.py [--rows 100000] [--runs 5]``; ``--quick`` uses
2,000 rows and a hashing stand-in for the model (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

import bench_peer  # noqa: E402
import numpy as np  # noqa: E402

from groove_core.model.learning import Learning, LearningSource  # noqa: E402
from groove_core.model.scope import Scope  # noqa: E402
from groove_core.model.usage import UsageStats  # noqa: E402

CACHE = bench_peer.CACHE
CHROMIUM = "/usr/bin/chromium"
TARGETS = {
    "overview": 1.0,
    "learnings": 0.8,
    "overview, sidebar": 1.0,
    "learnings, sidebar": 0.8,
    "next page": 0.3,
    "search": 0.5,
}
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
def dataset(n: int, model: str, seed: int = 0) -> tuple[list[Learning], np.ndarray, dict]:
    """``bench_peer``'s N learnings (stable ids) as a curator's tier holds them, their
    vectors and their usage stats (id -> UsageStats)."""
    data = bench_peer.build_dataset(n, 0, model, seed)
    rng = np.random.default_rng(seed)
    out, usage = [], {}
    for j, lr in enumerate(bench_peer.learnings_of(data)):
        app = f"/src/app{j % 13}"
        at = datetime.fromtimestamp(1_700_000_000 + 37 * j, UTC)
        lr = replace(
            lr,
            scope=Scope.global_() if j % 7 else Scope("project", app),
            source=LearningSource.imported(f"{app}/CLAUDE.md", at)
            if j % 5
            else LearningSource.user_created(),
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
    return out, data.vectors, usage


def build_groove(home: Path, learnings: list[Learning], vectors: np.ndarray, usage: dict) -> None:
    """The groove home: every learning in the user tier in one ``store_many`` with the
    vectors given (no content scan: the corpus is known clean)."""
    from groove_core.tiers import Groove

    with Groove(home, embedder=None, project=home) as g:
        g.user.learnings.store_many(learnings, vectors=vectors, usage=usage, findings={})


def build_sqlite(path: Path, learnings: list[Learning], usage: dict) -> None:
    """The peer's file: one table of learnings (an index per sort and filter column) and
    an FTS5 table of description and insight."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE learning (id TEXT PRIMARY KEY, tier TEXT, scope TEXT, category TEXT,"
        " source_type TEXT, source TEXT, description TEXT, insight TEXT, confidence REAL,"
        " uses INT, created_at INT, updated_at INT);"
        "CREATE INDEX by_updated ON learning(updated_at DESC);"
        "CREATE INDEX by_created ON learning(created_at DESC);"
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
    folder = CACHE / f"dashboard-{model}-{n}"
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


#: The floor: the same two pages with nothing but their title and the marker.
EMPTY_APP = """
import os

import streamlit as st

st.set_page_config(page_title="empty", layout="wide")
N = int(os.environ["EMPTY_N"])


def overview():
    st.title("Overview")
    st.metric("Learnings", f"{N:,}")


def learnings():
    st.title("Learnings")
    st.subheader(f"{N:,} learnings")


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
#: What the empty app is timed on (it has no pager and no search).
EMPTY_STEPS = ("overview", "learnings", "overview, sidebar", "learnings, sidebar")


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

    def _go(self, link: str, marker: str) -> float:
        pg = self.page
        start = time.perf_counter()
        pg.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
        settled(pg, pg.get_by_text(marker, exact=True))
        return time.perf_counter() - start

    def overview_sidebar(self) -> float:
        return self._go("Overview", f"{self.n:,}")

    def learnings_sidebar(self) -> float:
        return self._go("Learnings", f"{self.n:,} learnings")

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


def record_outcome(home: Path, n: int) -> None:
    """Another process's write: an outcome of learning ``n`` in the user tier."""
    from groove_core.tiers import Groove

    with Groove(home, embedder=None, project=home) as g:
        lid = g.user.learnings.page(limit=1, offset=n % 50)[0].id
        g.user.learnings.record_outcome(lid, "helpful", session_id=f"bench-{time.time_ns()}")


def measure(
    folder: Path, n: int, runs: int, write_between: bool = False
) -> dict[str, dict[str, list[float]]]:
    """Start both servers, warm them up, then time the interactions interleaved (with an
    outcome recorded in groove's home before each run when ``write_between``: a copy of
    the kept home is used then)."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    home = folder / "home"
    if write_between:
        home = tmp / "home"
        shutil.copytree(folder / "home", home)
    peer_app, empty_app = tmp / "peer_app.py", tmp / "empty_app.py"
    peer_app.write_text(PEER_APP)
    empty_app.write_text(EMPTY_APP)
    servers = {
        "groove": Server(
            REPO / "dashboard" / "streamlit_app.py",
            {
                "GROOVE_HOME": str(home),
                "GROOVE_PROJECT": str(tmp),
                "HF_HUB_OFFLINE": "1",
            },
            tmp / "groove.log",
        ),
        "peer": Server(peer_app, {"PEER_DB": str(folder / "peer.db")}, tmp / "peer.log"),
        "empty": Server(empty_app, {"EMPTY_N": str(n)}, tmp / "empty.log"),
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
            for name, app in apps.items():  # warm-up: caches, the model, the browser's cache
                app.overview()
                app.learnings_sidebar()
                app.overview_sidebar()
                app.learnings()
                if name != "empty":
                    app.next_page()
                    app.search("warm up the model")
            for run in range(runs):
                if write_between:
                    record_outcome(home, run)
                order = list(apps.values()) if run % 2 == 0 else list(apps.values())[::-1]
                query = QUERIES[run % len(QUERIES)]
                steps = {
                    "overview": App.overview,
                    "learnings, sidebar": App.learnings_sidebar,
                    "overview, sidebar": App.overview_sidebar,
                    "learnings": App.learnings,
                    "next page": App.next_page,
                    "search": lambda app, q=query: app.search(q),
                }
                for what, step in steps.items():
                    for app in order:
                        if app.name != "empty" or what in EMPTY_STEPS:
                            times[app.name][what].append(step(app))
                print(f"  run {run + 1}/{runs} done", flush=True)
            browser.close()
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def page_times(home: Path) -> str:
    """A table of the server's seconds for the first run of every page in one session
    (cold caches) and for a second run of it (what a click that changes nothing costs)."""
    os.environ["GROOVE_HOME"] = str(home)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "streamlit_app.py"), default_timeout=600)
    start = time.perf_counter()
    at.run()
    lines = [
        f"opening the home (first run of the app): {time.perf_counter() - start:.2f} s",
        "",
        "| page | first run, s | again, s |",
        "| --- | ---: | ---: |",
    ]
    pages = sorted((REPO / "dashboard" / "app_pages").glob("[!_]*.py"))
    for name in (p.stem for p in pages):
        at.switch_page(f"app_pages/{name}.py")
        times = []
        for _ in range(2):
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        failed = f" ({at.exception[0].value})" if at.exception else ""
        lines.append(f"| {name}{failed} | {times[0]:.2f} | {times[1]:.2f} |")
    return "\n".join(lines)


def table(n: int, times: dict[str, dict[str, list[float]]]) -> str:
    """The Markdown table of medians, ratios, the empty app's times and targets."""
    lines = [
        f"Dashboard at {n:,} learnings, Chromium, median of {len(times['groove']['overview'])} "
        "runs (seconds):",
        "",
        "| interaction | groove | peer (Streamlit + SQLite) | groove / peer | empty app "
        "| target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for what, target in TARGETS.items():
        ours = statistics.median(times["groove"][what])
        theirs = statistics.median(times["peer"][what])
        empty = f"{statistics.median(times['empty'][what]):.2f}" if times["empty"][what] else ""
        met = "yes" if ours <= target and ours <= theirs else "no"
        lines.append(
            f"| {what} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} | {empty} "
            f"| <= {target:g} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2,000 rows, hashing vectors")
    ap.add_argument("--build-only", action="store_true", help="build the data and stop")
    ap.add_argument(
        "--write-between", action="store_true", help="record an outcome before each run"
    )
    ap.add_argument(
        "--pages", action="store_true", help="time every page's server run (no browser)"
    )
    args = ap.parse_args(argv)
    n, model = (2_000, "hashing") if args.quick else (args.rows, "minilm")
    folder = data_dir(n, model)
    if args.build_only:
        print(folder)
        return
    if args.pages:
        print(page_times(folder / "home"))
        return
    print(table(n, measure(folder, n, args.runs, args.write_between)))


if __name__ == "__main__":
    main()
