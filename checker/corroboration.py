"""Corroboration: weighing a trove classifier against the exact license beside it.

cyclonedx-py, installed metadata and pip-licenses state many Python packages
twice: the exact SPDX id the package declares (``Apache-2.0``) and its trove
classifier (``License :: OSI Approved :: Apache Software License``), which
names no version. Read as two AND terms, the classifier adds nothing but an
``ambiguous-license`` warning, and it would hide a real contradiction among
the noise. So, for one component's statements (:func:`weigh`):

* without an exact statement (an SPDX expression whose every id is known,
  :func:`checker.licenses.is_spdx_expression`) nothing changes: every
  statement is judged, classifiers included (Jinja2's lone ``BSD License``
  stays ambiguous, rightly);
* beside one, a classifier that names the same license is *corroboration*:
  shown in the trace, never judged. "Same" is the policy normalizer's
  reading of the classifier, compared licence by licence: equal once
  ``-only``/``-or-later`` are set aside, or, where the normalization table
  marks the classifier's mapping ambiguous (it names no version), of the
  same family (``BSD License`` agrees with ``BSD-2-Clause``);
* a classifier that names another license *contradicts* it: the caller
  reports ``license-conflict``, an error, since one of the two statements
  is wrong and the gate does not guess which;
* a classifier the normalization table does not map to a known id is
  judged as before (an unknown license, failing closed): it can neither
  corroborate nor contradict.

The classifier that names no license (``License :: OSI Approved``) beside an
exact statement corroborates it trivially.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from checker.licenses import (
    CLASSIFIER_PREFIX,
    Normalized,
    Normalizer,
    consistent,
    is_spdx_expression,
    license_ids,
)
from checker.model import EvidenceForm, LicenseEvidence, Origin

#: The classifier that says a license is OSI approved, not which one.
_BARE = f"{CLASSIFIER_PREFIX} OSI Approved"

#: Licence ids whose family is not their leading word: one ambiguous
#: classifier covers them all (casefolded id -> family).
_FAMILIES = {
    "0bsd": "bsd",
    "python-2.0": "psf",
    "python-2.0.1": "psf",
    "cc0-1.0": "public-domain",
    "unlicense": "public-domain",
    "licenseref-scancode-public-domain": "public-domain",
    "x11": "mit",
}
_WORD = re.compile(r"[a-z]+")
_VERSION = re.compile(r"\d+(?:\.\d+)*")
_LATER = re.compile(r"(?:-only|-or-later|\+)$")


class Standing(StrEnum):
    """What a classifier beside an exact statement turned out to be."""

    CORROBORATES = "corroborates"
    CONTRADICTS = "contradicts"


@dataclass(frozen=True, slots=True)
class Weighing:
    """One classifier weighed against the component's exact statements.

    ``exact`` are the statements it was weighed against; ``reason`` says, for
    the trace, why it agrees or what it names instead.
    """

    classifier: LicenseEvidence
    normalized: Normalized
    standing: Standing
    exact: tuple[LicenseEvidence, ...]
    #: The exact statements' normalized expressions, joined with AND.
    exact_expression: str
    reason: str

    def message(self, component: str) -> str:
        """The ``license-conflict`` finding's message: both statements and where each is.

        The finding's own location is the classifier's; places in the same
        file are given by their location alone.
        """
        here = self.classifier.origin
        stated = " AND ".join(
            f"{e.text!r} ({e.form}, {_place(e.origin, here.path)})" for e in self.exact
        )
        return (
            f"{component}: its license statements contradict each other: {stated} and the "
            f"classifier {self.classifier.text!r} ({_place(here, here.path)}), read as "
            f"{self.normalized.expression}. One of them is wrong and the gate does not guess "
            "which: check the package's license text, then fix the input, or record a "
            "license-conflict exception in the VEX register"
        )


def _place(origin: Origin, path: str) -> str:
    return origin.location if origin.path == path and origin.location else str(origin)


@dataclass(slots=True)
class Weighed:
    """A component's statements sorted: the ones to judge and the weighed classifiers."""

    judged: list[LicenseEvidence]
    corroborating: list[Weighing] = field(default_factory=list)
    contradictions: list[Weighing] = field(default_factory=list)


