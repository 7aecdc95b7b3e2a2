"""The license policy: which licenses each kind of component may have, and name mapping.

``policy/licenses.yaml`` holds the allowed licenses and globs, the denied
ones (with the component kinds a denial does not apply to), the
``LICENSE WITH EXCEPTION`` combinations allowed as a whole, what an unknown
or ambiguous license costs per kind, and the normalization table that maps
the names inputs use to SPDX. Normalization targets must be SPDX
themselves, and a name may be mapped once.

Free text is data too: ``phrases`` (patterns a whole name must match),
``filler`` (words around the names that state no license) and ``mentions``
(license families unreadable text may name, judged fail-closed). Optional
``allowed_categories`` and ``denied_categories`` decide by ScanCode
LicenseDB category (:mod:`checker.license_categories`; the index is read
only when the policy names a category), and ``scopes`` adds allowances for
the components of one dependency scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from checker.errors import Problem
from checker.license_categories import CategoryIndex, CategoryIndexError, load_index
from checker.licenses import (
    AllowedWith,
    CategoryRule,
    DenyRule,
    FillerRule,
    LicenseRules,
    MentionRule,
    NormalizationRule,
    Normalizer,
    PhraseRule,
    ScopeRules,
)
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


#: The dependency scopes readers record in ``Component.scope``: ``required``,
#: ``optional`` and ``excluded`` (CycloneDX ``scope``; ``required`` and
#: ``optional`` from package-lock.json and poetry.lock too) and ``dev`` (uv.lock,
#: pylock.toml, poetry.lock, Pipfile.lock, package-lock.json). A ``scopes``
#: section for any other name could never apply, so it is refused.
KNOWN_SCOPES = ("required", "optional", "dev", "excluded")

#: A mention's family becomes part of a ``LicenseRef-`` id: SPDX idstring characters.
_FAMILY = re.compile(r"[A-Za-z0-9.-]+")


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
            "phrases",
            "filler",
            "mentions",
            "allowed_categories",
            "denied_categories",
            "scopes",
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
    denied_keys = ("licenses", "reason", "except_kinds")
    for key, rule in c.records(
        data.get("denied"), ("denied",), "'denied'", "a denied rule", denied_keys
    ):
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
    normalize_keys = ("names", "spdx", "ambiguous")
    for key, rule in c.records(
        data.get("normalize"), ("normalize",), "'normalize'", "a normalization rule", normalize_keys
    ):
        names = patterns(rule.get("names"), (*key, "names"), "'names'")
        spdx = c.string(rule, "spdx", key, required=True)
        ambiguous = _ambiguous(c, rule, key)
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
    for key, rule in c.records(
        data.get("allowed_with"),
        ("allowed_with",),
        "'allowed_with'",
        "an allowed_with rule",
        ("expression", "reason"),
    ):
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
    phrases = _phrases(c, data, plain)
    filler = _filler(c, data)
    mentions = _mentions(c, data, plain)
    categories = _Categories(c, data)
    allowed_categories = [
        CategoryRule((name,), line=line)
        for name, line in categories.names(data.get("allowed_categories"), ("allowed_categories",))
    ]
    denied_categories = _denied_categories(c, data, categories)
    _no_category_twice(c, allowed_categories, denied_categories)
    scopes = _scopes(c, data, categories)
    if c.problems:
        return LicensePolicyRead(None, c.problems)
    rules = LicenseRules(
        denied,
        allowed_with,
        allowed,
        allowed_categories=allowed_categories,
        denied_categories=denied_categories,
        category_of=categories.index.category if categories.index is not None else None,
        scopes=scopes,
        mentions=mentions,
    )
    normalizer = Normalizer(normalize, phrases, filler, mentions)
    policy = LicensePolicy(rules, normalizer, unknown, ambiguous_sev, mismatch_sev, doc.path)
    return LicensePolicyRead(policy, [])


def _pattern(c: PolicyReader, value: Any, key: Key, *, whole: bool) -> re.Pattern[str] | None:
    """A case-insensitive regular expression from the policy, or None with a problem.

    ``whole``: the pattern must match a whole name, so it must not match the
    empty string; otherwise (filler, mentions) it is searched for and must
    not match at every position.
    """
    if not isinstance(value, str) or not value.strip():
        c.add(key, f"'pattern' must be a non-empty string, found {describe(value)}")
        return None
    try:
        compiled = re.compile(value.strip(), re.IGNORECASE)
    except re.error as exc:
        c.add(key, f"not a valid regular expression: {exc.msg} at position {exc.pos}")
        return None
    if (compiled.fullmatch("") if whole else compiled.search("")) is not None:
        c.add(key, f"pattern {value!r} matches the empty string, so it would match everywhere")
        return None
    return compiled


def _ambiguous(c: PolicyReader, rule: dict[str, Any], key: Key) -> bool:
    value = rule.get("ambiguous", False)
    if isinstance(value, bool):
        return value
    c.add((*key, "ambiguous"), f"'ambiguous' must be true or false, found {describe(value)}")
    return True


def _phrases(c: PolicyReader, data: dict[str, Any], plain: Normalizer) -> list[PhraseRule]:
    out: list[PhraseRule] = []
    allowed = ("pattern", "spdx", "ambiguous")
    for key, rule in c.records(
        data.get("phrases"), ("phrases",), "'phrases'", "a phrase rule", allowed
    ):
        pattern = _pattern(c, rule.get("pattern"), (*key, "pattern"), whole=True)
        spdx = c.string(rule, "spdx", key, required=True)
        ambiguous = _ambiguous(c, rule, key)
        if spdx:
            target = plain.normalize(spdx)
            # An exception is a fine target for the name after WITH ("font exception").
            if not target.ok and not plain.normalize(f"MIT WITH {spdx}").ok:
                c.add((*key, "spdx"), f"phrase target {spdx!r} is {target.error}")
                continue
        if pattern is not None and spdx:
            out.append(PhraseRule(pattern, spdx, ambiguous, c.doc.line(key)))
    return out


def _filler(c: PolicyReader, data: dict[str, Any]) -> list[FillerRule]:
    out: list[FillerRule] = []
    allowed = ("pattern", "choice")
    for key, rule in c.records(
        data.get("filler"), ("filler",), "'filler'", "a filler rule", allowed
    ):
        pattern = _pattern(c, rule.get("pattern"), (*key, "pattern"), whole=False)
        choice = rule.get("choice", False)
        if not isinstance(choice, bool):
            c.add((*key, "choice"), f"'choice' must be true or false, found {describe(choice)}")
            continue
        if pattern is not None:
            out.append(FillerRule(pattern, choice, c.doc.line(key)))
    return out


def _mentions(c: PolicyReader, data: dict[str, Any], plain: Normalizer) -> list[MentionRule]:
    out: list[MentionRule] = []
    judged: dict[str, tuple[str, int]] = {}
    allowed = ("pattern", "family", "judged_as")
    for key, rule in c.records(
        data.get("mentions"), ("mentions",), "'mentions'", "a mention rule", allowed
    ):
        pattern = _pattern(c, rule.get("pattern"), (*key, "pattern"), whole=False)
        family = c.string(rule, "family", key, required=True)
        judged_as = c.string(rule, "judged_as", key, required=True)
        if family and not _FAMILY.fullmatch(family):
            c.add(
                (*key, "family"),
                f"family {family!r} may hold only letters, digits, '.' and '-' "
                "(it becomes part of a LicenseRef- id)",
            )
            continue
        if judged_as:
            target = plain.normalize(judged_as)
            if not target.ok or " " in (target.expression or ""):
                c.add((*key, "judged_as"), f"{judged_as!r} must be one SPDX license id")
                continue
            judged_as = target.expression
        if family and judged_as:
            first = judged.setdefault(family.casefold(), (judged_as, c.doc.line(key)))
            if first[0] != judged_as:
                c.add(
                    (*key, "judged_as"),
                    f"family {family!r} is judged as {first[0]} at line {first[1]}; "
                    "one family, one judgement",
                )
                continue
        if pattern is not None and family and judged_as:
            out.append(MentionRule(pattern, family, judged_as, c.doc.line(key)))
    return out


class _Categories:
    """Category names in the policy, checked against the index (read only if named)."""

    def __init__(self, c: PolicyReader, data: dict[str, Any]) -> None:
        self.c = c
        self.index: CategoryIndex | None = None
        self._failed = False
        scopes = data.get("scopes")
        self.used = bool(
            data.get("allowed_categories")
            or data.get("denied_categories")
            or (
                isinstance(scopes, dict)
                and any(
                    isinstance(s, dict) and s.get("allowed_categories") for s in scopes.values()
                )
            )
        )

    def _load(self, key: Key) -> CategoryIndex | None:
        if self.index is None and not self._failed:
            try:
                self.index = load_index()
            except CategoryIndexError as exc:
                self._failed = True
                self.c.add(key, f"categories need ScanCode's license index: {exc}")
        return self.index

    def names(self, value: Any, key: Key) -> list[tuple[str, int]]:
        """The categories listed at ``key``, as the index spells them, with their lines."""
        out: list[tuple[str, int]] = []
        items = self.c.sequence(value, key, f"{key[-1]!r}")
        if not items:
            return out
        index = self._load(key)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.c.add((*key, i), f"a category must be a string, found {describe(item)}")
                continue
            if index is None:
                continue
            name = index.canonical(item)
            if name is None:
                self.c.add(
                    (*key, i),
                    f"unknown category {item!r} (ScanCode LicenseDB categories: "
                    f"{', '.join(index.names)})",
                )
                continue
            out.append((name, self.c.doc.line((*key, i))))
        return out


def _denied_categories(
    c: PolicyReader, data: dict[str, Any], categories: _Categories
) -> list[CategoryRule]:
    out: list[CategoryRule] = []
    section = "denied_categories"
    for key, rule in c.records(
        data.get(section),
        (section,),
        f"'{section}'",
        "a denied_categories rule",
        ("categories", "reason", "except_kinds"),
    ):
        reason = c.string(rule, "reason", key, required=True) or ""
        names = [n for n, _ in categories.names(rule.get("categories"), (*key, "categories"))]
        if not rule.get("categories"):
            c.add(key, "a denied_categories rule needs a non-empty 'categories' list")
        kinds = c.sequence(rule.get("except_kinds"), (*key, "except_kinds"), "'except_kinds'")
        for kind in kinds:
            if not _is_kind(kind):
                c.add((*key, "except_kinds"), f"unknown kind {kind!r} (kinds: {', '.join(Kind)})")
        if names:
            out.append(
                CategoryRule(
                    tuple(names),
                    " ".join(reason.split()),
                    frozenset(str(k) for k in kinds),
                    c.doc.line(key),
                )
            )
    return out


def _no_category_twice(
    c: PolicyReader, allowed: list[CategoryRule], denied: list[CategoryRule]
) -> None:
    """A category both allowed and denied would be decided by rule order: refuse it."""
    denied_at = {name: rule.line for rule in denied for name in rule.categories}
    for rule in allowed:
        for name in rule.categories:
            if name in denied_at:
                c.problems.append(
                    Problem(
                        c.doc.path,
                        f"line {rule.line}",
                        f"category {name!r} is also denied at line {denied_at[name]}",
                    )
                )


def _scopes(c: PolicyReader, data: dict[str, Any], categories: _Categories) -> list[ScopeRules]:
    raw = data.get("scopes")
    if raw is None:
        return []
    mapping = c.mapping(raw, ("scopes",), "'scopes'")
    out: list[ScopeRules] = []
    for name, body in (mapping or {}).items():
        key: Key = ("scopes", str(name))
        if str(name) not in KNOWN_SCOPES:
            c.add(
                key,
                f"unknown scope {name!r} (scopes the readers record: {', '.join(KNOWN_SCOPES)})",
            )
            continue
        section = c.mapping(body, key, f"scope {name!r}")
        if section is None:
            continue
        c.unknown_keys(section, ("reason", "allowed", "allowed_categories"), key)
        reason = c.string(section, "reason", key, required=True) or ""
        allowed: list[str] = []
        for i, item in enumerate(
            c.sequence(section.get("allowed"), (*key, "allowed"), "'allowed'")
        ):
            if isinstance(item, str) and item.strip():
                allowed.append(item.strip())
            else:
                c.add(
                    (*key, "allowed", i),
                    f"a license id or glob must be a string, found {describe(item)}",
                )
        names = [
            n
            for n, _ in categories.names(
                section.get("allowed_categories"), (*key, "allowed_categories")
            )
        ]
        if not allowed and not section.get("allowed_categories"):
            c.add(key, f"scope {name!r} allows nothing: give 'allowed' ids or 'allowed_categories'")
        out.append(
            ScopeRules(
                str(name), " ".join(reason.split()), tuple(allowed), tuple(names), c.doc.line(key)
            )
        )
    return out
