"""The copy's errors: one safe line each, naming the table and the primary key.

Errors never contain row contents (payloads may be secret): they name the table and the
primary key. That is why the server's DETAIL lines (which can quote whole rows) are cut
off, and why a row PostgreSQL would refuse is explained from the values as read, by kind,
without showing them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rune.storage.errors import StorageError
from rune.storage.pgconn import (
    BUSY,
    DISK_FULL,
    LOST,
    PERMISSION,
    classify_pg_error,
    describe_pg_error,
)
from rune.storage.transfer.tables import FLOAT, INT, TEXT, TableSpec
from rune.storage.urls import PostgresTarget, redact

# Server-side conditions the storage layer already words well (busy, disk full, ...).
SERVER_CONDITIONS = (BUSY, DISK_FULL, LOST, PERMISSION)


class TransferError(StorageError):
    """The copy cannot start or cannot go on; the message is one safe line."""


def pk_text(spec: TableSpec, row: Sequence[Any]) -> str:
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
                return f"{spec.name} ({pk_text(spec, row)}): column {name} {problem}"
    return None


def pg_detail(exc: BaseException) -> str:
    """The server's primary message only: DETAIL lines can quote whole rows."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc).split("\n", 1)[0]
    sqlstate = getattr(exc, "sqlstate", None)
    suffix = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    return redact(" ".join(str(text).split())) + suffix


def pg_error(exc: BaseException, doing: str, target: PostgresTarget) -> StorageError:
    """A driver error from the target as one line that says what was being done."""
    kind = classify_pg_error(exc)
    if kind in SERVER_CONDITIONS:
        error = describe_pg_error(exc, target)
        return type(error)(f"{doing}: {error}")
    return TransferError(f"{doing} on {target.masked}: {pg_detail(exc)}")


def _is_pg_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg.Error)


@contextlib.contextmanager
def one_line_errors(source_path: Path, target: PostgresTarget, doing: str) -> Iterator[None]:
    """Driver errors from either side become the one-line errors the CLI prints."""
    try:
        yield
    except sqlite3.Error as exc:
        raise TransferError(f"cannot read the source {source_path}: {exc}") from exc
    except StorageError:
        raise
    except Exception as exc:
        if _is_pg_error(exc):
            raise pg_error(exc, doing, target) from exc
        raise
