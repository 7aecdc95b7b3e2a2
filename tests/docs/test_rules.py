"""The rules as documented: README's table and the site's reference follow the registry.

Why: a finding names its rule id, and a reader looks the id up. README's
hand-written table had lost ``expired-exception`` and ``unused-exception``;
these tests hold the README table to the registry's ids, order and severity
texts, and prove the site's generated reference documents every rule the
gate can emit (every :class:`~checker.rules.RuleId`).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from checker.docs import directives
from checker.docs.mdtables import escape
from checker.docs.rulereference import render_rules
from checker.rules import RULES, WAIVABLE, RuleId

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGE = ROOT / "docs" / "compliance" / "rules.md"


def section(text: str, heading: str) -> str:
    """The body of a Markdown section, up to the next heading of any level."""
    start = text.index(f"{heading}\n") + len(heading) + 1
    end = re.compile(r"^#{1,6} ", re.MULTILINE).search(text, start)
    return text[start : end.start() if end else len(text)]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first pipe table in ``text``, cells stripped."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]


def test_readme_rule_table_is_the_registry() -> None:
    rows = table_rows(section(README, "### Rules"))
    assert [row[0] for row in rows] == [f"`{rule_id}`" for rule_id in RuleId]
    for row in rows:
        rule = RULES[RuleId(row[0].strip("`"))]
        assert row[1].replace("`", "") == rule.severity_text, rule.id


def test_readme_lists_the_rules_a_license_exception_may_name() -> None:
    vex = section(README, "## The VEX register")
    listed = re.search(r"or a rule id \(([^)]*)\)", vex)
    assert listed is not None
    assert re.findall(r"`([a-z-]+)`", listed.group(1)) == list(WAIVABLE)


def test_the_rule_reference_documents_every_rule_id() -> None:
    text = render_rules()
    for rule_id in RuleId:
        rule = RULES[rule_id]
        assert f"### `{rule_id}` {{#{rule_id}}}" in text
        assert f"| [`{rule_id}`](#{rule_id}) |" in text
        assert escape(rule.full) in text and escape(rule.help) in text
        assert escape(rule.severity_text) in text


def test_the_rule_reference_page_uses_the_directive() -> None:
    data = directives.load_site(ROOT, date(2026, 11, 25))
    text, problems = directives.expand(
        PAGE.read_text(encoding="utf-8"), data, "compliance/rules.md"
    )
    assert problems == []
    assert "<!-- rune:rule-reference -->" not in text
    assert all(f"{{#{rule_id}}}" in text for rule_id in RuleId)
