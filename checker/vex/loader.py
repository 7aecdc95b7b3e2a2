"""What ``--vex PATH`` reads: register YAML and OpenVEX JSON, files or folders.

A folder contributes every ``*.yaml``/``*.yml`` file (the register) and every
``*.json`` file (OpenVEX documents, e.g. from a supplier), not its
subfolders. A file is read by its suffix. Keep exports (``vex export``)
outside the folder: read back, they would state the register twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker.errors import PolicyError, Problem
from checker.vex.model import Register
from checker.vex.register import load_register, register_files

if TYPE_CHECKING:
    from checker.vex.openvex import VexDocument

REGISTER_SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)
class VexSet:
    """Everything ``--vex`` named, loaded and checked."""

    sources: list[str]
    register: Register
    documents: list[VexDocument] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    expired: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(len(d.statements) for d in self.documents)

    def describe(self) -> str:
        """One line: what was read."""
        register = self.register
        licenses = len(register.license_exceptions)
        vulns = len(register.vulnerabilities)
        text = (
            f"{len(register.files)} register file{'s' if len(register.files) != 1 else ''} "
            f"({licenses} license exception{'s' if licenses != 1 else ''}, "
            f"{vulns} vulnerability entr{'ies' if vulns != 1 else 'y'})"
        )
        if self.documents:
            text += (
                f", {len(self.documents)} OpenVEX document"
                f"{'s' if len(self.documents) != 1 else ''} "
                f"({self.statements} statement{'s' if self.statements != 1 else ''})"
            )
        return text


def _sort_key(problem: Problem) -> tuple[str, int, str]:
    return problem.path, problem.line or 0, problem.location


def load_vex(
    paths: Sequence[Path],
    *,
    adr_ids: Collection[str] | None,
    today: date,
    adr_dir: str = "adr",
) -> VexSet:
    """Load every register file and OpenVEX document the paths name; never raises."""
    yaml_files: list[Path] = []
    json_files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            yaml_files.extend(register_files(path))
            json_files.extend(sorted(p for p in path.glob("*.json") if p.is_file()))
        elif path.suffix in REGISTER_SUFFIXES:
            yaml_files.append(path)
        elif path.suffix == ".json":
            json_files.append(path)
        elif not path.exists():
            problems.append(Problem(str(path), "", "not found (give the register folder or files)"))
        else:
            problems.append(
                Problem(
                    str(path),
                    "",
                    "is neither a register file (.yaml) nor an OpenVEX document (.json)",
                )
            )
    checked = load_register(yaml_files, adr_ids=adr_ids, today=today, adr_dir=adr_dir)
    vex = VexSet([str(p) for p in paths], checked.register)
    vex.errors = problems + checked.errors
    vex.expired = checked.expired
    vex.warnings = checked.warnings
    if json_files:  # most registers are YAML only: the OpenVEX reader is loaded when needed
        from checker.vex.openvex import read_openvex
    for path in json_files:
        outcome = read_openvex(path)
        vex.errors.extend(outcome.errors)
        vex.warnings.extend(outcome.warnings)
        if outcome.document is not None:
            vex.documents.append(outcome.document)
    for bucket in (vex.errors, vex.expired, vex.warnings):
        bucket.sort(key=_sort_key)
    return vex


def raise_for_problems(vex: VexSet, *, expired_too: bool) -> None:
    """Raise :class:`PolicyError` listing every problem (exit 2), if there is one.

    ``check`` passes ``expired_too=False``: an expired exception is reported
    where it matters, as an ``expired-exception`` finding on what it would
    have accepted. ``vex validate`` fails on it.
    """
    problems = list(vex.errors)
    if expired_too:
        problems.extend(vex.expired)
        problems.sort(key=_sort_key)
    if not problems:
        return
    count = len(problems)
    raise PolicyError(
        f"the VEX register ({', '.join(vex.sources)}) has {count} problem"
        f"{'s' if count != 1 else ''}; fix them and run again",
        problems,
    )
