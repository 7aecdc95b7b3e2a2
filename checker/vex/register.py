"""The VEX register: exceptions as reviewed YAML records with an owner, a reason and an end.

Every ``*.yaml`` (and ``*.yml``) file in the register folder (``vex/``) is
read; together they form one register. A file is a mapping::

    version: 1                  # the only register format this gate reads
    entries:                    # a block list; `vex add` appends to its end
      - id: LIC-0001            # unique across every file of the register
        kind: license           # license | vulnerability
        ...

Keys every entry has (all required):

``id``
    letters, digits, ``.``, ``_`` and ``-`` (``vex add`` generates
    ``LIC-NNNN`` and ``VULN-NNNN``); unique across the register.
``kind``
    ``license`` or ``vulnerability``.
``approver``
    who accepted the exception (a name or handle).
``reference``
    ``ADR-NNNN``, which must resolve to ``adr/NNNN-*.md``, or an
    ``https://`` URL of the issue where the exception was decided.
``created``, ``expires``
    dates written ``YYYY-MM-DD``. ``created`` may not be in the future nor
    after ``expires``. An entry is current up to and including its
    ``expires`` day and expired from the day after.

``kind: license`` -- a license or dependency exception, which OpenVEX cannot
express. It names one component and the finding it waives:

``component``
    a purl that must parse (packageurl-python), without globs:
    ``pkg:npm/fuzzball`` (every version), ``pkg:npm/fuzzball@1.4.0`` (that
    version exactly). Qualifiers in it must be present, with the same
    values, on the component's purl (``?arch=amd64``).
``versions``
    optional, with ``component`` only: a range such as ``>=1.4,<2`` (the
    decision table's syntax); a component whose version cannot be ordered
    never matches a range.
``image``
    instead of ``component``: ``REPOSITORY@sha256:DIGEST`` (normalized like
    every image reference, so ``bitnami/postgresql@sha256:...`` is
    ``docker.io/bitnami/postgresql@sha256:...``). A digest is required: a
    tag can be moved to other bytes after the review.
``license``
    what is waived: an SPDX expression (``AGPL-3.0-only``,
    ``GPL-2.0-only OR MIT``; deprecated ids such as ``GPL-2.0`` are read as
    their current id) that must equal, as an expression, the license the
    finding states; or a rule id (``rejected-component``, ``bundled-byo``,
    ``unapproved-stack-component``, ``denied-license``, ``unknown-license``,
    ``ambiguous-license``, ``license-mismatch``, ``unpinned-image``) that
    waives that rule's findings for the component whatever the license.
``reason``
    why the exception is acceptable.

``kind: vulnerability`` -- an OpenVEX statement with its governance:

``vulnerability``
    the id (``CVE-2024-3094``, ``GHSA-...``, ``GO-...``); ``aliases`` an
    optional list of other ids for the same vulnerability.
``products``
    a non-empty list; each item a purl (``pkg:deb/debian/tar``: every
    version; ``pkg:deb/debian/tar@1.34``: that version), or a mapping
    ``{purl: PURL, versions: RANGE}``.
``status``
    ``not_affected``, ``affected``, ``fixed`` or ``under_investigation``.
``justification``
    one of ``component_not_present``, ``vulnerable_code_not_present``,
    ``vulnerable_code_not_in_execute_path``,
    ``vulnerable_code_cannot_be_controlled_by_adversary``,
    ``inline_mitigations_already_exist``.
``impact_statement``, ``action_statement``
    free text. ``not_affected`` needs a justification or an impact
    statement; ``affected`` needs an action statement (OpenVEX). Like
    go-vex and vexctl, justification and impact statement are refused on
    other statuses, and the action statement on any status but ``affected``.
``cvss``
    optional base score, 0 to 10.
``patch_sla``
    optional ``YYYY-MM-DD`` by which a fix is due (a warning once passed
    while the status is still ``affected`` or ``under_investigation``).
``response``
    optional CycloneDX responses (``can_not_fix``, ``will_not_fix``,
    ``update``, ``rollback``, ``workaround_available``), used by the
    CycloneDX export only.

Validation collects every problem with its file and line before anything is
reported: unknown keys, wrong types, dates not written ``YYYY-MM-DD``, purls
that do not parse, the OpenVEX rules, references that do not resolve,
duplicate ids, and overlapping current entries (two license exceptions that
can accept the same finding, or two vulnerability entries for the same
vulnerability, by id or alias, and overlapping products): the gate must
never have to choose between two reviews. Expiry is judged separately
(:func:`expiry_problems`) because the gate and ``vex validate`` treat it
differently: ``vex validate`` fails on an expired entry, while ``check``
reports it as an ``expired-exception`` finding where it would have matched.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from license_expression import LicenseSymbol, LicenseWithExceptionSymbol, Licensing
from packageurl import PackageURL

from checker.errors import Problem
from checker.images import parse_image
from checker.licenses import Normalized, Normalizer, _known
from checker.matching import PurlIdentity, parse_purl
from checker.model import ImageRef, Origin
from checker.versions import VersionRange, parse_range
from checker.yamlio import Collector, Key, Located, describe, load_yaml, read_yaml_file

REGISTER_VERSION = 1
KINDS = ("license", "vulnerability")
STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
RESPONSES = ("can_not_fix", "will_not_fix", "update", "rollback", "workaround_available")
#: Rules whose findings a license exception may waive.
WAIVABLE_RULES = (
    "rejected-component",
    "bundled-byo",
    "unapproved-stack-component",
    "denied-license",
    "unknown-license",
    "ambiguous-license",
    "license-mismatch",
    "unpinned-image",
)
#: Rules whose findings state a license an SPDX-expression exception can match.
LICENSE_RULES = frozenset(
    {"denied-license", "unknown-license", "ambiguous-license", "license-mismatch"}
)
#: Rules that are about inputs or the register itself, never waivable.
OTHER_RULES = (
    "expired-exception",
    "unused-exception",
    "input-warning",
    "input-error",
    "unreadable-input",
)
#: An entry this close to its expiry is a warning in ``vex validate``.
EXPIRY_WARNING_DAYS = 30

COMMON_KEYS = ("id", "kind", "approver", "reference", "created", "expires")
LICENSE_KEYS = (*COMMON_KEYS, "component", "versions", "image", "license", "reason")
VULNERABILITY_KEYS = (
    *COMMON_KEYS,
    "vulnerability",
    "aliases",
    "cvss",
    "products",
    "status",
    "justification",
    "impact_statement",
    "action_statement",
    "response",
    "patch_sla",
)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ADR = re.compile(r"^ADR-(\d{4})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VULN_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
#: Register licenses are SPDX already: no normalization table, deprecated ids still mapped.
SPDX_NORMALIZER = Normalizer([])


# --------------------------------------------------------------------------- model


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
    for op, bound in (*a.clauses, *b.clauses):
        if op in (">=", ">", "=="):
            inclusive = op != ">"
            if low is None or bound > low[0] or (bound == low[0] and not inclusive):
                low = (bound, inclusive)
        if op in ("<=", "<", "=="):
            inclusive = op != "<"
            if high is None or bound < high[0] or (bound == high[0] and not inclusive):
                high = (bound, inclusive)
        if op == "!=":
            excluded.append(bound)
    if low is None or high is None:
        return True
    if low[0] < high[0]:
        return True
    return low[0] == high[0] and low[1] and high[1] and low[0] not in excluded


@dataclass(slots=True, kw_only=True)
class Entry:
    """What every register entry has: who accepted what, under which decision, until when."""

    id: str
    kind: str
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
    """A license or dependency exception for one component."""

    subject: Subject
    license: str
    rule: str | None = None
    expression: Normalized | None = None
    reason: str

    @property
    def waives(self) -> str:
        return f"rule {self.rule}" if self.rule else f"license {self.license}"


@dataclass(slots=True, kw_only=True)
class VulnerabilityEntry(Entry):
    """An OpenVEX statement with its governance fields."""

    vulnerability: str
    products: tuple[Subject, ...]
    status: str
    aliases: tuple[str, ...] = ()
    justification: str | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    response: tuple[str, ...] = ()
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


# --------------------------------------------------------------------------- parsing


class _Checker(Collector):
    """The register's checks on top of the shared YAML problem collector."""

    def origin(self, key: Key) -> Origin:
        return Origin(self.doc.path, self.doc.where(key))

    def strings(self, mapping: dict[str, Any], name: str, key: Key) -> list[str]:
        value = mapping.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.add((*key, name), f"{name!r} must be a list of strings, found {describe(value)}")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            else:
                self.add(
                    (*key, name, i), f"an item of {name!r} must be a string, found {describe(item)}"
                )
        return out

    def key_hint(self, name: str) -> str:
        if name in LICENSE_KEYS:
            return " (it belongs to kind: license entries)"
        if name in VULNERABILITY_KEYS:
            return " (it belongs to kind: vulnerability entries)"
        return ""

    def day(self, mapping: dict[str, Any], name: str, key: Key, *, required: bool) -> date | None:
        value = mapping.get(name)
        here = (*key, name)
        if value is None:
            if required:
                self.add(key, f"missing required key {name!r} (a date written YYYY-MM-DD)")
            return None
        if not isinstance(value, str):
            self.add(here, f"{name!r} must be a date written YYYY-MM-DD, found {describe(value)}")
            return None
        text = value.strip()
        if not _DATE.fullmatch(text):
            self.add(here, f"{name!r} must be a date written YYYY-MM-DD, found {text!r}")
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            self.add(here, f"{name!r} is {text!r}, which is not a calendar date ({exc})")
            return None


