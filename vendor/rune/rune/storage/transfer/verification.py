"""Verification: per table, row count and checksum on both sides, compared.

For every table, row count and checksum are computed on both sides independently: the
source in Python over the snapshot rows as read, the target in SQL over the stored rows
(see :mod:`.checksums`). A copy reports success only when every table matched; until then
its progress table stays, so a difference is never mistaken for a finished copy. The same
comparison runs stand-alone (:func:`verify_tables`), writing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.checksums import MOD, target_checksum
from rune.storage.transfer.progress import TableRun
from rune.storage.transfer.source import Source
from rune.storage.transfer.tables import TABLES

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and checksum on each side; ``ok`` when both match."""

    table: str
    source_rows: int
    target_rows: int
    source_checksum: int
    target_checksum: int

    @property
    def ok(self) -> bool:
        return (
            self.source_rows == self.target_rows
            and self.source_checksum % MOD == self.target_checksum % MOD
        )


def verify_tables(conn: psycopg.Connection[Any], source: Source) -> tuple[TableCheck, ...]:
    """Compare the whole source snapshot with the target, table by table."""
    checks = []
    for spec in TABLES:
        rows, checksum = source.scan(spec, None)
        target_rows, target_sum = target_checksum(conn, spec)
        checks.append(TableCheck(spec.name, rows, target_rows, checksum, target_sum))
    return tuple(checks)


def copy_checks(conn: psycopg.Connection[Any], runs: Iterable[TableRun]) -> list[TableCheck]:
    """The checks of a copy: the source side as counted while copying, the target side as
    the finishers summed it (or now, for a table that ended before the setup committed)."""
    checks = []
    for run in runs:
        if run.target is None:  # ended before the setup committed: empty now
            run.target = target_checksum(conn, run.spec)
        checks.append(
            TableCheck(
                run.spec.name,
                run.start_rows + run.rows,
                run.target[0],
                (run.start_checksum + run.checksum) % MOD,
                run.target[1],
            )
        )
    return checks
