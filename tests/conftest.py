"""Shared fixtures: temporary homes, tiers, and a small deterministic test embedder."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cursorrules" / "rules"
#: Marks a test that reads the rule corpus (skipped in a checkout without it).
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="rule corpus not available")


class HashingEmbedder:
    """Bag-of-words feature hashing into 384 dimensions (tests only: fast, deterministic,
    and texts sharing words are close). The product always uses the real model."""

    name = "test-hashing"
    dim = 384

    def __init__(self):
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else np.eye(self.dim, dtype=np.float32)[0]
        return out


def as_principal(pid: str, via: str = "config"):
    """A :class:`Principal` named ``pid`` (established on this machine by default, so it
    owns user and project tiers)."""
    from groove_core.model.access import Principal

    return Principal(pid, via=via)


class DenseEmbedder:
    """Dense random unit vectors seeded by the text (HNSW needs dense data: the sparse,
    mostly orthogonal vectors of the hashing embedder leave its greedy search stranded)."""

    name = "test-dense"
    dim = 384

    def embed(self, texts):
        out = np.stack(
            [np.random.default_rng(list(t.encode())).standard_normal(self.dim) for t in texts]
        ).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True, scope="session")
def _no_heap_freeze():
    """The dashboard's :func:`~dashboard.state.settle_heap` is for a long-lived server: in
    a test worker it would keep, for the whole session, every reference cycle the tests
    had alive when it ran. Its own test passes a limit."""
    from dashboard import state

    state.SETTLE_AFTER = sys.maxsize


@pytest.fixture
def embedder():
    return HashingEmbedder()


@pytest.fixture
def engine(tmp_path):
    from groove_core.store import migrations
    from groove_core.store.engine import Engine

    db = Engine("user", "sqlite", tmp_path / "user.db")
    migrations.migrate(db)
    yield db
    db.close()


@pytest.fixture
def store(engine, embedder):
    from groove_core.store.learnings import LearningStore

    return LearningStore(engine, embedder)


def rendered(markdown: object) -> str:
    """What a browser shows of Markdown source: its backslash escapes of ASCII
    punctuation removed (the dashboard escapes text others wrote)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(markdown))


def make_learning(
    description="Use tabs",
    insight="Indent with tabs",
    category="preference",
    scope="global",
    source=None,
):
    from groove_core.model.learning import Learning, LearningContent, LearningSource
    from groove_core.model.scope import Scope

    return Learning.new(
        Scope.parse(scope),
        category,
        LearningContent(description, insight),
        source or LearningSource.user_created(),
    )


def put_as_another_program(db, *rows: dict) -> None:
    """Write ``learning`` rows straight into a tier's database, as another program
    (vibes-groove) does: no content scan, no audit entry, no change log. Each row is
    column -> value over a default row (global preference, confidence 0.5, written at
    2026-11-01, source UserCreated)."""
    from groove_core.store.rows import LEARNING_COLS, LEARNING_KEYED

    default = {
        "scope": "global",
        "category": "preference",
        "pattern_json": None,
        "confidence": 0.5,
        "created_at": 1_762_000_000,
        "updated_at": 1_762_000_000,
        "source_type": "user_created",
        "source_json": '"UserCreated"',
    }
    values = [[{**default, **row}[c] for c in LEARNING_COLS] for row in rows]
    db.run(
        f"?[{', '.join(LEARNING_COLS)}] <- $rows :put learning {{{LEARNING_KEYED}}}",
        {"rows": values},
    )


# ---------------------------------------------------------------- other processes
#: How a helper process holds a tier: SQLite's own write lock (as a program outside
#: groove would) or groove's write queue (as another groove process writing would).
HOLDS = {
    "sqlite": "tx = db._client.multi_transact(True)\ntx.run('?[a, b] <- [[9, 9]] :put k {a => b}')",
    "queue": "queue = db.write_lock()\nqueue.__enter__()",
}


def hold(path, seconds, how="sqlite"):
    """A process that opens ``path``, holds it as ``how`` says for ``seconds`` (then
    commits, for ``sqlite``) and prints ``held`` once it holds it."""
    code = "\n".join(
        [
            "import sys, time",
            f"sys.path.insert(0, {str(REPO)!r})",
            "from groove_core.store.engine import Engine",
            f"db = Engine('user', 'sqlite', {str(path)!r})",
            HOLDS[how],
            "print('held', flush=True)",
            f"time.sleep({seconds})",
            "tx.commit()" if how == "sqlite" else "",
        ]
    )
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


