"""The ``rune-policy`` command line: parse arguments, call the library, map exit codes.

Exit codes: 0 pass, 1 policy violations, 2 usage or policy error, 3 an input
could not be read. Reports go to stdout or ``--output``; diagnostics to
stderr; no traceback unless ``--debug``.

``check`` and ``explain`` judge inputs; ``vex validate|list|add|export``
look after the VEX register (:mod:`checker.vex`). ``--today YYYY-MM-DD``
(hidden) fixes the date exceptions are judged on, for tests.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker import __version__
from checker.errors import (
    EXIT_INPUT,
    EXIT_PASS,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    CheckerError,
    UsageError,
)
from checker.inputs import DEFAULT_MAX_BYTES, display_path
from checker.model import Severity
from checker.output import write_atomic
from checker.policy import Policy, adr_index, load_policy

if TYPE_CHECKING:
    from checker.results import RunResult
    from checker.vex.loader import VexSet

#: The register folder ``check`` reads when it exists and ``--vex`` is not given.
DEFAULT_VEX = Path("vex")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
#: Largest --max-input-size: past this the limit would not protect anything.
MAX_SIZE_LIMIT = 1024**4


def _size(text: str) -> int:
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


def _day(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a calendar date ({exc})") from None


def _today_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--today", type=_day, default=None, help=argparse.SUPPRESS)


def _vex_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vex = sub.add_parser(
        "vex",
        help="validate, list, add to and export the VEX register",
        description="The VEX register (vex/*.yaml): license and vulnerability exceptions, "
        "each with an approver, a reference (ADR-NNNN or an issue URL), a created and an "
        "expiry date.",
    )
    commands = vex.add_subparsers(dest="vex_command", metavar="VEX_COMMAND")

    def register_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--vex",
            type=Path,
            action="append",
            default=None,
            metavar="PATH",
            help="register folder or file, or OpenVEX JSON document (repeatable; default: ./vex)",
        )
        p.add_argument(
            "--adr",
            type=Path,
            default=None,
            metavar="DIR",
            help="ADR directory references resolve in (default: the register folder's "
            "sibling adr/)",
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
        _today_option(p)

    validate = commands.add_parser(
        "validate",
        help="check the register: schema, OpenVEX rules, references, expiry, overlaps",
        description="Report every problem of the register with file and line: exit 2 on "
        "errors (an expired entry is one), 0 otherwise; entries expiring within 30 days "
        "are warnings.",
    )
    register_options(validate)
    listing = commands.add_parser("list", help="show the entries with the days they have left")
    register_options(listing)
    export = commands.add_parser(
        "export",
        help="write the vulnerability entries as OpenVEX 0.2.0 or a CycloneDX VEX BOM",
        description="Write the current vulnerability entries for scanners (Trivy, Grype). "
        "License exceptions cannot be expressed in VEX and are left out (noted on stderr).",
    )
    register_options(export)
    export.add_argument("--format", choices=("openvex", "cyclonedx"), required=True)
    export.add_argument(
        "--output", type=Path, default=None, metavar="FILE", help="write to FILE (atomically)"
    )
    export.add_argument(
        "--author",
        default="RUNE VEX register",
        metavar="NAME",
        help="the OpenVEX document author (default: %(default)s)",
    )
    add = commands.add_parser(
        "add",
        help="append a validated entry to a register file",
        description="Append one entry, validated like the rest of the register, to the end "
        "of the file without touching the rest of it. The id and created date are generated.",
    )
    add.add_argument("--kind", choices=("license", "vulnerability"), required=True)
    add.add_argument(
        "--file",
        type=Path,
        default=DEFAULT_VEX / "register.yaml",
        metavar="FILE",
        help="the register file to append to (default: %(default)s)",
    )
    add.add_argument("--component", metavar="PURL", help="license: the component's purl")
    add.add_argument("--image", metavar="REF@sha256:DIGEST", help="license: an image, by digest")
    add.add_argument("--versions", metavar="RANGE", help="a version range such as '>=1.4,<2'")
    add.add_argument(
        "--license", metavar="EXPR", help="license: the SPDX expression or rule id it waives"
    )
    add.add_argument("--reason", metavar="TEXT", help="license: why it is acceptable")
    add.add_argument("--vulnerability", metavar="ID", help="vulnerability: e.g. CVE-2024-3094")
    add.add_argument(
        "--alias", action="append", default=[], metavar="ID", help="vulnerability: other ids"
    )
    add.add_argument(
        "--product", action="append", default=[], metavar="PURL", help="vulnerability: a product"
    )
    add.add_argument(
        "--status",
        metavar="STATUS",
        help="vulnerability: not_affected, affected, fixed or under_investigation",
    )
    add.add_argument("--justification", metavar="J", help="vulnerability: OpenVEX justification")
    add.add_argument("--impact", metavar="TEXT", help="vulnerability: impact statement")
    add.add_argument("--action", metavar="TEXT", help="vulnerability: action statement")
    add.add_argument("--cvss", type=float, metavar="N", help="vulnerability: CVSS base score")
    add.add_argument(
        "--response",
        action="append",
        default=[],
        metavar="R",
        help="vulnerability: CycloneDX response (can_not_fix, will_not_fix, update, ...)",
    )
    add.add_argument("--patch-sla", metavar="YYYY-MM-DD", help="vulnerability: fix due date")
    add.add_argument("--approver", required=True, metavar="NAME")
    add.add_argument("--ref", required=True, metavar="REF", help="ADR-NNNN or an issue URL")
    add.add_argument("--expires", required=True, metavar="YYYY-MM-DD")
    add.add_argument(
        "--adr",
        type=Path,
        default=None,
        metavar="DIR",
        help="ADR directory references resolve in (default: the register folder's sibling adr/)",
    )
    add.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    _today_option(add)


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
    check.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        default="text",
        help="text (default), json (the report contract), sarif (code scanning), "
        "junit (CI test UIs), markdown (step summary or PR comment)",
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
    _today_option(check)

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
    _vex_parser(sub)
    return parser


def _policy(args: argparse.Namespace) -> Policy:
    directory = args.policy if args.policy is not None else Path("policy")
    if args.policy is None and not directory.is_dir():
        raise UsageError("no ./policy directory here; give one with --policy DIR")
    return load_policy(directory, args.adr)


REPORT_FORMATS = ("text", "json", "sarif", "junit", "markdown")


def _render(fmt: str, result: RunResult) -> str:
    """The report in one of :data:`REPORT_FORMATS`; each writer owns its format."""
    from checker.report import json as json_report
    from checker.report import junit, markdown, sarif
    from checker.report import text as text_report

    if fmt == "json":
        return json_report.render(result)
    if fmt == "sarif":
        return sarif.render(result)
    if fmt == "junit":
        return junit.render(result)
    if fmt == "markdown":
        return markdown.render(result, today=result.today)
    return text_report.render(result)


def _check(args: argparse.Namespace) -> int:
    from checker.gate import check

    if not args.paths and not args.env:
        raise UsageError("nothing to check: give SBOM paths and/or --env")
    if args.no_vex and args.vex:
        raise UsageError("--vex and --no-vex contradict each other")
    policy = _policy(args)
    today = args.today or date.today()
    vex = _check_vex(args, policy, today)
    result = check(
        args.paths, policy, env=args.env, max_bytes=args.max_input_size, vex=vex, today=today
    )
    rendered = _render(args.format, result)
    if args.output is not None:
        write_atomic(args.output, rendered)
        shown = display_path(args.output)
        print(f"rune-policy: report written to {shown} ({result.verdict})", file=sys.stderr)
    else:
        sys.stdout.write(rendered)
    if args.verbose:
        if vex is not None:
            print(f"rune-policy: vex: read {vex.describe()}", file=sys.stderr)
        for read in result.inputs:
            print(f"rune-policy: read {read.path} as {read.format}", file=sys.stderr)
        for path, reason in result.skipped:
            print(f"rune-policy: skipped {path}: {reason}", file=sys.stderr)
    for error in result.input_errors:
        print(f"rune-policy: error: {error.problem}", file=sys.stderr)
    if result.input_errors:
        return EXIT_INPUT
    return EXIT_VIOLATIONS if result.errors else EXIT_PASS


def _check_vex(args: argparse.Namespace, policy: Policy, today: date) -> VexSet | None:
    """The register ``check`` honours: ``--vex``, else ./vex when it exists; never raises late."""
    from checker.vex.loader import load_vex, raise_for_problems

    if args.no_vex:
        return None
    paths: list[Path] = list(args.vex or [])
    if not paths:
        if not DEFAULT_VEX.is_dir():
            return None
        paths = [DEFAULT_VEX]
    adr_dir = args.adr if args.adr is not None else policy.directory.parent / "adr"
    vex = load_vex(paths, adr_ids=set(policy.adr_files), today=today, adr_dir=str(adr_dir))
    for warning in vex.warnings:
        print(f"rune-policy: warning: {warning}", file=sys.stderr)
    raise_for_problems(vex, expired_too=False)
    for entry in vex.register.vulnerabilities:
        if entry.expired(today):
            print(
                f"rune-policy: warning: {entry.where}: {entry.id} expired on {entry.expires}; "
                "exports leave it out (renew or remove it)",
                file=sys.stderr,
            )
    return vex


def _vex_paths(args: argparse.Namespace) -> list[Path]:
    if args.vex:
        return list(args.vex)
    if DEFAULT_VEX.is_dir():
        return [DEFAULT_VEX]
    raise UsageError("no ./vex folder here; give the register with --vex PATH")


def _adr_dir(args: argparse.Namespace, register: Path) -> Path:
    """--adr, else the register folder's sibling adr/ (vex/ and adr/ side by side)."""
    if args.adr is not None:
        return Path(args.adr)
    folder = register if register.is_dir() else register.parent
    return folder.parent / "adr"


