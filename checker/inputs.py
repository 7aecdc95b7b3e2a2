"""Reading raw input files safely: size limits, encodings, JSON with positions.

Every reader goes through here so hostile or broken files fail the same way:
an :class:`InputError` naming the file and place, in bounded time and memory.
"""

from __future__ import annotations

import codecs
import gc
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

try:  # POSIX only; elsewhere the memory check relies on what the kernel reports
    import resource
except ImportError:  # pragma: no cover
    resource = None  # type: ignore[assignment]

from checker.errors import InputError

#: Default cap on one input file. Real SBOMs of large images are tens of MB;
#: a gigabyte-sized input is refused before it is read into memory.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

#: Cap on nesting of nested components (CycloneDX ``components`` in
#: ``components``); orjson itself refuses JSON nested deeper than 1024.
MAX_DEPTH = 64

#: The message for input that exhausts the stack of a recursive reader.
TOO_DEEP = "is nested too deeply to read"

T = TypeVar("T")


#: Read size of one chunk when a file's size is unknown (``/proc`` files say 0).
_CHUNK = 1024 * 1024

#: Bytes of Python objects per byte of JSON once parsed (measured on the
#: corpus SBOMs and lockfiles: 13.7 to 16.8); pathological documents of
#: empty objects reach about twice that.
JSON_EXPANSION = 16
#: Inputs smaller than this are parsed without asking how much memory is left.
_MEMORY_CHECK_FROM = 16 * 1024 * 1024

_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def display_path(path: str | os.PathLike[str]) -> str:
    """A file name as it can be printed in any report format.

    Names are bytes on POSIX: one that is not UTF-8 reaches Python with
    surrogate escapes, which JSON, XML and terminals cannot carry, and a
    name may hold newlines or escape sequences that would forge report
    lines. Those are written as backslash escapes; ordinary names
    (any script, spaces) are unchanged.
    """
    text = os.fspath(path)
    if text.isprintable():
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return escape_controls(raw.decode("utf-8", "backslashreplace"))


