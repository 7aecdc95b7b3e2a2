"""The policy as data: the dependency decision table and the license policy.

Both files live in ``policy/`` and are reviewed like code. They are validated
on load and every problem is collected before anything is reported, each with
its file, line and what was expected, so a broken policy is fixed in one pass
(exit 2). Every row's ``adr`` must name a file in ``adr/``: a decision nobody
can read the reasons for is not a decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from checker.errors import PolicyError, Problem
from checker.licenses import (
    AllowedWith,
    DenyRule,
    LicenseRules,
    NormalizationRule,
    Normalized,
    Normalizer,
)
from checker.matching import (
    ChartPattern,
    ImagePattern,
    Matcher,
    MatchIndex,
    PurlIdentity,
    PurlPattern,
)
from checker.model import Component, Kind, Severity
from checker.versions import VersionRange, parse_range
from checker.yamlio import Collector, Key, Located, describe, read_yaml_file


class DecisionKind(StrEnum):
    """What a decision-table row says about its component."""

    APPROVED = "approved"
    #: Approved only when the operator installs it; shipping it is a finding.
    APPROVED_BYO = "approved-byo"
    REJECTED = "rejected"


DECISIONS = tuple(k.value for k in DecisionKind)
KINDS = tuple(k.value for k in Kind)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ADR = re.compile(r"^ADR-(\d{4})$")


@dataclass(slots=True)
class Decision:
    """One row of the decision table."""

    id: str
    name: str
    decision: DecisionKind
    rationale: str
    adr: str
    matcher: Matcher
    license: str | None = None
    license_normalized: Normalized | None = None
    evidence: str | None = None
    #: An image this row approves must be pinned by digest: an unpinned
    #: reference is an error whatever the policy-wide ``unpinned_image`` says.
    require_digest: bool = False
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


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


@dataclass(slots=True)
class Policy:
    decisions: list[Decision]
    stack: Matcher
    licenses: LicensePolicy
    directory: Path
    adr_files: dict[str, Path] = field(default_factory=dict)
    unpinned_image: Severity = Severity.WARNING
    _rows: MatchIndex = field(init=False, repr=False)
    _stack: MatchIndex = field(init=False, repr=False)
    _identity: MatchIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = MatchIndex([d.matcher for d in self.decisions])
        self._stack = MatchIndex([self.stack])
        # Rows then the stack definition as one last row: one lookup answers
        # "which row decides this, or is it at least a stack component?".
        self._identity = MatchIndex([*(d.matcher for d in self.decisions), self.stack])

    def identify(
        self, component: Component, ident: PurlIdentity | None = None
    ) -> tuple[tuple[Decision, str] | None, str | None]:
        """(deciding row and pattern, or None; stack pattern when no row decides)."""
        hit = self._identity.first(component, ident)
        if hit is None:
            return None, None
        row, pattern = hit
        if row < len(self.decisions):
            return (self.decisions[row], pattern), None
        return None, pattern

    def decide(
        self, component: Component, ident: PurlIdentity | None = None
    ) -> tuple[Decision, str] | None:
        """The first row that recognises ``component`` and the pattern that did."""
        hit = self._rows.first(component, ident)
        return (self.decisions[hit[0]], hit[1]) if hit is not None else None

    def is_stack(self, component: Component, ident: PurlIdentity | None = None) -> str | None:
        """The stack pattern ``component`` matches, or None."""
        hit = self._stack.first(component, ident)
        return hit[1] if hit is not None else None


class _Collector(Collector):
    """The policy's checks on top of the shared YAML problem collector."""

    def version_range(self, value: Any, key: Key) -> VersionRange | None:
        if value is None:
            return None
        if not isinstance(value, (str, int, float)):
            self.add(key, f"'versions' must be a string like '>=1.0,<2', found {describe(value)}")
            return None
        try:
            return parse_range(str(value))
        except ValueError as exc:
            self.add(key, str(exc))
            return None


