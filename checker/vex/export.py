"""What an export of the register writes, and the document it becomes.

Both export formats (:mod:`checker.vex.openvex`, :mod:`checker.vex.cyclonedx`)
describe vulnerabilities only, and a scanner reading an expired statement
would honour a review that has lapsed, so both write the same selection:
the current vulnerability entries. What is left out is said, on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from checker.vex.model import Register, VulnerabilityEntry


class Selection(NamedTuple):
    """The entries an export writes, and one note for each thing it leaves out."""

    entries: list[VulnerabilityEntry]
    notes: list[str]


@dataclass(slots=True)
class Export:
    """An exported document and what was left out of it, for stderr.

    ``refused`` says why nothing could be exported (``text`` is then empty).
    """

    text: str
    notes: list[str] = field(default_factory=list)
    refused: str | None = None


def export_selection(register: Register, today: date, *, format_name: str) -> Selection:
    """The current vulnerability entries an export writes, and notes on what it leaves out."""
    notes: list[str] = []
    licenses = register.license_exceptions
    if licenses:
        ids = ", ".join(e.id for e in licenses)
        notes.append(
            f"{len(licenses)} license exception{'s' if len(licenses) != 1 else ''} left out "
            f"({ids}): {format_name} describes vulnerabilities, not license or dependency "
            "decisions; the gate enforces them from the register"
        )
    selected: list[VulnerabilityEntry] = []
    for entry in register.vulnerabilities:
        if entry.expired(today):
            notes.append(f"{entry.id} expired on {entry.expires}: left out")
        else:
            selected.append(entry)
    return Selection(selected, notes)
