"""Serving the dashboard: who may reach it, and the Streamlit process that serves it.

``groove dashboard`` refuses to serve beyond this machine without sign-in: an address
that is not loopback needs ``--auth oidc`` (people sign in through OpenID Connect with
Streamlit's ``st.login``) or an explicit ``--no-auth``. Under ``--auth oidc`` the
``[auth]`` section of a Streamlit secrets file must name the provider and the cookie
secret before the server starts (the keys of Streamlit's ``st.login`` documentation).

The server runs as a child process in its own process group; SIGINT, SIGTERM and SIGHUP
sent to ``groove dashboard`` are forwarded to that group, and a server still running
after a grace period is killed, so stopping ``groove dashboard`` always frees the port.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

from groove_core.errors import DashboardAuthError

#: Environment variable through which ``groove dashboard`` tells the Streamlit script how
#: people are identified (a :class:`DashboardAuth` value).
AUTH_ENV = "GROOVE_DASHBOARD_AUTH"
#: Keys the ``[auth]`` section needs for ``st.login()`` with its default provider.
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
#: Least length of ``cookie_secret``: it signs the identity cookie, so a guessable one
#: lets anyone forge a signed-in user.
MIN_COOKIE_SECRET = 32
#: Signals that stop the server.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Seconds the server has to stop after a forwarded signal before it is killed.
GRACE_SECONDS = 10.0


class DashboardAuth(StrEnum):
    """How the dashboard identifies people: ``none`` (the account running the server acts)
    or ``oidc`` (each person signs in through OpenID Connect)."""

    none = "none"
    oidc = "oidc"


def is_loopback(address: str) -> bool:
    """True when every address ``address`` (an IP or a host name) resolves to is a
    loopback address (127.0.0.0/8, ::1). An empty address (all interfaces), an unknown
    host or one that also resolves elsewhere is not loopback."""
    if not address.strip():
        return False
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(address, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_exposure(address: str, auth: DashboardAuth, no_auth: bool) -> str | None:
    """Refuse to serve beyond this machine without sign-in.

    Returns:
        A warning for people when ``no_auth`` serves a non-loopback address, else None.

    Raises:
        DashboardAuthError: a non-loopback ``address`` with ``auth`` none and no
            ``no_auth``; or ``no_auth`` together with ``auth`` oidc.
    """
    if no_auth and auth is DashboardAuth.oidc:
        raise DashboardAuthError("--no-auth and --auth oidc contradict each other: pick one")
    if is_loopback(address) or auth is DashboardAuth.oidc:
        return None
    if not no_auth:
        raise DashboardAuthError(
            f"refusing to serve the dashboard on {address or 'every interface'} without "
            "sign-in: anyone who reaches it could read and edit every tier under your "
            "name. Use --auth oidc (people sign in; see the README, 'Dashboard for a "
            "team') or, if the network itself is trusted, --no-auth"
        )
    return (
        f"serving on {address or 'every interface'} without sign-in (--no-auth): anyone who "
        "reaches this port can read and edit every tier, and their changes are recorded "
        "as the account running this server"
    )


def default_secrets_file() -> Path:
    """``.streamlit/secrets.toml`` in the current folder (where Streamlit looks first)."""
    return Path.cwd() / ".streamlit" / "secrets.toml"


def check_auth_secrets(path: Path) -> Path:
    """Check that the secrets file ``path`` configures ``st.login()``.

    The ``[auth]`` section must hold every key of :data:`AUTH_KEYS` as a non-empty
    string, ``redirect_uri`` an absolute http(s) URL ending in ``/oauth2callback`` (the
    route Streamlit serves), ``server_metadata_url`` an absolute http(s) URL and
    ``cookie_secret`` at least :data:`MIN_COOKIE_SECRET` characters.

    Returns:
        ``path`` made absolute.

    Raises:
        DashboardAuthError: the file is missing or not TOML, or ``[auth]`` is missing,
            lacks keys (all of them named), still holds a ``<placeholder>`` or holds a
            value above that is not usable.
    """
    path = Path(path).expanduser().resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DashboardAuthError(
            f"--auth oidc needs a secrets file with an [auth] section; {path} does not "
            "exist (pass another with --secrets FILE; see the README, 'Dashboard for a team')"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DashboardAuthError(f"{path} cannot be read as TOML: {err}") from None
    auth = data.get("auth")
    if not isinstance(auth, Mapping):
        raise DashboardAuthError(
            f"{path} has no [auth] section; --auth oidc needs one with "
            f"{', '.join(AUTH_KEYS)} (see the README, 'Dashboard for a team')"
        )
    missing = [k for k in AUTH_KEYS if not (isinstance(auth.get(k), str) and auth[k].strip())]
    if missing:
        raise DashboardAuthError(
            f"[auth] in {path} is missing {', '.join(missing)} "
            f"(each a non-empty string; needed: {', '.join(AUTH_KEYS)})"
        )
    placeholders = [k for k in AUTH_KEYS if "<" in auth[k] and ">" in auth[k]]
    if placeholders:
        raise DashboardAuthError(
            f"[auth] in {path} still holds the README's <placeholders> in "
            f"{', '.join(placeholders)}: put your provider's values there"
        )
    problems = []
    if not _is_http_url(auth["redirect_uri"]) or not urlparse(auth["redirect_uri"]).path.endswith(
        "/oauth2callback"
    ):
        problems.append(
            "redirect_uri must be the dashboard's address followed by /oauth2callback, "
            "e.g. https://groove.example.com/oauth2callback"
        )
    if not _is_http_url(auth["server_metadata_url"]):
        problems.append(
            "server_metadata_url must be an http(s) URL, usually ending in "
            "/.well-known/openid-configuration"
        )
    if len(auth["cookie_secret"]) < MIN_COOKIE_SECRET:
        problems.append(
            f"cookie_secret must be at least {MIN_COOKIE_SECRET} characters of random text "
            '(python3 -c "import secrets; print(secrets.token_hex(32))")'
        )
    if problems:
        raise DashboardAuthError(f"[auth] in {path}: " + "; ".join(problems))
    return path


def _is_http_url(value: str) -> bool:
    url = urlparse(value)
    return url.scheme in ("http", "https") and bool(url.netloc)


def streamlit_command(
    app_file: Path, *, port: int, address: str, secrets: Path | None = None
) -> list[str]:
    """The ``python -m streamlit run`` command line serving ``app_file`` headless on
    ``address:port``, reading ``secrets`` (Streamlit's ``--secrets.files``) when given."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
    ]
    if secrets is not None:
        cmd += ["--secrets.files", str(secrets)]
    return cmd