def _read(path: Path, problems: list[Problem]) -> Located | None:
    doc, yaml_problems = read_yaml_file(
        path, missing="not found; the policy directory needs this file"
    )
    problems.extend(yaml_problems)
    if doc is not None and not isinstance(doc.data, dict):
        problems.append(Problem(str(path), "line 1", "must be a YAML mapping at the top level"))
        return None
    return doc


def _matcher(c: _Collector, value: Any, key: Key, *, with_versions: bool) -> Matcher:
    spec = c.mapping(value, key, "'match'")
    if spec is None:
        return Matcher()
    c.unknown_keys(spec, ("purls", "images", "charts", "names"), key)
    purls: list[PurlPattern] = []
    for i, item in enumerate(c.sequence(spec.get("purls"), (*key, "purls"), "'purls'")):
        here = (*key, "purls", i)
        text, versions = _pattern_item(
            c, item, here, "pattern", with_versions, ("pattern", "versions")
        )
        if text is None:
            continue
        try:
            purls.append(PurlPattern.parse(text, versions))
        except ValueError as exc:
            c.add(here, str(exc))
    images: list[ImagePattern] = []
    for i, item in enumerate(c.sequence(spec.get("images"), (*key, "images"), "'images'")):
        here = (*key, "images", i)
        text, versions = _pattern_item(
            c, item, here, "repository", with_versions, ("repository", "tags", "versions")
        )
        if text is None:
            continue
        if "/" not in text:
            c.add(
                here,
                f"image repository {text!r} must be normalized as REGISTRY/REPOSITORY "
                "(e.g. docker.io/library/postgres)",
            )
            continue
        tags: tuple[str, ...] = ()
        if isinstance(item, dict) and "tags" in item:
            raw = c.sequence(item["tags"], (*here, "tags"), "'tags'")
            if all(isinstance(t, str) for t in raw):
                tags = tuple(raw)
            else:
                c.add((*here, "tags"), "'tags' must be a list of strings")
        images.append(ImagePattern(text, tags, versions))
    charts: list[ChartPattern] = []
    for i, item in enumerate(c.sequence(spec.get("charts"), (*key, "charts"), "'charts'")):
        here = (*key, "charts", i)
        text, versions = _pattern_item(
            c, item, here, "name", with_versions, ("name", "repository", "versions")
        )
        if text is None:
            continue
        repository = None
        if isinstance(item, dict) and item.get("repository") is not None:
            repository = c.string(item, "repository", here, required=False)
        charts.append(ChartPattern(text, repository, versions))
    names: list[str] = []
    for i, item in enumerate(c.sequence(spec.get("names"), (*key, "names"), "'names'")):
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
        else:
            c.add((*key, "names", i), f"a name pattern must be a string, found {describe(item)}")
    return Matcher(tuple(purls), tuple(images), tuple(charts), tuple(names))


def _pattern_item(
    c: _Collector,
    item: Any,
    key: Key,
    main: str,
    with_versions: bool,
    allowed: tuple[str, ...],
) -> tuple[str | None, VersionRange | None]:
    if isinstance(item, str):
        if not item.strip():
            c.add(key, "pattern must not be empty")
            return None, None
        return item.strip(), None
    if isinstance(item, dict):
        keys = allowed if with_versions else tuple(k for k in allowed if k != "versions")
        c.unknown_keys(item, keys, key)
        text = c.string(item, main, key, required=True)
        versions = c.version_range(item.get("versions"), (*key, "versions"))
        return text, versions
    c.add(key, f"pattern must be a string or a mapping with {main!r}, found {describe(item)}")
    return None, None


