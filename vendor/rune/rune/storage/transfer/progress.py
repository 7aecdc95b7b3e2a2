"""The resume point: the tool-owned ``rune_copy_progress`` table, and this run's counters.

Rows go in with binary ``COPY`` in batches; each batch commits together with its row of
the progress table (source identity, last copied rowid, row count and the running source
checksum of the rows copied so far), so whatever a kill leaves in the target is exactly
described by the table. A killed run is resumed by running the same command again, only
when both sides still hold exactly what the progress table recorded: the source rows up
to the recorded rowid are re-read and must give the recorded count and checksum (a
source that changed since is caught here), and the target table must give them too
(rows written to the target by something else are caught); :mod:`.plan` runs those
checks. The *source identity* is a hash of the source's ``schema_version`` rows
including their ``applied_at`` times, which are written once when a database is created
or migrated: copies of one file (a backup) share it, two independently created databases
do not. The path is kept for messages but not compared, so moving the file does not
prevent a resume (the content checks decide; they also catch a ``VACUUM`` that renumbered
the rowids of a table without an INTEGER PRIMARY KEY). The table is dropped only after
every table matched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.indexes import INDEX_TABLE
from rune.storage.transfer.tables import TABLES, TableSpec

if TYPE_CHECKING:
    import psycopg

PROGRESS_TABLE = "rune_copy_progress"


@dataclass
class Progress:
    """One table's row of the progress table, as an earlier run committed it."""

    source_id: str
    source: str
    last_key: int | None
    rows: int
    checksum: int


@dataclass
class TableRun:
    """One table in this run: where it starts (``start_*``, from the progress table when
    resuming) and what this run added, so each batch's progress row and the source side
    of the final check are known without re-reading anything. ``target`` is the target's
    (rows, checksum), filled in by the finishers once the table is complete."""

    spec: TableSpec
    total: int
    start_key: int | None
    start_rows: int
    start_checksum: int
    rows: int = 0
    checksum: int = 0
    started: float = 0.0
    finished: bool = False
    target: tuple[int, int] | None = None


def read_progress(conn: psycopg.Connection[Any]) -> dict[str, Progress]:
    """The recorded progress by table name (call only when the table exists)."""
    progress = {}
    for r in conn.execute(
        f"SELECT table_name, source_id, source, last_key, rows, checksum FROM {PROGRESS_TABLE}"
    ).fetchall():
        progress[str(r[0])] = Progress(
            str(r[1]), str(r[2]), None if r[3] is None else int(r[3]), int(r[4]), int(r[5])
        )
    return progress


def create_progress(cur: psycopg.Cursor[Any], source_id: str, source_path: str) -> None:
    """A fresh progress table with an empty row per table (in the setup transaction)."""
    cur.execute(f"DROP TABLE IF EXISTS {PROGRESS_TABLE}")
    cur.execute(
        f"CREATE TABLE {PROGRESS_TABLE} ("
        " table_name TEXT PRIMARY KEY,"
        " source_id TEXT NOT NULL,"
        " source TEXT NOT NULL,"
        " last_key BIGINT,"
        " rows BIGINT NOT NULL,"
        " checksum NUMERIC(20, 0) NOT NULL,"
        " updated_at DOUBLE PRECISION NOT NULL)"
    )
    now = time.time()
    for spec in TABLES:
        cur.execute(
            f"INSERT INTO {PROGRESS_TABLE} VALUES (%s, %s, %s, NULL, 0, 0, %s)",
            (spec.name, source_id, source_path, now),
        )


def record_batch(
    cur: psycopg.Cursor[Any], table: str, last_key: int, rows: int, checksum: int
) -> None:
    """Move ``table``'s resume point, in the transaction that holds the batch's rows."""
    cur.execute(
        f"UPDATE {PROGRESS_TABLE} SET last_key = %s, rows = %s, checksum = %s, "
        "updated_at = %s WHERE table_name = %s",
        (last_key, rows, checksum, time.time(), table),
    )


def finish(conn: psycopg.Connection[Any], *, verified: bool) -> None:
    """The final, synchronous commit (it makes every earlier batch durable): the index
    records go once every index is back, the progress table once every table matched."""
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = on")
        left_row = conn.execute(f"SELECT count(*) FROM {INDEX_TABLE}").fetchone()
        if left_row is not None and left_row[0] == 0:  # every index is back
            conn.execute(f"DROP TABLE {INDEX_TABLE}")
        if verified:
            conn.execute(f"DROP TABLE {PROGRESS_TABLE}")
