"""Shared fixtures: temporary homes, tiers, and a small deterministic test embedder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cursorrules" / "rules"


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


def make_learning(description="Use tabs", insight="Indent with tabs", category="preference",
                  scope="global", source=None):
    from groove_core.model.learning import Learning, LearningContent, LearningSource
    from groove_core.model.scope import Scope

    return Learning.new(Scope.parse(scope), category, LearningContent(description, insight),
                        source or LearningSource.user_created())
