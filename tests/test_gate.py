"""The gate's verdicts on our own fixtures, under this repository's policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.evaluation import Evaluator
from checker.gate import check, read_all
from checker.model import Severity
from checker.policy import Policy, load_policy
from checker.results import RunResult
from checker.search import find_components

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "gate"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def rules_for(result: RunResult, name: str) -> set[str]:
    return {f.rule for f in result.findings if f.component.name == name}


def test_psycopg_declared_lgpl_passes(policy: Policy) -> None:
    result = check([DATA / "psycopg-lgpl.cdx.json"], policy)
    assert result.verdict == "pass", [f.message for f in result.findings]
    assert result.components == 5  # four components and the document subject
    assert not [f for f in result.findings if f.severity is Severity.ERROR]


def test_table_and_evidence_disagreeing_is_a_license_mismatch(policy: Policy) -> None:
    result = check([DATA / "psycopg-mismatch.cdx.json"], policy)
    assert result.verdict == "fail"
    (finding,) = [f for f in result.findings if f.rule == "license-mismatch"]
    assert finding.component.name == "psycopg"
    assert finding.license == "Apache-2.0"
    assert finding.policy_entry is not None
    assert finding.source.location == "$.components[0].licenses[0].license.id"
    assert "LGPL-3.0-only" in finding.message


def test_each_rule_fires_where_it_should(policy: Policy) -> None:
    result = check([DATA / "mixed-verdicts.cdx.json"], policy)
    assert result.verdict == "fail"
    assert "denied-license" in rules_for(result, "left")  # MIT AND AGPL
    assert rules_for(result, "right") == set()  # MIT OR AGPL
    assert "denied-license" in rules_for(result, "two-entries")  # entries read as AND
    assert "unknown-license" in rules_for(result, "nolicense")
    assert rules_for(result, "bash") == set()  # GPL in an OS package is aggregation
    assert "unapproved-stack-component" in rules_for(result, "asyncpg")
    # MIT/X11 is normalized (as an ambiguous name), never a crash
    assert rules_for(result, "weird") == {"ambiguous-license"}
    subject = [f for f in result.findings if f.rule == "rejected-component"]
    assert subject, "the Bitnami image named as the document subject must be rejected"
    assert subject[0].source.location == "$.metadata.component"
    assert subject[0].component.name == "docker.io/bitnami/postgresql"


def test_unreadable_input_does_not_hide_the_others(policy: Policy, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [', encoding="utf-8")
    result = check([broken, DATA / "mixed-verdicts.cdx.json"], policy)
    assert len(result.input_errors) == 1
    assert result.input_errors[0].problem.path == str(broken)
    assert "denied-license" in rules_for(result, "left")
    unreadable = [f for f in result.findings if f.rule == "unreadable-input"]
    assert unreadable and unreadable[0].source.path == str(broken)


def test_explain_traces_every_step(policy: Policy) -> None:
    inputs = read_all([DATA / "mixed-verdicts.cdx.json"])
    assert not inputs.errors
    (component,) = find_components(inputs.results, "pkg:npm/left@1.0.0")
    trace = Evaluator(policy).trace(component)
    (item,) = trace.licenses
    assert item.evidence.text == "MIT AND AGPL-3.0-only"
    assert item.evaluation is not None
    outcomes = {leaf.licensee: leaf.outcome.value for leaf in item.evaluation.leaves}
    assert outcomes == {"MIT": "allow", "AGPL-3.0-only": "deny"}
