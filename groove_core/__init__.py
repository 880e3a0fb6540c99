"""groove_core: the store of groove, the continual-learning memory of an AI coding assistant.

Learnings live in CozoDB tiers (user, project, enterprise); each tier is migrated on open
and gives typed access to learnings, usage stats, relations, parameters, attribution,
ablation experiments and open-world data, with semantic, full-text and hybrid search::

    from groove_core import Groove

    with Groove() as g:                      # the home of $GROOVE_HOME or platformdirs'
        tier = g.tier("user")
        for hit in g.search("tabs or spaces", mode="hybrid", limit=5):
            print(hit.score, hit.learning.tier, hit.learning.description)

Every write has an actor, a :class:`Principal` (default: ``[identity]`` of the home's
``config.toml``, else the OS account), checked against the tier's roles and recorded in
its hash-chained audit log in the same transaction; in an enterprise tier a contributor's
changes become :class:`Proposal` s that a curator reviews (``Groove.create``, ``edit``,
``delete``, ``promote`` route them).

This module is the public surface: everything in ``__all__`` is supported; other modules
are implementation. Names are imported on first use (PEP 562's module ``__getattr__``), so
``import groove_core`` costs milliseconds and a command loads only what it touches: scipy,
pandas, scikit-learn, umap-learn, torch and detect-secrets load with the stores, analyses
and functions that use them, never with a store's plain reads and writes. The pure
statistics (posterior, ablation, projection, clustering) are imported from their
``groove_core.analysis`` modules.
"""

import importlib

#: Where each public name is defined: module -> names.
_SOURCES: dict[str, tuple[str, ...]] = {
    "groove_core.config": ("Config", "TierConfig", "home_dir"),
    "groove_core.embed": ("Embedder", "MiniLMEmbedder", "default_embedder"),
    "groove_core.errors": (
        "AuditIntegrityError",
        "ConfigError",
        "ContentBlockedError",
        "DataContractError",
        "DatabaseError",
        "EmbeddingError",
        "GrooveError",
        "ImportFileError",
        "MigrationError",
        "NotFoundError",
        "PermissionDeniedError",
        "ReadOnlyTierError",
        "SchemaTooNewError",
        "TierBusyError",
        "TierUnavailableError",
        "ValidationError",
    ),
    "groove_core.io.export": ("ImportStats", "export_file", "import_file"),
    "groove_core.io.importer": ("ImportReport", "import_paths"),
    "groove_core.model.access": ("Action", "AuditEntry", "Grant", "Principal", "Role"),
    "groove_core.model.attribution": (
        "AblationExperiment",
        "AblationResult",
        "AttributionRecord",
        "LearningStatus",
        "LearningValue",
        "SessionOutcome",
    ),
    "groove_core.model.learning": (
        "Learning",
        "LearningCategory",
        "LearningContent",
        "LearningSource",
    ),
    "groove_core.model.openworld": (
        "AnomalyCluster",
        "CapabilityGap",
        "FailureRecord",
        "OpenWorldEvent",
        "PatternFingerprint",
    ),
    "groove_core.model.params": ("AdaptiveParam", "SystemParam"),
    "groove_core.model.proposal": ("Proposal", "ProposalKind", "ProposalStatus"),
    "groove_core.model.relations": ("LearningRelation", "RelationType"),
    "groove_core.model.scope": ("Scope",),
    "groove_core.model.usage": ("Outcome", "OutcomeEvent", "UsageStats"),
    "groove_core.scan": ("Finding",),
    "groove_core.store.access": ("AccessStore",),
    "groove_core.store.attribution": ("AttributionStore",),
    "groove_core.store.audit": ("AuditLog", "Verification"),
    "groove_core.store.history": ("Edit",),
    "groove_core.store.learnings": ("LearningStore",),
    "groove_core.store.listing": ("LearningFilter", "Page"),
    "groove_core.store.relations": ("Related",),
    "groove_core.store.scanning": ("ScanMark",),
    "groove_core.store.migrations": ("MigrationReport", "MigrationStatus", "migrate"),
    "groove_core.store.openworld": ("OpenWorldStore",),
    "groove_core.store.params": ("ParamStore",),
    "groove_core.store.proposals": ("ProposalStore",),
    "groove_core.store.search": ("SearchHit", "SearchStore"),
    "groove_core.store.writer": ("TierWriter",),
    "groove_core.tiers": ("Groove", "Submission", "Tier", "TierProblem"),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562), then keep it here."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
