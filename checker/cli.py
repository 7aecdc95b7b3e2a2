"""The ``rune-policy`` command line: parse arguments, call the library, map exit codes.

Exit codes: 0 pass, 1 policy violations, 2 usage or policy error, 3 an input
could not be read. Reports go to stdout or ``--output``; diagnostics to
stderr; no traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from checker import __version__
from checker.errors import (
    EXIT_INPUT,
    EXIT_PASS,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    CheckerError,
    UsageError,
)
from checker.inputs import DEFAULT_MAX_BYTES
from checker.output import write_atomic
from checker.policy import Policy, load_policy


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    raw = text.strip().lower().removesuffix("b") or "0"
    factor = units.get(raw[-1], 1)
    number = raw[:-1] if raw[-1] in units else raw
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 256M") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the size must be positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rune-policy",
        description="Supply-chain policy gate for the RUNE platform's PostgreSQL stack.",
        epilog="Exit codes: 0 pass, 1 policy violations, 2 usage or policy error, "
        "3 an input could not be read.",
    )
    parser.add_argument("--version", action="version", version=f"rune-policy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--policy",
            type=Path,
            default=None,
            metavar="DIR",
            help="policy directory with dependencies.yaml and licenses.yaml (default: ./policy)",
        )
        p.add_argument(
            "--adr",
            type=Path,
            default=None,
            metavar="DIR",
            help="ADR directory the policy refers to (default: the policy "
            "directory's sibling adr/)",
        )
        p.add_argument(
            "--env",
            action="store_true",
            help="also check the installed Python environment running the gate",
        )
        p.add_argument(
            "--max-input-size",
            type=_size,
            default=DEFAULT_MAX_BYTES,
            metavar="SIZE",
            help="refuse inputs larger than this (default: 256M)",
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
        p.add_argument(
            "--verbose",
            action="store_true",
            help="list on stderr every file read and every file a directory scan skipped",
        )

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
    common(check)
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the report to FILE (atomically) instead of stdout",
    )

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
    common(explain)
    return parser


def _policy(args: argparse.Namespace) -> Policy:
    directory = args.policy if args.policy is not None else Path("policy")
    if args.policy is None and not directory.is_dir():
        raise UsageError("no ./policy directory here; give one with --policy DIR")
    return load_policy(directory, args.adr)


def _check(args: argparse.Namespace) -> int:
    from checker.gate import check
    from checker.report import json as json_report
    from checker.report import text as text_report

    if not args.paths and not args.env:
        raise UsageError("nothing to check: give SBOM paths and/or --env")
    policy = _policy(args)
    result = check(args.paths, policy, env=args.env, max_bytes=args.max_input_size)
    rendered = json_report.render(result) if args.format == "json" else text_report.render(result)
    if args.output is not None:
        write_atomic(args.output, rendered)
        print(f"rune-policy: report written to {args.output} ({result.verdict})", file=sys.stderr)
    else:
        sys.stdout.write(rendered)
    if args.verbose:
        for read in result.inputs:
            print(f"rune-policy: read {read.path} as {read.format}", file=sys.stderr)
        for path, reason in result.skipped:
            print(f"rune-policy: skipped {path}: {reason}", file=sys.stderr)
    for error in result.input_errors:
        print(f"rune-policy: error: {error.problem}", file=sys.stderr)
    if result.input_errors:
        return EXIT_INPUT
    return EXIT_VIOLATIONS if result.errors else EXIT_PASS


def _explain(args: argparse.Namespace) -> int:
    from checker.gate import Evaluator, find_components, read_all
    from checker.report.text import render_trace

    if not args.paths and not args.env:
        raise UsageError("give the SBOM paths to look in, and/or --env")
    policy = _policy(args)
    inputs = read_all(args.paths, env=args.env, max_bytes=args.max_input_size)
    results, errors = inputs.results, inputs.errors
    for error in errors:
        print(f"rune-policy: error: {error.problem}", file=sys.stderr)
    matches = find_components(results, args.component)
    if not matches:
        print(
            f"rune-policy: no component matching {args.component!r} in the inputs "
            "(try a name, name@version, purl or image reference)",
            file=sys.stderr,
        )
        return EXIT_INPUT if errors else EXIT_USAGE
    evaluator = Evaluator(policy)
    failed = False
    for component in matches:
        trace = evaluator.trace(component)
        sys.stdout.write(render_trace(trace))
        failed = failed or any(f.severity.value == "error" for f in trace.findings)
    if errors:
        return EXIT_INPUT
    return EXIT_VIOLATIONS if failed else EXIT_PASS


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "check":
            return _check(args)
        return _explain(args)
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
            traceback.print_exc()
        else:
            print(
                f"rune-policy: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for details and report it)",
                file=sys.stderr,
            )
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
