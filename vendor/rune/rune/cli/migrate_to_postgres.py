"""``rune db migrate-to-postgres``: copy a SQLite database into PostgreSQL
(:mod:`rune.storage.transfer` does the work; this prints its plan, progress and checks)."""

from __future__ import annotations

import argparse
import threading
from typing import TextIO

from rune.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Subcommands,
    add_connect_timeout,
    positive_int,
    say,
)
from rune.storage import transfer
from rune.storage.errors import StorageError
from rune.storage.urls import redact


def add_parser(sub: Subcommands) -> None:
    leaf = sub.add_parser(
        "migrate-to-postgres",
        help="copy a SQLite database into PostgreSQL (verified, resumable)",
        description=(
            "Copy every RUNE table from a SQLite file (opened read-only, one consistent "
            "snapshot) into a PostgreSQL database with COPY, then compare row counts and "
            "checksums of every table. An empty target gets the schema; a target holding "
            "RUNE rows is refused unless --force. Interrupted? Run the same command again to "
            "resume. Exit codes: 0 copied and verified (or: dry run found no problem), "
            "1 a check failed, the copy failed or verification found a difference, "
            "2 usage error."
        ),
    )
    leaf.add_argument("--source", required=True, metavar="URL", help="sqlite:// URL to copy")
    leaf.add_argument("--target", required=True, metavar="URL", help="postgresql:// URL")
    leaf.add_argument(
        "--dry-run", action="store_true", help="check both sides, print the plan, write nothing"
    )
    leaf.add_argument(
        "--batch-size",
        type=positive_int,
        default=transfer.DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows per COPY batch and commit (default: {transfer.DEFAULT_BATCH_SIZE})",
    )
    leaf.add_argument(
        "--force",
        action="store_true",
        help="replace RUNE rows already in the target (not needed to resume a copy)",
    )
    add_connect_timeout(leaf)


class _TransferProgress(transfer.Reporter):
    """Progress on stderr: in place on a terminal, one line per finished table otherwise."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.tty = err.isatty()
        self.lock = threading.Lock()
        self.active: dict[str, tuple[int, int]] = {}

    def _render(self) -> None:
        line = "  ".join(f"{t} {c}/{n}" for t, (c, n) in self.active.items())
        self.err.write("\r\x1b[K" + redact(line))
        self.err.flush()

    def plan(self, plan: transfer.Plan) -> None:
        say(
            self.out,
            f"source: {plan.source} (schema version {plan.schema_version:04d}, read-only snapshot)",
        )
        say(
            self.out,
            f"target: {plan.target} (PostgreSQL {plan.server_version // 10000}): {plan.summary}",
        )
        say(self.out, f"{'table':<18}{'source rows':>12}{'target rows':>13}  action")
        for row in plan.tables:
            say(
                self.out, f"{row.table:<18}{row.source_rows:>12}{row.target_rows:>13}  {row.action}"
            )

    def message(self, text: str) -> None:
        with self.lock:
            if self.tty and self.active:
                self.err.write("\r\x1b[K")
            say(self.err, text)
            if self.tty and self.active:
                self._render()

    def progress(self, table: str, copied: int, total: int) -> None:
        if not self.tty:
            return
        with self.lock:
            self.active[table] = (copied, total)
            self._render()

    def table_done(self, table: str, copied: int, total: int, resumed: int, seconds: float) -> None:
        with self.lock:
            self.active.pop(table, None)
            if self.tty:
                self.err.write("\r\x1b[K")
            rate = f", {copied / seconds:.0f} rows/s" if copied and seconds > 0 else ""
            before = f", {resumed} were already there" if resumed else ""
            say(self.err, f"{table}: {copied} rows copied in {seconds:.1f} s{rate}{before}")
            if self.tty and self.active:
                self._render()


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = transfer.migrate_to_postgres(
        args.source,
        args.target,
        batch_size=args.batch_size,
        dry_run=args.dry_run,
        force=args.force,
        connect_timeout=getattr(args, "connect_timeout", None),
        reporter=_TransferProgress(out, err),
    )
    if args.dry_run:
        if result.plan.refusal is not None:
            raise StorageError(result.plan.refusal)
        say(out, f"dry run: nothing was written; {result.plan.rows_to_copy} rows would be copied")
        return EXIT_OK
    say(
        out,
        f"{'table':<18}{'source rows':>12}{'target rows':>13}  {'source checksum':<18}"
        f"{'target checksum':<18}result",
    )
    for check in result.checks:
        say(
            out,
            f"{check.table:<18}{check.source_rows:>12}{check.target_rows:>13}  "
            f"{transfer.format_checksum(check.source_checksum):<18}"
            f"{transfer.format_checksum(check.target_checksum):<18}"
            f"{'ok' if check.ok else 'DIFF'}",
        )
    rate = result.copied_rows / result.seconds if result.seconds > 0 else 0.0
    say(out, f"copied {result.copied_rows} rows in {result.seconds:.1f} s ({rate:.0f} rows/s)")
    if not result.ok:
        bad = ", ".join(c.table for c in result.checks if not c.ok)
        say(
            err,
            f"rune: error: verification failed: {bad} differ between source and target; the "
            f"progress table {transfer.PROGRESS_TABLE} was kept. Check what else writes to "
            "the target, then run again with --force to copy from scratch",
        )
        return EXIT_FAILED
    say(out, "verified: every table matches; point RUNE_DB_URL at the target and restart")
    return EXIT_OK
