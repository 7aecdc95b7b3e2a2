"""Exception types raised by the storage layer.

Every message carried by these exceptions is safe to print: URLs inside them have been
passed through :func:`rune.storage.urls.mask_url` before the exception was built, so the
CLI and the API can show ``str(exc)`` to an operator without leaking a password.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class: an operation on the store failed; the message is safe to show."""


class ConfigurationError(StorageError):
    """The database URL or the environment that selects it is unusable."""


class BackendUnavailableError(StorageError):
    """The URL names a backend that this build cannot serve (e.g. PostgreSQL for now)."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date; nothing from the failing step was kept."""


class JobNotFoundError(StorageError, LookupError):
    """A write referred to a job id that does not exist."""


class IdempotencyConflictError(StorageError):
    """An idempotency key was reused with a different request payload."""


class DatabaseBusyError(StorageError):
    """Another connection held a lock for longer than the busy timeout."""


class DatabaseInUseError(StorageError):
    """A maintenance operation needs the database closed by every other process."""


class DatabaseCorruptError(StorageError):
    """The file is not a SQLite database, or it fails ``PRAGMA integrity_check``."""


class ChainStateError(StorageError):
    """A chain transition referred to a chain that was never initialised or an unknown node."""


class StoreClosedError(StorageError):
    """The store was closed and can no longer be used."""
