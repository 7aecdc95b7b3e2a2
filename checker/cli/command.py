"""What a subcommand is to the parser assembly, and how a run becomes an exit code.

Each subcommand module offers one :class:`Command`: its name, a function
that adds its arguments to the parser, and the function that runs it. The
parser is built from these for every invocation, ``--help`` included, so a
subcommand module imports only what declaring its arguments needs; what
running it needs is imported inside ``run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


class Command(NamedTuple):
    """One ``rune-policy`` subcommand."""

    name: str
    add_parser: Callable[[Subparsers], None]
    run: Callable[[argparse.Namespace], int]


def exit_code(*, unreadable: bool, failed: bool) -> int:
    """The documented exit code of a judging run (:mod:`checker.errors`).

    An unreadable input (3) outranks violations (1): the run did not see
    everything, so its verdict is incomplete whatever it found.
    """
    from checker.errors import EXIT_INPUT, EXIT_PASS, EXIT_VIOLATIONS

    if unreadable:
        return EXIT_INPUT
    return EXIT_VIOLATIONS if failed else EXIT_PASS
