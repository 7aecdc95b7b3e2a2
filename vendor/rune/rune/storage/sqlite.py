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

The port methods themselves are :class:`rune.storage.sqlbase.SQLStorage`'s; this module adds
the connections and SQLite's dialect.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from rune.storage.errors import (
    DatabaseBusyError,
    DatabaseCorruptError,
    JobNotFoundError,
    StorageError,
    StoreClosedError,
)
from rune.storage.fsutil import ensure_directory
from rune.storage.migrator import Migrator
from rune.storage.sqlbase import SQLStorage
from rune.storage.sqldialect import INSERT_JOB, INSERT_KEY, SELECT_KEY, JobRow, reuse_key

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


class SQLiteStorage(SQLStorage):
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
        # The versions this store's start applied (empty with migrate=False).
        self.applied_migrations: list[int] = []
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
                self.applied_migrations = migrator.migrate(first)
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
    def _connection(self) -> Iterator[sqlite3.Connection]:
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

    connection = _connection  # public: tests and tools read the database directly

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: the write lock is held from the first read."""
        with self._connection() as conn:
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

    # dialect ------------------------------------------------------------------------------
    # The claim is one statement in autocommit mode: SQLite takes the write lock before the
    # inner SELECT runs, so no other connection (or process) can pick the same row in
    # between. INDEXED BY: without statistics the planner prefers idx_jobs_status and sorts
    # every queued row on each claim (quadratic in the queue length); the partial queue
    # index (0008) yields the oldest queued job directly.
    _CLAIM_FROM = "jobs INDEXED BY idx_jobs_queue"
    # No row locks: every write transaction is BEGIN IMMEDIATE, which already holds the
    # database's write lock from its first read.

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' for _ in values)})", list(values)

    def _clock(self, now: float) -> tuple[str, list[Any]]:
        return "?", [now]

    def _deadline(self, now: float, lease: float) -> tuple[str, list[Any]]:
        return "?", [now + lease]

    def _count_if(self, condition: str) -> str:
        return f"SUM({condition})"

    def _prefix_match(self, prefix: str) -> tuple[str, list[Any]]:
        # substr() compares literally and case-sensitively.
        return "substr(key, 1, ?) = ?", [len(prefix), prefix]

    def _insert_event(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        return int(conn.execute(sql, params).lastrowid or 0)

    def _create_keyed(
        self, job: JobRow, scope: tuple[str, str, str], digest: str
    ) -> tuple[str, bool]:
        # The write lock, taken before the read, makes read-then-insert atomic.
        with self._transaction() as conn:
            row = conn.execute(SELECT_KEY, scope).fetchone()
            if row is not None:
                return reuse_key(row, digest), False
            conn.execute(INSERT_JOB, job)
            conn.execute(INSERT_KEY, (*scope, job.job_id, job.created_at, digest))
        return job.job_id, True

    @contextmanager
    def _job_write(self, job_id: str) -> Iterator[sqlite3.Connection]:
        # An explicit check, so legacy databases (no foreign keys) behave like fresh ones.
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone() is None:
                raise JobNotFoundError(f"job {job_id} does not exist")
            yield conn


def _uri_path(path: Path) -> str:
    """Percent-encode a filesystem path for a ``file:`` URI (``?`` and ``#`` included)."""
    from urllib.parse import quote

    return quote(os.fspath(path), safe="/")
