"""The decision table: one reviewed row per component decision, each backed by an ADR.

``policy/dependencies.yaml`` lists rows that approve, approve only as
bring-your-own, or reject a component, in the order the gate tries them;
``stack`` says which components are PostgreSQL-stack ones (those must have
a row). Every row's ``adr`` must name a file in ``adr/``: a decision nobody
can read the reasons for is not a decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from checker.errors import Problem
from checker.licenses import Normalized, Normalizer
from checker.matching import Matcher
from checker.model import Severity
from checker.policy.patterns import read_matcher
from checker.policy.reading import PolicyReader
from checker.yamlio import Key, Located, describe


class DecisionKind(StrEnum):
    """What a decision-table row says about its component."""

    APPROVED = "approved"
    #: Approved only when the operator installs it; shipping it is a finding.
    APPROVED_BYO = "approved-byo"
    REJECTED = "rejected"


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ADR = re.compile(r"^ADR-(\d{4})$")
_ROW_KEYS = (
    "id",
    "name",
    "decision",
    "license",
    "rationale",
    "adr",
    "evidence",
    "require_digest",
    "match",
)


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


class DecisionTable(NamedTuple):
    """What ``dependencies.yaml`` holds, and every problem in it."""

    rows: list[Decision]
    #: What makes a component a PostgreSQL-stack one.
    stack: Matcher
    #: The policy-wide severity of an approved image referenced by tag only.
    unpinned_image: Severity
    problems: list[Problem]


def read_decisions(
    doc: Located, normalizer: Normalizer | None, adr_ids: set[str] | None
) -> DecisionTable:
    """The decision table in ``doc`` (``dependencies.yaml``) and every problem in it.

    ``normalizer`` reads a row's ``license`` (the license policy's table);
    ``adr_ids`` are the ADRs that exist (None: none found, reported already).
    """
    c = PolicyReader(doc)
    data: dict[str, Any] = doc.data
    c.unknown_keys(data, ("version", "unpinned_image", "stack", "components"), ())
    if data.get("version") != 1:
        c.add(("version",), "'version' must be 1 (the only policy format this gate reads)")
    stack = Matcher()
    if "stack" in data:
        stack = read_matcher(c, data["stack"], ("stack",), with_versions=False)
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
        decision = _row(c, entry, key, normalizer, adr_ids, seen)
        if decision is not None:
            decisions.append(decision)
    unpinned = c.severity(data.get("unpinned_image", "warning"), ("unpinned_image",))
    return DecisionTable(decisions, stack, unpinned, c.problems)


def _row(
    c: PolicyReader,
    entry: dict[str, Any],
    key: Key,
    normalizer: Normalizer | None,
    adr_ids: set[str] | None,
    seen: dict[str, int],
) -> Decision | None:
    """One row, or None when a required key is missing or wrong (``seen``: id -> line)."""
    doc = c.doc
    c.unknown_keys(entry, _ROW_KEYS, key)
    ident = c.string(entry, "id", key, required=True)
    name = c.string(entry, "name", key, required=True)
    written = c.string(entry, "decision", key, required=True)
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
    decision: DecisionKind | None = None
    if written is not None:
        try:
            decision = DecisionKind(written)
        except ValueError:
            c.add(
                (*key, "decision"), f"decision {written!r} must be one of {', '.join(DecisionKind)}"
            )
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
        matcher = read_matcher(c, entry["match"], (*key, "match"), with_versions=True)
        if not (matcher.purls or matcher.images or matcher.charts or matcher.names):
            c.add(
                (*key, "match"), "'match' recognises nothing: give purls, images, charts or names"
            )
    require_digest = _require_digest(c, entry, key, decision, matcher)
    if ident is None or name is None or decision is None or rationale is None or adr is None:
        return None
    return Decision(
        id=ident,
        name=name,
        decision=decision,
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


def _require_digest(
    c: PolicyReader,
    entry: dict[str, Any],
    key: Key,
    decision: DecisionKind | None,
    matcher: Matcher,
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
    if decision is DecisionKind.REJECTED:
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
