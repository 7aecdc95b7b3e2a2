"""``rune`` command line: database operations (``rune db ...``).

Exit codes: 0 success, 1 the operation failed (the message says why), 2 usage error.
Every line printed goes through :func:`rune.storage.urls.redact`, and URLs through
:func:`rune.storage.urls.mask_url`, so a database password never reaches the terminal or
a CI log; errors are reported as one line without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from rune import __version__
from rune.storage import postgres_unavailable
from rune.storage.errors import StorageError
from rune.storage.migrator import MigrationStatus, Migrator
from rune.storage.urls import PostgresTarget, SqliteTarget, mask_url, parse_url, redact, resolve_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _say(stream: TextIO, text: str) -> None:
    stream.write(redact(text) + "\n")
    stream.flush()


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; this makes sure the message is redacted."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        _say(sys.stderr, f"{self.prog}: error: {message}")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rune", description="RUNE command line.")
    parser.add_argument("--version", action="version", version=f"rune {__version__}")
    top = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    db = top.add_parser(
        "db",
        help="database operations",
        description=(
            "Database operations. The database is chosen by --db-url, else RUNE_DB_URL, "
            "else RUNE_API_DB_PATH, else .rune-api/jobs.db. Exit codes: 0 success, "
            "1 operation failed, 2 usage error."
        ),
    )
    url_help = "database URL (default: RUNE_DB_URL, RUNE_API_DB_PATH, .rune-api/jobs.db)"
    db.add_argument("--db-url", help=url_help)
    sub = db.add_subparsers(dest="action", required=True, parser_class=_Parser)
    leaves = {
        "status": sub.add_parser("status", help="backend, URL, applied and pending migrations"),
        "migrate": sub.add_parser("migrate", help="apply pending migrations"),
        "backup": sub.add_parser("backup", help="write a consistent, verified copy (SQLite)"),
        "restore": sub.add_parser("restore", help="replace the database with a backup (SQLite)"),
    }
    for leaf in leaves.values():
        leaf.add_argument("--db-url", default=argparse.SUPPRESS, help=url_help)
    leaves["backup"].add_argument("dest", type=Path, help="backup file to write")
    leaves["backup"].add_argument("--force", action="store_true", help="replace DEST if it exists")
    leaves["restore"].add_argument("src", type=Path, help="backup file to restore from")
    return parser


def _print_status(out: TextIO, status: MigrationStatus) -> None:
    if not status.exists:
        _say(out, "database: does not exist yet (it is created on first use or `rune db migrate`)")
    if status.legacy_bootstrap:
        versions = ", ".join(f"{v:04d}" for v in status.legacy_bootstrap)
        _say(out, f"legacy database: migrate will record {versions} as already applied")
    _say(out, f"applied: {len(status.applied)}")
    for row in status.applied:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.applied_at))
        _say(out, f"  {row.version:04d} {row.name} ({row.source} {when})")
    _say(out, f"pending: {len(status.pending)}")
    for mig in status.pending:
        _say(out, f"  {mig.filename}")
    for problem in status.problems:
        _say(out, f"problem: {problem}")


def _run_db(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    resolved = resolve_url(args.db_url)
    target = parse_url(resolved.url)
    if args.action in ("status", "migrate"):
        _say(out, f"backend: {target.backend}")
        _say(out, f"url: {mask_url(target.url)} (from {resolved.source})")
    if isinstance(target, PostgresTarget):
        raise postgres_unavailable(target)
    assert isinstance(target, SqliteTarget)
    from rune.storage import maintenance
    from rune.storage.sqlite import SQLiteStorage

    if args.action == "status":
        if target.path is not None:
            _say(out, f"path: {target.path}")
        status = maintenance.status(target.path)
        _print_status(out, status)
        return EXIT_FAILED if status.problems else EXIT_OK
    if args.action == "migrate":
        if target.path is None:
            _say(err, "rune: note: an in-memory database disappears when this command exits")
        applied: list[str] = []

        def log(msg: str) -> None:
            _say(out, msg)
            if msg.startswith("applied "):
                applied.append(msg)

        SQLiteStorage(target.path, log=log).close()
        _say(out, f"migrations applied: {len(applied)}; schema is up to date")
        return EXIT_OK
    if target.path is None:
        raise StorageError(f"{args.action} needs a database file, not an in-memory database")
    if args.action == "backup":
        result = maintenance.backup(target.path, args.dest, force=args.force)
        _say(
            out,
            f"backup written: {result.path} ({result.size_bytes} bytes, schema version "
            f"{result.schema_version:04d}, integrity ok)",
        )
        return EXIT_OK
    if args.action == "restore":
        known = max((m.version for m in Migrator().migrations), default=0)
        result = maintenance.restore(args.src, target.path, max_known_version=known)
        _say(
            out,
            f"restored {args.src} to {result.path} (schema version {result.schema_version:04d}, "
            "integrity ok)",
        )
        if result.schema_version < known:
            _say(out, "the restored database is older than this code; run `rune db migrate`")
        return EXIT_OK
    raise AssertionError(args.action)  # argparse guarantees one of the actions


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Entry point of the ``rune`` console script; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    try:
        if args.command == "db":
            return _run_db(args, out, err)
    except StorageError as exc:
        _say(err, f"rune: error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _say(err, "rune: interrupted")
        return 130
    except Exception as exc:  # last resort: one redacted line instead of a traceback
        _say(err, f"rune: unexpected error: {type(exc).__name__}: {mask_url(str(exc))}")
        return EXIT_FAILED
    parser.print_usage(err)
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
