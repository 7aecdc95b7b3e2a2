"""Matching the gate's findings to the register's license exceptions.

For each finding of a waivable rule, the exceptions naming the finding's
component (by purl, version and qualifiers, or by image digest) are tried;
an exception covers the finding when it names the finding's rule, or an
SPDX expression equal to the license the finding states (for the license
rules). Then:

* a current exception covers it: the finding is marked accepted with the
  entry, reference, approver and expiry, and no longer counts as an error;
  it stays in every report;
* only an expired exception covers it: the finding stays an error and an
  ``expired-exception`` error is added, pointing at the register line;
* a current exception that covered nothing in the run is an
  ``unused-exception`` warning (so is an expired one, or one a renewal
  superseded, that covered nothing): the register should not outlive the
  reasons for its entries.

Vulnerability entries are not applied: the gate reports no vulnerabilities,
so it cannot tell whether they are used. They are validated and listed, and
exported for the scanners that do (``vex export``); calling them unused here
would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from packageurl import PackageURL

from checker.matching import PurlIdentity, image_of, parse_purl
from checker.model import Acceptance, Component, ComponentRef, Finding, Origin, Severity
from checker.rules import LICENSE_RULES, WAIVABLE, RuleId
from checker.vex.model import SPDX_NORMALIZER, LicenseException, equivalent

_WAIVABLE = frozenset(WAIVABLE)


def acceptance(entry: LicenseException) -> Acceptance:
    return Acceptance(
        entry=entry.id,
        reference=entry.reference,
        approver=entry.approver,
        expires=entry.expires,
        reason=entry.reason,
        origin=entry.origin,
    )


def _qualifiers(purl: str | None) -> dict[str, str]:
    if not purl:
        return {}
    try:
        raw = PackageURL.from_string(purl).qualifiers
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


class Applier:
    """Applies license exceptions to one run's findings, component by component."""

    def __init__(self, exceptions: Iterable[LicenseException], today: date) -> None:
        self.today = today
        self.exceptions = list(exceptions)
        self._by_key: dict[tuple[str, ...], list[LicenseException]] = {}
        for entry in self.exceptions:
            self._by_key.setdefault(entry.subject.key, []).append(entry)
        self._accepted: dict[str, int] = {}
        self._expired_hits: dict[str, int] = {}
        self._superseded: dict[str, str] = {}

    def _candidates(
        self, component: Component
    ) -> tuple[list[LicenseException], PurlIdentity | None]:
        ident = parse_purl(component.purl) if component.purl else None
        found: list[LicenseException] = []
        if ident is not None:
            found.extend(self._by_key.get(("purl", ident.type, ident.namespace, ident.name), []))
        image = image_of(component, ident)
        if image is not None and image.digest:
            found.extend(self._by_key.get(("image", image.digest.lower()), []))
        return found, ident

    def apply(self, component: Component, findings: list[Finding]) -> None:
        """Mark accepted findings and append ``expired-exception`` findings in place."""
        if not self.exceptions or not any(f.rule in _WAIVABLE for f in findings):
            return
        candidates, ident = self._candidates(component)
        if not candidates:
            return
        version = (ident.version if ident is not None else None) or component.version
        image = image_of(component, ident)
        qualifiers = (
            _qualifiers(component.purl) if any(e.subject.qualifiers for e in candidates) else {}
        )
        naming = [e for e in candidates if e.subject.matches(ident, version, image, qualifiers)]
        if not naming:
            return
        for finding in list(findings):
            if finding.rule not in _WAIVABLE or finding.accepted is not None:
                continue
            covering = [e for e in naming if _covers(e, finding)]
            current = [e for e in covering if not e.expired(self.today)]
            expired = [e for e in covering if e.expired(self.today)]
            if current:
                chosen = current[0]
                finding.accepted = acceptance(chosen)
                self._accepted[chosen.id] = self._accepted.get(chosen.id, 0) + 1
                for old in expired:
                    self._superseded.setdefault(old.id, chosen.id)
                continue
            for old in expired:
                self._expired_hits[old.id] = self._expired_hits.get(old.id, 0) + 1
                findings.append(self._expired_finding(old, finding))

    def _expired_finding(self, entry: LicenseException, finding: Finding) -> Finding:
        days = -entry.days_left(self.today)
        return Finding(
            rule=RuleId.EXPIRED_EXCEPTION,
            severity=Severity.ERROR,
            component=finding.component,
            message=(
                f"exception {entry.id} ({entry.reference}, approved by {entry.approver}) "
                f"expired on {entry.expires} ({days} day{'s' if days != 1 else ''} ago); it "
                f"would have accepted {finding.rule} for {_name(finding.component)}"
                f"{' (' + finding.license + ')' if finding.license else ''}. Renew it after a "
                "new review (new approver, created and expires dates) or fix the dependency"
            ),
            source=entry.origin,
            license=finding.license,
            policy_entry=finding.policy_entry,
            path=finding.path,
        )

    def finish(self) -> list[Finding]:
        """``unused-exception`` warnings for entries that covered nothing in the run."""
        findings: list[Finding] = []
        for entry in self.exceptions:
            if entry.id in self._accepted or entry.id in self._expired_hits:
                continue
            if entry.expired(self.today):
                superseded = self._superseded.get(entry.id)
                why = (
                    f"expired on {entry.expires} and superseded by {superseded}"
                    if superseded
                    else f"expired on {entry.expires} and matched nothing in this run"
                )
            else:
                why = (
                    f"matched no finding in this run ({entry.waives} for "
                    f"{entry.subject.describe()})"
                )
            findings.append(
                Finding(
                    rule=RuleId.UNUSED_EXCEPTION,
                    severity=Severity.WARNING,
                    component=ComponentRef(entry.subject.text, entry.subject.version, None),
                    message=(
                        f"exception {entry.id} ({entry.reference}) {why}; remove it from the "
                        "register if the component or the finding is gone"
                    ),
                    source=Origin(entry.origin.path, entry.origin.location),
                    license=entry.license if entry.rule is None else None,
                )
            )
        return findings

    @property
    def accepted(self) -> dict[str, int]:
        """Entry id -> how many findings it accepted."""
        return dict(self._accepted)


def _name(ref: ComponentRef) -> str:
    return f"{ref.name}@{ref.version}" if ref.version else ref.name


def _covers(entry: LicenseException, finding: Finding) -> bool:
    if entry.rule is not None:
        return entry.rule == finding.rule
    if finding.rule not in LICENSE_RULES or finding.license is None:
        return False
    assert entry.expression is not None
    if finding.license == entry.expression.expression:
        return True
    stated = SPDX_NORMALIZER.normalize(finding.license)
    return stated.ok and equivalent(stated, entry.expression)
