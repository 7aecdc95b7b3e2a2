"""What every ``rune`` subcommand shares: exit codes, redacted output, argument types.

Every line printed goes through :func:`rune.storage.urls.redact`, so a database password
never reaches the terminal or a CI log.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, TextIO, TypeAlias

from rune.storage.pgconn import ENV_CONNECT_TIMEOUT
from rune.storage.urls import redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def say(stream: TextIO, text: str) -> None:
    stream.write(redact(text) + "\n")
    stream.flush()


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; this makes sure the message is redacted."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        say(sys.stderr, f"{self.prog}: error: {message}")
        raise SystemExit(EXIT_USAGE)


Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def positive_seconds(text: str) -> float:
    """argparse type for durations: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def positive_int(text: str) -> int:
    """argparse type for counts and sizes: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def add_connect_timeout(
    parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS
) -> None:
    """``--connect-timeout``; SUPPRESS (on a subcommand) keeps the parent's value."""
    parser.add_argument(
        "--connect-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=default,
        help=(
            f"PostgreSQL only: keep retrying to connect for this long (default: "
            f"{ENV_CONNECT_TIMEOUT}, else 10)"
        ),
    )
