"""What a package registry said about one release: the records of an evidence file.

``rune-policy evidence resolve`` asks the registries once (:mod:`checker.registry`)
and writes these records to a reviewable file
(:mod:`checker.evidence.evidence_file`); ``check`` reads that file offline
and offers each record as evidence for the lock entry of the same release.
The two sides share only this module, so the resolver and the gate agree on
what a record holds and on the key that joins it to a lock entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checker.model import Origin
from checker.sbom.piplicenses import normalize_pypi_name


class Ecosystem(StrEnum):
    """The registries the resolver knows, named like purl types."""

    PYPI = "pypi"
    NPM = "npm"


#: (ecosystem, normalized name, exact version): the join key of a record and a lock entry.
ReleaseKey = tuple[Ecosystem, str, str]


def normalize_name(ecosystem: Ecosystem, name: str) -> str:
    """The registry's canonical spelling: PEP 503 for PyPI; npm names are case-sensitive."""
    return normalize_pypi_name(name) if ecosystem is Ecosystem.PYPI else name


def release_key(ecosystem: Ecosystem, name: str, version: str) -> ReleaseKey:
    return ecosystem, normalize_name(ecosystem, name), version


@dataclass(frozen=True, slots=True)
class Wanted:
    """A release a lockfile pins, as the resolver is asked to look it up.

    ``digests`` are the artifact hashes the lock pins for it, each written
    ``algorithm:hex`` in lower case (``sha256:9f86...``; npm's ``integrity``
    ``sha512-<base64>`` becomes ``sha512:<hex>``). Empty when the lock pins none.
    """

    ecosystem: Ecosystem
    name: str
    version: str
    digests: tuple[str, ...]
    origin: Origin

    @property
    def key(self) -> ReleaseKey:
        return release_key(self.ecosystem, self.name, self.version)


@dataclass(frozen=True, slots=True)
class LicenseFields:
    """Every license field the registry's metadata holds for a release, verbatim.

    PyPI core metadata: ``License-Expression`` (PEP 639), ``License``,
    ``Classifier: License ::`` lines and ``License-File`` names. npm: the
    version document's ``license`` (a legacy ``licenses`` array is joined
    with OR, the meaning npm gave it, and kept in ``license``).
    """

    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    license_files: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.license_expression or self.license or self.classifiers)


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """One release's license evidence as the registry gave it.

    ``artifact`` and ``digest`` name the distribution whose metadata was read
    (the one the lock pins, chosen by its hash) so ``check`` can tell when a
    lock now pins another artifact than the one reviewed. ``url`` is where the
    metadata came from, with any credentials removed; ``retrieved`` the ISO
    date it was fetched.
    """

    ecosystem: Ecosystem
    name: str
    version: str
    fields: LicenseFields
    url: str
    retrieved: str
    artifact: str | None = None
    digest: str | None = None

    @property
    def key(self) -> ReleaseKey:
        return release_key(self.ecosystem, self.name, self.version)
