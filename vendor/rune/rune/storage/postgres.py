"""PostgreSQL adapter for the storage port.

Same semantics as the SQLite adapter (the conformance suite runs unchanged on both);
what a server needs on top:

* **Startup.** One connection is opened with :func:`rune.storage.pgconn.connect`, which
  waits up to the connect timeout for a database that is still starting and then fails
  with one clear line, instead of upstream's 30 s ``pool.wait()`` and traceback (a crash
  loop under Kubernetes). Migrations run on that connection (advisory-locked, one
  transaction per file), and only then is the pool opened.
* **Pool.** ``psycopg_pool.ConnectionPool`` in autocommit mode: one statement is its
  own transaction, multi-statement operations open an explicit one, so no connection
  sits idle in a transaction. A pooled connection is checked before it is handed out,
  so a database restart costs a reconnect, not a burst of failed requests.
* **Races.** Idempotent create inserts the key with ``ON CONFLICT DO NOTHING`` and reads
  the winner; chain transitions lock the chain row (``FOR UPDATE``); claims use
  ``FOR UPDATE SKIP LOCKED``, so concurrent workers never wait for, or get, the same job;
  events of one job lock the job row while they take their id, so ids of a job's events
  commit in order and ``after_id`` cursors never skip one.
* **Clocks.** Job and event times are the caller's ``time.time()``, as on SQLite; lease
  deadlines, and the comparison that decides a lease has run out, use the database clock,
  so replicas on hosts with skewed clocks agree about which jobs are abandoned.
* **Text.** PostgreSQL text cannot hold NUL characters (SQLite can). A value to be stored
  that contains one is refused with a ValueError naming the field; a lookup by such a
  value finds nothing, since nothing stored can match it.

Every driver error becomes a :class:`StorageError` through
:func:`rune.storage.pgconn.describe_pg_error`, so messages name the problem and never
carry the password. The port methods themselves are
:class:`rune.storage.sqlbase.SQLStorage`'s; this module adds the pool and PostgreSQL's
dialect.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import psycopg_pool

from rune.storage.errors import (
    ConfigurationError,
    JobNotFoundError,
    StorageError,
    StoreClosedError,
)
from rune.storage.pg_migrator import PgMigrator, unfinished_copy
from rune.storage.pgconn import connect, connect_timeout_from_env, describe_pg_error
from rune.storage.records import JobStatus
from rune.storage.sqlbase import SQLStorage
from rune.storage.sqldialect import INSERT_JOB, INSERT_KEY, SELECT_KEY, JobRow, reuse_key
from rune.storage.urls import PostgresTarget

ENV_POOL_MIN = "RUNE_PG_POOL_MIN"
ENV_POOL_MAX = "RUNE_PG_POOL_MAX"
DEFAULT_POOL_MIN = 1
DEFAULT_POOL_MAX = 10
_IDEMPOTENCY_ATTEMPTS = 3
# The database clock in epoch seconds (extract() returns numeric; leases are float8).
_DB_NOW = "extract(epoch FROM clock_timestamp())::double precision"


def _has_nul(*values: object) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in values)


@functools.lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled, as psycopg wants)."""
    return sql.replace("%", "%%").replace("?", "%s")


def pool_bounds(
    pool_min: int | None, pool_max: int | None, env: Mapping[str, str]
) -> tuple[int, int]:
    """Pool sizes from the arguments, else ``RUNE_PG_POOL_MIN``/``MAX``, else 1 and 10."""

    def pick(value: int | None, var: str, arg: str, default: int) -> tuple[int, str]:
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(f"{arg} must be a whole number, got {value!r}")
            return value, arg
        raw = env.get(var, "").strip()
        if not raw:
            return default, var
        try:
            return int(raw), var
        except ValueError:
            raise ConfigurationError(f"{var} must be a whole number, got {raw!r}") from None

    low, low_name = pick(pool_min, ENV_POOL_MIN, "pool_min", DEFAULT_POOL_MIN)
    high, high_name = pick(pool_max, ENV_POOL_MAX, "pool_max", DEFAULT_POOL_MAX)
    if low < 1:
        raise ConfigurationError(f"{low_name} must be at least 1, got {low}")
    if high < low:
        raise ConfigurationError(
            f"{high_name} ({high}) must be at least {low_name} ({low}); raise it or lower "
            f"{low_name}"
        )
    return low, high


