"""Schema migrations for PostgreSQL, with the same rules as the SQLite migrator.

The files (``rune/migrations/postgres/NNNN_slug.sql``), the ``schema_version`` table and
the refusals (a database newer than the code, an applied file that was edited or
renamed) are those of :mod:`rune.storage.migrator`; what differs is how concurrency and
transactions work on a server:

* Every file runs in its own transaction together with its ``schema_version`` row
  (upstream ran all pending files in one transaction on PostgreSQL and one per file on
  SQLite). PostgreSQL DDL is transactional, so a failing file leaves nothing behind and
  the files before it stay applied.
* Each of those transactions first takes ``pg_advisory_xact_lock`` on a fixed key and
  then re-reads ``schema_version``: replicas that start together queue on the lock, and
  the ones that get it after the first see the version recorded and skip it, so every
  migration runs exactly once. Advisory locks are per database, so databases on one
  server do not wait for each other. The lock is released by the commit or rollback.
* A file is sent as one script (simple query protocol), so dollar-quoted bodies and
  literals need no splitting. Transaction control inside a file is refused before the
  database is touched, because a ``COMMIT`` there would end the envelope early.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from rune.storage.errors import MigrationError
from rune.storage.migrator import (
    READ_APPLIED_SQL,
    AppliedMigration,
    BaseMigrator,
    Migration,
    MigrationStatus,
    _problems,
    applied_from_rows,
)
from rune.storage.urls import redact

# "RUNEMIGR" as a big-endian signed 64-bit integer: one key for every rune database.
MIGRATION_LOCK_KEY = int.from_bytes(b"RUNEMIGR", "big", signed=True)
_REQUIRED_COLUMNS = frozenset({"version", "name", "checksum", "applied_at", "source"})
# What to blank out before looking for statements: comments, string and identifier
# literals and dollar-quoted bodies, so keywords inside them are not mistaken for code.
_NON_CODE_RE = re.compile(
    r"--[^\n]*"
    r"|/\*.*?\*/"
    r"|[Ee]'(?:[^'\\]|\\.|'')*'"
    r"|'(?:[^']|'')*'"
    r'|"(?:[^"]|"")*"'
    r"|\$([A-Za-z_][A-Za-z0-9_]*)?\$.*?\$\1\$",
    re.DOTALL,
)
_FORBIDDEN_RE = re.compile(
    r"^(BEGIN|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|START\s+TRANSACTION|"
    r"PREPARE\s+TRANSACTION|COMMIT\s+PREPARED|ROLLBACK\s+PREPARED|VACUUM|"
    r"CREATE\s+DATABASE|DROP\s+DATABASE)\b",
    re.IGNORECASE,
)


def check_postgres_script(script: str, filename: str = "<sql>") -> None:
    """Refuse an empty file and statements that would break the per-file transaction."""
    code = _NON_CODE_RE.sub(" ", script)
    statements = [s.strip() for s in code.split(";") if s.strip()]
    if not statements:
        raise MigrationError(f"migration {filename} contains no SQL statement")
    for statement in statements:
        forbidden = _FORBIDDEN_RE.match(statement)
        if forbidden:
            keyword = " ".join(forbidden.group(1).upper().split())
            raise MigrationError(
                f"migration {filename}: {keyword} is not allowed in a migration (each file "
                "already runs in its own transaction)"
            )


# The table `rune db migrate-to-postgres` keeps while a copy is unfinished (transfer/).
COPY_PROGRESS_TABLE = "rune_copy_progress"


def unfinished_copy(conn: psycopg.Connection[Any]) -> str | None:
    """A problem message when a ``migrate-to-postgres`` copy into this database is unfinished.

    Such a database holds part of the data, possibly without its secondary indexes; RUNE
    must not serve from it until the copy has been re-run to completion.
    """
    row = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %s AND c.relkind = 'r' AND n.nspname = ANY(current_schemas(false))",
        (COPY_PROGRESS_TABLE,),
    ).fetchone()
    if row is None:
        return None
    return (
        "an unfinished `rune db migrate-to-postgres` copy is in this database "
        f"(table {COPY_PROGRESS_TABLE}); re-run the same command to finish it before "
        "pointing RUNE at this database"
    )


def default_pg_migrations_dir() -> Path:
    """The packaged PostgreSQL migrations."""
    from rune.storage.migrator import default_migrations_dir

    return default_migrations_dir("postgres")


class PgMigrator(BaseMigrator):
    """Applies migrations on a psycopg connection that is not inside a transaction."""

    DIALECT = "postgres"

    def _check_file(self, mig: Migration) -> None:
        check_postgres_script(mig.sql, mig.filename)

    # reading -------------------------------------------------------------------------
    def status(self, conn: psycopg.Connection[Any]) -> MigrationStatus:
        """Applied, pending and problems, without writing anything."""
        with _transaction(conn):
            applied = _read_applied(conn)
        problems = tuple(_problems(self.migrations, applied))
        pending = tuple(m for m in self.migrations if m.version not in applied)
        return MigrationStatus(
            True,
            (),
            tuple(sorted(applied.values(), key=lambda a: a.version)),
            pending,
            problems,
        )

    def applied_version(self, conn: psycopg.Connection[Any]) -> int:
        """The highest applied version (0 for an empty database), without writing."""
        with _transaction(conn):
            return max(_read_applied(conn), default=0)

    # writing -------------------------------------------------------------------------
    def migrate(self, conn: psycopg.Connection[Any]) -> list[int]:
        """Apply every pending migration; return the versions this call applied."""
        try:
            return self._migrate(conn)
        except psycopg.Error as exc:
            raise MigrationError(f"cannot migrate the database: {_detail(exc)}") from exc

    def _migrate(self, conn: psycopg.Connection[Any]) -> list[int]:
        self._ensure_bookkeeping(conn)
        with _transaction(conn):
            applied = _read_applied(conn)
        problems = _problems(self.migrations, applied)
        if problems:
            raise MigrationError("; ".join(problems))
        applied_now: list[int] = []
        for mig in self.migrations:
            if mig.version in applied:
                continue  # recorded rows never go away; only pending ones need the lock
            if self._apply(conn, mig):
                applied_now.append(mig.version)
                self._log(f"applied {mig.filename}")
        return applied_now

    def _lock(self, conn: psycopg.Connection[Any]) -> None:
        """Take the migration lock for the current transaction, saying when we wait."""
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,)).fetchone()
        if row is not None and row[0]:
            return
        self._log("another process is migrating this database; waiting for it to finish")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))

    def _ensure_bookkeeping(self, conn: psycopg.Connection[Any]) -> None:
        with _transaction(conn):
            if _schema_version_columns(conn) is not None:
                return
            self._lock(conn)
            columns = _schema_version_columns(conn)
            if columns is None:
                conn.execute(
                    "CREATE TABLE schema_version ("
                    " version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL,"
                    " checksum TEXT NOT NULL,"
                    " applied_at DOUBLE PRECISION NOT NULL,"
                    " source TEXT NOT NULL DEFAULT 'applied')"
                )
                self._log("created schema_version")

    def _apply(self, conn: psycopg.Connection[Any], mig: Migration) -> bool:
        """Run one file in its own locked transaction; False if someone else did it."""
        try:
            with _transaction(conn):
                self._lock(conn)
                row = conn.execute(
                    "SELECT checksum FROM schema_version WHERE version = %s", (mig.version,)
                ).fetchone()
                if row is not None:
                    if str(row[0]) != mig.checksum:
                        raise MigrationError(
                            "; ".join(_problems(self.migrations, _read_applied(conn)))
                        )
                    return False
                self._log(f"applying {mig.filename}")
                # No parameters: psycopg sends the whole file as one simple-protocol script.
                conn.execute(mig.sql, prepare=False)
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
                    raise MigrationError(
                        f"migration {mig.filename} ended its transaction; remove the "
                        "transaction control statements from it"
                    )
                conn.execute(
                    "INSERT INTO schema_version (version, name, checksum, applied_at, source)"
                    " VALUES (%s, %s, %s, %s, 'applied')",
                    (mig.version, mig.name, mig.checksum, time.time()),
                )
        except psycopg.Error as exc:
            raise MigrationError(
                f"migration {mig.filename} failed and was rolled back "
                f"(nothing from it was applied): {_detail(exc)}"
            ) from exc
        return True


@contextmanager
def _transaction(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """One real transaction (never a savepoint inside a caller's transaction)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MigrationError(
            "internal error: migrations need a connection that is not inside a transaction"
        )
    with conn.transaction():
        yield


