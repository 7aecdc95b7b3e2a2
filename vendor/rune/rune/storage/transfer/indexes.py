"""Secondary indexes: dropped for the load, recorded in ``rune_copy_indexes``, rebuilt.

Building an index from the complete, sorted table costs a fraction of maintaining it row
by row (``pg_restore`` does the same), so secondary (non-unique) indexes on tables the
role owns are dropped in the first batch's transaction and recorded in the tool-owned
``rune_copy_indexes`` table; as soon as a table is complete its indexes are rebuilt while
other tables are still copying. Primary keys and unique indexes are never dropped, so no
duplicate can get in. A killed run leaves the records, and the run that completes the
copy rebuilds every recorded index (also after ``--force``); the record table goes once
none is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.tables import TABLES

if TYPE_CHECKING:
    import psycopg

# Secondary indexes dropped for the load, until they are rebuilt (survives a kill).
INDEX_TABLE = "rune_copy_indexes"

# (table, qualified index name, CREATE INDEX statement)
IndexDef = tuple[str, str, str]


def read_secondary(conn: psycopg.Connection[Any]) -> list[IndexDef]:
    """The secondary indexes on the RUNE tables that this role may drop now."""
    names = [spec.name for spec in TABLES]
    rows = conn.execute(
        "SELECT c.relname, format('%%I.%%I', n.nspname, i.relname), pg_get_indexdef(i.oid)"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class c ON c.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = i.relnamespace"
        " WHERE x.indrelid = ANY (%s::regclass[]) AND NOT x.indisunique"
        " AND NOT x.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
        # only the owner may drop an index: other roles load with the indexes in place
        " AND pg_has_role(c.relowner, 'USAGE')"
        " ORDER BY 1, 2",
        (names,),
    ).fetchall()
    return [(str(t), str(n), str(d)) for t, n, d in rows]


def read_recorded(conn: psycopg.Connection[Any]) -> list[IndexDef]:
    """The indexes an earlier run dropped and did not rebuild (the table must exist)."""
    recorded = conn.execute(
        f"SELECT table_name, index_name, definition FROM {INDEX_TABLE} ORDER BY 1, 2"
    ).fetchall()
    return [(str(t), str(n), str(d)) for t, n, d in recorded]


def record_and_drop(cur: psycopg.Cursor[Any], indexes: Iterable[IndexDef]) -> None:
    """Create the record table if needed, then record and drop each of ``indexes``.

    Runs in the first batch's transaction, so a drop never commits without its record.
    """
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {INDEX_TABLE} ("
        " index_name TEXT PRIMARY KEY,"
        " table_name TEXT NOT NULL,"
        " definition TEXT NOT NULL)"
    )
    for table, name, definition in indexes:
        cur.execute(
            f"INSERT INTO {INDEX_TABLE} VALUES (%s, %s, %s) ON CONFLICT (index_name) DO NOTHING",
            (name, table, definition),
        )
        cur.execute(f"DROP INDEX {name}")


def rebuild(conn: psycopg.Connection[Any], name: str, definition: str) -> None:
    """Rebuild one recorded index and forget the record, in one transaction."""
    statement = definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    with conn.transaction():
        conn.execute(statement)
        conn.execute(f"DELETE FROM {INDEX_TABLE} WHERE index_name = %s", (name,))
