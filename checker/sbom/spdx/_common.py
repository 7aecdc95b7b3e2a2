"""What the SPDX JSON and tag-value readers share: one intermediate form, one interpretation.

Both formats are read into the same :class:`RawPackage` so the rules that
decide kind, license and subject exist once (:func:`build`). Oddities are
noted once per kind and document, with a count (:meth:`Notes.counted`): a
Trivy image SBOM can repeat the same quirk on hundreds of packages.
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
    Origin,
    ReadResult,
    Severity,
)
from checker.readers.notes import Notes
from checker.sbom.cyclonedx._common import OS_PURL_TYPES

_NO_LICENSE_VALUES = frozenset({"NOASSERTION", "NONE"})

#: ``primaryPackagePurpose`` values a distribution purl agrees with: none
#: (SPDX 2.2 has no such field; Trivy and Syft leave it out or write
#: LIBRARY for dpkg/apk/rpm packages), INSTALL (the spec's example is a .deb)
#: and OPERATING-SYSTEM. Any other purpose contradicts the purl.
_OS_PURPOSES = frozenset({"", "LIBRARY", "INSTALL", "OPERATING-SYSTEM"})


def typed(value: Any) -> str:
    """A value's JSON type with its article, for messages: "an array", "null"."""
    kind = json_type(value)
    if kind == "null":
        return kind
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


@dataclass(slots=True)
class RawPackage:
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
class Document:
    """Document-level facts both formats share."""

    path: str
    format: str
    packages: list[RawPackage] = field(default_factory=list)
    described: set[str] = field(default_factory=set)
    name: str | None = None
    name_origin: Origin | None = None


def add_described(document: Document, left: Any, kind: Any, right: Any, doc_id: Any) -> None:
    """Record a DESCRIBES relationship; Trivy 0.3x writes ``DESCRIBE``."""
    if not (isinstance(left, str) and isinstance(kind, str) and isinstance(right, str)):
        return
    kind = kind.strip().upper()
    if kind in ("DESCRIBES", "DESCRIBE") and left == doc_id:
        document.described.add(right)
    elif kind == "DESCRIBED_BY" and right == doc_id:
        document.described.add(left)


def check_version(version: Any, origin: Origin, path: str, notes: Notes) -> None:
    if version is None:
        notes.counted("version", origin.location, "spdxVersion is missing; read as SPDX 2.3")
        return
    if not isinstance(version, str):
        notes.counted(
            "version", origin.location, f"spdxVersion is {typed(version)}; read as SPDX 2.3"
        )
        return
    text = version.strip()
    if text.upper().startswith("SPDX-3"):
        raise InputError(
            path,
            origin.location,
            f"is {text}, which is not supported yet; export SPDX 2.3 or CycloneDX instead",
        )
    if text not in ("SPDX-2.2", "SPDX-2.3"):
        notes.counted(
            "version", origin.location, f"spdxVersion {text!r} is not 2.2 or 2.3; read as SPDX 2.3"
        )


