"""The JUnit report, read back the way a CI test UI reads it.

Each test parses the XML with ElementTree and checks that the counts a CI UI
shows (tests, failures, errors, skipped) agree with the findings, that every
component is a test, and that hostile text cannot break the document.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from checker.evaluation import component_ref
from checker.gate import check
from checker.model import (
    Acceptance,
    Component,
    ComponentRef,
    Finding,
    Origin,
    ReadResult,
    Severity,
)
from checker.policy import Policy, load_policy
from checker.report import junit
from checker.results import RunResult
from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "tests" / "data" / "gate"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


@pytest.fixture(scope="module")
def mixed(policy: Policy) -> RunResult:
    return check([GATE / "mixed-verdicts.cdx.json"], policy)


def parse(result: RunResult) -> ET.Element:
    text = junit.render(result)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


def assert_counts_consistent(root: ET.Element) -> None:
    """The attributes a CI UI trusts match the test cases they summarize."""
    totals: Counter[str] = Counter()
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        seen = Counter(outcome(c) for c in cases)
        assert int(suite.get("tests", "-1")) == len(cases)
        for tag, attribute in (
            ("failure", "failures"),
            ("error", "errors"),
            ("skipped", "skipped"),
        ):
            assert int(suite.get(attribute, "-1")) == seen[tag], (suite.get("name"), attribute)
            totals[attribute] += seen[tag]
        totals["tests"] += len(cases)
        names = [(c.get("classname"), c.get("name")) for c in cases]
        assert len(names) == len(set(names)), "test cases in a suite are unique"
    for attribute in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(attribute, "-1")) == totals[attribute]


def test_failing_fixture_counts_match_findings(mixed: RunResult) -> None:
    root = parse(mixed)
    assert_counts_consistent(root)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == str(GATE / "mixed-verdicts.cdx.json")
    errors = {(f.component, f.rule) for f in mixed.findings if f.severity is Severity.ERROR}
    warned = {(f.component, f.rule) for f in mixed.findings if f.severity is Severity.WARNING}
    with_findings = {ref for ref, _ in errors | warned}
    clean = {c.name for c in mixed.inputs[0].components} - {r.name for r in with_findings}
    assert int(suite.get("failures", "-1")) == len(errors)
    assert int(suite.get("tests", "-1")) == len(errors | warned) + len(clean)
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    left = cases[("rune-policy.denied-license", "left@1.0.0 (pkg:npm/left@1.0.0)")]
    failure = left.find("failure")
    assert failure is not None and failure.get("type") == "denied-license"
    assert "MIT AND AGPL-3.0-only" in (failure.text or "")
    assert outcome(cases[("rune-policy", "right@1.0.0 (pkg:npm/right@1.0.0)")]) == "passed"
    weird = cases[("rune-policy.ambiguous-license", "weird@1.0.0 (pkg:npm/weird@1.0.0)")]
    assert outcome(weird) == "passed", "a warning does not fail a test"
    assert "ambiguous" in (weird.findtext("system-out") or "")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"format": "cyclonedx-json", "components": "8"}


def test_passing_fixture_is_one_passing_case_per_component(policy: Policy) -> None:
    result = check([GATE / "psycopg-lgpl.cdx.json"], policy)
    root = parse(result)
    assert_counts_consistent(root)
    cases = root.findall("testsuite/testcase")
    assert len(cases) == result.components == 5
    assert {outcome(c) for c in cases} == {"passed"}
    assert root.get("failures") == "0"


def test_accepted_finding_is_skipped_with_its_reference(mixed: RunResult) -> None:
    result = copy.deepcopy(mixed)
    finding = next(f for f in result.findings if f.component.name == "left")
    finding.accepted = Acceptance(
        "lic-left", "ADR-0007", "Jane Reviewer", date(2030, 1, 31), "test tool only", Origin("vex")
    )
    root = parse(result)
    assert_counts_consistent(root)
    (skipped,) = [c for c in root.iter("testcase") if outcome(c) == "skipped"]
    assert skipped.get("name") == "left@1.0.0 (pkg:npm/left@1.0.0)"
    element = skipped.find("skipped")
    assert element is not None
    reason = element.get("message") or ""
    assert "lic-left" in reason and "ADR-0007" in reason and "2030-01-31" in reason
    assert int(root.get("failures", "-1")) == int(parse(mixed).get("failures", "-1")) - 1


def test_unreadable_input_is_an_error_in_its_own_suite(policy: Policy, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [', encoding="utf-8")
    result = check([broken, GATE / "psycopg-lgpl.cdx.json"], policy)
    root = parse(result)
    assert_counts_consistent(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {str(broken), str(GATE / "psycopg-lgpl.cdx.json")}
    (case,) = suites[str(broken)].findall("testcase")
    assert outcome(case) == "error"
    assert case.get("classname") == "rune-policy.unreadable-input"
    assert root.get("errors") == "1" and root.get("failures") == "0"


def test_findings_outside_the_inputs_get_a_suite_of_their_own() -> None:
    """An input warning sits in its input's suite; a register entry in the register's."""
    read = ReadResult("bom.json", "cyclonedx-json", [Component("a", Origin("bom.json"), "1")])
    findings = [
        Finding(
            RuleId.INPUT_WARNING,
            Severity.WARNING,
            ComponentRef("bom.json", None, None),
            "odd",
            Origin("bom.json", "line 2"),
        ),
        Finding(
            RuleId.UNUSED_EXCEPTION,
            Severity.WARNING,
            ComponentRef("pkg:npm/gone", None, "pkg:npm/gone"),
            "matched nothing",
            Origin("vex/licenses.yaml", "line 4"),
        ),
    ]
    root = parse(RunResult([read], findings))
    assert_counts_consistent(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["bom.json", "vex/licenses.yaml"]
    names = [c.get("classname") for c in suites["bom.json"].findall("testcase")]
    assert names == ["rune-policy", "rune-policy.input-warning"]
    (unused,) = suites["vex/licenses.yaml"].findall("testcase")
    assert unused.get("classname") == "rune-policy.unused-exception"


def test_hostile_text_is_escaped_and_cleaned() -> None:
    nasty = 'evil</testcase><x a="1">&amp; \x00\x1b[31m ]]>'
    read = ReadResult("bom.json", "cyclonedx-json", [Component(nasty, Origin("bom.json"), "1")])
    finding = Finding(
        RuleId.DENIED_LICENSE,
        Severity.ERROR,
        ComponentRef(nasty, "1", None),
        f"{nasty} is\nlicensed badly",
        Origin("bom.json", "$.components[0]"),
        license=nasty,
    )
    root = parse(RunResult([read], [finding]))
    assert_counts_consistent(root)
    (case,) = root.iter("testcase")
    assert case.get("name") == 'evil</testcase><x a="1">&amp; \\x00\\x1b[31m ]]>@1'
    failure = case.find("failure")
    assert failure is not None
    assert "\\x00" in (failure.text or "") and "\x00" not in (failure.text or "")
    assert "is\nlicensed badly" in (failure.text or "")


def test_same_run_same_bytes(policy: Policy) -> None:
    paths = [GATE / "mixed-verdicts.cdx.json", GATE / "psycopg-lgpl.cdx.json"]
    assert junit.render(check(paths, policy)) == junit.render(check(paths, policy))


def test_corpus_sbom_counts(policy: Policy) -> None:
    path = CORPUS / "cyclonedx" / "bom-examples_juice-shop_via-npm_bare_bom.1.4.json"
    if not path.is_file():
        pytest.skip(f"shared corpus absent (expected {path})")
    result = check([path], policy)
    root = parse(result)
    assert_counts_consistent(root)
    failing = {(f.component, f.rule) for f in result.findings if f.severity is Severity.ERROR}
    assert int(root.get("failures", "-1")) == len(failing)
    refs = {component_ref(c) for c in result.inputs[0].components}
    pairs = {(f.component, f.rule) for f in result.findings if f.component in refs}
    clean = refs - {ref for ref, _ in pairs}
    assert int(root.get("tests", "-1")) == len(pairs) + len(clean)
