"""RUNE storage: the port, the SQLite adapter and :func:`make_storage`.

``make_storage(url)`` is the only constructor the rest of the code should use: it applies
the URL rules of :mod:`rune.storage.urls` and returns an object implementing
:class:`StoragePort`, with migrations applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from rune.storage.errors import (
    BackendUnavailableError,
    ChainStateError,
    ConfigurationError,
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseInUseError,
    IdempotencyConflictError,
    JobNotFoundError,
    MigrationError,
    StorageError,
    StoreClosedError,
)
from rune.storage.port import JobRecord, StoragePort, WorkflowEvent
from rune.storage.urls import (
    PostgresTarget,
    SqliteTarget,
    mask_url,
    parse_url,
    redact,
    resolve_url,
)

__all__ = [
    "BackendUnavailableError",
    "ChainStateError",
    "ConfigurationError",
    "DatabaseBusyError",
    "DatabaseCorruptError",
    "DatabaseInUseError",
    "IdempotencyConflictError",
    "JobNotFoundError",
    "JobRecord",
    "MigrationError",
    "StorageError",
    "StoragePort",
    "StoreClosedError",
    "WorkflowEvent",
    "make_storage",
    "mask_url",
    "postgres_unavailable",
    "redact",
    "resolve_url",
]


def postgres_unavailable(target: PostgresTarget) -> BackendUnavailableError:
    """The error for PostgreSQL URLs until the adapter lands (a later issue)."""
    return BackendUnavailableError(
        f"the PostgreSQL adapter is not in this build of rune (it arrives in a later issue); "
        f"cannot use {target.masked}. Use a sqlite:// URL for now."
    )


def make_storage(
    url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    migrate: bool = True,
    migrations_dir: Path | None = None,
    busy_timeout_ms: int | None = None,
    log: Callable[[str], None] | None = None,
) -> StoragePort:
    """Build the adapter for ``url`` (or the resolved default) and migrate it."""
    from rune.storage.sqlite import DEFAULT_BUSY_TIMEOUT_MS, SQLiteStorage

    resolved = resolve_url(url, env)
    target = parse_url(resolved.url, env)
    if isinstance(target, PostgresTarget):
        raise postgres_unavailable(target)
    assert isinstance(target, SqliteTarget)
    return SQLiteStorage(
        target.path,
        migrate=migrate,
        migrations_dir=migrations_dir,
        busy_timeout_ms=busy_timeout_ms or DEFAULT_BUSY_TIMEOUT_MS,
        log=log,
    )
