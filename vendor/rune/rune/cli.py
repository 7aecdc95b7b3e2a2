"""``rune`` command line: database operations (``rune db ...``) and the job worker
(``rune worker``, see :mod:`rune.worker`).

Exit codes: 0 success, 1 the operation failed (the message says why; this includes file
system failures such as a read-only or missing folder, which name the path and the OS
reason), 2 usage error, 130 interrupted.
Every line printed goes through :func:`rune.storage.urls.redact`, and URLs through
:func:`rune.storage.urls.mask_url`, so a database password never reaches the terminal or
a CI log; errors are reported as one line without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from rune import __version__
from rune.storage import transfer
from rune.storage.errors import StorageError
from rune.storage.migrator import MigrationStatus, Migrator
from rune.storage.pgconn import ENV_CONNECT_TIMEOUT, connect_timeout_from_env
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
    timeout_help = (
        f"PostgreSQL only: keep retrying to connect for this long (default: "
        f"{ENV_CONNECT_TIMEOUT}, else 10)"
    )
    db.add_argument(
        "--connect-timeout", type=_positive_seconds, metavar="SECONDS", help=timeout_help
    )
    sub = db.add_subparsers(dest="action", required=True, parser_class=_Parser)
    leaves = {
        "status": sub.add_parser("status", help="backend, URL, applied and pending migrations"),
        "migrate": sub.add_parser("migrate", help="apply pending migrations"),
        "backup": sub.add_parser("backup", help="write a consistent, verified copy (SQLite)"),
        "restore": sub.add_parser("restore", help="replace the database with a backup (SQLite)"),
    }
    for leaf in leaves.values():
        leaf.add_argument("--db-url", default=argparse.SUPPRESS, help=url_help)
        leaf.add_argument(
            "--connect-timeout",
            type=_positive_seconds,
            metavar="SECONDS",
            default=argparse.SUPPRESS,
            help=timeout_help,
        )
    leaves["backup"].add_argument("dest", type=Path, help="backup file to write")
    leaves["backup"].add_argument("--force", action="store_true", help="replace DEST if it exists")
    leaves["restore"].add_argument("src", type=Path, help="backup file to restore from")
    _add_transfer_parser(sub, timeout_help)
    _add_worker_parser(top)
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


def _positive_seconds(text: str) -> float:
    """argparse type for durations: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _positive_int(text: str) -> int:
    """argparse type for counts and sizes: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _run_db_postgres(args: argparse.Namespace, target: PostgresTarget, out: TextIO) -> int:
    """``status``/``migrate`` on PostgreSQL; backups belong to PostgreSQL's own tools."""
    if args.action in ("backup", "restore"):
        raise StorageError(
            f"rune db {args.action} works on SQLite files only; back up PostgreSQL with "
            'pg_dump and restore it with pg_restore (see "Back up and restore PostgreSQL" '
            "in docs/operations/database.md)"
        )
    from rune.storage import pgconn

    timeout = getattr(args, "connect_timeout", None)
    if timeout is None:
        timeout = connect_timeout_from_env(os.environ)
    pgconn.require_psycopg()
    from rune.storage.pg_migrator import PgMigrator, unfinished_copy

    migrator = PgMigrator(log=lambda msg: _say(out, msg))
    with pgconn.connect(target, timeout=timeout, autocommit=True) as conn:
        _say(out, f"server: PostgreSQL {conn.info.server_version // 10000}")
        if args.action == "status":
            status = migrator.status(conn)
            unfinished = unfinished_copy(conn)
            if unfinished is not None:
                status = dataclasses.replace(status, problems=(*status.problems, unfinished))
            _print_status(out, status)
            return EXIT_FAILED if status.problems else EXIT_OK
        if args.action == "migrate":
            applied = migrator.migrate(conn)
            _say(out, f"migrations applied: {len(applied)}; schema is up to date")
            return EXIT_OK
    raise AssertionError(args.action)  # argparse guarantees one of the actions


