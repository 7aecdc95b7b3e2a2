"""The policy as data: the dependency decision table and the license policy.

Both files live in ``policy/`` and are reviewed like code. They are validated
on load and every problem is collected before anything is reported, each with
its file, line and what was expected, so a broken policy is fixed in one pass
(exit 2). Every row's ``adr`` must name a file in ``adr/``: a decision nobody
can read the reasons for is not a decision.

One module per file and concept: :mod:`~checker.policy.decisions` (the
table's rows), :mod:`~checker.policy.patterns` (how a row recognises
components), :mod:`~checker.policy.license_policy` (``licenses.yaml``) and
:mod:`~checker.policy.reading` (what reading either shares). This module
loads both into one :class:`Policy`, which answers which row decides a
component.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from checker.adr_folder import adr_folder
from checker.errors import PolicyError, Problem
from checker.licenses import Normalizer
from checker.matching import Matcher, MatchIndex, PurlIdentity
from checker.model import Component, Severity
from checker.policy.decisions import Decision, DecisionKind, DecisionTable, read_decisions
from checker.policy.knowledge import FILE_NAME as KNOWLEDGE_FILE
from checker.policy.knowledge import KnowledgeBase, read_knowledge
from checker.policy.license_policy import LicensePolicy, read_license_policy
from checker.policy.reading import read_policy_file

__all__ = [
    "Decision",
    "DecisionKind",
    "Identified",
    "LicensePolicy",
    "Policy",
    "RowMatch",
    "_decisions",
    "_license_policy",
    "adr_index",
    "load_policy",
]

#: The readers of each file under the names the fuzz benchmark imports.
_decisions = read_decisions
_license_policy = read_license_policy


class RowMatch(NamedTuple):
    """The decision-table row that recognises a component, and the pattern that did."""

    decision: Decision
    pattern: str


class Identified(NamedTuple):
    """What the table says a component is: its row, else the stack pattern it matches."""

    row: RowMatch | None
    stack: str | None


@dataclass(slots=True)
class Policy:
    decisions: list[Decision]
    stack: Matcher
    licenses: LicensePolicy
    directory: Path
    adr_files: dict[str, Path] = field(default_factory=dict)
    unpinned_image: Severity = Severity.WARNING
    #: What images are and their license history (``images.yaml``; absent: empty).
    knowledge: KnowledgeBase = field(default_factory=KnowledgeBase)
    _rows: MatchIndex = field(init=False, repr=False)
    _stack: MatchIndex = field(init=False, repr=False)
    _identity: MatchIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = MatchIndex([d.matcher for d in self.decisions])
        self._stack = MatchIndex([self.stack])
        # Rows then the stack definition as one last row: one lookup answers
        # "which row decides this, or is it at least a stack component?".
        self._identity = MatchIndex([*(d.matcher for d in self.decisions), self.stack])

    def identify(self, component: Component, ident: PurlIdentity | None = None) -> Identified:
        """The row that decides ``component``, else the stack pattern it matches, if any."""
        hit = self._identity.first(component, ident)
        if hit is None:
            return Identified(None, None)
        row, pattern = hit
        if row < len(self.decisions):
            return Identified(RowMatch(self.decisions[row], pattern), None)
        return Identified(None, pattern)

    def decide(self, component: Component, ident: PurlIdentity | None = None) -> RowMatch | None:
        """The first row that recognises ``component`` and the pattern that did."""
        hit = self._rows.first(component, ident)
        return RowMatch(self.decisions[hit[0]], hit[1]) if hit is not None else None

    def is_stack(self, component: Component, ident: PurlIdentity | None = None) -> str | None:
        """The stack pattern ``component`` matches, or None."""
        hit = self._stack.first(component, ident)
        return hit[1] if hit is not None else None


def adr_index(adr_dir: Path) -> dict[str, Path]:
    """ADR-NNNN -> file, for every ``NNNN-title.md`` in the ADR folder."""
    found: dict[str, Path] = {}
    if not adr_dir.is_dir():
        return found
    for path in sorted(adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md")):
        found.setdefault(f"ADR-{path.name[:4]}", path)
    return found


def _problem_order(problem: Problem) -> tuple[str, int]:
    return problem.path, problem.line or 0


def load_policy(directory: Path, adr_dir: Path | None = None) -> Policy:
    """Load and validate ``licenses.yaml`` and ``dependencies.yaml`` from ``directory``.

    ``images.yaml`` (:mod:`checker.policy.knowledge`) is read too when it exists.

    Raises :class:`PolicyError` listing every problem found in both files.
    """
    problems: list[Problem] = []
    if not directory.is_dir():
        raise PolicyError(f"policy directory {directory} does not exist (use --policy DIR)")
    adr_dir = adr_folder(directory, adr_dir)
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
    lic_doc = read_policy_file(directory / "licenses.yaml", problems)
    dep_doc = read_policy_file(directory / "dependencies.yaml", problems)
    license_policy: LicensePolicy | None = None
    if lic_doc is not None:
        license_policy, lic_problems = read_license_policy(lic_doc)
        problems.extend(lic_problems)
    table = DecisionTable([], Matcher(), Severity.WARNING, [])
    if dep_doc is not None:
        normalizer = license_policy.normalizer if license_policy else Normalizer([])
        table = read_decisions(dep_doc, normalizer, set(adrs) if adrs else None)
        problems.extend(table.problems)
    knowledge = KnowledgeBase()
    if (directory / KNOWLEDGE_FILE).exists() and license_policy is not None:
        kb_doc = read_policy_file(directory / KNOWLEDGE_FILE, problems)
        if kb_doc is not None:
            knowledge, kb_problems = read_knowledge(kb_doc, license_policy.normalizer)
            problems.extend(kb_problems)
    if problems or license_policy is None:
        problems.sort(key=_problem_order)
        count = len(problems)
        raise PolicyError(
            f"the policy in {directory} has {count} problem{'s' if count != 1 else ''}; "
            "fix them and run again",
            problems,
        )
    return Policy(
        table.rows, table.stack, license_policy, directory, adrs, table.unpinned_image, knowledge
    )