class PostgresStorage(SQLStorage):
    """The PostgreSQL implementation of :class:`rune.storage.port.StoragePort`."""

    def __init__(
        self,
        target: PostgresTarget,
        *,
        migrate: bool = True,
        migrations_dir: Path | None = None,
        pool_min: int | None = None,
        pool_max: int | None = None,
        connect_timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        application_name: str = "rune",
        log: Callable[[str], None] | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        self.target = target
        self.connect_timeout = (
            connect_timeout_from_env(environ) if connect_timeout is None else connect_timeout
        )
        if not math.isfinite(self.connect_timeout) or self.connect_timeout <= 0:
            raise ConfigurationError("connect_timeout must be a positive number of seconds")
        self.pool_min, self.pool_max = pool_bounds(pool_min, pool_max, environ)
        self._closed = False
        self._close_lock = threading.Lock()
        # Load and check the migration files before the database is touched.
        migrator = PgMigrator(migrations_dir, log=log) if migrate else None
        first = connect(
            target,
            timeout=self.connect_timeout,
            autocommit=True,
            application_name=application_name,
        )
        try:
            if migrator is not None:
                migrator.migrate(first)
            # Refuse to serve from a half-copied database (RUNE_DB_URL switched too early).
            unfinished = unfinished_copy(first)
            if unfinished is not None:
                raise StorageError(f"PostgreSQL at {target.masked}: {unfinished}")
        except psycopg.Error as exc:
            raise describe_pg_error(exc, target) from exc
        finally:
            first.close()
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] = (
            psycopg_pool.ConnectionPool(
                target.conninfo,
                min_size=self.pool_min,
                max_size=self.pool_max,
                open=False,
                kwargs={
                    "autocommit": True,
                    "application_name": application_name,
                    "connect_timeout": max(2, math.ceil(self.connect_timeout)),
                },
                check=psycopg_pool.ConnectionPool.check_connection,
                timeout=self.connect_timeout,
                name=f"rune-{target.host or 'local'}",
            )
        )
        try:
            self._pool.open(wait=True, timeout=self.connect_timeout)
        except psycopg.Error as exc:
            self._pool.close()
            self._closed = True
            raise StorageError(
                f"cannot open {self.pool_min} pooled connection(s) to PostgreSQL at "
                f"{target.masked} within {self.connect_timeout:g} s "
                f"({describe_pg_error(exc, target)})"
            ) from exc

    # connection handling ---------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled autocommit connection; driver errors become StorageErrors."""
        if self._closed:
            raise StoreClosedError("the store has been closed")
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg_pool.PoolClosed as exc:
            raise StoreClosedError("the store has been closed") from exc
        except psycopg_pool.PoolTimeout as exc:
            raise StorageError(
                f"no connection to PostgreSQL at {self.target.masked} within "
                f"{self.connect_timeout:g} s: all {self.pool_max} pooled connections are busy "
                "or the server cannot be reached"
            ) from exc
        except psycopg.Error as exc:
            raise describe_pg_error(exc, self.target) from exc

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()

    # dialect ------------------------------------------------------------------------------
    # The claim: SKIP LOCKED passes over a row another claimer has locked instead of
    # waiting for it, and the lock is held until this statement commits, so nobody else
    # gets it; the outer UPDATE re-checks that the row it locked is still queued.
    _CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"
    _CLAIM_RECHECK = f"status = '{JobStatus.QUEUED}' AND "
    # FOR UPDATE makes a chain transition's read-modify-write atomic: a parallel
    # transition waits for the row and then reads this one's result (upstream lost
    # updates without it). The job row lock orders one job's event writers, so their ids
    # commit in id order and a reader's after_id cursor cannot pass over a late commit.
    _LOCK_CHAIN_ROW = " FOR UPDATE"
    _LOCK_JOB_ROW = " FOR NO KEY UPDATE"

    def _sql(self, sql: str) -> str:
        return _pg_sql(sql)

    def _stored(self, name: str, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError(
                f"{name} must not contain NUL characters (PostgreSQL text cannot hold them)"
            )
        return value

    def _unmatchable(self, *values: object) -> bool:
        return _has_nul(*values)

    def _epoch(self, value: float) -> object:
        return float(value)  # a bool would be sent as boolean, which float8 cannot compare

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def _clock(self, now: float) -> tuple[str, list[Any]]:
        return _DB_NOW, []

    def _deadline(self, now: float, lease: float) -> tuple[str, list[Any]]:
        return f"{_DB_NOW} + ?", [lease]

    def _count_if(self, condition: str) -> str:
        return f"COUNT(*) FILTER (WHERE {condition})"

    def _prefix_match(self, prefix: str) -> tuple[str, list[Any]]:
        # starts_with() compares literally and, on the "C"-collated key, byte-wise.
        return "starts_with(key, ?)", [prefix]

    def _insert_event(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        inserted = self._execute(conn, sql + " RETURNING id", params).fetchone()
        assert inserted is not None
        return int(inserted[0])

    def _create_keyed(
        self, job: JobRow, scope: tuple[str, str, str], digest: str
    ) -> tuple[str, bool]:
        # Insert the key with ON CONFLICT DO NOTHING and read the winner: no lock is held
        # between the read and the insert.
        with self._connection() as conn:
            for _ in range(_IDEMPOTENCY_ATTEMPTS):
                row = self._execute(conn, SELECT_KEY, scope).fetchone()
                if row is not None:
                    return reuse_key(row, digest), False
                won = None
                with conn.transaction():
                    self._execute(conn, INSERT_JOB, job)
                    # A concurrent insert of the same key makes this wait for that
                    # transaction; if it commits, nothing is inserted here.
                    won = self._execute(
                        conn,
                        INSERT_KEY + " ON CONFLICT DO NOTHING RETURNING job_id",
                        (*scope, job.job_id, job.created_at, digest),
                    ).fetchone()
                    if won is None:
                        raise psycopg.Rollback()  # drop our job; the loop reads the winner's
                if won is not None:
                    return job.job_id, True
        # Only reachable if the winner's key is purged between our attempts, repeatedly.
        raise StorageError("idempotency key kept changing while the job was created; retry")

    @contextmanager
    def _job_write(self, job_id: str) -> Iterator[psycopg.Connection[Any]]:
        # The foreign key on job_id does the check: its violation means no such job.
        if _has_nul(job_id):
            raise JobNotFoundError(f"job {job_id!r} does not exist")
        try:
            with self._connection() as conn:
                yield conn
        except StorageError as exc:
            if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation):
                raise JobNotFoundError(f"job {job_id} does not exist") from exc.__cause__
            raise exc from exc.__cause__
