"""Ordered, checksummed, transactional schema migrations for SQLite.

The PostgreSQL migrator (:mod:`rune.storage.pg_migrator`) shares the file rules, the
bookkeeping and the checks below; only the locking and the execution differ.

Why hand-rolled: Alembic would pull in SQLAlchemy; the rules RUNE needs fit in one module.

* Files are ``NNNN_slug.sql`` in one folder per dialect, applied in lexicographic (=numeric,
  the width is fixed) order. Any other ``.sql`` name, or two files with one version, is
  refused before the database is touched.
* Each file runs inside its own ``BEGIN IMMEDIATE`` ... ``COMMIT`` together with its
  ``schema_version`` row, so a failing file leaves nothing behind (SQLite DDL is
  transactional once Python's implicit transaction handling is off: the connection must
  use ``isolation_level=None``).
* ``BEGIN IMMEDIATE`` takes the write lock before anything is read, and the pending check
  is repeated inside the transaction, so several processes migrating one file apply each
  version exactly once; the others wait (busy timeout) and then skip it.
* ``schema_version`` records version, name, sha256 checksum, applied_at and how the row
  came to be (``applied`` or ``bootstrap``). An applied file whose bytes or name changed,
  or an applied version unknown to this code (a newer database), is refused.
* A database created before migrations existed (tables but no ``schema_version``) is
  bootstrapped: the versions whose table already exists are recorded as applied; the rest
  run normally. A ``schema_version`` without name/checksum columns (upstream R1) is upgraded
  in place.
* Statements are split with :func:`sqlite3.complete_statement`, which understands string
  literals, comments and trigger bodies. Transaction control and PRAGMAs are refused inside
  a migration because they would break the envelope.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from rune.storage.errors import MigrationError

DIALECTS = ("sqlite", "postgres")
FILE_RE = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")
# Legacy table → the migration that creates it (upstream rune#241's map plus settings).
LEGACY_TABLES: dict[str, int] = {
    "jobs": 1,
    "idempotency_keys": 2,
    "workflow_events": 3,
    "chain_state": 4,
    "audit_artifact": 5,
    "settings": 6,
}
_FORBIDDEN_RE = re.compile(
    r"^(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|VACUUM|ATTACH|DETACH)\b", re.I
)
_COMMENT_RE = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    filename: str
    sql: str
    checksum: str


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: float
    source: str


@dataclass(frozen=True)
class MigrationStatus:
    """What ``rune db status`` shows; ``exists`` is False when there is no file yet."""

    exists: bool
    legacy_bootstrap: tuple[int, ...]
    applied: tuple[AppliedMigration, ...]
    pending: tuple[Migration, ...]
    problems: tuple[str, ...]


def default_migrations_dir(dialect: str = "sqlite") -> Path:
    """The packaged migrations of ``dialect`` (``sqlite`` or ``postgres``)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown migration dialect {dialect!r}; use one of {DIALECTS}")
    return Path(str(resources.files("rune") / "migrations" / dialect))


def load_migrations(directory: Path | None = None, dialect: str = "sqlite") -> list[Migration]:
    """Read and validate the migration files (names, duplicates, non-empty).

    SQLite files are also split here so a malformed one fails before the database is
    touched; PostgreSQL files are checked by :mod:`rune.storage.pg_migrator`.
    """
    folder = directory or default_migrations_dir(dialect)
    if not folder.is_dir():
        raise MigrationError(f"migrations folder {folder} does not exist")
    by_version: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = FILE_RE.match(path.name)
        if match is None:
            raise MigrationError(
                f"migration file {path.name} is not named NNNN_slug.sql "
                "(four digits, underscore, lowercase slug)"
            )
        data = path.read_bytes()
        version = int(match.group(1))
        if version in by_version:
            raise MigrationError(
                f"duplicate migration version {version:04d}: "
                f"{by_version[version].filename} and {path.name}"
            )
        if version == 0:
            raise MigrationError(f"migration {path.name}: version 0000 is reserved")
        try:
            sql = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MigrationError(f"migration {path.name} is not UTF-8: {exc}") from exc
        by_version[version] = Migration(
            version=version,
            name=match.group(2),
            filename=path.name,
            sql=sql,
            checksum=hashlib.sha256(data).hexdigest(),
        )
        if dialect == "sqlite":
            split_statements(sql, path.name)  # fail early on malformed files
    return [by_version[v] for v in sorted(by_version)]


