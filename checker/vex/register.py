"""The VEX register: its files read, each entry validated, the whole checked.

Every ``*.yaml`` (and ``*.yml``) file in the register folder (``vex/``) is
read; together they form one register. The format and the checks of each
entry are :mod:`checker.vex.schema`'s; what is wrong across entries
(duplicates, overlaps, expiry) is :mod:`checker.vex.checks`'; the entries
themselves are :mod:`checker.vex.model`'s. This module puts them together:
:func:`load_register` reads the files and returns the register with every
problem, so ``check``, ``vex validate`` and ``vex add`` see the same ones.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from checker.errors import Problem
from checker.vex.checks import duplicate_ids, expiry_problems, overlap_problems
from checker.vex.export import export_selection
from checker.vex.model import Entry, LicenseException, Register, VulnerabilityEntry
from checker.vex.schema import parse_register_file
from checker.yamlio import ConfigDoc, read_yaml_file

# Entry, LicenseException, VulnerabilityEntry, export_selection and
# parse_register_file have their homes in model, export and schema; they are
# importable from here too for code written before the register was split.
__all__ = [
    "Entry",
    "LicenseException",
    "RegisterCheck",
    "VulnerabilityEntry",
    "export_selection",
    "load_register",
    "parse_register_file",
    "read_register_file",
    "register_files",
]


@dataclass(slots=True)
class RegisterCheck:
    """A loaded register and what is wrong with it.

    ``errors`` make the register unusable (exit 2 everywhere); ``expired``
    are errors for ``vex validate`` only; ``warnings`` are printed.
    """

    register: Register
    errors: list[Problem] = field(default_factory=list)
    expired: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def register_files(path: Path) -> list[Path]:
    """The register files of a folder (every ``*.yaml``/``*.yml``), or the file itself."""
    if path.is_dir():
        found = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
        return sorted(found)
    return [path]


def read_register_file(path: Path) -> ConfigDoc:
    """One register file from disk, loaded (dates stay the text written)."""
    return read_yaml_file(path, missing="not found")


def load_register(
    files: Sequence[Path],
    *,
    adr_ids: Collection[str] | None,
    today: date,
    loaded: Mapping[Path, ConfigDoc] | None = None,
    adr_dir: str = "adr",
) -> RegisterCheck:
    """Load and validate register files; ``loaded`` holds files already read (``vex add``).

    ``adr_ids`` are the ``ADR-NNNN`` ids that exist (None: no ADR folder);
    ``adr_dir`` names that folder in messages.
    """
    result = RegisterCheck(Register())
    for path in files:
        result.register.files.append(str(path))
        read = loaded.get(path) if loaded else None
        doc, problems = read if read is not None else read_register_file(path)
        result.errors.extend(problems)
        if doc is None:
            continue
        entries, problems = parse_register_file(doc, adr_ids, today, adr_dir)
        result.errors.extend(problems)
        result.register.entries.extend(entries)
    result.errors.extend(duplicate_ids(result.register.entries))
    result.errors.extend(overlap_problems(result.register.entries, today))
    expired, warnings = expiry_problems(result.register.entries, today)
    result.expired.extend(expired)
    result.warnings.extend(warnings)
    return result