def _run_db(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.action == "migrate-to-postgres":
        return _run_transfer(args, out, err)
    resolved = resolve_url(args.db_url)
    target = parse_url(resolved.url)
    if args.action in ("status", "migrate"):
        _say(out, f"backend: {target.backend}")
        _say(out, f"url: {mask_url(target.url)} (from {resolved.source})")
    if isinstance(target, PostgresTarget):
        return _run_db_postgres(args, target, out)
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


# rune db migrate-to-postgres ---------------------------------------------------------------
def _add_transfer_parser(sub: argparse._SubParsersAction[_Parser], timeout_help: str) -> None:
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
        type=_positive_int,
        default=transfer.DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows per COPY batch and commit (default: {transfer.DEFAULT_BATCH_SIZE})",
    )
    leaf.add_argument(
        "--force",
        action="store_true",
        help="replace RUNE rows already in the target (not needed to resume a copy)",
    )
    leaf.add_argument(
        "--connect-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        default=argparse.SUPPRESS,
        help=timeout_help,
    )


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
        _say(
            self.out,
            f"source: {plan.source} (schema version {plan.schema_version:04d}, read-only snapshot)",
        )
        _say(
            self.out,
            f"target: {plan.target} (PostgreSQL {plan.server_version // 10000}): {plan.summary}",
        )
        _say(self.out, f"{'table':<18}{'source rows':>12}{'target rows':>13}  action")
        for row in plan.tables:
            _say(
                self.out, f"{row.table:<18}{row.source_rows:>12}{row.target_rows:>13}  {row.action}"
            )

    def message(self, text: str) -> None:
        with self.lock:
            if self.tty and self.active:
                self.err.write("\r\x1b[K")
            _say(self.err, text)
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
            _say(self.err, f"{table}: {copied} rows copied in {seconds:.1f} s{rate}{before}")
            if self.tty and self.active:
                self._render()


def _run_transfer(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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
        rows = sum(t.source_rows - t.done_rows for t in result.plan.tables)
        _say(out, f"dry run: nothing was written; {rows} rows would be copied")
        return EXIT_OK
    _say(
        out,
        f"{'table':<18}{'source rows':>12}{'target rows':>13}  {'source checksum':<18}"
        f"{'target checksum':<18}result",
    )
    for check in result.checks:
        _say(
            out,
            f"{check.table:<18}{check.source_rows:>12}{check.target_rows:>13}  "
            f"{transfer.format_checksum(check.source_checksum):<18}"
            f"{transfer.format_checksum(check.target_checksum):<18}"
            f"{'ok' if check.ok else 'DIFF'}",
        )
    rate = result.copied_rows / result.seconds if result.seconds > 0 else 0.0
    _say(out, f"copied {result.copied_rows} rows in {result.seconds:.1f} s ({rate:.0f} rows/s)")
    if not result.ok:
        bad = ", ".join(c.table for c in result.checks if not c.ok)
        _say(
            err,
            f"rune: error: verification failed: {bad} differ between source and target; the "
            f"progress table {transfer.PROGRESS_TABLE} was kept. Check what else writes to "
            "the target, then run again with --force to copy from scratch",
        )
        return EXIT_FAILED
    _say(out, "verified: every table matches; point RUNE_DB_URL at the target and restart")
    return EXIT_OK


# rune worker -------------------------------------------------------------------------------
def _kind_list(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",")]
    if not all(kinds):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of job kinds")
    return kinds


