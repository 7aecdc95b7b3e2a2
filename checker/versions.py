"""Version ranges for decision-table rows.

Licenses change between releases (CockroachDB moved from BUSL-1.1 to a
proprietary license at v24.3), so a table row can be limited to a range.
Versions in the wild are not all PEP 440 or semver (``17.6.0-debian-12-r4``,
``v24.3.1``, ``1:10.5.10+maria~bionic``), so comparison uses the leading
numeric release and treats anything without one as not comparable: a row
with a range never matches a version it cannot order, which fails closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

_RELEASE = re.compile(r"(?:\d+:)?[vV]?(\d+(?:\.\d+)*)")


def release_key(version: str) -> tuple[int, ...] | None:
    """The numeric release of a version string, trailing zeros dropped."""
    match = _RELEASE.match(version.strip())
    if not match:
        return None
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


class Comparator(StrEnum):
    """A clause's operator, as written; two-character ones first, so they are tried first."""

    GE = ">="
    LE = "<="
    EQ = "=="
    NE = "!="
    GT = ">"
    LT = "<"

    def admits(self, key: tuple[int, ...], bound: tuple[int, ...]) -> bool:
        """Whether a release ``key`` satisfies ``OPERATOR bound``."""
        if self is Comparator.GE:
            return key >= bound
        if self is Comparator.LE:
            return key <= bound
        if self is Comparator.GT:
            return key > bound
        if self is Comparator.LT:
            return key < bound
        if self is Comparator.EQ:
            return key == bound
        return key != bound


class Clause(NamedTuple):
    """One comparator of a range: ``>=24.3`` is ``(GE, (24, 3), "24.3")``."""

    op: Comparator
    bound: tuple[int, ...]
    #: The version as written (exports spell the range with it).
    version: str


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A conjunction of comparators such as ``>=24.3,<25``."""

    text: str
    clauses: tuple[Clause, ...]

    def contains(self, version: str | None) -> bool:
        if version is None:
            return False
        key = release_key(version)
        if key is None:
            return False
        return all(clause.op.admits(key, clause.bound) for clause in self.clauses)

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> VersionRange:
    """Parse ``>=1.0,<2``; raise ValueError with a message a reviewer can act on."""
    clauses: list[Clause] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty comparator in version range {text!r}")
        op = next((o for o in Comparator if part.startswith(o)), None)
        if op is None:
            raise ValueError(
                f"comparator {part!r} in {text!r} must start with one of {', '.join(Comparator)}"
            )
        written = part[len(op) :]
        bound = release_key(written)
        if bound is None or not written.strip()[:1].isdigit():
            raise ValueError(f"{part!r} in {text!r} does not compare against a numeric version")
        clauses.append(Clause(op, bound, written.strip()))
    return VersionRange(text, tuple(clauses))
