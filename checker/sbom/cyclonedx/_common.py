"""What the CycloneDX JSON and XML readers share: kinds, versions, purls, notes.

:class:`BomReader` holds the state of one document (its path, version and
results) and the rare paths both syntaxes take the same way: version
checks, unknown types, distribution purls, nameless components, mixed
license lists. The hot loops live in the two readers.
"""

from __future__ import annotations

from typing import Any, NoReturn

from checker.errors import InputError
from checker.inputs import MAX_DEPTH, excerpt, json_type
from checker.licenses import is_classifier
from checker.matching import purl_parts
from checker.model import EvidenceForm, Kind, ReadResult
from checker.readers.notes import Notes

FORMAT_JSON = "cyclonedx-json"
FORMAT_XML = "cyclonedx-xml"

#: Minor versions of CycloneDX 1.x this reader was written against.
SUPPORTED_MINORS = range(2, 8)

#: purl types of operating-system distribution packages. A ``library`` with
#: such a purl was installed by the distribution's package manager (Trivy and
#: Syft label dpkg/apk/rpm packages ``library``), which matters to the gate
#: because a distribution inside an image is aggregation, not linking.
OS_PURL_TYPES = frozenset({"deb", "apk", "rpm", "alpm"})

_KINDS: dict[str, Kind] = {
    "library": Kind.LIBRARY,
    "framework": Kind.LIBRARY,
    "application": Kind.APPLICATION,
    "container": Kind.IMAGE,
    "operating-system": Kind.OS_PACKAGE,
    "platform": Kind.OTHER,
    "device": Kind.OTHER,
    "device-driver": Kind.OTHER,
    "firmware": Kind.OTHER,
    "file": Kind.OTHER,
    "machine-learning-model": Kind.OTHER,
    "data": Kind.OTHER,
    "cryptographic-asset": Kind.OTHER,
}

#: The one declared ``type`` a distribution purl turns into an OS package:
#: ``library`` is how Trivy and Syft label every dpkg/apk/rpm package. Any
#: other type (``application``, ``framework``, ``container``, ``firmware``...)
#: contradicts the purl; such a component is judged by its declared type and
#: the contradiction is an error. A missing type is read as ``library``.
_OS_PURL_TYPE_AGREES = "library"
#: The canonical spelling of those purls, checked before the full parse.
_OS_PURL_PREFIXES = tuple(f"pkg:{t}/" for t in sorted(OS_PURL_TYPES))


