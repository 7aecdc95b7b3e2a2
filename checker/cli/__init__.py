"""The ``rune-policy`` command line: parse arguments, call the library, map exit codes.

Exit codes (:mod:`checker.errors`): 0 pass, 1 policy violations, 2 usage or
policy error, 3 an input could not be read. Reports go to stdout or
``--output``; diagnostics to stderr; no traceback unless ``--debug``.

One module per subcommand: :mod:`~checker.cli.check` and
:mod:`~checker.cli.explain` judge inputs; :mod:`~checker.cli.vex`
(``validate|list|add|export``) looks after the VEX register. This module
assembles their parsers and runs the one asked for. ``--today YYYY-MM-DD``
(hidden) fixes the date exceptions are judged on, for tests.

Start-up is part of the interface (a pre-commit hook runs the gate on every
commit), so building the parser imports no reader, register or report
writer: each command imports what it uses when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from checker import __version__
from checker.cli import check, evidence, explain, vex
from checker.cli.command import Command

#: The subcommands, in the order ``--help`` lists them.
COMMANDS: tuple[Command, ...] = (check.COMMAND, explain.COMMAND, evidence.COMMAND, vex.COMMAND)

__all__ = ["COMMANDS", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The whole ``rune-policy`` parser (the docs' CLI reference is walked from it)."""
    parser = argparse.ArgumentParser(
        prog="rune-policy",
        description="Supply-chain policy gate for the RUNE platform's PostgreSQL stack.",
        epilog="Exit codes: 0 pass, 1 policy violations, 2 usage or policy error, "
        "3 an input could not be read.",
    )
    parser.add_argument("--version", action="version", version=f"rune-policy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rune-policy`` with ``argv``; the exit code is returned, never raised.

    Argument errors exit 2 from :mod:`argparse`; a :class:`CheckerError`
    exits with its own code and message; anything else is an internal
    error, shown in one line (exit 2) unless ``--debug`` asks for the traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    from checker.errors import EXIT_PASS, EXIT_USAGE, CheckerError

    runs = {c.name: c.run for c in COMMANDS}
    if args.command not in runs:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return runs[args.command](args)
    except CheckerError as exc:
        print(f"rune-policy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rune-policy: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_PASS
    except Exception as exc:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        else:
            print(
                f"rune-policy: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for details and report it)",
                file=sys.stderr,
            )
        return EXIT_USAGE
