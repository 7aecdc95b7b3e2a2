"""Helpers every lockfile reader shares: guarded reading, TOML, locations, URLs.

Each reader promises that whatever bytes it is given, only
:class:`~checker.errors.InputError` leaves it; :func:`guarded` keeps that
promise the same way for all of them. TOML parse errors are turned into ``line N column C`` (Python
3.11's :class:`tomllib.TOMLDecodeError` carries the position only in its
message), and :func:`header_lines` finds the line of every ``[[package]]``
header in one pass over the text, so a 2,000-package lock does not pay a
search per package.
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from checker.errors import InputError
from checker.inputs import TOO_DEEP, decode_text, gc_paused, json_type, only_input_errors
from checker.model import Component, Kind, Origin, Severity
from checker.readers.notes import Notes
from checker.sbom.piplicenses import pypi_purl

T = TypeVar("T")

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_JSON_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CREDENTIALS = re.compile(r"//([^/@\s?#]+)@")
_DIGEST = re.compile(r"^([A-Za-z0-9]+)[:=]([0-9A-Fa-f]+)$")
_SHASUM = re.compile(r"^[0-9A-Fa-f]{40}$")

#: The words of every note about a Python lock entry that does not come from a
#: package index (a git, URL or path source): its version names no published
#: release, so :func:`checker.registry.wanted_from` does not look it up.
OFF_INDEX = "not from a package index"
#: The same for an npm lock entry.
OFF_REGISTRY = "not from the npm registry"


def guarded(path: str, what: str, read: Callable[[], T]) -> T:
    """Run ``read`` with only InputError escaping, and the garbage collector paused.

    A lock of thousands of packages allocates many objects and no cycles, so
    collection passes would only cost time.
    """
    with gc_paused():
        return only_input_errors(
            path, what, read, too_deep=TOO_DEEP, too_large="is too large to read into memory"
        )


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
    """The TOML name of a parsed value's type, for notes: JSON's, but "table" for a dict."""
    return "table" if isinstance(value, dict) else json_type(value)


def pypi_library(
    name: str, origin: Origin, version: str | None, scope: str | None = None
) -> Component:
    """A library from PyPI, as every Python lockfile names one.

    The purl is derived here so that all readers normalize names the same
    way, and a name that is no valid distribution name gets none.
    """
    return Component(
        name=name,
        origin=origin,
        version=version,
        purl=pypi_purl(name, version),
        kind=Kind.LIBRARY,
        scope=scope,
    )


def package_table(entry: Any, origin: Origin, notes: Notes) -> Component | None:
    """The component of one ``[[package]]`` table, or None (noted) if it names none.

    poetry.lock, uv.lock and pylock.toml all state a package as a table with
    ``name`` and an optional ``version``; what else the table says is for the
    caller to read.
    """
    # A package entry the reader cannot name may be anything, a rejected
    # database driver included: an error, never a quiet skip.
    if type(entry) is not dict:
        message = f"package is a {type_name(entry)}, not a table; it cannot be checked"
        notes.at(origin, message, Severity.ERROR)
        return None
    name = text_or_none(entry.get("name"))
    if name is None:
        notes.at(origin, "package has no name; it cannot be checked", Severity.ERROR)
        return None
    return pypi_library(name, origin, text_or_none(entry.get("version")))


def digest(value: Any) -> str | None:
    """``algorithm:hex`` in lower case from ``sha256:HEX`` (or pip's ``sha256=HEX``); else None.

    Lockfiles pin artifact hashes in that form (uv, poetry, Pipfile.lock,
    ``--hash``); the registry resolver compares them with the index's.
    """
    if type(value) is not str:
        return None
    found = _DIGEST.match(value.strip())
    if found is None:
        return None
    return f"{found.group(1).lower()}:{found.group(2).lower()}"


def digests(values: Any) -> tuple[str, ...]:
    """The well-formed digests of a list of ``algorithm:hex`` strings, sorted, once each."""
    if type(values) is not list:
        return ()
    return tuple(sorted({d for d in (digest(v) for v in values) if d is not None}))


def table_digests(table: Any) -> list[str]:
    """``algorithm:hex`` for each entry of a PEP 751 ``hashes = {sha256 = "..."}`` table."""
    if type(table) is not dict:
        return []
    found = (
        digest(f"{k}:{v}") if type(k) is str and type(v) is str else None for k, v in table.items()
    )
    return [d for d in found if d is not None]


def sri_digests(value: Any) -> tuple[str, ...]:
    """``algorithm:hex`` for each entry of an npm ``integrity`` (``sha512-<base64> ...``).

    Subresource Integrity strings may hold several space-separated entries;
    one that does not decode is left out. A bare 40-digit hex string (the
    ``shasum`` form some npm 5 locks carry) is sha1.
    """
    if type(value) is not str:
        return ()
    found: set[str] = set()
    for part in value.split():
        if _SHASUM.match(part):
            found.add(f"sha1:{part.lower()}")
            continue
        algorithm, dash, encoded = part.partition("-")
        if not dash or not algorithm.isalnum():
            continue
        try:
            raw = base64.b64decode(encoded.split("?", 1)[0], validate=True)
        except (binascii.Error, ValueError):
            continue
        if raw:
            found.add(f"{algorithm.lower()}:{raw.hex()}")
    return tuple(sorted(found))
