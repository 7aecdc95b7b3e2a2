"""Ordinary file-system failures as one-line :class:`StorageError` messages.

Why a module of its own: ``rune db migrate``, ``backup`` and ``restore`` all create
directories and files next to a database, and an operator who points one at a read-only
mount, a missing folder or a path whose parent is a file must get one line that names the
path and the operating system's reason, not "unexpected error" and a Python class name.
``mkdir`` reports a file in the way as "File exists" (or "Not a directory" one level
down), which sends people looking for the wrong thing, so the path in the way is named.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rune.storage.errors import StorageError


def os_reason(exc: OSError) -> str:
    """The operating system's words for ``exc`` ("Read-only file system")."""
    return exc.strerror or str(exc) or type(exc).__name__


def describe_os_error(exc: OSError, doing: str, path: Path | None = None) -> StorageError:
    """``"<doing>: [<file>: ]<reason>"``; the file is left out when it is ``path`` itself."""
    filename = exc.filename
    if filename is None or (path is not None and os.fspath(filename) == os.fspath(path)):
        return StorageError(f"{doing}: {os_reason(exc)}")
    return StorageError(f"{doing}: {os.fsdecode(filename)}: {os_reason(exc)}")


def first_non_directory(path: Path) -> Path | None:
    """The first of ``path`` and its parents that exists but is not a directory."""
    for candidate in (path, *path.parents):
        try:
            mode = os.stat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # missing, or below the culprit: look further up
        except OSError:
            return None
        return None if stat.S_ISDIR(mode) else candidate
    return None


def ensure_directory(directory: Path, purpose: str) -> None:
    """Create ``directory`` and its parents, or raise one line saying what is in the way."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        doing = f"cannot create directory {directory} for {purpose}"
        blocker = first_non_directory(directory)
        if blocker is not None:
            raise StorageError(f"{doing}: {blocker} is not a directory") from exc
        raise describe_os_error(exc, doing, directory) from exc


def check_readable(path: Path, what: str) -> None:
    """Open ``path`` for reading once, so a refusal names the file and the reason.

    SQLite would only say "unable to open database file", which does not tell a missing
    permission from a missing file.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise describe_os_error(exc, f"cannot read {what} {path}", path) from exc
    os.close(fd)
