"""Binary ``COPY`` into a RUNE table, and naming the row PostgreSQL refused.

Binary COPY is the fastest way in, but a refused batch only says *that* it failed, and the
server's message may quote the row; the row is found by replaying the batch row by row in
savepoints that are all rolled back, and is then named by its primary key only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rune.storage.errors import StorageError
from rune.storage.pgconn import classify_pg_error
from rune.storage.transfer.errors import (
    SERVER_CONDITIONS,
    TransferError,
    find_bad_row,
    pg_detail,
    pg_error,
    pk_text,
)
from rune.storage.transfer.tables import BYTES, FLOAT, INT, TEXT, TableSpec
from rune.storage.urls import PostgresTarget

if TYPE_CHECKING:
    import psycopg

# Text goes as raw UTF-8 bytes: binary COPY has no per-field type, the server applies the
# column's own input (textrecv validates UTF-8), and psycopg need not re-encode anything.
_PG_TYPES = {TEXT: "bytea", FLOAT: "float8", INT: "int8", BYTES: "bytea"}


def use_fast_bytes(conn: psycopg.Connection[Any]) -> None:
    """Dump ``bytes`` with psycopg's compiled binary dumper on this connection."""
    import psycopg
    from psycopg.adapt import PyFormat

    # By oid, bytea maps to psycopg's pure-Python dumper for ``Binary`` objects; the
    # compiled one for ``bytes`` is several times faster on this hot path.
    conn.adapters.register_dumper(bytes, psycopg.adapters.get_dumper(bytes, PyFormat.BINARY))


def copy_rows(cur: psycopg.Cursor[Any], spec: TableSpec, rows: Sequence[Sequence[Any]]) -> None:
    """Stream ``rows`` into ``spec``'s table with one binary COPY."""
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    with cur.copy(f'COPY "{spec.name}" ({cols}) FROM STDIN (FORMAT BINARY)') as cp:
        cp.set_types([_PG_TYPES[kind] for _n, kind in spec.columns])
        for row in rows:
            cp.write_row(row)


def batch_error(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    rows: Sequence[Sequence[Any]],
    exc: BaseException,
    target: PostgresTarget,
    prepare: Callable[[psycopg.Cursor[Any]], None] | None,
) -> StorageError:
    """Name the row that PostgreSQL refused (table and primary key only).

    ``prepare`` repeats what the failed transaction did before its COPY (the setup of the
    first batch), so the replay sees the target as the batch did.
    """
    import psycopg

    if classify_pg_error(exc) in SERVER_CONDITIONS:
        return pg_error(exc, f"copying {spec.name}", target)
    problem = find_bad_row(spec, rows)
    if problem is not None:
        return TransferError(f"cannot copy {problem}; fix the source and run again")
    # Replay the batch row by row (each in a savepoint, all rolled back) to find it.
    culprit: tuple[BaseException, Sequence[Any]] | None = None
    with contextlib.suppress(psycopg.Error):
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            with conn.transaction(force_rollback=True), conn.cursor() as cur:
                if prepare is not None:
                    prepare(cur)
                for row in rows:
                    try:
                        with conn.transaction():
                            copy_rows(cur, spec, (row,))
                    except psycopg.Error as row_error:
                        culprit = row_error, row
                        break
    if culprit is not None:
        return TransferError(
            f"cannot copy {spec.name} ({pk_text(spec, culprit[1])}): {pg_detail(culprit[0])}"
        )
    return TransferError(f"cannot copy a batch of {spec.name}: {pg_detail(exc)}")
