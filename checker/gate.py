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

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checker import evidence
from checker.evaluation import Evaluator
from checker.inputs import DEFAULT_MAX_BYTES, gc_paused
from checker.model import ComponentRef, Finding, Origin, ReadResult, Severity
from checker.policy import Policy
from checker.results import RunResult, note_findings
from checker.rules import RuleId
from checker.sources import Inputs, read_paths

if TYPE_CHECKING:
    from checker.vex.apply import Applier
    from checker.vex.loader import VexSet


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
    evaluator = Evaluator(policy, evidence.for_run(results))
    findings: list[Finding] = []
    with gc_paused():
        for result in results:
            findings.extend(note_findings(result))
            evaluate = evaluator.evaluate
            for component in result.components:
                found = evaluate(component)
                if found:
                    if applier is not None:
                        applier.apply(component, found)
                    findings.extend(found)
    return findings


def read_all(
    paths: Sequence[Path], *, env: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> Inputs:
    """Read every input (files and directory trees), and the environment with ``env``.

    One unreadable file never hides the others: its error is kept and the
    rest are read. Evidence the inputs do not state is resolved when they
    are evaluated (:mod:`checker.evidence`).
    """
    inputs = read_paths(list(paths), max_bytes)
    if env:
        from checker.sbom.environment import read_environment

        inputs.results.append(read_environment())
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
                rule=RuleId.UNREADABLE_INPUT,
                severity=Severity.ERROR,
                component=ComponentRef(error.problem.path, None, None),
                message=error.problem.message,
                source=Origin(error.problem.path, error.problem.location),
            )
        )
    return RunResult(
        inputs.results, findings, inputs.errors, inputs.skipped, today, vex, inputs.folders
    )