def _add_worker_parser(top: argparse._SubParsersAction[_Parser]) -> None:
    worker = top.add_parser(
        "worker",
        help="run queued jobs",
        description=(
            "Claim queued jobs and run them with a handler until SIGTERM/SIGINT (the current "
            "job is finished first). Any number of workers may share one database; each job "
            "runs once. The database is chosen like `rune db`. Prints a summary line at exit. "
            "Exit codes: 0 stopped normally, 1 storage error, 2 usage error."
        ),
    )
    worker.add_argument(
        "--db-url",
        metavar="URL",
        help="database URL (default: RUNE_DB_URL, RUNE_API_DB_PATH, .rune-api/jobs.db)",
    )
    worker.add_argument(
        "--worker-id",
        metavar="ID",
        help="owner recorded on claimed jobs (default: <hostname>:<pid>:<4 hex>)",
    )
    worker.add_argument(
        "--handler",
        metavar="MOD:FUNC",
        default="rune.worker:echo",
        help="function called with each job, returning the result dict "
        "(default: rune.worker:echo, a smoke-test handler that echoes the payload)",
    )
    worker.add_argument(
        "--lease-seconds",
        metavar="S",
        type=_positive_seconds,
        default=60.0,
        help="lease length; renewed every third of it while the job runs (default: 60)",
    )
    worker.add_argument(
        "--poll-interval",
        metavar="S",
        type=_positive_seconds,
        default=0.5,
        help="seconds to wait when the queue is empty (default: 0.5)",
    )
    worker.add_argument(
        "--kinds", metavar="K1,K2", type=_kind_list, help="only claim jobs of these kinds"
    )
    worker.add_argument(
        "--max-jobs", metavar="N", type=_positive_int, help="exit after claiming N jobs"
    )
    worker.add_argument("--exit-when-idle", action="store_true", help="exit when no job is queued")
    worker.add_argument("-v", "--verbose", action="store_true", help="log one line per job")


def _default_worker_id() -> str:
    import os
    import secrets
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def _run_worker(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import logging
    import signal
    import threading

    from rune.storage import make_storage
    from rune.worker import LOG, HandlerSpecError, Worker, load_handler

    try:
        handler = load_handler(args.handler)
    except HandlerSpecError as exc:
        _say(err, f"rune worker: error: {exc}")
        return EXIT_USAGE
    worker_id = args.worker_id if args.worker_id is not None else _default_worker_id()
    if not worker_id.strip() or len(worker_id) > 256:
        _say(err, "rune worker: error: --worker-id must be 1 to 256 characters")
        return EXIT_USAGE

    class _Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = redact(record.getMessage())
            record.args = None
            return True

    # On the root logger so library warnings are redacted too instead of reaching stderr
    # through logging's last-resort handler; the PostgreSQL pool's own per-attempt
    # connection warnings would repeat the one line the worker logs per outage.
    log_handler = logging.StreamHandler(err)
    log_handler.addFilter(_Redact())
    log_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    root, pg_log = logging.getLogger(), logging.getLogger("psycopg")
    saved_levels = (root.level, LOG.level, pg_log.level)
    root.addHandler(log_handler)
    root.setLevel(logging.INFO if args.verbose else logging.WARNING)
    LOG.setLevel(logging.NOTSET)
    pg_log.setLevel(logging.WARNING if args.verbose else logging.ERROR)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C abandons the current job
        stop.set()

    previous: dict[signal.Signals, object] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        store = make_storage(args.db_url)
        try:
            LOG.info("%s: started on %s", worker_id, mask_url(resolve_url(args.db_url).url))
            stats = Worker(
                store,
                worker_id=worker_id,
                handler=handler,
                lease_seconds=args.lease_seconds,
                poll_interval=args.poll_interval,
                kinds=args.kinds,
            ).run(stop=stop, max_jobs=args.max_jobs, exit_when_idle=args.exit_when_idle)
        finally:
            store.close()
        _say(err, f"rune worker {worker_id}: {stats.summary()}")
        return EXIT_OK
    finally:
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)  # type: ignore[arg-type]
        root.removeHandler(log_handler)
        root.setLevel(saved_levels[0])
        LOG.setLevel(saved_levels[1])
        pg_log.setLevel(saved_levels[2])


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
        if args.command == "worker":
            return _run_worker(args, out, err)
    except StorageError as exc:
        _say(err, f"rune: error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _say(err, "rune: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`rune db status | head -1`): nothing to report to it, and
        # stdout must not be flushed again at exit, which would print a second error.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        # An OS failure no operation turned into a StorageError: still one line with the
        # path and the reason, not "unexpected error" and a class name.
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else ""
        _say(err, f"rune: error: {mask_url(where + (exc.strerror or str(exc)))}")
        return EXIT_FAILED
    except Exception as exc:  # last resort: one redacted line instead of a traceback
        _say(err, f"rune: unexpected error: {type(exc).__name__}: {mask_url(str(exc))}")
        return EXIT_FAILED
    parser.print_usage(err)
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
