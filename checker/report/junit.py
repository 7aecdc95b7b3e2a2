"""The JUnit XML report: what CI test UIs (GitLab, Jenkins, Azure, CircleCI) read.

CI systems already know how to show a list of tests that passed, failed or
were skipped, per file and over time; mapping the gate onto that shape puts
its verdicts where people look without a plugin:

* ``testsuites`` is the run; one ``testsuite`` per input file (an unreadable
  input too), with the file's format and component count as properties;
* one ``testcase`` per component and rule: a component with findings under
  two rules is two test cases, and a component with no findings is one
  passing test case, so the number of tests is the number of checks made and
  a pass rate means something;
* an error finding is a ``failure``; an unreadable input is an ``error`` (the
  input could not be checked at all, which is what JUnit's error means);
  a finding accepted by the VEX register is ``skipped`` with the entry,
  reference, approver and expiry as the reason; warnings do not fail a test
  and go to ``system-out``.

A component is identified as findings identify it (name, version, purl), so
its test cases show every finding about that component in the run, whichever
input the evidence came from: a lockfile entry whose license was joined from
an SBOM fails in both files' suites, which is where a reader looks for it.

Built with :mod:`xml.etree.ElementTree`, which escapes markup; characters
that XML 1.0 cannot carry at all (control characters from a hostile SBOM)
are replaced first, since escaping cannot make them legal.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field

from checker.evaluation import component_ref
from checker.model import ComponentRef, Finding, Severity
from checker.report import ReportOptions, also_text
from checker.results import RunResult
from checker.rules import RuleId, rule_order

#: Test cases for a component with no findings use this class name; those for
#: a rule use ``rune-policy.<rule>``, so Jenkins groups them by rule.
CLASSNAME = "rune-policy"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` with every character XML 1.0 forbids shown as ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def label(ref: ComponentRef) -> str:
    """A test name that tells components apart: name@version, then the purl."""
    text = f"{ref.name}@{ref.version}" if ref.version else ref.name
    return f"{text} ({ref.purl})" if ref.purl else text


def _describe(finding: Finding) -> str:
    lines = [f"{finding.severity.value.upper()} {finding.rule}: {finding.message}"]
    lines.append(f"  at {finding.source}")
    if finding.policy_entry:
        lines.append(f"  policy entry: {finding.policy_entry}")
    if finding.license is not None:
        source = f" (from {finding.license_source})" if finding.license_source else ""
        lines.append(f"  license: {finding.license}{source}")
    if finding.path:
        lines.append(f"  path: {' → '.join((*finding.path, finding.component.name))}")
    also = also_text(finding)
    if also:
        lines.append(f"  also in: {also}")
    if finding.accepted is not None:
        lines.append(f"  accepted: {_acceptance(finding)}")
    return "\n".join(lines)


def _acceptance(finding: Finding) -> str:
    accepted = finding.accepted
    if accepted is None:
        return ""
    return (
        f"VEX register entry {accepted.entry} ({accepted.reference}), approved by "
        f"{accepted.approver}, expires {accepted.expires.isoformat()}: {accepted.reason}"
    )


@dataclass(slots=True)
class _Suite:
    name: str
    format: str | None = None
    components: int = 0
    refs: dict[ComponentRef, None] = field(default_factory=dict)
    orphans: dict[tuple[ComponentRef, RuleId], list[Finding]] = field(default_factory=dict)


def _testcase(ref: ComponentRef, rule: str | None, findings: list[Finding]) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"name": clean(label(ref)), "classname": f"{CLASSNAME}.{rule}" if rule else CLASSNAME},
    )
    failing = [f for f in findings if f.severity is Severity.ERROR and f.accepted is None]
    accepted = [f for f in findings if f.accepted is not None]
    warnings = [f for f in findings if f.severity is Severity.WARNING and f.accepted is None]
    if failing:
        tag = "error" if rule == "unreadable-input" else "failure"
        element = ET.SubElement(
            case, tag, {"message": clean(failing[0].message), "type": clean(failing[0].rule)}
        )
        element.text = clean("\n\n".join(_describe(f) for f in failing))
    elif accepted:
        element = ET.SubElement(
            case, "skipped", {"message": clean(f"accepted: {_acceptance(accepted[0])}")}
        )
        element.text = clean("\n\n".join(_describe(f) for f in accepted))
    if warnings:
        out = ET.SubElement(case, "system-out")
        out.text = clean("\n\n".join(_describe(f) for f in warnings))
    return case


def _suites(
    result: RunResult,
) -> tuple[list[_Suite], dict[tuple[ComponentRef, RuleId], list[Finding]]]:
    """Suites in input order, and the findings of components the inputs hold."""
    suites: dict[str, _Suite] = {}
    for read in result.inputs:
        suite = suites.setdefault(read.path, _Suite(read.path, read.format))
        suite.components += len(read.components)
        for component in read.components:
            suite.refs[component_ref(component)] = None
    for error in result.input_errors:
        suites.setdefault(error.problem.path, _Suite(error.problem.path, "unreadable"))
    known: set[ComponentRef] = set()
    for suite in suites.values():
        known.update(suite.refs)
    by_ref: dict[tuple[ComponentRef, RuleId], list[Finding]] = defaultdict(list)
    extra: dict[str, _Suite] = {}
    for finding in result.findings:
        ref = finding.component
        if ref in known:
            by_ref[(ref, finding.rule)].append(finding)
            continue
        # About no component an input holds: the input itself (input-warning,
        # unreadable-input), or something outside the inputs (a VEX register
        # entry that matched nothing). File it under the input it names, else
        # under the file the finding points at.
        if finding.source.path in suites:
            home = suites[finding.source.path]
        elif ref.name in suites:
            home = suites[ref.name]
        else:
            home = extra.setdefault(finding.source.path, _Suite(finding.source.path))
        home.orphans.setdefault((ref, finding.rule), []).append(finding)
    ordered = [*suites.values(), *(extra[k] for k in sorted(extra))]
    return ordered, by_ref


def build(result: RunResult) -> ET.Element:
    """The ``testsuites`` element (what :func:`render` serializes; tests inspect it)."""
    suites, by_ref = _suites(result)
    rules_of: dict[ComponentRef, list[RuleId]] = defaultdict(list)
    for ref, rule in by_ref:
        rules_of[ref].append(rule)
    root = ET.Element("testsuites", {"name": CLASSNAME})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        cases: list[ET.Element] = []
        for ref in suite.refs:
            rules = sorted(rules_of.get(ref, ()), key=rule_order)
            if not rules:
                cases.append(_testcase(ref, None, []))
            for rule in rules:
                cases.append(_testcase(ref, rule, by_ref[(ref, rule)]))
        for (ref, rule), findings in suite.orphans.items():
            cases.append(_testcase(ref, rule, findings))
        counts = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        element = ET.SubElement(
            root,
            "testsuite",
            {"name": clean(suite.name), **{k: str(v) for k, v in counts.items()}},
        )
        properties = ET.SubElement(element, "properties")
        if suite.format is not None:
            ET.SubElement(properties, "property", {"name": "format", "value": suite.format})
            ET.SubElement(
                properties, "property", {"name": "components", "value": str(suite.components)}
            )
        if not len(properties):
            element.remove(properties)
        element.extend(cases)
        for key, value in counts.items():
            totals[key] += value
    root.attrib.update({k: str(v) for k, v in totals.items()})
    return root


def render(result: RunResult) -> str:
    """The JUnit XML document of one run (UTF-8, indented, deterministic)."""
    root = build(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def report(result: RunResult, options: ReportOptions) -> str:
    """The registry's entry point (:mod:`checker.report`): the JUnit XML of the run."""
    return render(result)