def escape_controls(text: str) -> str:
    """``text`` with every unprintable character as its backslash escape (``\\n``, ``\\x1b``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def excerpt(text: str, limit: int = 80) -> str:
    """Input text for a message: quoted, control characters escaped, cut at ``limit``.

    Warnings quote what they could not read; an input must never be able
    to pour its content (or a secret it pulled in) into a report.
    """
    cut = text[:limit]
    shown = repr(cut)
    if len(text) > limit:
        shown += f" (and {len(text) - limit:,} more characters)"
    return shown


def file_kind(mode: int) -> str | None:
    """What a non-regular, non-directory file is ("a named pipe (FIFO)"), else None."""
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return None


#: How inputs are opened: never blocking (a FIFO opens at once, then fails
#: the regular-file check), never becoming a controlling terminal.
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)


def read_bytes(
    path: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    what: str = "an SBOM, lockfile or manifest",
) -> bytes:
    """Read a regular file whole, refusing it before reading if it is too large.

    The file is opened without blocking and checked with ``fstat`` on the
    open descriptor, so a FIFO, a device or a socket (or a link to one) is
    refused instead of hanging the run, and a file swapped for another
    between a check and the open cannot slip through. It is read in chunks
    up to its size: the limit is never allocated up front.
    """
    name = display_path(path)
    try:
        fd = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(name, "", "is a directory; give the files to scan")
        if not stat.S_ISREG(info.st_mode):
            kind = file_kind(info.st_mode) or "not a regular file"
            raise InputError(name, "", f"is {kind}, not a regular file; give the file itself")
        size = info.st_size
        if size > max_bytes:
            raise InputError(
                name,
                "",
                f"is {size:,} bytes, over the {max_bytes:,}-byte input limit "
                "(raise it with --max-input-size if this file is genuine)",
            )
        data = _read_all(fd, size, max_bytes, name)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(name, "", f"grew past the {max_bytes:,}-byte input limit while read")
    if is_blank(data):
        raise InputError(name, "", f"is empty; expected {what}")
    return data


def _read_all(fd: int, size: int, max_bytes: int, name: str) -> bytes:
    """Up to ``max_bytes + 1`` bytes of ``fd``: one read for a file whose size is known."""
    chunks: list[bytes] = []
    total = 0
    want = size + 1 if size else _CHUNK
    try:
        while total <= max_bytes:
            chunk = os.read(fd, min(want, max_bytes + 1 - total, 1 << 30))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = _CHUNK
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except MemoryError:
        raise InputError(
            name,
            "",
            f"is {max(size, total):,} bytes, more than the memory available can hold; "
            "lower --max-input-size to refuse such files up front, or give the run more memory",
        ) from None
    except OSError as exc:
        raise InputError(name, "", f"cannot be read: {exc.strerror}") from None


def memory_headroom() -> int | None:
    """Bytes this process can still allocate, as far as the system says; None if unknown.

    The smallest of: the address-space and data limits (``ulimit -v``/``-d``)
    less what the process already maps, the cgroup's ``memory.max`` less its
    usage (containers, CI runners), and the kernel's ``MemAvailable``.
    """
    found: list[int] = []
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    statm = _read_small("/proc/self/statm").split()
    for limit_name, field in (("RLIMIT_AS", 0), ("RLIMIT_DATA", 5)):
        limit = getattr(resource, limit_name, None) if resource is not None else None
        if limit is None or resource is None:
            continue
        soft, _ = resource.getrlimit(limit)
        if soft != resource.RLIM_INFINITY and len(statm) > field:
            found.append(soft - int(statm[field]) * page)
    for line in _read_small("/proc/self/cgroup").splitlines():
        if line.startswith("0::"):
            base = "/sys/fs/cgroup" + line[3:].strip()
            cap = _read_small(f"{base}/memory.max").strip()
            used = _read_small(f"{base}/memory.current").strip()
            if cap.isdigit() and used.isdigit():
                found.append(int(cap) - int(used))
    for line in _read_small("/proc/meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                found.append(int(parts[1]) * 1024)
    return min(found) if found else None


def _read_small(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read(65536)
    except OSError:
        return ""


def ensure_memory(path: str, size: int, expansion: int, what: str) -> None:
    """Refuse to parse ``size`` bytes that would need more memory than is left.

    A parser that runs out of memory half-way may not raise cleanly (orjson
    has been seen to crash the process); asking first turns that into an
    error that names the file, its size and what to do.
    """
    if size < _MEMORY_CHECK_FROM:
        return
    headroom = memory_headroom()
    need = size * expansion
    if headroom is not None and need > headroom:
        raise InputError(
            path,
            "",
            f"is {size:,} bytes of {what}; reading it needs about {need:,} bytes of memory "
            f"and about {max(headroom, 0):,} are available. Give the run more memory, or "
            "use --max-input-size to refuse files this large before they are read",
        )


def is_blank(data: bytes) -> bool:
    """True for empty or whitespace-only input, without copying a large file."""
    return not data[:4096].strip() and not data.strip()


def decode_text(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16/32.

    Anything else is refused with the byte offset of the first bad byte:
    guessing an encoding would turn a corrupt file into wrong license text.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    path, f"byte {exc.start + len(bom)}", f"is not valid {encoding}"
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            path,
            f"line {line}",
            f"is not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-export the file as UTF-8",
        ) from None


def line_col(text: str | bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of a character (or byte) offset."""
    newline: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    start = text.rfind(newline, 0, offset) + 1
    return line, offset - start + 1


