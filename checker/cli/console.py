"""What commands tell the user on stderr, each line prefixed ``rune-policy:``.

Reports go to stdout (or ``--output``) and diagnostics here, so a report can
be piped; one prefix makes the diagnostics easy to find in a CI log.
"""

from __future__ import annotations

import sys

PROG = "rune-policy"


def say(message: str) -> None:
    """One diagnostic line on stderr."""
    print(f"{PROG}: {message}", file=sys.stderr)


def warn(warning: object) -> None:
    say(f"warning: {warning}")


def error(problem: object) -> None:
    say(f"error: {problem}")
