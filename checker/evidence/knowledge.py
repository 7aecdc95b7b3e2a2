"""Evidence from the knowledge base: the license an image's release carries.

An image reference states no license; ``policy/images.yaml``
(:mod:`checker.policy.knowledge`) records what the image is and its license
history by version. This source answers for components that stand for an
image whose normalized repository an entry lists, with the span the tag is
judged by (a floating or missing tag by the newest release it can pull).

Precedence: after ``evidence-file`` and before ``decision-table``. An input
that states a license still wins (the chain asks sources only when it
stated none). The knowledge base outranks a decision-table row's
``license`` because it is the more specific record: it says which license
each release carries, where a row states one license for whatever versions
it matches; the row still decides identity (approved, rejected, stack), and
the license-mismatch rule does not compare the two, since both have
evidence form ``policy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checker.evidence import Found
from checker.matching import image_of
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin

if TYPE_CHECKING:
    from checker.policy import Decision
    from checker.policy.knowledge import KnowledgeBase


class KnowledgeSource:
    """The license ``images.yaml`` records for an image's release."""

    name = "knowledge-base"

    def __init__(self, knowledge: KnowledgeBase | None) -> None:
        self.knowledge = knowledge

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        if self.knowledge is None or not self.knowledge.projects:
            return None
        image = image_of(component)
        if image is None:
            return None
        project = self.knowledge.project_of(image)
        if project is None:
            return None
        from checker.policy.knowledge import judge

        judged = judge(project, image.tag)
        if judged is None:
            return None
        span = judged.span
        where = f"{project.path}:line {span.line}"
        since = f" since {span.since}" if span.since else ""
        text = f"{where} ({project.project} {span.license}{since}: {span.source})"
        if judged.floating is not None:
            text += f"; {judged.floating}"
        origin = Origin(project.path, f"line {span.line}")
        return Found([LicenseEvidence(span.license, origin, EvidenceForm.POLICY)], text)
