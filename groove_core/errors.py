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
