"""RUNE storage: the port, the SQLite and PostgreSQL adapters and :func:`make_storage`.

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
from rune.storage.records import JobStatus
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
    "JobStatus",
    "MigrationError",
    "StorageError",
    "StoragePort",
    "StoreClosedError",
    "WorkflowEvent",
    "make_storage",
    "mask_url",
    "redact",
    "resolve_url",
]


def make_storage(
    url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    migrate: bool = True,
    migrations_dir: Path | None = None,
    busy_timeout_ms: int | None = None,
    log: Callable[[str], None] | None = None,
    connect_timeout: float | None = None,
) -> StoragePort:
    """Build the adapter for ``url`` (or the resolved default) and migrate it.

    PostgreSQL reads ``RUNE_DB_CONNECT_TIMEOUT``, ``RUNE_PG_POOL_MIN`` and
    ``RUNE_PG_POOL_MAX`` from ``env`` (default: the process environment);
    ``connect_timeout`` overrides the first.
    """
    from rune.storage.sqlite import DEFAULT_BUSY_TIMEOUT_MS, SQLiteStorage

    resolved = resolve_url(url, env)
    target = parse_url(resolved.url, env)
    if isinstance(target, PostgresTarget):
        from rune.storage.pgconn import require_psycopg

        require_psycopg()
        from rune.storage.postgres import PostgresStorage

        return PostgresStorage(
            target,
            migrate=migrate,
            migrations_dir=migrations_dir,
            connect_timeout=connect_timeout,
            env=env,
            log=log,
        )
    assert isinstance(target, SqliteTarget)
    return SQLiteStorage(
        target.path,
        migrate=migrate,
        migrations_dir=migrations_dir,
        busy_timeout_ms=busy_timeout_ms or DEFAULT_BUSY_TIMEOUT_MS,
        log=log,
    )
