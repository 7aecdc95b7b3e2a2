"""``rune-policy evidence resolve|show``: registry license evidence for lockfiles.

``resolve`` reads the lockfiles given, asks the package registries once for
the license metadata of every release they pin (:mod:`checker.registry`),
and writes the reviewable evidence file (:mod:`checker.evidence.evidence_file`)
that ``check`` then reads offline. A registry failure is one line naming
the package and the URL, exit 3, and the existing file is left untouched.
``resolve --check`` compares the file with the locks without the network
and exits 1 when it is stale, for CI. ``show NAME`` prints what the file
records for a package.

:func:`run_evidence` is how ``check`` and ``explain`` find the file:
``--evidence FILE``, else ``evidence.json`` in the policy directory when it
exists.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from checker.cli.arguments import DEFAULT_POLICY, DEFAULT_SIZE, debug_option, size
from checker.cli.command import Command
from checker.cli.console import error, say, warn

if TYPE_CHECKING:
    from checker.cli.command import Subparsers
    from checker.errors import Problem
    from checker.evidence.evidence_file import EvidenceFile
    from checker.evidence.records import Wanted
    from checker.policy import Policy

#: Where ``resolve`` writes and ``--check`` and ``show`` read, unless told otherwise.
DEFAULT_EVIDENCE = DEFAULT_POLICY / "evidence.json"
#: Concurrent registry requests unless ``--jobs`` says otherwise.
DEFAULT_JOBS = 8
MAX_JOBS = 64


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"--jobs must be between 1 and {MAX_JOBS}")
    return value


def add_parser(sub: Subparsers) -> None:
    evidence = sub.add_parser(
        "evidence",
        help="resolve license evidence for lockfiles from the registries, once, for offline checks",
        description="Lockfiles name releases, not licenses. 'evidence resolve' fetches the "
        "license metadata of every release the lockfiles pin from the package registry and "
        "writes one reviewable evidence file; 'check' then reads it offline.",
    )
    commands = evidence.add_subparsers(dest="evidence_command", metavar="EVIDENCE_COMMAND")
    resolve = commands.add_parser(
        "resolve",
        help="fetch the license metadata of every locked release into the evidence file",
        description="Read the lockfiles in PATH (requirements.txt with pins, poetry.lock, "
        "uv.lock, Pipfile.lock, pylock.toml, package-lock.json), fetch each pinned release's "
        "license fields from the index the installer configuration names (pip's and npm's "
        "own resolution, or --index-url / --npm-registry), and write them to the evidence "
        "file atomically. Exit 3 on any registry failure, leaving the existing file "
        "untouched. With --check, compare the file with the locks (no network) and exit 1 "
        "when it is stale.",
    )
    resolve.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    resolve.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_EVIDENCE,
        metavar="FILE",
        help="the evidence file to write, or to compare with --check (default: %(default)s)",
    )
    resolve.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help="the Python package index to ask (default: as pip resolves it: PIP_INDEX_URL, "
        "UV_DEFAULT_INDEX, pip's configuration files, then pip's built-in default)",
    )
    resolve.add_argument(
        "--npm-registry",
        default=None,
        metavar="URL",
        help="the npm registry to ask (default: npm config get registry)",
    )
    resolve.add_argument(
        "--offline",
        action="store_true",
        help="use only the local cache; a release not in it is a failure",
    )
    resolve.add_argument(
        "--check",
        action="store_true",
        help="do not fetch: exit 1 if the evidence file is stale against the locks "
        "(an entry missing, an entry no lock has, a digest the lock no longer pins)",
    )
    resolve.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where registry answers are cached (default: the resolver's user cache folder)",
    )
    resolve.add_argument(
        "--jobs",
        type=_jobs,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"concurrent registry requests (default: {DEFAULT_JOBS})",
    )
    resolve.add_argument(
        "--max-input-size",
        type=size,
        default=DEFAULT_SIZE,
        metavar="SIZE",
        help=f"refuse lockfiles larger than this (default: {DEFAULT_SIZE})",
    )
    debug_option(resolve)
    show = commands.add_parser(
        "show",
        help="print what the evidence file records for a package",
        description="Print each record of NAME (any version; NAME@VERSION for one) and the "
        "license statements check judges from it.",
    )
    show.add_argument("name", metavar="NAME", help="a package name, or NAME@VERSION")
    show.add_argument(
        "--evidence",
        type=Path,
        default=DEFAULT_EVIDENCE,
        metavar="FILE",
        help="the evidence file (default: %(default)s)",
    )
    debug_option(show)


def run(args: argparse.Namespace) -> int:
    from checker.errors import UsageError

    if args.evidence_command == "resolve":
        return _check(args) if args.check else _resolve(args)
    if args.evidence_command == "show":
        return _show(args)
    raise UsageError("give an EVIDENCE_COMMAND: resolve or show (see evidence --help)")


def run_evidence(args: argparse.Namespace, policy: Policy) -> EvidenceFile | None:
    """The evidence file a judging command reads: ``--evidence``, else the policy's own.

    An explicit file must exist; the default ``evidence.json`` beside the
    policy is read only when it is there. A broken file stops the run
    (exit 2) rather than being ignored: its records are evidence.
    """
    from checker.errors import UsageError
    from checker.evidence.evidence_file import DEFAULT_NAME, load_evidence

    given: Path | None = getattr(args, "evidence", None)
    if getattr(args, "no_evidence", False):
        if given is not None:
            raise UsageError("--evidence and --no-evidence contradict each other")
        return None
    path = given if given is not None else policy.directory / DEFAULT_NAME
    if given is None and not path.is_file():
        return None
    return load_evidence(path)


# --------------------------------------------------------------------------- resolve


def _read_locks(args: argparse.Namespace) -> tuple[list[Wanted], list[Problem]]:
    """The lock entries of PATH as the resolver wants them, and the names it refused.

    An unreadable input stops the command (exit 3): evidence resolved from
    part of the locks would read as complete.
    """
    from checker.errors import EXIT_INPUT, UsageError
    from checker.gate import read_all
    from checker.inputs import display_path
    from checker.registry import wanted_from

    inputs = read_all(args.paths, max_bytes=args.max_input_size)
    if inputs.errors:
        for unreadable in inputs.errors:
            error(unreadable.problem)
        raise _Exit(EXIT_INPUT)
    locks = [r for r in inputs.results if _is_lock(r.format)]
    if not locks:
        read = ", ".join(f"{r.path} ({r.format})" for r in inputs.results) or "nothing"
        raise UsageError(
            f"no lockfile in {' '.join(display_path(p) for p in args.paths)} (read: {read}); "
            "evidence resolve reads lockfiles: requirements.txt with pins, poetry.lock, "
            "uv.lock, Pipfile.lock, pylock.toml, package-lock.json"
        )
    wanted, refused = wanted_from(inputs.results)
    for problem in refused:
        warn(f"{problem} (not fetched)")
    return list(wanted), list(refused)


def _is_lock(fmt: str) -> bool:
    from checker.readers import Family, by_name

    found = by_name(fmt)
    return found is not None and found.family is Family.LOCKFILE


class _Exit(Exception):
    """Leave the command with an exit code, its reasons already printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _resolve(args: argparse.Namespace) -> int:
    from checker.errors import EXIT_INPUT, EXIT_PASS
    from checker.evidence.evidence_file import (
        EvidenceFile,
        IndexUsed,
        load_evidence,
        refresh,
        write_evidence,
    )
    from checker.inputs import display_path
    from checker.registry import index_config, resolve, stderr_progress

    try:
        wanted, _ = _read_locks(args)
    except _Exit as exit_:
        return exit_.code
    ecosystems = {w.ecosystem for w in wanted}
    output: Path = args.output
    previous = load_evidence(output) if output.is_file() else None
    config = index_config(args.index_url, args.npm_registry, need=ecosystems)
    for line in config.lines():
        say(line)
    outcome = resolve(
        wanted,
        config,
        cache_dir=args.cache_dir,
        offline=args.offline,
        jobs=args.jobs,
        progress=stderr_progress(),
    )
    if outcome.failures:
        from checker.registry import NOT_ASKED

        for failure in outcome.failures:
            if failure.reason != NOT_ASKED:
                error(failure)
        for ecosystem, reason in sorted(outcome.unreachable.items()):
            skipped = sum(
                1 for f in outcome.failures if f.ecosystem is ecosystem and f.reason == NOT_ASKED
            )
            error(
                f"the {ecosystem} index {config.setting(ecosystem).shown} cannot be reached "
                f"({reason}); {skipped} more release{'s' if skipped != 1 else ''} not asked. "
                "Check the network, or the index your installer configuration names "
                "(--index-url, PIP_INDEX_URL, pip.conf; --npm-registry, npm config)"
            )
        count = len(outcome.failures)
        kept = f"{display_path(output)} is left as it was" if previous else "nothing was written"
        say(
            f"{len(outcome.records)} of {len(wanted)} releases resolved, {count} "
            f"failure{'s' if count != 1 else ''}; {kept}. Fix the cause above (or pass "
            "--index-url / --npm-registry) and run again"
        )
        return EXIT_INPUT
    today = datetime.now(UTC).date().isoformat()  # as the resolver dates each record
    index = tuple(IndexUsed(e, config.setting(e).source) for e in sorted(ecosystems))
    fresh = EvidenceFile(today, index, tuple(outcome.records))
    merged, changes = refresh(previous, fresh)
    shown = display_path(output)
    if changes.any or previous is None:
        write_evidence(output, merged)
        verb = "wrote"
    else:
        verb = "unchanged:"
    with_fields = sum(1 for r in merged.records if not r.fields.empty)
    say(
        f"{verb} {shown}: {len(merged.records)} package{'s' if len(merged.records) != 1 else ''}"
        f", {with_fields} with license fields, 0 failures ({changes})"
    )
    without = len(merged.records) - with_fields
    if without:
        say(
            f"{without} package{'s state' if without != 1 else ' states'} no license in the "
            "registry metadata: check will report them as unknown-license"
        )
    return EXIT_PASS


