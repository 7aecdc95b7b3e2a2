"""Reading raw input files safely: size limits, encodings, JSON with positions.

Every reader goes through here so hostile or broken files fail the same way:
an :class:`InputError` naming the file and place, in bounded time and memory.
"""

from __future__ import annotations

import codecs
import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

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


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file whole, refusing it before reading if it is too large."""
    name = str(path)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot be read: {exc.strerror}") from None
    if path.is_dir():
        raise InputError(name, "", "is a directory; give the files to scan")
    if size > max_bytes:
        raise InputError(
            name,
            "",
            f"is {size:,} bytes, over the {max_bytes:,}-byte input limit "
            "(raise it with --max-input-size if this file is genuine)",
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(name, "", f"cannot be read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InputError(name, "", f"grew past the {max_bytes:,}-byte input limit while read")
    if is_blank(data):
        raise InputError(name, "", "is empty; expected an SBOM, lockfile or manifest")
    return data


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
    """Parse JSON with orjson, turning failures into a located InputError."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or data[:4] in (
        codecs.BOM_UTF32_LE,
        codecs.BOM_UTF32_BE,
    ):
        data = decode_text(data, path).encode("utf-8")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg
        if "depth limit" in reason.lower() or "recursion" in reason.lower():
            reason = "nested too deeply"
        line, col = exc.lineno, exc.colno
        raise InputError(
            path, f"line {line} column {col}", f"is not valid JSON: {reason}"
        ) from None


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
