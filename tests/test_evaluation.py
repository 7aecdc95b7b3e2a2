"""The evaluator: one component, its statements, and the findings they give."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.evaluation import Evaluator
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin
from checker.policy import Policy, load_policy
from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def test_two_statements_of_one_license_are_one_finding(policy: Policy) -> None:
    """text-unidecode 1.3 has both a "GPL" and a "GPLv2+" classifier: one denial, not two."""
    where = Origin("METADATA", "Classifier")
    classifiers = [
        "License :: OSI Approved :: Artistic License",
        "License :: OSI Approved :: GNU General Public License (GPL)",
        "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
    ]
    component = Component(
        "text-unidecode",
        Origin("requirements.txt", "line 3"),
        version="1.3",
        licenses=[LicenseEvidence(c, where, EvidenceForm.CLASSIFIER) for c in classifiers],
    )
    findings = Evaluator(policy).trace(component).findings
    denied = [f for f in findings if f.rule is RuleId.DENIED_LICENSE]
    assert [f.license for f in denied] == ["GPL-2.0-or-later"]
    # the statement nobody can map still fails closed on its own
    assert any(f.rule is RuleId.UNKNOWN_LICENSE for f in findings)