def _load_register(args: argparse.Namespace, today: date) -> VexSet:
    from checker.vex.loader import load_vex

    paths = _vex_paths(args)
    adr_dir = _adr_dir(args, paths[0])
    adrs = adr_index(adr_dir)
    vex = load_vex(paths, adr_ids=set(adrs), today=today, adr_dir=str(adr_dir))
    for warning in vex.warnings:
        print(f"rune-policy: warning: {warning}", file=sys.stderr)
    return vex


def _vex_validate(args: argparse.Namespace, today: date) -> int:
    from checker.vex.loader import raise_for_problems

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=True)
    count = len(vex.warnings)
    warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
    print(f"rune-policy: {', '.join(vex.sources)}: {vex.describe()}: valid{warned}")
    return EXIT_PASS


def _vex_list(args: argparse.Namespace, today: date) -> int:
    from checker.vex.listing import render_list
    from checker.vex.loader import raise_for_problems

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=False)
    sys.stdout.write(render_list(vex, today))
    return EXIT_PASS


def _vex_export(args: argparse.Namespace, today: date) -> int:
    from checker.vex.cyclonedx import export_cyclonedx
    from checker.vex.loader import raise_for_problems
    from checker.vex.openvex import export_openvex
    from checker.vex.register import export_selection

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=False)
    name = "OpenVEX" if args.format == "openvex" else "CycloneDX VEX"
    entries, notes = export_selection(vex.register, today, format_name=name)
    if vex.documents:
        notes.append(
            f"{len(vex.documents)} OpenVEX document(s) read with --vex are not re-exported: "
            "the export states the register's own entries"
        )
    if args.format == "openvex":
        exported = export_openvex(entries, author=args.author, notes=notes)
    else:
        exported = export_cyclonedx(entries, notes=notes)
    for note in exported.notes:
        print(f"rune-policy: note: {note}", file=sys.stderr)
    if exported.refused is not None:
        raise UsageError(exported.refused)
    if args.output is not None:
        write_atomic(args.output, exported.text)
        print(f"rune-policy: {name} written to {display_path(args.output)}", file=sys.stderr)
    else:
        sys.stdout.write(exported.text)
    return EXIT_PASS


