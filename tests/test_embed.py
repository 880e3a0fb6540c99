"""The real embedding model: a search query (a small call, run on one thread) gets the
vector the same text gets in a batch, and torch's thread count is back afterwards, also
after calls that overlap in threads or fail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from groove_core.embed import SMALL_CALL, MiniLMEmbedder

torch = pytest.importorskip("torch")

QUERY = "how do I roll back a database migration"


@pytest.fixture(scope="module")
def model() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_a_query_gets_the_vector_it_gets_in_a_batch(model):
    others = [f"unrelated rule number {i} about code style" for i in range(SMALL_CALL)]
    alone = model.embed([QUERY])[0]
    batch = model.embed([QUERY, *others])
    assert batch.shape == (SMALL_CALL + 1, 384)
    assert float(alone @ batch[0]) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)


def test_the_thread_count_is_restored_after_overlapping_queries(model):
    before = torch.get_num_threads()
    with ThreadPoolExecutor(4) as pool:
        vectors = list(pool.map(lambda i: model.embed([f"{QUERY} {i}"]), range(16)))
    assert all(v.shape == (1, 384) for v in vectors)
    assert torch.get_num_threads() == before


def test_the_thread_count_is_restored_when_a_query_fails(model, monkeypatch):
    before = torch.get_num_threads()
    loaded = model._load()

    def broken(*args, **kwargs):
        assert torch.get_num_threads() == 1  # the small call runs on one thread
        raise RuntimeError("model failed")

    monkeypatch.setattr(loaded, "encode", broken)
    with pytest.raises(RuntimeError, match="model failed"):
        model.embed([QUERY])
    assert torch.get_num_threads() == before
