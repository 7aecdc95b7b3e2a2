"""Evidence from the other inputs of the same run, joined by exact purl.

A lockfile names ``psycopg==3.3.9`` but not its license; an SBOM or the
installed environment given in the same run may. Entries are joined as the
same release by :func:`checker.identity.identity` (purl type, normalized
name and exact version), the one definition of "same release" the run's
grouping uses too: a different version is a different release and may
carry a different license. Only components with a purl and a version, of
formats that carry no licenses, are joined, so an SBOM's own silence
(``NOASSERTION``) is never papered over by another document.

``check`` already judges each release once on its best-evidenced appearance
(:mod:`checker.identity`), so there this source answers nothing new; it
serves callers that evaluate one appearance on its own (the library API).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from checker.evidence import Found
from checker.identity import identity
from checker.model import Component, LicenseEvidence, ReadResult
from checker.readers import carries_licenses

if TYPE_CHECKING:
    from checker.policy import Decision


def _key(component: Component) -> Hashable | None:
    """The join key: the release's identity, for a component whose purl names a version."""
    if not component.purl:
        return None
    key = identity(component)
    # the identity's last part is the version; without one nothing is the same release
    return key if isinstance(key, tuple) and key[-1] else None


class RunInputs:
    """Licenses stated for the same release by another input of the run."""

    name = "run"

    def __init__(self, results: Sequence[ReadResult]) -> None:
        self._joinable = {
            id(c) for r in results if not carries_licenses(r.format) for c in r.components
        }
        #: Built before any evaluation (so it holds what the inputs said, not
        #: what a later source filled in), and only when there is something
        #: to join: most runs (one SBOM) never need it.
        self._index = self._build(results) if self._joinable else {}

    @staticmethod
    def _build(
        results: Sequence[ReadResult],
    ) -> dict[Hashable, tuple[list[LicenseEvidence], str]]:
        index: dict[Hashable, tuple[list[LicenseEvidence], str]] = {}
        for result in results:
            if not carries_licenses(result.format):
                continue
            for component in result.components:
                if component.licenses:
                    key = _key(component)
                    if key is not None and key not in index:
                        index[key] = (component.licenses, result.path)
        return index

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        if id(component) not in self._joinable:
            return None
        key = _key(component)
        found = self._index.get(key) if key is not None else None
        if found is None:
            return None
        return Found(found[0], f"{found[1]} (joined by purl)")