def run_supervised(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    grace: float = GRACE_SECONDS,
) -> int:
    """Run ``cmd`` in a process group of its own until it exits, forwarding the
    :data:`STOP_SIGNALS` this process receives to that group; ``grace`` seconds after
    the first one, a group still running is killed (SIGKILL). Call from the main thread.

    Returns:
        The exit status for the shell: ``128 + signal number`` when a signal stopped
        it (143 for SIGTERM, 130 for SIGINT), else the child's own status (``128 + n``
        when the child died of signal ``n``).

    Raises:
        OSError: ``cmd`` cannot be started (nothing is left running).
    """
    received: list[int] = []
    child: list[subprocess.Popen] = []

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child[0].pid, signum)

    previous = {s: signal.signal(s, forward) for s in STOP_SIGNALS}
    try:
        proc = subprocess.Popen(
            list(cmd), env=env, cwd=cwd, stdin=subprocess.DEVNULL, process_group=0
        )
        child.append(proc)
        if received:  # a signal came while the child was starting
            forward(received[-1], None)
        deadline = None
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + grace
                if deadline is not None and time.monotonic() >= deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    code = proc.wait()
                    break
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if child and child[0].poll() is None:  # an error here: never leave it serving
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child[0].pid, signal.SIGKILL)
            child[0].wait()
    if received:
        return 128 + received[0]
    return code if code >= 0 else 128 - code


__all__ = [
    "AUTH_ENV",
    "AUTH_KEYS",
    "GRACE_SECONDS",
    "MIN_COOKIE_SECRET",
    "STOP_SIGNALS",
    "DashboardAuth",
    "check_auth_secrets",
    "check_exposure",
    "default_secrets_file",
    "is_loopback",
    "run_supervised",
    "streamlit_command",
]