def parse_subject_purl(text: str, versions: VersionRange | None = None) -> Subject:
    """A purl as an entry names a component; ValueError with the reason if it cannot."""
    if "*" in text:
        raise ValueError(
            f"purl {text!r} has a glob; an exception names one component (list each one)"
        )
    try:
        purl = PackageURL.from_string(text)
    except ValueError as exc:
        raise ValueError(f"purl {text!r} does not parse: {exc}") from None
    ident = parse_purl(text)
    if ident is None:
        raise ValueError(f"purl {text!r} does not parse")
    if purl.subpath:
        raise ValueError(f"purl {text!r} has a subpath (#...), which names a file, not a package")
    if versions is not None and ident.version is not None:
        raise ValueError(
            f"purl {text!r} names version {ident.version} and 'versions' gives a range; "
            "use one or the other"
        )
    raw = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    qualifiers = tuple(sorted((str(k), str(v)) for k, v in raw.items()))
    return Subject(text, ident, qualifiers, versions)


def parse_subject_image(text: str) -> Subject:
    """``REPOSITORY@sha256:DIGEST`` as an entry names an image; ValueError if it cannot."""
    image = parse_image(text)
    if image is None:
        raise ValueError(f"image {text!r} is not an image reference (REPOSITORY@sha256:DIGEST)")
    if image.digest is None:
        raise ValueError(
            f"image {text!r} has no digest; an exception names the reviewed bytes "
            "(REPOSITORY@sha256:DIGEST), since a tag can be moved"
        )
    return Subject(str(image), image=image)


