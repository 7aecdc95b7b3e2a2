"""``rune-policy vex validate|list|add|export``: look after the VEX register.

Each subcommand loads the register through :mod:`checker.vex` and prints
what it found; the rules for what makes an entry (which ``vex add`` options
go together) are the register's, in :mod:`checker.vex.flags`. Problems in
the register are a policy error (exit 2), listed with file and line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker.adr_folder import adr_folder
from checker.cli.arguments import DEFAULT_VEX, debug_option, register_adr_option, today_option
from checker.cli.command import Command
from checker.cli.console import say, warn
from checker.vex.flags import ADD_OPTIONS, ExportFormat, add_problem
from checker.vex.vocabulary import EntryKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from checker.cli.command import Subparsers
    from checker.vex.loader import VexSet


def _register_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--vex",
        type=Path,
        action="append",
        default=None,
        metavar="PATH",
        help="register folder or file, or OpenVEX JSON document (repeatable; default: ./vex)",
    )
    register_adr_option(p)
    debug_option(p)
    today_option(p)


def add_parser(sub: Subparsers) -> None:
    vex = sub.add_parser(
        "vex",
        help="validate, list, add to and export the VEX register",
        description="The VEX register (vex/*.yaml): license and vulnerability exceptions, "
        "each with an approver, a reference (ADR-NNNN or an issue URL), a created and an "
        "expiry date.",
    )
    commands = vex.add_subparsers(dest="vex_command", metavar="VEX_COMMAND")
    validate = commands.add_parser(
        "validate",
        help="check the register: schema, OpenVEX rules, references, expiry, overlaps",
        description="Report every problem of the register with file and line: exit 2 on "
        "errors (an expired entry is one), 0 otherwise; entries expiring within 30 days "
        "are warnings.",
    )
    _register_options(validate)
    listing = commands.add_parser("list", help="show the entries with the days they have left")
    _register_options(listing)
    _export_parser(commands)
    _add_parser(commands)


def _export_parser(commands: Subparsers) -> None:
    export = commands.add_parser(
        "export",
        help="write the vulnerability entries as OpenVEX 0.2.0 or a CycloneDX VEX BOM",
        description="Write the current vulnerability entries for scanners (Trivy, Grype). "
        "License exceptions cannot be expressed in VEX and are left out (noted on stderr).",
    )
    _register_options(export)
    export.add_argument("--format", choices=[f.value for f in ExportFormat], required=True)
    export.add_argument(
        "--output", type=Path, default=None, metavar="FILE", help="write to FILE (atomically)"
    )
    export.add_argument(
        "--author",
        default="RUNE VEX register",
        metavar="NAME",
        help="the OpenVEX document author (default: %(default)s)",
    )


def _add_parser(commands: Subparsers) -> None:
    add = commands.add_parser(
        "add",
        help="append a validated entry to a register file",
        description="Append one entry, validated like the rest of the register, to the end "
        "of the file without touching the rest of it. The id and created date are generated.",
    )
    add.add_argument("--kind", choices=[k.value for k in EntryKind], required=True)
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
    register_adr_option(add)
    debug_option(add)
    today_option(add)


def _vex_paths(args: argparse.Namespace) -> list[Path]:
    from checker.errors import UsageError

    if args.vex:
        return list(args.vex)
    if DEFAULT_VEX.is_dir():
        return [DEFAULT_VEX]
    raise UsageError("no ./vex folder here; give the register with --vex PATH")


def _adr_dir(args: argparse.Namespace, register: Path) -> Path:
    """--adr, else the ADR folder beside the register's folder (a file's parent)."""
    return adr_folder(register if register.is_dir() else register.parent, args.adr)


def _load_register(args: argparse.Namespace, today: date) -> VexSet:
    from checker.policy import adr_index
    from checker.vex.loader import load_vex

    paths = _vex_paths(args)
    adr_dir = _adr_dir(args, paths[0])
    vex = load_vex(paths, adr_ids=set(adr_index(adr_dir)), today=today, adr_dir=str(adr_dir))
    for warning in vex.warnings:
        warn(warning)
    return vex


def _validate(args: argparse.Namespace, today: date) -> int:
    from checker.errors import EXIT_PASS
    from checker.vex.loader import raise_for_problems

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=True)
    count = len(vex.warnings)
    warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
    print(f"rune-policy: {', '.join(vex.sources)}: {vex.describe()}: valid{warned}")
    return EXIT_PASS


def _list(args: argparse.Namespace, today: date) -> int:
    from checker.errors import EXIT_PASS
    from checker.vex.listing import render_list
    from checker.vex.loader import raise_for_problems

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=False)
    sys.stdout.write(render_list(vex, today))
    return EXIT_PASS


def _export(args: argparse.Namespace, today: date) -> int:
    from checker.errors import EXIT_PASS, UsageError
    from checker.inputs import display_path
    from checker.output import write_atomic
    from checker.vex.loader import raise_for_problems
    from checker.vex.register import export_selection

    vex = _load_register(args, today)
    raise_for_problems(vex, expired_too=False)
    fmt = ExportFormat(args.format)
    entries, notes = export_selection(vex.register, today, format_name=fmt.display_name)
    if vex.documents:
        notes.append(
            f"{len(vex.documents)} OpenVEX document(s) read with --vex are not re-exported: "
            "the export states the register's own entries"
        )
    if fmt is ExportFormat.OPENVEX:
        from checker.vex.openvex import export_openvex

        exported = export_openvex(entries, author=args.author, notes=notes)
    else:
        from checker.vex.cyclonedx import export_cyclonedx

        exported = export_cyclonedx(entries, notes=notes)
    for note in exported.notes:
        say(f"note: {note}")
    if exported.refused is not None:
        raise UsageError(exported.refused)
    if args.output is not None:
        write_atomic(args.output, exported.text)
        say(f"{fmt.display_name} written to {display_path(args.output)}")
    else:
        sys.stdout.write(exported.text)
    return EXIT_PASS


def _given(value: object) -> bool:
    """An option counts as given when set: a repeatable one when it holds a value."""
    return bool(value) if isinstance(value, list) else value is not None


def _add(args: argparse.Namespace, today: date) -> int:
    from checker.errors import EXIT_PASS, UsageError
    from checker.inputs import display_path
    from checker.policy import adr_index
    from checker.vex.edit import add_entry, license_fields, vulnerability_fields
    from checker.vex.listing import days_text

    kind = EntryKind(args.kind)
    problem = add_problem(kind, {name for name in ADD_OPTIONS if _given(getattr(args, name))})
    if problem is not None:
        raise UsageError(problem)
    if kind is EntryKind.LICENSE:
        fields = license_fields(
            component=args.component,
            image=args.image,
            versions=args.versions,
            license=args.license,
            reason=args.reason,
        )
    else:
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
        warn(warning)
    left = (date.fromisoformat(args.expires.strip()) - today).days
    shown = display_path(path)
    print(f"added {added.id} to {shown} (expires {args.expires.strip()}, {days_text(left)})")
    return EXIT_PASS


_SUBCOMMANDS: dict[str, Callable[[argparse.Namespace, date], int]] = {
    "validate": _validate,
    "list": _list,
    "export": _export,
    "add": _add,
}


def run(args: argparse.Namespace) -> int:
    from checker.errors import UsageError

    today = getattr(args, "today", None) or date.today()
    handler = _SUBCOMMANDS.get(args.vex_command) if args.vex_command else None
    if handler is None:
        raise UsageError("give a VEX_COMMAND: validate, list, add or export (see vex --help)")
    return handler(args, today)


COMMAND = Command("vex", add_parser, run)
