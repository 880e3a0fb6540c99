"""The README opens with the two commands of a fresh machine, and CI runs the second."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    return [b.strip() for b in re.findall(r"```(?:bash|sh)\n(.*?)```", text, re.S)]


def test_readme_opens_with_the_dashboard_and_the_test_commands():
    text = (REPO / "README.md").read_text()
    first, second = _blocks()[:2]
    assert text.index(first) < 600, "the two commands must open the README"
    assert "pip install -e ." in first and first.endswith("groove dashboard")
    assert "apt-get install -y chromium" in second
    assert "pip install -e '.[test]'" in second and second.endswith("python3 -m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    second = _blocks()[1]
    lines = [
        ln
        for ln in (REPO / ".ci" / "run").read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and not ln.startswith(("set ", "cd "))
    ]
    assert [shlex.split(ln) for ln in lines] == [shlex.split(second)]


def test_the_console_script_and_the_dashboard_entry_exist():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'groove = "groove_core.cli:app"' in pyproject
    assert (REPO / "dashboard" / "streamlit_app.py").is_file()
    assert "torch==2.13.0" in pyproject, "an unpinned torch pulls gigabytes of CUDA packages"
