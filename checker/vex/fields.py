"""Reading one field of a register entry: its value checked, its problem at its line.

Two layers. The value checks (:func:`parse_subject_purl`,
:func:`check_reference`, :func:`check_license`, ...) take the text as
written and return the parsed value or say why it is not one, in words a
reviewer can act on; they know nothing of YAML, so ``vex add`` and the
tests can call them on plain text. :class:`FieldReader` reads a key of a
loaded entry through them and records each problem at the key's line,
which is how the schema (:mod:`checker.vex.schema`,
:mod:`checker.vex.statement`) collects every problem in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict
from urllib.parse import urlsplit

from license_expression import LicenseSymbol, LicenseWithExceptionSymbol
from packageurl import PackageURL

from checker.images import parse_image
from checker.licenses import Normalized, Normalizer, _known
from checker.matching import parse_purl
from checker.model import Origin
from checker.rules import RULES, WAIVABLE, RuleId
from checker.versions import VersionRange, parse_range
from checker.vex.model import Subject
from checker.vex.vocabulary import E, choices, member
from checker.yamlio import Collector, Key, Located, describe

#: The keys of an entry.
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
#: How the register writes a date (it reads dates as this text, not as YAML timestamps).
DATE_WRITTEN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ADR = re.compile(r"^ADR-(\d{4})$")
_VULN_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_RULE_LIKE = re.compile(r"[a-z]+(?:-[a-z]+)+")


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


@dataclass(frozen=True, slots=True)
class LicenseCheck:
    """What an exception's ``license`` value waives: one rule, or one SPDX expression.

    Exactly one of the three is set: ``problem`` when the value is neither.
    """

    rule: RuleId | None = None
    expression: Normalized | None = None
    problem: str | None = None


def check_license(text: str, normalizer: Normalizer) -> LicenseCheck:
    """Read an exception's ``license`` value as a waivable rule id or an SPDX expression."""
    waivable = ", ".join(WAIVABLE)
    if text in WAIVABLE:
        return LicenseCheck(rule=RuleId(text))
    if text in RULES:
        return LicenseCheck(problem=f"rule {text!r} cannot be waived (waivable: {waivable})")
    if _RULE_LIKE.fullmatch(text) and not _known(text):
        return LicenseCheck(
            problem=f"{text!r} is neither a rule id ({waivable}) nor an SPDX expression"
        )
    normalized = normalizer.normalize(text)
    if not normalized.ok or normalized.parsed is None:
        return LicenseCheck(
            problem=f"license {text!r} is not an SPDX expression: {normalized.error}"
        )
    unknown = [
        key
        for key in _symbol_keys(normalized)
        if not key.startswith("LicenseRef-") and not _known(key)
    ]
    if unknown:
        return LicenseCheck(
            problem=(
                f"license {text!r} names {', '.join(repr(k) for k in unknown)}, which "
                "SPDX does not know (a typo? use LicenseRef-... for a license of its own)"
            )
        )
    return LicenseCheck(expression=normalized)


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


# --------------------------------------------------------------------------- reading


class FieldReader(Collector):
    """The register's field checks on top of the shared YAML problem collector.

    ``unusable`` counts the problems that leave the entry being read without
    a usable value (a reader compares it before and after); others, such as
    an unknown key, are reported while the entry is still built, so the
    checks across entries see it.
    """

    def __init__(self, doc: Located) -> None:
        super().__init__(doc)
        self.unusable = 0

    def reject(self, key: Key, message: str) -> None:
        """A problem that makes the entry unusable."""
        self.add(key, message)
        self.unusable += 1

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

    def member(self, enum: type[E], text: str, here: Key, what: str) -> E | None:
        """``text`` as a member of ``enum``, or None with the problem recorded."""
        found = member(enum, text)
        if found is None:
            self.reject(here, f"{what} {text!r} must be one of {choices(enum)}")
        return found

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
        if not DATE_WRITTEN.fullmatch(text):
            self.add(here, f"{name!r} must be a date written YYYY-MM-DD, found {text!r}")
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            self.add(here, f"{name!r} is {text!r}, which is not a calendar date ({exc})")
            return None

    def versions(self, mapping: dict[str, Any], key: Key) -> VersionRange | None:
        if mapping.get("versions") is None:
            return None
        try:
            return parse_versions(mapping["versions"])
        except ValueError as exc:
            self.add((*key, "versions"), str(exc))
            return None


class Governance(TypedDict):
    """What every entry records about its review: who, under which decision, when.

    The keyword arguments every :class:`~checker.vex.model.Entry` is built with.
    """

    id: str
    approver: str
    reference: str
    created: date
    expires: date
    origin: Origin


def read_governance(
    c: FieldReader,
    entry: dict[str, Any],
    key: Key,
    adr_ids: Collection[str] | None,
    today: date,
    adr_dir: str,
) -> Governance | None:
    """The review fields every entry has; None if one is missing or wrong."""
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
    if ident is None or approver is None or reference is None:
        return None
    if created is None or expires is None:
        return None
    return Governance(
        id=ident,
        approver=approver,
        reference=reference,
        created=created,
        expires=expires,
        origin=c.origin(key),
    )
