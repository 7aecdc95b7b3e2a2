"""Exporting the register's vulnerability entries as a CycloneDX 1.6 VEX BOM.

A VEX BOM lists the products as components and one ``vulnerabilities[]``
item per current entry, whose ``affects`` point at those components. Unlike
OpenVEX, CycloneDX has version ranges (``vers:``), so a product limited by
``versions`` is exported exactly. The mapping:

=========================  ==================================================
register                   CycloneDX
=========================  ==================================================
status                     ``analysis.state``: not_affected -> not_affected,
                           affected -> exploitable, fixed -> resolved,
                           under_investigation -> in_triage
justification              ``analysis.justification`` where the vocabularies
                           agree: component_not_present -> requires_dependency,
                           vulnerable_code_not_present -> code_not_present,
                           vulnerable_code_not_in_execute_path ->
                           code_not_reachable, inline_mitigations_already_exist
                           -> protected_by_mitigating_control;
                           vulnerable_code_cannot_be_controlled_by_adversary
                           has no counterpart and is stated in ``detail``
impact_statement           ``analysis.detail``
action_statement           ``recommendation``
response                   ``analysis.response`` (``fixed`` without one: update)
cvss                       ``ratings[]`` (score and its CVSS severity band)
aliases                    ``references[]``
governance                 ``properties[]`` (``rune:vex:*``: entry, reference,
                           approver, created, expires, patch SLA)
=========================  ==================================================

License exceptions are left out (a VEX BOM describes vulnerabilities). The
output is deterministic: sorted keys, entries ordered by vulnerability, the
timestamp from the newest ``created`` date and a serial number derived from
the content.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from packageurl import PackageURL

from checker.versions import Comparator
from checker.vex.export import Export
from checker.vex.model import Subject, VulnerabilityEntry
from checker.vex.vocabulary import Justification, Response, Status

SPEC_VERSION = "1.6"
STATES = {
    Status.NOT_AFFECTED: "not_affected",
    Status.AFFECTED: "exploitable",
    Status.FIXED: "resolved",
    Status.UNDER_INVESTIGATION: "in_triage",
}
AFFECTED_STATUS = {
    Status.NOT_AFFECTED: "unaffected",
    Status.AFFECTED: "affected",
    Status.FIXED: "unaffected",
    Status.UNDER_INVESTIGATION: "unknown",
}
JUSTIFICATIONS = {
    Justification.COMPONENT_NOT_PRESENT: "requires_dependency",
    Justification.VULNERABLE_CODE_NOT_PRESENT: "code_not_present",
    Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH: "code_not_reachable",
    Justification.INLINE_MITIGATIONS_ALREADY_EXIST: "protected_by_mitigating_control",
}


def _source(vulnerability: str) -> dict[str, str]:
    if vulnerability.startswith("CVE-"):
        return {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{vulnerability}"}
    if vulnerability.startswith("GHSA-"):
        return {
            "name": "GitHub Advisories",
            "url": f"https://github.com/advisories/{vulnerability}",
        }
    return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{vulnerability}"}


def _severity(score: float) -> str:
    """The CVSS v3/v4 qualitative band of a base score."""
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"


def vers(subject: Subject) -> str:
    """A ``versions`` range in vers syntax: ``>=1.4,<2`` is ``vers:npm/>=1.4|<2``."""
    assert subject.versions is not None and subject.ident is not None
    constraints: list[tuple[tuple[int, ...], str]] = []
    for op, bound, version in subject.versions.clauses:
        text = version if op is Comparator.EQ else f"{op}{version}"
        constraints.append((bound, text))
    constraints.sort()
    return f"vers:{subject.ident.type}/" + "|".join(text for _, text in constraints)


def _component(base: str) -> dict[str, Any]:
    purl = PackageURL.from_string(base)
    component: dict[str, Any] = {
        "bom-ref": base,
        "type": "container" if purl.type in ("oci", "docker") else "library",
        "name": purl.name,
        "purl": base,
    }
    if purl.namespace:
        component["group"] = purl.namespace
    return component


def _vulnerability(entry: VulnerabilityEntry) -> dict[str, Any]:
    analysis: dict[str, Any] = {
        "state": STATES[entry.status],
        "firstIssued": f"{entry.created.isoformat()}T00:00:00Z",
    }
    detail: list[str] = []
    if entry.impact_statement:
        detail.append(entry.impact_statement)
    if entry.justification is not None:
        mapped = JUSTIFICATIONS.get(entry.justification)
        if mapped is not None:
            analysis["justification"] = mapped
        else:
            detail.append(f"OpenVEX justification: {entry.justification}.")
    if detail:
        analysis["detail"] = " ".join(detail)
    response = list(entry.response) or ([Response.UPDATE] if entry.status is Status.FIXED else [])
    if response:
        analysis["response"] = response
    affects: list[dict[str, Any]] = []
    status = AFFECTED_STATUS[entry.status]
    for product in entry.products:
        base = product.base_purl
        item: dict[str, Any] = {"ref": base}
        if product.version is not None:
            item["versions"] = [{"version": product.version, "status": status}]
        elif product.versions is not None:
            item["versions"] = [{"range": vers(product), "status": status}]
        affects.append(item)
    out: dict[str, Any] = {
        "bom-ref": entry.id,
        "id": entry.vulnerability,
        "source": _source(entry.vulnerability),
        "analysis": analysis,
        "affects": sorted(affects, key=lambda a: json.dumps(a, sort_keys=True)),
        "properties": _properties(entry),
    }
    if entry.aliases:
        out["references"] = [{"id": a, "source": _source(a)} for a in entry.aliases]
    if entry.cvss is not None:
        out["ratings"] = [{"score": entry.cvss, "severity": _severity(entry.cvss)}]
    if entry.action_statement:
        out["recommendation"] = entry.action_statement
    return out


def _properties(entry: VulnerabilityEntry) -> list[dict[str, str]]:
    pairs = [
        ("rune:vex:entry", entry.id),
        ("rune:vex:reference", entry.reference),
        ("rune:vex:approver", entry.approver),
        ("rune:vex:created", entry.created.isoformat()),
        ("rune:vex:expires", entry.expires.isoformat()),
    ]
    if entry.patch_sla is not None:
        pairs.append(("rune:vex:patch_sla", entry.patch_sla.isoformat()))
    return [{"name": name, "value": value} for name, value in pairs]


def export_cyclonedx(entries: Sequence[VulnerabilityEntry], *, notes: Sequence[str] = ()) -> Export:
    """A CycloneDX 1.6 VEX BOM for current vulnerability entries (see the module doc)."""
    if not entries:
        return Export(
            "",
            list(notes),
            "nothing to export as CycloneDX VEX: the register has no current vulnerability entry",
        )
    components: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for product in entry.products:
            base = product.base_purl
            components.setdefault(base, _component(base))
    vulnerabilities = sorted(
        (_vulnerability(e) for e in entries), key=lambda v: (v["id"], v["bom-ref"])
    )
    body = {
        "components": [components[k] for k in sorted(components)],
        "vulnerabilities": vulnerabilities,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'rune-vex:{digest}')}",
        "version": 1,
        "metadata": {
            "timestamp": f"{max(e.created for e in entries).isoformat()}T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "rune-policy"}]},
        },
        **body,
    }
    text = json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return Export(text, list(notes))
