"""Copy a RUNE SQLite database into PostgreSQL (``rune db migrate-to-postgres``).

Why a tool of its own, and why it is built this way: upstream's copier opened both sides
through the storage adapters (so a dry run created the schema on the target and the
source was migrated and switched to WAL), paged with ``LIMIT/OFFSET`` in a new read
transaction per page (no consistent snapshot), printed whole rows in its errors, had no
empty-target guard, forgot the ``settings`` table and never checked what it wrote. Here,
one module per part, each saying why it works the way it does:

- :mod:`.tables`: the six RUNE tables and their column kinds, parents first.
- :mod:`.source`: the SQLite file, read-only, in ONE read transaction (a snapshot), in
  keyset pages by rowid.
- :mod:`.target`: connecting to PostgreSQL, one copy per target (an advisory lock), and
  checking its schema version and contents. Both sides are checked before the first
  write, so a bad input leaves the target as it was.
- :mod:`.plan`: create, copy into, resume, replace (``--force``) or refuse.
- :mod:`.progress`: the resume point, committed with every batch in
  ``rune_copy_progress``; a killed run is resumed by running the same command again.
- :mod:`.copier`: one reader thread, two writer connections, binary ``COPY``
  (:mod:`.pgcopy`), secondary indexes dropped for the load (:mod:`.indexes`), foreign
  keys checked once per table when the triggers may be skipped (:mod:`.foreign_keys`),
  finished tables rebuilt and summed in the background (:mod:`.finishing`).
- :mod:`.checksums` and :mod:`.verification`: row count and checksum of every table,
  computed independently on both sides; the progress table is dropped only after every
  table matched.
- :mod:`.errors`: one-line errors that never contain row contents.
- :mod:`.runner`: the entry points, :func:`migrate_to_postgres` and :func:`verify`;
  :mod:`.reporter`: what a run tells its caller.
"""

from __future__ import annotations

from rune.storage.transfer.checksums import encoders_for as encoders_for
from rune.storage.transfer.checksums import format_checksum, target_checksum_sql
from rune.storage.transfer.checksums import rows_checksum as rows_checksum
from rune.storage.transfer.errors import TransferError
from rune.storage.transfer.indexes import INDEX_TABLE
from rune.storage.transfer.plan import Plan, TablePlan
from rune.storage.transfer.progress import PROGRESS_TABLE
from rune.storage.transfer.reporter import Reporter
from rune.storage.transfer.runner import TransferResult, migrate_to_postgres, verify
from rune.storage.transfer.source import DEFAULT_BATCH_SIZE
from rune.storage.transfer.tables import SPECS as SPECS
from rune.storage.transfer.tables import TABLES, TableSpec
from rune.storage.transfer.target import COPY_LOCK_KEY
from rune.storage.transfer.verification import TableCheck

# The same list as before the split into modules. ``SPECS``, ``encoders_for`` and
# ``rows_checksum`` (used by the tests) were never in it and are re-exported by the
# ``as`` imports above, so ``from rune.storage.transfer import *`` is unchanged.
__all__ = [
    "COPY_LOCK_KEY",
    "DEFAULT_BATCH_SIZE",
    "INDEX_TABLE",
    "PROGRESS_TABLE",
    "TABLES",
    "Plan",
    "Reporter",
    "TableCheck",
    "TablePlan",
    "TableSpec",
    "TransferError",
    "TransferResult",
    "format_checksum",
    "migrate_to_postgres",
    "target_checksum_sql",
    "verify",
]