# ---------------------------------------------------------------- browser tests
CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the console script the README's first command runs, beside this Python
GROOVE = [str(Path(sys.executable).with_name("groove"))]


class _Server:
    """A dashboard server process on a free port, started as ``command(port)`` in ``cwd``
    with ``env`` (output to ``log``); ready once it answers its health check."""

    def __init__(self, command, *, cwd: Path, env: dict, log: Path, timeout: float):
        import subprocess
        import time
        import urllib.request

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                command(self.port), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):
                    return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail("the dashboard did not start:\n" + log.read_text())
                time.sleep(0.3)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it (SIGKILL after 15 s); the exit status."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Dashboard(_Server):
    """A real ``streamlit run dashboard/streamlit_app.py`` on a free port for one home."""

    def __init__(self, home: Path):
        import os

        app = str(REPO / "dashboard" / "streamlit_app.py")
        super().__init__(
            lambda port: [
                *(sys.executable, "-m", "streamlit", "run", app),
                *("--server.port", str(port), "--server.headless", "true"),
                *("--server.address", "127.0.0.1"),
            ],
            cwd=REPO,
            env={**os.environ, "GROOVE_HOME": str(home), "HF_HUB_OFFLINE": "1"},
            log=home / "streamlit.log",
            timeout=60,
        )


class GrooveDashboard(_Server):
    """``groove dashboard --port P ARGS`` (the real command) in its own process, started in
    ``cwd`` with ``env``."""

    def __init__(self, *args: str, cwd: Path, env: dict, log: Path, timeout: float = 90):
        super().__init__(
            lambda port: [*GROOVE, "dashboard", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            log=log,
            timeout=timeout,
        )


@pytest.fixture
def dashboard_factory():
    """``start(home) -> Dashboard``; every server started is stopped after the test."""
    started = []

    def start(home):
        d = Dashboard(Path(home))
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (headless, no sandbox)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run the README's test command (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def wait_idle(pg, timeout: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script after the last action."""
    pg.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )
    pg.wait_for_timeout(300)
    pg.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def choose(pg, label: str, option: str, within=None) -> None:
    """Pick ``option`` in the select box labelled ``label`` (inside ``within``)."""
    combo = (within or pg).get_by_role("combobox", name=label)
    combo.click()
    combo.fill(option)  # a long list: narrow it to the one wanted
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def search_learnings(pg, text: str, mode: str = "Full-text") -> None:
    """On the Learnings page: pick the search ``mode`` and search for ``text``."""
    choose(pg, "Search mode", mode)
    box = pg.get_by_label("Search learnings")
    box.fill(text)
    box.press("Enter")
    wait_idle(pg)


def tick_row(pg, n: int = 1) -> None:
    """Tick row ``n`` (from 1) of the Learnings table: the grid is drawn on a canvas, so
    by position (a 38 px header, then rows of ``learning_table.ROW_HEIGHT``)."""
    from dashboard.components.learning_table import ROW_HEIGHT

    box = pg.get_by_test_id("stDataFrame").first.bounding_box()
    assert box is not None
    pg.mouse.click(box["x"] + 12, box["y"] + 38 + ROW_HEIGHT * (n - 0.5))
    wait_idle(pg)


# ---------------------------------------------------------------- sign-in (OpenID Connect)
@pytest.fixture
def provider(monkeypatch):
    """A real OpenID Connect provider (oidc-provider-mock) on loopback: its base URL.
    Plain http on loopback, which Authlib must be told. A new subject signs in with the
    claim ``email = sub``; alice@example.com also has a name."""
    from oidc_provider_mock import User, run_server_in_thread

    alice = User(
        sub="alice@example.com", claims={"email": "alice@example.com", "name": "Alice Liddell"}
    )
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with run_server_in_thread(port=0, user_claims=[alice]) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_secrets(path: Path, provider: str) -> Path:
    """Write a Streamlit secrets file whose ``[auth]`` points at ``provider``."""
    import secrets

    path.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "groove-dashboard"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    return path


def sign_in(pg, sub: str) -> None:
    """Press "Sign in", authorize as ``sub`` at the provider, wait for the dashboard."""
    import re

    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(re.compile(r"/oauth2/authorize\?"))
    pg.locator("input[name='sub']").fill(sub)
    pg.get_by_role("button", name="Authorize", exact=True).click()
    pg.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    wait_idle(pg)


def signed_in_page(browser, url: str, sub: str):
    """A new browser context whose page has signed in as ``sub`` at ``url``: (context,
    page). Close the context when done."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(url)
    wait_idle(pg)
    sign_in(pg, sub)
    return ctx, pg
