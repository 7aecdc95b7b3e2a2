"""Copy a RUNE SQLite database into PostgreSQL (``rune db migrate-to-postgres``).

Why a tool of its own, and why it is built this way: upstream's copier opened both sides
through the storage adapters (so a dry run created the schema on the target and the
source was migrated and switched to WAL), paged with ``LIMIT/OFFSET`` in a new read
transaction per page (no consistent snapshot), printed whole rows in its errors, had no
empty-target guard, forgot the ``settings`` table and never checked what it wrote. Here:

**Source.** The file is opened with a ``mode=ro`` URI (no migration, no journal-mode
change, nothing written; for a WAL database SQLite itself may create the ``-wal``/``-shm``
side files it needs to coordinate with writers, never the database file) and read inside
ONE read transaction: in WAL mode that is a snapshot, so every table comes from the same
instant even while the API keeps committing (SQLite cannot checkpoint past an open
snapshot, so the WAL grows for as long as the copy runs). A file in rollback-journal
mode (a backup) has no such snapshot: the read lock blocks writers until the copy ends,
which is fine for a file nobody writes. Tables are read in ``rowid`` order with keyset
pages (``rowid > last``), never OFFSET: rowid is the storage order (sequential reads) and
an integer, which suits the progress row. The source must be a RUNE database at exactly
this code's schema version; anything else is one line and exit 1.

**Checks before writes.** Both sides are checked (source schema, target schema version,
target contents, resume state, artifact hashes) before the first write, so a bad input
leaves the target as it was. An empty database gets the schema from
:class:`~rune.storage.pg_migrator.PgMigrator`; a RUNE schema at another version is
refused, never migrated silently.

**Batches and resume.** Rows go in with binary ``COPY`` in batches; each batch commits
together with its row of the tool-owned ``rune_copy_progress`` table (source identity,
last copied rowid, row count and the running source checksum of the rows copied so
far). A killed run is resumed by running the same command again, only when both sides
still hold exactly what the progress table recorded: the source rows up to the recorded
rowid are re-read and must give the recorded count and checksum (a source that changed
since is caught here), and the target table must give them too (rows written to the
target by something else are caught). The *source identity* is a hash of the source's
``schema_version`` rows including their ``applied_at`` times, which are written once
when a database is created or migrated: copies of one file (a backup) share it, two
independently created databases do not. The path is kept for messages but not compared,
so moving the file does not prevent a resume (the content checks decide; they also catch
a ``VACUUM`` that renumbered the rowids of a table without an INTEGER PRIMARY KEY).

``--force`` allows replacing a target that holds rows that are not a resumable copy of
this source: the RUNE tables are emptied (``TRUNCATE``) in the same transaction as the
first batch, so anything that fails before that commit leaves the old contents. An
unfinished copy of the same source is resumed with or without ``--force``; when it can
no longer be resumed, ``--force`` starts over.

**Speed.** One thread reads the snapshot and computes the source checksums; two writer
connections copy different tables at once. Secondary (non-unique) indexes on tables the
role owns are dropped in the first batch's transaction and recorded in
``rune_copy_indexes``; as soon as a table is complete, two background connections
rebuild its indexes and compute its target checksum while other tables are still
copying (``pg_restore`` does the same: building an index from sorted data costs far less
than maintaining it row by row). Primary keys are never dropped, so no duplicate can
get in. A killed run leaves the records, and the run that completes the copy rebuilds
every recorded index (also after ``--force``); the record table goes once none is
missing. When the role may set ``session_replication_role`` (superusers), the per-row
foreign-key triggers are skipped during the load; one set-based orphan check per
foreign key (an anti-join, run in either case once both tables are complete) stands in
for them before success is reported. Otherwise each row is checked on insert and child
tables wait until ``jobs`` is complete. Batches commit with ``synchronous_commit = off``
(a server crash loses whole batches together with their progress rows, which the resume
handles); the final commit is synchronous, which makes every earlier one durable.

**Verification.** For every table, row count and checksum are computed on both sides
independently: the source in Python over the snapshot rows as read, the target in SQL
over the stored rows. The checksum is the sum modulo 2**64 of the first 8 bytes
(big-endian) of md5 over a canonical row encoding, the columns in table order:
NULL is ``00``; text is ``01``, its UTF-8 length as 4 bytes big-endian, its UTF-8
bytes; a float is ``02`` and its IEEE-754 binary64 big-endian bytes (``float8send``,
``struct.pack('>d')``), so precision is compared exactly; an integer is ``03`` and 8
bytes big-endian; bytes are ``04`` and their sha256. A sum is order-independent and
adds up over batches, which the resume needs. Artifacts are additionally checked
against their stored sha256 and size before anything is written. The progress table is
dropped only after every table matched.

Errors never contain row contents (payloads may be secret): they name the table and
the primary key.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
import os
import queue
import signal
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rune.storage.errors import ConfigurationError, StorageError
from rune.storage.migrator import Migrator
from rune.storage.pgconn import (
    BUSY,
    DISK_FULL,
    LOST,
    PERMISSION,
    classify_pg_error,
    connect,
    connect_timeout_from_env,
    describe_pg_error,
    require_psycopg,
)
from rune.storage.urls import PostgresTarget, SqliteTarget, mask_url, parse_url, redact

if TYPE_CHECKING:
    import psycopg

DEFAULT_BATCH_SIZE = 5000
PROGRESS_TABLE = "rune_copy_progress"
# Secondary indexes dropped for the load, until they are rebuilt (survives a kill).
INDEX_TABLE = "rune_copy_indexes"
# "RUNECOPY" as a big-endian signed 64-bit integer: one copy at a time per target.
COPY_LOCK_KEY = int.from_bytes(b"RUNECOPY", "big", signed=True)
APPLICATION_NAME = "rune-migrate-to-postgres"
# Test hook (never set in production): "commit:N" SIGKILLs this process right after the
# N-th batch commit, "copy:N" after the N-th batch was streamed but before its commit.
ENV_FAULT = "RUNE_TEST_TRANSFER_KILL"
_WRITERS = 2
_FINISHERS = 2  # connections that rebuild indexes and compute target checksums
_QUEUE_DEPTH = 2
# Artifacts can be large: a batch stops early once its content reaches this many bytes.
_MAX_BATCH_BYTES = 64 * 1024 * 1024
_MOD = 1 << 64
_LOCK_TIMEOUT = "10s"

TEXT = "text"
FLOAT = "float"
INT = "int"
BYTES = "bytes"


@dataclass(frozen=True)
class TableSpec:
    """A table as both schemas define it; ``columns`` in table order with their kind."""

    name: str
    columns: tuple[tuple[str, str], ...]
    pk: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _kind in self.columns)


# Parents before children; the order of the copy, the plan and the verification table.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "jobs",
        (
            ("job_id", TEXT),
            ("tenant_id", TEXT),
            ("kind", TEXT),
            ("status", TEXT),
            ("request_json", TEXT),
            ("result_json", TEXT),
            ("error", TEXT),
            ("message", TEXT),
            ("created_at", FLOAT),
            ("updated_at", FLOAT),
            ("owner", TEXT),
            ("lease_expires_at", FLOAT),
        ),
        ("job_id",),
    ),
    TableSpec(
        "idempotency_keys",
        (
            ("tenant_id", TEXT),
            ("operation", TEXT),
            ("idempotency_key", TEXT),
            ("job_id", TEXT),
            ("created_at", FLOAT),
            ("request_sha256", TEXT),
        ),
        ("tenant_id", "operation", "idempotency_key"),
    ),
    TableSpec(
        "workflow_events",
        (
            ("id", INT),
            ("job_id", TEXT),
            ("event", TEXT),
            ("status", TEXT),
            ("duration_ms", FLOAT),
            ("error_type", TEXT),
            ("labels_json", TEXT),
            ("recorded_at", FLOAT),
            ("tenant_id", TEXT),
        ),
        ("id",),
    ),
    TableSpec(
        "chain_state",
        (
            ("job_id", TEXT),
            ("state_json", TEXT),
            ("overall_status", TEXT),
            ("updated_at", FLOAT),
        ),
        ("job_id",),
    ),
    TableSpec(
        "audit_artifact",
        (
            ("artifact_id", TEXT),
            ("job_id", TEXT),
            ("kind", TEXT),
            ("name", TEXT),
            ("size_bytes", INT),
            ("sha256", TEXT),
            ("content", BYTES),
            ("created_at", FLOAT),
        ),
        ("artifact_id",),
    ),
    TableSpec(
        "settings",
        (("key", TEXT), ("value_json", TEXT), ("updated_at", FLOAT)),
        ("key",),
    ),
)
SPECS: dict[str, TableSpec] = {spec.name: spec for spec in TABLES}


class TransferError(StorageError):
    """The copy cannot start or cannot go on; the message is one safe line."""


# checksums ------------------------------------------------------------------------------
_NULL = b"\x00"
_PACK_TEXT = struct.Struct(">BI").pack
_PACK_FLOAT = struct.Struct(">Bd").pack
_PACK_INT = struct.Struct(">Bq").pack
_UNPACK_PREFIX = struct.Struct(">Q8x").unpack


def _encode_text(value: bytes | None) -> bytes:
    return _NULL if value is None else _PACK_TEXT(1, len(value)) + value


def _encode_float(value: float | None) -> bytes:
    return _NULL if value is None else _PACK_FLOAT(2, value)


def _encode_int(value: int | None) -> bytes:
    return _NULL if value is None else _PACK_INT(3, value)


def _encode_bytes(value: bytes | None) -> bytes:
    return _NULL if value is None else b"\x04" + hashlib.sha256(value).digest()


_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    TEXT: _encode_text,
    FLOAT: _encode_float,
    INT: _encode_int,
    BYTES: _encode_bytes,
}


def encoders_for(spec: TableSpec) -> tuple[Callable[[Any], bytes], ...]:
    """One encoder per column; text values are the UTF-8 bytes SQLite stores."""
    return tuple(_ENCODERS[kind] for _name, kind in spec.columns)


def rows_checksum(encoders: Sequence[Callable[[Any], bytes]], rows: Sequence[Sequence[Any]]) -> int:
    """Sum of the rows' hashes, not yet reduced modulo 2**64 (batches add up)."""
    call = operator.call
    join = b"".join
    md5 = hashlib.md5
    unpack = _UNPACK_PREFIX
    total = 0
    for row in rows:
        total += unpack(md5(join(map(call, encoders, row)), usedforsecurity=False).digest())[0]
    return total


