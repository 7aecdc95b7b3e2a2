"""License evidence: where a component's license comes from when its input states none.

Readers record what each input says. Many inputs say nothing about licenses
(a lockfile names ``psycopg==3.3.9``, not its license), and the gate fails
closed on a component without evidence. Before the rules run, each
component without a license statement is offered to the evidence sources in
precedence order; the first that knows supplies the statements, and the
trace records which source that was and which were asked before it.

Precedence (highest first):

1. the input itself: what the component's own reader found (never replaced);
2. ``run``: another input of the same run that states licenses (declared
   in an SBOM, or the installed metadata read with ``--env``), joined by
   exact purl;
3. ``evidence-file``: the registry license metadata ``rune-policy evidence
   resolve`` recorded for a lock entry's release, read offline
   (:mod:`checker.evidence.evidence_file`);
4. ``knowledge-base``: the license ``policy/images.yaml`` records for an
   image's release (:mod:`checker.evidence.knowledge`);
5. ``decision-table``: the license a decision-table row records for the
   component (evidence form ``policy``, so it cannot contradict itself).

A source may also implement :class:`Advising`: it then reports a problem
with the evidence it holds (an ``evidence-mismatch``), and says what to do
next when no source knows the component's license.

A new source (a package registry, license files) is one module holding an
:class:`EvidenceSource` and one line in :func:`_sources`, where its place
in the precedence is its place in the tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from checker.model import Component, LicenseEvidence, ReadResult

if TYPE_CHECKING:
    from checker.evidence.evidence_file import EvidenceFile
    from checker.policy import Decision
    from checker.policy.knowledge import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Found:
    """License statements one source holds for a component, and how to name it."""

    licenses: list[LicenseEvidence]
    #: What reports print as "license from": a file, a table row.
    source: str


class EvidenceSource(Protocol):
    """One place license evidence may come from."""

    #: The source's name in the precedence list and in traces.
    name: str

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        """The statements this source holds for ``component``, or None."""
        ...


@runtime_checkable
class Advising(Protocol):
    """A source that can tell what is wrong with its evidence, and what to do without any."""

    def problem(self, component: Component) -> str | None:
        """Why the evidence this source holds for ``component`` cannot be trusted, or None."""
        ...

    def next_step(self, component: Component) -> str | None:
        """What the user should do when no source knows ``component``'s license, or None."""
        ...


#: A factory per source, in precedence order; each gets the run's read results.
SourceFactory = Callable[[Sequence[ReadResult]], EvidenceSource]


@dataclass(slots=True)
class Resolution:
    """What the evidence chain found for one component: the trace's record.

    The component itself is left as its input described it; the evaluator
    judges ``licenses`` and reports ``source`` as where they came from.
    """

    licenses: list[LicenseEvidence]
    #: Where the licenses came from, as reports print it ("license from").
    source: str | None = None
    #: The sources asked, in order, each with what it answered (None: nothing).
    asked: list[tuple[str, str | None]] = field(default_factory=list)


class Evidence:
    """The sources of one run, asked in precedence order."""

    def __init__(self, sources: Sequence[EvidenceSource]) -> None:
        self.sources = tuple(sources)

    def problems(self, component: Component, resolution: Resolution) -> list[str]:
        """What the sources asked for ``component`` find wrong with the evidence they hold.

        Only sources that were asked (none outranked them) speak: evidence
        that was not used cannot mislead the verdict.
        """
        asked = {name for name, _ in resolution.asked}
        found: list[str] = []
        for source in self.sources:
            if source.name in asked and isinstance(source, Advising):
                problem = source.problem(component)
                if problem is not None:
                    found.append(problem)
        return found

    def next_step(self, component: Component) -> str | None:
        """What to do about a component no source knows the license of (the first advice)."""
        for source in self.sources:
            if isinstance(source, Advising):
                step = source.next_step(component)
                if step is not None:
                    return step
        return None

    def resolve(self, component: Component, decision: Decision | None) -> Resolution:
        """The component's license statements: its own, else the first source's that knows.

        The input's own statements always win: a source is asked only when
        the input stated nothing.
        """
        if component.licenses:
            return Resolution(component.licenses, component.license_source)
        resolution = Resolution([], component.license_source)
        for source in self.sources:
            found = source.lookup(component, decision)
            if found is None:
                resolution.asked.append((source.name, None))
                continue
            resolution.licenses = list(found.licenses)
            resolution.source = found.source
            resolution.asked.append((source.name, found.source))
            break
        return resolution


def _sources(
    evidence_file: EvidenceFile | None = None, knowledge: KnowledgeBase | None = None
) -> tuple[SourceFactory, ...]:
    """The registry of evidence sources, highest precedence first (imported lazily)."""
    from checker.evidence.decision_table import DecisionTable
    from checker.evidence.evidence_file import EvidenceFileSource
    from checker.evidence.knowledge import KnowledgeSource
    from checker.evidence.run_inputs import RunInputs

    return (
        RunInputs,
        lambda results: EvidenceFileSource(results, evidence_file),
        lambda _results: KnowledgeSource(knowledge),
        lambda _results: DecisionTable(),
    )


def for_run(
    results: Sequence[ReadResult],
    evidence_file: EvidenceFile | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Evidence:
    """The evidence chain for a run over ``results``, in the documented precedence.

    ``evidence_file``: the registry evidence ``rune-policy evidence resolve``
    wrote, read offline (None: no registry evidence); ``knowledge``: the
    policy's ``images.yaml`` (None: none).
    """
    return Evidence([make(results) for make in _sources(evidence_file, knowledge)])
