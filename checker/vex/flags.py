"""Which options make a VEX register entry: the rules ``vex add`` applies before writing.

An entry is either a license exception or a vulnerability statement, and
each kind has fields the other must not carry (a license exception has no
CVSS score; a vulnerability statement waives no license). Those rules are
the register's, not the command line's, so they live here beside it; the
CLI only reports what :func:`add_problem` finds.

Options are named by their ``argparse`` destinations (``patch_sla``) and
shown as flags (``--patch-sla``). The module imports nothing heavy (the
kinds come from :mod:`checker.vex.vocabulary`): the parser reads it for its
choices, including for ``--help``.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from checker.vex.vocabulary import EntryKind


class ExportFormat(StrEnum):
    """What ``vex export`` writes: the scanners' formats for vulnerability entries."""

    OPENVEX = "openvex"
    CYCLONEDX = "cyclonedx"

    @property
    def display_name(self) -> str:
        """The format as messages name it."""
        return _DISPLAY[self]


_DISPLAY = {ExportFormat.OPENVEX: "OpenVEX", ExportFormat.CYCLONEDX: "CycloneDX VEX"}

#: Options that only one kind of entry takes, in the order messages list them.
KIND_ONLY: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.LICENSE: ("component", "image", "license", "reason"),
    EntryKind.VULNERABILITY: (
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
    ),
}
#: Options an entry of the kind cannot be written without (a license
#: exception also needs ``--component`` or ``--image``, exactly one).
REQUIRED: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.LICENSE: ("license", "reason"),
    EntryKind.VULNERABILITY: ("vulnerability", "product", "status"),
}
#: Every kind-specific option of ``vex add``: what a caller checks for presence.
ADD_OPTIONS: tuple[str, ...] = tuple(name for names in KIND_ONLY.values() for name in names)


def flag(name: str) -> str:
    """The command-line spelling of an option destination: ``patch_sla`` -> ``--patch-sla``."""
    return "--" + name.replace("_", "-")


def add_problem(kind: EntryKind, given: Collection[str]) -> str | None:
    """What is wrong with the options ``given`` for a new ``kind`` entry, or None.

    ``given`` holds the destinations of the options present. Checked in the
    order a user fixes them: options of the other kind, then missing ones,
    then a subject named twice.
    """
    other = next(k for k in EntryKind if k is not kind)
    misplaced = [flag(n) for n in KIND_ONLY[other] if n in given]
    if misplaced:
        return f"{', '.join(misplaced)} do(es) not go with --kind {kind}"
    missing = [flag(n) for n in REQUIRED[kind] if n not in given]
    subjects = {"component", "image"} & set(given)
    if kind is EntryKind.LICENSE and not subjects:
        missing.insert(0, "--component (or --image)")
    if missing:
        return f"--kind {kind} needs {', '.join(missing)}"
    if kind is EntryKind.LICENSE and len(subjects) > 1:
        return "give --component or --image, not both"
    return None