def _decisions(
    doc: Located, normalizer: Normalizer | None, adr_ids: set[str] | None
) -> tuple[list[Decision], Matcher, Severity, list[Problem]]:
    c = _Collector(doc)
    data: dict[str, Any] = doc.data
    c.unknown_keys(data, ("version", "unpinned_image", "stack", "components"), ())
    if data.get("version") != 1:
        c.add(("version",), "'version' must be 1 (the only policy format this gate reads)")
    stack = Matcher()
    if "stack" in data:
        stack = _matcher(c, data["stack"], ("stack",), with_versions=False)
    else:
        c.add((), "missing key 'stack' (patterns for PostgreSQL-stack components)")
    decisions: list[Decision] = []
    seen: dict[str, int] = {}
    rows = data.get("components")
    if rows is None:
        c.add((), "missing key 'components' (the list of decisions)")
    for i, row in enumerate(c.sequence(rows, ("components",), "'components'")):
        key: Key = ("components", i)
        entry = c.mapping(row, key, "a decision")
        if entry is None:
            continue
        c.unknown_keys(
            entry,
            (
                "id",
                "name",
                "decision",
                "license",
                "rationale",
                "adr",
                "evidence",
                "require_digest",
                "match",
            ),
            key,
        )
        ident = c.string(entry, "id", key, required=True)
        name = c.string(entry, "name", key, required=True)
        decision = c.string(entry, "decision", key, required=True)
        rationale = c.string(entry, "rationale", key, required=True)
        adr = c.string(entry, "adr", key, required=True)
        license_text = c.string(entry, "license", key, required=False)
        evidence = c.string(entry, "evidence", key, required=False)
        if ident is not None:
            if not _ID.match(ident):
                c.add((*key, "id"), f"id {ident!r} must be lowercase letters, digits and '-'")
            if ident in seen:
                c.add((*key, "id"), f"duplicate id {ident!r} (first at line {seen[ident]})")
            seen[ident] = doc.line(key)
        if decision is not None and decision not in DECISIONS:
            c.add(
                (*key, "decision"), f"decision {decision!r} must be one of {', '.join(DECISIONS)}"
            )
            decision = None
        if adr is not None:
            match = _ADR.match(adr)
            if not match:
                c.add((*key, "adr"), f"adr {adr!r} must look like ADR-0006")
            elif adr_ids is not None and adr not in adr_ids:
                c.add((*key, "adr"), f"{adr} does not resolve: no adr/{match.group(1)}-*.md file")
        normalized = None
        if license_text is not None and normalizer is not None:
            normalized = normalizer.normalize(license_text)
            if not normalized.ok:
                c.add((*key, "license"), f"license {license_text!r} is {normalized.error}")
        if "match" not in entry:
            c.add(key, "missing required key 'match' (how the component is recognised)")
            matcher = Matcher()
        else:
            matcher = _matcher(c, entry["match"], (*key, "match"), with_versions=True)
            if not (matcher.purls or matcher.images or matcher.charts or matcher.names):
                c.add(
                    (*key, "match"),
                    "'match' recognises nothing: give purls, images, charts or names",
                )
        require_digest = _require_digest(c, entry, key, decision, matcher)
        if None in (ident, name, decision, rationale, adr):
            continue
        assert ident and name and decision and rationale and adr
        decisions.append(
            Decision(
                id=ident,
                name=name,
                decision=DecisionKind(decision),
                rationale=" ".join(rationale.split()),
                adr=adr,
                matcher=matcher,
                license=license_text,
                license_normalized=normalized,
                evidence=evidence,
                require_digest=require_digest,
                path=doc.path,
                line=doc.line(key),
            )
        )
    unpinned = _severity(c, data.get("unpinned_image", "warning"), ("unpinned_image",))
    return decisions, stack, unpinned, c.problems


