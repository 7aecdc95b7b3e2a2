"""``rune worker``: claim queued jobs and run them (:class:`rune.worker.Worker` does the work)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TextIO

from rune.cli.common import EXIT_OK, EXIT_USAGE, Subcommands, positive_int, positive_seconds, say
from rune.logredact import RedactingFilter
from rune.storage import make_storage
from rune.storage.port import DEFAULT_LEASE_SECONDS
from rune.storage.urls import mask_url, resolve_url
from rune.worker import (
    DEFAULT_HANDLER,
    DEFAULT_POLL_INTERVAL,
    LOG,
    MAX_WORKER_ID,
    HandlerSpecError,
    Worker,
    check_kinds,
    default_worker_id,
    load_handler,
    valid_worker_id,
)


def _kind_list(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",")]
    if not all(kinds):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of job kinds")
    return kinds


def add_parser(top: Subcommands) -> None:
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
        default=DEFAULT_HANDLER,
        help="function called with each job, returning the result dict "
        f"(default: {DEFAULT_HANDLER}, a smoke-test handler that echoes the payload)",
    )
    worker.add_argument(
        "--lease-seconds",
        metavar="S",
        type=positive_seconds,
        default=DEFAULT_LEASE_SECONDS,
        help="lease length; renewed every third of it while the job runs (default: "
        f"{DEFAULT_LEASE_SECONDS:g})",
    )
    worker.add_argument(
        "--poll-interval",
        metavar="S",
        type=positive_seconds,
        default=DEFAULT_POLL_INTERVAL,
        help=f"seconds to wait when the queue is empty (default: {DEFAULT_POLL_INTERVAL:g})",
    )
    worker.add_argument(
        "--kinds", metavar="K1,K2", type=_kind_list, help="only claim jobs of these kinds"
    )
    worker.add_argument(
        "--max-jobs", metavar="N", type=positive_int, help="exit after claiming N jobs"
    )
    worker.add_argument("--exit-when-idle", action="store_true", help="exit when no job is queued")
    worker.add_argument("-v", "--verbose", action="store_true", help="log one line per job")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        handler = load_handler(args.handler)
    except HandlerSpecError as exc:
        say(err, f"rune worker: error: {exc}")
        return EXIT_USAGE
    worker_id = args.worker_id if args.worker_id is not None else default_worker_id()
    if not valid_worker_id(worker_id):
        say(err, f"rune worker: error: --worker-id must be 1 to {MAX_WORKER_ID} characters")
        return EXIT_USAGE
    try:
        # Before the database is opened, like the checks above: the store would refuse an
        # over-long kind only at the first claim, as an "unexpected error".
        check_kinds(args.kinds)
    except ValueError as exc:
        say(err, f"rune worker: error: --kinds: {exc}")
        return EXIT_USAGE

    # On the root logger so library warnings are redacted too instead of reaching stderr
    # through logging's last-resort handler; the PostgreSQL pool's own per-attempt
    # connection warnings would repeat the one line the worker logs per outage.
    log_handler = logging.StreamHandler(err)
    log_handler.addFilter(RedactingFilter())
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
        say(err, f"rune worker {worker_id}: {stats.summary()}")
        return EXIT_OK
    finally:
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)  # type: ignore[arg-type]
        root.removeHandler(log_handler)
        root.setLevel(saved_levels[0])
        LOG.setLevel(saved_levels[1])
        pg_log.setLevel(saved_levels[2])
