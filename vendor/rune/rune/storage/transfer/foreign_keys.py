"""Foreign keys: which tables must wait for which, and the set-based orphan check.

When the role may set ``session_replication_role`` (superusers), the per-row
foreign-key triggers are skipped during the load and all tables copy at once; one
set-based orphan check per foreign key (an anti-join, run in either case once both
tables are complete) stands in for them before success is reported. Otherwise each row
is checked on insert and child tables wait until their parents are complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.errors import TransferError, pk_text
from rune.storage.transfer.tables import SPECS, TABLES

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key between two RUNE tables, as the target's catalog holds it."""

    child: str
    parent: str
    columns: tuple[str, ...]
    references: tuple[str, ...]


def read_foreign_keys(conn: psycopg.Connection[Any]) -> list[ForeignKey]:
    """The target's foreign keys between RUNE tables, as the migrations made them."""
    names = [spec.name for spec in TABLES]
    rows = conn.execute(
        "SELECT cl.relname, pl.relname, "
        " array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid"
        " JOIN pg_class pl ON pl.oid = c.confrelid"
        " WHERE c.contype = 'f' AND c.conrelid = ANY (%s::regclass[])"
        " ORDER BY cl.relname, c.conname",
        (names,),
    ).fetchall()
    fks = []
    for child, parent, columns, references in rows:
        if str(parent) not in SPECS:
            raise TransferError(
                f"the target table {child} references {parent}, which is not a RUNE table; "
                "the target schema was changed by hand"
            )
        fks.append(ForeignKey(str(child), str(parent), tuple(columns), tuple(references)))
    return fks


def can_skip_triggers(conn: psycopg.Connection[Any]) -> bool:
    """May this role skip foreign-key triggers during the load (superusers)?"""
    import psycopg

    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.Error:
        return False
    return True


def check_orphans(conn: psycopg.Connection[Any], fk: ForeignKey) -> None:
    """Rows whose parent row is missing: the foreign key, checked once per table.

    Needed when the load skipped the per-row triggers; cheap (one anti-join), so it
    also runs otherwise, which covers rows an earlier run loaded without triggers.
    """
    spec = SPECS[fk.child]
    present = " AND ".join(f'c."{col}" IS NOT NULL' for col in fk.columns)
    match = " AND ".join(
        f'p."{ref}" = c."{col}"' for col, ref in zip(fk.columns, fk.references, strict=True)
    )
    keys = ", ".join(f'c."{col}"' for col in spec.pk)
    row = conn.execute(
        f'SELECT {keys} FROM "{fk.child}" c WHERE {present} AND NOT EXISTS '
        f'(SELECT 1 FROM "{fk.parent}" p WHERE {match}) LIMIT 1'
    ).fetchone()
    if row is not None:
        values: list[Any] = [None] * len(spec.columns)
        for col, value in zip(spec.pk, row, strict=True):
            values[spec.column_names.index(col)] = (
                value.encode() if isinstance(value, str) else value
            )
        raise TransferError(
            f"cannot copy {fk.child} ({pk_text(spec, values)}): its "
            f"{', '.join(fk.columns)} does not exist in {fk.parent} (the source has a row "
            "without its parent); fix the source and run again with --force"
        )


def copy_layers(fks: Sequence[ForeignKey], *, all_at_once: bool) -> list[list[str]]:
    """Groups of tables to copy one after the other: parents in an earlier group than
    their children (per-row foreign-key checks need the parent rows committed), or one
    group when the triggers are off and orphans are checked at the end."""
    names = [spec.name for spec in TABLES]
    if all_at_once:
        return [names]
    layers: list[list[str]] = []
    placed: set[str] = set()
    while len(placed) < len(names):
        layer = [
            n
            for n in names
            if n not in placed
            and all(fk.parent in placed or fk.parent == n for fk in fks if fk.child == n)
        ]
        if not layer:  # a cycle cannot come from rune's migrations; copy the rest together
            layer = [n for n in names if n not in placed]
        layers.append(layer)
        placed.update(layer)
    return layers