def target_checksum_sql(spec: TableSpec) -> str:
    """The same checksum in SQL; returns ``count(*)`` and the signed sum of prefixes.

    Run it on a UTF8 database over a connection whose ``client_encoding`` is UTF8.
    """
    tags = {TEXT: "01", FLOAT: "02", INT: "03", BYTES: "04"}
    parts = []
    for name, kind in spec.columns:
        col = f'"{name}"'
        tag = f"decode('{tags[kind]}', 'hex')"
        if kind == TEXT:
            # textsend: the bytes in the client encoding, which _connect sets to UTF8 (the
            # server's, checked), so no conversion and no re-validation; octet_length
            # counts the same bytes. Measurably cheaper than convert_to on millions of rows.
            value = f"int4send(octet_length({col})) || textsend({col})"
        elif kind == FLOAT:
            value = f"float8send({col})"
        elif kind == INT:
            value = f"int8send({col})"
        else:
            value = f"sha256({col})"
        parts.append(f"coalesce({tag} || {value}, decode('00', 'hex'))")
    row = " || ".join(parts)
    return (
        f"SELECT count(*), coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint), 0) "
        f'FROM "{spec.name}"'
    )


def format_checksum(value: int) -> str:
    return f"{value % _MOD:016x}"


# results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TablePlan:
    """What happens to one table. ``done_rows``: rows an unfinished copy already holds."""

    table: str
    source_rows: int
    target_rows: int
    done_rows: int
    action: str


@dataclass(frozen=True)
class Plan:
    """The checked situation on both sides, before anything is written."""

    source: str
    target: str
    schema_version: int
    server_version: int
    target_state: str  # "empty", "ready", "resume", "replace", "refuse"
    summary: str
    refusal: str | None
    tables: tuple[TablePlan, ...]


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: int
    target_checksum: int

    @property
    def ok(self) -> bool:
        return (
            self.source_rows == self.target_rows
            and self.source_checksum % _MOD == self.target_checksum % _MOD
        )


@dataclass(frozen=True)
class TransferResult:
    plan: Plan
    checks: tuple[TableCheck, ...] = ()
    copied_rows: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        if self.dry_run:
            return self.plan.refusal is None
        return bool(self.checks) and all(c.ok for c in self.checks)


class Reporter:
    """Receives progress; the CLI prints it. Called from several threads (serialise!)."""

    def plan(self, plan: Plan) -> None:
        """Both sides were checked; nothing was written yet."""

    def message(self, text: str) -> None:
        """A one-line note (schema created, resume, ...)."""

    def progress(self, table: str, copied: int, total: int) -> None:
        """After every committed batch: rows of ``table`` now in the target."""

    def table_done(self, table: str, copied: int, total: int, resumed: int, seconds: float) -> None:
        """``table`` is complete: ``copied`` rows this run, ``resumed`` from before."""


# the source ------------------------------------------------------------------------------
def _pk_text(spec: TableSpec, row: Sequence[Any]) -> str:
    """``pk=value`` for an error message: the primary key only, never other columns."""
    names = spec.column_names
    shown = []
    for col in spec.pk:
        value = row[names.index(col)]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        text = repr(value)
        shown.append(f"{col}={text[:80]}{'…' if len(text) > 80 else ''}")
    return ", ".join(shown)


