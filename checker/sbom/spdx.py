"""SPDX 2.2 / 2.3 readers (JSON and tag-value) into the internal model.

Real SPDX documents are often not strictly valid: Trivy writes comma-joined
license lists and ``DESCRIBE`` instead of ``DESCRIBES``, timestamps carry
fractions of a second, fields go missing. A strict parser (``pyspdxtools``)
rejects the whole document over one bad string, which would leave the gate
with nothing to judge, so both readers here read leniently, keep license
strings exactly as given (the license module normalizes them) and turn every
oddity into one :class:`Note` per document rather than one per package.

Lenient is not open: where something that may be a package, or a license
statement, cannot be read (a package entry that is not an object, a
``packages`` of ``null``, tag-value package fields outside any package, a
field stated twice with different values, a nameless package without a usable
purl) the note is an error and the run fails. A distribution purl (``pkg:deb``
and kin) makes a package an OS package only if it parses and the package's
``primaryPackagePurpose`` agrees; otherwise the package is judged by its
purpose, the stricter reading.

Both formats are read into the same intermediate :class:`_RawPackage` so the
rules that decide kind, license and subject exist once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checker.errors import InputError
from checker.images import IMAGE_PURL_TYPES, image_from_purl_text, parse_image, split_reference
from checker.inputs import excerpt, json_type
from checker.matching import purl_parts
from checker.model import (
    Component,
    EvidenceForm,
    ImageRef,
    Kind,
    LicenseEvidence,
    Note,
    Origin,
    ReadResult,
    Severity,
)
from checker.sbom.cyclonedx import OS_PURL_TYPES

#: How far into a text file the tag-value sniffer looks. Detection must stay
#: cheap on large non-SPDX inputs, and every SPDX writer puts the version first.
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 40

_NO_LICENSE_VALUES = frozenset({"NOASSERTION", "NONE"})

#: ``primaryPackagePurpose`` values a distribution purl agrees with: none
#: (SPDX 2.2 has no such field; Trivy and Syft leave it out or write
#: LIBRARY for dpkg/apk/rpm packages), INSTALL (the spec's example is a .deb)
#: and OPERATING-SYSTEM. Any other purpose contradicts the purl.
_OS_PURPOSES = frozenset({"", "LIBRARY", "INSTALL", "OPERATING-SYSTEM"})

#: Tag-value tags that belong to a package (SPDX 2.3 clause 7). One outside
#: a package section would describe a package that is never read.
_PACKAGE_TAGS = frozenset(
    {
        "PackageVersion",
        "PackageFileName",
        "PackageSupplier",
        "PackageOriginator",
        "PackageDownloadLocation",
        "FilesAnalyzed",
        "PackageVerificationCode",
        "PackageChecksum",
        "PackageHomePage",
        "PackageSourceInfo",
        "PackageLicenseConcluded",
        "PackageLicenseInfoFromFiles",
        "PackageLicenseDeclared",
        "PackageLicenseComments",
        "PackageCopyrightText",
        "PackageSummary",
        "PackageDescription",
        "PackageComment",
        "ExternalRef",
        "ExternalRefComment",
        "PackageAttributionText",
        "PrimaryPackagePurpose",
        "ReleaseDate",
        "BuiltDate",
        "ValidUntilDate",
    }
)

#: Single-valued package fields whose repetition with another value would
#: silently replace what the package first said (a missing ``PackageName:``
#: line makes one package's fields land in the one before it).
_SINGLE_PACKAGE_TAGS = frozenset(
    {
        "SPDXID",
        "PackageVersion",
        "PackageLicenseConcluded",
        "PackageLicenseDeclared",
        "PrimaryPackagePurpose",
    }
)


#: Marks a key that is absent, as opposed to present with ``null``.
_ABSENT: Any = object()


def _typed(value: Any) -> str:
    """A value's JSON type with its article, for messages: "an array", "null"."""
    kind = json_type(value)
    if kind == "null":
        return kind
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def looks_like_tag_value(text: str) -> bool:
    """True when an ``SPDXVersion:`` line opens the document.

    Detection is by content because ``.txt`` and ``.spdx`` files hold either
    format; comments and blank lines before the version are allowed because
    some writers put a banner there.
    """
    seen = 0
    for raw in text[:_SNIFF_CHARS].split("\n"):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if line.startswith("SPDXVersion:"):
            return True
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    return False


