"""The human report: errors first, grouped by rule, each with where to look.

Findings a VEX-register exception accepted come after, in their own group,
each with the entry, its reference and the days it has left.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from checker.corroboration import Standing
from checker.evaluation import ComponentTrace
from checker.model import Finding, Severity
from checker.report import ReportOptions, also_text, summary_text
from checker.results import RunResult


def _line(finding: Finding, label: str | None = None) -> str:
    where = str(finding.source)
    entry = f" [policy: {finding.policy_entry}]" if finding.policy_entry else ""
    if finding.path:
        chain = " → ".join((*finding.path, finding.component.name))
        entry += f"\n          path: {chain}"
    if finding.license_source and finding.license_source != "the input":
        entry += f"\n          license from: {finding.license_source}"
    also = also_text(finding)
    if also:
        entry += f"\n          also in: {also}"
    return (
        f"  {label or finding.severity.value.upper():7} {finding.rule}: {finding.message}\n"
        f"          at {where}{entry}"
    )


def _accepted_line(finding: Finding, today: date) -> str:
    accepted = finding.accepted
    assert accepted is not None
    left = accepted.days_left(today)
    days = "last day" if left == 0 else f"{left} day{'s' if left != 1 else ''} left"
    return (
        f"{_line(finding, 'ACCEPTED')}\n"
        f"          accepted by {accepted.entry} ({accepted.origin}), reference "
        f"{accepted.reference}, approved by {accepted.approver}, expires "
        f"{accepted.expires.isoformat()} ({days})"
    )


def render(result: RunResult, *, max_per_rule: int = 50) -> str:
    lines: list[str] = []
    for read in result.inputs:
        lines.append(f"read {read.path} ({read.format}, {len(read.components)} components)")
    groups: dict[tuple[int, str], list[Finding]] = defaultdict(list)
    accepted: list[Finding] = []
    for finding in result.findings:
        if finding.accepted is not None:
            accepted.append(finding)
            continue
        order = 0 if finding.severity is Severity.ERROR else 1
        groups[(order, finding.rule)].append(finding)
    for (_, rule), items in sorted(groups.items()):
        lines.append("")
        lines.append(f"{rule} ({len(items)})")
        for finding in items[:max_per_rule]:
            lines.append(_line(finding))
        if len(items) > max_per_rule:
            lines.append(f"  ... and {len(items) - max_per_rule} more (use --format json for all)")
    if accepted:
        lines.append("")
        lines.append(f"accepted by the VEX register ({len(accepted)})")
        for finding in sorted(accepted, key=lambda f: f.accepted.entry if f.accepted else ""):
            lines.append(_accepted_line(finding, result.today))
    if result.vex is not None:
        count = len(result.vex.register.vulnerabilities) + result.vex.statements
        if count:
            lines.append("")
            lines.append(
                f"vex: {count} vulnerability statement{'s' if count != 1 else ''} read and "
                "valid, not applied: this gate reports no vulnerabilities (scanners read them "
                "from `rune-policy vex export`)"
            )
    if result.skipped_folders:
        lines.append("")
        lines.append(f"not scanned ({len(result.skipped_folders)} folders)")
        for path, reason in result.skipped_folders:
            lines.append(f"  {path}: {reason}")
    lines.append("")
    verdict = (
        f"verdict: {result.verdict.upper()} - {summary_text(result)}, "
        f"{result.errors} errors, {result.warnings} warnings"
    )
    if result.accepted:
        verdict += f", {result.accepted} accepted"
    lines.append(verdict)
    return "\n".join(lines) + "\n"


def _evidence_lines(trace: ComponentTrace) -> list[str]:
    """Which evidence sources were asked for licenses the input did not state, and the answer.

    A reviewer asking "where did this license come from?" needs the chain,
    not just the winner: that the run's SBOM was asked and knew nothing is
    why the decision table's license was used.
    """
    resolution = trace.evidence
    if not resolution.asked:
        if resolution.licenses:
            return ["  evidence: the input's own statements (no other source asked)"]
        return ["  evidence: the input states no license, and no other source was asked"]
    lines = ["  evidence sources asked (the input states no license):"]
    for name, answer in resolution.asked:
        lines.append(f"    - {name}: " + (f"answered, {answer}" if answer else "no answer"))
    return lines


def render_trace(trace: ComponentTrace) -> str:
    """The full story of one component: identity, each license step, the verdict."""
    c = trace.component
    lines = [f"component: {c.display}"]
    lines.append(f"  kind: {c.kind.value}" + (" (document subject)" if c.is_subject else ""))
    if c.purl:
        lines.append(f"  purl: {c.purl}")
    if c.image is not None:
        lines.append(f"  image: {c.image}")
    lines.append(f"  found at: {c.origin}")
    if c.path:
        lines.append(f"  path: {' -> '.join(c.path)}")
    if trace.decision is not None:
        d = trace.decision
        lines.append(
            f"  decision table: row {d.id} ({d.where}) matched by {trace.matched_by}: "
            f"{d.decision}, {d.adr}"
        )
        if d.license:
            lines.append(f"    table license: {d.license}")
        if d.require_digest:
            lines.append("    table requires a digest pin for its images (require_digest)")
    elif trace.stack_pattern is not None:
        lines.append(f"  decision table: no row; PostgreSQL-stack pattern {trace.stack_pattern}")
    else:
        lines.append("  decision table: no row (not a PostgreSQL-stack component)")
    if not trace.licenses:
        reason = c.no_license_reason or "none given"
        lines.append(f"  licenses: none ({reason})")
    # Judged statements first; classifiers weighed against them after, marked
    # (checker.corroboration): which evidence decided and which only stood beside it.
    weighed = any(item.weighing is not None for item in trace.licenses)
    for item in sorted(trace.licenses, key=lambda t: t.weighing is not None):
        ev = item.evidence
        lines.append(
            f"  license string: {ev.text!r} ({ev.form}, from {ev.origin})"
            + (f" via {trace.license_source}" if ev.form == "policy" else "")
            + (" [decides]" if weighed and item.weighing is None else "")
        )
        for step in item.normalized.steps:
            lines.append(f"    - {step}")
        if item.weighing is not None:
            w = item.weighing
            outcome = (
                "outranked by the exact statement, not judged"
                if w.standing is Standing.CORROBORATES
                else "a license-conflict error"
            )
            lines.append(f"    = {w.standing}: {w.reason}; {outcome}")
            continue
        if item.evaluation is None:
            lines.append(f"    - unreadable: {item.normalized.error}")
            continue
        for leaf in item.evaluation.leaves:
            lines.append(f"    - {leaf.licensee}: {leaf.outcome.value} ({leaf.rule})")
        chosen = f", via {item.evaluation.chosen}" if item.evaluation.chosen else ""
        lines.append(f"    = {item.evaluation.outcome.value}{chosen}")
    lines.extend(_evidence_lines(trace))
    if trace.findings:
        lines.append("  findings:")
        for finding in trace.findings:
            lines.append(f"    {finding.severity.value}: {finding.rule}: {finding.message}")
        verdict = "FAIL" if any(f.severity is Severity.ERROR for f in trace.findings) else "PASS"
    else:
        verdict = "PASS"
    lines.append(f"  verdict: {verdict}")
    return "\n".join(lines) + "\n"


def report(result: RunResult, options: ReportOptions) -> str:
    """The registry's entry point (:mod:`checker.report`): the report as ``check`` prints it."""
    return render(result)
