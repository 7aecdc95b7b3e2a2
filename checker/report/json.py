"""The JSON report: the contract CI and other tools read.

``report_version`` changes only when a field changes meaning or disappears;
fields may be added within a version.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from checker.model import Finding
from checker.report import ReportOptions
from checker.results import RunResult

REPORT_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "component": {
            "name": finding.component.name,
            "version": finding.component.version,
            "purl": finding.component.purl,
        },
        "license": finding.license,
        "policy_entry": finding.policy_entry,
        "source": {"path": finding.source.path, "location": finding.source.location},
        "message": finding.message,
    }
    if finding.path:
        out["path"] = list(finding.path)
    if finding.license_source:
        out["license_source"] = finding.license_source
    if finding.also:
        out["also"] = [{"path": o.path, "location": o.location} for o in finding.also]
    if finding.accepted is not None:
        accepted = finding.accepted
        out["accepted"] = {
            "entry": accepted.entry,
            "reference": accepted.reference,
            "approver": accepted.approver,
            "expires": accepted.expires.isoformat(),
            "reason": accepted.reason,
            "source": {"path": accepted.origin.path, "location": accepted.origin.location},
        }
    return out


def render(result: RunResult) -> str:
    report = {
        "report_version": REPORT_VERSION,
        "verdict": result.verdict,
        "summary": {
            "components": result.components,
            "entries": result.entries,
            "inputs": len(result.inputs),
            "errors": result.errors,
            "warnings": result.warnings,
            "accepted": result.accepted,
        },
        "inputs": [
            {"path": r.path, "format": r.format, "components": len(r.components)}
            for r in result.inputs
        ],
        "findings": [finding_dict(f) for f in result.findings],
        "skipped_folders": [
            {"path": path, "reason": reason} for path, reason in result.skipped_folders
        ],
    }
    try:
        return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
    except orjson.JSONEncodeError:
        # A string that is not valid Unicode (a lone surrogate from a file name
        # or installed metadata): the standard library escapes it, so the
        # report is still written and still valid JSON.
        return json.dumps(report, indent=2, ensure_ascii=True) + "\n"


def report(result: RunResult, options: ReportOptions) -> str:
    """The registry's entry point (:mod:`checker.report`): the JSON contract of the run."""
    return render(result)
