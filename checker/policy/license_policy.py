"""The license policy: which licenses each kind of component may have, and name mapping.

``policy/licenses.yaml`` holds the allowed licenses and globs, the denied
ones (with the component kinds a denial does not apply to), the
``LICENSE WITH EXCEPTION`` combinations allowed as a whole, what an unknown
or ambiguous license costs per kind, and the normalization table that maps
the names inputs use to SPDX. Normalization targets must be SPDX
themselves, and a name may be mapped once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from checker.errors import Problem
from checker.licenses import AllowedWith, DenyRule, LicenseRules, NormalizationRule, Normalizer
from checker.model import Kind, Severity
from checker.policy.reading import PolicyReader
from checker.yamlio import Key, Located, describe


@dataclass(slots=True)
class LicensePolicy:
    rules: LicenseRules
    normalizer: Normalizer
    unknown: dict[str, Severity]
    ambiguous: Severity
    license_mismatch: Severity
    path: str = ""

    def unknown_severity(self, kind: Kind) -> Severity:
        return self.unknown.get(kind.value, self.unknown.get("default", Severity.ERROR))


class LicensePolicyRead(NamedTuple):
    """The license policy (None when ``licenses.yaml`` has a problem) and its problems."""

    policy: LicensePolicy | None
    problems: list[Problem]


def _is_kind(text: object) -> bool:
    return any(text == kind.value for kind in Kind)


def read_license_policy(doc: Located) -> LicensePolicyRead:
    """The license policy in ``doc`` (``licenses.yaml``), or None, and every problem in it."""
    c = PolicyReader(doc)
    data: dict[str, Any] = doc.data
    c.unknown_keys(
        data,
        (
            "version",
            "kinds",
            "denied",
            "allowed_with",
            "allowed",
            "unknown",
            "ambiguous",
            "license_mismatch",
            "normalize",
        ),
        (),
    )
    if data.get("version") != 1:
        c.add(("version",), "'version' must be 1 (the only policy format this gate reads)")

    def patterns(value: Any, key: Key, what: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(c.sequence(value, key, what)):
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            else:
                c.add((*key, i), f"a license id or glob must be a string, found {describe(item)}")
        return out

    denied: list[DenyRule] = []
    for i, row in enumerate(c.sequence(data.get("denied"), ("denied",), "'denied'")):
        key: Key = ("denied", i)
        rule = c.mapping(row, key, "a denied rule")
        if rule is None:
            continue
        c.unknown_keys(rule, ("licenses", "reason", "except_kinds"), key)
        reason = c.string(rule, "reason", key, required=True) or ""
        ids = patterns(rule.get("licenses"), (*key, "licenses"), "'licenses'")
        if not ids:
            c.add(key, "a denied rule needs a non-empty 'licenses' list")
        kinds = patterns(rule.get("except_kinds"), (*key, "except_kinds"), "'except_kinds'")
        for kind in kinds:
            if not _is_kind(kind):
                c.add((*key, "except_kinds"), f"unknown kind {kind!r} (kinds: {', '.join(Kind)})")
        denied.append(
            DenyRule(tuple(ids), " ".join(reason.split()), frozenset(kinds), doc.line(key))
        )
    normalize: list[NormalizationRule] = []
    for i, row in enumerate(c.sequence(data.get("normalize"), ("normalize",), "'normalize'")):
        key = ("normalize", i)
        rule = c.mapping(row, key, "a normalization rule")
        if rule is None:
            continue
        c.unknown_keys(rule, ("names", "spdx", "ambiguous"), key)
        names = patterns(rule.get("names"), (*key, "names"), "'names'")
        spdx = c.string(rule, "spdx", key, required=True)
        ambiguous = rule.get("ambiguous", False)
        if not isinstance(ambiguous, bool):
            c.add(
                (*key, "ambiguous"),
                f"'ambiguous' must be true or false, found {describe(ambiguous)}",
            )
            ambiguous = True
        if spdx and names:
            normalize.append(NormalizationRule(tuple(names), spdx, ambiguous, doc.line(key)))
    # Targets must themselves be SPDX: check with an empty table so a rule
    # cannot launder a name through another name.
    plain = Normalizer([])
    for rule_n in normalize:
        result = plain.normalize(rule_n.spdx)
        if not result.ok:
            c.problems.append(
                Problem(
                    doc.path,
                    f"line {rule_n.line}",
                    f"normalization target {rule_n.spdx!r} is {result.error}",
                )
            )
    seen_names: dict[str, int] = {}
    for rule_n in normalize:
        for name in rule_n.names:
            folded = " ".join(name.split()).casefold()
            if folded in seen_names and seen_names[folded] != rule_n.line:
                c.problems.append(
                    Problem(
                        doc.path,
                        f"line {rule_n.line}",
                        f"name {name!r} is already mapped at line {seen_names[folded]}",
                    )
                )
            seen_names.setdefault(folded, rule_n.line)
    allowed_with: list[AllowedWith] = []
    for i, row in enumerate(
        c.sequence(data.get("allowed_with"), ("allowed_with",), "'allowed_with'")
    ):
        key = ("allowed_with", i)
        rule = c.mapping(row, key, "an allowed_with rule")
        if rule is None:
            continue
        c.unknown_keys(rule, ("expression", "reason"), key)
        expression = c.string(rule, "expression", key, required=True)
        reason = c.string(rule, "reason", key, required=True) or ""
        if expression:
            parsed = plain.normalize(expression)
            if not parsed.ok or " WITH " not in (parsed.expression or ""):
                c.add(
                    (*key, "expression"),
                    f"{expression!r} must be one 'LICENSE WITH EXCEPTION' SPDX expression",
                )
            else:
                assert parsed.expression is not None
                allowed_with.append(AllowedWith(parsed.expression, reason, doc.line(key)))
    allowed = patterns(data.get("allowed"), ("allowed",), "'allowed'")
    if not allowed:
        c.add((), "missing or empty 'allowed' list")
    unknown: dict[str, Severity] = {"default": Severity.ERROR}
    raw_unknown = data.get("unknown")
    if raw_unknown is not None:
        mapping = c.mapping(raw_unknown, ("unknown",), "'unknown'")
        for kind, value in (mapping or {}).items():
            if kind != "default" and not _is_kind(kind):
                c.add(
                    ("unknown", str(kind)),
                    f"unknown kind {kind!r} (kinds: default, {', '.join(Kind)})",
                )
            unknown[str(kind)] = c.severity(value, ("unknown", str(kind)))
    ambiguous_sev = c.severity(data.get("ambiguous", "warning"), ("ambiguous",))
    mismatch_sev = c.severity(data.get("license_mismatch", "error"), ("license_mismatch",))
    if c.problems:
        return LicensePolicyRead(None, c.problems)
    rules = LicenseRules(denied, allowed_with, allowed)
    policy = LicensePolicy(
        rules, Normalizer(normalize), unknown, ambiguous_sev, mismatch_sev, doc.path
    )
    return LicensePolicyRead(policy, [])
