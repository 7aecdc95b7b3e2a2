"""A vulnerability entry of the register: an OpenVEX statement with its governance.

OpenVEX's rules are checked here, as go-vex and vexctl check them:
``not_affected`` needs a justification or an impact statement, ``affected``
an action statement, and each of those is refused on the statuses it does
not go with. Products are purls (every version, or one) or ``{purl,
versions}``; two products of one entry may not overlap, and an entry may
list its vulnerability's other ids as aliases. A problem that leaves the
statement meaningless makes the entry unusable
(:attr:`~checker.vex.fields.FieldReader.unusable`).
"""

from __future__ import annotations

from typing import Any

from checker.versions import VersionRange
from checker.vex.fields import (
    VULNERABILITY_KEYS,
    FieldReader,
    Governance,
    check_vulnerability_id,
    parse_subject_purl,
)
from checker.vex.model import Subject, VulnerabilityEntry
from checker.vex.vocabulary import Justification, Response, Status
from checker.yamlio import Key, describe


def _products(c: FieldReader, entry: dict[str, Any], key: Key) -> list[Subject] | None:
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
            versions = c.versions(item, at)
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


def _aliases(
    c: FieldReader, entry: dict[str, Any], key: Key, vulnerability: str | None
) -> list[str]:
    """The other ids of the vulnerability; a problem for each that is not one, or repeats."""
    aliases = c.strings(entry, "aliases", key)
    seen: set[str] = set()
    for i, alias in enumerate(aliases):
        problem = check_vulnerability_id(alias)
        if problem:
            c.reject((*key, "aliases", i), problem)
        elif alias == vulnerability:
            c.reject((*key, "aliases", i), f"alias {alias!r} repeats the vulnerability id")
        elif alias in seen:
            c.reject((*key, "aliases", i), f"alias {alias!r} is listed twice")
        seen.add(alias)
    return aliases


def _cvss(c: FieldReader, entry: dict[str, Any], key: Key) -> float | None:
    raw = entry.get("cvss")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        c.reject((*key, "cvss"), f"'cvss' must be a number from 0 to 10, found {describe(raw)}")
        return None
    if not 0 <= raw <= 10:
        c.reject((*key, "cvss"), f"'cvss' must be from 0 to 10, found {raw}")
        return None
    return float(raw)


def _status_rules(c: FieldReader, entry: dict[str, Any], key: Key, status: Status | None) -> None:
    """OpenVEX: what each status needs, and what go-vex and vexctl refuse on it."""
    if status is None:
        return
    if (
        status is Status.NOT_AFFECTED
        and entry.get("justification") is None
        and entry.get("impact_statement") is None
    ):
        c.reject(key, "status not_affected needs a 'justification' or an 'impact_statement'")
    if status is Status.AFFECTED and entry.get("action_statement") is None:
        c.reject(key, "status affected needs an 'action_statement' (what users should do)")
    if status is not Status.NOT_AFFECTED:
        for name in ("justification", "impact_statement"):
            if entry.get(name) is not None:
                c.reject(
                    (*key, name),
                    f"{name!r} goes with status not_affected only (go-vex and vexctl refuse it "
                    f"on {status})",
                )
    if status is not Status.AFFECTED and entry.get("action_statement") is not None:
        c.reject(
            (*key, "action_statement"),
            f"'action_statement' goes with status affected only (go-vex and vexctl refuse it "
            f"on {status})",
        )


def _responses(c: FieldReader, entry: dict[str, Any], key: Key) -> list[Response]:
    written = c.strings(entry, "response", key)
    responses: list[Response] = []
    for i, item in enumerate(written):
        response = c.member(Response, item, (*key, "response", i), "response")
        if response is not None:
            responses.append(response)
    if len(set(written)) != len(written):
        c.reject((*key, "response"), "'response' lists a value twice")
    return responses


def _prose(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def read_vulnerability(
    c: FieldReader, entry: dict[str, Any], key: Key, common: Governance | None
) -> VulnerabilityEntry | None:
    """The entry at ``key``, or None when a problem leaves it unusable."""
    c.unknown_keys(entry, VULNERABILITY_KEYS, key)
    start = c.unusable
    vulnerability = c.string(entry, "vulnerability", key, required=True)
    if vulnerability is not None:
        problem = check_vulnerability_id(vulnerability)
        if problem:
            c.add((*key, "vulnerability"), problem)
            vulnerability = None
    aliases = _aliases(c, entry, key, vulnerability)
    cvss = _cvss(c, entry, key)
    products = _products(c, entry, key)
    status = None
    written_status = c.string(entry, "status", key, required=True)
    if written_status is not None:
        status = c.member(Status, written_status, (*key, "status"), "status")
    justification = None
    written_justification = c.string(entry, "justification", key, required=False)
    if written_justification is not None:
        justification = c.member(
            Justification, written_justification, (*key, "justification"), "justification"
        )
    impact = c.string(entry, "impact_statement", key, required=False)
    action = c.string(entry, "action_statement", key, required=False)
    _status_rules(c, entry, key, status)
    response = _responses(c, entry, key)
    patch_sla = c.day(entry, "patch_sla", key, required=False)
    if entry.get("patch_sla") is not None and patch_sla is None:
        c.unusable += 1
    if c.unusable > start or common is None:
        return None
    if vulnerability is None or products is None or status is None:
        return None
    return VulnerabilityEntry(
        **common,
        vulnerability=vulnerability,
        aliases=tuple(aliases),
        products=tuple(products),
        status=status,
        justification=justification,
        impact_statement=_prose(impact),
        action_statement=_prose(action),
        response=tuple(response),
        cvss=cvss,
        patch_sla=patch_sla,
    )