def read_json(doc: dict[str, Any], path: str) -> ReadResult:
    """Read an SPDX 2.x JSON document (already parsed) into components.

    Any failure other than a deliberate :class:`InputError` is wrapped into
    one, so a hostile or unforeseen document can never crash the gate.
    """
    try:
        return _read_json(doc, path)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            path, "$", f"could not be read as SPDX JSON ({type(exc).__name__}: {exc})"
        ) from exc


def read_tag_value(text: str, path: str) -> ReadResult:
    """Read an SPDX 2.x tag-value document into components.

    Wrapped like :func:`read_json` so only :class:`InputError` escapes.
    """
    try:
        return _read_tag_value(text, path)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            path, "line 1", f"could not be read as SPDX tag-value ({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------
# Shared intermediate form
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _RawPackage:
    """One package as either format states it, before any interpretation."""

    origin: Origin
    name: str | None = None
    spdxid: str | None = None
    version: str | None = None
    concluded: tuple[str, Origin] | None = None
    declared: tuple[str, Origin] | None = None
    purls: list[tuple[str, Origin]] = field(default_factory=list)
    purpose: str | None = None
    attributions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Document:
    """Document-level facts both formats share."""

    path: str
    format: str
    packages: list[_RawPackage] = field(default_factory=list)
    described: set[str] = field(default_factory=set)
    name: str | None = None
    name_origin: Origin | None = None


class _Notes:
    """Collects oddities so each kind is reported once per document.

    A Trivy image SBOM can repeat the same quirk on hundreds of packages; one
    warning with a count and the first place is what a reviewer can act on.
    """

    def __init__(self) -> None:
        self._first: dict[str, tuple[Origin, str, Severity]] = {}
        self._count: dict[str, int] = {}

    def add(
        self, key: str, origin: Origin, message: str, severity: Severity = Severity.WARNING
    ) -> None:
        """Record an oddity; ``Severity.ERROR`` when a package or license may be lost."""
        if key not in self._first:
            self._first[key] = (origin, message, severity)
            self._count[key] = 1
        else:
            self._count[key] += 1

    def error(self, key: str, origin: Origin, message: str) -> None:
        self.add(key, origin, message, Severity.ERROR)

    def notes(self) -> list[Note]:
        result = []
        for key, (origin, message, severity) in self._first.items():
            count = self._count[key]
            if count > 1:
                message = f"{message} (and {count - 1} more like it; first shown)"
            result.append(Note(origin, message, severity))
        return result


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def _read_json(doc: dict[str, Any], path: str) -> ReadResult:
    if not isinstance(doc, dict):
        raise InputError(path, "$", f"is a JSON {json_type(doc)}, expected an SPDX document object")
    notes = _Notes()
    version = doc.get("spdxVersion")
    if version is None and "SPDXID" not in doc and "packages" not in doc:
        raise InputError(
            path, "$", 'is not an SPDX document (no "spdxVersion", "SPDXID" or "packages")'
        )
    _check_version(version, Origin(path, "$.spdxVersion"), path, notes)

    document = _Document(path, "spdx-json")
    name = doc.get("name")
    if isinstance(name, str):
        document.name = name
        document.name_origin = Origin(path, "$.name")
    elif name is not None:
        notes.add("doc-name", Origin(path, "$.name"), f"name is {_typed(name)}, not a string")

    packages = doc.get("packages", _ABSENT)
    if packages is _ABSENT:
        notes.add("no-packages", Origin(path, "$"), "document lists no packages")
        packages = []
    elif packages is None:
        notes.error(
            "no-packages",
            Origin(path, "$.packages"),
            "is null, expected an array of packages; the packages it should hold may be lost "
            "(omit the key, or write [], when there are none)",
        )
        packages = []
    elif not isinstance(packages, list):
        # Refusing beats warning here: with the package list unreadable the
        # gate would judge an empty SBOM and could pass it.
        raise InputError(
            path, "$.packages", f"is {_typed(packages)}, expected an array of packages"
        )
    for index, entry in enumerate(packages):
        where = f"$.packages[{index}]"
        if not isinstance(entry, dict):
            notes.error(
                "package-shape",
                Origin(path, where),
                f"package entry is {_typed(entry)}, not an object; it cannot be read",
            )
            continue
        document.packages.append(_json_package(entry, path, where, notes))

    _json_described(doc, path, document, notes)
    return _build(document, notes)


