"""Helpers every lockfile reader shares: guarded reading, TOML, locations, URLs.

Each reader promises that whatever bytes it is given, only
:class:`~checker.errors.InputError` leaves it; :func:`guarded` is where that
promise is kept. TOML parse errors are turned into ``line N column C`` (Python
3.11's :class:`tomllib.TOMLDecodeError` carries the position only in its
message), and :func:`header_lines` finds the line of every ``[[package]]``
header in one pass over the text, so a 2,000-package lock does not pay a
search per package.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from checker.errors import InputError
from checker.inputs import decode_text, gc_paused

T = TypeVar("T")

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_JSON_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CREDENTIALS = re.compile(r"//([^/@\s?#]+)@")


def guarded(path: str, what: str, read: Callable[[], T]) -> T:
    """Run ``read``; turn anything but InputError into an InputError on ``path``."""
    try:
        with gc_paused():
            return read()
    except InputError:
        raise
    except RecursionError:
        raise InputError(path, "", "is nested too deeply to read") from None
    except MemoryError:
        raise InputError(path, "", "is too large to read into memory") from None
    except Exception as exc:  # the promise: no input makes anything else escape
        raise InputError(
            path, "", f"could not be read as {what} ({type(exc).__name__}: {exc})"
        ) from None


def load_toml(data: bytes, path: str, what: str) -> tuple[str, dict[str, Any]]:
    """Decode and parse TOML; syntax errors become ``line N column C`` InputErrors."""
    text = decode_text(data, path)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col, reason = _toml_position(exc, text)
        where = f"line {line} column {col}" if line else ""
        raise InputError(path, where, f"is not valid TOML ({what}): {reason}") from None
    except RecursionError:
        raise InputError(path, "", f"is not valid TOML ({what}): nested too deeply") from None


def _toml_position(exc: tomllib.TOMLDecodeError, text: str) -> tuple[int, int, str]:
    """Line, column and bare reason of a TOML error, on every Python version."""
    message = str(exc.args[0]) if exc.args else str(exc)
    reason = getattr(exc, "msg", None)
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    if isinstance(reason, str) and isinstance(line, int) and isinstance(col, int):
        return line, col, reason
    found = _TOML_AT.search(message)
    if found:
        return int(found.group(1)), int(found.group(2)), message[: found.start()]
    found = _TOML_END.search(message)
    if found:
        line = text.count("\n") + 1
        col = len(text) - (text.rfind("\n") + 1) + 1
        return line, col, message[: found.start()] + " at end of file"
    return 0, 0, message


def header_lines(text: str, table: str) -> list[int]:
    """1-based line numbers of every ``[[table]]`` header, in document order.

    One regex pass over the text plus an incremental newline count: linear in
    the file size whatever the number of packages. A header inside a
    multi-line string would be counted too; callers compare the count with the
    parsed array and fall back to array indexes when they differ.
    """
    pattern = re.compile(
        r"^[ \t]*\[\[[ \t]*" + re.escape(table) + r"[ \t]*\]\][ \t]*(?:#[^\n]*)?\r?$",
        re.MULTILINE,
    )
    lines: list[int] = []
    line = 1
    last = 0
    for match in pattern.finditer(text):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        lines.append(line)
    return lines


class TomlLocator:
    """The location of the i-th ``[[table]]`` entry: its header line if known."""

    def __init__(self, text: str, table: str, count: int) -> None:
        lines = header_lines(text, table)
        self.table = table
        self.lines: list[int] | None = lines if len(lines) == count else None

    def __call__(self, index: int) -> str:
        if self.lines is not None:
            return f"line {self.lines[index]}"
        return f"{self.table}[{index}]"


def json_key(base: str, key: str) -> str:
    """A JSON path one object member deeper: ``$.a.b`` or ``$.a["b-c"]``."""
    if _JSON_NAME.match(key):
        return f"{base}.{key}"
    return f"{base}[{orjson.dumps(key).decode()}]"


def redact_url(url: str) -> str:
    """The URL without any ``user:password@`` part (lockfiles may embed tokens).

    ``git@`` (the conventional SSH user) is kept: it names no one.
    """
    return _CREDENTIALS.sub(_redact, url)


def _redact(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) == "git" else "//***@"


def text_or_none(value: Any) -> str | None:
    """A stripped non-empty string, or None for anything else."""
    if type(value) is str:
        value = value.strip()
        return value or None
    return None


def type_name(value: Any) -> str:
    """A TOML-ish name for the type of a parsed value, for notes."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__
