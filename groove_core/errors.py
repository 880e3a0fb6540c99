"""One exception hierarchy for groove.

Every error groove raises on purpose is a :class:`GrooveError`; callers (the CLI, the
dashboard) catch that one class and show ``str(err)``, which is written for people.
"""

from __future__ import annotations


class GrooveError(Exception):
    """Base class of every error groove raises on purpose."""


class ConfigError(GrooveError):
    """The home's ``config.toml`` is malformed or names an unknown engine or tier."""


class DatabaseError(GrooveError):
    """A query failed inside Cozo (the message carries Cozo's own explanation)."""


class DataContractError(DatabaseError):
    """A row of a tier does not follow the data contract (docs/architecture.md#relations-v1):
    another program, or a newer version of one, wrote a value groove cannot read.

    Attributes:
        tier: the tier's name.
        key: the row's key (a learning's or a proposal's id).
        detail: what is wrong with it, for people.
    """

    def __init__(self, tier: str | None, key: object, detail: str, what: str = "learning"):
        super().__init__(
            f"{what} {key!r} in tier '{tier}' does not follow the data contract: {detail}"
        )
        self.tier, self.key, self.detail = tier, key, detail


class ReadOnlyTierError(DatabaseError):
    """A write to a tier whose database this process may only read (file permissions or
    a read-only mount); nothing was written."""


class TierUnavailableError(DatabaseError):
    """A tier's database cannot be opened or is held by another process.

    Attributes:
        tier: the tier's name (``user``, ``project:<path>``, ``enterprise:<org>``).
        reason: what went wrong, for people.
    """

    def __init__(self, tier: str, reason: str):
        super().__init__(f"tier '{tier}' cannot be used: {reason}")
        self.tier = tier
        self.reason = reason


class TierBusyError(TierUnavailableError):
    """Another process held the tier's write lock for longer than the retry budget."""


class SchemaTooNewError(TierUnavailableError):
    """The tier was written by a newer groove (its schema version is unknown here)."""


class MigrationError(GrooveError):
    """A schema migration failed; the tier is left at the version it had before."""


class NotFoundError(GrooveError):
    """No row with the requested id exists."""


class ValidationError(GrooveError):
    """A value does not fit the data model (bad category, empty description, ...)."""


class ImportFileError(GrooveError):
    """An import file is malformed or hostile; nothing from it was written.

    Attributes:
        path: the offending file.
        line: 1-based line number, or ``None`` when the whole file is at fault.
    """

    def __init__(self, path: str, line: int | None, reason: str):
        shown = str(path)
        if not shown.isprintable() or len(shown) > 200:  # keep the message on one line
            shown = repr(shown) if len(shown) <= 200 else repr(shown[:197]) + "..."
        where = f"{shown}:{line}" if line else shown
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class EmbeddingError(GrooveError):
    """The embedding model could not be loaded or failed on the input."""


class PermissionDeniedError(GrooveError):
    """The acting principal's role in a tier does not allow a write; nothing was written.

    Attributes:
        action: the refused action (``learning.edit``, ``access.grant``, ...).
        tier: the tier's name.
        needed: the least role that may perform it (``curator``, ...), or a reason.
        principal: the refused principal's id.
    """

    def __init__(self, action: str, tier: str, needed: str, principal: str, detail: str = ""):
        msg = (
            f"{principal} may not {action} in tier '{tier}': it needs the {needed} role"
            if not detail
            else f"{principal} may not {action} in tier '{tier}': {detail}"
        )
        super().__init__(msg)
        self.action = action
        self.tier = tier
        self.needed = needed
        self.principal = principal


class ContentBlockedError(GrooveError):
    """The content scan found secrets or prompt-injection text; nothing was written.

    Attributes:
        findings: the scanner's findings (:class:`groove_core.scan.Finding`).
    """

    def __init__(self, message: str, findings: list):
        super().__init__(message)
        self.findings = findings


class AuditIntegrityError(GrooveError):
    """The audit log's hash chain is broken (an entry was altered, inserted or removed)."""


class DashboardAuthError(ConfigError):
    """``groove dashboard`` cannot identify the people it would serve: an address beyond
    this machine without ``--auth oidc`` or ``--no-auth``, or an ``[auth]`` secrets
    section that is missing, incomplete or unusable. Nothing was started."""