def _json_package(entry: dict[str, Any], path: str, where: str, notes: _Notes) -> _RawPackage:
    raw = _RawPackage(Origin(path, where))
    raw.name = _json_str(entry, "name", path, where, notes)
    raw.spdxid = _json_str(entry, "SPDXID", path, where, notes)
    raw.version = _json_str(entry, "versionInfo", path, where, notes)
    raw.purpose = _json_str(entry, "primaryPackagePurpose", path, where, notes)
    for key in ("licenseConcluded", "licenseDeclared"):
        text = _json_str(entry, key, path, where, notes, Severity.ERROR)
        if text is not None:
            value = (text, Origin(path, f"{where}.{key}"))
            if key == "licenseConcluded":
                raw.concluded = value
            else:
                raw.declared = value
    refs = entry.get("externalRefs")
    if isinstance(refs, list):
        for ref_index, ref in enumerate(refs):
            if not isinstance(ref, dict):
                notes.add(
                    "ref-shape",
                    Origin(path, f"{where}.externalRefs[{ref_index}]"),
                    f"external reference is {_typed(ref)}, not an object; skipped",
                )
                continue
            ref_type = ref.get("referenceType")
            locator = ref.get("referenceLocator")
            if isinstance(ref_type, str) and ref_type.strip().lower() == "purl":
                location = f"{where}.externalRefs[{ref_index}].referenceLocator"
                if isinstance(locator, str):
                    raw.purls.append((locator, Origin(path, location)))
                else:
                    notes.add(
                        "purl-shape",
                        Origin(path, location),
                        f"purl reference locator is {_typed(locator)}, not a string; ignored",
                    )
    elif refs is not None:
        notes.add(
            "refs-shape",
            Origin(path, f"{where}.externalRefs"),
            f"externalRefs is {_typed(refs)}, not an array; ignored",
        )
    attributions = entry.get("attributionTexts")
    if isinstance(attributions, list):
        raw.attributions = [text for text in attributions if isinstance(text, str)]
    return raw


def _json_str(
    entry: dict[str, Any],
    key: str,
    path: str,
    where: str,
    notes: _Notes,
    severity: Severity = Severity.WARNING,
) -> str | None:
    """A string field, or None; other types are noted once, never trusted.

    ``Severity.ERROR`` for a license field: a license statement the reader
    cannot read may be the one that denies the package.
    """
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    notes.add(
        f"type-{key}",
        Origin(path, f"{where}.{key}"),
        f"{key} is {_typed(value)}, not a string; "
        + ("it cannot be read" if severity is Severity.ERROR else "ignored"),
        severity,
    )
    return None


