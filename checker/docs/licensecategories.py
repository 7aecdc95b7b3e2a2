"""The license policy's categories, scope sections and free-text rules, rendered from it.

Why generated: which ScanCode LicenseDB categories are denied, what a dev
scope may use and which phrases map to which license are decisions a
reviewer must be able to read, and a hand-kept copy would drift from
``policy/licenses.yaml``. The page shows what the gate loaded, including how
many licenses each category holds in the index the installed
license-expression ships, and how many of them the policy names explicitly
(an explicit id outranks its category).
"""

from __future__ import annotations

import fnmatch

from checker.docs.decisions import LoadedPolicy
from checker.docs.mdtables import code, escape, table
from checker.license_categories import CategoryIndex, CategoryIndexError, load_index
from checker.licenses import LicenseRules
from checker.model import Kind

#: Characters a regular expression holds that Markdown (or its HTML pass: "<![a-z]"
#: opens a marked section) would read as syntax.
_SPECIAL = frozenset("\\`*_[]<>|&{}#!()+-.")


def _literal(pattern: str) -> str:
    """A regular expression shown verbatim: an HTML ``<code>`` element whose special
    characters are character references, so neither Markdown nor its HTML
    parser rewrites them (a code span would still open ``<![a-z]`` sections)."""
    body = "".join(f"&#{ord(ch)};" if ch in _SPECIAL else ch for ch in pattern)
    return f"<code>{body}</code>"


def _explicit(rules: LicenseRules, ids: tuple[str, ...]) -> int:
    """How many of ``ids`` a ``denied`` or ``allowed`` pattern names (and so decides)."""
    patterns = [p.casefold() for rule in rules.denied for p in rule.patterns] + rules.allowed
    return sum(1 for i in ids if any(fnmatch.fnmatchcase(i.casefold(), p) for p in patterns))


def _decision(rules: LicenseRules, category: str) -> tuple[str, str]:
    for rule in rules.denied_categories:
        if category in rule.categories:
            kinds = sorted(rule.except_kinds)
            where = "denied" + (f", except for {', '.join(kinds)}" if kinds else "")
            return where, rule.reason
    for rule in rules.allowed_categories:
        if category in rule.categories:
            return "allowed", rule.reason
    return "not decided by category", ""


def render_categories(loaded: LoadedPolicy) -> str:
    """The categories in force, then one table row per category in the index."""
    if loaded.policy is None:
        return ""
    rules = loaded.policy.licenses.rules
    used = rules.allowed_categories or rules.denied_categories
    scoped = [s for s in rules.scopes.values() if s.allowed_categories]
    if not used and not scoped:
        return "The policy decides nothing by category.\n"
    try:
        index: CategoryIndex = load_index()
    except CategoryIndexError as exc:
        return f'!!! failure "The categories could not be rendered"\n\n    - {escape(str(exc))}\n'
    rows = []
    for name in index.names:
        decision, reason = _decision(rules, name)
        in_scopes = [s.name for s in scoped if name in s.allowed_categories]
        if in_scopes:
            decision += "; allowed in " + ", ".join(f"{s} scope" for s in in_scopes)
        members = index.members[name]
        rows.append(
            [
                escape(name),
                str(len(members)),
                str(_explicit(rules, members)),
                escape(decision),
                escape(reason),
            ]
        )
    header = ["Category", "Licenses in the index", "Named in the policy", "Decision", "Why"]
    kinds = ", ".join(k.value for k in Kind)
    return (
        table(header, rows)
        + "\n"
        + f"Read from {code(index.path.rsplit('/', 1)[-1])}, the ScanCode LicenseDB index "
        'the installed license-expression ships. "Named in the policy" counts the '
        "category's licenses that a `denied` or `allowed` entry names: those are decided "
        f"by that entry, not by the category. Component kinds: {escape(kinds)}.\n"
    )


def render_scopes(loaded: LoadedPolicy) -> str:
    """One row per ``scopes`` section: what it adds for that dependency scope."""
    if loaded.policy is None:
        return ""
    scopes = list(loaded.policy.licenses.rules.scopes.values())
    if not scopes:
        return "The policy has no scope sections: every scope is judged by the rules above.\n"
    rows = [
        [
            code(s.name),
            ", ".join(code(a) for a in s.allowed) or "none",
            ", ".join(escape(c) for c in s.allowed_categories) or "none",
            escape(s.reason),
        ]
        for s in scopes
    ]
    return table(["Scope", "Also allowed", "Also allowed by category", "Why"], rows)


def render_free_text(loaded: LoadedPolicy) -> str:
    """The phrases, filler words and mentioned families, in the order they are tried."""
    if loaded.policy is None:
        return ""
    normalizer = loaded.policy.licenses.normalizer
    out = ["#### Phrases", ""]
    out.append(
        table(
            ["Pattern (whole name, case-insensitive)", "SPDX expression", "Ambiguous", "Line"],
            [
                [
                    _literal(p.pattern.pattern),
                    code(p.spdx),
                    "yes: a human confirms" if p.ambiguous else "",
                    str(p.line),
                ]
                for p in normalizer.phrases
            ],
        )
    )
    out += ["", "#### Filler words", ""]
    out.append(
        table(
            ["Pattern (removed)", "Offers a choice", "Line"],
            [
                [
                    _literal(f.pattern.pattern),
                    "yes: 'and' reads as OR" if f.choice else "",
                    str(f.line),
                ]
                for f in normalizer.filler
            ],
        )
    )
    out += ["", "#### Mentioned families", ""]
    out.append(
        table(
            ["Pattern (searched)", "Family (licensee)", "Judged as", "Line"],
            [
                [_literal(m.pattern.pattern), code(m.licensee), code(m.judged_as), str(m.line)]
                for m in normalizer.mentions
            ],
        )
    )
    return "\n".join(out)
