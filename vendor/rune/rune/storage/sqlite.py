"""SQLite adapter for the storage port.

Thread model: a small pool of connections, each used by one thread at a time
(``check_same_thread=False`` is safe because a connection is never shared concurrently).
A connection per thread would leak under ``ThreadingHTTPServer``, which starts a thread per
request; one shared connection behind a lock would serialise reads that WAL can run in
parallel. Writers are serialised by SQLite itself; multi-statement writes use
``BEGIN IMMEDIATE`` so the write lock is taken before the first read (this is what makes
idempotent create and chain transitions race-free, and what lets the busy timeout work --
a deferred transaction that upgrades to a writer can fail with SQLITE_BUSY at once).

In-memory databases (``sqlite:///:memory:``) use a uniquely named shared-cache URI
(``file:rune-mem-<uuid>?mode=memory&cache=shared``) and keep one anchor connection open for
the store's lifetime, so every pooled connection sees the same data. Shared cache uses
table-level locks whose ``SQLITE_LOCKED`` errors the busy timeout does not cover, so every
operation on a memory store is additionally serialised by a lock.

Every connection runs in autocommit mode (``isolation_level=None``) with an explicit
``busy_timeout``, ``foreign_keys=ON`` and ``synchronous=NORMAL``; the file is switched to
WAL once. WAL + NORMAL keeps every commit atomic and the database consistent after a power
loss; the last commits before the loss may be rolled back, which a job queue tolerates.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from rune.storage.errors import (
    ChainStateError,
    DatabaseBusyError,
    DatabaseCorruptError,
    IdempotencyConflictError,
    JobNotFoundError,
    StorageError,
    StoreClosedError,
)
from rune.storage.fsutil import ensure_directory
from rune.storage.migrator import Migrator
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

DEFAULT_BUSY_TIMEOUT_MS = 5_000
DEFAULT_MIGRATE_TIMEOUT_MS = 60_000
_POOL_SIZE = 8


def describe_sqlite_error(exc: sqlite3.Error, where: str) -> StorageError:
    """Translate a sqlite3 error into a StorageError with an operator-facing message."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return DatabaseBusyError(
            f"database {where} is busy: another connection kept it locked longer than the "
            f"busy timeout ({text})"
        )
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return StorageError(f"disk full: cannot write to database {where} ({text})")
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text:
        return DatabaseCorruptError(
            f"{where} is not a valid SQLite database or is corrupt ({text}); "
            "restore it from a backup with `rune db restore`"
        )
    if code.startswith("SQLITE_READONLY") or "readonly" in text:
        return StorageError(f"database {where} is read-only ({text})")
    if code.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StorageError(
            f"cannot open database {where} ({text}); check that its directory exists and "
            "is writable"
        )
    return StorageError(f"database error on {where}: {text}")