def _json_described(doc: dict[str, Any], path: str, document: _Document, notes: _Notes) -> None:
    describes = doc.get("documentDescribes")
    if isinstance(describes, list):
        document.described.update(item for item in describes if isinstance(item, str))
    elif describes is not None:
        notes.add(
            "describes-shape",
            Origin(path, "$.documentDescribes"),
            f"documentDescribes is {_typed(describes)}, not an array; ignored",
        )
    relationships = doc.get("relationships")
    if relationships is None:
        return
    if not isinstance(relationships, list):
        notes.add(
            "relationships-shape",
            Origin(path, "$.relationships"),
            f"relationships is {_typed(relationships)}, not an array; ignored",
        )
        return
    doc_id = doc.get("SPDXID") if isinstance(doc.get("SPDXID"), str) else "SPDXRef-DOCUMENT"
    for index, rel in enumerate(relationships):
        if not isinstance(rel, dict):
            notes.add(
                "relationship-shape",
                Origin(path, f"$.relationships[{index}]"),
                f"relationship is {_typed(rel)}, not an object; skipped",
            )
            continue
        _add_described(
            document,
            rel.get("spdxElementId"),
            rel.get("relationshipType"),
            rel.get("relatedSpdxElement"),
            doc_id,
        )


def _add_described(document: _Document, left: Any, kind: Any, right: Any, doc_id: Any) -> None:
    """Record a DESCRIBES relationship; Trivy 0.3x writes ``DESCRIBE``."""
    if not (isinstance(left, str) and isinstance(kind, str) and isinstance(right, str)):
        return
    kind = kind.strip().upper()
    if kind in ("DESCRIBES", "DESCRIBE") and left == doc_id:
        document.described.add(right)
    elif kind == "DESCRIBED_BY" and right == doc_id:
        document.described.add(left)


def _check_version(version: Any, origin: Origin, path: str, notes: _Notes) -> None:
    if version is None:
        notes.add("version", origin, "spdxVersion is missing; read as SPDX 2.3")
        return
    if not isinstance(version, str):
        notes.add("version", origin, f"spdxVersion is {_typed(version)}; read as SPDX 2.3")
        return
    text = version.strip()
    if text.upper().startswith("SPDX-3"):
        raise InputError(
            path,
            origin.location,
            f"is {text}, which is not supported yet; export SPDX 2.3 or CycloneDX instead",
        )
    if text not in ("SPDX-2.2", "SPDX-2.3"):
        notes.add("version", origin, f"spdxVersion {text!r} is not 2.2 or 2.3; read as SPDX 2.3")


# --------------------------------------------------------------------------
# Tag-value
# --------------------------------------------------------------------------


def _read_tag_value(text: str, path: str) -> ReadResult:
    notes = _Notes()
    document = _Document(path, "spdx-tag-value")
    lines = text.split("\n")
    section = "document"
    current: _RawPackage | None = None
    #: The single-valued fields the current package stated, and their values.
    stated: dict[str, str] = {}
    version_seen = False
    index = 0
    total = len(lines)
    while index < total:
        lineno = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        tag, sep, value = line.partition(":")
        tag = tag.strip()
        if not sep or not tag.isascii() or not tag.isalnum():
            notes.add(
                "tv-line",
                Origin(path, f"line {lineno}"),
                "line is not 'Tag: value'; ignored (is the file truncated?)",
            )
            continue
        value = value.strip()
        if value.startswith("<text>"):
            value, index = _text_block(value, lines, index, tag, lineno, path)
        origin = Origin(path, f"line {lineno}")

        if tag == "SPDXVersion":
            if not version_seen:
                version_seen = True
                _check_version(value, origin, path, notes)
        elif tag == "DocumentName" and section == "document":
            document.name = value
            document.name_origin = origin
        elif tag == "PackageName":
            section = "package"
            current = _RawPackage(origin, name=value)
            document.packages.append(current)
            stated = {}
        elif tag == "FileName":
            section, current = "file", None
        elif tag == "SnippetSPDXID":
            section, current = "snippet", None
        elif tag == "LicenseID":
            section, current = "license", None
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) == 3:
                _add_described(document, parts[0], parts[1], parts[2], "SPDXRef-DOCUMENT")
            else:
                notes.add(
                    "tv-relationship",
                    origin,
                    "Relationship is not 'element TYPE element'; ignored",
                )
        elif current is not None:
            if tag in _SINGLE_PACKAGE_TAGS:
                before = stated.get(tag)
                if before is not None and before != value:
                    notes.error(
                        f"tv-repeated-{tag}",
                        origin,
                        f"{tag} is stated again in the package of {current.origin.location}, "
                        f"as {excerpt(value, 40)} after {excerpt(before, 40)}; the last is used "
                        "(is a PackageName: line missing?)",
                    )
                stated[tag] = value
            _tag_package_field(current, tag, value, origin, notes)
        elif tag in _PACKAGE_TAGS:
            notes.error(
                "tv-orphan",
                origin,
                f"{tag} is a package field outside any package (no PackageName: line "
                f"before it in this {section} section); the package it describes cannot be read",
            )

    if not version_seen:
        raise InputError(path, "line 1", "is not SPDX tag-value: no 'SPDXVersion:' line")
    return _build(document, notes)


