"""`groove simulate --part openworld --corpus` from the command line, with the real
embedding model: contexts from the tier's learnings and the rule-file corpus, novel themes
that lie far from them (what the fingerprint map must show), clusters, gaps, failures and
events; `--remove` takes exactly that out again."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS, HashingEmbedder, make_learning, needs_corpus
from typer.testing import CliRunner

from groove_core.cli import app
from groove_core.embed import content_hash
from groove_core.simulate.openworld import THEMES
from groove_core.tiers import Groove

pytestmark = pytest.mark.model


@needs_corpus
def test_simulate_openworld_from_learnings_and_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("GROOVE_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        g.user.learnings.store_many(
            [
                make_learning("Prefer pathlib over os.path", "Use pathlib.Path for file paths"),
                make_learning("Type hints on public functions", "Annotate every public API"),
                make_learning("Use pytest fixtures", "Share setup through fixtures"),
                make_learning("Format with ruff", "Run ruff format before committing"),
            ]
        )
    args = ["simulate", "--home", str(tmp_path), "--part", "openworld", "--seed", "2"]
    done = CliRunner().invoke(app, [*args, "--contexts", "40", "--corpus", str(CORPUS)])
    assert done.exit_code == 0, done.output
    assert "SYNTHETIC open-world data" in done.output

    # read back with a test embedder (which embeds nothing here), from the simulation tier
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        assert g.user.openworld.load_fingerprints() == []  # the real tier is untouched
        sim = g.tier("simulation:demo", create=False)
        ow = sim.openworld
        fps = ow.load_fingerprints()
        assert len(fps) == 40 and all(f.embedding.shape == (384,) for f in fps)
        sentences = tuple(s for theme in THEMES for s in theme[4])
        novel = [f for f in fps if f.context_summary.startswith(sentences)]
        familiar = [f for f in fps if not f.context_summary.startswith(sentences)]
        learnings = {lr.id for lr in sim.learnings.iter_all()}  # the copies
        from_learnings = [f for f in familiar if f.associated_learning]
        assert {f.associated_learning for f in from_learnings} == learnings
        assert len(familiar) > len(from_learnings)  # the rest are corpus lines
        assert len(novel) == 40 - len(familiar) >= 5 * 4  # every theme, 4 contexts or more
        # embedded by all-MiniLM-L6-v2 (the tier's embedding cache is keyed by the model)
        keys = {content_hash(f.context_summary, "all-MiniLM-L6-v2"): f for f in novel}
        cached = sim.db.run(
            "?[k, v] := *embedding_cache{content_hash: k, embedding: v}, is_in(k, $keys)",
            {"keys": list(keys)},
        ).rows
        assert len(cached) == len(novel)
        assert all(np.allclose(keys[k].embedding, v) for k, v in cached)
        clusters, gaps = ow.load_clusters(), ow.load_gaps()
        assert len(clusters) == 3 and len(gaps) == 4
        unit = {f.hash: f.embedding / np.linalg.norm(f.embedding) for f in fps}
        known = np.stack([unit[f.hash] for f in familiar])
        for c in clusters:
            m = np.stack([unit[h] for h in c.members])
            within = (m @ m.T)[np.triu_indices(len(m), 1)].mean()
            across = (m @ known.T).mean()
            # a novel theme is tight, and far from what the tier knows (real embeddings)
            assert within > 0.4 and across < 0.15, (within, across)
        assert all(ow.gap_failures(gp.id) for gp in gaps if gp.failure_count > 0)
        assert {e.event_type for e in ow.load_novelty_events(limit=1000)} >= {
            "novelty_detected",
            "cluster_updated",
            "gap_created",
            "gap_status_changed",
        }

    removed = CliRunner().invoke(app, [*args, "--remove"])
    assert removed.exit_code == 0, removed.output
    with Groove(tmp_path, embedder=HashingEmbedder(), project=tmp_path) as g:
        ow = g.tier("simulation:demo", create=False).openworld
        assert ow.counts() == dict.fromkeys(ow.counts(), 0)
        assert g.user.openworld.counts() == dict.fromkeys(g.user.openworld.counts(), 0)
