"""Corroboration: a trove classifier beside an exact license is weighed, not ANDed.

Why: cyclonedx-py and installed metadata state most Python packages twice,
``Apache-2.0`` and ``License :: OSI Approved :: Apache Software License``.
Read as two AND terms, 36 of the 37 warnings of this repository's own gate
were ``ambiguous-license`` for packages that state an exact id. These tests
hold what a user relies on: an agreeing classifier causes no finding, a
contradicting one fails closed with ``license-conflict``, a lone classifier
is still ambiguous, and the evaluator's fast path gives the trace's answer.
All of it under this repository's own policy and normalization table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.corroboration import Standing, Weighed, needs_weighing, weigh
from checker.evaluation import Evaluator
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin
from checker.policy import Policy, load_policy
from checker.report.text import render_trace
from checker.rules import RULES, RuleId

ROOT = Path(__file__).resolve().parents[1]
APACHE = "License :: OSI Approved :: Apache Software License"
BSD = "License :: OSI Approved :: BSD License"
MIT = "License :: OSI Approved :: MIT License"
GPL3 = "License :: OSI Approved :: GNU General Public License v3 (GPLv3)"
ISC = "License :: OSI Approved :: ISC License (ISCL)"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def exact(text: str, index: int = 0, form: EvidenceForm = EvidenceForm.ID) -> LicenseEvidence:
    return LicenseEvidence(text, Origin("bom.json", f"$.components[0].licenses[{index}]"), form)


def classifier(text: str, index: int = 1) -> LicenseEvidence:
    origin = Origin("bom.json", f"$.components[0].licenses[{index}]")
    return LicenseEvidence(text, origin, EvidenceForm.CLASSIFIER)


def sort(policy: Policy, *evidence: LicenseEvidence) -> Weighed:
    return weigh(list(evidence), policy.licenses.normalizer)


def component(*evidence: LicenseEvidence, name: str = "pkg") -> Component:
    return Component(
        name=name,
        origin=Origin("bom.json", "$.components[0]"),
        version="1.0",
        purl=f"pkg:pypi/{name}@1.0",
        licenses=list(evidence),
    )


def rules(policy: Policy, item: Component) -> list[str]:
    return sorted(f.rule for f in Evaluator(policy).evaluate(item))


@pytest.mark.parametrize(
    ("stated", "beside"),
    [
        ("Apache-2.0", APACHE),  # requests, cyclonedx-python-lib, py-serializable
        ("BSD-3-Clause", BSD),  # babel, webcolors
        ("BSD-2-Clause", BSD),  # the classifier names no clause count: same family
        ("MIT", MIT),
        ("MIT OR Apache-2.0", MIT),
        ("GPL-3.0-or-later", GPL3),  # a classifier cannot say -only / -or-later reliably
        (
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "License :: OSI Approved :: GNU General Public License v2 (GPLv2)",
        ),
        (
            "LGPL-3.0-only",
            "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)",
        ),  # versionless classifier: any LGPL
        ("CC0-1.0", "License :: Public Domain"),
        ("Apache-2.0", "License :: OSI Approved"),  # names no license at all
    ],
)
def test_an_agreeing_classifier_corroborates_and_is_not_judged(
    policy: Policy, stated: str, beside: str
) -> None:
    weighed = sort(policy, exact(stated), classifier(beside))
    assert [e.text for e in weighed.judged] == [stated]
    assert [w.classifier.text for w in weighed.corroborating] == [beside]
    assert weighed.corroborating[0].standing is Standing.CORROBORATES
    assert weighed.contradictions == []


@pytest.mark.parametrize(
    ("stated", "beside"),
    [
        ("MIT", GPL3),
        ("GPL-2.0-only", GPL3),  # same family, but the classifier states another version
        ("MIT", ISC),  # both allowed by the policy, still two different licenses
        ("Apache-2.0", BSD),
        ("BSD-3-Clause", "License :: OSI Approved :: GNU Affero General Public License v3"),
    ],
)
def test_a_contradicting_classifier_is_a_contradiction(
    policy: Policy, stated: str, beside: str
) -> None:
    weighed = sort(policy, exact(stated), classifier(beside))
    assert [e.text for e in weighed.judged] == [stated]
    assert weighed.corroborating == []
    assert [w.classifier.text for w in weighed.contradictions] == [beside]


def test_without_an_exact_statement_every_statement_is_judged(policy: Policy) -> None:
    # Jinja2: the classifier is its only statement. sortedcontainers in
    # CycloneDX: free text that is no SPDX id stands beside the classifier.
    for evidence in (
        [classifier(BSD, 0)],
        [exact("Apache 2.0", 0, EvidenceForm.NAME), classifier(APACHE)],
        [exact("LicenseRef-Custom", 0), classifier(MIT)],
    ):
        weighed = weigh(evidence, policy.licenses.normalizer)
        assert weighed.judged == evidence
        assert weighed.corroborating == weighed.contradictions == []


def test_an_unreadable_classifier_stays_judged_and_fails_closed(policy: Policy) -> None:
    odd = classifier("License :: OSI Approved :: Some License Nobody Maps")
    weighed = sort(policy, exact("MIT"), odd)
    assert weighed.judged == [exact("MIT"), odd]
    assert rules(policy, component(exact("MIT"), odd)) == ["unknown-license"]


def test_an_spdx_id_given_as_a_name_is_exact_too(policy: Policy) -> None:
    # rune-audit's fixtures and older Trivy put SPDX ids into license.name.
    weighed = sort(policy, exact("Apache-2.0", 0, EvidenceForm.NAME), classifier(APACHE))
    assert [w.classifier.text for w in weighed.corroborating] == [APACHE]


def test_needs_weighing_only_for_a_classifier_beside_another_statement() -> None:
    assert needs_weighing([exact("MIT"), classifier(MIT)])
    assert not needs_weighing([exact("MIT"), exact("Apache-2.0", 1)])
    assert not needs_weighing([classifier(MIT, 0), classifier(BSD)])
    assert not needs_weighing([])


def test_requests_gets_no_ambiguous_warning_and_jinja2_still_does(policy: Policy) -> None:
    requests = component(exact("Apache-2.0"), classifier(APACHE), name="requests")
    assert rules(policy, requests) == []
    jinja2 = component(classifier(BSD, 0), name="Jinja2")
    assert rules(policy, jinja2) == ["ambiguous-license"]


def test_a_contradiction_is_one_error_naming_both_statements(policy: Policy) -> None:
    confused = component(exact("MIT"), classifier(GPL3), name="confused")
    findings = Evaluator(policy).evaluate(confused)
    # The conflict decides; the GPL classifier is not also judged as denied.
    assert [(f.rule, f.severity.value) for f in findings] == [("license-conflict", "error")]
    (finding,) = findings
    assert "'MIT'" in finding.message and GPL3 in finding.message
    assert "$.components[0].licenses[0]" in finding.message
    assert "$.components[0].licenses[1]" in finding.message
    assert str(finding.source) == "bom.json:$.components[0].licenses[1]"
    assert finding.license == "MIT"
    assert RULES[RuleId.LICENSE_CONFLICT].waivable


def test_the_fast_path_gives_the_traces_answer(policy: Policy) -> None:
    evaluator = Evaluator(policy)
    cases = [
        component(exact("MIT"), classifier(MIT)),  # every statement passes cleanly
        component(exact("MIT"), classifier(ISC)),  # so does this one, yet it contradicts
        component(exact("Apache-2.0"), classifier(APACHE)),
        component(exact("MIT")),
        component(classifier(BSD, 0)),
        component(exact("MIT"), classifier(GPL3)),
    ]
    for item in cases:
        fast = [(f.rule, f.message) for f in evaluator.evaluate(item)]
        slow = [(f.rule, f.message) for f in evaluator.trace(item).findings]
        assert fast == slow, [e.text for e in item.licenses]
    assert [f.rule for f in evaluator.evaluate(cases[1])] == ["license-conflict"]


def test_the_trace_shows_which_statement_decides_and_which_corroborates(policy: Policy) -> None:
    requests = component(classifier(APACHE, 0), exact("Apache-2.0", 1), name="requests")
    text = render_trace(Evaluator(policy).trace(requests))
    lines = text.splitlines()
    decides = next(i for i, line in enumerate(lines) if "'Apache-2.0' (id" in line)
    weighed = next(i for i, line in enumerate(lines) if f"{APACHE!r} (classifier" in line)
    assert "[decides]" in lines[decides]
    assert decides < weighed, "the deciding statement is shown first"
    assert any(line.strip().startswith("= corroborates:") for line in lines[weighed:])
    assert "verdict: PASS" in text

    confused = component(exact("MIT"), classifier(GPL3))
    text = render_trace(Evaluator(policy).trace(confused))
    assert "= contradicts: read as GPL-3.0-only" in text
    assert "verdict: FAIL" in text
