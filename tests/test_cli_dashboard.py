"""``groove dashboard``: what it refuses to start (an address beyond this machine without
sign-in, ``--auth oidc`` without a usable ``[auth]`` secrets section), and that stopping
it with a signal stops its Streamlit server and frees the port."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import GrooveDashboard
from typer.testing import CliRunner

from groove_core import serve
from groove_core.cli import app
from groove_core.errors import DashboardAuthError
from groove_core.serve import AUTH_ENV, AUTH_KEYS

AUTH = {
    "redirect_uri": "https://groove.example.com/oauth2callback",
    "cookie_secret": secrets.token_hex(32),
    "client_id": "groove",
    "client_secret": secrets.token_hex(16),
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}


@pytest.fixture
def started(tmp_path, monkeypatch):
    """Runs ``groove dashboard`` in-process; the server it would start is recorded
    (command and environment) instead of run."""
    runs: list[tuple[list[str], dict]] = []

    def fake_run(cmd, *, env=None, cwd=None, grace=0):
        runs.append((list(cmd), dict(env or {})))
        return 0

    monkeypatch.setattr(serve, "run_supervised", fake_run)
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return runs


def dashboard(*args: str):
    return CliRunner().invoke(app, ["dashboard", *args])


def secrets_file(path: Path, auth: dict | None, extra: str = "") -> Path:
    lines = [extra]
    if auth is not None:
        lines.append("[auth]")
        lines += [f'{k} = "{v}"' for k, v in auth.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", "192.0.2.10"])
def test_an_address_beyond_this_machine_needs_sign_in(started, address):
    result = dashboard("--address", address)
    assert result.exit_code == 1
    assert "--auth oidc" in result.output and "--no-auth" in result.output
    assert "Traceback" not in result.output
    assert started == []  # no server was started


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_serves_as_the_local_account_without_sign_in(started, address):
    result = dashboard("--address", address)
    assert result.exit_code == 0, result.output
    ((cmd, env),) = started
    assert option(cmd, "--server.address") == address and env[AUTH_ENV] == "none"
    assert "--secrets.files" not in cmd and "warning" not in result.output


def test_no_auth_serves_beyond_this_machine_with_a_warning(started):
    result = dashboard("--address", "0.0.0.0", "--no-auth", "--port", "8600")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "without sign-in" in result.output
    ((cmd, env),) = started
    assert (option(cmd, "--server.address"), option(cmd, "--server.port")) == ("0.0.0.0", "8600")
    assert env[AUTH_ENV] == "none"


def test_auth_oidc_starts_with_the_secrets_file(started, tmp_path):
    path = secrets_file(tmp_path / "team.toml", AUTH)
    result = dashboard("--address", "0.0.0.0", "--auth", "oidc", "--secrets", str(path))
    assert result.exit_code == 0, result.output
    ((cmd, env),) = started
    assert option(cmd, "--secrets.files") == str(path.resolve()) and env[AUTH_ENV] == "oidc"
    assert "sign-in: OpenID Connect" in result.output


def test_auth_oidc_reads_the_default_secrets_file_of_this_folder(started, tmp_path):
    (tmp_path / ".streamlit").mkdir()
    path = secrets_file(tmp_path / ".streamlit" / "secrets.toml", AUTH)
    assert dashboard("--auth", "oidc").exit_code == 0
    assert option(started[0][0], "--secrets.files") == str(path.resolve())


def test_auth_oidc_without_a_secrets_file_is_refused(started, tmp_path):
    result = dashboard("--auth", "oidc")
    assert result.exit_code == 1 and started == []
    assert str(tmp_path / ".streamlit" / "secrets.toml") in result.output
    assert "does not exist" in result.output and "--secrets FILE" in result.output


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ({"text": '[connections]\nurl = "x"'}, "has no [auth] section"),
        ({"text": "[auth\nredirect_uri ="}, "cannot be read as TOML"),
        ({"auth": {}}, "is missing " + ", ".join(AUTH_KEYS)),
        (
            {"auth": {k: AUTH[k] for k in ("redirect_uri", "client_id", "server_metadata_url")}},
            "is missing cookie_secret, client_secret (",
        ),
        ({"auth": {**AUTH, "client_id": "  "}}, "is missing client_id ("),
        ({"auth": {**AUTH, "cookie_secret": "hunter2"}}, "cookie_secret must be at least 32"),
        (
            {"auth": {**AUTH, "client_id": "<client id from your provider>"}},
            "still holds the README's <placeholders> in client_id:",
        ),
        (
            {"auth": {**AUTH, "redirect_uri": "http://localhost:8501/"}},
            "redirect_uri must be the dashboard's address followed by /oauth2callback",
        ),
        (
            {"auth": {**AUTH, "server_metadata_url": "id.example.com"}},
            "server_metadata_url must be an http(s) URL",
        ),
    ],
)
def test_auth_oidc_with_an_unusable_auth_section_says_what_is_wrong(
    started, tmp_path, content, says
):
    path = tmp_path / "team.toml"
    if "text" in content:
        path.write_text(content["text"])
    else:
        secrets_file(path, content["auth"])
    result = dashboard("--auth", "oidc", "--secrets", str(path))
    assert result.exit_code == 1 and started == []
    assert says in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_the_readme_template_names_every_key_and_is_refused_until_filled_in(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (template,) = re.findall(r"```toml\n(# \.streamlit/secrets\.toml.*?)```", text, re.S)
    assert set(tomllib.loads(template)["auth"]) == set(AUTH_KEYS)
    path = tmp_path / "secrets.toml"
    path.write_text(template)
    with pytest.raises(DashboardAuthError, match="placeholders"):
        serve.check_auth_secrets(path)


def test_contradictory_options_are_refused(started, tmp_path):
    path = secrets_file(tmp_path / "team.toml", AUTH)
    both = dashboard("--auth", "oidc", "--no-auth", "--secrets", str(path))
    assert both.exit_code == 1 and "contradict" in both.output
    stray = dashboard("--secrets", str(path))
    assert stray.exit_code == 1 and "use it with --auth oidc" in stray.output
    assert started == []


# ---------------------------------------------------------------- stopping the server
def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def serving(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_groove_dashboard_stops_its_server(tmp_path, sig):
    env = {**os.environ, "GROOVE_HOME": str(tmp_path / "home")}
    server = GrooveDashboard(cwd=tmp_path, env=env, log=tmp_path / "dashboard.log")
    (streamlit,) = children(server.proc.pid)
    assert "streamlit" in (Path("/proc") / str(streamlit) / "cmdline").read_text()
    server.proc.send_signal(sig)
    assert server.proc.wait(10) == 128 + sig
    assert not serving(server.port)
    with socket.socket() as s:  # nothing listens there any more
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", server.port))
    assert not alive(streamlit)


CHILD = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(60)
"""
SUPERVISOR = """
import sys
from groove_core.serve import run_supervised
sys.exit(run_supervised([sys.executable, "-c", sys.argv[1], sys.argv[2]], grace=1.0))
"""


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    pid_file = tmp_path / "child.pid"
    sup = subprocess.Popen([sys.executable, "-c", SUPERVISOR, CHILD, str(pid_file)])
    deadline = time.time() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline and sup.poll() is None
        time.sleep(0.05)
    child = int(pid_file.read_text())
    began = time.monotonic()
    sup.send_signal(signal.SIGTERM)
    assert sup.wait(10) == 128 + signal.SIGTERM
    assert 1.0 <= time.monotonic() - began < 5  # waited out the grace, then killed
    assert not alive(child)
