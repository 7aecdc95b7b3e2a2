"""The one small internal model every input format reads into.

Readers turn CycloneDX, SPDX, pip-licenses output, installed metadata (and,
later, lockfiles and deployment artifacts) into :class:`Component` objects; the
gate evaluates those and every report writes from :class:`Finding`. Keeping the
model this small is what lets a new format be added without touching the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.rules import RuleId


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Kind(StrEnum):
    """What a component is, as far as the policy cares.

    ``os-package`` matters because an operating-system distribution inside a
    container image is aggregation: GPL there is not the same decision as GPL
    in a library the application links.
    """

    LIBRARY = "library"
    APPLICATION = "application"
    OS_PACKAGE = "os-package"
    IMAGE = "image"
    CHART = "chart"
    SERVICE = "service"
    OTHER = "other"


@dataclass(slots=True)
class Origin:
    """Where a fact was read: the file and a place in it.

    Not frozen: a large SBOM creates one per component and one per license
    statement, and a frozen dataclass costs nearly three times as much to
    create. Treat it as a value all the same.

    ``location`` is a JSON path (``$.components[3].licenses[0]``), an XML path
    (``/bom/components/component[4]``) or ``line N``.
    """

    path: str
    location: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.location}" if self.location else self.path


class EvidenceForm(StrEnum):
    """How an input expressed a license statement; the trace shows it."""

    #: An SPDX expression field.
    EXPRESSION = "expression"
    #: An SPDX license id field.
    ID = "id"
    #: Free text.
    NAME = "name"
    #: A Python trove classifier.
    CLASSIFIER = "classifier"
    #: Taken from the decision table because no input stated one.
    POLICY = "policy"


@dataclass(slots=True)
class LicenseEvidence:
    """One license statement as the input gave it, before any normalization.

    ``form`` says how the input expressed it (:class:`EvidenceForm`).
    """

    text: str
    origin: Origin
    form: EvidenceForm = EvidenceForm.EXPRESSION
    acknowledgement: str | None = None


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A container image reference with its parts kept apart."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


@dataclass(slots=True)
class Component:
    """A dependency found in an input, with its license evidence and origin.

    ``licenses`` are combined with AND: every statement an input makes about a
    component applies (CycloneDX leaves the meaning of several entries open;
    reading them as AND is the conservative choice, see ADR-0007).
    ``no_license_reason`` records why ``licenses`` is empty when the input said
    so explicitly (SPDX ``NOASSERTION`` or ``NONE``).
    """

    name: str
    origin: Origin
    version: str | None = None
    purl: str | None = None
    kind: Kind = Kind.LIBRARY
    group: str | None = None
    licenses: list[LicenseEvidence] = field(default_factory=list)
    no_license_reason: str | None = None
    image: ImageRef | None = None
    chart_repository: str | None = None
    is_subject: bool = False
    scope: str | None = None
    path: tuple[str, ...] = ()
    license_source: str | None = None
    #: Artifact hashes a lockfile pins for this release, ``algorithm:hex`` in
    #: lower case (see :class:`checker.evidence.records.Wanted`); empty otherwise.
    digests: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        if self.image is not None:
            return str(self.image)
        base = f"{self.group}/{self.name}" if self.group else self.name
        return f"{base}@{self.version}" if self.version else base


@dataclass(frozen=True, slots=True)
class Note:
    """Something about an input that a reader could not turn into a component.

    A warning (``input-warning``) when nothing the policy judges is lost by it;
    an error (``input-error``) when the reader had to leave out something that
    may be a component (an element it cannot place, a nameless component, a
    purl that contradicts the component): failing closed means the run fails
    instead of the component silently vanishing.
    """

    origin: Origin
    message: str
    severity: Severity = Severity.WARNING


@dataclass(slots=True)
class ReadResult:
    """What one reader produced from one input file."""

    path: str
    format: str
    components: list[Component] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ComponentRef:
    name: str
    version: str | None
    purl: str | None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A current VEX-register exception that accepts a finding.

    The finding stays in every report, marked accepted, so a reviewer sees
    what was waived, by whom, under which decision and until when.
    """

    entry: str
    reference: str
    approver: str
    expires: date
    reason: str
    origin: Origin

    def days_left(self, today: date) -> int:
        return (self.expires - today).days


@dataclass(slots=True)
class Finding:
    """One verdict about one component, in the shape every report writes."""

    rule: RuleId
    severity: Severity
    component: ComponentRef
    message: str
    source: Origin
    license: str | None = None
    policy_entry: str | None = None
    path: tuple[str, ...] = ()
    accepted: Acceptance | None = None
    license_source: str | None = None
    #: The other places the same release appears in the run's inputs
    #: (:mod:`checker.identity`): the finding is reported once, for all of them.
    also: tuple[Origin, ...] = ()
