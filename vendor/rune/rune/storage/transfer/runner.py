"""One run of ``rune db migrate-to-postgres`` (or of a stand-alone verification).

This is where the command's arguments are checked and both sides are opened and closed;
what happens in between is delegated: :mod:`.plan` decides, :mod:`.copier` writes,
:mod:`.verification` compares. Arguments are checked before anything is opened, so a bad
URL or batch size never touches either database.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.errors import ConfigurationError
from rune.storage.migrator import Migrator
from rune.storage.pgconn import connect_timeout_from_env, require_psycopg
from rune.storage.transfer.copier import ENV_FAULT, WRITERS, Copier, CopySettings
from rune.storage.transfer.errors import TransferError, one_line_errors
from rune.storage.transfer.plan import Plan, make_plan
from rune.storage.transfer.reporter import Reporter
from rune.storage.transfer.source import DEFAULT_BATCH_SIZE, Source
from rune.storage.transfer.target import TargetState, connect
from rune.storage.transfer.verification import TableCheck, verify_tables
from rune.storage.urls import PostgresTarget, SqliteTarget, mask_url, parse_url

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class TransferResult:
    """What a run returns: the plan and, unless it was a dry run, every table's check."""

    plan: Plan
    checks: tuple[TableCheck, ...] = ()
    copied_rows: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        if self.dry_run:
            return self.plan.refusal is None
        return bool(self.checks) and all(c.ok for c in self.checks)


class Transfer:
    """One run of the copy; :func:`migrate_to_postgres` is the entry point."""

    def __init__(
        self,
        source_url: str,
        target_url: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        force: bool = False,
        env: Mapping[str, str] | None = None,
        connect_timeout: float | None = None,
        reporter: Reporter | None = None,
        writers: int = WRITERS,
    ) -> None:
        self.environ = os.environ if env is None else env
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(
                f"the batch size must be a whole number >= 1, got {batch_size!r}"
            )
        self.batch_size = batch_size
        self.force = force
        self.writers = max(1, writers)
        self.reporter = reporter or Reporter()
        source = parse_url(source_url, self.environ)
        if not isinstance(source, SqliteTarget):
            raise ConfigurationError(
                f"--source must be a sqlite:// URL (the database to copy), got "
                f"{mask_url(source_url)}"
            )
        target = parse_url(target_url, self.environ)
        if not isinstance(target, PostgresTarget):
            raise ConfigurationError(
                f"--target must be a postgresql:// URL, got {mask_url(target_url)}"
            )
        require_psycopg()
        self.source_target = source
        self.source_shown = mask_url(source_url)
        self.target = target
        self.timeout = (
            connect_timeout
            if connect_timeout is not None
            else connect_timeout_from_env(self.environ)
        )
        self.fault = self.environ.get(ENV_FAULT, "")

    @contextlib.contextmanager
    def _open(self) -> Iterator[tuple[Source, psycopg.Connection[Any]]]:
        """The checked source snapshot and a target connection; both closed on exit."""
        source = Source(self.source_target, self.source_shown)
        try:
            source.check(Migrator())
            conn = connect(self.target, self.timeout)
            try:
                yield source, conn
            finally:
                conn.close()
        finally:
            source.close()

    def plan(self, conn: psycopg.Connection[Any], source: Source) -> tuple[Plan, TargetState]:
        """Check both sides (read-only) and decide what to do with the target."""
        return make_plan(conn, source, self.target, force=self.force, timeout=self.timeout)

    def run(self, *, dry_run: bool = False) -> TransferResult:
        started = time.monotonic()
        with self._open() as (source, conn):
            plan, state = self.plan(conn, source)
            self.reporter.plan(plan)
            if dry_run:
                return TransferResult(plan, dry_run=True)
            if plan.refusal is not None:
                raise TransferError(plan.refusal)
            settings = CopySettings(
                target=self.target,
                timeout=self.timeout,
                batch_size=self.batch_size,
                writers=self.writers,
                reporter=self.reporter,
                fault=self.fault,
            )
            checks, copied = Copier(settings, conn, source, plan, state).run()
            return TransferResult(plan, checks, copied, time.monotonic() - started, dry_run=False)

    def verify(self) -> tuple[TableCheck, ...]:
        """Compare the whole source snapshot with the target, writing nothing."""
        with (
            self._open() as (source, conn),
            one_line_errors(source.path, self.target, "verifying the target"),
        ):
            return verify_tables(conn, source)


def migrate_to_postgres(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    reporter: Reporter | None = None,
) -> TransferResult:
    """Copy ``source_url`` (sqlite://) into ``target_url`` (postgresql://) and verify it.

    Raises :class:`StorageError` (one line) when a check fails or the copy cannot go on;
    returns the result, whose ``ok`` is False when verification found a difference.
    """
    transfer = Transfer(
        source_url,
        target_url,
        batch_size=batch_size,
        force=force,
        env=env,
        connect_timeout=connect_timeout,
        reporter=reporter,
    )
    return transfer.run(dry_run=dry_run)


def verify(
    source_url: str,
    target_url: str,
    *,
    env: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
) -> tuple[TableCheck, ...]:
    """Compare a source snapshot with the target table by table (writes nothing)."""
    return Transfer(source_url, target_url, env=env, connect_timeout=connect_timeout).verify()
