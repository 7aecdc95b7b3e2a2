"""The write phase: one reader thread, writer connections, background table work.

One thread reads the snapshot and computes the source checksums, handing the batches
to two writer connections that copy different tables at once (:mod:`.streams`), each
batch in its own transaction with its progress row (:mod:`.progress`). The first batch's
transaction also holds the setup: ``--force``'s ``TRUNCATE``, the index drops
(:mod:`.indexes`) and the fresh progress table, so nothing of it commits without rows.
As soon as a table is complete, two background connections finish it
(:mod:`.finishing`) while other tables are still copying. Without the right to skip the
foreign-key triggers, child tables wait until their parents are complete
(:mod:`.foreign_keys`). Batches commit with ``synchronous_commit = off`` (a server crash
loses whole batches together with their progress rows, which the resume handles); the
final commit is synchronous, which makes every earlier one durable.
"""

from __future__ import annotations

import functools
import os
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.checksums import MOD
from rune.storage.transfer.errors import TransferError, find_bad_row, pg_error
from rune.storage.transfer.finishing import Finisher
from rune.storage.transfer.foreign_keys import (
    ForeignKey,
    can_skip_triggers,
    copy_layers,
    read_foreign_keys,
)
from rune.storage.transfer.indexes import (
    INDEX_TABLE,
    IndexDef,
    read_recorded,
    read_secondary,
    record_and_drop,
)
from rune.storage.transfer.pgcopy import batch_error, copy_rows, use_fast_bytes
from rune.storage.transfer.plan import Plan
from rune.storage.transfer.progress import TableRun, create_progress, finish, record_batch
from rune.storage.transfer.reporter import Reporter
from rune.storage.transfer.source import Batch, Source
from rune.storage.transfer.streams import Handoff, Stop, Stream, TableEnd, assign
from rune.storage.transfer.tables import TABLES, TableSpec
from rune.storage.transfer.target import TargetState, connect, existing_tables
from rune.storage.transfer.verification import TableCheck, copy_checks
from rune.storage.urls import PostgresTarget

if TYPE_CHECKING:
    import psycopg

# Test hook (never set in production): "commit:N" SIGKILLs this process right after the
# N-th batch commit, "copy:N" after the N-th batch was streamed but before its commit.
ENV_FAULT = "RUNE_TEST_TRANSFER_KILL"
WRITERS = 2
_FINISHERS = 2  # connections that rebuild indexes and compute target checksums
_LOCK_TIMEOUT = "10s"


@dataclass(frozen=True)
class CopySettings:
    """What the write phase takes from the command line and the environment."""

    target: PostgresTarget
    timeout: float
    batch_size: int
    writers: int
    reporter: Reporter
    fault: str  # the value of ENV_FAULT; empty in production