def build(document: Document, notes: Notes) -> ReadResult:
    result = ReadResult(path=document.path, format=document.format, notes=notes.items)
    seen_ids: set[str] = set()
    for raw in document.packages:
        if _is_trivy_grouping(raw):
            notes.counted(
                "grouping",
                raw.origin.location,
                "Trivy's target entries (SPDXRef-Application-*, SPDXRef-OperatingSystem-*) "
                "name what was scanned, not a package; they are not checked as components",
            )
            continue
        component = _component(raw, notes)
        if raw.spdxid:
            if raw.spdxid in seen_ids:
                notes.counted(
                    "duplicate-id",
                    raw.origin.location,
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
    notes.finish()
    return result


def _is_trivy_grouping(raw: RawPackage) -> bool:
    """Trivy's grouping nodes: a role-named SPDXID with no purl, version or license."""
    spdxid = raw.spdxid or ""
    return (
        spdxid.startswith(("SPDXRef-Application-", "SPDXRef-OperatingSystem-"))
        and not raw.purls
        and raw.concluded is None
        and raw.declared is None
        and not (raw.purpose or "").strip()
    )


def _component(raw: RawPackage, notes: Notes) -> Component:
    purl, purl_type, purl_origin = _pick_purl(raw, notes)
    name = (raw.name or "").strip()
    if not name:
        parts = purl_parts(purl) if purl is not None else None
        if parts is not None:
            name = parts[2]
            notes.counted(
                "no-name",
                raw.origin.location,
                f"package has no name; named {excerpt(name, 60)} after its purl",
            )
        else:
            # Still judged by its license, but no name-based rule can recognise it.
            name = raw.spdxid or "<unnamed package>"
            notes.counted(
                "no-name-no-purl",
                raw.origin.location,
                f"package has no name and no usable purl; called {excerpt(name, 60)}, and what "
                "it is cannot be checked",
                Severity.ERROR,
            )
    version = raw.version.strip() if raw.version and raw.version.strip() else None
    component = Component(name=name, origin=raw.origin, version=version, purl=purl)
    component.kind = _kind(raw, purl, purl_type, purl_origin, notes)
    if component.kind is Kind.IMAGE:
        component.image = _image_for_package(raw, purl, purl_type)
        if component.image is None:
            notes.counted(
                "image-ref",
                raw.origin.location,
                f"container image {name!r} has no readable image reference",
            )
    _licenses(raw, component, notes)
    return component


def _pick_purl(raw: RawPackage, notes: Notes) -> tuple[str | None, str | None, Origin | None]:
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
            notes.counted(
                "bad-purl", origin.location, f"{excerpt(text, 60)} is not a package URL; ignored"
            )
            continue
        if chosen is None:
            chosen = (text, purl_type, origin)
        elif text != chosen[0]:
            notes.counted(
                "many-purls", origin.location, "package has more than one purl; the first is used"
            )
    return chosen if chosen else (None, None, None)


def _purl_type(text: str) -> str | None:
    if text[:4].lower() != "pkg:":
        return None
    purl_type, slash, rest = text[4:].lstrip("/").partition("/")
    if not slash or not rest or not purl_type:
        return None
    return purl_type.lower()


def _kind(
    raw: RawPackage,
    purl: str | None,
    purl_type: str | None,
    purl_origin: Origin | None,
    notes: Notes,
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


def _os_purl_agrees(purl: str, purpose: str, origin: Origin, notes: Notes) -> bool:
    """Whether a distribution purl may make its package an OS package.

    OS-package status relaxes the policy (GPL there is aggregation), so the
    purl must parse and the declared purpose must not say otherwise; if it
    does, the package is judged by its purpose and the contradiction fails
    the run.
    """
    if purl_parts(purl) is None:
        notes.counted(
            "bad-os-purl",
            origin.location,
            f"{excerpt(purl, 60)} is not a valid package URL, so it does not make the package "
            "an OS package",
        )
        return False
    if purpose not in _OS_PURPOSES:
        notes.counted(
            "os-purl-purpose",
            origin.location,
            f"is an operating-system package URL ({excerpt(purl, 60)}), but the package's "
            f"primaryPackagePurpose is {excerpt(purpose, 30)}; judged by its purpose, not as an "
            "OS package",
            Severity.ERROR,
        )
        return False
    return True


def _licenses(raw: RawPackage, component: Component, notes: Notes) -> None:
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
            notes.counted(
                "empty-license", origin.location, "license field is empty; read as NOASSERTION"
            )
            upper = "NOASSERTION"
        if upper in _NO_LICENSE_VALUES:
            reason = reason or upper
            continue
        if "," in stripped:
            notes.counted(
                "comma-license",
                origin.location,
                f"license {stripped!r} is a comma-separated list, not an SPDX expression "
                "(a Trivy habit); kept as given for the license check",
            )
        component.licenses.append(LicenseEvidence(stripped, origin, form=EvidenceForm.EXPRESSION))
        return
    component.no_license_reason = reason or "NOASSERTION"


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


def _image_for_package(raw: RawPackage, purl: str | None, purl_type: str | None) -> ImageRef | None:
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