def _text_block(
    value: str, lines: list[str], index: int, tag: str, lineno: int, path: str
) -> tuple[str, int]:
    """Join a ``<text>…</text>`` value that may span lines.

    An unclosed block swallows the rest of the file, so the packages after it
    would silently vanish; that is refused rather than read.
    """
    body = value[len("<text>") :]
    end = body.find("</text>")
    if end >= 0:
        return body[:end], index
    parts = [body]
    while index < len(lines):
        line = lines[index].rstrip("\r")
        index += 1
        end = line.find("</text>")
        if end >= 0:
            parts.append(line[:end])
            return "\n".join(parts), index
        parts.append(line)
    raise InputError(
        path,
        f"line {lineno}",
        f"the <text> value of {tag} is never closed with </text>; the file may be truncated",
    )


def _tag_package_field(
    raw: _RawPackage, tag: str, value: str, origin: Origin, notes: _Notes
) -> None:
    if tag == "SPDXID":
        raw.spdxid = value
    elif tag == "PackageVersion":
        raw.version = value
    elif tag == "PackageLicenseConcluded":
        raw.concluded = (value, origin)
    elif tag == "PackageLicenseDeclared":
        raw.declared = (value, origin)
    elif tag == "PrimaryPackagePurpose":
        raw.purpose = value
    elif tag == "PackageAttributionText":
        raw.attributions.append(value)
    elif tag == "ExternalRef":
        parts = value.split(None, 2)
        if len(parts) != 3:
            notes.add("tv-ref", origin, "ExternalRef is not 'CATEGORY type locator'; ignored")
        elif parts[1].lower() == "purl":
            raw.purls.append((parts[2].strip(), origin))


# --------------------------------------------------------------------------
# Interpretation (both formats)
# --------------------------------------------------------------------------


def _build(document: _Document, notes: _Notes) -> ReadResult:
    result = ReadResult(path=document.path, format=document.format)
    seen_ids: set[str] = set()
    for raw in document.packages:
        if _is_trivy_grouping(raw):
            notes.add(
                "grouping",
                raw.origin,
                "Trivy's target entries (SPDXRef-Application-*, SPDXRef-OperatingSystem-*) "
                "name what was scanned, not a package; they are not checked as components",
            )
            continue
        component = _component(raw, notes)
        if raw.spdxid:
            if raw.spdxid in seen_ids:
                notes.add(
                    "duplicate-id",
                    raw.origin,
                    f"SPDXID {raw.spdxid!r} is used by more than one package",
                )
            seen_ids.add(raw.spdxid)
            component.is_subject = raw.spdxid in document.described
        result.components.append(component)

    described_image = any(c.is_subject and c.kind is Kind.IMAGE for c in result.components)
    if not described_image and document.name and document.name_origin:
        image = _image_from_document_name(document.name)
        if image is not None:
            result.components.append(
                Component(
                    name=document.name,
                    origin=document.name_origin,
                    kind=Kind.IMAGE,
                    image=image,
                    is_subject=True,
                )
            )
    result.notes.extend(notes.notes())
    return result