def parse_versions(value: Any) -> VersionRange:
    """A ``versions`` value; ValueError with the reason."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"'versions' must be a string like '>=1.0,<2', found {describe(value)}")
    return parse_range(str(value))


def _versions(c: _Checker, mapping: dict[str, Any], key: Key) -> VersionRange | None:
    if mapping.get("versions") is None:
        return None
    try:
        return parse_versions(mapping["versions"])
    except ValueError as exc:
        c.add((*key, "versions"), str(exc))
        return None


def check_reference(
    reference: str, adr_ids: Collection[str] | None, adr_dir: str = "adr"
) -> str | None:
    """Why ``reference`` does not resolve, or None."""
    match = _ADR.fullmatch(reference)
    if match:
        if adr_ids is None or reference not in adr_ids:
            folder = adr_dir.rstrip("/")
            return f"{reference} does not resolve: no {folder}/{match.group(1)}-*.md file"
        return None
    if reference.upper().startswith("ADR"):
        return f"reference {reference!r} must look like ADR-0007 (four digits)"
    if reference.startswith("http://"):
        return f"reference {reference!r} must use https://"
    if reference.startswith("https://"):
        parts = urlsplit(reference)
        if not parts.netloc or any(c.isspace() for c in reference) or parts.path in ("", "/"):
            return f"reference {reference!r} must be the URL of the issue (https://HOST/PATH)"
        return None
    return (
        f"reference {reference!r} must be ADR-NNNN (a file in adr/) or the https:// URL "
        "of the issue where the exception was decided"
    )


def check_vulnerability_id(text: str) -> str | None:
    """Why ``text`` is not a vulnerability id, or None."""
    if text.upper().startswith("CVE-") and not _CVE.fullmatch(text):
        return f"{text!r} is not a CVE id (CVE-YYYY-NNNN, upper case)"
    if not _VULN_ID.fullmatch(text):
        return f"{text!r} is not a vulnerability id such as CVE-2024-3094 or GHSA-xxxx-xxxx-xxxx"
    return None


def check_license(
    text: str, normalizer: Normalizer
) -> tuple[str | None, Normalized | None, str | None]:
    """(rule id, parsed expression, problem) for an exception's ``license`` value."""
    if text in WAIVABLE_RULES:
        return text, None, None
    if text in OTHER_RULES:
        return None, None, f"rule {text!r} cannot be waived (waivable: {', '.join(WAIVABLE_RULES)})"
    if re.fullmatch(r"[a-z]+(?:-[a-z]+)+", text) and not _known(text):
        return (
            None,
            None,
            (f"{text!r} is neither a rule id ({', '.join(WAIVABLE_RULES)}) nor an SPDX expression"),
        )
    normalized = normalizer.normalize(text)
    if not normalized.ok or normalized.parsed is None:
        return None, None, f"license {text!r} is not an SPDX expression: {normalized.error}"
    unknown = [
        key
        for key in _symbol_keys(normalized)
        if not key.startswith("LicenseRef-") and not _known(key)
    ]
    if unknown:
        return (
            None,
            None,
            (
                f"license {text!r} names {', '.join(repr(k) for k in unknown)}, which "
                "SPDX does not know (a typo? use LicenseRef-... for a license of its own)"
            ),
        )
    return None, normalized, None


