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

_OPS = (">=", "<=", "==", "!=", ">", "<")
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


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A conjunction of comparators such as ``>=24.3,<25``."""

    text: str
    clauses: tuple[tuple[str, tuple[int, ...]], ...]

    def contains(self, version: str | None) -> bool:
        if version is None:
            return False
        key = release_key(version)
        if key is None:
            return False
        return all(_compare(key, op, bound) for op, bound in self.clauses)

    def __str__(self) -> str:
        return self.text


def _compare(key: tuple[int, ...], op: str, bound: tuple[int, ...]) -> bool:
    if op == ">=":
        return key >= bound
    if op == "<=":
        return key <= bound
    if op == ">":
        return key > bound
    if op == "<":
        return key < bound
    if op == "==":
        return key == bound
    return key != bound


def parse_range(text: str) -> VersionRange:
    """Parse ``>=1.0,<2``; raise ValueError with a message a reviewer can act on."""
    clauses: list[tuple[str, tuple[int, ...]]] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty comparator in version range {text!r}")
        op = next((o for o in _OPS if part.startswith(o)), None)
        if op is None:
            raise ValueError(
                f"comparator {part!r} in {text!r} must start with one of {', '.join(_OPS)}"
            )
        bound = release_key(part[len(op) :])
        if bound is None or not part[len(op) :].strip()[:1].isdigit():
            raise ValueError(f"{part!r} in {text!r} does not compare against a numeric version")
        clauses.append((op, bound))
    return VersionRange(text, tuple(clauses))