def _is_trivy_grouping(raw: _RawPackage) -> bool:
    """Trivy's grouping nodes: a role-named SPDXID with no purl, version or license."""
    spdxid = raw.spdxid or ""
    return (
        spdxid.startswith(("SPDXRef-Application-", "SPDXRef-OperatingSystem-"))
        and not raw.purls
        and raw.concluded is None
        and raw.declared is None
        and not (raw.purpose or "").strip()
    )


def _component(raw: _RawPackage, notes: _Notes) -> Component:
    purl, purl_type, purl_origin = _pick_purl(raw, notes)
    name = (raw.name or "").strip()
    if not name:
        parts = purl_parts(purl) if purl is not None else None
        if parts is not None:
            name = parts[2]
            notes.add(
                "no-name",
                raw.origin,
                f"package has no name; named {excerpt(name, 60)} after its purl",
            )
        else:
            # Still judged by its license, but no name-based rule can recognise it.
            name = raw.spdxid or "<unnamed package>"
            notes.error(
                "no-name-no-purl",
                raw.origin,
                f"package has no name and no usable purl; called {excerpt(name, 60)}, and what "
                "it is cannot be checked",
            )
    version = raw.version.strip() if raw.version and raw.version.strip() else None
    component = Component(name=name, origin=raw.origin, version=version, purl=purl)
    component.kind = _kind(raw, purl, purl_type, purl_origin, notes)
    if component.kind is Kind.IMAGE:
        component.image = _image_for_package(raw, purl, purl_type)
        if component.image is None:
            notes.add(
                "image-ref",
                raw.origin,
                f"container image {name!r} has no readable image reference",
            )
    _licenses(raw, component, notes)
    return component


def _pick_purl(raw: _RawPackage, notes: _Notes) -> tuple[str | None, str | None, Origin | None]:
    """The first usable purl, its type and origin, checked by shape only.

    A full parse of every purl would cost time on large SBOMs for nothing the
    reader needs; image purls are parsed later, where their parts matter, and
    distribution purls in :func:`_kind`, where OS-package status depends on it.
    """
    chosen: tuple[str, str, Origin] | None = None
    for locator, origin in raw.purls:
        text = locator.strip()
        purl_type = _purl_type(text)
        if purl_type is None:
            notes.add("bad-purl", origin, f"{excerpt(text, 60)} is not a package URL; ignored")
            continue
        if chosen is None:
            chosen = (text, purl_type, origin)
        elif text != chosen[0]:
            notes.add("many-purls", origin, "package has more than one purl; the first is used")
    return chosen if chosen else (None, None, None)


def _purl_type(text: str) -> str | None:
    if text[:4].lower() != "pkg:":
        return None
    purl_type, slash, rest = text[4:].lstrip("/").partition("/")
    if not slash or not rest or not purl_type:
        return None
    return purl_type.lower()


def _kind(
    raw: _RawPackage,
    purl: str | None,
    purl_type: str | None,
    purl_origin: Origin | None,
    notes: _Notes,
) -> Kind:
    purpose = (raw.purpose or "").strip().upper().replace("_", "-")
    spdxid = raw.spdxid or ""
    os_purl = purl_type in OS_PURL_TYPES
    if os_purl and purl is not None:
        os_purl = _os_purl_agrees(purl, purpose, purl_origin or raw.origin, notes)
    if (
        purpose == "CONTAINER"
        or purl_type in IMAGE_PURL_TYPES
        # Trivy's SPDX 2.2 output names its nodes by role instead of setting
        # primaryPackagePurpose (which only exists from 2.3 on).
        or (not purpose and spdxid.startswith("SPDXRef-ContainerImage-"))
    ):
        return Kind.IMAGE
    if os_purl:
        return Kind.OS_PACKAGE
    if purpose == "OPERATING-SYSTEM" or (
        not purpose and spdxid.startswith("SPDXRef-OperatingSystem-")
    ):
        return Kind.OTHER
    if purpose == "APPLICATION" or (not purpose and spdxid.startswith("SPDXRef-Application-")):
        return Kind.APPLICATION
    return Kind.LIBRARY


