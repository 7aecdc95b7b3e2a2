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
carry the password.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import psycopg_pool

from rune.storage.errors import (
    ChainStateError,
    ConfigurationError,
    IdempotencyConflictError,
    JobNotFoundError,
    StorageError,
    StoreClosedError,
)
from rune.storage.pg_migrator import PgMigrator, unfinished_copy
from rune.storage.pgconn import connect, connect_timeout_from_env, describe_pg_error
from rune.storage.port import (
    ARTIFACT_KINDS,
    DEFAULT_LEASE_SECONDS,
    EVENT_STATUSES,
    FINOPS_KINDS,
    JOB_STATUSES,
    JOB_TRANSITIONS,
    RECOVERY_MESSAGE,
    JobRecord,
    JSONDict,
    WorkflowEvent,
    dump_json,
    overall_chain_status,
)
from rune.storage.records import (
    ACTIVE_STATUSES,
    ARTIFACT_COLUMNS,
    EVENT_COLUMNS,
    FINISH_STATUSES,
    JOB_COLUMNS,
    apply_node_transition,
    artifact_record,
    chain_record,
    event_record,
    finops_record,
    job_record,
    normalize_chain,
    require_dict,
    require_kinds,
    require_lease,
    require_node_status,
    require_text,
    summary_record,
)
from rune.storage.urls import PostgresTarget

