"""The SQLite side: a read-only snapshot of a RUNE database, read in keyset pages.

The file is opened with a ``mode=ro`` URI (no migration, no journal-mode change, nothing
written; for a WAL database SQLite itself may create the ``-wal``/``-shm`` side files it
needs to coordinate with writers, never the database file) and read inside ONE read
transaction: in WAL mode that is a snapshot, so every table comes from the same instant
even while the API keeps committing (SQLite cannot checkpoint past an open snapshot, so
the WAL grows for as long as the copy runs). A file in rollback-journal mode (a backup)
has no such snapshot: the read lock blocks writers until the copy ends, which is fine for
a file nobody writes. Tables are read in ``rowid`` order with keyset pages
(``rowid > last``), never OFFSET: rowid is the storage order (sequential reads) and an
integer, which suits the progress row. The source must be a RUNE database at exactly
this code's schema version; anything else is one line and exit 1.

Every page is checksummed as it is read (the source side of the verification), and
artifacts are checked against their stored sha256 and size before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from rune.storage.migrator import Migrator
from rune.storage.transfer.checksums import MOD, encoders_for, rows_checksum
from rune.storage.transfer.errors import TransferError, find_bad_row, pk_text
from rune.storage.transfer.tables import BYTES, SPECS, TABLES, TableSpec
from rune.storage.urls import SqliteTarget

DEFAULT_BATCH_SIZE = 5000
# Artifacts can be large: a batch stops early once its content reaches this many bytes.
_MAX_BATCH_BYTES = 64 * 1024 * 1024


@dataclass
class Batch:
    """One page of a table as read: its rows, its last rowid (the resume point) and the
    rows' checksum, so the writer can commit the progress row with the batch."""

    spec: TableSpec
    rows: list[tuple[Any, ...]]
    last_key: int
    checksum: int


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
    ) -> Iterator[Batch]:
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
            yield Batch(spec, rows, end_key, checksum)
            last = end_key

    def scan(self, spec: TableSpec, upto: int | None) -> tuple[int, int]:
        """(rows, checksum) of the rows with rowid <= ``upto`` (all rows when None)."""
        count = checksum = 0
        for batch in self.batches(spec, None, DEFAULT_BATCH_SIZE, upto=upto):
            count += len(batch.rows)
            checksum += batch.checksum
        return count, checksum % MOD

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
                f"artifact {pk_text(spec, row)}: content is not a blob; the source is damaged"
            )
        actual = hashlib.sha256(content).hexdigest()
        stored_text = stored.decode("ascii", "replace") if isinstance(stored, bytes) else stored
        if actual != stored_text or size != len(content):
            raise TransferError(
                f"artifact {pk_text(spec, row)} is damaged in the source: its content "
                f"({len(content)} bytes, sha256 {actual[:12]}…) does not match the stored "
                f"size {size!r} and sha256 {str(stored_text)[:12]}…; repair or remove it in the "
                "source and run again"
            )
