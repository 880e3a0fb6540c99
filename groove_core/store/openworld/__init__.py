"""Open-world store: fingerprints with HNSW search, anomaly clusters and their members,
capability gaps with their review history, failures and novelty events
(docs/architecture.md#relations-v2).

One module per concern, composed into :class:`OpenWorldStore`:

- :mod:`.fingerprints`: ``pattern_fingerprint`` and its HNSW index;
- :mod:`.clusters`: ``anomaly_cluster``, ``cluster_member``, ``cluster_proposal_dismissed``;
- :mod:`.gaps`: ``capability_gap``, ``gap_history``, ``gap_context``;
- :mod:`.records`: ``failure_record``, ``novelty_event``;
- :mod:`.batch`: many rows in one transaction, synthetic runs (``openworld_synthetic``);
- :mod:`.overview`: row counts and learning labels;
- :mod:`.rows` holds the Cozo statements and row conversions, :mod:`.base` the shape.

Two database shapes are read (told apart by the relations' columns, see
:meth:`OpenWorldStore.shape`):

- ``groove``: the open-world relations as groove creates them (version 2) plus version
  6's extras (``gap_history``, ``gap_context``, ``cluster_proposal_dismissed``,
  ``openworld_synthetic``);
- ``vibes``: what the shipped vibes-groove writes at version 2 (cluster members inside
  ``anomaly_cluster.members_json``, no ``associated_learning``, embeddings only as JSON,
  no HNSW index; docs/architecture.md#data-contract). Such a tier is read as it is;
  opening it through :class:`groove_core.tiers.Groove` migrates it to ``groove``
  (version 6). Writes need the ``groove`` shape.

Every value is bound as a ``$param``; every write of several rows is one chained Cozo
program (one transaction).
"""

from __future__ import annotations

from groove_core.store.openworld.batch import Batches, OpenWorldBatch
from groove_core.store.openworld.clusters import DismissedProposal
from groove_core.store.openworld.fingerprints import SimilarFingerprint
from groove_core.store.openworld.gaps import Gaps
from groove_core.store.openworld.overview import Overview


class OpenWorldStore(Gaps, Batches, Overview):
    """Typed access to the open-world relations of one tier (the open-world store of
    docs/architecture.md#relations-v2).

    Args:
        db: the tier's open engine.
        learnings: the tier's :class:`~groove_core.store.learnings.LearningStore` (its
            embedder and embedding cache; learning descriptions for labels).

    Writes take an ``actor`` (default: the tier's principal). Recording what the assistant
    observed (fingerprints, clusters it formed, gaps, failures, events) needs the
    contributor role in an enterprise tier; a person's curation (clusters made or changed
    by hand, gap review, dismissals, deletions) needs a curator.

    Raises (every method): DatabaseError when the tier has no open-world relations, or
    on a write to a tier still in vibes-groove's shape; ValidationError on malformed
    input; PermissionDeniedError when ``actor`` lacks the role.
    """


__all__ = [
    "DismissedProposal",
    "OpenWorldBatch",
    "OpenWorldStore",
    "SimilarFingerprint",
]