def _value_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` cannot go into a column of ``kind`` (None when it can)."""
    if value is None:
        return None
    if kind == TEXT:
        if not isinstance(value, bytes):
            return f"holds a {type(value).__name__} value where text is expected"
        if b"\x00" in value:
            return "contains a NUL character, which PostgreSQL text cannot store"
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return "is not valid UTF-8"
        return None
    if kind == FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"holds a {_sqlite_type(value)} value where a number is expected"
        return None
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"holds a {_sqlite_type(value)} value where an integer is expected"
        return None
    if not isinstance(value, bytes):
        return f"holds a {_sqlite_type(value)} value where bytes are expected"
    return None


def _sqlite_type(value: Any) -> str:
    return {bytes: "text/blob", float: "real", int: "integer", str: "text"}.get(
        type(value), type(value).__name__
    )


def find_bad_row(spec: TableSpec, rows: Sequence[Sequence[Any]]) -> str | None:
    """The first row PostgreSQL cannot take, as ``table (pk): column problem``."""
    for row in rows:
        for (name, kind), value in zip(spec.columns, row, strict=False):
            problem = _value_problem(kind, value)
            if problem:
                return f"{spec.name} ({_pk_text(spec, row)}): column {name} {problem}"
    return None


@dataclass
class _Batch:
    spec: TableSpec
    rows: list[tuple[Any, ...]]
    last_key: int
    checksum: int


@dataclass(frozen=True)
class _TableEnd:
    spec: TableSpec


class Source:
    """A read-only snapshot of a RUNE SQLite file (one read transaction until close)."""

    def __init__(self, target: SqliteTarget, shown_url: str) -> None:
        self.shown = shown_url
        if target.path is None:
            raise TransferError(
                f"the source {shown_url} is an in-memory database; give the database file "
                "(sqlite:///path/to/jobs.db)"
            )
        self.path = target.path
        if not self.path.exists():
            raise TransferError(f"the source database {self.path} does not exist")
        if not self.path.is_file():
            raise TransferError(f"the source {self.path} is not a file")
        uri = f"file:{quote(os.fspath(self.path), safe='/')}?mode=ro"
        try:
            self.conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
            )
        except sqlite3.Error as exc:
            raise TransferError(f"cannot open the source {self.path} read-only: {exc}") from exc
        try:
            self.conn.execute("PRAGMA query_only = ON")
            self.conn.execute("BEGIN")
            # The first read starts the snapshot; everything below sees this instant.
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise TransferError(
                    f"the source {self.path} is not a SQLite database (or is corrupt): {exc}"
                ) from exc
            raise TransferError(f"cannot read the source {self.path}: {exc}") from exc
        self.schema_version = 0
        self.source_id = ""

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")
        self.conn.close()

    def check(self, migrator: Migrator) -> None:
        """The source must be a RUNE database at exactly this code's schema version."""
        try:
            self._check(migrator)
        except sqlite3.Error as exc:
            raise TransferError(f"cannot read the source {self.path}: {exc}") from exc

    def _check(self, migrator: Migrator) -> None:
        self.conn.text_factory = str
        tables = {
            str(r[0])
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        latest = max((m.version for m in migrator.migrations), default=0)
        migrate_hint = f"run `rune db migrate --db-url {self.shown}` first"
        if "schema_version" not in tables:
            if not tables & set(SPECS):
                raise TransferError(
                    f"the source {self.path} is not a RUNE database (it has no RUNE tables "
                    "and no schema_version)"
                )
            raise TransferError(
                f"the source {self.path} has RUNE tables but no schema_version (it predates "
                f"migrations); {migrate_hint}, then copy it"
            )
        status = migrator.status(self.conn)
        if status.problems:
            raise TransferError(f"the source {self.path}: {'; '.join(status.problems)}")
        applied = max((a.version for a in status.applied), default=0)
        if status.pending:
            raise TransferError(
                f"the source {self.path} is at schema version {applied:04d}, older than this "
                f"code ({latest:04d}); {migrate_hint}, then copy it"
            )
        self.schema_version = applied
        for spec in TABLES:
            columns = {str(r[1]) for r in self.conn.execute(f'PRAGMA table_info("{spec.name}")')}
            if columns != set(spec.column_names):
                raise TransferError(
                    f"the source table {spec.name} has columns {sorted(columns)}, expected "
                    f"{sorted(spec.column_names)}; the source schema was changed by hand"
                )
        digest = hashlib.sha256(b"rune-migrate-to-postgres/1\n")
        for row in sorted(status.applied, key=lambda a: a.version):
            digest.update(f"{row.version}:{row.checksum}:{row.applied_at!r}\n".encode())
        self.source_id = digest.hexdigest()
        self.conn.text_factory = bytes

    def count(self, spec: TableSpec) -> int:
        row = self.conn.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()
        return int(row[0])

    def _select(self, spec: TableSpec) -> str:
        cols = ", ".join(f'"{c}"' for c in spec.column_names)
        return f'SELECT {cols} FROM "{spec.name}"'

    def batches(
        self, spec: TableSpec, after: int | None, batch_size: int, upto: int | None = None
    ) -> Iterator[_Batch]:
        """Keyset pages in rowid order: rows with ``after < rowid (<= upto)``.

        The key range of a page is found first (rowids only), then its rows are read by
        range, so the last key is known without carrying the rowid in every row.
        """
        encoders = encoders_for(spec)
        select = self._select(spec)
        size_col = next((f'length("{n}")' for n, k in spec.columns if k == BYTES), None)
        last = after
        while True:
            where = [] if last is None else ["rowid > :after"]
            if upto is not None:
                where.append("rowid <= :upto")
            page = (
                f'SELECT rowid{", " + size_col if size_col else ""} FROM "{spec.name}"'
                + (f" WHERE {' AND '.join(where)}" if where else "")
                + " ORDER BY rowid LIMIT :limit"
            )
            params = {"after": last, "upto": upto, "limit": batch_size}
            if size_col is None:
                # One result row: SQLite walks the page's keys without handing each to Python.
                found = self.conn.execute(
                    f"SELECT min(rowid), max(rowid) FROM ({page})", params
                ).fetchone()
                if found is None or found[0] is None:
                    return
                first_key, end_key = int(found[0]), int(found[1])
            else:
                keys = self.conn.execute(page, params).fetchall()
                if not keys:
                    return
                used = 0
                for i, (_key, size) in enumerate(keys):
                    used += int(size or 0)
                    if used > _MAX_BATCH_BYTES and i > 0:
                        keys = keys[:i]
                        break
                first_key, end_key = int(keys[0][0]), int(keys[-1][0])
            rows = self.conn.execute(
                f"{select} WHERE rowid >= ? AND rowid <= ? ORDER BY rowid", (first_key, end_key)
            ).fetchall()
            try:
                checksum = rows_checksum(encoders, rows)
            except (TypeError, struct.error, OverflowError):
                problem = find_bad_row(spec, rows)
                raise TransferError(
                    f"cannot copy {problem or spec.name}; fix the source and run again"
                ) from None
            if spec.name == "audit_artifact":
                _check_artifacts(spec, rows)
            yield _Batch(spec, rows, end_key, checksum)
            last = end_key

    def scan(self, spec: TableSpec, upto: int | None) -> tuple[int, int]:
        """(rows, checksum) of the rows with rowid <= ``upto`` (all rows when None)."""
        count = checksum = 0
        for batch in self.batches(spec, None, DEFAULT_BATCH_SIZE, upto=upto):
            count += len(batch.rows)
            checksum += batch.checksum
        return count, checksum % _MOD

    def check_artifacts(self) -> int:
        """Re-hash every artifact before anything is written; return how many."""
        spec = SPECS["audit_artifact"]
        names = spec.column_names
        cols = ("artifact_id", "size_bytes", "sha256", "content")
        sql = f"SELECT {', '.join(cols)} FROM audit_artifact"
        count = 0
        for row in self.conn.execute(sql):
            full: list[Any] = [None] * len(names)
            for col, value in zip(cols, row, strict=True):
                full[names.index(col)] = value
            _check_artifacts(spec, [tuple(full)])
            count += 1
        return count


def _check_artifacts(spec: TableSpec, rows: Sequence[Sequence[Any]]) -> None:
    names = spec.column_names
    i_size, i_sha, i_content = (names.index(c) for c in ("size_bytes", "sha256", "content"))
    for row in rows:
        content, stored, size = row[i_content], row[i_sha], row[i_size]
        if not isinstance(content, bytes):
            raise TransferError(
                f"artifact {_pk_text(spec, row)}: content is not a blob; the source is damaged"
            )
        actual = hashlib.sha256(content).hexdigest()
        stored_text = stored.decode("ascii", "replace") if isinstance(stored, bytes) else stored
        if actual != stored_text or size != len(content):
            raise TransferError(
                f"artifact {_pk_text(spec, row)} is damaged in the source: its content "
                f"({len(content)} bytes, sha256 {actual[:12]}…) does not match the stored "
                f"size {size!r} and sha256 {str(stored_text)[:12]}…; repair or remove it in the "
                "source and run again"
            )


# the target ------------------------------------------------------------------------------
@dataclass
class _Progress:
    source_id: str
    source: str
    last_key: int | None
    rows: int
    checksum: int


@dataclass
class _TargetState:
    server_version: int
    schema_exists: bool
    counts: dict[str, int]
    progress: dict[str, _Progress] | None


def _pg_detail(exc: BaseException) -> str:
    """The server's primary message only: DETAIL lines can quote whole rows."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc).split("\n", 1)[0]
    sqlstate = getattr(exc, "sqlstate", None)
    suffix = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    return redact(" ".join(str(text).split())) + suffix


class Transfer:
    """One run of the copy; :func:`migrate_to_postgres` is the entry point."""

    def __init__(
        self,
        source_url: str,
        target_url: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        force: bool = False,
        env: Mapping[str, str] | None = None,
        connect_timeout: float | None = None,
        reporter: Reporter | None = None,
        writers: int = _WRITERS,
    ) -> None:
        self.environ = os.environ if env is None else env
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(
                f"the batch size must be a whole number >= 1, got {batch_size!r}"
            )
        self.batch_size = batch_size
        self.force = force
        self.writers = max(1, writers)
        self.reporter = reporter or Reporter()
        source = parse_url(source_url, self.environ)
        if not isinstance(source, SqliteTarget):
            raise ConfigurationError(
                f"--source must be a sqlite:// URL (the database to copy), got "
                f"{mask_url(source_url)}"
            )
        target = parse_url(target_url, self.environ)
        if not isinstance(target, PostgresTarget):
            raise ConfigurationError(
                f"--target must be a postgresql:// URL, got {mask_url(target_url)}"
            )
        require_psycopg()
        self.source_target = source
        self.source_shown = mask_url(source_url)
        self.target = target
        self.timeout = (
            connect_timeout
            if connect_timeout is not None
            else connect_timeout_from_env(self.environ)
        )
        self.fault = self.environ.get(ENV_FAULT, "")

    # connections ---------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        conn = connect(
            self.target, timeout=self.timeout, autocommit=True, application_name=APPLICATION_NAME
        )
        try:
            conn.execute("SET client_encoding TO 'UTF8'")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def _one_line_errors(self, source: Source, doing: str) -> Iterator[None]:
        """Driver errors from either side become the one-line errors the CLI prints."""
        try:
            yield
        except sqlite3.Error as exc:
            raise TransferError(f"cannot read the source {source.path}: {exc}") from exc
        except StorageError:
            raise
        except Exception as exc:
            if _is_pg_error(exc):
                raise self._error(exc, doing) from exc
            raise

    def _error(self, exc: BaseException, doing: str) -> StorageError:
        kind = classify_pg_error(exc)
        if kind in (BUSY, DISK_FULL, LOST, PERMISSION):
            error = describe_pg_error(exc, self.target)
            return type(error)(f"{doing}: {error}")
        return TransferError(f"{doing} on {self.target.masked}: {_pg_detail(exc)}")

    # checks --------------------------------------------------------------------------------
    def _inspect(self, conn: psycopg.Connection[Any], source: Source) -> _TargetState:
        from rune.storage.pg_migrator import PgMigrator

        server_version = int(conn.info.server_version)
        encoding = conn.execute("SHOW server_encoding").fetchone()
        if encoding is None or str(encoding[0]).upper() not in ("UTF8", "UTF-8"):
            raise TransferError(
                f"the target database {self.target.masked} uses encoding "
                f"{encoding[0] if encoding else '?'}; RUNE needs UTF8 (create it with "
                "ENCODING 'UTF8')"
            )
        existing = self._existing_tables(conn)
        migrator = PgMigrator()
        status = migrator.status(conn)
        latest = migrator.latest_version
        migrate_hint = f"run `rune db migrate --db-url {self.target.masked}` first"
        if status.problems:
            raise TransferError(f"the target {self.target.masked}: {'; '.join(status.problems)}")
        if not status.applied:
            rune_tables = sorted(existing & set(SPECS))
            if rune_tables:
                raise TransferError(
                    f"the target {self.target.masked} has RUNE tables ({', '.join(rune_tables)}) "
                    "but no schema_version; it was not created by rune's migrations. Use an "
                    "empty database"
                )
            for tool_table in (PROGRESS_TABLE, INDEX_TABLE):
                if tool_table in existing:
                    raise TransferError(
                        f"the target {self.target.masked} has a {tool_table} table but no RUNE "
                        f"schema; drop {tool_table} or use an empty database"
                    )
            return _TargetState(server_version, False, {s.name: 0 for s in TABLES}, None)
        applied = max(a.version for a in status.applied)
        if status.pending:
            raise TransferError(
                f"the target {self.target.masked} has RUNE schema version {applied:04d}, older "
                f"than this code ({latest:04d}); {migrate_hint} (it is not migrated silently), "
                "then copy"
            )
        if applied != source.schema_version:
            raise TransferError(
                f"the target is at schema version {applied:04d} but the source at "
                f"{source.schema_version:04d}; both must be at this code's version"
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
        progress = None
        if PROGRESS_TABLE in existing:
            progress = {}
            for r in conn.execute(
                "SELECT table_name, source_id, source, last_key, rows, checksum "
                f"FROM {PROGRESS_TABLE}"
            ).fetchall():
                progress[str(r[0])] = _Progress(
                    str(r[1]), str(r[2]), None if r[3] is None else int(r[3]), int(r[4]), int(r[5])
                )
        return _TargetState(server_version, True, counts, progress)

    def _existing_tables(self, conn: psycopg.Connection[Any]) -> set[str]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r', 'p')"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _target_checksum(self, conn: psycopg.Connection[Any], spec: TableSpec) -> tuple[int, int]:
        row = conn.execute(target_checksum_sql(spec)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]) % _MOD

    def _resume_problem(
        self, conn: psycopg.Connection[Any], source: Source, state: _TargetState
    ) -> str | None:
        """Why the unfinished copy cannot be continued (None: it can)."""
        progress = state.progress or {}
        if set(progress) != set(SPECS):
            return f"its {PROGRESS_TABLE} table is incomplete"
        for spec in TABLES:
            entry = progress[spec.name]
            if entry.source_id != source.source_id:
                return f"it is a copy of another database ({entry.source})"
        for spec in TABLES:
            entry = progress[spec.name]
            rows, checksum = self._target_checksum(conn, spec)
            if rows != entry.rows or checksum != entry.checksum % _MOD:
                return (
                    f"the target table {spec.name} no longer holds what the copy wrote "
                    f"({rows} rows, {entry.rows} recorded); something else wrote to it"
                )
            if entry.last_key is None:
                if entry.rows:
                    return f"its progress row for {spec.name} is inconsistent"
                continue
            rows, checksum = source.scan(spec, entry.last_key)
            if rows != entry.rows or checksum != entry.checksum % _MOD:
                return (
                    f"the source table {spec.name} changed since the copy started (the "
                    f"{entry.rows} rows copied so far no longer match; is the API still "
                    "writing to it?)"
                )
        return None

    def _lock(self, conn: psycopg.Connection[Any]) -> None:
        """One copy per target. Waits a little: the backend of a run that was just killed
        holds the lock until the server notices the closed connection."""
        deadline = time.monotonic() + self.timeout
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (COPY_LOCK_KEY,)).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() >= deadline:
                raise TransferError(
                    f"another migrate-to-postgres is running against {self.target.masked} "
                    f"(still after {self.timeout:g} s); wait for it to finish"
                )
            time.sleep(0.2)

    def plan(self, conn: psycopg.Connection[Any], source: Source) -> tuple[Plan, _TargetState]:
        """Check both sides (read-only) and decide what to do with the target."""
        with self._one_line_errors(source, "checking the target"):
            self._lock(conn)
            state = self._inspect(conn, source)
            source_counts = {spec.name: source.count(spec) for spec in TABLES}
            refusal = None
            done = dict.fromkeys(SPECS, 0)
            total_target = sum(state.counts.values())
            if not state.schema_exists:
                kind, summary = "empty", "empty database: the RUNE schema will be created"
            elif state.progress is not None:
                problem = self._resume_problem(conn, source, state)
                if problem is None:
                    kind = "resume"
                    done = {name: p.rows for name, p in state.progress.items()}
                    summary = (
                        f"holds an unfinished copy of this source ({sum(done.values())} rows): "
                        "resuming it"
                    )
                elif self.force:
                    kind = "replace"
                    summary = (
                        f"holds an unfinished copy that cannot be resumed ({problem}); --force: "
                        f"its {total_target} rows will be removed and the copy starts over"
                    )
                else:
                    kind = "refuse"
                    summary = f"holds an unfinished copy that cannot be resumed: {problem}"
                    refusal = (
                        f"the target {self.target.masked} holds an unfinished copy that cannot "
                        f"be resumed: {problem}; run again with --force to remove it and start over"
                    )
            elif total_target:
                nonempty = ", ".join(f"{n}: {c}" for n, c in state.counts.items() if c)
                if self.force:
                    kind = "replace"
                    summary = f"holds RUNE rows ({nonempty}); --force: they will be replaced"
                else:
                    kind = "refuse"
                    summary = f"holds RUNE rows ({nonempty})"
                    refusal = (
                        f"the target {self.target.masked} already holds RUNE rows ({nonempty}); "
                        "refusing to mix them with the copy. Use an empty database, or --force "
                        "to replace them"
                    )
            else:
                kind, summary = "ready", "RUNE schema in place and empty: copying into it"
            tables = []
            for spec in TABLES:
                rows = source_counts[spec.name]
                target_rows = state.counts[spec.name]
                if kind == "refuse":
                    action = "refuse" if target_rows or state.progress else "-"
                elif kind == "resume":
                    left = rows - done[spec.name]
                    action = f"resume: {left} rows left" if left else "complete"
                elif kind == "replace":
                    action = f"replace {target_rows} rows" if target_rows else "copy"
                else:
                    action = "copy"
                tables.append(TablePlan(spec.name, rows, target_rows, done[spec.name], action))
            if refusal is None:
                source.check_artifacts()
            plan = Plan(
                source=str(source.path),
                target=self.target.masked,
                schema_version=source.schema_version,
                server_version=state.server_version,
                target_state=kind,
                summary=summary,
                refusal=refusal,
                tables=tuple(tables),
            )
            return plan, state

    # the run -------------------------------------------------------------------------------
    def run(self, *, dry_run: bool = False) -> TransferResult:
        started = time.monotonic()
        source = Source(self.source_target, self.source_shown)
        try:
            source.check(Migrator())
            conn = self._connect()
            try:
                plan, state = self.plan(conn, source)
                self.reporter.plan(plan)
                if dry_run:
                    return TransferResult(plan, dry_run=True)
                if plan.refusal is not None:
                    raise TransferError(plan.refusal)
                copier = _Copier(self, conn, source, plan, state)
                checks, copied = copier.run()
                return TransferResult(
                    plan, checks, copied, time.monotonic() - started, dry_run=False
                )
            finally:
                conn.close()
        finally:
            source.close()

    def verify(self) -> tuple[TableCheck, ...]:
        """Compare the whole source snapshot with the target, writing nothing."""
        source = Source(self.source_target, self.source_shown)
        try:
            source.check(Migrator())
            conn = self._connect()
            try:
                checks = []
                with self._one_line_errors(source, "verifying the target"):
                    for spec in TABLES:
                        rows, checksum = source.scan(spec, None)
                        target_rows, target_checksum = self._target_checksum(conn, spec)
                        checks.append(
                            TableCheck(spec.name, rows, target_rows, checksum, target_checksum)
                        )
                return tuple(checks)
            finally:
                conn.close()
        finally:
            source.close()


def _is_pg_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg.Error)


@dataclass
class _TableRun:
    spec: TableSpec
    total: int
    start_key: int | None
    start_rows: int
    start_checksum: int
    rows: int = 0
    checksum: int = 0
    started: float = 0.0
    finished: bool = False
    target: tuple[int, int] | None = None


@dataclass
class _Stream:
    tables: list[_TableRun]
    items: queue.Queue[_Batch | _TableEnd | None] = field(
        default_factory=lambda: queue.Queue(maxsize=_QUEUE_DEPTH)
    )


class _Stop(Exception):
    """Raised inside a worker thread when another one failed."""


class _Copier:
    """The write phase: reader thread, writer threads, background verification."""

    def __init__(
        self,
        transfer: Transfer,
        conn: psycopg.Connection[Any],
        source: Source,
        plan: Plan,
        state: _TargetState,
    ) -> None:
        self.t = transfer
        self.conn = conn
        self.source = source
        self.plan = plan
        self.state = state
        self.runs: dict[str, _TableRun] = {}
        progress = state.progress if plan.target_state == "resume" else None
        for spec, table_plan in zip(TABLES, plan.tables, strict=True):
            entry = progress[spec.name] if progress else None
            self.runs[spec.name] = _TableRun(
                spec,
                table_plan.source_rows,
                entry.last_key if entry else None,
                entry.rows if entry else 0,
                entry.checksum if entry else 0,
            )
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.setup_done = plan.target_state == "resume"
        self.setup_lock = threading.Lock()
        self.commits = 0
        self.streamed = 0
        self.replica = False
        self.tasks: queue.Queue[Callable[[psycopg.Connection[Any]], None] | None] = queue.Queue()
        self.unverified: list[str] = []
        self.foreign_keys: list[_ForeignKey] = []
        self.pending_fks: list[_ForeignKey] = []
        self.complete: set[str] = set()
        # (table, qualified index name, CREATE INDEX statement)
        self.present_indexes: list[tuple[str, str, str]] = []
        self.rebuild: dict[str, list[tuple[str, str]]] = {}

    # failure handling ------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
            self.stop.set()
            self.cond.notify_all()

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except _Stop:
                pass
            except BaseException as exc:  # handed to the main thread, which raises it
                self._fail(exc)

        return run

    def _fault(self, stage: str, count: int) -> None:
        """The test hook: ``count`` is this process's number of batches at ``stage``."""
        if not self.t.fault:
            return
        kind, _, wanted = self.t.fault.partition(":")
        if kind == stage and wanted.isdigit() and count == int(wanted):
            os.kill(os.getpid(), signal.SIGKILL)

    # setup ---------------------------------------------------------------------------------
    def _setup_sql(self, cur: psycopg.Cursor[Any], *, drop_indexes: bool = True) -> None:
        """Runs inside the first batch's transaction: replacement, index drops, progress.

        Secondary (non-unique) indexes are dropped for the load and recorded in
        ``rune_copy_indexes`` in the same transaction; building one from sorted data at
        the end costs a fraction of maintaining it row by row. Primary keys stay, so a
        duplicate can never get in. A killed run leaves the records; whichever run
        completes the copy rebuilds every recorded index (``IF NOT EXISTS``).
        """
        cur.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        if self.plan.target_state == "replace":
            names = ", ".join(f'"{s.name}"' for s in TABLES)
            cur.execute(f"TRUNCATE {names}")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {INDEX_TABLE} ("
            " index_name TEXT PRIMARY KEY,"
            " table_name TEXT NOT NULL,"
            " definition TEXT NOT NULL)"
        )
        if drop_indexes:
            for table, name, definition in self.present_indexes:
                cur.execute(
                    f"INSERT INTO {INDEX_TABLE} VALUES (%s, %s, %s) "
                    "ON CONFLICT (index_name) DO NOTHING",
                    (name, table, definition),
                )
                cur.execute(f"DROP INDEX {name}")
        cur.execute(f"DROP TABLE IF EXISTS {PROGRESS_TABLE}")
        cur.execute(
            f"CREATE TABLE {PROGRESS_TABLE} ("
            " table_name TEXT PRIMARY KEY,"
            " source_id TEXT NOT NULL,"
            " source TEXT NOT NULL,"
            " last_key BIGINT,"
            " rows BIGINT NOT NULL,"
            " checksum NUMERIC(20, 0) NOT NULL,"
            " updated_at DOUBLE PRECISION NOT NULL)"
        )
        now = time.time()
        for spec in TABLES:
            cur.execute(
                f"INSERT INTO {PROGRESS_TABLE} VALUES (%s, %s, %s, NULL, 0, 0, %s)",
                (spec.name, self.source.source_id, str(self.source.path), now),
            )

    def _ensure_setup(self, conn: psycopg.Connection[Any]) -> None:
        """Commit the setup on its own: the source has no row to copy in this run."""
        with self.setup_lock:
            if self.setup_done:
                return
            with conn.transaction(), conn.cursor() as cur:
                self._setup_sql(cur, drop_indexes=False)  # no load follows: keep them
            self.setup_done = True

    # writer ----------------------------------------------------------------------------------
    def _writer(self, stream: _Stream) -> None:
        import psycopg
        from psycopg.adapt import PyFormat

        conn = self.t._connect()
        try:
            # By oid, bytea maps to psycopg's pure-Python dumper for ``Binary`` objects; the
            # compiled one for ``bytes`` is several times faster on this hot path.
            conn.adapters.register_dumper(
                bytes, psycopg.adapters.get_dumper(bytes, PyFormat.BINARY)
            )
            conn.execute("SET synchronous_commit = off")
            if self.replica:
                conn.execute("SET session_replication_role = replica")
            while True:
                item = self._get(stream.items)
                if item is None:
                    return
                if isinstance(item, _TableEnd):
                    self._table_finished(item.spec)
                    continue
                self._write(conn, item)
        finally:
            conn.close()

    def _get(self, q: queue.Queue[Any]) -> Any:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            with self.lock:
                self.cond.notify_all()
            return item

    def _write(self, conn: psycopg.Connection[Any], batch: _Batch) -> None:
        import psycopg

        spec = batch.spec
        run = self.runs[spec.name]
        holding = False
        if not self.setup_done:
            self.setup_lock.acquire()
            holding = True
            if self.setup_done:
                self.setup_lock.release()
                holding = False
        try:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    if holding:
                        self._setup_sql(cur)
                    cols = ", ".join(f'"{c}"' for c in spec.column_names)
                    with cur.copy(f'COPY "{spec.name}" ({cols}) FROM STDIN (FORMAT BINARY)') as cp:
                        cp.set_types([_PG_TYPES[kind] for _n, kind in spec.columns])
                        for row in batch.rows:
                            cp.write_row(row)
                    if self.t.fault:
                        with self.lock:
                            self.streamed += 1
                            streamed = self.streamed
                        self._fault("copy", streamed)
                    rows = run.start_rows + run.rows + len(batch.rows)
                    checksum = (run.start_checksum + run.checksum + batch.checksum) % _MOD
                    cur.execute(
                        f"UPDATE {PROGRESS_TABLE} SET last_key = %s, rows = %s, checksum = %s, "
                        "updated_at = %s WHERE table_name = %s",
                        (batch.last_key, rows, checksum, time.time(), spec.name),
                    )
            except psycopg.Error as exc:
                raise self._batch_error(conn, batch, exc, holding) from exc
            except (TypeError, ValueError, struct.error) as exc:
                problem = find_bad_row(spec, batch.rows)
                raise TransferError(
                    f"cannot copy {problem or spec.name + ': ' + type(exc).__name__}; "
                    "fix the source and run again"
                ) from exc
            if holding:
                with self.lock:
                    self.setup_done = True
                    for table, name, definition in self.present_indexes:
                        self.rebuild.setdefault(table, []).append((name, definition))
                    for name in self.unverified:
                        self._finish(name)
                    self.unverified.clear()
        finally:
            if holding:
                self.setup_lock.release()
        with self.lock:
            run.rows += len(batch.rows)
            run.checksum += batch.checksum
            self.commits += 1
            commits = self.commits
            copied = run.start_rows + run.rows
        self._fault("commit", commits)
        self.t.reporter.progress(spec.name, copied, run.total)

    def _batch_error(
        self, conn: psycopg.Connection[Any], batch: _Batch, exc: BaseException, holding: bool
    ) -> StorageError:
        """Name the row that PostgreSQL refused (table and primary key only)."""
        import psycopg

        spec = batch.spec
        if classify_pg_error(exc) in (BUSY, DISK_FULL, LOST, PERMISSION):
            return self.t._error(exc, f"copying {spec.name}")
        problem = find_bad_row(spec, batch.rows)
        if problem is not None:
            return TransferError(f"cannot copy {problem}; fix the source and run again")
        # Replay the batch row by row (each in a savepoint, all rolled back) to find it.
        culprit: tuple[BaseException, Sequence[Any]] | None = None
        with contextlib.suppress(psycopg.Error):
            if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                with conn.transaction(force_rollback=True), conn.cursor() as cur:
                    if holding:
                        self._setup_sql(cur)
                    cols = ", ".join(f'"{c}"' for c in spec.column_names)
                    for row in batch.rows:
                        try:
                            with (
                                conn.transaction(),
                                cur.copy(
                                    f'COPY "{spec.name}" ({cols}) FROM STDIN (FORMAT BINARY)'
                                ) as cp,
                            ):
                                cp.set_types([_PG_TYPES[k] for _n, k in spec.columns])
                                cp.write_row(row)
                        except psycopg.Error as row_error:
                            culprit = row_error, row
                            break
        if culprit is not None:
            return TransferError(
                f"cannot copy {spec.name} ({_pk_text(spec, culprit[1])}): {_pg_detail(culprit[0])}"
            )
        return TransferError(f"cannot copy a batch of {spec.name}: {_pg_detail(exc)}")

    # reader ----------------------------------------------------------------------------------
    def _reader(self, streams: list[_Stream]) -> None:
        iters: dict[int, Iterator[_Batch] | None] = dict.fromkeys(range(len(streams)))
        active = [i for i, s in enumerate(streams) if s.tables]
        while active:
            with self.lock:
                while True:
                    if self.stop.is_set():
                        raise _Stop
                    ready = [i for i in active if not streams[i].items.full()]
                    if ready:
                        break
                    self.cond.wait(0.1)
            index = min(ready, key=lambda i: streams[i].items.qsize())
            stream = streams[index]
            run = stream.tables[0]
            it = iters[index]
            if it is None:
                run.started = time.monotonic()
                it = self.source.batches(run.spec, run.start_key, self.t.batch_size)
                iters[index] = it
            batch = next(it, None)
            if batch is None:
                stream.tables.pop(0)
                iters[index] = None
                self._put(stream.items, _TableEnd(run.spec))
                if not stream.tables:
                    active.remove(index)
                    self._put(stream.items, None)
                continue
            self._put(stream.items, batch)

    def _put(self, q: queue.Queue[Any], item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    # verification ------------------------------------------------------------------------------
    def _table_finished(self, spec: TableSpec) -> None:
        run = self.runs[spec.name]
        with self.lock:
            run.finished = True
            # A table may end (having no rows) before any batch committed the setup, which
            # with --force holds the TRUNCATE: its target checksum must wait for that commit,
            # and committing the setup early would lose the old rows before the first batch.
            if self.setup_done:
                self._finish(spec.name)
            else:
                self.unverified.append(spec.name)
        self.t.reporter.table_done(
            spec.name,
            run.rows,
            run.total,
            run.start_rows,
            time.monotonic() - run.started if run.started else 0.0,
        )

    def _finish(self, name: str) -> None:
        """Queue the work on a complete table (called with ``self.lock`` held)."""
        for task in self._tasks_for(name):
            self.tasks.put(task)

    def _tasks_for(self, name: str) -> list[Callable[[psycopg.Connection[Any]], None]]:
        """Checksum, index rebuilds and the orphan checks this table completes."""
        spec = SPECS[name]
        run = self.runs[name]

        def checksum(conn: psycopg.Connection[Any]) -> None:
            run.target = self.t._target_checksum(conn, spec)

        tasks: list[Callable[[psycopg.Connection[Any]], None]] = [checksum]
        for index_name, definition in self.rebuild.pop(name, []):
            tasks.append(_bind_index(index_name, definition))
        self.complete.add(name)
        for fk in list(self.pending_fks):
            if fk.child in self.complete and fk.parent in self.complete:
                self.pending_fks.remove(fk)
                tasks.append(_bind_orphans(self, fk))
        return tasks

    def _finisher(self, own_connection: bool) -> None:
        """Runs queued table work while other tables are still being copied."""
        conn = self.t._connect() if own_connection else self.conn
        try:
            while True:
                task = self.tasks.get()
                if task is None or self.stop.is_set():
                    return
                task(conn)
        finally:
            if own_connection:
                conn.close()

    def _check_orphans(self, conn: psycopg.Connection[Any], fk: _ForeignKey) -> None:
        """Rows whose parent row is missing: the foreign key, checked once per table.

        Needed when the load skipped the per-row triggers; cheap (one anti-join), so it
        also runs otherwise, which covers rows an earlier run loaded without triggers.
        """
        spec = SPECS[fk.child]
        present = " AND ".join(f'c."{col}" IS NOT NULL' for col in fk.columns)
        match = " AND ".join(
            f'p."{ref}" = c."{col}"' for col, ref in zip(fk.columns, fk.references, strict=True)
        )
        keys = ", ".join(f'c."{col}"' for col in spec.pk)
        row = conn.execute(
            f'SELECT {keys} FROM "{fk.child}" c WHERE {present} AND NOT EXISTS '
            f'(SELECT 1 FROM "{fk.parent}" p WHERE {match}) LIMIT 1'
        ).fetchone()
        if row is not None:
            values: list[Any] = [None] * len(spec.columns)
            for col, value in zip(spec.pk, row, strict=True):
                values[spec.column_names.index(col)] = (
                    value.encode() if isinstance(value, str) else value
                )
            raise TransferError(
                f"cannot copy {fk.child} ({_pk_text(spec, values)}): its "
                f"{', '.join(fk.columns)} does not exist in {fk.parent} (the source has a row "
                "without its parent); fix the source and run again with --force"
            )

    # orchestration ---------------------------------------------------------------------------
    def _read_foreign_keys(self) -> list[_ForeignKey]:
        """The target's foreign keys between RUNE tables, as the migrations made them."""
        names = [spec.name for spec in TABLES]
        rows = self.conn.execute(
            "SELECT cl.relname, pl.relname, "
            " array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
            " array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
            " FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid"
            " JOIN pg_class pl ON pl.oid = c.confrelid"
            " WHERE c.contype = 'f' AND c.conrelid = ANY (%s::regclass[])"
            " ORDER BY cl.relname, c.conname",
            (names,),
        ).fetchall()
        fks = []
        for child, parent, columns, references in rows:
            if str(parent) not in SPECS:
                raise TransferError(
                    f"the target table {child} references {parent}, which is not a RUNE table; "
                    "the target schema was changed by hand"
                )
            fks.append(_ForeignKey(str(child), str(parent), tuple(columns), tuple(references)))
        return fks

    def _read_indexes(self) -> None:
        """Secondary indexes present now, and those an interrupted copy left dropped."""
        names = [spec.name for spec in TABLES]
        rows = self.conn.execute(
            "SELECT c.relname, format('%%I.%%I', n.nspname, i.relname), pg_get_indexdef(i.oid)"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class c ON c.oid = x.indrelid"
            " JOIN pg_namespace n ON n.oid = i.relnamespace"
            " WHERE x.indrelid = ANY (%s::regclass[]) AND NOT x.indisunique"
            " AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
            # only the owner may drop an index: other roles load with the indexes in place
            " AND pg_has_role(c.relowner, 'USAGE')"
            " ORDER BY 1, 2",
            (names,),
        ).fetchall()
        # A resumed copy already dropped (and recorded) them; it drops nothing more.
        if not self.setup_done:
            self.present_indexes = [(str(t), str(n), str(d)) for t, n, d in rows]
        if INDEX_TABLE in self.t._existing_tables(self.conn):
            recorded = self.conn.execute(
                f"SELECT table_name, index_name, definition FROM {INDEX_TABLE} ORDER BY 1, 2"
            ).fetchall()
            for table, name, definition in recorded:
                self.rebuild.setdefault(str(table), []).append((str(name), str(definition)))

    def _probe_replica(self) -> bool:
        """May this role skip foreign-key triggers during the load (superusers)?"""
        import psycopg

        try:
            with self.conn.transaction(force_rollback=True):
                self.conn.execute("SET LOCAL session_replication_role = replica")
        except psycopg.Error:
            return False
        return True

    def _phase(self, names: list[str]) -> None:
        """Copy ``names`` over up to ``writers`` connections; returns when all committed."""
        runs = [self.runs[n] for n in names]
        count = min(self.t.writers, len(runs))
        if count == 0:
            return
        streams = [_Stream([]) for _ in range(count)]
        load = [0] * count
        for run in sorted(runs, key=lambda r: r.total - r.start_rows, reverse=True):
            i = load.index(min(load))
            streams[i].tables.append(run)
            load[i] += max(run.total - run.start_rows, 1)
        for stream in streams:  # keep parents first within a stream
            stream.tables.sort(key=lambda r: names.index(r.spec.name))
        threads = [threading.Thread(target=self._guard(lambda: self._reader(streams)))]
        threads += [
            threading.Thread(target=self._guard(_bind(self._writer, stream))) for stream in streams
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException as exc:  # Ctrl-C: stop the threads before the caller closes
            self._fail(exc)
            for thread in threads:
                thread.join(10)
            raise
        if self.error is not None:
            raise self.error

    def run(self) -> tuple[tuple[TableCheck, ...], int]:
        import psycopg

        from rune.storage.pg_migrator import PgMigrator

        reporter = self.t.reporter
        try:
            if not self.state.schema_exists:
                applied = PgMigrator().migrate(self.conn)
                reporter.message(f"created the RUNE schema ({len(applied)} migrations)")
            if self.plan.target_state == "resume":
                reporter.message(
                    f"resuming an unfinished copy ({sum(r.start_rows for r in self.runs.values())} "
                    "rows already copied)"
                )
            self.foreign_keys = self._read_foreign_keys()
            self.pending_fks = list(self.foreign_keys)
            self._read_indexes()
            if self.present_indexes:
                reporter.message(
                    f"secondary indexes: {len(self.present_indexes)} dropped for the load; "
                    "each table's are rebuilt as soon as it is complete"
                )
            left = sum(len(v) for v in self.rebuild.values())
            if left:
                reporter.message(f"secondary indexes: {left} left dropped by an earlier run")
            self.replica = self._probe_replica()
            reporter.message(
                "foreign keys: checked once per table after the load (row triggers skipped)"
                if self.replica
                else "foreign keys: checked row by row (this role may not skip the triggers), "
                "parent tables first"
            )
        except psycopg.Error as exc:
            raise self.t._error(exc, "preparing the target") from exc
        finishers = [
            threading.Thread(target=self._guard(_bind_finisher(self, i > 0)), daemon=True)
            for i in range(_FINISHERS)
        ]
        for thread in finishers:
            thread.start()
        try:
            try:
                for names in _layers(self.foreign_keys, all_at_once=self.replica):
                    self._phase(names)
                reporter.message("all rows copied; finishing indexes and verification")
            finally:
                for _thread in finishers:
                    self.tasks.put(None)
                for thread in finishers:
                    while thread.is_alive():
                        thread.join(0.2)
            if self.error is not None:
                raise self.error
            if not self.setup_done:  # no batch at all: the setup commits on its own
                self._ensure_setup(self.conn)
                with self.lock:
                    late = [task for name in self.unverified for task in self._tasks_for(name)]
                    self.unverified.clear()
                for task in late:
                    task(self.conn)
            with self.conn.transaction():
                self.conn.execute(
                    "SELECT setval(pg_get_serial_sequence('workflow_events', 'id'), "
                    "coalesce(max(id), 1), max(id) IS NOT NULL) FROM workflow_events"
                )
            checks = []
            for spec in TABLES:
                run = self.runs[spec.name]
                if run.target is None:  # ended before the setup committed: empty now
                    run.target = self.t._target_checksum(self.conn, spec)
                checks.append(
                    TableCheck(
                        spec.name,
                        run.start_rows + run.rows,
                        run.target[0],
                        (run.start_checksum + run.checksum) % _MOD,
                        run.target[1],
                    )
                )
            with self.conn.transaction():
                self.conn.execute("SET LOCAL synchronous_commit = on")
                left_row = self.conn.execute(f"SELECT count(*) FROM {INDEX_TABLE}").fetchone()
                if left_row is not None and left_row[0] == 0:  # every index is back
                    self.conn.execute(f"DROP TABLE {INDEX_TABLE}")
                if all(c.ok for c in checks):
                    self.conn.execute(f"DROP TABLE {PROGRESS_TABLE}")
            copied = sum(r.rows for r in self.runs.values())
            return tuple(checks), copied
        except psycopg.Error as exc:
            raise self.t._error(exc, "copying") from exc
        except BaseException:
            self._fail(RuntimeError("stopped"))
            raise


@dataclass(frozen=True)
class _ForeignKey:
    child: str
    parent: str
    columns: tuple[str, ...]
    references: tuple[str, ...]


def _layers(fks: Sequence[_ForeignKey], *, all_at_once: bool) -> list[list[str]]:
    """Groups of tables to copy one after the other: parents in an earlier group than
    their children (per-row foreign-key checks need the parent rows committed), or one
    group when the triggers are off and orphans are checked at the end."""
    names = [spec.name for spec in TABLES]
    if all_at_once:
        return [names]
    layers: list[list[str]] = []
    placed: set[str] = set()
    while len(placed) < len(names):
        layer = [
            n
            for n in names
            if n not in placed
            and all(fk.parent in placed or fk.parent == n for fk in fks if fk.child == n)
        ]
        if not layer:  # a cycle cannot come from rune's migrations; copy the rest together
            layer = [n for n in names if n not in placed]
        layers.append(layer)
        placed.update(layer)
    return layers


# Text goes as raw UTF-8 bytes: binary COPY has no per-field type, the server applies the
# column's own input (textrecv validates UTF-8), and psycopg need not re-encode anything.
_PG_TYPES = {TEXT: "bytea", FLOAT: "float8", INT: "int8", BYTES: "bytea"}


def _bind(fn: Callable[[_Stream], None], stream: _Stream) -> Callable[[], None]:
    return lambda: fn(stream)


def _bind_finisher(copier: _Copier, own_connection: bool) -> Callable[[], None]:
    return lambda: copier._finisher(own_connection)


def _bind_orphans(copier: _Copier, fk: _ForeignKey) -> Callable[[psycopg.Connection[Any]], None]:
    return lambda conn: copier._check_orphans(conn, fk)


def _bind_index(name: str, definition: str) -> Callable[[psycopg.Connection[Any]], None]:
    """Rebuild one recorded index and forget the record, in one transaction."""

    def build(conn: psycopg.Connection[Any]) -> None:
        statement = definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
        with conn.transaction():
            conn.execute(statement)
            conn.execute(f"DELETE FROM {INDEX_TABLE} WHERE index_name = %s", (name,))

    return build


def migrate_to_postgres(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    reporter: Reporter | None = None,
) -> TransferResult:
    """Copy ``source_url`` (sqlite://) into ``target_url`` (postgresql://) and verify it.

    Raises :class:`StorageError` (one line) when a check fails or the copy cannot go on;
    returns the result, whose ``ok`` is False when verification found a difference.
    """
    transfer = Transfer(
        source_url,
        target_url,
        batch_size=batch_size,
        force=force,
        env=env,
        connect_timeout=connect_timeout,
        reporter=reporter,
    )
    return transfer.run(dry_run=dry_run)


def verify(
    source_url: str,
    target_url: str,
    *,
    env: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
) -> tuple[TableCheck, ...]:
    """Compare a source snapshot with the target table by table (writes nothing)."""
    return Transfer(source_url, target_url, env=env, connect_timeout=connect_timeout).verify()


__all__ = [
    "COPY_LOCK_KEY",
    "DEFAULT_BATCH_SIZE",
    "INDEX_TABLE",
    "PROGRESS_TABLE",
    "TABLES",
    "Plan",
    "Reporter",
    "TableCheck",
    "TablePlan",
    "TableSpec",
    "TransferError",
    "TransferResult",
    "format_checksum",
    "migrate_to_postgres",
    "target_checksum_sql",
    "verify",
]
