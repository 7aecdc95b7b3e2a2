"""The PostgreSQL side: connecting, taking the one-copy lock, and inspecting the target.

Everything here reads; nothing is written before :mod:`.plan` has decided what to do with
the target. Both sides are checked (source schema, target schema version, target contents,
resume state, artifact hashes) before the first write, so a bad input leaves the target as
it was. A RUNE schema at another version is refused, never migrated silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.pgconn import connect as pg_connect
from rune.storage.transfer.errors import TransferError
from rune.storage.transfer.indexes import INDEX_TABLE
from rune.storage.transfer.progress import PROGRESS_TABLE, Progress, read_progress
from rune.storage.transfer.tables import SPECS, TABLES
from rune.storage.urls import PostgresTarget

if TYPE_CHECKING:
    import psycopg

# "RUNECOPY" as a big-endian signed 64-bit integer: one copy at a time per target.
COPY_LOCK_KEY = int.from_bytes(b"RUNECOPY", "big", signed=True)
APPLICATION_NAME = "rune-migrate-to-postgres"


@dataclass
class TargetState:
    """What the target holds before the copy: schema or not, row counts, resume state."""

    server_version: int
    schema_exists: bool
    counts: dict[str, int]
    progress: dict[str, Progress] | None


def connect(target: PostgresTarget, timeout: float) -> psycopg.Connection[Any]:
    """An autocommit connection whose ``client_encoding`` is UTF8, as the SQL checksum
    and the raw UTF-8 text in binary COPY need."""
    conn = pg_connect(target, timeout=timeout, autocommit=True, application_name=APPLICATION_NAME)
    try:
        conn.execute("SET client_encoding TO 'UTF8'")
    except BaseException:
        conn.close()
        raise
    return conn


def existing_tables(conn: psycopg.Connection[Any]) -> set[str]:
    """The tables visible on the search path (the RUNE ones and the tool's own)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r', 'p')"
    ).fetchall()
    return {str(r[0]) for r in rows}


def lock(conn: psycopg.Connection[Any], target: PostgresTarget, timeout: float) -> None:
    """One copy per target. Waits a little: the backend of a run that was just killed
    holds the lock until the server notices the closed connection."""
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (COPY_LOCK_KEY,)).fetchone()
        if row is not None and row[0]:
            return
        if time.monotonic() >= deadline:
            raise TransferError(
                f"another migrate-to-postgres is running against {target.masked} "
                f"(still after {timeout:g} s); wait for it to finish"
            )
        time.sleep(0.2)


def inspect(
    conn: psycopg.Connection[Any], target: PostgresTarget, schema_version: int
) -> TargetState:
    """Check the target against this code and the source's ``schema_version``."""
    from rune.storage.pg_migrator import PgMigrator

    server_version = int(conn.info.server_version)
    encoding = conn.execute("SHOW server_encoding").fetchone()
    if encoding is None or str(encoding[0]).upper() not in ("UTF8", "UTF-8"):
        raise TransferError(
            f"the target database {target.masked} uses encoding "
            f"{encoding[0] if encoding else '?'}; RUNE needs UTF8 (create it with "
            "ENCODING 'UTF8')"
        )
    existing = existing_tables(conn)
    migrator = PgMigrator()
    status = migrator.status(conn)
    latest = migrator.latest_version
    migrate_hint = f"run `rune db migrate --db-url {target.masked}` first"
    if status.problems:
        raise TransferError(f"the target {target.masked}: {'; '.join(status.problems)}")
    if not status.applied:
        rune_tables = sorted(existing & set(SPECS))
        if rune_tables:
            raise TransferError(
                f"the target {target.masked} has RUNE tables ({', '.join(rune_tables)}) "
                "but no schema_version; it was not created by rune's migrations. Use an "
                "empty database"
            )
        for tool_table in (PROGRESS_TABLE, INDEX_TABLE):
            if tool_table in existing:
                raise TransferError(
                    f"the target {target.masked} has a {tool_table} table but no RUNE "
                    f"schema; drop {tool_table} or use an empty database"
                )
        return TargetState(server_version, False, {s.name: 0 for s in TABLES}, None)
    applied = max(a.version for a in status.applied)
    if status.pending:
        raise TransferError(
            f"the target {target.masked} has RUNE schema version {applied:04d}, older "
            f"than this code ({latest:04d}); {migrate_hint} (it is not migrated silently), "
            "then copy"
        )
    if applied != schema_version:
        raise TransferError(
            f"the target is at schema version {applied:04d} but the source at "
            f"{schema_version:04d}; both must be at this code's version"
        )
    for spec in TABLES:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped",
            (spec.name,),
        ).fetchall()
        columns = {str(r[0]) for r in rows}
        if columns != set(spec.column_names):
            raise TransferError(
                f"the target table {spec.name} has columns {sorted(columns)}, expected "
                f"{sorted(spec.column_names)}; the target schema was changed by hand"
            )
    counts = {}
    for spec in TABLES:
        row = conn.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()
        counts[spec.name] = int(row[0]) if row else 0
    progress = read_progress(conn) if PROGRESS_TABLE in existing else None
    return TargetState(server_version, True, counts, progress)