def _symbol_keys(normalized: Normalized) -> list[str]:
    keys: list[str] = []
    stack = [normalized.parsed]
    while stack:
        node = stack.pop()
        if isinstance(node, LicenseWithExceptionSymbol):
            stack.extend((node.license_symbol, node.exception_symbol))
        elif isinstance(node, LicenseSymbol):
            keys.append(str(node.key))
        else:
            stack.extend(getattr(node, "args", ()) or ())
    return keys


def _common(
    c: _Checker,
    entry: dict[str, Any],
    key: Key,
    adr_ids: Collection[str] | None,
    today: date,
    adr_dir: str,
) -> dict[str, Any] | None:
    ident = c.string(entry, "id", key, required=True)
    if ident is not None and not _ID.fullmatch(ident):
        c.add((*key, "id"), f"id {ident!r} must be letters, digits, '.', '_' and '-' (<= 64)")
        ident = None
    approver = c.string(entry, "approver", key, required=True)
    reference = c.string(entry, "reference", key, required=True)
    if reference is not None:
        problem = check_reference(reference, adr_ids, adr_dir)
        if problem:
            c.add((*key, "reference"), problem)
            reference = None
    created = c.day(entry, "created", key, required=True)
    expires = c.day(entry, "expires", key, required=True)
    if created is not None and created > today:
        c.add((*key, "created"), f"'created' is {created}, after today ({today})")
        created = None
    if created is not None and expires is not None and expires < created:
        c.add((*key, "expires"), f"'expires' ({expires}) is before 'created' ({created})")
        expires = None
    values: dict[str, Any] = {
        "id": ident,
        "approver": approver,
        "reference": reference,
        "created": created,
        "expires": expires,
    }
    if any(v is None for v in values.values()):
        return None
    values["origin"] = c.origin(key)
    return values


