"""``python -m rune.api``: the command line of the job API (:mod:`rune.api` serves).

Exit codes: 0 stopped by SIGTERM or Ctrl-C, 1 the API could not start (the log line
says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from rune.api import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT,
    ENV_TOKENS,
    LOG,
    build_server,
    open_store,
    parse_tokens,
    recover_at_start,
)
from rune.cli.common import EXIT_FAILED, EXIT_OK, positive_int, positive_seconds
from rune.logredact import RedactingFilter
from rune.storage.errors import StorageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rune.api",
        description=(
            "RUNE job API. Database: --db-url, else RUNE_DB_URL, else RUNE_API_DB_PATH, else "
            ".rune-api/jobs.db. Tokens: RUNE_API_TOKENS=token1:tenantA,token2:tenantB. "
            "At start the schema is migrated and running jobs whose worker lease has "
            "expired are marked failed; queued jobs stay queued for `rune worker`."
        ),
    )
    parser.add_argument("--host", default=os.environ.get("RUNE_API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RUNE_API_PORT", "8080")))
    parser.add_argument("--db-url", help="database URL (overrides the environment)")
    parser.add_argument(
        "--request-timeout",
        type=positive_seconds,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="drop a connection that stays silent this long (default: %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=positive_int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="connections served at once; more get 503 (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    try:
        tokens = parse_tokens(os.environ.get(ENV_TOKENS, ""))
        store = open_store(args.db_url)
    except StorageError as exc:
        LOG.error("cannot start: %s", exc)
        return EXIT_FAILED
    try:
        recover_at_start(store)
        server = build_server(
            store,
            tokens,
            args.host,
            args.port,
            timeout=args.request_timeout,
            max_connections=args.max_connections,
        )
    except (StorageError, OSError) as exc:
        LOG.error("cannot start: %s", exc)
        store.close()
        return EXIT_FAILED

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    LOG.info("listening on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return EXIT_OK
