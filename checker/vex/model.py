"""The register's entries as values: who accepted what, for which component, until when.

This is what the rest of the gate works with once the YAML is validated
(:mod:`checker.vex.schema`): the applier matches :class:`LicenseException`
entries to findings, the exports write :class:`VulnerabilityEntry` entries,
``vex list`` prints both. Kinds, statuses, justifications and responses
are members of the enums in :mod:`checker.vex.vocabulary`, never bare
strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from license_expression import Licensing
from packageurl import PackageURL

from checker.licenses import Normalized, Normalizer
from checker.matching import PurlIdentity
from checker.model import ImageRef, Origin
from checker.rules import RuleId
from checker.versions import Comparator, VersionRange
from checker.vex.vocabulary import EntryKind, Justification, Response, Status

#: Register licenses are SPDX already: no normalization table, deprecated ids still mapped.
SPDX_NORMALIZER = Normalizer([])


@dataclass(frozen=True, slots=True)
class Subject:
    """The component an entry names: a purl (optional version or range) or an image digest."""

    text: str
    ident: PurlIdentity | None = None
    qualifiers: tuple[tuple[str, str], ...] = ()
    versions: VersionRange | None = None
    image: ImageRef | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """What an index groups by: purl type, namespace and name, or the image digest."""
        if self.image is not None:
            return ("image", (self.image.digest or "").lower())
        assert self.ident is not None
        return ("purl", self.ident.type, self.ident.namespace, self.ident.name)

    @property
    def version(self) -> str | None:
        return self.ident.version if self.ident is not None else None

    @property
    def base_purl(self) -> str:
        """The purl without version (what OpenVEX and CycloneDX name a product by)."""
        purl = PackageURL.from_string(self.text)
        return str(
            PackageURL(
                type=purl.type,
                namespace=purl.namespace,
                name=purl.name,
                qualifiers=purl.qualifiers,
                subpath=purl.subpath,
            )
        )

    def describe(self) -> str:
        return f"{self.text} {self.versions}" if self.versions is not None else self.text

    def matches(
        self,
        ident: PurlIdentity | None,
        version: str | None,
        image: ImageRef | None,
        qualifiers: Mapping[str, str] | None = None,
    ) -> bool:
        """Whether a component with this identity is the one the entry names."""
        if self.image is not None:
            return (
                image is not None
                and image.digest is not None
                and image.digest.lower() == (self.image.digest or "").lower()
                and image.name == self.image.name
            )
        mine = self.ident
        if mine is None or ident is None:
            return False
        if (ident.type, ident.namespace, ident.name) != (mine.type, mine.namespace, mine.name):
            return False
        if mine.version is not None and version != mine.version:
            return False
        if self.versions is not None and not self.versions.contains(version):
            return False
        if self.qualifiers:
            have = qualifiers or {}
            return all(have.get(k) == v for k, v in self.qualifiers)
        return True

    def overlaps(self, other: Subject) -> bool:
        """Whether some component could match both subjects."""
        if self.key != other.key:
            return False
        if self.image is not None or other.image is not None:
            return self.image is not None and other.image is not None
        mine, theirs = dict(self.qualifiers), dict(other.qualifiers)
        if any(theirs.get(k, v) != v for k, v in mine.items()):
            return False
        return _versions_overlap(self, other)


def _versions_overlap(a: Subject, b: Subject) -> bool:
    if a.version is not None and b.version is not None:
        return a.version == b.version
    for exact, other in ((a, b), (b, a)):
        if exact.version is not None:
            return other.versions is None or other.versions.contains(exact.version)
    if a.versions is None or b.versions is None:
        return True
    return ranges_overlap(a.versions, b.versions)


def ranges_overlap(a: VersionRange, b: VersionRange) -> bool:
    """Whether two comparator ranges share at least one version."""
    low: tuple[tuple[int, ...], bool] | None = None
    high: tuple[tuple[int, ...], bool] | None = None
    excluded: list[tuple[int, ...]] = []
    for op, bound, _ in (*a.clauses, *b.clauses):
        if op in _LOWER:
            inclusive = op is not Comparator.GT
            if low is None or bound > low[0] or (bound == low[0] and not inclusive):
                low = (bound, inclusive)
        if op in _UPPER:
            inclusive = op is not Comparator.LT
            if high is None or bound < high[0] or (bound == high[0] and not inclusive):
                high = (bound, inclusive)
        if op is Comparator.NE:
            excluded.append(bound)
    if low is None or high is None:
        return True
    if low[0] < high[0]:
        return True
    return low[0] == high[0] and low[1] and high[1] and low[0] not in excluded


#: Comparators that bound a range from below, and from above (``==`` does both).
_LOWER = frozenset({Comparator.GE, Comparator.GT, Comparator.EQ})
_UPPER = frozenset({Comparator.LE, Comparator.LT, Comparator.EQ})


def equivalent(a: Normalized, b: Normalized) -> bool:
    """Whether two parsed expressions say the same (``A AND B`` is ``B AND A``)."""
    if a.expression == b.expression:
        return True
    try:
        return bool(_licensing().is_equivalent(a.parsed, b.parsed))
    except Exception:  # license-expression raises odd types on odd input
        return False


@lru_cache(maxsize=1)
def _licensing() -> Any:
    return Licensing()


@dataclass(slots=True, kw_only=True)
class Entry:
    """What every register entry has: who accepted what, under which decision, until when."""

    id: str
    kind: EntryKind
    approver: str
    reference: str
    created: date
    expires: date
    origin: Origin

    def days_left(self, today: date) -> int:
        return (self.expires - today).days

    def expired(self, today: date) -> bool:
        """Expired from the day after ``expires``."""
        return self.days_left(today) < 0

    @property
    def where(self) -> str:
        return str(self.origin)


@dataclass(slots=True, kw_only=True)
class LicenseException(Entry):
    """A license or dependency exception for one component.

    It waives ``rule`` (any finding of that rule) or, when ``rule`` is None,
    the license ``expression`` (findings of the license rules that state an
    equivalent expression).
    """

    kind: EntryKind = field(default=EntryKind.LICENSE, init=False)
    subject: Subject
    license: str
    rule: RuleId | None = None
    expression: Normalized | None = None
    reason: str

    @property
    def waives(self) -> str:
        return f"rule {self.rule}" if self.rule else f"license {self.license}"


@dataclass(slots=True, kw_only=True)
class VulnerabilityEntry(Entry):
    """An OpenVEX statement with its governance fields."""

    kind: EntryKind = field(default=EntryKind.VULNERABILITY, init=False)
    vulnerability: str
    products: tuple[Subject, ...]
    status: Status
    aliases: tuple[str, ...] = ()
    justification: Justification | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    response: tuple[Response, ...] = ()
    cvss: float | None = None
    patch_sla: date | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset({self.vulnerability, *self.aliases})


@dataclass(slots=True)
class Register:
    """Every entry of every register file, in file order."""

    files: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def license_exceptions(self) -> list[LicenseException]:
        return [e for e in self.entries if isinstance(e, LicenseException)]

    @property
    def vulnerabilities(self) -> list[VulnerabilityEntry]:
        return [e for e in self.entries if isinstance(e, VulnerabilityEntry)]

    def ids(self) -> set[str]:
        return {e.id for e in self.entries}
