"""The operations behind ``rune db`` on either backend: status, migrate, backup, restore.

Why here and not in the command line: which backend supports which operation, what
counts as a problem of a database and which schema version a restore may bring are rules
of the storage layer. The CLI prints what these functions return and maps it to an exit
code; a refused operation is a :class:`~rune.storage.errors.StorageError` saying why.

PostgreSQL support is optional: nothing here imports the driver until a PostgreSQL
database is opened.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rune.storage import maintenance
from rune.storage.errors import StorageError
from rune.storage.maintenance import CopyResult
from rune.storage.migrator import MigrationStatus, Migrator
from rune.storage.pgconn import connect, connect_timeout_from_env, require_psycopg
from rune.storage.urls import PostgresTarget, Target

if TYPE_CHECKING:
    import psycopg

    from rune.storage.pg_migrator import PgMigrator

Log = Callable[[str], None]


def database_file(target: Target, action: str) -> Path:
    """The SQLite file ``action`` (``backup`` or ``restore``) works on.

    PostgreSQL is backed up with its own tools, and an in-memory database has no file.
    """
    if isinstance(target, PostgresTarget):
        raise StorageError(
            f"rune db {action} works on SQLite files only; back up PostgreSQL with "
            'pg_dump and restore it with pg_restore (see "Back up and restore PostgreSQL" '
            "in docs/operations/database.md)"
        )
    if target.path is None:
        raise StorageError(f"{action} needs a database file, not an in-memory database")
    return target.path


def backup(target: Target, dest: Path, *, force: bool = False) -> CopyResult:
    """A consistent, verified copy of the SQLite database ``target`` at ``dest``."""
    return maintenance.backup(database_file(target, "backup"), dest, force=force)


@dataclass(frozen=True)
class Restored:
    """A restore's result; ``known_version`` is the newest schema this code knows."""

    copy: CopyResult
    known_version: int

    @property
    def needs_migrate(self) -> bool:
        """The restored schema is older than this code: ``rune db migrate`` brings it up."""
        return self.copy.schema_version < self.known_version


def restore(target: Target, src: Path) -> Restored:
    """Replace the SQLite database ``target`` with the backup ``src``.

    A backup from a newer schema than this code knows is refused.
    """
    path = database_file(target, "restore")
    known = max((m.version for m in Migrator().migrations), default=0)
    return Restored(maintenance.restore(src, path, max_known_version=known), known)


def migrate_sqlite(path: Path | None, log: Log) -> list[int]:
    """Apply the pending migrations (creating the file); return the versions applied."""
    from rune.storage.sqlite import SQLiteStorage

    store = SQLiteStorage(path, log=log)
    store.close()
    return store.applied_migrations


class PostgresDatabase:
    """One connection to a PostgreSQL database, for ``status`` and ``migrate``."""

    def __init__(self, conn: psycopg.Connection[Any], migrator: PgMigrator) -> None:
        self._conn = conn
        self._migrator = migrator

    @property
    def server_major(self) -> int:
        """The server's major version (``17`` for 17.2)."""
        return self._conn.info.server_version // 10000

    def status(self) -> MigrationStatus:
        """Applied and pending migrations; an unfinished copy into it is a problem too."""
        from rune.storage.pg_migrator import unfinished_copy

        status = self._migrator.status(self._conn)
        unfinished = unfinished_copy(self._conn)
        if unfinished is not None:
            status = dataclasses.replace(status, problems=(*status.problems, unfinished))
        return status

    def migrate(self) -> list[int]:
        """Apply the pending migrations; return the versions applied."""
        return self._migrator.migrate(self._conn)


@contextmanager
def open_postgres(
    target: PostgresTarget, *, connect_timeout: float | None, log: Log
) -> Iterator[PostgresDatabase]:
    """Connect (retrying up to ``connect_timeout``, default ``RUNE_DB_CONNECT_TIMEOUT``).

    The migration files are loaded and checked before the database is contacted.
    """
    timeout = connect_timeout_from_env(os.environ) if connect_timeout is None else connect_timeout
    require_psycopg()
    from rune.storage.pg_migrator import PgMigrator

    migrator = PgMigrator(log=log)
    with connect(target, timeout=timeout, autocommit=True) as conn:
        yield PostgresDatabase(conn, migrator)
