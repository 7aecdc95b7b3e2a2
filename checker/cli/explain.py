"""``rune-policy explain``: the whole decision for the components matching a query.

Reads the inputs as ``check`` does, finds the components the query names
(:func:`checker.search.find_components`), and prints the trace of each
release they belong to as ``check`` judges it (:mod:`checker.identity`:
one release in several inputs is shown once, with its other places)
(:func:`checker.report.text.render_trace`). Exit codes as ``check``; a
query that matches nothing is a usage error (2), or 3 when an input could
not be read, since the component may be in it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from checker.cli.arguments import judging_options, policy_from, reads_environment
from checker.cli.command import Command, exit_code
from checker.cli.console import error, say

if TYPE_CHECKING:
    from collections.abc import Sequence

    from checker.cli.command import Subparsers
    from checker.identity import Group
    from checker.model import Component, ReadResult


def add_parser(sub: Subparsers) -> None:
    explain = sub.add_parser(
        "explain",
        help="show the full decision trace for one component",
        description="Print every license string found for COMPONENT, each "
        "normalization step, the parsed expression, which rule decided "
        "each part, and the verdict.",
    )
    explain.add_argument(
        "component", metavar="COMPONENT", help="name, name@version, purl or image reference"
    )
    explain.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    judging_options(explain)


def run(args: argparse.Namespace) -> int:
    from checker import evidence
    from checker.cli.evidence import run_evidence
    from checker.errors import EXIT_INPUT, EXIT_USAGE, UsageError
    from checker.evaluation import Evaluator
    from checker.gate import read_all
    from checker.model import Severity
    from checker.report.text import render_trace
    from checker.search import find_components

    if not args.paths and not reads_environment(args):
        raise UsageError("give the SBOM paths to look in, and/or --env (or --python PATH)")
    policy = policy_from(args)
    inputs = read_all(
        args.paths, env=reads_environment(args), max_bytes=args.max_input_size, python=args.python
    )
    results, errors = inputs.results, inputs.errors
    for problem in errors:
        error(problem.problem)
    matches = find_components(results, args.component)
    if not matches:
        say(
            f"no component matching {args.component!r} in the inputs "
            "(try a name, name@version, purl or image reference)"
        )
        return EXIT_INPUT if errors else EXIT_USAGE
    chain = evidence.for_run(results, run_evidence(args, policy), policy.knowledge)
    evaluator = Evaluator(policy, chain)
    failed = False
    for same, judged in _releases(results, matches):
        for component in judged:
            trace = evaluator.trace(component)
            sys.stdout.write(render_trace(trace))
            elsewhere = same.elsewhere(component)
            if elsewhere:
                sys.stdout.write(
                    "  the same release, judged here once, also appears in:\n"
                    + "".join(f"    {origin}\n" for origin in elsewhere)
                )
            failed = failed or any(f.severity is Severity.ERROR for f in trace.findings)
    return exit_code(unreadable=bool(errors), failed=failed)


def _releases(
    results: Sequence[ReadResult], matches: Sequence[Component]
) -> list[tuple[Group, list[Component]]]:
    """The matched components as ``check`` judges them: one release, one verdict.

    A release found in a lock, an SBOM and the environment is shown once, on
    the member ``check`` judges (and each member whose statements differ),
    with the other places listed, so ``explain`` and ``check`` never disagree.
    """
    from checker import identity

    wanted = {id(c) for c in matches}
    chosen: list[tuple[Group, list[Component]]] = []
    for same in identity.group(results):
        if any(id(c) in wanted for _, c in same.members):
            chosen.append((same, same.judged))
    return chosen


COMMAND = Command("explain", add_parser, run)
