"""The result of a gate run: what every report format writes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from checker.errors import InputError
from checker.inputs import escape_controls
from checker.model import ComponentRef, Finding, ReadResult, Severity
from checker.rules import RuleId

if TYPE_CHECKING:
    from checker.vex.loader import VexSet


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"


@dataclass(slots=True)
class RunResult:
    """The outcome of one gate run over several inputs.

    ``today`` is the date exceptions were judged on; ``vex`` what the VEX
    register and OpenVEX documents held (None without a register).
    """

    inputs: list[ReadResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    vex: VexSet | None = None
    #: Folders a directory walk passed over, with the reason; every report lists them.
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)
    #: Distinct components (:mod:`checker.identity`); None: count every entry.
    distinct_components: int | None = None

    @property
    def components(self) -> int:
        """Distinct components judged: a package in a lock and an SBOM counts once."""
        if self.distinct_components is not None:
            return self.distinct_components
        return self.entries

    @property
    def entries(self) -> int:
        """Component entries over all inputs, repeats included."""
        return sum(len(r.components) for r in self.inputs)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR and f.accepted is None)

    @property
    def warnings(self) -> int:
        return sum(
            1 for f in self.findings if f.severity is Severity.WARNING and f.accepted is None
        )

    @property
    def accepted(self) -> int:
        """Findings a current VEX-register exception accepted."""
        return sum(1 for f in self.findings if f.accepted is not None)

    @property
    def verdict(self) -> Verdict:
        return Verdict.FAIL if self.errors else Verdict.PASS


#: Longest note message a report carries. Readers quote input only in short
#: excerpts; this is the net under them, so no input can fill a report.
MAX_NOTE_CHARS = 600


def note_findings(result: ReadResult) -> Iterable[Finding]:
    for note in result.notes:
        error = note.severity is Severity.ERROR
        message = note.message
        if len(message) > MAX_NOTE_CHARS or not message.isprintable():
            message = _bounded(message)
        yield Finding(
            rule=RuleId.INPUT_ERROR if error else RuleId.INPUT_WARNING,
            severity=note.severity,
            component=ComponentRef(result.path, None, None),
            message=message,
            source=note.origin,
        )


def _bounded(message: str) -> str:
    shown = escape_controls(message[:MAX_NOTE_CHARS])
    return shown + (" [cut]" if len(message) > MAX_NOTE_CHARS else "")
