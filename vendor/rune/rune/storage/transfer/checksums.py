"""The row checksum, computed the same way in Python (source) and in SQL (target).

Both sides are summed independently, so a difference in what was stored cannot hide
behind the code that wrote it. The checksum is the sum modulo 2**64 of the first 8 bytes
(big-endian) of md5 over a canonical row encoding, the columns in table order: NULL is
``00``; text is ``01``, its UTF-8 length as 4 bytes big-endian, its UTF-8 bytes; a float
is ``02`` and its IEEE-754 binary64 big-endian bytes (``float8send``,
``struct.pack('>d')``), so precision is compared exactly; an integer is ``03`` and 8 bytes
big-endian; bytes are ``04`` and their sha256. A sum is order-independent and adds up
over batches, which the resume needs.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.tables import BYTES, FLOAT, INT, TEXT, TableSpec

if TYPE_CHECKING:
    import psycopg

MOD = 1 << 64

_NULL = b"\x00"
_PACK_TEXT = struct.Struct(">BI").pack
_PACK_FLOAT = struct.Struct(">Bd").pack
_PACK_INT = struct.Struct(">Bq").pack
_UNPACK_PREFIX = struct.Struct(">Q8x").unpack


def _encode_text(value: bytes | None) -> bytes:
    return _NULL if value is None else _PACK_TEXT(1, len(value)) + value


def _encode_float(value: float | None) -> bytes:
    return _NULL if value is None else _PACK_FLOAT(2, value)


def _encode_int(value: int | None) -> bytes:
    return _NULL if value is None else _PACK_INT(3, value)


def _encode_bytes(value: bytes | None) -> bytes:
    return _NULL if value is None else b"\x04" + hashlib.sha256(value).digest()


_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    TEXT: _encode_text,
    FLOAT: _encode_float,
    INT: _encode_int,
    BYTES: _encode_bytes,
}


def encoders_for(spec: TableSpec) -> tuple[Callable[[Any], bytes], ...]:
    """One encoder per column; text values are the UTF-8 bytes SQLite stores."""
    return tuple(_ENCODERS[kind] for _name, kind in spec.columns)


def rows_checksum(encoders: Sequence[Callable[[Any], bytes]], rows: Sequence[Sequence[Any]]) -> int:
    """Sum of the rows' hashes, not yet reduced modulo 2**64 (batches add up)."""
    call = operator.call
    join = b"".join
    md5 = hashlib.md5
    unpack = _UNPACK_PREFIX
    total = 0
    for row in rows:
        total += unpack(md5(join(map(call, encoders, row)), usedforsecurity=False).digest())[0]
    return total


def target_checksum_sql(spec: TableSpec) -> str:
    """The same checksum in SQL; returns ``count(*)`` and the signed sum of prefixes.

    Run it on a UTF8 database over a connection whose ``client_encoding`` is UTF8.
    """
    tags = {TEXT: "01", FLOAT: "02", INT: "03", BYTES: "04"}
    parts = []
    for name, kind in spec.columns:
        col = f'"{name}"'
        tag = f"decode('{tags[kind]}', 'hex')"
        if kind == TEXT:
            # textsend: the bytes in the client encoding, which target.connect sets to UTF8
            # (the server's, checked), so no conversion and no re-validation; octet_length
            # counts the same bytes. Measurably cheaper than convert_to on millions of rows.
            value = f"int4send(octet_length({col})) || textsend({col})"
        elif kind == FLOAT:
            value = f"float8send({col})"
        elif kind == INT:
            value = f"int8send({col})"
        else:
            value = f"sha256({col})"
        parts.append(f"coalesce({tag} || {value}, decode('00', 'hex'))")
    row = " || ".join(parts)
    return (
        f"SELECT count(*), coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint), 0) "
        f'FROM "{spec.name}"'
    )


def target_checksum(conn: psycopg.Connection[Any], spec: TableSpec) -> tuple[int, int]:
    """(rows, checksum) of ``spec``'s table as the target stores it."""
    row = conn.execute(target_checksum_sql(spec)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]) % MOD


def format_checksum(value: int) -> str:
    return f"{value % MOD:016x}"
