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
are implementation. The pure statistics (posterior, ablation, projection, clustering)
are imported from their ``groove_core.analysis`` modules, so that opening a store does
not load scikit-learn, umap-learn or numba.
"""

from groove_core.config import Config, TierConfig, home_dir
from groove_core.embed import Embedder, MiniLMEmbedder, default_embedder
from groove_core.errors import (
    AuditIntegrityError,
    ConfigError,
    ContentBlockedError,
    DatabaseError,
    EmbeddingError,
    GrooveError,
    ImportFileError,
    MigrationError,
    NotFoundError,
    PermissionDeniedError,
    SchemaTooNewError,
    TierBusyError,
    TierUnavailableError,
    ValidationError,
)
from groove_core.io.export import ImportStats, export_file, import_file
from groove_core.io.importer import ImportReport, import_paths
from groove_core.model.access import Action, AuditEntry, Grant, Principal, Role
from groove_core.model.attribution import (
    AblationExperiment,
    AblationResult,
    AttributionRecord,
    LearningStatus,
    LearningValue,
    SessionOutcome,
)
from groove_core.model.learning import Learning, LearningCategory, LearningContent, LearningSource
from groove_core.model.openworld import (
    AnomalyCluster,
    CapabilityGap,
    FailureRecord,
    OpenWorldEvent,
    PatternFingerprint,
)
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.proposal import Proposal, ProposalKind, ProposalStatus
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.model.scope import Scope
from groove_core.model.usage import Outcome, OutcomeEvent, UsageStats
from groove_core.scan import Finding
from groove_core.store.access import AccessStore
from groove_core.store.attribution import AttributionStore
from groove_core.store.audit import AuditLog, Verification
from groove_core.store.learnings import (
    Edit,
    LearningFilter,
    LearningStore,
    Page,
    Related,
    ScanMark,
)
from groove_core.store.migrations import MigrationReport, MigrationStatus, migrate
from groove_core.store.openworld import OpenWorldStore
from groove_core.store.params import ParamStore
from groove_core.store.proposals import ProposalStore
from groove_core.store.search import SearchHit, SearchStore
from groove_core.store.writer import TierWriter
from groove_core.tiers import Groove, Submission, Tier, TierProblem

__all__ = [
    "AblationExperiment",
    "AblationResult",
    "AccessStore",
    "Action",
    "AdaptiveParam",
    "AnomalyCluster",
    "AttributionRecord",
    "AttributionStore",
    "AuditEntry",
    "AuditIntegrityError",
    "AuditLog",
    "CapabilityGap",
    "Config",
    "ConfigError",
    "ContentBlockedError",
    "DatabaseError",
    "Edit",
    "Embedder",
    "EmbeddingError",
    "FailureRecord",
    "Finding",
    "Grant",
    "Groove",
    "GrooveError",
    "ImportFileError",
    "ImportReport",
    "ImportStats",
    "Learning",
    "LearningCategory",
    "LearningContent",
    "LearningFilter",
    "LearningRelation",
    "LearningSource",
    "LearningStatus",
    "LearningStore",
    "LearningValue",
    "MigrationError",
    "MigrationReport",
    "MigrationStatus",
    "MiniLMEmbedder",
    "NotFoundError",
    "OpenWorldEvent",
    "OpenWorldStore",
    "Outcome",
    "OutcomeEvent",
    "Page",
    "ParamStore",
    "PatternFingerprint",
    "PermissionDeniedError",
    "Principal",
    "Proposal",
    "ProposalKind",
    "ProposalStatus",
    "ProposalStore",
    "Related",
    "RelationType",
    "Role",
    "ScanMark",
    "SchemaTooNewError",
    "Scope",
    "SearchHit",
    "SearchStore",
    "SessionOutcome",
    "Submission",
    "SystemParam",
    "Tier",
    "TierBusyError",
    "TierConfig",
    "TierProblem",
    "TierUnavailableError",
    "TierWriter",
    "UsageStats",
    "ValidationError",
    "Verification",
    "default_embedder",
    "export_file",
    "home_dir",
    "import_file",
    "import_paths",
    "migrate",
]