def split_statements(sql: str, filename: str = "<sql>") -> list[str]:
    """Split a script into complete statements (safe for literals, comments, triggers)."""
    statements: list[str] = []
    buffer = ""
    for piece in sql.split(";")[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            buffer = ""
            code = _COMMENT_RE.sub("", statement).strip()
            if code in ("", ";"):
                continue
            forbidden = _FORBIDDEN_RE.match(code)
            if forbidden:
                raise MigrationError(
                    f"migration {filename}: {forbidden.group(1).upper()} is not allowed in a "
                    "migration (each file already runs in its own transaction)"
                )
            statements.append(statement)
    leftover = _COMMENT_RE.sub("", buffer + sql.split(";")[-1]).strip()
    if leftover:
        raise MigrationError(
            f"migration {filename}: unterminated statement at end of file: {leftover[:60]!r}"
        )
    if not statements:
        raise MigrationError(f"migration {filename} contains no SQL statement")
    return statements


def _table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(r[0]) for r in rows}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}


# The bookkeeping is the same table on both dialects, read with the same query.
READ_APPLIED_SQL = "SELECT version, name, checksum, applied_at, source FROM schema_version"


def applied_from_rows(rows: Iterable[Sequence[Any]]) -> dict[int, AppliedMigration]:
    """The rows of :data:`READ_APPLIED_SQL` by version (both drivers return such rows)."""
    return {
        int(r[0]): AppliedMigration(int(r[0]), str(r[1]), str(r[2]), float(r[3]), str(r[4]))
        for r in rows
    }


def _read_applied(conn: sqlite3.Connection) -> dict[int, AppliedMigration]:
    return applied_from_rows(conn.execute(READ_APPLIED_SQL).fetchall())


def _problems(
    migrations: Iterable[Migration],
    applied: dict[int, AppliedMigration],
    *,
    check_files: bool = True,
) -> list[str]:
    known = {m.version: m for m in migrations}
    problems: list[str] = []
    newer = sorted(v for v in applied if v not in known)
    if newer:
        problems.append(
            f"the database has migration(s) {', '.join(f'{v:04d}' for v in newer)} that this "
            f"code does not know (it knows up to {max(known, default=0):04d}): the database is "
            "newer than the code; upgrade rune instead of running this version"
        )
    for version, row in sorted(applied.items()):
        mig = known.get(version)
        if mig is None or not check_files:
            continue
        if row.checksum != mig.checksum:
            problems.append(
                f"migration {mig.filename} was changed after it was applied (recorded sha256 "
                f"{row.checksum[:12]}…, file {mig.checksum[:12]}…); restore the original file "
                "and put the change in a new migration"
            )
        elif row.name != mig.name:
            problems.append(
                f"migration {version:04d} was applied as {row.name!r} but the file is now "
                f"named {mig.filename}; rename it back"
            )
    return problems


