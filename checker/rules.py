"""Every rule the gate can emit, in one place: its id, what it means, what to do.

A finding's rule id is a stable contract: reports, SARIF alerts, the VEX
register and CI configuration all name it. So the id, its default severity,
whether a register entry may waive it, whether it judges a license, its help
text and its SARIF metadata are one record here, and every other module (the
evaluator, the VEX register and applier, each report, the docs' rule
reference) reads this registry instead of spelling the ids again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checker.model import Severity


class RuleId(StrEnum):
    """The stable rule ids, in the order reports list them: decisions about
    what is shipped first, then licenses, then the register, then the inputs."""

    REJECTED_COMPONENT = "rejected-component"
    BUNDLED_BYO = "bundled-byo"
    UNAPPROVED_STACK_COMPONENT = "unapproved-stack-component"
    DENIED_LICENSE = "denied-license"
    UNKNOWN_LICENSE = "unknown-license"
    AMBIGUOUS_LICENSE = "ambiguous-license"
    LICENSE_MISMATCH = "license-mismatch"
    LICENSE_CONFLICT = "license-conflict"
    EVIDENCE_MISMATCH = "evidence-mismatch"
    UNPINNED_IMAGE = "unpinned-image"
    EXPIRED_EXCEPTION = "expired-exception"
    UNUSED_EXCEPTION = "unused-exception"
    INPUT_WARNING = "input-warning"
    INPUT_ERROR = "input-error"
    UNREADABLE_INPUT = "unreadable-input"


@dataclass(frozen=True, slots=True)
class Rule:
    """What a reviewer needs to know about a rule: what it means and what to do.

    ``level`` is the default severity; ``severity_note`` says when the policy
    or the component kind changes it (the docs' rule table prints it).
    ``waivable``: a VEX-register exception may accept its findings.
    ``judges_license``: its findings state a license expression, which a
    register entry may name instead of the rule id.
    """

    id: RuleId
    name: str
    short: str
    full: str
    help: str
    level: Severity
    tags: tuple[str, ...]
    waivable: bool = False
    judges_license: bool = False
    severity_note: str = ""

    @property
    def severity_text(self) -> str:
        return self.severity_note or self.level.value


#: The registry, in :class:`RuleId` order.
RULES: dict[RuleId, Rule] = {
    r.id: r
    for r in (
        Rule(
            RuleId.REJECTED_COMPONENT,
            "RejectedComponent",
            "Component rejected by the decision table",
            "The decision table (policy/dependencies.yaml) rejects this component, whatever "
            "its license says; the row names the ADR that gives the reason.",
            "Remove the component from what is shipped or replace it with the approved "
            "alternative the ADR names. If the decision itself should change, supersede the "
            "ADR and change the row in a reviewed pull request; a time-limited exception goes "
            "in the VEX register with an approver, a reference and an expiry date.",
            Severity.ERROR,
            ("supply-chain", "decision-table"),
            waivable=True,
        ),
        Rule(
            RuleId.BUNDLED_BYO,
            "BundledBringYourOwn",
            "Bring-your-own component is shipped",
            "The decision table approves this component only as bring-your-own (the operator "
            "installs it), but the scanned artifact ships it: what the gate scans is what the "
            "project ships.",
            "Remove the component from the image, chart or lockfile that is shipped and "
            "document the install step for operators instead.",
            Severity.ERROR,
            ("supply-chain", "decision-table"),
            waivable=True,
        ),
        Rule(
            RuleId.UNAPPROVED_STACK_COMPONENT,
            "UnapprovedStackComponent",
            "PostgreSQL-stack component the decision table does not decide",
            "A PostgreSQL driver, image, operator or chart that has no row in the decision "
            "table. Unknown is not approved.",
            "Add a row to policy/dependencies.yaml (approved, approved-byo or rejected) backed "
            "by an ADR before shipping the component, or use an approved one instead.",
            Severity.ERROR,
            ("supply-chain", "decision-table"),
            waivable=True,
        ),
        Rule(
            RuleId.DENIED_LICENSE,
            "DeniedLicense",
            "License not allowed by the license policy",
            "No branch of the component's license expression is allowed for this kind of "
            "component under policy/licenses.yaml.",
            "Replace the component, or use a release or distribution under an allowed "
            "license. If the SBOM states the license wrongly, fix the SBOM or its generator. "
            "If this use is acceptable, record a license exception in the VEX register with an "
            "ADR or issue reference, an approver and an expiry date.",
            Severity.ERROR,
            ("supply-chain", "license"),
            waivable=True,
            judges_license=True,
        ),
        Rule(
            RuleId.UNKNOWN_LICENSE,
            "UnknownLicense",
            "License missing, unreadable or not known to the policy",
            "The component states no license, one that does not parse, or a license id the "
            "policy does not know. The gate fails closed (a warning only for operating-system "
            "packages inside an image).",
            "Find the component's actual license (package metadata, upstream repository) and "
            "make the SBOM state it, or give an input that does (an SBOM or --env beside a "
            "lockfile). Non-SPDX names can be mapped in the normalization table of "
            "policy/licenses.yaml.",
            Severity.ERROR,
            ("supply-chain", "license"),
            waivable=True,
            judges_license=True,
            severity_note="error; warning for OS packages (policy)",
        ),
        Rule(
            RuleId.AMBIGUOUS_LICENSE,
            "AmbiguousLicense",
            "Verdict rests on an ambiguous license name",
            "The license was given as an ambiguous name (such as BSD) that the policy maps to "
            "a specific license; the verdict depends on that mapping being right.",
            "Check the component's license text and state the exact SPDX id in the SBOM, or in "
            "the decision table row for the component.",
            Severity.WARNING,
            ("supply-chain", "license"),
            waivable=True,
            judges_license=True,
            severity_note="warning (policy)",
        ),
        Rule(
            RuleId.LICENSE_MISMATCH,
            "LicenseMismatch",
            "Decision table and evidence disagree on the license",
            "The decision table records one license for the component and the input states "
            "another.",
            "Check the component's license at its source and correct whichever is wrong: the "
            "decision table row or the SBOM.",
            Severity.ERROR,
            ("supply-chain", "license", "decision-table"),
            waivable=True,
            judges_license=True,
            severity_note="error (policy)",
        ),
        Rule(
            RuleId.LICENSE_CONFLICT,
            "LicenseConflict",
            "The input's own license statements contradict each other",
            "The component states an exact SPDX license and, beside it, a Python trove "
            "classifier that names another license (for example the id MIT and the classifier "
            "GNU General Public License v3). A classifier that agrees with the exact statement "
            "only corroborates it; one that contradicts it means one of the two is wrong, and "
            "the gate does not guess which.",
            "Check the package's license text at its source. If the exact statement is wrong, "
            "fix the SBOM or the package metadata. If the classifier is stale, report it "
            "upstream and record an exception for this rule in the VEX register, with a "
            "reference, an approver and an expiry date.",
            Severity.ERROR,
            ("supply-chain", "license"),
            waivable=True,
        ),
        Rule(
            RuleId.EVIDENCE_MISMATCH,
            "EvidenceMismatch",
            "Lock pins another artifact than the one whose license evidence was reviewed",
            "The evidence file (rune-policy evidence resolve) records the license metadata of "
            "one artifact of the release, but the lock entry pins hashes none of which is that "
            "artifact's: the artifact is not the one reviewed, so its license evidence may not "
            "apply.",
            "Run rune-policy evidence resolve on the lockfile to fetch the metadata of the "
            "artifact the lock pins, review the change to the evidence file and commit it with "
            "the lock. Not waivable: refreshing the evidence is one command, and a waiver would "
            "let an unreviewed artifact through.",
            Severity.ERROR,
            ("supply-chain", "license", "evidence"),
        ),
        Rule(
            RuleId.UNPINNED_IMAGE,
            "UnpinnedImage",
            "Approved image is not pinned by digest",
            "An approved container image is referenced by tag only; a tag can move, so the "
            "image that runs may not be the one that was reviewed.",
            "Pin the image as IMAGE:TAG@sha256:DIGEST.",
            Severity.WARNING,
            ("supply-chain", "image"),
            waivable=True,
            severity_note="warning (policy); error for rows with require_digest: true",
        ),
        Rule(
            RuleId.EXPIRED_EXCEPTION,
            "ExpiredException",
            "VEX register exception has expired",
            "An exception in the VEX register matches this finding but its expiry date has "
            "passed, so the finding counts again.",
            "Fix what the exception waived, or renew the exception after review: a new expiry "
            "date, an approver and a reference (ADR or issue).",
            Severity.ERROR,
            ("supply-chain", "vex"),
        ),
        Rule(
            RuleId.UNUSED_EXCEPTION,
            "UnusedException",
            "VEX register exception matched nothing",
            "An exception in the VEX register matched no finding in this run: the component "
            "is gone, or the entry's component, versions or rule are wrong.",
            "Remove the entry from the VEX register, or correct it so it matches what it was "
            "meant to waive.",
            Severity.WARNING,
            ("supply-chain", "vex"),
        ),
        Rule(
            RuleId.INPUT_WARNING,
            "InputWarning",
            "Something odd about an input that was read anyway",
            "The input was read, but something in it was skipped or guessed; the result may be "
            "incomplete.",
            "Read the message and fix the input or the tool that generated it.",
            Severity.WARNING,
            ("input",),
        ),
        Rule(
            RuleId.INPUT_ERROR,
            "InputError",
            "Something in an input that may be a component could not be read as one",
            "The reader met an element it cannot place (a component without a name, a purl "
            "that does not parse or contradicts the component's type, a component in an "
            "unknown XML namespace, package fields outside a package). Dropping it could hide "
            "a rejected component, so the run fails instead.",
            "Fix the input or the tool that generated it; the message says where the element "
            "is and what was expected.",
            Severity.ERROR,
            ("input",),
        ),
        Rule(
            RuleId.UNREADABLE_INPUT,
            "UnreadableInput",
            "Input could not be read",
            "An input could not be read or parsed. The other inputs were still checked, but "
            "the run exits 3 until this one reads.",
            "Fix or regenerate the file; the message says where reading stopped.",
            Severity.ERROR,
            ("input",),
        ),
    )
}


assert list(RULES) == list(RuleId), "every rule id has one record, in RuleId order"

#: Rules a VEX-register exception may waive, in catalogue order.
WAIVABLE: tuple[RuleId, ...] = tuple(r.id for r in RULES.values() if r.waivable)
#: Rules whose findings state a license, which a register entry may name instead.
LICENSE_RULES: frozenset[RuleId] = frozenset(r.id for r in RULES.values() if r.judges_license)


def rule_info(rule_id: RuleId) -> Rule:
    """The registry record of ``rule_id``."""
    return RULES[rule_id]


def rule_order(rule_id: RuleId) -> int:
    """Where reports list ``rule_id``: the registry's order."""
    return _ORDER[rule_id]


_ORDER = {rule_id: i for i, rule_id in enumerate(RULES)}