def needs_weighing(evidence: Sequence[LicenseEvidence]) -> bool:
    """True when a classifier stands beside another statement (cheap; no parsing).

    Only then can :func:`weigh` change anything, so the evaluator's fast
    path keeps every other component.
    """
    classifier = other = False
    for item in evidence:
        if item.form is EvidenceForm.CLASSIFIER:
            classifier = True
        else:
            other = True
        if classifier and other:
            return True
    return False


def weigh(evidence: Sequence[LicenseEvidence], normalizer: Normalizer) -> Weighed:
    """Sort one component's statements into judged, corroborating and contradicting.

    The judged statements keep their input order.
    """
    if not needs_weighing(evidence):
        return Weighed(list(evidence))
    exact: list[tuple[LicenseEvidence, Normalized]] = []
    for item in evidence:
        if item.form is not EvidenceForm.CLASSIFIER and is_spdx_expression(item.text):
            normalized = normalizer.normalize(item.text)
            if normalized.ok:
                exact.append((item, normalized))
    if not exact:
        return Weighed(list(evidence))
    stated = tuple(item for item, _ in exact)
    expression = " AND ".join(
        f"({n.expression})" if len(exact) > 1 and " " in str(n.expression) else str(n.expression)
        for _, n in exact
    )
    keys = [key for _, normalized in exact for key in license_ids(normalized)]
    shown = " AND ".join(repr(item.text) for item in stated)
    result = Weighed([])
    for item in evidence:
        if item.form is not EvidenceForm.CLASSIFIER:
            result.judged.append(item)
            continue
        normalized = normalizer.normalize(item.text)
        if " ".join(item.text.split()) == _BARE:
            result.corroborating.append(
                Weighing(
                    item,
                    normalized,
                    Standing.CORROBORATES,
                    stated,
                    expression,
                    f"names no license; {shown} decides",
                )
            )
            continue
        named = license_ids(normalized) if normalized.ok else []
        if not named or not all(_readable(key) for key in named):
            result.judged.append(item)
            continue
        loose = bool(normalized.ambiguous)
        if any(consistent(n, normalized) for _, n in exact) or all(
            any(_same_license(m, theirs, loose=loose) for theirs in keys) for m in named
        ):
            how = "the same license family" if loose else "the same license"
            result.corroborating.append(
                Weighing(
                    item,
                    normalized,
                    Standing.CORROBORATES,
                    stated,
                    expression,
                    f"read as {normalized.expression}, {how} as {shown}",
                )
            )
        else:
            result.contradictions.append(
                Weighing(
                    item,
                    normalized,
                    Standing.CONTRADICTS,
                    stated,
                    expression,
                    f"read as {normalized.expression}, which {shown} does not state",
                )
            )
    return result


def _readable(key: str) -> bool:
    """Whether a classifier's normalized license id means something to compare.

    An SPDX id does; so does a ``LicenseRef-`` the normalization table maps
    to on purpose. A classifier the table does not map still "parses" (as an
    unknown key holding the whole classifier text): that says nothing.
    """
    return key.startswith("licenseref-") or is_spdx_expression(key)


def _same_license(mine: str, theirs: str, *, loose: bool) -> bool:
    """Whether a classifier's license ``mine`` names the exact statement's ``theirs``.

    A classifier cannot say ``-only`` or ``-or-later`` reliably, so those are
    set aside. ``loose`` (the classifier's mapping is ambiguous: it names no
    version) compares families only; otherwise versions that both state
    must agree (``GPLv3`` does not corroborate ``GPL-2.0-only``).
    """
    if _LATER.sub("", mine) == _LATER.sub("", theirs):
        return True
    if _family(mine) != _family(theirs):
        return False
    if loose:
        return True
    mine_version, their_version = _version(mine), _version(theirs)
    return mine_version is None or their_version is None or mine_version == their_version


def _family(key: str) -> str:
    """``bsd`` for ``bsd-3-clause``, ``gpl`` for ``gpl-2.0-only``, ``lgpl`` for ``lgpl-2.1``."""
    alias = _FAMILIES.get(key)
    if alias is not None:
        return alias
    word = _WORD.match(key)
    return word.group() if word else key


def _version(key: str) -> str | None:
    """The version an id states (``2`` for ``gpl-2.0-only``, ``2.1`` for ``lgpl-2.1``)."""
    found = _VERSION.search(key)
    if found is None:
        return None
    parts = found.group().split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)