class Copier:
    """The write phase: reader thread, writer threads, background verification."""

    def __init__(
        self,
        settings: CopySettings,
        conn: psycopg.Connection[Any],
        source: Source,
        plan: Plan,
        state: TargetState,
    ) -> None:
        self.settings = settings
        self.conn = conn
        self.source = source
        self.plan = plan
        self.state = state
        self.runs: dict[str, TableRun] = {}
        progress = state.progress if plan.target_state == "resume" else None
        for spec, table_plan in zip(TABLES, plan.tables, strict=True):
            entry = progress[spec.name] if progress else None
            self.runs[spec.name] = TableRun(
                spec,
                table_plan.source_rows,
                entry.last_key if entry else None,
                entry.rows if entry else 0,
                entry.checksum if entry else 0,
            )
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.handoff = Handoff(self.stop, self.cond)
        self.setup_done = plan.target_state == "resume"
        self.setup_lock = threading.Lock()
        self.commits = 0
        self.streamed = 0
        self.replica = False
        self.finisher = Finisher(self.runs, self.stop)
        # Tables that ended before the setup committed: finished once it has.
        self.unverified: list[str] = []
        self.foreign_keys: list[ForeignKey] = []
        self.present_indexes: list[IndexDef] = []

    def _connect(self) -> psycopg.Connection[Any]:
        return connect(self.settings.target, self.settings.timeout)

    # failure handling ------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
            self.stop.set()
            self.cond.notify_all()

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Stop:
                pass
            except BaseException as exc:  # handed to the main thread, which raises it
                self._fail(exc)

        return run

    def _fault(self, stage: str, count: int) -> None:
        """The test hook: ``count`` is this process's number of batches at ``stage``."""
        if not self.settings.fault:
            return
        kind, _, wanted = self.settings.fault.partition(":")
        if kind == stage and wanted.isdigit() and count == int(wanted):
            os.kill(os.getpid(), signal.SIGKILL)

    # setup ---------------------------------------------------------------------------------
    def _setup_sql(self, cur: psycopg.Cursor[Any], *, drop_indexes: bool = True) -> None:
        """Runs inside the first batch's transaction: replacement, index drops, progress.

        Secondary (non-unique) indexes are dropped for the load and recorded in
        ``rune_copy_indexes`` in the same transaction; building one from sorted data at
        the end costs a fraction of maintaining it row by row. Primary keys stay, so a
        duplicate can never get in. A killed run leaves the records; whichever run
        completes the copy rebuilds every recorded index (``IF NOT EXISTS``).
        """
        cur.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        if self.plan.target_state == "replace":
            names = ", ".join(f'"{s.name}"' for s in TABLES)
            cur.execute(f"TRUNCATE {names}")
        record_and_drop(cur, self.present_indexes if drop_indexes else ())
        create_progress(cur, self.source.source_id, str(self.source.path))

    def _ensure_setup(self, conn: psycopg.Connection[Any]) -> None:
        """Commit the setup on its own: the source has no row to copy in this run."""
        with self.setup_lock:
            if self.setup_done:
                return
            with conn.transaction(), conn.cursor() as cur:
                self._setup_sql(cur, drop_indexes=False)  # no load follows: keep them
            self.setup_done = True

    # writer ----------------------------------------------------------------------------------
    def _writer(self, stream: Stream) -> None:
        conn = self._connect()
        try:
            use_fast_bytes(conn)
            conn.execute("SET synchronous_commit = off")
            if self.replica:
                conn.execute("SET session_replication_role = replica")
            while True:
                item = self.handoff.get(stream.items)
                if item is None:
                    return
                if isinstance(item, TableEnd):
                    self._table_finished(item.spec)
                    continue
                self._write(conn, item)
        finally:
            conn.close()

    def _write(self, conn: psycopg.Connection[Any], batch: Batch) -> None:
        import psycopg

        spec = batch.spec
        run = self.runs[spec.name]
        holding = False
        if not self.setup_done:
            self.setup_lock.acquire()
            holding = True
            if self.setup_done:
                self.setup_lock.release()
                holding = False
        try:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    if holding:
                        self._setup_sql(cur)
                    copy_rows(cur, spec, batch.rows)
                    if self.settings.fault:
                        with self.lock:
                            self.streamed += 1
                            streamed = self.streamed
                        self._fault("copy", streamed)
                    rows = run.start_rows + run.rows + len(batch.rows)
                    checksum = (run.start_checksum + run.checksum + batch.checksum) % MOD
                    record_batch(cur, spec.name, batch.last_key, rows, checksum)
            except psycopg.Error as exc:
                prepare = self._setup_sql if holding else None
                raise batch_error(
                    conn, spec, batch.rows, exc, self.settings.target, prepare
                ) from exc
            except (TypeError, ValueError, struct.error) as exc:
                problem = find_bad_row(spec, batch.rows)
                raise TransferError(
                    f"cannot copy {problem or spec.name + ': ' + type(exc).__name__}; "
                    "fix the source and run again"
                ) from exc
            if holding:
                with self.lock:
                    self.setup_done = True
                    for table, name, definition in self.present_indexes:
                        self.finisher.rebuild.setdefault(table, []).append((name, definition))
                    for name in self.unverified:
                        self.finisher.queue(name)
                    self.unverified.clear()
        finally:
            if holding:
                self.setup_lock.release()
        with self.lock:
            run.rows += len(batch.rows)
            run.checksum += batch.checksum
            self.commits += 1
            commits = self.commits
            copied = run.start_rows + run.rows
        self._fault("commit", commits)
        self.settings.reporter.progress(spec.name, copied, run.total)

    # finishing -------------------------------------------------------------------------------
    def _table_finished(self, spec: TableSpec) -> None:
        run = self.runs[spec.name]
        with self.lock:
            run.finished = True
            # A table may end (having no rows) before any batch committed the setup, which
            # with --force holds the TRUNCATE: its target checksum must wait for that commit,
            # and committing the setup early would lose the old rows before the first batch.
            if self.setup_done:
                self.finisher.queue(spec.name)
            else:
                self.unverified.append(spec.name)
        self.settings.reporter.table_done(
            spec.name,
            run.rows,
            run.total,
            run.start_rows,
            time.monotonic() - run.started if run.started else 0.0,
        )

    def _finish_tables(self, own_connection: bool) -> None:
        """Runs queued table work while other tables are still being copied."""
        conn = self._connect() if own_connection else self.conn
        try:
            self.finisher.work(conn)
        finally:
            if own_connection:
                conn.close()

    # orchestration ---------------------------------------------------------------------------
    def _read_indexes(self) -> None:
        """Secondary indexes present now, and those an interrupted copy left dropped."""
        present = read_secondary(self.conn)
        # A resumed copy already dropped (and recorded) them; it drops nothing more.
        if not self.setup_done:
            self.present_indexes = present
        if INDEX_TABLE in existing_tables(self.conn):
            for table, name, definition in read_recorded(self.conn):
                self.finisher.rebuild.setdefault(table, []).append((name, definition))

    def _phase(self, names: list[str]) -> None:
        """Copy ``names`` over up to ``writers`` connections; returns when all committed."""
        runs = [self.runs[n] for n in names]
        count = min(self.settings.writers, len(runs))
        if count == 0:
            return
        streams = assign(runs, names, count)
        feed = functools.partial(self.handoff.feed, streams, self.source, self.settings.batch_size)
        threads = [threading.Thread(target=self._guard(feed))]
        threads += [
            threading.Thread(target=self._guard(functools.partial(self._writer, stream)))
            for stream in streams
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException as exc:  # Ctrl-C: stop the threads before the caller closes
            self._fail(exc)
            for thread in threads:
                thread.join(10)
            raise
        if self.error is not None:
            raise self.error

    def _prepare(self) -> None:
        """Schema, foreign keys, indexes and trigger rights, before any row is written."""
        from rune.storage.pg_migrator import PgMigrator

        reporter = self.settings.reporter
        if not self.state.schema_exists:
            applied = PgMigrator().migrate(self.conn)
            reporter.message(f"created the RUNE schema ({len(applied)} migrations)")
        if self.plan.target_state == "resume":
            reporter.message(
                f"resuming an unfinished copy ({sum(r.start_rows for r in self.runs.values())} "
                "rows already copied)"
            )
        self.foreign_keys = read_foreign_keys(self.conn)
        self.finisher.pending_fks = list(self.foreign_keys)
        self._read_indexes()
        if self.present_indexes:
            reporter.message(
                f"secondary indexes: {len(self.present_indexes)} dropped for the load; "
                "each table's are rebuilt as soon as it is complete"
            )
        left = sum(len(v) for v in self.finisher.rebuild.values())
        if left:
            reporter.message(f"secondary indexes: {left} left dropped by an earlier run")
        self.replica = can_skip_triggers(self.conn)
        reporter.message(
            "foreign keys: checked once per table after the load (row triggers skipped)"
            if self.replica
            else "foreign keys: checked row by row (this role may not skip the triggers), "
            "parent tables first"
        )

    def run(self) -> tuple[tuple[TableCheck, ...], int]:
        """Copy, finish and verify every table; returns the checks and the rows copied."""
        import psycopg

        reporter = self.settings.reporter
        try:
            self._prepare()
        except psycopg.Error as exc:
            raise pg_error(exc, "preparing the target", self.settings.target) from exc
        finishers = [
            threading.Thread(
                target=self._guard(functools.partial(self._finish_tables, i > 0)), daemon=True
            )
            for i in range(_FINISHERS)
        ]
        for thread in finishers:
            thread.start()
        try:
            try:
                for names in copy_layers(self.foreign_keys, all_at_once=self.replica):
                    self._phase(names)
                reporter.message("all rows copied; finishing indexes and verification")
            finally:
                self.finisher.end(len(finishers))
                for thread in finishers:
                    while thread.is_alive():
                        thread.join(0.2)
            if self.error is not None:
                raise self.error
            if not self.setup_done:  # no batch at all: the setup commits on its own
                self._ensure_setup(self.conn)
                with self.lock:
                    late = [
                        task for name in self.unverified for task in self.finisher.tasks_for(name)
                    ]
                    self.unverified.clear()
                for task in late:
                    task(self.conn)
            with self.conn.transaction():
                self.conn.execute(
                    "SELECT setval(pg_get_serial_sequence('workflow_events', 'id'), "
                    "coalesce(max(id), 1), max(id) IS NOT NULL) FROM workflow_events"
                )
            checks = copy_checks(self.conn, self.runs.values())
            finish(self.conn, verified=all(c.ok for c in checks))
            copied = sum(r.rows for r in self.runs.values())
            return tuple(checks), copied
        except psycopg.Error as exc:
            raise pg_error(exc, "copying", self.settings.target) from exc
        except BaseException:
            self._fail(RuntimeError("stopped"))
            raise
