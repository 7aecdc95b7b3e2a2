"""The Markdown summary: for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment.

Written for a reviewer who reads it once, top down, in a browser:

1. the verdict first, on one line with the counts, so a glance is enough when
   it passes (plain PASS/FAIL: no emoji, which screen readers and plain-text
   mail render badly);
2. the failures, grouped by rule with what the rule means, one table each;
3. the accepted exceptions, with entry, reference, approver and days left,
   because a waiver nobody sees expiring is how exceptions rot;
4. the warnings, collapsed, since they do not block.

Every cell is escaped: component names, versions and messages come from
SBOMs the project does not control, and a ``|`` or a newline would otherwise
break the table, ``<`` open an HTML tag, ``*`` or ``_`` start emphasis. Long
tables are capped (a PR comment holds 65,536 characters) with a line saying
how many rows were left out and where the full list is (the JSON report).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from checker.model import Finding, Severity
from checker.report import ReportOptions, also_text, summary_text
from checker.results import RunResult
from checker.rules import RuleId, rule_info, rule_order

#: Rows per table before the rest is summarized in one line.
MAX_ROWS = 200
#: Characters per message cell; the JSON report has the full text.
MAX_MESSAGE = 500

_MARKUP = re.compile(r"([\\`*_\[\]|~#!])")


def cell(text: str | None, *, limit: int | None = None) -> str:
    """``text`` made safe for one GitHub-flavoured Markdown table cell."""
    if text is None or text == "":
        return "-"
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = html.escape(text, quote=False)
    text = _MARKUP.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _where(finding: Finding) -> str:
    where = cell(str(finding.source))
    if finding.path:
        where += "<br>via " + cell(" → ".join((*finding.path, finding.component.name)))
    also = also_text(finding)
    if also:
        where += "<br>also in " + cell(also)
    return where


def _table(
    header: Sequence[str],
    findings: Sequence[Finding],
    row: Callable[[Finding], Iterable[str]],
    max_rows: int,
) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for finding in findings[:max_rows]:
        lines.append("| " + " | ".join(row(finding)) + " |")
    if len(findings) > max_rows:
        lines.append("")
        lines.append(
            f"… and {len(findings) - max_rows} more not shown here; the JSON report "
            "(`rune-policy check --format json`) lists every finding."
        )
    return lines


def _failure_row(finding: Finding) -> list[str]:
    return [
        cell(finding.component.name),
        cell(finding.component.version),
        cell(finding.license),
        _where(finding),
        cell(finding.message, limit=MAX_MESSAGE),
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _days(days: int) -> str:
    if days < 0:
        return f"expired {-days} days ago" if days < -1 else "expired yesterday"
    if days == 0:
        return "expires today"
    return str(days)


def render(result: RunResult, *, today: date | None = None, max_rows: int = MAX_ROWS) -> str:
    """The Markdown summary of one run; ``today`` sets the days-left column (tests)."""
    day = today if today is not None else date.today()
    failing = [f for f in result.findings if f.severity is Severity.ERROR and f.accepted is None]
    accepted = [f for f in result.findings if f.accepted is not None]
    warnings = [f for f in result.findings if f.severity is Severity.WARNING and f.accepted is None]

    counts = [
        _plural(len(failing), "error"),
        _plural(len(warnings), "warning"),
        f"{len(accepted)} accepted",
        summary_text(result),
    ]
    if result.input_errors:
        counts.append(f"{len(result.input_errors)} unreadable")
    lines = [f"## rune-policy: {result.verdict.upper()} ({', '.join(counts)})", ""]

    if failing:
        lines.append("### Failures")
        groups: dict[RuleId, list[Finding]] = defaultdict(list)
        for finding in failing:
            groups[finding.rule].append(finding)
        for rule in sorted(groups, key=rule_order):
            items = groups[rule]
            info = rule_info(rule)
            lines.append("")
            lines.append(f"#### `{rule}` ({len(items)}): {cell(info.short)}")
            lines.append("")
            lines.append(cell(info.help))
            lines.append("")
            lines.extend(
                _table(
                    ("component", "version", "license", "where", "message"),
                    items,
                    _failure_row,
                    max_rows,
                )
            )
        lines.append("")

    if accepted:
        lines.append("### Accepted exceptions")
        lines.append("")
        lines.append(
            "Findings the VEX register accepts until the expiry date; they do not fail the run."
        )
        lines.append("")

        def accepted_row(finding: Finding) -> list[str]:
            acc = finding.accepted
            assert acc is not None  # only accepted findings reach this table
            return [
                cell(finding.component.name),
                cell(finding.component.version),
                cell(finding.rule),
                cell(acc.entry),
                cell(acc.reference),
                cell(acc.approver),
                acc.expires.isoformat(),
                _days(acc.days_left(day)),
                cell(acc.reason, limit=MAX_MESSAGE),
            ]

        ordered = sorted(accepted, key=lambda f: f.accepted.expires if f.accepted else day)
        lines.extend(
            _table(
                (
                    "component",
                    "version",
                    "rule",
                    "entry",
                    "reference",
                    "approver",
                    "expires",
                    "days left",
                    "reason",
                ),
                ordered,
                accepted_row,
                max_rows,
            )
        )
        lines.append("")

    if warnings:
        lines.append(f"<details><summary>{_plural(len(warnings), 'warning')}</summary>")
        lines.append("")

        def warning_row(finding: Finding) -> list[str]:
            return [
                cell(finding.rule),
                cell(finding.component.name),
                cell(finding.component.version),
                _where(finding),
                cell(finding.message, limit=MAX_MESSAGE),
            ]

        ordered = sorted(warnings, key=lambda f: rule_order(f.rule))
        lines.extend(
            _table(
                ("rule", "component", "version", "where", "message"), ordered, warning_row, max_rows
            )
        )
        lines.append("")
        lines.append("</details>")
        lines.append("")

    if result.inputs or result.input_errors:
        lines.append(f"<details><summary>{_plural(len(result.inputs), 'input')} read</summary>")
        lines.append("")
        for read in result.inputs:
            lines.append(
                f"- {cell(read.path)} ({cell(read.format)}, "
                f"{_plural(len(read.components), 'component')})"
            )
        for error in result.input_errors:
            lines.append(f"- {cell(error.problem.path)}: could not be read")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    if result.skipped_folders:
        count = _plural(len(result.skipped_folders), "folder")
        lines.append(f"<details><summary>{count} not scanned</summary>")
        lines.append("")
        for path, reason in result.skipped_folders:
            lines.append(f"- {cell(path)}: {cell(reason)}")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def report(result: RunResult, options: ReportOptions) -> str:
    """The registry's entry point: days left are counted from the day the run judged on."""
    return render(result, today=result.today)
