"""Start-up: importing groove_core and running quick commands loads none of the heavy
libraries (statistics, data frames, arrays, machine learning, the embedding model, vector
indexes, the content scanner); they are imported where they are used. Checked in fresh
interpreters through ``sys.modules``: a behaviour test, not a timing test (speed:
benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: What quick commands must not load: each costs 0.1-2 s of a 0.5 s start-up budget.
HEAVY = (
    *("scipy", "pandas", "sklearn", "umap", "numba", "torch", "detect_secrets"),
    *("numpy", "pyarrow", "hnswlib", "usearch", "transformers", "sentence_transformers"),
)
REPO = Path(__file__).resolve().parents[1]

_REPORT = """
import json, sys
{body}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _heavy_after(body: str, home: Path) -> list[str]:
    """The heavy packages a fresh interpreter holds after running ``body``."""
    env = {**os.environ, "GROOVE_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT.format(body=body, heavy=HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_groove_core_loads_no_heavy_library(tmp_path):
    body = "import groove_core\nassert groove_core.Groove.__name__ == 'Groove'"
    assert _heavy_after(body, tmp_path) == []


@pytest.mark.parametrize("command", [["status"], ["list", "--json"]])
def test_quick_commands_on_an_empty_home_load_no_heavy_library(tmp_path, command):
    body = (
        "from groove_core.cli import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit as end:\n    assert not end.code, end\n"
    )
    assert _heavy_after(body, tmp_path / "home") == []
    assert (tmp_path / "home" / "user.db").exists()  # the command did open the user tier


def test_every_public_name_resolves_and_unknown_names_raise():
    import groove_core

    assert {n for n in groove_core.__all__ if getattr(groove_core, n) is None} == set()
    assert set(groove_core.__all__) <= set(dir(groove_core))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        groove_core.NoSuchThing  # noqa: B018
