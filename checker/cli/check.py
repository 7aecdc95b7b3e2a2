"""``rune-policy check``: judge inputs against the policy and write one report.

The command reads arguments, loads the policy and the VEX register through
the library, runs :func:`checker.gate.check`, writes the report the
registry (:mod:`checker.report`) makes for ``--format``, and maps the result
to an exit code: 3 if an input could not be read, else 1 on violations.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker.adr_folder import adr_folder
from checker.cli.arguments import (
    DEFAULT_VEX,
    judging_options,
    policy_from,
    reads_environment,
    today_option,
)
from checker.cli.command import Command, exit_code
from checker.cli.console import error, say, warn
from checker.report import DEFAULT_FORMAT, FORMATS, format_names

if TYPE_CHECKING:
    from checker.cli.command import Subparsers
    from checker.policy import Policy
    from checker.vex.loader import VexSet


def _format_help() -> str:
    """``--format``'s help, from the registry: each name with what it is for."""
    parts = []
    for entry in FORMATS:
        notes = ("default" if entry.name == DEFAULT_FORMAT else "", entry.summary)
        parts.append(f"{entry.name} ({', '.join(n for n in notes if n)})")
    return ", ".join(parts)


def add_parser(sub: Subparsers) -> None:
    check = sub.add_parser(
        "check",
        help="check SBOMs, lockfiles and deployment artifacts against the policy",
        description="Check SBOMs (CycloneDX JSON/XML, SPDX JSON/tag-value, pip-licenses "
        "JSON), lockfiles (requirements.txt, poetry.lock, uv.lock, Pipfile.lock, pylock.toml, "
        "package-lock.json) and deployment artifacts (Helm charts, Chart.lock, packaged "
        "charts, values.yaml, Kubernetes manifests, Dockerfiles, compose files) against the "
        "policy. A directory is walked for all of these.",
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    judging_options(check)
    check.add_argument(
        "--format", choices=format_names(), default=DEFAULT_FORMAT, help=_format_help()
    )
    check.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the report to FILE (atomically) instead of stdout",
    )
    check.add_argument(
        "--vex",
        type=Path,
        action="append",
        default=None,
        metavar="PATH",
        help="VEX register folder or file, or OpenVEX JSON document (repeatable; default: "
        "./vex when it exists)",
    )
    check.add_argument("--no-vex", action="store_true", help="do not read any VEX register")
    today_option(check)


def run(args: argparse.Namespace) -> int:
    from checker.cli.evidence import run_evidence
    from checker.errors import UsageError
    from checker.gate import check
    from checker.inputs import display_path
    from checker.output import write_atomic
    from checker.report import ReportOptions, reporter

    if not args.paths and not reads_environment(args):
        raise UsageError("nothing to check: give SBOM paths and/or --env (or --python PATH)")
    if args.no_vex and args.vex:
        raise UsageError("--vex and --no-vex contradict each other")
    policy = policy_from(args)
    today = args.today or date.today()
    vex = _register(args, policy, today)
    evidence_file = run_evidence(args, policy)
    result = check(
        args.paths,
        policy,
        env=reads_environment(args),
        max_bytes=args.max_input_size,
        vex=vex,
        today=today,
        evidence_file=evidence_file,
        python=args.python,
    )
    rendered = reporter(args.format).render(result, ReportOptions())
    if args.output is not None:
        write_atomic(args.output, rendered)
        say(f"report written to {display_path(args.output)} ({result.verdict})")
    else:
        sys.stdout.write(rendered)
    if args.verbose:
        if vex is not None:
            say(f"vex: read {vex.describe()}")
        for read in result.inputs:
            say(f"read {read.path} as {read.format}")
        for path, reason in result.skipped:
            say(f"skipped {path}: {reason}")
    for unreadable in result.input_errors:
        error(unreadable.problem)
    return exit_code(unreadable=bool(result.input_errors), failed=bool(result.errors))


def _register(args: argparse.Namespace, policy: Policy, today: date) -> VexSet | None:
    """The register ``check`` honours: ``--vex``, else ./vex when it exists; never raises late."""
    if args.no_vex:
        return None
    paths: list[Path] = list(args.vex or [])
    if not paths:
        if not DEFAULT_VEX.is_dir():
            return None
        paths = [DEFAULT_VEX]
    from checker.vex.loader import load_vex, raise_for_problems

    adr_dir = adr_folder(policy.directory, args.adr)
    vex = load_vex(paths, adr_ids=set(policy.adr_files), today=today, adr_dir=str(adr_dir))
    for warning in vex.warnings:
        warn(warning)
    raise_for_problems(vex, expired_too=False)
    for entry in vex.register.vulnerabilities:
        if entry.expired(today):
            warn(
                f"{entry.where}: {entry.id} expired on {entry.expires}; "
                "exports leave it out (renew or remove it)"
            )
    return vex


COMMAND = Command("check", add_parser, run)