def _license_entry(
    c: _Checker, entry: dict[str, Any], key: Key, common: dict[str, Any] | None
) -> LicenseException | None:
    c.unknown_keys(entry, LICENSE_KEYS, key)
    subject: Subject | None = None
    component = c.string(entry, "component", key, required=False)
    image = c.string(entry, "image", key, required=False)
    if component is not None and image is not None:
        c.add(key, "give 'component' (a purl) or 'image' (REPOSITORY@sha256:DIGEST), not both")
    elif component is None and image is None:
        if entry.get("component") is None and entry.get("image") is None:
            c.add(key, "missing 'component' (a purl) or 'image' (REPOSITORY@sha256:DIGEST)")
    elif component is not None:
        versions = _versions(c, entry, key)
        try:
            subject = parse_subject_purl(component, versions)
        except ValueError as exc:
            c.add((*key, "component"), str(exc))
    elif image is not None:
        if entry.get("versions") is not None:
            c.add((*key, "versions"), "'versions' goes with 'component'; an image is its digest")
        try:
            subject = parse_subject_image(image)
        except ValueError as exc:
            c.add((*key, "image"), str(exc))
    license_text = c.string(entry, "license", key, required=True)
    rule: str | None = None
    expression: Normalized | None = None
    if license_text is not None:
        rule, expression, problem = check_license(license_text, SPDX_NORMALIZER)
        if problem:
            c.add((*key, "license"), problem)
            license_text = None
    reason = c.string(entry, "reason", key, required=True)
    if common is None or subject is None or license_text is None or reason is None:
        return None
    return LicenseException(
        **common,
        kind="license",
        subject=subject,
        license=license_text,
        rule=rule,
        expression=expression,
        reason=" ".join(reason.split()),
    )


def _products(c: _Checker, entry: dict[str, Any], key: Key) -> list[Subject] | None:
    raw = entry.get("products")
    here = (*key, "products")
    if raw is None:
        c.add(key, "missing required key 'products' (the purls the statement is about)")
        return None
    if not isinstance(raw, list) or not raw:
        c.add(here, f"'products' must be a non-empty list of purls, found {describe(raw)}")
        return None
    products: list[Subject] = []
    ok = True
    for i, item in enumerate(raw):
        at = (*here, i)
        versions: VersionRange | None = None
        if isinstance(item, dict):
            c.unknown_keys(item, ("purl", "versions"), at)
            text = c.string(item, "purl", at, required=True)
            versions = _versions(c, item, at)
            if item.get("versions") is not None and versions is None:
                ok = False
        elif isinstance(item, str) and item.strip():
            text = item.strip()
        else:
            c.add(at, f"a product must be a purl or a mapping with 'purl', found {describe(item)}")
            ok = False
            continue
        if text is None:
            ok = False
            continue
        try:
            products.append(parse_subject_purl(text, versions))
        except ValueError as exc:
            c.add((*at, "purl") if isinstance(item, dict) else at, str(exc))
            ok = False
    for i, product in enumerate(products):
        for other in products[:i]:
            if product.overlaps(other):
                c.add(here, f"products {other.describe()} and {product.describe()} overlap")
                ok = False
    return products if ok else None


