"""What is wrong across the register's entries: duplicate ids, overlaps, expiry.

Each entry can be valid on its own (:mod:`checker.vex.schema`) and the
register still unusable: the gate must never have to choose between two
reviews, so two current license exceptions that can accept the same finding,
or two current vulnerability entries for the same vulnerability (by id or
alias) with overlapping products, are errors, as is an id used twice.

Expiry is judged separately (:func:`expiry_problems`) because the gate and
``vex validate`` treat it differently: ``vex validate`` fails on an expired
entry, while ``check`` reports it as an ``expired-exception`` finding where
it would have matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from checker.errors import Problem
from checker.rules import LICENSE_RULES
from checker.vex.model import Entry, LicenseException, VulnerabilityEntry, equivalent

#: An entry this close to its expiry is a warning in ``vex validate``.
EXPIRY_WARNING_DAYS = 30


class Expiry(NamedTuple):
    """Entries past their end, and warnings about ends to come."""

    #: Expired entries: errors for ``vex validate`` only.
    expired: list[Problem]
    #: Entries expiring within :data:`EXPIRY_WARNING_DAYS`, patch SLAs passed.
    warnings: list[Problem]


def duplicate_ids(entries: Sequence[Entry]) -> list[Problem]:
    """Every entry whose id an earlier entry already has."""
    seen: dict[str, Entry] = {}
    problems: list[Problem] = []
    for entry in entries:
        first = seen.get(entry.id)
        if first is not None:
            problems.append(
                Problem.at(entry.origin, f"duplicate id {entry.id!r} (first at {first.where})")
            )
        else:
            seen[entry.id] = entry
    return problems


def same_license(a: LicenseException, b: LicenseException) -> bool:
    """Whether two exceptions can accept the same finding of one component."""
    if a.rule is not None and b.rule is not None:
        return a.rule == b.rule
    if a.rule is not None or b.rule is not None:
        rule = a.rule or b.rule
        return rule in LICENSE_RULES
    assert a.expression is not None and b.expression is not None
    return equivalent(a.expression, b.expression)


def overlap_problems(entries: Sequence[Entry], today: date) -> list[Problem]:
    """Current entries that could decide the same finding or statement."""
    current = [e for e in entries if not e.expired(today)]
    problems: list[Problem] = []
    by_key: dict[tuple[str, ...], list[LicenseException]] = {}
    for entry in current:
        if isinstance(entry, LicenseException):
            for other in by_key.get(entry.subject.key, []):
                if entry.subject.overlaps(other.subject) and same_license(entry, other):
                    problems.append(
                        Problem.at(
                            entry.origin,
                            f"{entry.id} overlaps {other.id} ({other.where}): both accept "
                            f"{entry.waives} findings of {entry.subject.describe()}; "
                            "keep one exception per component and finding",
                        )
                    )
            by_key.setdefault(entry.subject.key, []).append(entry)
    vulnerabilities = [e for e in current if isinstance(e, VulnerabilityEntry)]
    for i, vuln in enumerate(vulnerabilities):
        for earlier in vulnerabilities[:i]:
            shared = vuln.names & earlier.names
            if not shared:
                continue
            pairs = [
                (mine, theirs)
                for mine in vuln.products
                for theirs in earlier.products
                if mine.overlaps(theirs)
            ]
            if pairs:
                mine, theirs = pairs[0]
                problems.append(
                    Problem.at(
                        vuln.origin,
                        f"{vuln.id} overlaps {earlier.id} ({earlier.where}): both state "
                        f"{sorted(shared)[0]} for {mine.describe()} / {theirs.describe()}; "
                        "keep one current statement per vulnerability and product (Trivy "
                        "takes the newest, Grype the oldest)",
                    )
                )
    return problems


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def expiry_problems(entries: Sequence[Entry], today: date) -> Expiry:
    """Expired entries, and warnings: expiring within 30 days, patch SLAs passed."""
    found = Expiry([], [])
    for entry in entries:
        left = entry.days_left(today)
        if left < 0:
            found.expired.append(
                Problem.at(
                    entry.origin,
                    f"{entry.id} expired on {entry.expires} ({_days(-left)} ago); renew it after a "
                    "new review (new approver, created and expires) or remove it",
                )
            )
        elif left <= EXPIRY_WARNING_DAYS:
            found.warnings.append(
                Problem.at(
                    entry.origin,
                    f"{entry.id} expires on {entry.expires} "
                    f"({_days(left) + ' left' if left else 'its last day'}); review it before then",
                )
            )
        if (
            isinstance(entry, VulnerabilityEntry)
            and entry.patch_sla is not None
            and entry.patch_sla < today
            and entry.status.open
        ):
            found.warnings.append(
                Problem.at(
                    entry.origin,
                    f"{entry.id}: the patch SLA ({entry.patch_sla}) has passed and the status "
                    f"is still {entry.status}",
                )
            )
    return found