def load_json(data: bytes, path: str) -> Any:
    """Parse JSON with orjson, turning failures into a located InputError.

    Duplicate keys are refused: JSON leaves it to each parser which of two
    ``"licenses"`` counts, so a document could show one license to a
    reviewer's tool and another to the gate.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or data[:4] in (
        codecs.BOM_UTF32_LE,
        codecs.BOM_UTF32_BE,
    ):
        data = decode_text(data, path).encode("utf-8")
    ensure_memory(path, len(data), JSON_EXPANSION, "JSON")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg
        if "depth limit" in reason.lower() or "recursion" in reason.lower():
            reason = "nested too deeply"
        line, col = exc.lineno, exc.colno
        raise InputError(
            path, f"line {line} column {col}", f"is not valid JSON: {reason}"
        ) from None
    if isinstance(doc, (dict, list)) and not _keys_unique_fast(data, doc):
        _refuse_duplicates(data, path)
    return doc


#: A colon written as an escape: the count below would miss it.
_COLON_ESCAPE = re.compile(rb"\\u003[aA]")


def _keys_unique_fast(data: bytes, doc: Any) -> bool:
    """True when ``data`` certainly has no duplicate key; False means "look closer".

    orjson keeps the last of two equal keys and says nothing. A colon in
    JSON is a key's separator or a character inside a string, and orjson
    writes both back as they were; so the input holds as many colons as the
    parsed document re-serialised, unless a key (with its value) was
    dropped. One ``orjson.dumps`` and two ``bytes.count`` prove it (about
    half an orjson parse); an input that writes a colon as ``\\u003a``
    takes the exact path.
    """
    if b"\\u003" in data and _COLON_ESCAPE.search(data):
        return False
    try:
        dumped = orjson.dumps(doc)
    except (orjson.JSONEncodeError, TypeError):
        return False
    return dumped.count(b":") == data.count(b":")


class _Pairs(dict[str, Any]):
    """An object that held a key more than once (the exact duplicate scan)."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]], repeated: list[str]) -> None:
        super().__init__(pairs)
        self.repeated = repeated


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return _Pairs(pairs, repeated) if repeated else dict(pairs)


def _refuse_duplicates(data: bytes, path: str) -> None:
    """Find the duplicate keys exactly (slow, rare) and raise with the first one's path."""
    try:
        doc = json.loads(data, object_pairs_hook=_object)
    except RecursionError:
        raise InputError(
            path, "", "may hold duplicate keys and is nested too deeply to tell"
        ) from None
    except ValueError:
        return  # orjson read it and the count was misled; nothing repeated after all
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            if isinstance(value, _Pairs):
                found.extend((where, key) for key in value.repeated)
            stack.extend((item, _member(where, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(value))))
    if not found:
        return
    where, key = found[0]
    more = len(found) - 1
    others = f" ({more} more duplicate key{'s' if more != 1 else ''} elsewhere)" if more else ""
    raise InputError(
        path,
        where,
        f"has the key {excerpt(key, 60)} more than once in one object{others}; JSON leaves "
        "which one counts to each tool, so the document is refused: fix what generated it",
    )


_SIMPLE_MEMBER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _member(where: str, key: str) -> str:
    if _SIMPLE_MEMBER.match(key):
        return f"{where}.{key}"
    return f"{where}[{orjson.dumps(key[:60]).decode()}]"


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages about unexpected shapes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk read or evaluation.

    Readers and the evaluator allocate millions of objects that never form
    cycles; with the collector running, its repeated scans of them cost more
    than the work itself. Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def only_input_errors(
    path: str,
    what: str,
    read: Callable[[], T],
    *,
    where: str = "",
    too_deep: str | None = None,
    too_large: str | None = None,
) -> T:
    """Run ``read``; turn anything but InputError into an InputError on ``path``.

    Every reader promises that whatever bytes it is given, only InputError
    leaves it: this is where that promise is kept. A reader that knows why it
    can run out of stack or memory says so with ``too_deep`` and
    ``too_large``; anything else is named by its exception, which is a reader
    bug the user can still act on.
    """
    try:
        return read()
    except InputError:
        raise
    except Exception as exc:  # the promise: no input makes anything else escape
        if too_deep is not None and isinstance(exc, RecursionError):
            message = too_deep
        elif too_large is not None and isinstance(exc, MemoryError):
            message = too_large
        else:
            message = f"could not be read as {what} ({type(exc).__name__}: {exc})"
        raise InputError(path, where, message) from None
