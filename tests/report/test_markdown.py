"""The Markdown summary: verdict first, tables that survive hostile text, caps.

A summary is read once, in a browser; these tests pin the order a reviewer
reads it in, the escaping that keeps a table a table, and the days-left
arithmetic with a fixed ``today``.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest

from checker.gate import check
from checker.model import Acceptance, ComponentRef, Finding, Origin, ReadResult, Severity
from checker.policy import Policy, load_policy
from checker.report import markdown
from checker.results import RunResult
from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "tests" / "data" / "gate"
TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


@pytest.fixture(scope="module")
def mixed(policy: Policy) -> RunResult:
    return check([GATE / "mixed-verdicts.cdx.json"], policy)


def accept(finding: Finding, expires: date, entry: str = "lic-1") -> None:
    finding.accepted = Acceptance(
        entry, "ADR-0007", "Jane Reviewer", expires, "used in tests only", Origin("vex/l.yaml")
    )


def cells(row: str) -> list[str]:
    """The cells of a table row, split on pipes that are not escaped."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


def table_after(text: str, heading: str) -> list[list[str]]:
    """The rows (header excluded) of the first table after ``heading``."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("| "):
            break
        rows.append(cells(line))
    return rows


def test_verdict_line_comes_first(mixed: RunResult, policy: Policy) -> None:
    text = markdown.render(mixed, today=TODAY)
    first = text.splitlines()[0]
    assert first.startswith("## rune-policy: FAIL (")
    assert f"{mixed.errors} errors" in first and "1 warning," in first
    assert "8 components in 1 input" in first
    assert first.isascii(), "no emoji in the verdict"
    passing = markdown.render(check([GATE / "psycopg-lgpl.cdx.json"], policy), today=TODAY)
    assert passing.splitlines()[0] == (
        "## rune-policy: PASS (0 errors, 0 warnings, 0 accepted, 5 components in 1 input)"
    )
    assert "### Failures" not in passing


def test_failures_are_grouped_by_rule_in_tables(mixed: RunResult) -> None:
    text = markdown.render(mixed, today=TODAY)
    headings = re.findall(r"^#### `([a-z-]+)` \((\d+)\)", text, re.MULTILINE)
    errors = [f for f in mixed.findings if f.severity is Severity.ERROR]
    assert {rule: int(n) for rule, n in headings} == {
        rule: sum(1 for f in errors if f.rule == rule) for rule in {f.rule for f in errors}
    }
    assert headings[0][0] == "rejected-component", "decisions before licenses"
    rows = table_after(text, "#### `denied-license`")
    assert [r[0] for r in rows] == ["left", "two-entries"]
    left = rows[0]
    assert left[1] == "1.0.0" and left[2] == "MIT AND AGPL-3.0-only"
    assert (
        left[3].startswith("tests/data/gate/mixed-verdicts.cdx.json") or "mixed-verdicts" in left[3]
    )
    assert "\\[0\\]" in left[3], "brackets escaped so they never form a link"
    # warnings are collapsed, after the failures
    details = text.index("<details><summary>1 warning</summary>")
    assert details > text.index("### Failures")
    assert "weird" in text[details:]


def test_cells_escape_pipes_newlines_and_markup() -> None:
    assert markdown.cell("a|b\nc\r\nd") == "a\\|b<br>c<br>d"
    assert markdown.cell("<script>x</script> & *bold* _it_") == (
        "&lt;script&gt;x&lt;/script&gt; &amp; \\*bold\\* \\_it\\_"
    )
    assert markdown.cell(None) == "-" and markdown.cell("") == "-"
    assert markdown.cell("x" * 50, limit=10) == "x" * 9 + "…"


def test_hostile_finding_keeps_the_table_shape() -> None:
    finding = Finding(
        RuleId.DENIED_LICENSE,
        Severity.ERROR,
        ComponentRef("pipe|name", "1.0\n2.0", None),
        "line one\nline | two `code`",
        Origin("bom.json", "$.components[0]"),
        license="GPL-3.0-only | MIT",
    )
    text = markdown.render(RunResult([ReadResult("bom.json", "cyclonedx-json")], [finding]))
    (row,) = table_after(text, "#### `denied-license`")
    assert len(row) == 5
    assert row[0] == "pipe\\|name" and row[1] == "1.0<br>2.0"
    assert row[4] == "line one<br>line \\| two \\`code\\`"


def test_accepted_exceptions_show_reference_and_days_left(mixed: RunResult) -> None:
    result = copy.deepcopy(mixed)
    left = next(f for f in result.findings if f.component.name == "left")
    accept(left, date(2026, 3, 31), "lic-left")
    two = next(f for f in result.findings if f.component.name == "two-entries")
    accept(two, date(2026, 2, 26), "lic-two")
    text = markdown.render(result, today=TODAY)
    assert "2 accepted" in text.splitlines()[0]
    rows = table_after(text, "### Accepted exceptions")
    assert [r[0] for r in rows] == ["two-entries", "left"], "soonest expiry first"
    by_entry = {r[3]: r for r in rows}
    assert by_entry["lic-left"][2] == "denied-license"
    assert by_entry["lic-left"][4:9] == [
        "ADR-0007",
        "Jane Reviewer",
        "2026-03-31",
        "30",
        "used in tests only",
    ]
    assert by_entry["lic-two"][7] == "expired 3 days ago"
    # accepted findings are not failures any more
    failures = text[text.index("### Failures") : text.index("### Accepted exceptions")]
    assert "| left |" not in failures and "| two-entries |" not in failures


def test_only_accepted_errors_pass(policy: Policy) -> None:
    result = check([GATE / "psycopg-mismatch.cdx.json"], policy)
    assert result.verdict == "fail"
    for finding in result.findings:
        if finding.severity is Severity.ERROR:
            accept(finding, date(2027, 1, 1))
    text = markdown.render(result, today=TODAY)
    assert text.startswith("## rune-policy: PASS (0 errors")
    assert "### Failures" not in text and "### Accepted exceptions" in text


def test_long_tables_are_capped_with_a_pointer_to_json() -> None:
    findings = [
        Finding(
            RuleId.UNKNOWN_LICENSE,
            Severity.ERROR,
            ComponentRef(f"pkg{i}", "1", None),
            "no license",
            Origin("bom.json", f"$.components[{i}]"),
        )
        for i in range(7)
    ]
    text = markdown.render(RunResult(findings=findings), max_rows=5)
    assert len(table_after(text, "#### `unknown-license`")) == 5
    assert "… and 2 more not shown here" in text and "--format json" in text


def test_same_run_same_text(mixed: RunResult) -> None:
    assert markdown.render(mixed, today=TODAY) == markdown.render(mixed, today=TODAY)
