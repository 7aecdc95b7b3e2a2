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
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import orjson

from checker import __version__
from checker.model import Acceptance, Finding, Origin
from checker.report import ReportOptions
from checker.results import RunResult
from checker.rules import Rule, rule_info, rule_order

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
#: The key of our own fingerprint in ``partialFingerprints``; the version
#: suffix changes only if what is hashed changes.
FINGERPRINT_KEY = "runePolicyFinding/v1"
SRCROOT = "%SRCROOT%"

_EXPLAIN = " `rune-policy explain COMPONENT PATH...` prints the whole decision for one component."


def _descriptor(rule: Rule) -> dict[str, Any]:
    help_text = rule.help + _EXPLAIN
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": rule.level.value},
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
    if finding.also:
        # The same release elsewhere in the inputs: one alert, every place.
        out["relatedLocations"] = [
            {"id": number, **_location(origin, base)}
            for number, origin in enumerate(finding.also, start=1)
        ]
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
            "entries": result.entries,
            "errors": result.errors,
            "warnings": result.warnings,
            "accepted": sum(1 for f in result.findings if f.accepted is not None),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(result: RunResult, *, base: Path | None = None) -> str:
    """The SARIF 2.1.0 log of one run; paths relative to ``base`` (default: the cwd)."""
    return orjson.dumps(build(result, base=base), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def report(result: RunResult, options: ReportOptions) -> str:
    """The registry's entry point: locations relative to ``options.base``."""
    return render(result, base=options.base)
