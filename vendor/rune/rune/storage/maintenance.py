"""SQLite maintenance for ``rune db``: status, backup, restore.

Why not ``cp``: copying a WAL database while it is in use can miss committed pages that
still live in ``-wal``, and restoring with ``cp`` next to a stale ``-wal``/``-shm`` lets
SQLite replay the old log into the new file. Here:

* **backup** uses SQLite's online backup API in a single step, which copies one consistent
  snapshot (a read transaction) while writers keep committing; the copy is written to a
  temporary file next to the destination, switched to rollback-journal mode (one
  self-contained file), checked with ``PRAGMA integrity_check``, fsynced and renamed into
  place, so the destination is either the old file or a complete, verified backup.
* **restore** checks the source first (integrity, looks like a RUNE database, not newer
  than this code), copies it next to the target and verifies the copy, then refuses if
  any other connection has the target open, removes the target's stale ``-wal``/``-shm``
  and atomically renames the copy over it. Until the rename the old database is untouched.

Failures of the file system (a read-only mount, a missing or unreadable folder, a file
where a folder should be, a full disk) are reported as one :class:`StorageError` line that
names the path and the operating system's reason, and leave no temporary file behind.

In-use detection: a WAL database cannot leave WAL mode while another connection has it
open, so switching the target to ``journal_mode=DELETE`` with a zero busy timeout fails
exactly when someone else is connected; ``BEGIN EXCLUSIVE`` then also catches readers of a
rollback-mode file that are inside a transaction. An idle connection to a database that is
*not* in WAL mode holds no lock and cannot be seen (rune always uses WAL). If the target
is too damaged for SQLite to open, the ``-shm`` dead-man-switch lock byte is probed with
``fcntl`` instead. Do not call :func:`restore` from a process that itself has the
database open.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rune.storage.errors import (
    DatabaseCorruptError,
    DatabaseInUseError,
    StorageError,
)
from rune.storage.fsutil import (
    check_readable,
    describe_os_error,
    ensure_directory,
    first_non_directory,
    os_reason,
)
from rune.storage.migrator import MigrationStatus, Migrator
from rune.storage.sqlite import describe_sqlite_error

_SIDE_FILES = ("-wal", "-shm", "-journal")
# SQLite's unix VFS: first -shm lock byte is 120, eight lock slots, then the DMS byte.
_SHM_DMS_BYTE = 128


def _ro_connect(path: Path, timeout_ms: int = 5_000) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{quote(os.fspath(path), safe='/')}?mode=ro",
        uri=True,
        isolation_level=None,
        timeout=timeout_ms / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    return conn


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries (so a rename survives a crash), to disk.

    One helper for both: on POSIX a folder is opened read-only and fsynced like a file.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    """Best-effort cleanup while another error is being reported: never raises.

    Unlinking a file that was never created fails with EROFS on a read-only mount (not
    ENOENT), and that must not replace the error that explains what went wrong.
    """
    for suffix in ("", *_SIDE_FILES):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


@contextlib.contextmanager
def _removed_on_failure(tmp: Path, failure: str) -> Iterator[None]:
    """Remove the temporary copy ``tmp`` if the block fails, whatever the reason.

    Why: a failed backup or restore must leave no ``.rune-*.tmp`` file behind. An OSError
    becomes one StorageError ``<failure>: <OS reason>``; anything else passes unchanged.
    """
    try:
        yield
    except OSError as exc:
        _remove_quietly(tmp)
        raise StorageError(f"{failure}: {os_reason(exc)}") from exc
    except BaseException:
        _remove_quietly(tmp)
        raise


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA integrity_check`` rows other than ``ok`` (empty list = healthy)."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows


def status(path: Path | None, migrator: Migrator | None = None) -> MigrationStatus:
    """Applied and pending migrations, read-only (a missing file is reported, not created)."""
    mig = migrator or Migrator()
    if path is None:
        return mig.status(None)
    if not path.exists():
        return mig.status(None)
    try:
        conn = _ro_connect(path)
        try:
            return mig.status(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise describe_sqlite_error(exc, str(path)) from exc


@dataclass(frozen=True)
class CopyResult:
    path: Path
    size_bytes: int
    schema_version: int


def _schema_version(conn: sqlite3.Connection) -> tuple[int, bool]:
    """(highest applied version, looks like a RUNE database)."""
    tables = {
        str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if "schema_version" in tables:
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0), True
    return 0, "jobs" in tables


def _copy_verified(src: Path, dest_dir: Path, label: str, doing: str) -> tuple[Path, int]:
    """Online-backup ``src`` into a temporary file in ``dest_dir``; verify; return it.

    The temporary file is created here first, not by SQLite, so that a folder that cannot
    be written is reported with the OS reason ("Read-only file system", "Permission
    denied") instead of SQLite's "unable to open database file" about the wrong file.
    ``doing`` starts every error message ("cannot write the backup /path").
    """
    tmp = dest_dir / f".rune-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except OSError as exc:
        raise StorageError(
            f"{doing}: cannot create a file in {dest_dir}: {os_reason(exc)}"
        ) from exc
    with _removed_on_failure(tmp, f"{doing}: cannot write {tmp.parent}"):
        try:
            src_conn = _ro_connect(src)
            try:
                src_conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                dst_conn = sqlite3.connect(os.fspath(tmp), isolation_level=None)
                try:
                    # pages=-1: one step, i.e. one read transaction -> a consistent snapshot.
                    src_conn.backup(dst_conn, pages=-1)
                    dst_conn.execute("PRAGMA journal_mode = DELETE").fetchone()
                    problems = integrity_problems(dst_conn)
                    if problems:
                        raise DatabaseCorruptError(
                            f"the copy of {src} fails PRAGMA integrity_check: "
                            f"{'; '.join(problems[:5])}"
                        )
                    version, is_rune = _schema_version(dst_conn)
                finally:
                    dst_conn.close()
            finally:
                src_conn.close()
            _fsync(tmp)
            return tmp, version if is_rune else -1
        except sqlite3.Error as exc:
            if "full" in str(exc):
                raise StorageError(
                    f"disk full while writing the copy into {dest_dir} ({exc}); nothing was written"
                ) from exc
            raise describe_sqlite_error(exc, str(src)) from exc


def _check_source_file(path: Path, what: str, missing: str) -> None:
    """``path`` must be a readable regular file; say which of those it is not."""
    if path.is_dir():
        raise StorageError(f"{what} {path} is a directory, not a file")
    if not path.is_file():
        blocker = first_non_directory(path.parent)
        if blocker is not None:
            raise StorageError(f"{what} {path} does not exist ({blocker} is not a directory)")
        raise StorageError(missing)
    check_readable(path, what)


def backup(src: Path, dest: Path, *, force: bool = False) -> CopyResult:
    """Write a verified, consistent copy of ``src`` to ``dest`` atomically.

    A missing destination folder is created. Any OS failure on the way (including the
    checks, which can meet "File name too long" or a folder that may not be entered)
    becomes one StorageError naming the path.
    """
    dest = Path(os.path.abspath(dest))
    doing = f"cannot write the backup {dest}"
    try:
        _check_source_file(src, "database", f"database {src} does not exist; nothing to back up")
        if dest.is_dir():
            raise StorageError(f"backup destination {dest} is a directory; give a file name")
        if dest.exists() and not force:
            raise StorageError(
                f"backup destination {dest} already exists; use --force to replace it"
            )
        if dest.exists() and dest.samefile(src):
            raise StorageError("backup destination is the database itself")
        ensure_directory(dest.parent, f"the backup {dest}")
        tmp, version = _copy_verified(src, dest.parent, "backup", doing)
        try:
            os.replace(tmp, dest)
            _fsync(dest.parent)
        except OSError as exc:
            _remove_quietly(tmp)
            raise StorageError(f"{doing}: {os_reason(exc)}") from exc
        return CopyResult(dest, dest.stat().st_size, max(version, 0))
    except OSError as exc:
        raise describe_os_error(exc, doing, dest) from exc


def _shm_locked(path: Path) -> bool:
    shm = Path(f"{path}-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: be safe
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


def _claim_exclusive(path: Path) -> sqlite3.Connection | None:
    """Return a connection holding an EXCLUSIVE lock on ``path``, or raise if in use.

    Returns None when SQLite cannot read the file at all (the shm probe decided instead).
    """
    busy = DatabaseInUseError(
        f"database {path} is in use by another process; stop rune-api (and any other "
        "user of the file) before restoring"
    )
    try:
        conn = sqlite3.connect(
            f"file:{quote(os.fspath(path), safe='/')}", uri=True, isolation_level=None, timeout=0
        )
    except sqlite3.Error:
        if _shm_locked(path):
            raise busy from None
        return None
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode == "wal":
            new_mode = str(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
            if new_mode != "delete":
                raise busy
        conn.execute("BEGIN EXCLUSIVE")
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise busy from exc
        if _shm_locked(path):
            raise busy from exc
        return None
    except sqlite3.DatabaseError:
        conn.close()
        if _shm_locked(path):
            raise busy from None
        return None
    except BaseException:
        conn.close()
        raise


def restore(src: Path, target: Path, *, max_known_version: int) -> CopyResult:
    """Replace ``target`` with a verified copy of ``src``; the old file stays on failure.

    As in :func:`backup`, an OS failure becomes one StorageError naming the path.
    """
    target = Path(os.path.abspath(target))
    try:
        return _restore(src, target, max_known_version)
    except OSError as exc:
        raise describe_os_error(exc, f"cannot restore {src} into {target}", target) from exc


def _restore(src: Path, target: Path, max_known_version: int) -> CopyResult:
    _check_source_file(src, "backup file", f"backup file {src} does not exist")
    if target.is_dir():
        raise StorageError(f"restore target {target} is a directory, not a database file")
    if target.exists() and target.samefile(src):
        raise StorageError("restore source is the database itself")
    doing = f"cannot restore into {target} (the database was not changed)"
    # 1. Check the source before anything else is touched.
    try:
        conn = _ro_connect(src)
        try:
            problems = integrity_problems(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorruptError(
            f"backup {src} is not a valid SQLite database or fails the integrity check "
            f"({exc}); nothing was changed"
        ) from exc
    except sqlite3.Error as exc:
        raise describe_sqlite_error(exc, str(src)) from exc
    if problems:
        raise DatabaseCorruptError(
            f"backup {src} fails PRAGMA integrity_check: {'; '.join(problems[:5])}; "
            "nothing was changed"
        )
    ensure_directory(target.parent, f"the database {target}")
    # 2. Copy it next to the target (same filesystem, so the final rename is atomic).
    tmp, version = _copy_verified(src, target.parent, "restore", doing)
    with _removed_on_failure(tmp, f"cannot replace {target}"):
        if version < 0:
            raise StorageError(f"{src} does not look like a RUNE database (no jobs table)")
        if version > max_known_version:
            raise StorageError(
                f"backup {src} has schema version {version:04d}, newer than this code "
                f"({max_known_version:04d}); restore it with a newer rune"
            )
        # 3. Make sure nobody else uses the target, and hold it while swapping.
        holder = _claim_exclusive(target) if target.exists() else None
        try:
            for suffix in _SIDE_FILES:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{target}{suffix}")
            os.replace(tmp, target)
            _fsync(target.parent)
        finally:
            if holder is not None:
                holder.close()
    return CopyResult(target, target.stat().st_size, version)
