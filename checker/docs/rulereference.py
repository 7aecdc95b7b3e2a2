"""The rule reference: every rule the gate can emit, rendered from :data:`checker.rules.RULES`.

A finding names its rule id, and the reader of a CI log or a code-scanning
alert looks the id up. A hand-kept list drifts (the README's table had
already lost ``expired-exception`` and ``unused-exception``), so the page is
the registry itself: the ids, their severities, whether a VEX register
entry may waive them, what they mean and what to do, in registry order.
Each rule gets a heading with its id as anchor, so a link to
``rules.md#denied-license`` always lands on the rule.
"""

from __future__ import annotations

from checker.docs.mdtables import code, escape, table
from checker.rules import RULES, Rule


def anchor(rule: Rule) -> str:
    """The rule's anchor on the page: its id."""
    return str(rule.id)


def _waiver(rule: Rule) -> str:
    if not rule.waivable:
        return "no"
    if rule.judges_license:
        return "yes (by rule id or by the license expression)"
    return "yes (by rule id)"


def _section(rule: Rule) -> list[str]:
    return [
        f"### {code(rule.id)} {{#{anchor(rule)}}}",
        "",
        f"**{escape(rule.short)}.** {escape(rule.full)}",
        "",
        f"Severity: {escape(rule.severity_text)}. "
        f"Waivable by a VEX register exception: {_waiver(rule)}. "
        f"SARIF name: {code(rule.name)}.",
        "",
        f"What to do: {escape(rule.help)}",
        "",
    ]


def render_rules() -> str:
    """The summary table, then one section per rule, in registry order."""
    rows = [
        [
            f"[{code(rule.id)}](#{anchor(rule)})",
            escape(rule.severity_text),
            "yes" if rule.waivable else "no",
            escape(rule.short),
        ]
        for rule in RULES.values()
    ]
    lines = [table(["Rule", "Severity", "Waivable", "What it means"], rows)]
    for rule in RULES.values():
        lines += _section(rule)
    return "\n".join(lines)