_LICENSE_ONLY = ("component", "image", "license", "reason")
_VULNERABILITY_ONLY = (
    "vulnerability",
    "alias",
    "product",
    "status",
    "justification",
    "impact",
    "action",
    "cvss",
    "response",
    "patch_sla",
)


def _vex_add(args: argparse.Namespace, today: date) -> int:
    from checker.vex.edit import add_entry, license_fields, vulnerability_fields
    from checker.vex.listing import days_text

    def given(name: str) -> bool:
        value = getattr(args, name)
        return bool(value) if isinstance(value, list) else value is not None

    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    other = _VULNERABILITY_ONLY if args.kind == "license" else _LICENSE_ONLY
    misplaced = [flag(n) for n in other if given(n)]
    if misplaced:
        raise UsageError(f"{', '.join(misplaced)} do(es) not go with --kind {args.kind}")
    if args.kind == "license":
        missing = [flag(n) for n in ("license", "reason") if not given(n)]
        if not given("component") and not given("image"):
            missing.insert(0, "--component (or --image)")
        if missing:
            raise UsageError(f"--kind license needs {', '.join(missing)}")
        if given("component") and given("image"):
            raise UsageError("give --component or --image, not both")
        fields = license_fields(
            component=args.component,
            image=args.image,
            versions=args.versions,
            license=args.license,
            reason=args.reason,
        )
    else:
        missing = [flag(n) for n in ("vulnerability", "product", "status") if not given(n)]
        if missing:
            raise UsageError(f"--kind vulnerability needs {', '.join(missing)}")
        fields = vulnerability_fields(
            vulnerability=args.vulnerability,
            aliases=args.alias,
            products=args.product,
            versions=args.versions,
            status=args.status,
            justification=args.justification,
            impact=args.impact,
            action=args.action,
            cvss=args.cvss,
            response=args.response,
            patch_sla=args.patch_sla,
        )
    path: Path = args.file
    adr_dir = _adr_dir(args, path)
    added = add_entry(
        path,
        fields,
        approver=args.approver,
        reference=args.ref,
        expires=args.expires,
        adr_ids=set(adr_index(adr_dir)),
        today=today,
        adr_dir=str(adr_dir),
    )
    for warning in added.warnings:
        print(f"rune-policy: warning: {warning}", file=sys.stderr)
    left = (date.fromisoformat(args.expires.strip()) - today).days
    shown = display_path(path)
    print(f"added {added.id} to {shown} (expires {args.expires.strip()}, {days_text(left)})")
    return EXIT_PASS


def _vex(args: argparse.Namespace) -> int:
    today = getattr(args, "today", None) or date.today()
    command = args.vex_command
    if command == "validate":
        return _vex_validate(args, today)
    if command == "list":
        return _vex_list(args, today)
    if command == "export":
        return _vex_export(args, today)
    if command == "add":
        return _vex_add(args, today)
    raise UsageError("give a VEX_COMMAND: validate, list, add or export (see vex --help)")


def _explain(args: argparse.Namespace) -> int:
    from checker import evidence
    from checker.evaluation import Evaluator
    from checker.gate import read_all
    from checker.report.text import render_trace
    from checker.search import find_components

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
    evaluator = Evaluator(policy, evidence.for_run(results))
    failed = False
    for component in matches:
        trace = evaluator.trace(component)
        sys.stdout.write(render_trace(trace))
        failed = failed or any(f.severity is Severity.ERROR for f in trace.findings)
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
        if args.command == "vex":
            return _vex(args)
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