ENV_POOL_MIN = "RUNE_PG_POOL_MIN"
ENV_POOL_MAX = "RUNE_PG_POOL_MAX"
DEFAULT_POOL_MIN = 1
DEFAULT_POOL_MAX = 10
_IDEMPOTENCY_ATTEMPTS = 3
_INSERT_JOB = (
    "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, message, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
# The database clock in epoch seconds (extract() returns numeric; leases are float8).
_DB_NOW = "extract(epoch FROM clock_timestamp())::double precision"


def _has_nul(*values: object) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _stored_text(name: str, value: str | None) -> str | None:
    """Refuse a NUL character in a value that is to be stored (PostgreSQL cannot)."""
    if value is not None and "\x00" in value:
        raise ValueError(
            f"{name} must not contain NUL characters (PostgreSQL text cannot hold them)"
        )
    return value


def _required(name: str, value: object, max_len: int = 256) -> str:
    text = require_text(name, value, max_len)
    _stored_text(name, text)
    return text


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


class PostgresStorage:
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

    def __enter__(self) -> PostgresStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # lifecycle -------------------------------------------------------------------------
    def recover_expired_jobs(self, message: str = RECOVERY_MESSAGE) -> int:
        _stored_text("message", message)
        with self._connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = 'failed', error = %s, message = %s, updated_at = %s, "
                "lease_expires_at = NULL WHERE status = 'running' "
                f"AND (lease_expires_at IS NULL OR lease_expires_at <= {_DB_NOW})",
                (message, message, time.time()),
            )
            return cur.rowcount

    # workers -----------------------------------------------------------------------------
    def claim_job(
        self,
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        kinds: Collection[str] | None = None,
    ) -> JobRecord | None:
        _required("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        wanted = require_kinds(kinds)
        if wanted is not None:
            wanted = [k for k in wanted if not _has_nul(k)]
            if not wanted:
                return None  # no kind accepted: nothing can match
        where = "status = 'queued'"
        params: list[Any] = [worker_id, lease, time.time()]
        if wanted is not None:
            where += " AND kind = ANY(%s)"
            params.append(wanted)
        # SKIP LOCKED: a row another claimer has locked is passed over, not waited for,
        # and the lock is held until this statement commits, so nobody else gets it.
        with self._connection() as conn:
            row = conn.execute(
                f"UPDATE jobs SET status = 'running', owner = %s, "
                f"lease_expires_at = {_DB_NOW} + %s, updated_at = %s "
                f"WHERE status = 'queued' AND job_id = (SELECT job_id FROM jobs WHERE {where} "
                "ORDER BY created_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                f"RETURNING {JOB_COLUMNS}",
                params,
            ).fetchone()
        return job_record(row) if row is not None else None

    def renew_lease(
        self, job_id: str, *, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        require_text("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        if _has_nul(job_id, worker_id):
            return False
        with self._connection() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET lease_expires_at = {_DB_NOW} + %s "
                "WHERE job_id = %s AND status = 'running' AND owner = %s",
                (lease, job_id, worker_id),
            )
            return cur.rowcount > 0

    def finish_job(
        self,
        job_id: str,
        *,
        worker_id: str,
        status: str,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        require_text("worker_id", worker_id)
        if status not in FINISH_STATUSES:
            raise ValueError(f"a worker finishes a job as one of {list(FINISH_STATUSES)}")
        sets = ["status = %s", "lease_expires_at = NULL", "updated_at = %s"]
        params: list[Any] = [status, time.time()]
        if result_payload is not None:
            sets.append("result_json = %s")
            params.append(dump_json(require_dict("result_payload", result_payload)))
        if error is not None:
            sets.append("error = %s")
            params.append(_stored_text("error", error))
        if message is not None:
            sets.append("message = %s")
            params.append(_stored_text("message", message))
        if _has_nul(job_id, worker_id):
            return False
        with self._connection() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(sets)} "
                "WHERE job_id = %s AND status = 'running' AND owner = %s",
                (*params, job_id, worker_id),
            )
            return cur.rowcount > 0

    # jobs --------------------------------------------------------------------------------
    def create_job(
        self,
        *,
        tenant_id: str,
        kind: str,
        request_payload: JSONDict,
        idempotency_key: str | None = None,
    ) -> tuple[str, bool]:
        _required("tenant_id", tenant_id)
        _required("kind", kind, 64)
        request_json = dump_json(require_dict("request_payload", request_payload))
        job_id = str(uuid.uuid4())
        now = time.time()
        job_row = (job_id, tenant_id, kind, "queued", request_json, "accepted", now, now)
        if not idempotency_key:
            with self._connection() as conn:
                conn.execute(_INSERT_JOB, job_row)
            return job_id, True
        _required("idempotency_key", idempotency_key)
        digest = hashlib.sha256(request_json.encode("utf-8")).hexdigest()
        scope = (tenant_id, kind, idempotency_key)
        with self._connection() as conn:
            for _ in range(_IDEMPOTENCY_ATTEMPTS):
                row = conn.execute(
                    "SELECT job_id, request_sha256 FROM idempotency_keys "
                    "WHERE tenant_id = %s AND operation = %s AND idempotency_key = %s",
                    scope,
                ).fetchone()
                if row is not None:
                    if row[1] is not None and row[1] != digest:
                        raise IdempotencyConflictError(
                            "idempotency key was already used with a different request payload"
                        )
                    return str(row[0]), False
                won = None
                with conn.transaction():
                    conn.execute(_INSERT_JOB, job_row)
                    # A concurrent insert of the same key makes this wait for that
                    # transaction; if it commits, nothing is inserted here.
                    won = conn.execute(
                        "INSERT INTO idempotency_keys (tenant_id, operation, idempotency_key, "
                        "job_id, created_at, request_sha256) VALUES (%s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING RETURNING job_id",
                        (*scope, job_id, now, digest),
                    ).fetchone()
                    if won is None:
                        raise psycopg.Rollback()  # drop our job; the loop reads the winner's
                if won is not None:
                    return job_id, True
        # Only reachable if the winner's key is purged between our attempts, repeatedly.
        raise StorageError("idempotency key kept changing while the job was created; retry")

    def update_job(
        self,
        job_id: str,
        *,
        status: str | None = None,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        sets = ["updated_at = %s"]
        params: list[Any] = [time.time()]
        if status is not None:
            if status not in JOB_STATUSES:
                raise ValueError(f"unknown job status {status!r}; use {sorted(JOB_STATUSES)}")
            sets.append("status = %s")
            params.append(status)
        if result_payload is not None:
            sets.append("result_json = %s")
            params.append(dump_json(require_dict("result_payload", result_payload)))
        if error is not None:
            sets.append("error = %s")
            params.append(_stored_text("error", error))
        if message is not None:
            sets.append("message = %s")
            params.append(_stored_text("message", message))
        if _has_nul(job_id):
            return False
        allowed = sorted(JOB_TRANSITIONS[status] if status is not None else ACTIVE_STATUSES)
        with self._connection() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = %s AND status = ANY(%s)",
                (*params, job_id, allowed),
            )
            return cur.rowcount > 0

    def get_job(self, job_id: str, *, tenant_id: str | None = None) -> JobRecord | None:
        if _has_nul(job_id, tenant_id):
            return None
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = %s"
        params: tuple[str, ...] = (job_id,)
        if tenant_id is not None:
            sql += " AND tenant_id = %s"
            params = (job_id, tenant_id)
        with self._connection() as conn:
            row = conn.execute(sql, params).fetchone()
        return job_record(row) if row is not None else None

    def list_jobs(
        self, *, tenant_id: str, status: str | None = None, limit: int = 100
    ) -> list[JobRecord]:
        limit = max(1, min(int(limit), 1000))
        if _has_nul(tenant_id, status):
            return []
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = %s"
        params: list[Any] = [tenant_id]
        if status is not None:
            sql += " AND status = %s"
            params.append(status)
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT %s"
        params.append(limit)
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [job_record(r) for r in rows]

    def list_jobs_for_finops(self, *, tenant_id: str, limit: int = 2000) -> list[JSONDict]:
        limit = max(1, min(int(limit), 5000))
        if _has_nul(tenant_id):
            return []
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT kind, request_json, result_json, created_at, updated_at FROM jobs "
                "WHERE tenant_id = %s AND status = 'succeeded' AND kind = ANY(%s) "
                "ORDER BY updated_at DESC LIMIT %s",
                (tenant_id, list(FINOPS_KINDS), limit),
            ).fetchall()
        return [finops_record(r) for r in rows]

    def purge_idempotency_keys(self, *, older_than: float) -> int:
        with self._connection() as conn:
            return conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < %s", (float(older_than),)
            ).rowcount

    # workflow events -------------------------------------------------------------------
    def record_workflow_event(self, event: WorkflowEvent) -> int:
        _required("event", event.event, 128)
        if event.status not in EVENT_STATUSES:
            raise ValueError(f"event status must be one of {sorted(EVENT_STATUSES)}")
        _stored_text("error_type", event.error_type)
        _stored_text("tenant_id", event.tenant_id)
        labels = dump_json(require_dict("labels", event.labels)) if event.labels else None
        if event.job_id is not None and _has_nul(event.job_id):
            raise JobNotFoundError(f"job {event.job_id!r} does not exist")
        with self._transaction() as conn:
            tenant = event.tenant_id
            if event.job_id is not None:
                # The row lock orders this job's event writers, so their ids commit in
                # id order and a reader's after_id cursor cannot pass over a late commit.
                row = conn.execute(
                    "SELECT tenant_id FROM jobs WHERE job_id = %s FOR NO KEY UPDATE",
                    (event.job_id,),
                ).fetchone()
                if row is None:
                    raise JobNotFoundError(f"job {event.job_id} does not exist")
                if tenant is not None and tenant != row[0]:
                    raise ValueError("event tenant_id does not match the job's tenant")
                tenant = str(row[0])
            inserted = conn.execute(
                "INSERT INTO workflow_events (job_id, event, status, duration_ms, error_type, "
                "labels_json, recorded_at, tenant_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                (
                    event.job_id,
                    event.event,
                    event.status,
                    event.duration_ms,
                    event.error_type,
                    labels,
                    event.recorded_at,
                    tenant,
                ),
            ).fetchone()
        assert inserted is not None
        return int(inserted[0])

    def get_events_summary(self, *, tenant_id: str, job_id: str | None = None) -> list[JSONDict]:
        if _has_nul(tenant_id, job_id):
            return []
        sql = (
            "SELECT event, COUNT(*), COUNT(*) FILTER (WHERE status = 'ok'), "
            "COUNT(*) FILTER (WHERE status = 'error'), "
            "AVG(duration_ms), MIN(duration_ms), MAX(duration_ms) FROM workflow_events "
            "WHERE tenant_id = %s"
        )
        params: list[Any] = [tenant_id]
        if job_id is not None:
            sql += " AND job_id = %s"
            params.append(job_id)
        sql += " GROUP BY event ORDER BY event"
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        # AVG of double precision is double precision (not numeric), so rounding happens
        # on the same float type, in Python, as on SQLite.
        return [summary_record(r) for r in rows]

    def get_events_for_job(self, job_id: str, *, after_id: int = 0) -> list[JSONDict]:
        if _has_nul(job_id):
            return []
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM workflow_events "
                "WHERE job_id = %s AND id > %s ORDER BY id",
                (job_id, int(after_id)),
            ).fetchall()
        return [event_record(r) for r in rows]

    # chain state -----------------------------------------------------------------------
    def record_chain_initialized(
        self, *, job_id: str, nodes: list[JSONDict], edges: list[JSONDict]
    ) -> None:
        chain = normalize_chain(nodes, edges)
        state = dump_json(chain)
        if _has_nul(job_id):
            raise JobNotFoundError(f"job {job_id!r} does not exist")
        try:
            with self._connection() as conn:
                conn.execute(
                    "INSERT INTO chain_state (job_id, state_json, overall_status, updated_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (job_id) DO UPDATE SET "
                    "state_json = excluded.state_json, "
                    "overall_status = excluded.overall_status, "
                    "updated_at = excluded.updated_at",
                    (job_id, state, overall_chain_status(chain["nodes"]), time.time()),
                )
        except StorageError as exc:
            raise _job_missing(exc, job_id) from exc.__cause__

    def record_chain_node_transition(
        self,
        *,
        job_id: str,
        node_id: str,
        status: str,
        started_at: float | None = None,
        finished_at: float | None = None,
        error: str | None = None,
    ) -> None:
        require_node_status(status)
        if _has_nul(job_id):
            raise ChainStateError(f"chain state for job {job_id!r} was never initialised")
        with self._transaction() as conn:
            # FOR UPDATE makes the read-modify-write atomic: a parallel transition waits
            # here and then reads this one's result (upstream lost updates without it).
            row = conn.execute(
                "SELECT state_json FROM chain_state WHERE job_id = %s FOR UPDATE", (job_id,)
            ).fetchone()
            if row is None:
                raise ChainStateError(f"chain state for job {job_id} was never initialised")
            state = json.loads(row[0])
            apply_node_transition(
                state,
                job_id=job_id,
                node_id=node_id,
                status=status,
                started_at=started_at,
                finished_at=finished_at,
                error=error,
            )
            conn.execute(
                "UPDATE chain_state SET state_json = %s, overall_status = %s, updated_at = %s "
                "WHERE job_id = %s",
                (dump_json(state), overall_chain_status(state["nodes"]), time.time(), job_id),
            )

    def get_chain_state(self, job_id: str) -> JSONDict | None:
        if _has_nul(job_id):
            return None
        with self._connection() as conn:
            row = conn.execute(
                "SELECT state_json, overall_status FROM chain_state WHERE job_id = %s",
                (job_id,),
            ).fetchone()
        return chain_record(row[0], row[1]) if row is not None else None

    # audit artifacts -------------------------------------------------------------------
    def record_audit_artifact(self, *, job_id: str, kind: str, name: str, content: bytes) -> str:
        if kind not in ARTIFACT_KINDS:
            raise ValueError(f"artifact kind must be one of {sorted(ARTIFACT_KINDS)}")
        _required("name", name, 512)
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ValueError("content must be bytes")
        data = bytes(content)
        if _has_nul(job_id):
            raise JobNotFoundError(f"job {job_id!r} does not exist")
        artifact_id = str(uuid.uuid4())
        try:
            with self._connection() as conn:
                conn.execute(
                    "INSERT INTO audit_artifact (artifact_id, job_id, kind, name, size_bytes, "
                    "sha256, content, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        artifact_id,
                        job_id,
                        kind,
                        name,
                        len(data),
                        hashlib.sha256(data).hexdigest(),
                        data,
                        time.time(),
                    ),
                )
        except StorageError as exc:
            raise _job_missing(exc, job_id) from exc.__cause__
        return artifact_id

    def list_audit_artifacts(self, job_id: str) -> list[JSONDict]:
        if _has_nul(job_id):
            return []
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {ARTIFACT_COLUMNS} FROM audit_artifact WHERE job_id = %s "
                "ORDER BY created_at, artifact_id",
                (job_id,),
            ).fetchall()
        return [artifact_record(r) for r in rows]

    def get_audit_artifact(self, *, job_id: str, artifact_id: str) -> tuple[bytes, str, str] | None:
        if _has_nul(job_id, artifact_id):
            return None
        with self._connection() as conn:
            row = conn.execute(
                "SELECT content, name, kind FROM audit_artifact "
                "WHERE job_id = %s AND artifact_id = %s",
                (job_id, artifact_id),
            ).fetchone()
        return (bytes(row[0]), str(row[1]), str(row[2])) if row is not None else None

    # settings ----------------------------------------------------------------------------
    def set_setting(self, key: str, value: JSONDict) -> None:
        _required("key", key)
        value_json = dump_json(require_dict("value", value))
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO settings (key, value_json, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, "
                "updated_at = excluded.updated_at",
                (key, value_json, time.time()),
            )

    def get_setting(self, key: str) -> JSONDict | None:
        if _has_nul(key):
            return None
        with self._connection() as conn:
            row = conn.execute("SELECT value_json FROM settings WHERE key = %s", (key,)).fetchone()
        return json.loads(row[0]) if row is not None else None

    def delete_setting(self, key: str) -> bool:
        if _has_nul(key):
            return False
        with self._connection() as conn:
            return conn.execute("DELETE FROM settings WHERE key = %s", (key,)).rowcount > 0

    def list_settings(self, prefix: str | None = None) -> dict[str, JSONDict]:
        # starts_with() compares literally and, on the "C"-collated key, byte-wise; LIKE
        # would treat _ and % as wildcards. ``key >= prefix`` lets the primary key index
        # start the scan at the prefix.
        sql = "SELECT key, value_json FROM settings"
        params: tuple[Any, ...] = ()
        if prefix:
            if _has_nul(prefix):
                return {}
            sql += " WHERE key >= %s AND starts_with(key, %s)"
            params = (prefix, prefix)
        with self._connection() as conn:
            rows = conn.execute(sql + " ORDER BY key", params).fetchall()
        return {str(r[0]): json.loads(r[1]) for r in rows}


def _job_missing(exc: StorageError, job_id: str) -> StorageError:
    """A foreign-key violation on ``job_id`` means the job does not exist."""
    if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation):
        return JobNotFoundError(f"job {job_id} does not exist")
    return exc
