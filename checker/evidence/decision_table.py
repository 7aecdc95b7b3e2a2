"""Evidence from the decision table: the license a row records for its component.

The last resort before failing closed: a row that names a license (with the
evidence its reviewer checked) speaks for a component whose inputs say
nothing. The statement has form ``policy``, so the license-mismatch rule,
which compares inputs with the table, does not compare the table with itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checker.evidence import Found
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin

if TYPE_CHECKING:
    from checker.policy import Decision


class DecisionTable:
    """The license recorded in the component's decision-table row."""

    name = "decision-table"

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        if decision is None or not decision.license:
            return None
        origin = Origin(decision.path, f"line {decision.line}")
        evidence = LicenseEvidence(decision.license, origin, EvidenceForm.POLICY)
        return Found([evidence], f"decision table row {decision.id}")
