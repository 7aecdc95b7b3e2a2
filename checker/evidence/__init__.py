"""License evidence: where a component's license comes from when its input states none.

Readers record what each input says. Many inputs say nothing about licenses
(a lockfile names ``psycopg==3.3.9``, not its license), and the gate fails
closed on a component without evidence. Before the rules run, each
component without a license statement is offered to the evidence sources in
precedence order; the first that knows supplies the statements, and the
trace records which source that was and which were asked before it.

Precedence (highest first):

1. the input itself: what the component's own reader found (never replaced);
2. ``run``: another input of the same run that states licenses (an SBOM, or
   the installed environment read with ``--env``), joined by exact purl;
3. ``decision-table``: the license a decision-table row records for the
   component (evidence form ``policy``, so it cannot contradict itself).

A new source (a package registry, license files) is one module holding an
:class:`EvidenceSource` and one line in :func:`_sources`, where its place
in the precedence is its place in the tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from checker.model import Component, LicenseEvidence, ReadResult

if TYPE_CHECKING:
    from checker.policy import Decision


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


def _sources() -> tuple[SourceFactory, ...]:
    """The registry of evidence sources, highest precedence first (imported lazily)."""
    from checker.evidence.decision_table import DecisionTable
    from checker.evidence.run_inputs import RunInputs

    return (RunInputs, lambda _results: DecisionTable())


def for_run(results: Sequence[ReadResult]) -> Evidence:
    """The evidence chain for a run over ``results``, in the documented precedence."""
    return Evidence([make(results) for make in _sources()])
