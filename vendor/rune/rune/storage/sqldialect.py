"""The dialect contract of the SQL adapters: what each must supply to
:class:`rune.storage.sqlbase.SQLStorage`, which writes every port method once on top.

An adapter supplies only what really differs between SQLite and PostgreSQL:

* **connections**: ``_connection()`` (autocommit: one statement is its own transaction)
  and ``_transaction()`` (a write transaction), both turning driver errors into
  :class:`~rune.storage.errors.StorageError`;
* **placeholders**: shared SQL is written with ``?``; ``_sql`` rewrites it for the driver;
* **dialect fragments**: a value list (``_in``), the clock a lease is measured on
  (``_clock``/``_deadline``), a conditional count (``_count_if``), a literal prefix match
  (``_prefix_match``) and the clauses of the claim and the row locks (the ``_CLAIM_*`` and
  ``_LOCK_*`` class attributes);
* **statements whose concurrency control differs**: the idempotent create
  (``_create_keyed``, with the statements and :func:`reuse_key` here), the id of a new
  event (``_insert_event``) and how a write for a job that does not exist is detected
  (``_job_write``);
* **text the database cannot hold**: ``_stored`` refuses it and ``_unmatchable`` tells a
  lookup that it cannot match anything (PostgreSQL text cannot contain NUL; SQLite's can).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, NamedTuple, Protocol, Self

from rune.storage.errors import IdempotencyConflictError
from rune.storage.records import require_text

INSERT_JOB = (
    "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, message, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_KEY = (
    "SELECT job_id, request_sha256 FROM idempotency_keys "
    "WHERE tenant_id = ? AND operation = ? AND idempotency_key = ?"
)
INSERT_KEY = (
    "INSERT INTO idempotency_keys (tenant_id, operation, idempotency_key, job_id, "
    "created_at, request_sha256) VALUES (?, ?, ?, ?, ?, ?)"
)


class Cursor(Protocol):
    """The part of a DB-API cursor the shared methods use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """The part of a connection the shared methods use (sqlite3's and psycopg's fit)."""

    def execute(self, sql: str, params: Sequence[Any], /) -> Cursor: ...


class JobRow(NamedTuple):
    """A new job, in the parameter order of :data:`INSERT_JOB`."""

    job_id: str
    tenant_id: str
    kind: str
    status: str
    request_json: str
    message: str
    created_at: float
    updated_at: float


def reuse_key(row: Any, digest: str) -> str:
    """The job a repeated idempotency key returns (``row`` from :data:`SELECT_KEY`).

    The key was stored with the sha256 of its request payload; another payload under the
    same key is a conflict, not a repeat.
    """
    if row[1] is not None and row[1] != digest:
        raise IdempotencyConflictError(
            "idempotency key was already used with a different request payload"
        )
    return str(row[0])


class SQLDialect(ABC):
    """The hooks and low-level helpers :class:`~rune.storage.sqlbase.SQLStorage` runs on."""

    # The claim statement's dialect clauses: what the inner SELECT reads from, the lock it
    # takes, and a re-check of the picked row by the outer UPDATE.
    _CLAIM_FROM: ClassVar[str] = "jobs"
    _CLAIM_LOCK: ClassVar[str] = ""
    _CLAIM_RECHECK: ClassVar[str] = ""
    # Row locks that reads inside a write transaction take ("" where the transaction's
    # write lock already serialises every writer).
    _LOCK_CHAIN_ROW: ClassVar[str] = ""
    _LOCK_JOB_ROW: ClassVar[str] = ""

    # dialect hooks ------------------------------------------------------------------------
    @abstractmethod
    def _connection(self) -> AbstractContextManager[Connection]:
        """A connection in autocommit mode; driver errors become StorageErrors."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Connection]:
        """A connection inside a write transaction, committed when the block ends."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards (idempotent)."""

    @abstractmethod
    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values`` (at least one): the condition and its parameters."""

    @abstractmethod
    def _clock(self, now: float) -> tuple[str, list[Any]]:
        """The current time that lease deadlines are compared with, and its parameters."""

    @abstractmethod
    def _deadline(self, now: float, lease: float) -> tuple[str, list[Any]]:
        """A lease deadline ``lease`` seconds from now on the clock of :meth:`_clock`."""

    @abstractmethod
    def _count_if(self, condition: str) -> str:
        """An aggregate counting the rows of a group for which ``condition`` holds."""

    @abstractmethod
    def _prefix_match(self, prefix: str) -> tuple[str, list[Any]]:
        """``key`` starts with ``prefix``, compared literally and case-sensitively."""

    @abstractmethod
    def _insert_event(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        """Run the workflow event INSERT ``sql``; return the new row's id."""

    @abstractmethod
    def _create_keyed(
        self, job: JobRow, scope: tuple[str, str, str], digest: str
    ) -> tuple[str, bool]:
        """``create_job`` with an idempotency key ``scope`` = (tenant, kind, key)."""

    @abstractmethod
    def _job_write(self, job_id: str) -> AbstractContextManager[Connection]:
        """A connection for writing a row that references ``job_id``; raises
        JobNotFoundError when that job does not exist."""

    def _sql(self, sql: str) -> str:
        """``sql`` (written with ``?`` placeholders) in the driver's parameter style."""
        return sql

    def _stored(self, name: str, value: str | None) -> str | None:
        """``value``, or ValueError if the database cannot store it as text."""
        return value

    def _unmatchable(self, *values: object) -> bool:
        """True if a lookup by one of ``values`` cannot find anything stored."""
        return False

    def _epoch(self, value: float) -> object:
        """A caller's epoch-seconds value as a statement parameter."""
        return value

    # helpers ------------------------------------------------------------------------------
    def _execute(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return conn.execute(self._sql(sql), params)

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        """Run one writing statement (its own transaction); the number of rows it changed."""
        with self._connection() as conn:
            return self._execute(conn, sql, params).rowcount

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._connection() as conn:
            return self._execute(conn, sql, params).fetchall()

    def _row(self, sql: str, params: Sequence[Any]) -> Any:
        with self._connection() as conn:
            return self._execute(conn, sql, params).fetchone()

    def _required(self, name: str, value: object, max_len: int = 256) -> str:
        text = require_text(name, value, max_len)
        self._stored(name, text)
        return text

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
