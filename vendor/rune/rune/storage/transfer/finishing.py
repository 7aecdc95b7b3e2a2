"""The work on a complete table, done in the background while other tables still copy.

As soon as a table is complete, background connections compute its target checksum,
rebuild its dropped indexes (:mod:`.indexes`) and run the orphan check of every foreign
key whose two tables are now complete (:mod:`.foreign_keys`). Doing it per table instead
of at the end overlaps the slowest steps with the load, as ``pg_restore`` does.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.checksums import target_checksum
from rune.storage.transfer.foreign_keys import ForeignKey, check_orphans
from rune.storage.transfer.indexes import rebuild
from rune.storage.transfer.progress import TableRun
from rune.storage.transfer.tables import SPECS

if TYPE_CHECKING:
    import psycopg

# One piece of work on a complete table, run on any finisher connection.
Task = Callable[["psycopg.Connection[Any]"], None]


class Finisher:
    """The queue of table work and the state that decides what a table completes.

    Not locked by itself: :meth:`tasks_for` and :meth:`queue` run under the copier's lock.
    """

    def __init__(self, runs: Mapping[str, TableRun], stop: threading.Event) -> None:
        self.runs = runs
        self.stop = stop
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self.pending_fks: list[ForeignKey] = []
        self.complete: set[str] = set()
        # table -> [(qualified index name, CREATE INDEX statement)] still to rebuild
        self.rebuild: dict[str, list[tuple[str, str]]] = {}

    def tasks_for(self, name: str) -> list[Task]:
        """Checksum, index rebuilds and the orphan checks this table completes."""
        spec = SPECS[name]
        run = self.runs[name]

        def checksum(conn: psycopg.Connection[Any]) -> None:
            run.target = target_checksum(conn, spec)

        tasks: list[Task] = [checksum]
        for index_name, definition in self.rebuild.pop(name, []):
            tasks.append(functools.partial(rebuild, name=index_name, definition=definition))
        self.complete.add(name)
        for fk in list(self.pending_fks):
            if fk.child in self.complete and fk.parent in self.complete:
                self.pending_fks.remove(fk)
                tasks.append(functools.partial(check_orphans, fk=fk))
        return tasks

    def queue(self, name: str) -> None:
        """Queue the work on a complete table (called with the copier's lock held)."""
        for task in self.tasks_for(name):
            self.tasks.put(task)

    def work(self, conn: psycopg.Connection[Any]) -> None:
        """Run queued table work on ``conn`` until told to end (None) or stopped."""
        while True:
            task = self.tasks.get()
            if task is None or self.stop.is_set():
                return
            task(conn)

    def end(self, count: int) -> None:
        """Tell ``count`` workers to end once the queue before them is done."""
        for _ in range(count):
            self.tasks.put(None)