def _vulnerability_entry(
    c: _Checker, entry: dict[str, Any], key: Key, common: dict[str, Any] | None
) -> VulnerabilityEntry | None:
    c.unknown_keys(entry, VULNERABILITY_KEYS, key)
    ok = True
    vulnerability = c.string(entry, "vulnerability", key, required=True)
    if vulnerability is not None:
        problem = check_vulnerability_id(vulnerability)
        if problem:
            c.add((*key, "vulnerability"), problem)
            vulnerability = None
    aliases = c.strings(entry, "aliases", key)
    seen: set[str] = set()
    for i, alias in enumerate(aliases):
        problem = check_vulnerability_id(alias)
        if problem:
            c.add((*key, "aliases", i), problem)
            ok = False
        elif alias == vulnerability:
            c.add((*key, "aliases", i), f"alias {alias!r} repeats the vulnerability id")
            ok = False
        elif alias in seen:
            c.add((*key, "aliases", i), f"alias {alias!r} is listed twice")
            ok = False
        seen.add(alias)
    cvss: float | None = None
    raw_cvss = entry.get("cvss")
    if raw_cvss is not None:
        if isinstance(raw_cvss, bool) or not isinstance(raw_cvss, (int, float)):
            c.add(
                (*key, "cvss"), f"'cvss' must be a number from 0 to 10, found {describe(raw_cvss)}"
            )
            ok = False
        elif not 0 <= raw_cvss <= 10:
            c.add((*key, "cvss"), f"'cvss' must be from 0 to 10, found {raw_cvss}")
            ok = False
        else:
            cvss = float(raw_cvss)
    products = _products(c, entry, key)
    status = c.string(entry, "status", key, required=True)
    if status is not None and status not in STATUSES:
        c.add((*key, "status"), f"status {status!r} must be one of {', '.join(STATUSES)}")
        status = None
    justification = c.string(entry, "justification", key, required=False)
    if justification is not None and justification not in JUSTIFICATIONS:
        c.add(
            (*key, "justification"),
            f"justification {justification!r} must be one of {', '.join(JUSTIFICATIONS)}",
        )
        ok = False
    impact = c.string(entry, "impact_statement", key, required=False)
    action = c.string(entry, "action_statement", key, required=False)
    if (
        status == "not_affected"
        and entry.get("justification") is None
        and entry.get("impact_statement") is None
    ):
        c.add(key, "status not_affected needs a 'justification' or an 'impact_statement'")
        ok = False
    if status == "affected" and action is None and entry.get("action_statement") is None:
        c.add(key, "status affected needs an 'action_statement' (what users should do)")
        ok = False
    if status is not None and status != "not_affected":
        for name in ("justification", "impact_statement"):
            if entry.get(name) is not None:
                c.add(
                    (*key, name),
                    f"{name!r} goes with status not_affected only (go-vex and vexctl refuse it "
                    f"on {status})",
                )
                ok = False
    if status is not None and status != "affected" and entry.get("action_statement") is not None:
        c.add(
            (*key, "action_statement"),
            f"'action_statement' goes with status affected only (go-vex and vexctl refuse it "
            f"on {status})",
        )
        ok = False
    response = c.strings(entry, "response", key)
    for i, item in enumerate(response):
        if item not in RESPONSES:
            c.add((*key, "response", i), f"response {item!r} must be one of {', '.join(RESPONSES)}")
            ok = False
    if len(set(response)) != len(response):
        c.add((*key, "response"), "'response' lists a value twice")
        ok = False
    patch_sla = c.day(entry, "patch_sla", key, required=False)
    if entry.get("patch_sla") is not None and patch_sla is None:
        ok = False
    if not ok or common is None or vulnerability is None or products is None or status is None:
        return None
    return VulnerabilityEntry(
        **common,
        kind="vulnerability",
        vulnerability=vulnerability,
        aliases=tuple(aliases),
        products=tuple(products),
        status=status,
        justification=justification,
        impact_statement=" ".join(impact.split()) if impact else None,
        action_statement=" ".join(action.split()) if action else None,
        response=tuple(response),
        cvss=cvss,
        patch_sla=patch_sla,
    )


def parse_register_file(
    doc: Located, adr_ids: Collection[str] | None, today: date, adr_dir: str = "adr"
) -> tuple[list[Entry], list[Problem]]:
    """The entries of one loaded register file and every problem in it."""
    c = _Checker(doc)
    data = doc.data
    if data is None:
        return [], []  # an empty file is an empty register
    if not isinstance(data, dict):
        c.add((), f"a register file must map 'version' and 'entries', not {describe(data)}")
        return [], c.problems
    c.unknown_keys(data, ("version", "entries"), ())
    if data.get("version") != REGISTER_VERSION:
        c.add(("version",), f"'version' must be {REGISTER_VERSION} (the only register format)")
    raw = data.get("entries")
    if "entries" not in data:
        c.add((), "missing key 'entries' (the list of exceptions; may be empty)")
    if raw is not None and not isinstance(raw, list):
        c.add(("entries",), f"'entries' must be a list, found {describe(raw)}")
        raw = None
    entries: list[Entry] = []
    for i, item in enumerate(raw or []):
        key: Key = ("entries", i)
        mapping = c.mapping(item, key, "an entry")
        if mapping is None:
            continue
        kind = c.string(mapping, "kind", key, required=True)
        common = _common(c, mapping, key, adr_ids, today, adr_dir)
        parsed: Entry | None = None
        if kind == "license":
            parsed = _license_entry(c, mapping, key, common)
        elif kind == "vulnerability":
            parsed = _vulnerability_entry(c, mapping, key, common)
        elif kind is not None:
            c.add((*key, "kind"), f"kind {kind!r} must be one of {', '.join(KINDS)}")
        if parsed is not None:
            entries.append(parsed)
    return entries, c.problems


