"""Evidence from the other inputs of the same run, joined by exact purl.

A lockfile names ``psycopg==3.3.9`` but not its license; an SBOM or the
installed environment given in the same run may. Entries are joined by purl
(type, namespace, normalized name and exact version): a different version is
a different release and may carry a different license. Only components of
formats that carry no licenses are joined, so an SBOM's own silence
(``NOASSERTION``) is never papered over by another document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from checker.evidence import Found
from checker.matching import parse_purl
from checker.model import Component, LicenseEvidence, ReadResult
from checker.readers import carries_licenses

if TYPE_CHECKING:
    from checker.policy import Decision

_Key = tuple[str, str, str, str]


def purl_key(purl: str | None) -> _Key | None:
    """The join key of a purl: type, namespace, name and exact version."""
    ident = parse_purl(purl) if purl else None
    if ident is None or not ident.version:
        return None
    return ident.type, ident.namespace, ident.name, ident.version


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
    def _build(results: Sequence[ReadResult]) -> dict[_Key, tuple[list[LicenseEvidence], str]]:
        index: dict[_Key, tuple[list[LicenseEvidence], str]] = {}
        for result in results:
            if not carries_licenses(result.format):
                continue
            for component in result.components:
                if component.licenses:
                    key = purl_key(component.purl)
                    if key is not None and key not in index:
                        index[key] = (component.licenses, result.path)
        return index

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        if id(component) not in self._joinable:
            return None
        key = purl_key(component.purl)
        found = self._index.get(key) if key is not None else None
        if found is None:
            return None
        return Found(found[0], f"{found[1]} (joined by purl)")