class BaseMigrator:
    """What the SQLite and the PostgreSQL migrator share: loading the files of their
    dialect, checking them before the database is touched, and the progress log.

    Why a base class: both must refuse the same files for the same reasons and be built
    the same way (``rune db`` and the adapters pass the same arguments); only how a file
    is applied differs, and that stays in each subclass.
    """

    DIALECT: ClassVar[str] = "sqlite"

    def __init__(
        self,
        migrations_dir: Path | None = None,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.migrations = load_migrations(migrations_dir, self.DIALECT)
        for mig in self.migrations:
            self._check_file(mig)
        self._log = log or (lambda _msg: None)

    def _check_file(self, mig: Migration) -> None:
        """Refuse a file this dialect cannot run safely (the SQLite checks run in loading)."""

    @property
    def latest_version(self) -> int:
        """The highest version this code knows (0 without migration files)."""
        return max((m.version for m in self.migrations), default=0)


class Migrator(BaseMigrator):
    """Applies migrations on a connection opened with ``isolation_level=None``."""

    def _begin(self, conn: sqlite3.Connection) -> None:
        if conn.isolation_level is not None:
            raise MigrationError("internal error: migrations need isolation_level=None")
        conn.execute("BEGIN IMMEDIATE")

    def _ensure_bookkeeping(self, conn: sqlite3.Connection) -> None:
        """Create ``schema_version``, bootstrapping legacy databases, in one transaction."""
        self._begin(conn)
        try:
            tables = _table_names(conn)
            if "schema_version" in tables:
                cols = _columns(conn, "schema_version")
                if not {"name", "checksum", "source"} <= cols:
                    self._upgrade_r1_table(conn, cols)
            else:
                conn.execute(
                    "CREATE TABLE schema_version ("
                    " version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL,"
                    " checksum TEXT NOT NULL,"
                    " applied_at REAL NOT NULL,"
                    " source TEXT NOT NULL DEFAULT 'applied')"
                )
                seed = sorted({v for t, v in LEGACY_TABLES.items() if t in tables})
                known = {m.version: m for m in self.migrations}
                now = time.time()
                for version in seed:
                    mig = known.get(version)
                    if mig is None:
                        continue
                    conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?, ?, 'bootstrap')",
                        (version, mig.name, mig.checksum, now),
                    )
                if seed:
                    self._log(
                        "legacy database without schema_version: recorded existing "
                        f"migration(s) {', '.join(f'{v:04d}' for v in seed)} as applied"
                    )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise MigrationError(f"cannot prepare schema_version: {exc}") from exc
        except BaseException:
            _rollback(conn)
            raise

    def _upgrade_r1_table(self, conn: sqlite3.Connection, cols: set[str]) -> None:
        """Upstream R1 kept only (version, applied_at); add and fill the new columns."""
        known = {m.version: m for m in self.migrations}
        for col, decl in (
            ("name", "TEXT NOT NULL DEFAULT ''"),
            ("checksum", "TEXT NOT NULL DEFAULT ''"),
            ("source", "TEXT NOT NULL DEFAULT 'applied'"),
        ):
            if col not in cols:
                conn.execute(f"ALTER TABLE schema_version ADD COLUMN {col} {decl}")
        for (version,) in conn.execute(
            "SELECT version FROM schema_version WHERE checksum = ''"
        ).fetchall():
            mig = known.get(int(version))
            if mig is not None:
                conn.execute(
                    "UPDATE schema_version SET name = ?, checksum = ?, source = 'bootstrap' "
                    "WHERE version = ?",
                    (mig.name, mig.checksum, mig.version),
                )
        self._log("upgraded schema_version from the upstream R1 layout")

    def migrate(self, conn: sqlite3.Connection) -> list[int]:
        """Apply every pending migration; return the versions this call applied."""
        self._ensure_bookkeeping(conn)
        problems = _problems(self.migrations, _read_applied(conn))
        if problems:
            raise MigrationError("; ".join(problems))
        applied_now: list[int] = []
        for mig in self.migrations:
            self._begin(conn)
            try:
                # Re-check under the write lock: another process may have applied it.
                row = conn.execute(
                    "SELECT checksum FROM schema_version WHERE version = ?", (mig.version,)
                ).fetchone()
                if row is not None:
                    conn.execute("COMMIT")
                    if str(row[0]) != mig.checksum:
                        raise MigrationError(
                            "; ".join(_problems(self.migrations, _read_applied(conn)))
                        )
                    continue
                self._log(f"applying {mig.filename}")
                for statement in split_statements(mig.sql, mig.filename):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, checksum, applied_at, source)"
                    " VALUES (?, ?, ?, ?, 'applied')",
                    (mig.version, mig.name, mig.checksum, time.time()),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise MigrationError(
                    f"migration {mig.filename} failed and was rolled back "
                    f"(nothing from it was applied): {exc}"
                ) from exc
            except BaseException:
                _rollback(conn)
                raise
            applied_now.append(mig.version)
            self._log(f"applied {mig.filename}")
        return applied_now

    def status(self, conn: sqlite3.Connection | None) -> MigrationStatus:
        """Report applied/pending without writing anything (``conn`` None: no file yet)."""
        if conn is None:
            return MigrationStatus(False, (), (), tuple(self.migrations), ())
        tables = _table_names(conn)
        bootstrap: tuple[int, ...] = ()
        applied: dict[int, AppliedMigration] = {}
        if "schema_version" in tables:
            cols = _columns(conn, "schema_version")
            if {"name", "checksum", "source"} <= cols:
                applied = _read_applied(conn)
            else:
                applied = {
                    int(r[0]): AppliedMigration(int(r[0]), "?", "", float(r[1]), "r1")
                    for r in conn.execute("SELECT version, applied_at FROM schema_version")
                }
        else:
            bootstrap = tuple(sorted({v for t, v in LEGACY_TABLES.items() if t in tables}))
        r1_layout = any(a.source == "r1" for a in applied.values())
        problems = tuple(_problems(self.migrations, applied, check_files=not r1_layout))
        pending = tuple(
            m for m in self.migrations if m.version not in applied and m.version not in bootstrap
        )
        return MigrationStatus(
            True,
            bootstrap,
            tuple(sorted(applied.values(), key=lambda a: a.version)),
            pending,
            problems,
        )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        # If even ROLLBACK fails the connection is unusable; the caller is raising anyway.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