def _os_purl_agrees(purl: str, purpose: str, origin: Origin, notes: _Notes) -> bool:
    """Whether a distribution purl may make its package an OS package.

    OS-package status relaxes the policy (GPL there is aggregation), so the
    purl must parse and the declared purpose must not say otherwise; if it
    does, the package is judged by its purpose and the contradiction fails
    the run.
    """
    if purl_parts(purl) is None:
        notes.add(
            "bad-os-purl",
            origin,
            f"{excerpt(purl, 60)} is not a valid package URL, so it does not make the package "
            "an OS package",
        )
        return False
    if purpose not in _OS_PURPOSES:
        notes.error(
            "os-purl-purpose",
            origin,
            f"is an operating-system package URL ({excerpt(purl, 60)}), but the package's "
            f"primaryPackagePurpose is {excerpt(purpose, 30)}; judged by its purpose, not as an "
            "OS package",
        )
        return False
    return True


def _licenses(raw: _RawPackage, component: Component, notes: _Notes) -> None:
    """Concluded wins over declared unless it makes no statement.

    An absent field means NOASSERTION (SPDX 2.3 §7.13/7.15), so a package
    with neither field is recorded as NOASSERTION and fails closed later.
    """
    reason: str | None = None
    for entry in (raw.concluded, raw.declared):
        if entry is None:
            continue
        text, origin = entry
        stripped = text.strip()
        upper = stripped.upper()
        if not stripped:
            notes.add("empty-license", origin, "license field is empty; read as NOASSERTION")
            upper = "NOASSERTION"
        if upper in _NO_LICENSE_VALUES:
            reason = reason or upper
            continue
        if "," in stripped:
            notes.add(
                "comma-license",
                origin,
                f"license {stripped!r} is a comma-separated list, not an SPDX expression "
                "(a Trivy habit); kept as given for the license check",
            )
        component.licenses.append(LicenseEvidence(stripped, origin, form=EvidenceForm.EXPRESSION))
        return
    component.no_license_reason = reason or "NOASSERTION"


# --------------------------------------------------------------------------
# Container image references
# --------------------------------------------------------------------------


#: The one image-reference parser (kept under this name for callers of this module).
parse_image_reference = parse_image


def _image_from_document_name(name: str) -> ImageRef | None:
    """An image reference only if the name is clearly one.

    Document names are often file names (``flux_0.26.3_source_code.tar.gz``)
    that happen to fit the reference grammar; a tag, a digest or an explicit
    registry is required before the name is taken for an image.
    """
    ref = parse_image(name)
    if ref is None:
        return None
    parts = split_reference(name)
    explicit_registry = parts is not None and parts.registry is not None
    if ref.digest or ref.tag or explicit_registry:
        return ref
    return None


def _image_for_package(
    raw: _RawPackage, purl: str | None, purl_type: str | None
) -> ImageRef | None:
    """Best image reference for an image package: purl, Trivy attributions, name."""
    ref: ImageRef | None = None
    if purl and purl_type in IMAGE_PURL_TYPES:
        ref = image_from_purl_text(purl)
    repo_tags: list[ImageRef] = []
    for text in raw.attributions:
        label, _, value = text.partition(":")
        label = label.strip()
        if label not in ("RepoDigest", "RepoTag", "Reference"):
            continue
        parsed = parse_image(value)
        if parsed is None:
            continue
        if label == "RepoDigest" and ref is None:
            ref = parsed
        elif label in ("RepoTag", "Reference"):
            repo_tags.append(parsed)
    if ref is None and repo_tags:
        ref = repo_tags[0]
    if ref is None and raw.name:
        ref = parse_image(raw.name)
    if ref is not None and ref.tag is None:
        for tagged in repo_tags:
            if tagged.name == ref.name and tagged.tag:
                ref = ImageRef(ref.registry, ref.repository, tagged.tag, ref.digest)
                break
    return ref
