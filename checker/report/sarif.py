"""The SARIF 2.1.0 report: what GitHub code scanning and other SARIF viewers read.

One run, one ``reportingDescriptor`` per rule id the run used, one result per
finding. The choices below are what make the alerts useful in code scanning
rather than merely valid:

* locations are repo-relative URIs under ``%SRCROOT%`` (code scanning needs
  paths relative to the checkout, and the same path every run, to match an
  alert across runs); a file outside the current directory keeps an
  absolute ``file://`` URI;
* ``line N`` locations become a ``region``, so the alert sits on the line;
  JSON and XML paths cannot be turned into a line without reading the file
  again, so they become a ``logicalLocation`` (and are repeated in the message,
  which is what code scanning shows) and the alert is on the whole file;
* ``partialFingerprints`` hold a hash of rule, component, file and dependency
  path, not of the line or the JSON index: regenerating an SBOM reorders its
  components, and that must not close one alert and open an identical one;
* accepted findings keep their level and carry an external, accepted
  ``suppression`` naming the VEX register entry and its reference: viewers
  then show them as suppressed instead of dropping what was waived.

Output is deterministic: the same run gives the same bytes (no timestamps, no
absolute paths for files under the current directory, rules in a fixed order).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import orjson

from checker import __version__
from checker.gate import RunResult
from checker.model import Acceptance, Finding, Origin

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
#: The key of our own fingerprint in ``partialFingerprints``; the version
#: suffix changes only if what is hashed changes.
FINGERPRINT_KEY = "runePolicyFinding/v1"
SRCROOT = "%SRCROOT%"

_EXPLAIN = " `rune-policy explain COMPONENT PATH...` prints the whole decision for one component."


@dataclass(frozen=True, slots=True)
class Rule:
    """What a reviewer needs to know about a rule id: what it means and what to do."""

    id: str
    name: str
    short: str
    full: str
    help: str
    level: str
    tags: tuple[str, ...]


#: Every stable rule id (see :mod:`checker.gate`), in the order reports list them:
#: decisions about what is shipped first, then licenses, then the inputs.
RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "rejected-component",
            "RejectedComponent",
            "Component rejected by the decision table",
            "The decision table (policy/dependencies.yaml) rejects this component, whatever "
            "its license says; the row names the ADR that gives the reason.",
            "Remove the component from what is shipped or replace it with the approved "
            "alternative the ADR names. If the decision itself should change, supersede the "
            "ADR and change the row in a reviewed pull request; a time-limited exception goes "
            "in the VEX register with an approver, a reference and an expiry date.",
            "error",
            ("supply-chain", "decision-table"),
        ),
        Rule(
            "bundled-byo",
            "BundledBringYourOwn",
            "Bring-your-own component is shipped",
            "The decision table approves this component only as bring-your-own (the operator "
            "installs it), but the scanned artifact ships it: what the gate scans is what the "
            "project ships.",
            "Remove the component from the image, chart or lockfile that is shipped and "
            "document the install step for operators instead.",
            "error",
            ("supply-chain", "decision-table"),
        ),
        Rule(
            "unapproved-stack-component",
            "UnapprovedStackComponent",
            "PostgreSQL-stack component the decision table does not decide",
            "A PostgreSQL driver, image, operator or chart that has no row in the decision "
            "table. Unknown is not approved.",
            "Add a row to policy/dependencies.yaml (approved, approved-byo or rejected) backed "
            "by an ADR before shipping the component, or use an approved one instead.",
            "error",
            ("supply-chain", "decision-table"),
        ),
        Rule(
            "denied-license",
            "DeniedLicense",
            "License not allowed by the license policy",
            "No branch of the component's license expression is allowed for this kind of "
            "component under policy/licenses.yaml.",
            "Replace the component, or use a release or distribution under an allowed "
            "license. If the SBOM states the license wrongly, fix the SBOM or its generator. "
            "If this use is acceptable, record a license exception in the VEX register with an "
            "ADR or issue reference, an approver and an expiry date.",
            "error",
            ("supply-chain", "license"),
        ),
        Rule(
            "unknown-license",
            "UnknownLicense",
            "License missing, unreadable or not known to the policy",
            "The component states no license, one that does not parse, or a license id the "
            "policy does not know. The gate fails closed (a warning only for operating-system "
            "packages inside an image).",
            "Find the component's actual license (package metadata, upstream repository) and "
            "make the SBOM state it, or give an input that does (an SBOM or --env beside a "
            "lockfile). Non-SPDX names can be mapped in the normalization table of "
            "policy/licenses.yaml.",
            "error",
            ("supply-chain", "license"),
        ),
        Rule(
            "ambiguous-license",
            "AmbiguousLicense",
            "Verdict rests on an ambiguous license name",
            "The license was given as an ambiguous name (such as BSD) that the policy maps to "
            "a specific license; the verdict depends on that mapping being right.",
            "Check the component's license text and state the exact SPDX id in the SBOM, or in "
            "the decision table row for the component.",
            "warning",
            ("supply-chain", "license"),
        ),
        Rule(
            "license-mismatch",
            "LicenseMismatch",
            "Decision table and evidence disagree on the license",
            "The decision table records one license for the component and the input states "
            "another.",
            "Check the component's license at its source and correct whichever is wrong: the "
            "decision table row or the SBOM.",
            "error",
            ("supply-chain", "license", "decision-table"),
        ),
        Rule(
            "unpinned-image",
            "UnpinnedImage",
            "Approved image is not pinned by digest",
            "An approved container image is referenced by tag only; a tag can move, so the "
            "image that runs may not be the one that was reviewed.",
            "Pin the image as IMAGE:TAG@sha256:DIGEST.",
            "warning",
            ("supply-chain", "image"),
        ),
        Rule(
            "expired-exception",
            "ExpiredException",
            "VEX register exception has expired",
            "An exception in the VEX register matches this finding but its expiry date has "
            "passed, so the finding counts again.",
            "Fix what the exception waived, or renew the exception after review: a new expiry "
            "date, an approver and a reference (ADR or issue).",
            "error",
            ("supply-chain", "vex"),
        ),
        Rule(
            "unused-exception",
            "UnusedException",
            "VEX register exception matched nothing",
            "An exception in the VEX register matched no finding in this run: the component "
            "is gone, or the entry's component, versions or rule are wrong.",
            "Remove the entry from the VEX register, or correct it so it matches what it was "
            "meant to waive.",
            "warning",
            ("supply-chain", "vex"),
        ),
        Rule(
            "input-warning",
            "InputWarning",
            "Something odd about an input that was read anyway",
            "The input was read, but something in it was skipped or guessed; the result may be "
            "incomplete.",
            "Read the message and fix the input or the tool that generated it.",
            "warning",
            ("input",),
        ),
        Rule(
            "input-error",
            "InputError",
            "Something in an input that may be a component could not be read as one",
            "The reader met an element it cannot place (a component without a name, a purl "
            "that does not parse or contradicts the component's type, a component in an "
            "unknown XML namespace, package fields outside a package). Dropping it could hide "
            "a rejected component, so the run fails instead.",
            "Fix the input or the tool that generated it; the message says where the element "
            "is and what was expected.",
            "error",
            ("input",),
        ),
        Rule(
            "unreadable-input",
            "UnreadableInput",
            "Input could not be read",
            "An input could not be read or parsed. The other inputs were still checked, but "
            "the run exits 3 until this one reads.",
            "Fix or regenerate the file; the message says where reading stopped.",
            "error",
            ("input",),
        ),
    )
}


def rule_info(rule_id: str) -> Rule:
    """The catalogue entry for ``rule_id``, or a generic one for an id added later.

    A new rule must never make a report fail to render; it gets a descriptor
    that says where to look until it is described here.
    """
    known = RULES.get(rule_id)
    if known is not None:
        return known
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id)) or "Rule"
    return Rule(
        rule_id,
        name,
        f"rune-policy rule {rule_id}",
        f"Findings of the rune-policy rule {rule_id}.",
        "Read the finding's message.",
        "warning",
        ("supply-chain",),
    )


_ORDER = {rule_id: i for i, rule_id in enumerate(RULES)}


def rule_order(rule_id: str) -> tuple[int, str]:
    """Catalogue order; ids not in the catalogue after it, alphabetically."""
    return (_ORDER[rule_id], "") if rule_id in _ORDER else (len(_ORDER), rule_id)


def _descriptor(rule: Rule) -> dict[str, Any]:
    help_text = rule.help + _EXPLAIN
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": rule.level},
        "properties": {"tags": list(rule.tags)},
    }


_LINE = re.compile(r"^line (\d+)(?: column (\d+))?$")
_BYTE = re.compile(r"^byte (\d+)$")


def region(location: str) -> dict[str, int] | None:
    """A SARIF region for ``line N``, ``line N column C`` or ``byte N``; else None."""
    match = _LINE.match(location)
    if match is not None:
        line = int(match.group(1))
        if line < 1:
            return None
        out = {"startLine": line}
        if match.group(2) is not None and int(match.group(2)) >= 1:
            out["startColumn"] = int(match.group(2))
        return out
    match = _BYTE.match(location)
    if match is not None:
        return {"byteOffset": int(match.group(1))}
    return None


def artifact_location(path: str, base: Path) -> dict[str, str]:
    """The ``artifactLocation`` of ``path``: relative to ``base`` when it is inside it.

    Code scanning places an alert only on a repository-relative path, and
    matches alerts across runs by that path; the action runs the gate from
    the checkout root, so ``base`` is the current directory. Paths are not
    resolved through links: the path the user gave is the one they know.
    """
    base_normalized = Path(os.path.abspath(base))
    native = Path(path)
    absolute = native if native.is_absolute() else base_normalized / native
    normalized = Path(os.path.normpath(absolute))
    if normalized.is_relative_to(base_normalized):
        relative = PurePosixPath(*normalized.relative_to(base_normalized).parts)
        return {"uri": quote(str(relative), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": normalized.as_uri()}


def _logical_kind(location: str) -> str | None:
    if location.startswith("$"):
        return "value"
    if location.startswith("/"):
        return "element"
    return None


def _location(origin: Origin, base: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(origin.path, base)}
    out: dict[str, Any] = {"physicalLocation": physical}
    if not origin.location:
        return out
    found = region(origin.location)
    if found is not None:
        physical["region"] = found
    else:
        logical: dict[str, Any] = {"fullyQualifiedName": origin.location}
        kind = _logical_kind(origin.location)
        if kind is not None:
            logical["kind"] = kind
        out["logicalLocations"] = [logical]
    return out


def _identity(finding: Finding) -> str:
    """Who the finding is about, as stably as the input allows.

    For findings about an input itself (``input-warning``,
    ``unreadable-input``) the component is the file, so the place and the
    message are what tell two of them apart.
    """
    component = finding.component
    if component.purl:
        return component.purl
    if component.version:
        return f"{component.name}@{component.version}"
    if component.name == finding.source.path:
        return f"{component.name}\0{finding.source.location}\0{finding.message}"
    return component.name


def fingerprint(finding: Finding, uri: str) -> str:
    """A stable hash of rule, component, file and dependency path (not line or index)."""
    parts = (finding.rule, _identity(finding), uri, "\0".join(finding.path))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _append(text: str, sentence: str) -> str:
    end = "" if text.endswith((".", "!", "?", ")")) else "."
    return f"{text}{end} {sentence}"


def _message(finding: Finding, has_region: bool) -> str:
    """The alert text: code scanning shows only this, so it carries the JSON or XML path.

    A finding about an input itself (its component is the file) gets the file
    name as its subject, since its message starts with the verb.
    """
    text = finding.message
    if finding.component.name == finding.source.path and not finding.component.version:
        text = f"{finding.source.path}: {text}"
    if finding.source.location and not has_region:
        text += f" (at {finding.source.location})"
    if finding.path:
        text = _append(text, f"Path: {' → '.join((*finding.path, finding.component.name))}.")
    if finding.license_source and finding.license_source != "the input":
        text = _append(text, f"License from {finding.license_source}.")
    return text


def _properties(finding: Finding) -> dict[str, Any]:
    component = {
        key: value
        for key, value in (
            ("name", finding.component.name),
            ("version", finding.component.version),
            ("purl", finding.component.purl),
        )
        if value is not None
    }
    props: dict[str, Any] = {"component": component, "severity": finding.severity.value}
    if finding.license is not None:
        props["license"] = finding.license
    if finding.policy_entry is not None:
        props["policy_entry"] = finding.policy_entry
    if finding.path:
        props["path"] = list(finding.path)
    if finding.license_source:
        props["license_source"] = finding.license_source
    return props


def _suppression(accepted: Acceptance, base: Path) -> dict[str, Any]:
    """An external, accepted suppression: the waiver lives in the VEX register."""
    return {
        "kind": "external",
        "status": "accepted",
        "justification": (
            f"{accepted.reference}: {accepted.reason} (VEX register entry {accepted.entry}, "
            f"approved by {accepted.approver}, expires {accepted.expires.isoformat()})"
        ),
        "location": _location(accepted.origin, base),
        "properties": {
            "entry": accepted.entry,
            "reference": accepted.reference,
            "approver": accepted.approver,
            "expires": accepted.expires.isoformat(),
        },
    }


def _result(finding: Finding, rule_index: int, base: Path) -> dict[str, Any]:
    location = _location(finding.source, base)
    physical = location["physicalLocation"]
    has_region = "startLine" in physical.get("region", {})
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding.severity.value,
        "message": {"text": _message(finding, has_region)},
        "locations": [location],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint(finding, physical["artifactLocation"]["uri"])
        },
    }
    if finding.accepted is not None:
        out["suppressions"] = [_suppression(finding.accepted, base)]
    out["properties"] = _properties(finding)
    return out


def build(result: RunResult, *, base: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (what :func:`render` serializes; tests inspect it)."""
    root = base if base is not None else Path.cwd()
    used = sorted({f.rule for f in result.findings}, key=rule_order)
    index = {rule_id: i for i, rule_id in enumerate(used)}
    driver: dict[str, Any] = {
        "name": "rune-policy",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_descriptor(rule_info(rule_id)) for rule_id in used],
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule], root) for f in result.findings],
        "properties": {
            "verdict": result.verdict,
            "components": result.components,
            "errors": result.errors,
            "warnings": result.warnings,
            "accepted": sum(1 for f in result.findings if f.accepted is not None),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(result: RunResult, *, base: Path | None = None) -> str:
    """The SARIF 2.1.0 log of one run; paths relative to ``base`` (default: the cwd)."""
    return orjson.dumps(build(result, base=base), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