# --------------------------------------------------------------------------- --check


def _check(args: argparse.Namespace) -> int:
    from checker.errors import EXIT_PASS, EXIT_VIOLATIONS
    from checker.evidence.evidence_file import load_evidence, resolve_command, staleness
    from checker.inputs import display_path

    try:
        wanted, _ = _read_locks(args)
    except _Exit as exit_:
        return exit_.code
    output: Path = args.output
    command = resolve_command(" ".join(display_path(p) for p in args.paths))
    if not output.is_file():
        say(f"stale: there is no evidence file at {display_path(output)}; run `{command}`")
        return EXIT_VIOLATIONS
    evidence = load_evidence(output)
    stale = staleness(evidence, wanted)
    if stale:
        for item in stale:
            say(f"stale: {item}")
        count = len(stale)
        say(
            f"{evidence.path} is stale against the locks ({count} difference"
            f"{'s' if count != 1 else ''}); run `{command}` and commit the result"
        )
        return EXIT_VIOLATIONS
    keys = len({w.key for w in wanted})
    say(f"{evidence.path} is current: {len(evidence.records)} records for {keys} locked releases")
    return EXIT_PASS


# --------------------------------------------------------------------------- show


def _show(args: argparse.Namespace) -> int:
    from checker.errors import EXIT_PASS, EXIT_USAGE
    from checker.evidence.evidence_file import load_evidence, record_licenses
    from checker.evidence.records import normalize_name

    evidence = load_evidence(args.evidence)
    query: str = args.name.strip()
    name, _, version = query.rpartition("@") if "@" in query.lstrip("@") else (query, "", "")
    if not name:
        name, version = query, ""
    matches = [
        r
        for r in evidence.records
        if normalize_name(r.ecosystem, r.name) == normalize_name(r.ecosystem, name)
        and (not version or r.version == version)
    ]
    if not matches:
        say(f"{evidence.path} has no record of {query!r}")
        return EXIT_USAGE
    out: list[str] = []
    for record in matches:
        origin = evidence.origin(record.key)
        fields = record.fields
        out.append(f"{record.ecosystem.value} {record.name} {record.version} ({origin})")
        out.append(f"  artifact:           {record.artifact or '-'} {record.digest or ''}".rstrip())
        out.append(f"  license_expression: {fields.license_expression or '-'}")
        out.append(f"  license:            {fields.license or '-'}")
        for classifier in fields.classifiers:
            out.append(f"  classifier:         {classifier}")
        if fields.license_files:
            out.append(f"  license_files:      {', '.join(fields.license_files)}")
        out.append(f"  from:               {record.url}, retrieved {record.retrieved}")
        judged = record_licenses(record, origin)
        said = " AND ".join(f"{e.text} ({e.form.value})" for e in judged) or "no license"
        out.append(f"  check judges:       {said}")
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_PASS


COMMAND = Command("evidence", add_parser, run)
