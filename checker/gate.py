"""The gate run: read the inputs, resolve evidence, apply the rules, collect the result.

This is the library API the CLI and tests call (:func:`check`). The stages
live in their own modules: readers (:mod:`checker.readers`) turn inputs into
the model (:mod:`checker.model`); :mod:`checker.evidence` supplies licenses
inputs do not state; :mod:`checker.evaluation` applies the rules
(:mod:`checker.rules` lists every one, with its meaning and help);
:mod:`checker.results` is what every report writes from.

With a VEX register (:mod:`checker.vex`), a finding that a current license
exception covers is marked accepted: it stays in the report with the entry,
reference and expiry, and counts neither as an error nor as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker import evidence, identity
from checker.evaluation import Evaluator
from checker.inputs import DEFAULT_MAX_BYTES, gc_paused
from checker.model import Component, ComponentRef, Finding, Origin, ReadResult, Severity
from checker.policy import Policy
from checker.results import RunResult, note_findings
from checker.rules import RuleId
from checker.sources import Inputs, read_paths

if TYPE_CHECKING:
    from checker.evidence.evidence_file import EvidenceFile
    from checker.vex.apply import Applier
    from checker.vex.loader import VexSet


def evaluate_results(
    results: Sequence[ReadResult],
    policy: Policy,
    applier: Applier | None = None,
    *,
    evidence_file: EvidenceFile | None = None,
) -> list[Finding]:
    """Every finding for every component, with the cyclic collector paused.

    Components are judged once per release (:mod:`checker.identity`): the
    same package in a lockfile, an SBOM and the environment is one
    component, and each of its findings lists the other places.

    A large SBOM leaves a million live objects; letting the collector walk
    them again and again while evaluation allocates costs more than the
    evaluation itself, and nothing here forms reference cycles. With an
    ``applier``, each component's findings are matched to the VEX
    register's exceptions while the component is at hand (an image
    exception matches by digest, which a finding does not carry).
    """
    return _evaluate(results, policy, applier, evidence_file)[0]


def _evaluate(
    results: Sequence[ReadResult],
    policy: Policy,
    applier: Applier | None,
    evidence_file: EvidenceFile | None,
) -> tuple[list[Finding], int]:
    """The findings, and the number of distinct components they were drawn from."""
    evaluator = Evaluator(policy, evidence.for_run(results, evidence_file, policy.knowledge))
    findings: list[Finding] = []
    with gc_paused():
        groups = identity.group(results)
        for result in results:
            findings.extend(note_findings(result))
        evaluate = evaluator.evaluate
        for same in groups:
            members = same.members
            if len(members) == 1:
                component = members[0][1]
                found = evaluate(component)
                if found:
                    if applier is not None:
                        applier.apply(component, found)
                    findings.extend(found)
                continue
            findings.extend(_judge_group(same, same.judged, evaluate, applier))
    return findings, len(groups)


def _judge_group(
    same: identity.Group,
    judged: list[Component],
    evaluate: Callable[[Component], list[Finding]],
    applier: Applier | None,
) -> list[Finding]:
    """One release seen in several places: each finding once, naming every place.

    Members whose statements differ are each judged, so a contradiction is
    never hidden; a finding that repeats one already made (same rule, same
    license) is dropped.
    """
    kept: list[Finding] = []
    made: set[tuple[str, str | None]] = set()
    for component in judged:
        found = evaluate(component)
        if not found:
            continue
        if applier is not None:
            applier.apply(component, found)
        also = same.elsewhere(component)
        for finding in found:
            key = (finding.rule, finding.license)
            if key in made:
                continue
            made.add(key)
            finding.also = also
            kept.append(finding)
    return kept


def read_all(
    paths: Sequence[Path],
    *,
    env: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    python: Path | None = None,
) -> Inputs:
    """Read every input (files and directory trees), and the environment with ``env``.

    With ``python`` (an interpreter, such as a project's venv), ``env`` reads
    that interpreter's installed distributions instead of the gate's own.

    One unreadable file never hides the others: its error is kept and the
    rest are read. Evidence the inputs do not state is resolved when they
    are evaluated (:mod:`checker.evidence`).
    """
    inputs = read_paths(list(paths), max_bytes)
    if env:
        from checker.sbom.environment import read_environment, read_interpreter

        inputs.results.append(read_environment() if python is None else read_interpreter(python))
    return inputs


def check(
    paths: Sequence[Path],
    policy: Policy,
    *,
    env: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    vex: VexSet | None = None,
    today: date | None = None,
    evidence_file: EvidenceFile | None = None,
    python: Path | None = None,
) -> RunResult:
    """Read the inputs and evaluate every component against the policy.

    With ``vex`` (a loaded, valid register: :func:`checker.vex.loader.load_vex`),
    current license exceptions accept the findings they cover, as of ``today``
    (default: the real date). ``evidence_file`` is the registry evidence
    ``rune-policy evidence resolve`` wrote (:mod:`checker.evidence.evidence_file`);
    ``python`` as for :func:`read_all`.
    """
    today = today or date.today()
    applier: Applier | None = None
    if vex is not None:
        from checker.vex.apply import Applier

        applier = Applier(vex.register.license_exceptions, today)
    inputs = read_all(paths, env=env, max_bytes=max_bytes, python=python)
    findings, distinct = _evaluate(inputs.results, policy, applier, evidence_file)
    if applier is not None:
        findings.extend(applier.finish())
    for error in inputs.errors:
        findings.append(
            Finding(
                rule=RuleId.UNREADABLE_INPUT,
                severity=Severity.ERROR,
                component=ComponentRef(error.problem.path, None, None),
                message=error.problem.message,
                source=Origin(error.problem.path, error.problem.location),
            )
        )
    return RunResult(
        inputs.results,
        findings,
        inputs.errors,
        inputs.skipped,
        today,
        vex,
        inputs.folders,
        distinct_components=distinct,
    )