def register_files(path: Path) -> list[Path]:
    """The register files of a folder (every ``*.yaml``/``*.yml``), or the file itself."""
    if path.is_dir():
        found = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
        return sorted(found)
    return [path]


def load_register(
    files: Sequence[Path],
    *,
    adr_ids: Collection[str] | None,
    today: date,
    texts: Mapping[Path, str] | None = None,
    adr_dir: str = "adr",
) -> RegisterCheck:
    """Load and validate register files; ``texts`` overrides what is on disk (``vex add``).

    ``adr_ids`` are the ``ADR-NNNN`` ids that exist (None: no ADR folder);
    ``adr_dir`` names that folder in messages.
    """
    result = RegisterCheck(Register())
    for path in files:
        name = str(path)
        result.register.files.append(name)
        text = texts.get(path) if texts else None
        if text is None:
            doc, problems = read_yaml_file(path, missing="not found")
        else:
            doc, problems = load_yaml(text, name)  # dates stay the text written
        result.errors.extend(problems)
        if doc is None:
            continue
        entries, problems = parse_register_file(doc, adr_ids, today, adr_dir)
        result.errors.extend(problems)
        result.register.entries.extend(entries)
    result.errors.extend(_duplicates(result.register.entries))
    result.errors.extend(overlap_problems(result.register.entries, today))
    expired, warnings = expiry_problems(result.register.entries, today)
    result.expired.extend(expired)
    result.warnings.extend(warnings)
    return result


def _problem(entry: Entry, message: str) -> Problem:
    return Problem(entry.origin.path, entry.origin.location, message)


def _duplicates(entries: Sequence[Entry]) -> list[Problem]:
    seen: dict[str, Entry] = {}
    problems: list[Problem] = []
    for entry in entries:
        first = seen.get(entry.id)
        if first is not None:
            problems.append(_problem(entry, f"duplicate id {entry.id!r} (first at {first.where})"))
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
                        _problem(
                            entry,
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
                    _problem(
                        vuln,
                        f"{vuln.id} overlaps {earlier.id} ({earlier.where}): both state "
                        f"{sorted(shared)[0]} for {mine.describe()} / {theirs.describe()}; "
                        "keep one current statement per vulnerability and product (Trivy "
                        "takes the newest, Grype the oldest)",
                    )
                )
    return problems


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def expiry_problems(entries: Sequence[Entry], today: date) -> tuple[list[Problem], list[Problem]]:
    """(expired entries, warnings: expiring within 30 days, patch SLAs passed)."""
    expired: list[Problem] = []
    warnings: list[Problem] = []
    for entry in entries:
        left = entry.days_left(today)
        if left < 0:
            expired.append(
                _problem(
                    entry,
                    f"{entry.id} expired on {entry.expires} ({_days(-left)} ago); renew it after a "
                    "new review (new approver, created and expires) or remove it",
                )
            )
        elif left <= EXPIRY_WARNING_DAYS:
            warnings.append(
                _problem(
                    entry,
                    f"{entry.id} expires on {entry.expires} "
                    f"({_days(left) + ' left' if left else 'its last day'}); review it before then",
                )
            )
        if (
            isinstance(entry, VulnerabilityEntry)
            and entry.patch_sla is not None
            and entry.patch_sla < today
            and entry.status in ("affected", "under_investigation")
        ):
            warnings.append(
                _problem(
                    entry,
                    f"{entry.id}: the patch SLA ({entry.patch_sla}) has passed and the status "
                    f"is still {entry.status}",
                )
            )
    return expired, warnings


def export_selection(
    register: Register, today: date, *, format_name: str
) -> tuple[list[VulnerabilityEntry], list[str]]:
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
    return selected, notes
