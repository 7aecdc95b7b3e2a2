"""``rune db status|migrate|backup|restore`` (and the ``migrate-to-postgres`` leaf)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TextIO

from rune.cli import migrate_to_postgres
from rune.cli.common import EXIT_FAILED, EXIT_OK, Parser, Subcommands, add_connect_timeout, say
from rune.storage import admin, maintenance
from rune.storage.migrator import MigrationStatus
from rune.storage.urls import PostgresTarget, mask_url, parse_url, resolve_url

URL_HELP = "database URL (default: RUNE_DB_URL, RUNE_API_DB_PATH, .rune-api/jobs.db)"


def add_parser(top: Subcommands) -> None:
    db = top.add_parser(
        "db",
        help="database operations",
        description=(
            "Database operations. The database is chosen by --db-url, else RUNE_DB_URL, "
            "else RUNE_API_DB_PATH, else .rune-api/jobs.db. Exit codes: 0 success, "
            "1 operation failed, 2 usage error."
        ),
    )
    db.add_argument("--db-url", help=URL_HELP)
    add_connect_timeout(db, default=None)
    sub = db.add_subparsers(dest="action", required=True, parser_class=Parser)
    leaves = {
        "status": sub.add_parser("status", help="backend, URL, applied and pending migrations"),
        "migrate": sub.add_parser("migrate", help="apply pending migrations"),
        "backup": sub.add_parser("backup", help="write a consistent, verified copy (SQLite)"),
        "restore": sub.add_parser("restore", help="replace the database with a backup (SQLite)"),
    }
    for leaf in leaves.values():
        leaf.add_argument("--db-url", default=argparse.SUPPRESS, help=URL_HELP)
        add_connect_timeout(leaf)
    leaves["backup"].add_argument("dest", type=Path, help="backup file to write")
    leaves["backup"].add_argument("--force", action="store_true", help="replace DEST if it exists")
    leaves["restore"].add_argument("src", type=Path, help="backup file to restore from")
    migrate_to_postgres.add_parser(sub)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.action == "migrate-to-postgres":
        return migrate_to_postgres.run(args, out, err)
    resolved = resolve_url(args.db_url)
    target = parse_url(resolved.url)
    if args.action == "backup":
        copy = admin.backup(target, args.dest, force=args.force)
        say(
            out,
            f"backup written: {copy.path} ({copy.size_bytes} bytes, schema version "
            f"{copy.schema_version:04d}, integrity ok)",
        )
        return EXIT_OK
    if args.action == "restore":
        restored = admin.restore(target, args.src)
        say(
            out,
            f"restored {args.src} to {restored.copy.path} (schema version "
            f"{restored.copy.schema_version:04d}, integrity ok)",
        )
        if restored.needs_migrate:
            say(out, "the restored database is older than this code; run `rune db migrate`")
        return EXIT_OK
    say(out, f"backend: {target.backend}")
    say(out, f"url: {mask_url(target.url)} (from {resolved.source})")
    if isinstance(target, PostgresTarget):
        return _run_postgres(args, target, out)
    if args.action == "status":
        if target.path is not None:
            say(out, f"path: {target.path}")
        return _report_status(out, maintenance.status(target.path))
    if target.path is None:
        say(err, "rune: note: an in-memory database disappears when this command exits")
    applied = admin.migrate_sqlite(target.path, lambda msg: say(out, msg))
    say(out, f"migrations applied: {len(applied)}; schema is up to date")
    return EXIT_OK


def _run_postgres(args: argparse.Namespace, target: PostgresTarget, out: TextIO) -> int:
    with admin.open_postgres(
        target,
        connect_timeout=getattr(args, "connect_timeout", None),
        log=lambda msg: say(out, msg),
    ) as database:
        say(out, f"server: PostgreSQL {database.server_major}")
        if args.action == "status":
            return _report_status(out, database.status())
        applied = database.migrate()
        say(out, f"migrations applied: {len(applied)}; schema is up to date")
        return EXIT_OK


def _report_status(out: TextIO, status: MigrationStatus) -> int:
    """Print ``status``; a database with problems exits 1."""
    if not status.exists:
        say(out, "database: does not exist yet (it is created on first use or `rune db migrate`)")
    if status.legacy_bootstrap:
        versions = ", ".join(f"{v:04d}" for v in status.legacy_bootstrap)
        say(out, f"legacy database: migrate will record {versions} as already applied")
    say(out, f"applied: {len(status.applied)}")
    for row in status.applied:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.applied_at))
        say(out, f"  {row.version:04d} {row.name} ({row.source} {when})")
    say(out, f"pending: {len(status.pending)}")
    for mig in status.pending:
        say(out, f"  {mig.filename}")
    for problem in status.problems:
        say(out, f"problem: {problem}")
    return EXIT_FAILED if status.problems else EXIT_OK
