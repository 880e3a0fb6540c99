"""The search modes of a tier's learnings (docs/architecture.md#vocabulary), kept apart
from :mod:`groove_core.store.search` so that a command can offer them without loading the
search indexes (numpy, hnswlib, tantivy)."""

#: ``semantic``: nearest embeddings (HNSW); ``fulltext``: BM25 over description and
#: insight; ``hybrid``: both, fused by reciprocal rank (Cormack, Clarke & Büttcher,
#: "Reciprocal rank fusion outperforms Condorcet and individual rank learning methods",
#: SIGIR 2009).
MODES = ("semantic", "fulltext", "hybrid")
#: The mode a search uses when none is named.
DEFAULT_MODE = "hybrid"

__all__ = ["DEFAULT_MODE", "MODES"]