def _require_digest(
    c: _Collector, entry: dict[str, Any], key: Key, decision: str | None, matcher: Matcher
) -> bool:
    """A row's ``require_digest``: true only on a row that approves images."""
    if "require_digest" not in entry:
        return False
    here = (*key, "require_digest")
    value = entry["require_digest"]
    if not isinstance(value, bool):
        c.add(here, f"'require_digest' must be true or false, found {describe(value)}")
        return False
    if not value:
        return False
    if decision == DecisionKind.REJECTED:
        c.add(
            here,
            "'require_digest' applies to approved and approved-byo rows; a rejected image "
            "fails whether it is pinned or not",
        )
        return False
    if "match" in entry and not matcher.images:
        c.add(here, "'require_digest' needs 'match.images': this row recognises no image")
        return False
    return True


def _severity(c: _Collector, value: Any, key: Key) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        c.add(key, f"severity must be 'error' or 'warning', found {describe(value)}")
        return Severity.ERROR


def _license_policy(doc: Located) -> tuple[LicensePolicy | None, list[Problem]]:
    c = _Collector(doc)
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
            if kind not in KINDS:
                c.add((*key, "except_kinds"), f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
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
            if kind != "default" and kind not in KINDS:
                c.add(
                    ("unknown", str(kind)),
                    f"unknown kind {kind!r} (kinds: default, {', '.join(KINDS)})",
                )
            unknown[str(kind)] = _severity(c, value, ("unknown", str(kind)))
    ambiguous_sev = _severity(c, data.get("ambiguous", "warning"), ("ambiguous",))
    mismatch_sev = _severity(c, data.get("license_mismatch", "error"), ("license_mismatch",))
    if c.problems:
        return None, c.problems
    rules = LicenseRules(denied, allowed_with, allowed)
    return (
        LicensePolicy(rules, Normalizer(normalize), unknown, ambiguous_sev, mismatch_sev, doc.path),
        [],
    )


def adr_index(adr_dir: Path) -> dict[str, Path]:
    """ADR-NNNN -> file, for every ``NNNN-title.md`` in the ADR folder."""
    found: dict[str, Path] = {}
    if not adr_dir.is_dir():
        return found
    for path in sorted(adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md")):
        found.setdefault(f"ADR-{path.name[:4]}", path)
    return found


def _problem_order(problem: Problem) -> tuple[str, int]:
    location = problem.location.removeprefix("line ").split(" ", 1)[0]
    return problem.path, int(location) if location.isdigit() else 0


def load_policy(directory: Path, adr_dir: Path | None = None) -> Policy:
    """Load and validate ``licenses.yaml`` and ``dependencies.yaml`` from ``directory``.

    Raises :class:`PolicyError` listing every problem found in both files.
    """
    problems: list[Problem] = []
    if not directory.is_dir():
        raise PolicyError(f"policy directory {directory} does not exist (use --policy DIR)")
    adr_dir = adr_dir if adr_dir is not None else directory.parent / "adr"
    adrs = adr_index(adr_dir)
    if not adrs:
        problems.append(
            Problem(
                str(adr_dir),
                "",
                "no ADR files (NNNN-title.md) found; every "
                "decision must reference one (use --adr DIR)",
            )
        )
    lic_doc = _read(directory / "licenses.yaml", problems)
    dep_doc = _read(directory / "dependencies.yaml", problems)
    license_policy: LicensePolicy | None = None
    if lic_doc is not None:
        license_policy, lic_problems = _license_policy(lic_doc)
        problems.extend(lic_problems)
    decisions: list[Decision] = []
    stack = Matcher()
    unpinned = Severity.WARNING
    if dep_doc is not None:
        normalizer = license_policy.normalizer if license_policy else Normalizer([])
        decisions, stack, unpinned, dep_problems = _decisions(
            dep_doc, normalizer, set(adrs) if adrs else None
        )
        problems.extend(dep_problems)
    if problems or license_policy is None:
        problems.sort(key=_problem_order)
        count = len(problems)
        raise PolicyError(
            f"the policy in {directory} has {count} problem{'s' if count != 1 else ''}; "
            "fix them and run again",
            problems,
        )
    return Policy(decisions, stack, license_policy, directory, adrs, unpinned)
