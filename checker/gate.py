"""The gate: components in, findings out. The library API the CLI and tests call.

Rules (stable ids, used in reports and in the VEX register):

``rejected-component``
    the decision table rejects this component, whatever its license says.
``bundled-byo``
    the table approves the component only as bring-your-own, yet the
    scanned artifact ships it.
``unapproved-stack-component``
    a PostgreSQL-stack component (driver, image, operator, chart) that the
    table does not decide: unknown is not approved.
``denied-license``
    the license expression cannot be satisfied under the license policy.
``unknown-license``
    no license evidence, or evidence that does not parse, or a license id the
    policy does not know; error or warning by component kind.
``ambiguous-license``
    the verdict rests on an ambiguous name (``BSD``) mapped by the table.
``license-mismatch``
    the decision table says one license and the evidence says another.
``input-warning``
    something odd about an input that was read anyway.
``input-error``
    something in an input that may be a component but could not be read as
    one (fails closed instead of dropping it).
``unreadable-input``
    an input could not be read or parsed (exit 3); the rest are still checked.
``expired-exception``
    a VEX-register exception would have accepted a finding but has expired;
    the finding stays an error too.
``unused-exception``
    a VEX-register license exception accepted nothing in this run (warning).

With a VEX register (:mod:`checker.vex`), a finding that a current license
exception covers is marked accepted: it stays in the report with the entry,
reference and expiry, and counts neither as an error nor as a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, escape_controls, gc_paused
from checker.licenses import Evaluation, Normalized, Outcome, consistent
from checker.matching import parse_purl
from checker.model import (
    Component,
    ComponentRef,
    Finding,
    Kind,
    LicenseEvidence,
    Origin,
    ReadResult,
    Severity,
)
from checker.policy import Decision, Policy
from checker.sources import Inputs, read_paths

if TYPE_CHECKING:
    from checker.vex.apply import Applier
    from checker.vex.loader import VexSet


@dataclass(slots=True)
class LicenseTrace:
    """One license statement through normalization and evaluation."""

    evidence: LicenseEvidence
    normalized: Normalized
    evaluation: Evaluation | None


@dataclass(slots=True)
class ComponentTrace:
    """Everything the gate decided about one component, for ``explain``."""

    component: Component
    decision: Decision | None
    matched_by: str | None
    stack_pattern: str | None
    licenses: list[LicenseTrace]
    license_source: str
    findings: list[Finding]


@dataclass(slots=True)
class RunResult:
    """The outcome of one gate run over several inputs.

    ``today`` is the date exceptions were judged on; ``vex`` what the VEX
    register and OpenVEX documents held (None without a register).
    """

    inputs: list[ReadResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    vex: VexSet | None = None
    #: Folders a directory walk passed over, with the reason; every report lists them.
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)

    @property
    def components(self) -> int:
        return sum(len(r.components) for r in self.inputs)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR and f.accepted is None)

    @property
    def warnings(self) -> int:
        return sum(
            1 for f in self.findings if f.severity is Severity.WARNING and f.accepted is None
        )

    @property
    def accepted(self) -> int:
        """Findings a current VEX-register exception accepted."""
        return sum(1 for f in self.findings if f.accepted is not None)

    @property
    def verdict(self) -> str:
        return "fail" if self.errors else "pass"


class _Add(Protocol):
    def __call__(
        self,
        rule: str,
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

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        #: (license text, kind) -> True when that statement alone passes cleanly.
        self._clean: dict[tuple[str, Kind], bool] = {}

    def _passes_cleanly(self, text: str, kind: Kind) -> bool:
        key = (text, kind)
        clean = self._clean.get(key)
        if clean is None:
            lic = self.policy.licenses
            normalized = lic.normalizer.normalize(text)
            clean = bool(
                normalized.ok
                and not normalized.ambiguous
                and lic.rules.evaluate(normalized, kind).outcome is Outcome.ALLOW
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
                and all(self._passes_cleanly(i.text, component.kind) for i in component.licenses)
            ):
                return []
        return self.trace(component).findings

    def trace(self, component: Component) -> ComponentTrace:
        decided, stack_pattern = self.policy.identify(component)
        decision, matched_by = decided if decided else (None, None)
        findings: list[Finding] = []
        ref = component_ref(component)
        license_source = component.license_source or "the input"

        def add(
            rule: str,
            severity: Severity,
            message: str,
            *,
            source: Origin | None = None,
            license_text: str | None = None,
        ) -> None:
            findings.append(
                Finding(
                    rule=rule,
                    severity=severity,
                    component=ref,
                    message=message,
                    source=source or component.origin,
                    license=license_text,
                    policy_entry=decision.id if decision else None,
                    path=component.path,
                    license_source=license_source if license_text is not None else None,
                )
            )

        if decision is not None:
            if decision.decision == "rejected":
                add(
                    "rejected-component",
                    Severity.ERROR,
                    f"{component.display} is rejected by the decision table ({decision.name}, "
                    f"{decision.adr}): {decision.rationale}",
                )
            elif decision.decision == "approved-byo":
                add(
                    "bundled-byo",
                    Severity.ERROR,
                    f"{component.display} is approved only as bring-your-own ({decision.name}, "
                    f"{decision.adr}); this artifact ships it. Remove it from what is shipped "
                    "and document the install step instead",
                )
        elif stack_pattern is not None:
            add(
                "unapproved-stack-component",
                Severity.ERROR,
                f"{component.display} is a PostgreSQL-stack component ({stack_pattern}) that the "
                "decision table does not decide; add a row to policy/dependencies.yaml with an "
                "ADR before shipping it",
            )

        if (
            decision is not None
            and decision.decision != "rejected"
            and component.image is not None
            and component.image.digest is None
        ):
            if decision.require_digest:
                add(
                    "unpinned-image",
                    Severity.ERROR,
                    f"{component.display} has no digest, and the decision table requires one "
                    f"for this image (row {decision.id}, require_digest); pin it as "
                    "IMAGE:TAG@sha256:... so the reviewed image is the one that runs",
                )
            else:
                add(
                    "unpinned-image",
                    self.policy.unpinned_image,
                    f"{component.display} is approved ({decision.id}) but not pinned by digest; "
                    "pin it as IMAGE:TAG@sha256:... so the reviewed image is the one that runs",
                )

        evidence = list(component.licenses)
        license_source = component.license_source or "the input"
        if not evidence and decision is not None and decision.license:
            evidence = [
                LicenseEvidence(
                    decision.license, Origin(decision.path, f"line {decision.line}"), form="policy"
                )
            ]
            license_source = f"decision table row {decision.id}"
        if decision is not None and decision.decision == "rejected":
            # The rejection decides; license findings on top would only repeat
            # it. ``explain`` still shows the license evaluation.
            traces = self._licenses(
                component, evidence, decision, license_source, lambda *a, **k: None
            )
        else:
            traces = self._licenses(component, evidence, decision, license_source, add)
        return ComponentTrace(
            component, decision, matched_by, stack_pattern, traces, license_source, findings
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
        if not evidence:
            if component.is_subject:
                # The document's subject is what the SBOM describes (often the
                # project scanning itself): it is checked by identity, and by
                # license only where the document states one.
                return traces
            reason = component.no_license_reason
            said = f"the input says {reason}" if reason else "the input gives no license"
            add(
                "unknown-license",
                lic.unknown_severity(kind),
                f"{component.display} has no license information ({said}); unknown is not "
                "approved: find the license and fix the SBOM, or add a decision-table row",
            )
            return traces
        for item in evidence:
            normalized = lic.normalizer.normalize(item.text)
            if not normalized.ok:
                traces.append(LicenseTrace(item, normalized, None))
                add(
                    "unknown-license",
                    lic.unknown_severity(kind),
                    f"{component.display}: license {item.text!r} cannot be read "
                    f"({normalized.error}); add a normalization to policy/licenses.yaml if it is "
                    "a known license under another name",
                    source=item.origin,
                    license_text=item.text,
                )
                continue
            evaluation = lic.rules.evaluate(normalized, kind)
            traces.append(LicenseTrace(item, normalized, evaluation))
            shown = normalized.expression
            if len(evidence) > 1:
                shown = f"{shown} (one of {len(evidence)} license entries, read together as AND)"
            if evaluation.outcome is Outcome.DENY:
                reasons = "; ".join(leaf.rule for leaf in evaluation.deciding())
                add(
                    "denied-license",
                    Severity.ERROR,
                    f"{component.display} is licensed {shown}, which the license policy "
                    f"does not allow for {kind.value} components: {reasons}",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            elif evaluation.outcome is Outcome.UNKNOWN:
                reasons = "; ".join(leaf.rule for leaf in evaluation.deciding())
                add(
                    "unknown-license",
                    lic.unknown_severity(kind),
                    f"{component.display} is licensed {shown}, which cannot be decided: {reasons}",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            elif normalized.ambiguous:
                add(
                    "ambiguous-license",
                    lic.ambiguous,
                    f"{component.display}: the license verdict rests on an ambiguous name "
                    f"({', '.join(normalized.ambiguous)}); confirm the exact license",
                    source=item.origin,
                    license_text=normalized.expression,
                )
            if (
                decision is not None
                and decision.license_normalized is not None
                and item.form != "policy"
                and not consistent(normalized, decision.license_normalized)
            ):
                add(
                    "license-mismatch",
                    lic.license_mismatch,
                    f"{component.display}: the decision table ({decision.id}, {decision.where}) "
                    f"says {decision.license_normalized.expression} but the input says "
                    f"{shown}; check the evidence and correct whichever is wrong",
                    source=item.origin,
                    license_text=normalized.expression,
                )
        return traces


#: Longest note message a report carries. Readers quote input only in short
#: excerpts; this is the net under them, so no input can fill a report.
MAX_NOTE_CHARS = 600


def _note_findings(result: ReadResult) -> Iterable[Finding]:
    for note in result.notes:
        error = note.severity is Severity.ERROR
        message = note.message
        if len(message) > MAX_NOTE_CHARS or not message.isprintable():
            message = _bounded(message)
        yield Finding(
            rule="input-error" if error else "input-warning",
            severity=note.severity,
            component=ComponentRef(result.path, None, None),
            message=message,
            source=note.origin,
        )


def _bounded(message: str) -> str:
    shown = escape_controls(message[:MAX_NOTE_CHARS])
    return shown + (" [cut]" if len(message) > MAX_NOTE_CHARS else "")


def evaluate_results(
    results: Sequence[ReadResult], policy: Policy, applier: Applier | None = None
) -> list[Finding]:
    """Every finding for every component, with the cyclic collector paused.

    A large SBOM leaves a million live objects; letting the collector walk
    them again and again while evaluation allocates costs more than the
    evaluation itself, and nothing here forms reference cycles. With an
    ``applier``, each component's findings are matched to the VEX
    register's exceptions while the component is at hand (an image
    exception matches by digest, which a finding does not carry).
    """
    evaluator = Evaluator(policy)
    findings: list[Finding] = []
    with gc_paused():
        for result in results:
            findings.extend(_note_findings(result))
            evaluate = evaluator.evaluate
            for component in result.components:
                found = evaluate(component)
                if found:
                    if applier is not None:
                        applier.apply(component, found)
                    findings.extend(found)
    return findings


#: Formats that name packages without saying their license (npm's lock does).
UNLICENSED_FORMATS = frozenset({"requirements", "poetry-lock", "uv-lock", "pipfile-lock", "pylock"})


def _purl_key(purl: str | None) -> tuple[str, str, str, str] | None:
    ident = parse_purl(purl) if purl else None
    if ident is None or not ident.version:
        return None
    return ident.type, ident.namespace, ident.name, ident.version


def join_licenses(results: Sequence[ReadResult]) -> int:
    """Give lockfile entries the licenses other inputs of the run state for them.

    A lockfile names ``psycopg==3.3.9`` but not its license; an SBOM or the
    installed environment given in the same run may. Entries are joined by
    purl (type, namespace, normalized name and exact version): a different
    version is a different release and may carry a different license. What
    stays unjoined falls back to the decision table, else fails closed.
    Returns how many components were joined.
    """
    index: dict[tuple[str, str, str, str], tuple[list[LicenseEvidence], str]] = {}
    for result in results:
        if result.format in UNLICENSED_FORMATS:
            continue
        for component in result.components:
            if component.licenses:
                key = _purl_key(component.purl)
                if key is not None and key not in index:
                    index[key] = (component.licenses, result.path)
    joined = 0
    if not index:
        return joined
    for result in results:
        if result.format not in UNLICENSED_FORMATS:
            continue
        for component in result.components:
            if component.licenses:
                continue
            key = _purl_key(component.purl)
            found = index.get(key) if key is not None else None
            if found is not None:
                component.licenses = list(found[0])
                component.license_source = f"{found[1]} (joined by purl)"
                joined += 1
    return joined


def read_all(
    paths: Sequence[Path], *, env: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> Inputs:
    """Read every input (files and directory trees) and join lockfile licenses.

    One unreadable file never hides the others: its error is kept and the
    rest are read.
    """
    inputs = read_paths(list(paths), max_bytes)
    if env:
        from checker.sbom.environment import read_environment

        inputs.results.append(read_environment())
    join_licenses(inputs.results)
    return inputs


def check(
    paths: Sequence[Path],
    policy: Policy,
    *,
    env: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    vex: VexSet | None = None,
    today: date | None = None,
) -> RunResult:
    """Read the inputs and evaluate every component against the policy.

    With ``vex`` (a loaded, valid register: :func:`checker.vex.loader.load_vex`),
    current license exceptions accept the findings they cover, as of ``today``
    (default: the real date).
    """
    today = today or date.today()
    applier: Applier | None = None
    if vex is not None:
        from checker.vex.apply import Applier

        applier = Applier(vex.register.license_exceptions, today)
    inputs = read_all(paths, env=env, max_bytes=max_bytes)
    findings = evaluate_results(inputs.results, policy, applier)
    if applier is not None:
        findings.extend(applier.finish())
    for error in inputs.errors:
        findings.append(
            Finding(
                rule="unreadable-input",
                severity=Severity.ERROR,
                component=ComponentRef(error.problem.path, None, None),
                message=error.problem.message,
                source=Origin(error.problem.path, error.problem.location),
            )
        )
    return RunResult(
        inputs.results, findings, inputs.errors, inputs.skipped, today, vex, inputs.folders
    )


def find_components(results: Sequence[ReadResult], query: str) -> list[Component]:
    """Components whose name, name@version, purl or image reference matches ``query``."""
    wanted = query.strip().casefold()
    found: list[Component] = []
    for result in results:
        for component in result.components:
            candidates = {component.name.casefold(), component.display.casefold()}
            if component.version:
                candidates.add(f"{component.name}@{component.version}".casefold())
            if component.group:
                candidates.add(f"{component.group}/{component.name}".casefold())
            if component.purl:
                candidates.add(component.purl.casefold())
                candidates.add(component.purl.split("?", 1)[0].casefold())
                candidates.add(component.purl.split("@", 1)[0].casefold())
            if component.image is not None:
                candidates.add(component.image.name.casefold())
                candidates.add(str(component.image).casefold())
            if wanted in candidates:
                found.append(component)
    return found
