"""The SARIF report: valid against the official schema, and shaped for code scanning.

Validity alone is cheap (an empty run is valid); these tests also pin what
makes the alerts useful: rules with help, results on the right file and line,
fingerprints that survive an SBOM being regenerated, accepted findings as
suppressions, and the same bytes for the same run.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from checker import __version__
from checker.gate import check
from checker.model import Acceptance, ComponentRef, Finding, Origin, Severity
from checker.policy import Policy, load_policy
from checker.report import sarif
from checker.results import RunResult
from checker.rules import RuleId, rule_info

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
GATE = DATA / "gate"
SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-2.1.0.schema.json"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


@pytest.fixture(scope="module")
def validator() -> Any:
    """A validator for the official OASIS schema, with format checks on.

    The schema declares draft-04 in ``$schema``; ``validator_for`` honours
    that (a Draft 7 validator would read its ``id`` and numeric keywords by
    the wrong draft's rules).
    """
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema absent (expected at {SCHEMA})")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(validator: Any, text: str) -> dict[str, Any]:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    return log  # type: ignore[no-any-return]


def run_of(log: dict[str, Any]) -> dict[str, Any]:
    (run,) = log["runs"]
    return run  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def mixed(policy: Policy) -> RunResult:
    return check([GATE / "mixed-verdicts.cdx.json"], policy)


def accepting(result: RunResult, rule: str, name: str) -> RunResult:
    """A copy of ``result`` in which one finding carries a VEX acceptance."""
    copied = copy.deepcopy(result)
    (finding,) = [f for f in copied.findings if f.rule == rule and f.component.name == name]
    finding.accepted = Acceptance(
        entry="lic-left-agpl",
        reference="ADR-0007",
        approver="Jane Reviewer",
        expires=date(2030, 1, 31),
        reason="internal test tool, never shipped",
        origin=Origin("vex/licenses.yaml", "line 12"),
    )
    return copied


def test_failing_run_is_valid_and_complete(validator: Any, mixed: RunResult) -> None:
    log = assert_valid(validator, sarif.render(mixed, base=ROOT))
    assert log["version"] == "2.1.0"
    run = run_of(log)
    driver = run["tool"]["driver"]
    assert driver["name"] == "rune-policy"
    assert driver["version"] == __version__
    assert len(run["results"]) == len(mixed.findings)
    assert run["properties"]["verdict"] == "fail"
    assert run["properties"]["errors"] == mixed.errors


def test_passing_run_is_valid_with_no_results(validator: Any, policy: Policy) -> None:
    result = check([GATE / "psycopg-lgpl.cdx.json"], policy)
    assert result.verdict == "pass"
    run = run_of(assert_valid(validator, sarif.render(result, base=ROOT)))
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["properties"]["verdict"] == "pass"


def test_one_descriptor_per_rule_used_with_help(mixed: RunResult) -> None:
    run = run_of(sarif.build(mixed, base=ROOT))
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert set(ids) == {f.rule for f in mixed.findings}
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert len(rule["help"]["text"]) > 40, "help says what to do"
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_every_rule_has_a_descriptor_with_help() -> None:
    """Every rule the gate can emit renders a full SARIF descriptor from the registry."""
    for rule_id in RuleId:
        descriptor = sarif._descriptor(rule_info(rule_id))
        assert descriptor["id"] == rule_id.value
        assert descriptor["shortDescription"]["text"] and descriptor["fullDescription"]["text"]
        assert len(descriptor["help"]["text"]) > 40, "help says what to do"


def test_results_carry_level_location_fingerprint_and_properties(mixed: RunResult) -> None:
    run = run_of(sarif.build(mixed, base=ROOT))
    by_name = {r["properties"]["component"]["name"]: r for r in run["results"]}
    left = by_name["left"]
    assert left["ruleId"] == "denied-license"
    assert left["level"] == "error"
    assert "suppressions" not in left
    (location,) = left["locations"]
    artifact = location["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "tests/data/gate/mixed-verdicts.cdx.json", "uriBaseId": "%SRCROOT%"}
    # A JSON path is no line: the alert is on the file, the path in the message.
    assert "region" not in location["physicalLocation"]
    assert location["logicalLocations"] == [
        {"fullyQualifiedName": "$.components[0].licenses[0].expression", "kind": "value"}
    ]
    assert "$.components[0].licenses[0].expression" in left["message"]["text"]
    assert left["properties"]["component"] == {
        "name": "left",
        "version": "1.0.0",
        "purl": "pkg:npm/left@1.0.0",
    }
    assert left["properties"]["license"] == "MIT AND AGPL-3.0-only"
    assert re.fullmatch(r"[0-9a-f]{64}", left["partialFingerprints"][sarif.FINGERPRINT_KEY])
    weird = by_name["weird"]
    assert weird["level"] == "warning"
    subject = by_name["docker.io/bitnami/postgresql"]
    assert subject["properties"]["policy_entry"] == "bitnami-postgresql-images"


def test_line_locations_become_regions(validator: Any, policy: Policy) -> None:
    result = check([DATA / "artifacts" / "workloads.yaml"], policy)
    assert result.findings
    run = run_of(assert_valid(validator, sarif.render(result, base=ROOT)))
    for finding, entry in zip(result.findings, run["results"], strict=True):
        physical = entry["locations"][0]["physicalLocation"]
        line = int(finding.source.location.removeprefix("line "))
        assert physical["region"] == {"startLine": line}
        assert physical["artifactLocation"]["uri"] == "tests/data/artifacts/workloads.yaml"
    chained = [e for e in run["results"] if e["properties"].get("path")]
    assert chained and "Path: " in chained[0]["message"]["text"]


def test_region_parsing() -> None:
    assert sarif.region("line 7") == {"startLine": 7}
    assert sarif.region("line 3 column 14") == {"startLine": 3, "startColumn": 14}
    assert sarif.region("byte 42") == {"byteOffset": 42}
    assert sarif.region("line 0") is None
    assert sarif.region("$.components[3]") is None
    assert sarif.region("/bom/components/component[2]") is None


def test_paths_relative_to_base_else_absolute(tmp_path: Path) -> None:
    base = tmp_path / "repo"
    base.mkdir()
    inside = sarif.artifact_location(str(base / "sbom" / "my bom.json"), base)
    assert inside == {"uri": "sbom/my%20bom.json", "uriBaseId": "%SRCROOT%"}
    assert sarif.artifact_location("./sbom/../bom.json", base)["uri"] == "bom.json"
    outside = sarif.artifact_location(str(tmp_path / "elsewhere.json"), base)
    assert outside["uri"].startswith("file:///") and "uriBaseId" not in outside
    escaping = sarif.artifact_location("../up.json", base)
    assert escaping["uri"] == (tmp_path / "up.json").as_uri()


def test_accepted_finding_is_an_external_accepted_suppression(
    validator: Any, mixed: RunResult
) -> None:
    result = accepting(mixed, "denied-license", "left")
    run = run_of(assert_valid(validator, sarif.render(result, base=ROOT)))
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    entry = suppressed[0]
    assert entry["level"] == "error", "the level stays; the suppression says it was waived"
    (suppression,) = entry["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    assert "ADR-0007" in suppression["justification"]
    assert "internal test tool, never shipped" in suppression["justification"]
    assert suppression["properties"]["expires"] == "2030-01-31"
    location = suppression["location"]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "vex/licenses.yaml"
    assert location["region"] == {"startLine": 12}
    assert run["properties"]["accepted"] == 1


def test_fingerprints_ignore_position_but_not_identity(mixed: RunResult) -> None:
    finding = next(f for f in mixed.findings if f.component.name == "left")
    uri = "tests/data/gate/mixed-verdicts.cdx.json"
    base = sarif.fingerprint(finding, uri)
    moved = copy.deepcopy(finding)
    moved.source = Origin(finding.source.path, "$.components[40].licenses[0].expression")
    moved.message = finding.message + " (reworded)"
    assert sarif.fingerprint(moved, uri) == base, "regenerating an SBOM must not reopen alerts"
    other_rule = copy.deepcopy(finding)
    other_rule.rule = RuleId.UNKNOWN_LICENSE
    other_version = copy.deepcopy(finding)
    other_version.component = ComponentRef("left", "2.0.0", "pkg:npm/left@2.0.0")
    via = copy.deepcopy(finding)
    via.path = ("Chart.lock", "left-chart")
    others = {
        sarif.fingerprint(other_rule, uri),
        sarif.fingerprint(other_version, uri),
        sarif.fingerprint(via, uri),
        sarif.fingerprint(finding, "other/bom.json"),
    }
    assert base not in others and len(others) == 4


def test_findings_about_an_input_are_told_apart(validator: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "broken.json")
    findings = [
        Finding(
            RuleId.INPUT_WARNING,
            Severity.WARNING,
            ComponentRef(path, None, None),
            message,
            Origin(path, location),
        )
        for message, location in (("odd thing one", "line 3"), ("odd thing two", "line 9"))
    ]
    result = RunResult(findings=findings)
    run = run_of(assert_valid(validator, sarif.render(result, base=tmp_path)))
    prints = {r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in run["results"]}
    assert len(prints) == 2
    assert run["results"][0]["message"]["text"].startswith(f"{path}: odd thing one")


def test_unreadable_input_and_an_xml_path_location_render_valid(
    validator: Any, policy: Policy, tmp_path: Path
) -> None:
    broken = tmp_path / "bom.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [', encoding="utf-8")
    result = check([broken, GATE / "mixed-verdicts.cdx.json"], policy)
    result.findings.append(
        Finding(
            RuleId.UNUSED_EXCEPTION,
            Severity.WARNING,
            ComponentRef("x", "1", None),
            "an entry that matched nothing",
            Origin("vex/register.yaml", "/entries/3"),
        )
    )
    run = run_of(assert_valid(validator, sarif.render(result, base=tmp_path)))
    unreadable = [r for r in run["results"] if r["ruleId"] == "unreadable-input"]
    assert len(unreadable) == 1
    region = unreadable[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == sorted(ids, key=lambda i: list(RuleId).index(RuleId(i))), "registry order"
    logical = run["results"][-1]["locations"][0]["logicalLocations"]
    assert logical == [{"fullyQualifiedName": "/entries/3", "kind": "element"}]


def test_same_run_same_bytes(policy: Policy) -> None:
    paths = [GATE / "mixed-verdicts.cdx.json", DATA / "artifacts" / "workloads.yaml"]
    first = sarif.render(check(paths, policy), base=ROOT)
    second = sarif.render(check(paths, policy), base=ROOT)
    assert first == second
    assert first.endswith("}\n")


@pytest.mark.parametrize(
    "relative",
    [
        "cyclonedx/bom-examples_juice-shop_via-npm_bare_bom.1.4.json",
        "cyclonedx/cyclonedx-python-lib_webgoat-6.1.xml",
        "spdx/tools-python_SPDXTagExample-v2.2.spdx",
        "helm/bitnami-postgresql-17.1.0",
    ],
)
def test_corpus_reports_validate(validator: Any, policy: Policy, relative: str) -> None:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"shared corpus file {relative} is absent (expected at {CORPUS})")
    result = check([path], policy)
    run = run_of(assert_valid(validator, sarif.render(result, base=ROOT.parent)))
    assert len(run["results"]) == len(result.findings)
    for entry in run["results"]:
        uri = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("shared/corpus/"), uri