class BomReader:
    """State shared while one document is read: its path, version and results.

    One object per document keeps the hot loops free of closures and lets the
    rare paths (notes, coercions) live in methods the common path never calls.
    """

    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=fmt)
        self.components = self.result.components
        self.notes = Notes(path, self.result.notes)
        #: Minor version of CycloneDX 1.x, or None when it is not known.
        self.minor: int | None = None

    def fail(self, location: str, message: str) -> NoReturn:
        raise InputError(self.path, location, message)

    def check_version(self, major: int, minor: int, location: str, shown: str) -> None:
        """Accept 1.2-1.7, warn on other 1.x, refuse any other major version.

        CycloneDX keeps minor versions backwards compatible, so a newer 1.x is
        read rather than failing a gate run; a 2.x BOM is a different schema,
        and reading it as 1.x could silently miss components.
        """
        if major != 1:
            self.fail(
                location,
                f"is CycloneDX {shown}, which is not supported (expected 1.2 to 1.7); "
                "export CycloneDX 1.6 instead",
            )
        self.minor = minor
        if minor > SUPPORTED_MINORS[-1]:
            self.notes.warn(
                location,
                f"CycloneDX {shown} is newer than the supported 1.2-1.7; read as 1.7, "
                "fields added later are ignored",
            )
        elif minor < SUPPORTED_MINORS[0]:
            self.notes.warn(
                location,
                f"CycloneDX {shown} is older than the supported 1.2-1.7; "
                "read on a best-effort basis",
            )

    def too_deep(self, location: str, what: str = "components") -> NoReturn:
        self.fail(
            location,
            f"nests {what} more than {MAX_DEPTH} levels deep; refusing to read further "
            "(real BOMs nest a few levels; this looks broken or hostile)",
        )

    def unknown_type(self, value: Any, location: str) -> Kind:
        """Kind for a missing or unrecognised component type (``location`` is the type's)."""
        if value is None:
            self.notes.warn(location, "component has no type; read as a library")
            return Kind.LIBRARY
        self.notes.warn(
            location,
            f'is {value!r}, not a component type of CycloneDX 1.2-1.7; read as kind "other"',
        )
        return Kind.OTHER

    def os_kind(self, ctype: Any, kind: Kind, purl: str, location: str) -> Kind:
        """The kind of a component whose purl looks like a distribution package's.

        Runs only for ``pkg:deb/``-like purls, so the full check can afford to
        parse. OS-package status relaxes the policy (GPL is aggregation there),
        so it needs a purl that parses and a declared type that agrees; in any
        other case the component keeps its declared kind, the stricter reading.
        ``location`` is the purl's.
        """
        if purl_parts(purl) is None:
            self.notes.warn(
                location,
                f"{excerpt(purl, 60)} is not a valid package URL, so it does not make the "
                f"component an OS package; judged as {kind.value}",
            )
            return kind
        if ctype is None or ctype == _OS_PURL_TYPE_AGREES:
            return Kind.OS_PACKAGE
        shown = excerpt(ctype, 40) if type(ctype) is str else json_type(ctype)
        self.notes.error(
            location,
            f"is an operating-system package URL ({excerpt(purl, 60)}), but the component's "
            f"type is {shown}; judged as {kind.value}, not as an OS package",
        )
        return kind

    def nameless(self, purl: str | None, stated: bool, location: str, what: str) -> str | None:
        """Name for a component without one: from its purl, else None (noted).

        ``stated`` says whether the entry holds anything beyond what the
        reader ignores in a nameless entry: an entry that states a license,
        version or anything else cannot simply be skipped.
        """
        if purl is not None:
            parts = purl_parts(purl)
            if parts is not None:
                self.notes.warn(
                    location, f"{what} has no name; named {excerpt(parts[2], 60)} after its purl"
                )
                return parts[2]
            self.notes.error(
                location,
                f"{what} has no name, and its purl {excerpt(purl, 60)} does not parse; "
                "it cannot be checked",
            )
            return None
        if stated:
            also = " and no purl" if what == "component" else ""
            self.notes.error(location, f"{what} has no name{also}; it cannot be checked")
        else:
            self.notes.warn(location, f"{what} has no name and states nothing else; skipped")
        return None

    def check_mixed(self, location: str, count: int) -> None:
        """Warn about an expression beside other entries where 1.5/1.6 forbid it.

        Trivy writes such lists. All entries are read (and combined with AND):
        dropping any would hide a license statement the producer made.
        """
        if self.minor in (5, 6) and count > 1:
            self.notes.warn(
                location,
                f"mixes a license expression with {count - 1} other entr"
                f"{'y' if count == 2 else 'ies'}, which CycloneDX 1.{self.minor} forbids; "
                "all are read and must all be satisfied",
            )


def name_form(text: str) -> EvidenceForm:
    """The form of a license ``name``: a trove classifier, or free text.

    cyclonedx-py writes the classifiers it cannot map to an SPDX id as names
    (``License :: OSI Approved :: Apache Software License``) beside the exact
    id the package declares; marked as classifiers, they corroborate that id
    instead of being judged as another AND term (:mod:`checker.corroboration`).
    """
    return EvidenceForm.CLASSIFIER if is_classifier(text) else EvidenceForm.NAME


def _is_os_purl(purl: str) -> bool:
    """Whether a purl names a distribution package (``pkg:deb/...`` and kin).

    Runs for every component, so it looks at the first nine characters only
    (``pkg:alpm/`` is the longest prefix); purl schemes and types are
    case-insensitive. The rare ``pkg:/deb/...`` spelling is split properly.
    """
    head = purl[:9].lower()
    if head.startswith(_OS_PURL_PREFIXES):
        return True
    return head.startswith("pkg:/") and _purl_type(purl) in OS_PURL_TYPES


def _purl_type(purl: str) -> str:
    """The purl type (``deb`` in ``pkg:deb/debian/bash@5.2``), lower-cased.

    Written by hand because packageurl-python validates and decodes the whole
    purl, which would dominate the reading time of a large BOM.
    """
    if purl[:4].lower() != "pkg:":
        return ""
    rest = purl[4:].lstrip("/")
    end = rest.find("/")
    return rest[:end].lower() if end > 0 else ""
