"""Writing reports and register files atomically, so a reader never sees half a file.

:func:`write_atomic` writes a temporary file beside the target
(``.NAME.XXXXXXXX.tmp``), flushes it to disk, renames it over the target
and flushes the folder, so after it returns the new bytes survive a crash
and, before it returns, readers see the old file or nothing new at all.
Every failure (missing folder, a parent that is a file, a target that is a
folder, a read-only file system, a full disk) is one :class:`UsageError`
line naming the path and the operating system's reason (exit 2), and the
temporary file is removed. Only a process killed outright (``SIGKILL``,
power loss) can leave one behind; writers that serialize themselves with a
lock remove those with :func:`stale_temporaries` (``vex add`` does).

A rewritten file keeps its mode and, where the process may set them, its
owner and group: ``mkstemp`` creates private (0600) files, and a report a
web server or another user reads must not silently become unreadable. A
new file gets what ``open()`` would give it (``0666`` less the umask).

A target that exists but is not a regular file (``/dev/stdout``, a named
pipe, ``/dev/full``) is written in place: renaming over it would replace
the device node or pipe with a regular file. A symbolic link to a regular
file is followed: the file it names is replaced, and the link stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from checker.errors import UsageError
from checker.inputs import display_path

_TEMP_SUFFIX = ".tmp"
#: The random part ``tempfile.mkstemp`` puts between prefix and suffix.
_TEMP_RANDOM = r"[a-z0-9_]{8}"


def default_mode() -> int:
    """The mode ``open()`` gives a new file: ``0666`` less the process umask.

    Linux states the umask in ``/proc/self/status``; elsewhere it can only
    be read by setting it, which is restored at once (the CLI has one thread).
    """
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii", errors="replace") as status,
    ):
        for line in status:
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files :func:`write_atomic` left beside ``path`` when killed mid-write.

    Only a caller that holds a lock excluding every other writer of ``path``
    may delete them: without one, they may be another writer's work in
    progress.
    """
    directory = path.parent
    prefix = re.escape(_temp_prefix(path.name))
    pattern = re.compile(rf"{prefix}{_TEMP_RANDOM}{re.escape(_TEMP_SUFFIX)}")
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(directory / name for name in names if pattern.fullmatch(name))


def _temp_prefix(name: str) -> str:
    """``.NAME.``, cut so that the temporary name fits where ``NAME`` (255 bytes) fits."""
    return "." + os.fsdecode(os.fsencode(name)[:200]) + "."


def _reason(exc: OSError) -> str:
    """The operating system's words for ``exc`` (``No space left on device``)."""
    if exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def _fail(path: Path, exc: OSError, what: str = "cannot write") -> UsageError:
    return UsageError(f"{what} {display_path(path)}: {_reason(exc)}")


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a write may be short)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # not expected from a regular file; never loop forever
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        view = view[written:]


def _encode(text: str) -> bytes:
    """UTF-8, with any lone surrogate (an undecodable file name) as a visible escape.

    A report may quote a file name that is not UTF-8; refusing to write the
    whole report over it would hide every finding, and writing the raw byte
    would make the report itself invalid UTF-8.
    """
    return text.encode("utf-8", "backslashreplace")


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable; file systems that cannot do it are let be."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # EINVAL on some network/virtual file systems
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_in_place(path: Path, data: bytes) -> None:
    """A device, pipe or terminal: write to it, since it cannot be replaced."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(path, exc) from None
    try:
        _write_all(fd, data)
    except OSError as exc:
        raise _fail(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename; see the module doc.

    A crash or a full disk leaves the previous file in place, not a
    truncated one that a CI step would then parse; the caller may report
    success once this returns, because the file and its folder are on disk.
    """
    data = _encode(text)
    try:
        current: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        current = None
    except OSError as exc:  # a parent that is a file (ENOTDIR), a loop of links, ...
        raise _fail(path, exc) from None
    if current is not None and stat.S_ISDIR(current.st_mode):
        raise _fail(path, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
    if current is not None and not stat.S_ISREG(current.st_mode):
        _write_in_place(path, data)
        return
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path
    directory = target.parent if str(target.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=_temp_prefix(target.name), suffix=_TEMP_SUFFIX, dir=directory
        )
        try:
            if current is not None:
                with contextlib.suppress(OSError):  # not ours to give away: keep our own
                    os.fchown(fd, current.st_uid, current.st_gid)
                os.fchmod(fd, stat.S_IMODE(current.st_mode))  # after chown, which clears setuid
            else:
                os.fchmod(fd, default_mode())
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except FileNotFoundError as exc:
        if not directory.is_dir():
            raise UsageError(
                f"cannot write {display_path(path)}: {_reason(exc)} "
                f"(folder {display_path(directory)} does not exist)"
            ) from None
        raise _fail(path, exc) from None
    except OSError as exc:
        raise _fail(path, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_directory(directory)
