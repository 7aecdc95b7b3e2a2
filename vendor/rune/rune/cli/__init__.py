"""``rune`` command line: database operations (``rune db ...``, :mod:`rune.cli.db`) and the
job worker (``rune worker``, :mod:`rune.cli.worker`); ``python -m rune.api`` is
:mod:`rune.cli.api`.

The command line only parses arguments, calls the library and maps the outcome to an exit
code: 0 success, 1 the operation failed (the message says why; this includes file system
failures such as a read-only or missing folder, which name the path and the OS reason),
2 usage error, 130 interrupted.
Every line printed goes through :func:`rune.storage.urls.redact`, and URLs through
:func:`rune.storage.urls.mask_url`, so a database password never reaches the terminal or
a CI log; errors are reported as one line without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from rune import __version__
from rune.cli import db, worker
from rune.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Parser, say
from rune.storage.errors import StorageError
from rune.storage.urls import mask_url

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rune", description="RUNE command line.")
    parser.add_argument("--version", action="version", version=f"rune {__version__}")
    top = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    db.add_parser(top)
    worker.add_parser(top)
    return parser


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
            return db.run(args, out, err)
        if args.command == "worker":
            return worker.run(args, out, err)
    except StorageError as exc:
        say(err, f"rune: error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        say(err, "rune: interrupted")
        return EXIT_INTERRUPTED
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
        say(err, f"rune: error: {mask_url(where + (exc.strerror or str(exc)))}")
        return EXIT_FAILED
    except Exception as exc:  # last resort: one redacted line instead of a traceback
        say(err, f"rune: unexpected error: {type(exc).__name__}: {mask_url(str(exc))}")
        return EXIT_FAILED
    parser.print_usage(err)
    return EXIT_USAGE
