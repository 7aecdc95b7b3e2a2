"""Evaluation: one component against the policy, with every step recorded.

The evaluator identifies a component in the decision table, asks the
evidence chain (:mod:`checker.evidence`) for licenses its input did not
state, and applies the rules (:mod:`checker.rules`): the decision-table
rules first, then each license statement through normalization and the
license policy. :meth:`Evaluator.trace` keeps every step for ``explain``;
:meth:`Evaluator.evaluate` settles the common clean case in two lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from checker.corroboration import Weighing, needs_weighing, weigh
from checker.evidence import Evidence, Resolution
from checker.evidence.decision_table import DecisionTable
from checker.licenses import Evaluation, Normalized, Outcome, consistent
from checker.model import (
    Component,
    ComponentRef,
    EvidenceForm,
    Finding,
    Kind,
    LicenseEvidence,
    Origin,
    Severity,
)
from checker.policy import Decision, DecisionKind, Policy
from checker.rules import RuleId


@dataclass(slots=True)
class LicenseTrace:
    """One license statement through normalization and evaluation."""

    evidence: LicenseEvidence
    normalized: Normalized
    evaluation: Evaluation | None
    #: Set for a classifier weighed against an exact statement beside it
    #: (:mod:`checker.corroboration`): corroborating or contradicting, not judged.
    weighing: Weighing | None = None


@dataclass(slots=True)
class ComponentTrace:
    """Everything the gate decided about one component, for ``explain``."""

    component: Component
    decision: Decision | None
    matched_by: str | None
    stack_pattern: str | None
    licenses: list[LicenseTrace]
    findings: list[Finding]
    #: The license statements judged, where they came from, and the evidence
    #: sources asked for them when the input stated none.
    evidence: Resolution

    @property
    def license_source(self) -> str:
        """Where the judged licenses came from, as reports print it."""
        return self.evidence.source or "the input"


class _Add(Protocol):
    def __call__(
        self,
        rule: RuleId,
        severity: Severity,
        message: str,
        *,
        source: Origin | None = None,
        license_text: str | None = None,
    ) -> None: ...


def component_ref(component: Component) -> ComponentRef:
    """How a finding names its component (an image by its normalized name and tag)."""
    name = f"{component.group}/{component.name}" if component.group else component.name
    if component.image is not None and component.kind is Kind.IMAGE:
        name = component.image.name
        version = component.image.tag or component.image.digest or component.version
        return ComponentRef(name, version, component.purl)
    return ComponentRef(name, component.version, component.purl)


class Evaluator:
    """Applies one policy to components; caches what repeats across an SBOM."""

    def __init__(self, policy: Policy, evidence: Evidence | None = None) -> None:
        """``evidence``: the run's chain (:func:`checker.evidence.for_run`);
        without it only the decision table is asked."""
        self.policy = policy
        self.evidence = evidence if evidence is not None else Evidence([DecisionTable()])
        #: (license text, kind, scope) -> True when that statement alone passes cleanly.
        self._clean: dict[tuple[str, Kind, str | None], bool] = {}

    def _passes_cleanly(self, text: str, kind: Kind, scope: str | None = None) -> bool:
        key = (text, kind, scope)
        clean = self._clean.get(key)
        if clean is None:
            lic = self.policy.licenses
            normalized = lic.normalizer.normalize(text)
            clean = bool(
                normalized.ok
                and not normalized.ambiguous
                and lic.rules.evaluate(normalized, kind, scope).outcome is Outcome.ALLOW
            )
            if len(self._clean) < 100_000:
                self._clean[key] = clean
        return clean

    def evaluate(self, component: Component) -> list[Finding]:
        """The findings for one component.

        Most components of a real SBOM are undecided by the table and carry a
        license that passes; they are settled here with two lookups, and only
        the rest go through :meth:`trace`, which records every step.
        """
        if component.licenses:
            decided, stack = self.policy.identify(component)
            if (
                decided is None
                and stack is None
                and all(
                    self._passes_cleanly(i.text, component.kind, component.scope)
                    for i in component.licenses
                )
                and not needs_weighing(component.licenses)
            ):
                return []
        return self.trace(component).findings

    def trace(self, component: Component) -> ComponentTrace:
        decided, stack_pattern = self.policy.identify(component)
        decision, matched_by = decided if decided else (None, None)
        resolution = self.evidence.resolve(component, decision)
        findings: list[Finding] = []
        ref = component_ref(component)
        license_source = resolution.source or "the input"

        borrowed = not component.licenses and bool(resolution.licenses)
        #: (rule, license) already reported: two statements that normalize to the
        #: same license (a "GPL" and a "GPLv2+" classifier) are one finding.
        made: set[tuple[RuleId, str | None]] = set()

        def add(
            rule: RuleId,
            severity: Severity,
            message: str,
            *,
            source: Origin | None = None,
            license_text: str | None = None,
        ) -> None:
            if license_text is not None:
                if (rule, license_text) in made:
                    return
                made.add((rule, license_text))
            findings.append(
                Finding(
                    rule=rule,
                    severity=severity,
                    component=ref,
                    message=message,
                    # A license another source supplied is reported on the
                    # component's own entry (the lock line to fix); where the
                    # statement came from is ``license_source``.
                    source=(None if borrowed else source) or component.origin,
                    license=license_text,
                    policy_entry=decision.id if decision else None,
                    path=component.path,
                    license_source=license_source if license_text is not None else None,
                )
            )

        if decision is not None:
            if decision.decision is DecisionKind.REJECTED:
                add(
                    RuleId.REJECTED_COMPONENT,
                    Severity.ERROR,
                    f"{component.display} is rejected by the decision table ({decision.name}, "
                    f"{decision.adr}): {decision.rationale}",
                )
            elif decision.decision is DecisionKind.APPROVED_BYO:
                add(
                    RuleId.BUNDLED_BYO,
                    Severity.ERROR,
                    f"{component.display} is approved only as bring-your-own ({decision.name}, "
                    f"{decision.adr}); this artifact ships it. Remove it from what is shipped "
                    "and document the install step instead",
                )
        elif stack_pattern is not None:
            add(
                RuleId.UNAPPROVED_STACK_COMPONENT,
                Severity.ERROR,
                f"{component.display} is a PostgreSQL-stack component ({stack_pattern}) that the "
                "decision table does not decide; add a row to policy/dependencies.yaml with an "
                "ADR before shipping it",
            )

        if (
            decision is not None
            and decision.decision is not DecisionKind.REJECTED
            and component.image is not None
            and component.image.digest is None
        ):
            if decision.require_digest:
                add(
                    RuleId.UNPINNED_IMAGE,
                    Severity.ERROR,
                    f"{component.display} has no digest, and the decision table requires one "
                    f"for this image (row {decision.id}, require_digest); pin it as "
                    "IMAGE:TAG@sha256:... so the reviewed image is the one that runs",
                )
            else:
                add(
                    RuleId.UNPINNED_IMAGE,
                    self.policy.unpinned_image,
                    f"{component.display} is approved ({decision.id}) but not pinned by digest; "
                    "pin it as IMAGE:TAG@sha256:... so the reviewed image is the one that runs",
                )

        for problem in self.evidence.problems(component, resolution):
            add(RuleId.EVIDENCE_MISMATCH, Severity.ERROR, problem)

        evidence = resolution.licenses
        if decision is not None and decision.decision is DecisionKind.REJECTED:
            # The rejection decides; license findings on top would only repeat
            # it. ``explain`` still shows the license evaluation.
            traces = self._licenses(
                component, evidence, decision, license_source, lambda *a, **k: None
            )
        else:
            traces = self._licenses(component, evidence, decision, license_source, add)
        return ComponentTrace(
            component,
            decision,
            matched_by,
            stack_pattern,
            traces,
            findings,
            resolution,
        )

    def _next_step(self, component: Component) -> str:
        """What an ``unknown-license`` finding tells the user to do: the evidence
        chain's advice (a lock entry: resolve its license from the registry), else
        the general remedy."""
        return (
            self.evidence.next_step(component)
            or "find the license and fix the SBOM, or add a decision-table row"
        )

    def _licenses(
        self,
        component: Component,
        evidence: list[LicenseEvidence],
        decision: Decision | None,
        license_source: str,
        add: _Add,
    ) -> list[LicenseTrace]:
        lic = self.policy.licenses
        kind = component.kind
        traces: list[LicenseTrace] = []
        # A classifier beside an exact statement corroborates it or contradicts it;
        # either way it is not judged as another AND term (checker.corroboration).
        weighed = weigh(evidence, lic.normalizer)
        evidence = weighed.judged
        for weighing in (*weighed.corroborating, *weighed.contradictions):
            traces.append(LicenseTrace(weighing.classifier, weighing.normalized, None, weighing))
        for conflict in weighed.contradictions:
            add(
                RuleId.LICENSE_CONFLICT,
                Severity.ERROR,
                conflict.message(component.display),
                source=conflict.classifier.origin,
                license_text=conflict.exact_expression,
            )
        if not evidence:
            if component.is_subject:
                # The document's subject is what the SBOM describes (often the
                # project scanning itself): it is checked by identity, and by
                # license only where the document states one.
                return traces
            reason = component.no_license_reason
            said = f"the input says {reason}" if reason else "the input gives no license"
            add(
                RuleId.UNKNOWN_LICENSE,
                lic.unknown_severity(kind),
                f"{component.display} has no license information ({said}); unknown is not "
                f"approved: {self._next_step(component)}",
            )
            return traces
        for item in evidence:
            normalized = lic.normalizer.normalize(item.text)
            if not normalized.ok:
                traces.append(LicenseTrace(item, normalized, None))
                add(
                    RuleId.UNKNOWN_LICENSE,
                    lic.unknown_severity(kind),
                    f"{component.display}: license {item.text!r} cannot be read "
                    f"({normalized.error}); add a normalization to policy/licenses.yaml if it is "
                    "a known license under another name",
                    source=item.origin,
                    license_text=item.text,
                )
                continue
            evaluation = lic.rules.evaluate(normalized, kind, component.scope)
            traces.append(LicenseTrace(item, normalized, evaluation))
            shown = normalized.expression
            if len(evidence) > 1:
                shown = f"{shown} (one of {len(evidence)} license entries, read together as AND)"
            if evaluation.outcome is Outcome.DENY:
                reasons = "; ".join(leaf.rule for leaf in evaluation.deciding())
                add(
                    RuleId.DENIED_LICENSE,
                    Severity.ERROR,
                    f"{component.display} is licensed {shown}, which the license policy "
                    f"does not allow for {kind.value} components: {reasons}",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            elif evaluation.outcome is Outcome.UNKNOWN:
                reasons = "; ".join(leaf.rule for leaf in evaluation.deciding())
                add(
                    RuleId.UNKNOWN_LICENSE,
                    lic.unknown_severity(kind),
                    f"{component.display} is licensed {shown}, which cannot be decided: {reasons}",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            elif normalized.ambiguous:
                add(
                    RuleId.AMBIGUOUS_LICENSE,
                    lic.ambiguous,
                    f"{component.display}: the license verdict rests on an ambiguous name "
                    f"({', '.join(normalized.ambiguous)}); confirm the exact license",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            if (
                decision is not None
                and decision.license_normalized is not None
                and item.form is not EvidenceForm.POLICY
                and not consistent(normalized, decision.license_normalized)
            ):
                add(
                    RuleId.LICENSE_MISMATCH,
                    lic.license_mismatch,
                    f"{component.display}: the decision table ({decision.id}, {decision.where}) "
                    f"says {decision.license_normalized.expression} but the input says "
                    f"{shown}; check the evidence and correct whichever is wrong",
                    source=item.origin,
                    license_text=normalized.expression,
                )
        return traces