class SQLiteStorage:
    """The SQLite implementation of :class:`rune.storage.port.StoragePort`."""

    def __init__(
        self,
        path: Path | None,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        migrate: bool = True,
        migrations_dir: Path | None = None,
        migrate_timeout_ms: int = DEFAULT_MIGRATE_TIMEOUT_MS,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._where = ":memory:" if path is None else str(path)
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._closed = False
        self._anchor: sqlite3.Connection | None = None
        self._serial: threading.RLock | None = None
        # Load and validate the migration files before the database is touched.
        migrator = Migrator(migrations_dir, log=log) if migrate else None
        if path is None:
            self._uri = f"file:rune-mem-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._serial = threading.RLock()
        else:
            ensure_directory(path.parent, f"the database {path}")
            if path.is_dir():
                raise StorageError(f"database path {path} is a directory")
            self._uri = "file:" + _uri_path(path)
        first: sqlite3.Connection | None = None
        try:
            first = self._open()
            if path is None:
                self._anchor = first
                first = self._open()
            else:
                self._set_wal(first)
            if migrator is not None:
                first.execute(f"PRAGMA busy_timeout = {int(migrate_timeout_ms)}")
                migrator.migrate(first)
                first.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        except BaseException as exc:
            if first is not None and first is not self._anchor:
                first.close()
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise describe_sqlite_error(exc, self._where) from exc
            raise
        self._release(first)

    # connection handling ---------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._uri,
            uri=True,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL (persistent in the file); retry while another process holds a lock."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if str(mode).lower() != "wal":
            raise StorageError(f"database {self._where} could not be switched to WAL mode ({mode})")

    def _acquire(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._closed:
                raise StoreClosedError("the store has been closed")
            if self._pool:
                return self._pool.pop()
        return self._open()

    def _release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        with self._pool_lock:
            if not self._closed and len(self._pool) < _POOL_SIZE:
                self._pool.append(conn)
                return
        conn.close()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection in autocommit mode; sqlite3 errors become StorageErrors."""
        with self._serial if self._serial is not None else nullcontext():
            try:
                conn = self._acquire()
            except sqlite3.Error as exc:
                raise describe_sqlite_error(exc, self._where) from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                self._discard_or_release(conn)
                raise describe_sqlite_error(exc, self._where) from exc
            except BaseException:
                self._discard_or_release(conn)
                raise
            else:
                self._release(conn)

    def _discard_or_release(self, conn: sqlite3.Connection) -> None:
        try:
            self._release(conn)
        except sqlite3.Error:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: the write lock is held from the first read."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None

    def __enter__(self) -> SQLiteStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # lifecycle -------------------------------------------------------------------------
    def recover_expired_jobs(self, message: str = RECOVERY_MESSAGE) -> int:
        now = time.time()
        with self.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = 'failed', error = ?, message = ?, updated_at = ?, "
                "lease_expires_at = NULL WHERE status = 'running' "
                "AND (lease_expires_at IS NULL OR lease_expires_at <= ?)",
                (message, message, now, now),
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
        require_text("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        wanted = require_kinds(kinds)
        if wanted is not None and not wanted:
            return None  # no kind accepted: nothing can match
        where = "status = 'queued'"
        params: list[Any] = []
        if wanted is not None:
            where += f" AND kind IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        now = time.time()
        # One statement in autocommit mode: SQLite takes the write lock before the inner
        # SELECT runs, so no other connection (or process) can pick the same row in between.
        # fetchall() steps the statement to completion, which is what commits it.
        # INDEXED BY: without statistics the planner prefers idx_jobs_status and sorts every
        # queued row on each claim (quadratic in the queue length); the partial queue index
        # (0008) yields the oldest queued job directly.
        with self.connection() as conn:
            rows = conn.execute(
                "UPDATE jobs SET status = 'running', owner = ?, lease_expires_at = ?, "
                "updated_at = ? WHERE job_id = (SELECT job_id FROM jobs "
                f"INDEXED BY idx_jobs_queue WHERE {where} ORDER BY created_at, job_id LIMIT 1) "
                f"RETURNING {JOB_COLUMNS}",
                (worker_id, now + lease, now, *params),
            ).fetchall()
        return job_record(rows[0]) if rows else None

    def renew_lease(
        self, job_id: str, *, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        require_text("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        with self.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_expires_at = ? "
                "WHERE job_id = ? AND status = 'running' AND owner = ?",
                (time.time() + lease, job_id, worker_id),
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
        sets = ["status = ?", "lease_expires_at = NULL", "updated_at = ?"]
        params: list[Any] = [status, time.time()]
        if result_payload is not None:
            sets.append("result_json = ?")
            params.append(dump_json(require_dict("result_payload", result_payload)))
        if error is not None:
            sets.append("error = ?")
            params.append(error)
        if message is not None:
            sets.append("message = ?")
            params.append(message)
        with self.connection() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(sets)} "
                "WHERE job_id = ? AND status = 'running' AND owner = ?",
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
        require_text("tenant_id", tenant_id)
        require_text("kind", kind, 64)
        request_json = dump_json(require_dict("request_payload", request_payload))
        job_id = str(uuid.uuid4())
        now = time.time()
        job_row = (job_id, tenant_id, kind, "queued", request_json, "accepted", now, now)
        insert_job = (
            "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, message, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if not idempotency_key:
            # One statement in autocommit mode is its own atomic transaction.
            with self.connection() as conn:
                conn.execute(insert_job, job_row)
            return job_id, True
        require_text("idempotency_key", idempotency_key)
        digest = hashlib.sha256(request_json.encode("utf-8")).hexdigest()
        with self._write() as conn:
            row = conn.execute(
                "SELECT job_id, request_sha256 FROM idempotency_keys "
                "WHERE tenant_id = ? AND operation = ? AND idempotency_key = ?",
                (tenant_id, kind, idempotency_key),
            ).fetchone()
            if row is not None:
                if row[1] is not None and row[1] != digest:
                    raise IdempotencyConflictError(
                        "idempotency key was already used with a different request payload"
                    )
                return str(row[0]), False
            conn.execute(insert_job, job_row)
            conn.execute(
                "INSERT INTO idempotency_keys (tenant_id, operation, idempotency_key, job_id, "
                "created_at, request_sha256) VALUES (?, ?, ?, ?, ?, ?)",
                (tenant_id, kind, idempotency_key, job_id, now, digest),
            )
        return job_id, True

    def update_job(
        self,
        job_id: str,
        *,
        status: str | None = None,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        sets = ["updated_at = ?"]
        params: list[Any] = [time.time()]
        if status is not None:
            if status not in JOB_STATUSES:
                raise ValueError(f"unknown job status {status!r}; use {sorted(JOB_STATUSES)}")
            sets.append("status = ?")
            params.append(status)
        if result_payload is not None:
            sets.append("result_json = ?")
            params.append(dump_json(require_dict("result_payload", result_payload)))
        if error is not None:
            sets.append("error = ?")
            params.append(error)
        if message is not None:
            sets.append("message = ?")
            params.append(message)
        allowed = sorted(JOB_TRANSITIONS[status] if status is not None else ACTIVE_STATUSES)
        params.append(job_id)
        params.extend(allowed)
        with self.connection() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ? "
                f"AND status IN ({', '.join('?' for _ in allowed)})",
                params,
            )
            return cur.rowcount > 0

    def get_job(self, job_id: str, *, tenant_id: str | None = None) -> JobRecord | None:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?"
        params: tuple[str, ...] = (job_id,)
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params = (job_id, tenant_id)
        with self.connection() as conn:
            row = conn.execute(sql, params).fetchone()
        return job_record(row) if row is not None else None

    def list_jobs(
        self, *, tenant_id: str, status: str | None = None, limit: int = 100
    ) -> list[JobRecord]:
        limit = max(1, min(int(limit), 1000))
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT ?"
        params.append(limit)
        with self.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [job_record(r) for r in rows]

    def list_jobs_for_finops(self, *, tenant_id: str, limit: int = 2000) -> list[JSONDict]:
        limit = max(1, min(int(limit), 5000))
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT kind, request_json, result_json, created_at, updated_at FROM jobs "
                "WHERE tenant_id = ? AND status = 'succeeded' AND kind IN (?, ?) "
                "ORDER BY updated_at DESC LIMIT ?",
                (tenant_id, *FINOPS_KINDS, limit),
            ).fetchall()
        return [finops_record(r) for r in rows]

    def purge_idempotency_keys(self, *, older_than: float) -> int:
        with self.connection() as conn:
            return conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?", (older_than,)
            ).rowcount

    # workflow events -------------------------------------------------------------------
    def record_workflow_event(self, event: WorkflowEvent) -> int:
        require_text("event", event.event, 128)
        if event.status not in EVENT_STATUSES:
            raise ValueError(f"event status must be one of {sorted(EVENT_STATUSES)}")
        labels = dump_json(require_dict("labels", event.labels)) if event.labels else None
        with self._write() as conn:
            tenant = event.tenant_id
            if event.job_id is not None:
                row = conn.execute(
                    "SELECT tenant_id FROM jobs WHERE job_id = ?", (event.job_id,)
                ).fetchone()
                if row is None:
                    raise JobNotFoundError(f"job {event.job_id} does not exist")
                if tenant is not None and tenant != row[0]:
                    raise ValueError("event tenant_id does not match the job's tenant")
                tenant = str(row[0])
            cur = conn.execute(
                "INSERT INTO workflow_events (job_id, event, status, duration_ms, error_type, "
                "labels_json, recorded_at, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            )
            return int(cur.lastrowid or 0)

    def get_events_summary(self, *, tenant_id: str, job_id: str | None = None) -> list[JSONDict]:
        sql = (
            "SELECT event, COUNT(*), SUM(status = 'ok'), SUM(status = 'error'), "
            "AVG(duration_ms), MIN(duration_ms), MAX(duration_ms) FROM workflow_events "
            "WHERE tenant_id = ?"
        )
        params: list[Any] = [tenant_id]
        if job_id is not None:
            sql += " AND job_id = ?"
            params.append(job_id)
        sql += " GROUP BY event ORDER BY event"
        with self.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [summary_record(r) for r in rows]

    def get_events_for_job(self, job_id: str, *, after_id: int = 0) -> list[JSONDict]:
        with self.connection() as conn:
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM workflow_events "
                "WHERE job_id = ? AND id > ? ORDER BY id",
                (job_id, int(after_id)),
            ).fetchall()
        return [event_record(r) for r in rows]

    # chain state -----------------------------------------------------------------------
    def record_chain_initialized(
        self, *, job_id: str, nodes: list[JSONDict], edges: list[JSONDict]
    ) -> None:
        chain = normalize_chain(nodes, edges)
        state = dump_json(chain)
        with self._write() as conn:
            self._require_job(conn, job_id)
            conn.execute(
                "INSERT INTO chain_state (job_id, state_json, overall_status, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET "
                "state_json = excluded.state_json, overall_status = excluded.overall_status, "
                "updated_at = excluded.updated_at",
                (job_id, state, overall_chain_status(chain["nodes"]), time.time()),
            )

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
        with self._write() as conn:  # the write lock makes read-modify-write atomic
            row = conn.execute(
                "SELECT state_json FROM chain_state WHERE job_id = ?", (job_id,)
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
                "UPDATE chain_state SET state_json = ?, overall_status = ?, updated_at = ? "
                "WHERE job_id = ?",
                (dump_json(state), overall_chain_status(state["nodes"]), time.time(), job_id),
            )

    def get_chain_state(self, job_id: str) -> JSONDict | None:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT state_json, overall_status FROM chain_state WHERE job_id = ?", (job_id,)
            ).fetchone()
        return chain_record(row[0], row[1]) if row is not None else None

    # audit artifacts -------------------------------------------------------------------
    def record_audit_artifact(self, *, job_id: str, kind: str, name: str, content: bytes) -> str:
        if kind not in ARTIFACT_KINDS:
            raise ValueError(f"artifact kind must be one of {sorted(ARTIFACT_KINDS)}")
        require_text("name", name, 512)
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ValueError("content must be bytes")
        data = bytes(content)
        artifact_id = str(uuid.uuid4())
        with self._write() as conn:
            self._require_job(conn, job_id)
            conn.execute(
                "INSERT INTO audit_artifact (artifact_id, job_id, kind, name, size_bytes, "
                "sha256, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        return artifact_id

    def list_audit_artifacts(self, job_id: str) -> list[JSONDict]:
        with self.connection() as conn:
            rows = conn.execute(
                f"SELECT {ARTIFACT_COLUMNS} FROM audit_artifact WHERE job_id = ? "
                "ORDER BY created_at, artifact_id",
                (job_id,),
            ).fetchall()
        return [artifact_record(r) for r in rows]

    def get_audit_artifact(self, *, job_id: str, artifact_id: str) -> tuple[bytes, str, str] | None:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT content, name, kind FROM audit_artifact "
                "WHERE job_id = ? AND artifact_id = ?",
                (job_id, artifact_id),
            ).fetchone()
        return (bytes(row[0]), str(row[1]), str(row[2])) if row is not None else None

    # settings ----------------------------------------------------------------------------
    def set_setting(self, key: str, value: JSONDict) -> None:
        require_text("key", key)
        value_json = dump_json(require_dict("value", value))
        with self.connection() as conn:
            conn.execute(
                "INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, "
                "updated_at = excluded.updated_at",
                (key, value_json, time.time()),
            )

    def get_setting(self, key: str) -> JSONDict | None:
        with self.connection() as conn:
            row = conn.execute("SELECT value_json FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row is not None else None

    def delete_setting(self, key: str) -> bool:
        with self.connection() as conn:
            return conn.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount > 0

    def list_settings(self, prefix: str | None = None) -> dict[str, JSONDict]:
        # substr() compares literally and case-sensitively; LIKE would treat _ and % as
        # wildcards and ignore ASCII case.
        sql = "SELECT key, value_json FROM settings"
        params: tuple[Any, ...] = ()
        if prefix:
            sql += " WHERE key >= ? AND substr(key, 1, ?) = ?"
            params = (prefix, len(prefix), prefix)
        with self.connection() as conn:
            rows = conn.execute(sql + " ORDER BY key", params).fetchall()
        return {str(r[0]): json.loads(r[1]) for r in rows}

    # helpers -------------------------------------------------------------------------------
    @staticmethod
    def _require_job(conn: sqlite3.Connection, job_id: str) -> None:
        """Explicit check so legacy databases (no foreign keys) behave like fresh ones."""
        if conn.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone() is None:
            raise JobNotFoundError(f"job {job_id} does not exist")


def _uri_path(path: Path) -> str:
    """Percent-encode a filesystem path for a ``file:`` URI (``?`` and ``#`` included)."""
    from urllib.parse import quote

    return quote(os.fspath(path), safe="/")
