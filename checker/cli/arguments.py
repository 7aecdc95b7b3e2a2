"""Arguments several subcommands share: their types, their defaults, the policy they name.

Argument types turn text into values or an ``argparse`` usage error (exit 2)
before any command runs, so a bad ``--max-input-size`` or ``--today`` never
reaches the library. This module is imported to build the parser, also for
``--help``: it imports nothing heavy, and the policy loader only when asked.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.policy import Policy

#: The policy directory commands read when ``--policy`` is not given.
DEFAULT_POLICY = Path("policy")
#: The register folder ``check`` reads when it exists and ``--vex`` is not given.
DEFAULT_VEX = Path("vex")
#: Largest --max-input-size: past this the limit would not protect anything.
MAX_SIZE_LIMIT = 1024**4
#: The default --max-input-size, as the user would write it; parsed by
#: :func:`size` into :data:`checker.inputs.DEFAULT_MAX_BYTES` (a test holds them equal).
DEFAULT_SIZE = "256M"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def size(text: str) -> int:
    """A byte count like ``256M``, ``1.5G`` or ``4096``: finite, positive, at most 1T."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size like 256M (a number of bytes, optionally with K, M, G or T)"
        )
    number, unit = match.groups()
    value = int(float(number) * _UNITS[unit.lower()])
    if value <= 0:
        raise argparse.ArgumentTypeError("the size must be positive")
    if value > MAX_SIZE_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r} is over the largest limit, 1T")
    return value


def day(text: str) -> date:
    """A calendar date written ``YYYY-MM-DD`` (``--today``)."""
    if not _DAY.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a calendar date ({exc})") from None


def today_option(p: argparse.ArgumentParser) -> None:
    """``--today YYYY-MM-DD`` (hidden): the date exceptions are judged on, for tests."""
    p.add_argument("--today", type=day, default=None, help=argparse.SUPPRESS)


def debug_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def adr_option(p: argparse.ArgumentParser, *, what: str, beside: str) -> None:
    """``--adr DIR``: the ADR folder ``what`` resolves in, by default the one beside ``beside``.

    The default itself is :func:`checker.adr_folder.adr_folder`, applied
    when the command runs.
    """
    p.add_argument(
        "--adr",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"ADR directory {what} (default: the {beside} sibling adr/)",
    )


def register_adr_option(p: argparse.ArgumentParser) -> None:
    """``--adr`` for commands on the VEX register: references resolve beside the register."""
    adr_option(p, what="references resolve in", beside="register folder's")


def judging_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that judge inputs against the policy (check, explain)."""
    p.add_argument(
        "--policy",
        type=Path,
        default=None,
        metavar="DIR",
        help="policy directory with dependencies.yaml and licenses.yaml (default: ./policy)",
    )
    adr_option(p, what="the policy refers to", beside="policy directory's")
    p.add_argument(
        "--evidence",
        type=Path,
        default=None,
        metavar="FILE",
        help="registry license evidence written by 'evidence resolve', read offline "
        "(default: evidence.json in the policy directory, when it exists)",
    )
    p.add_argument(
        "--no-evidence",
        action="store_true",
        help="read no evidence file, not even the policy directory's",
    )
    p.add_argument(
        "--env",
        action="store_true",
        help="also check the installed Python environment running the gate (or --python's)",
    )
    p.add_argument(
        "--python",
        type=Path,
        default=None,
        metavar="PATH",
        help="check the installed distributions of this Python interpreter instead, such as "
        "a project's .venv/bin/python (nothing is installed into it); implies --env",
    )
    p.add_argument(
        "--max-input-size",
        type=size,
        default=DEFAULT_SIZE,
        metavar="SIZE",
        help=f"refuse inputs larger than this (default: {DEFAULT_SIZE})",
    )
    debug_option(p)
    p.add_argument(
        "--verbose",
        action="store_true",
        help="list on stderr every file read and every file a directory scan skipped",
    )


def reads_environment(args: argparse.Namespace) -> bool:
    """Whether a judging command reads an installed environment: ``--env``, or
    ``--python``, which names the interpreter whose environment to read."""
    return bool(args.env or args.python is not None)


def policy_from(args: argparse.Namespace) -> Policy:
    """The policy ``--policy`` names, else ./policy; a missing default is a usage error."""
    from checker.errors import UsageError
    from checker.policy import load_policy

    directory = args.policy if args.policy is not None else DEFAULT_POLICY
    if args.policy is None and not directory.is_dir():
        raise UsageError("no ./policy directory here; give one with --policy DIR")
    return load_policy(directory, args.adr)