def _schema_version_columns(conn: psycopg.Connection[Any]) -> set[str] | None:
    """Columns of the ``schema_version`` the search path finds; None if there is none.

    A query on ``pg_class``, not ``to_regclass()``: that one answers from the backend's
    catalog cache, which may still hold "no such table" from before the lock wait while
    the process we waited for created it (found by the parallel-migrators test).
    """
    row = conn.execute(
        "SELECT c.oid FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(name, pos) "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = s.name "
        "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
        "WHERE c.relname = 'schema_version' AND c.relkind IN ('r', 'p') "
        "ORDER BY s.pos LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped",
        (row[0],),
    ).fetchall()
    columns = {str(r[0]) for r in rows}
    if not columns >= _REQUIRED_COLUMNS:
        raise MigrationError(
            "this database has a schema_version table without name/checksum columns "
            "(created by upstream RUNE); rune does not adopt it in place: create an empty "
            "database for rune and copy the data into it"
        )
    return columns


def _read_applied(conn: psycopg.Connection[Any]) -> dict[int, AppliedMigration]:
    if _schema_version_columns(conn) is None:
        return {}
    return applied_from_rows(conn.execute(READ_APPLIED_SQL).fetchall())


def _detail(exc: BaseException) -> str:
    return redact(" ".join(str(exc).split()))
