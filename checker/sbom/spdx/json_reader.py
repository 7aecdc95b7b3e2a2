"""The SPDX 2.2 / 2.3 JSON reader.

See :mod:`checker.sbom.spdx` for what is read and why. Locations are JSON
paths (``$.packages[3].licenseConcluded``).
"""

from __future__ import annotations

from typing import Any

from checker.errors import InputError
from checker.inputs import json_type, only_input_errors
from checker.model import Origin, ReadResult, Severity
from checker.readers import Source
from checker.readers.notes import Notes
from checker.sbom.spdx._common import (
    Document,
    RawPackage,
    add_described,
    build,
    check_version,
    typed,
)

#: Marks a key that is absent, as opposed to present with ``null``.
_ABSENT: Any = object()


def claims(source: Source) -> bool:
    """A JSON object with ``spdxVersion`` or ``SPDXID``, or an SPDX 3 JSON-LD document.

    SPDX 3 is claimed so that it is refused as SPDX 3 (:func:`read_source`),
    not as an unknown JSON document.
    """
    doc = source.json()
    if not isinstance(doc, dict):
        return False
    return (
        "spdxVersion" in doc
        or "SPDXID" in doc
        or "@graph" in doc
        or "spdxId" in str(doc.get("@context", ""))
    )


def read_source(source: Source) -> ReadResult:
    doc = source.json()
    if "spdxVersion" not in doc and "SPDXID" not in doc:
        raise InputError(
            source.name,
            "$",
            "is SPDX 3 JSON-LD, which is not supported yet; "
            "export SPDX 2.3 JSON or CycloneDX instead",
        )
    return read_json(doc, source.name)


def read_json(doc: dict[str, Any], path: str) -> ReadResult:
    """Read an SPDX 2.x JSON document (already parsed) into components.

    Any failure other than a deliberate :class:`InputError` is wrapped into
    one, so a hostile or unforeseen document can never crash the gate.
    """
    return only_input_errors(path, "SPDX JSON", lambda: _read_json(doc, path), where="$")


def _read_json(doc: dict[str, Any], path: str) -> ReadResult:
    if not isinstance(doc, dict):
        raise InputError(path, "$", f"is a JSON {json_type(doc)}, expected an SPDX document object")
    notes = Notes(path)
    version = doc.get("spdxVersion")
    if version is None and "SPDXID" not in doc and "packages" not in doc:
        raise InputError(
            path, "$", 'is not an SPDX document (no "spdxVersion", "SPDXID" or "packages")'
        )
    check_version(version, Origin(path, "$.spdxVersion"), path, notes)

    document = Document(path, "spdx-json")
    name = doc.get("name")
    if isinstance(name, str):
        document.name = name
        document.name_origin = Origin(path, "$.name")
    elif name is not None:
        notes.counted("doc-name", "$.name", f"name is {typed(name)}, not a string")

    packages = doc.get("packages", _ABSENT)
    if packages is _ABSENT:
        notes.counted("no-packages", "$", "document lists no packages")
        packages = []
    elif packages is None:
        notes.counted(
            "no-packages",
            "$.packages",
            "is null, expected an array of packages; the packages it should hold may be lost "
            "(omit the key, or write [], when there are none)",
            Severity.ERROR,
        )
        packages = []
    elif not isinstance(packages, list):
        # Refusing beats warning here: with the package list unreadable the
        # gate would judge an empty SBOM and could pass it.
        raise InputError(path, "$.packages", f"is {typed(packages)}, expected an array of packages")
    for index, entry in enumerate(packages):
        where = f"$.packages[{index}]"
        if not isinstance(entry, dict):
            notes.counted(
                "package-shape",
                where,
                f"package entry is {typed(entry)}, not an object; it cannot be read",
                Severity.ERROR,
            )
            continue
        document.packages.append(_json_package(entry, path, where, notes))

    _json_described(doc, path, document, notes)
    return build(document, notes)


def _json_package(entry: dict[str, Any], path: str, where: str, notes: Notes) -> RawPackage:
    get = entry.get
    name = get("name")
    spdxid = get("SPDXID")
    version = get("versionInfo")
    purpose = get("primaryPackagePurpose")
    concluded = get("licenseConcluded")
    declared = get("licenseDeclared")
    if not (
        (name is None or type(name) is str)
        and (spdxid is None or type(spdxid) is str)
        and (version is None or type(version) is str)
        and (purpose is None or type(purpose) is str)
        and (concluded is None or type(concluded) is str)
        and (declared is None or type(declared) is str)
    ):  # the rare path: a field that is not a string is noted (once per field) and ignored
        name = _json_str(entry, "name", where, notes)
        spdxid = _json_str(entry, "SPDXID", where, notes)
        version = _json_str(entry, "versionInfo", where, notes)
        purpose = _json_str(entry, "primaryPackagePurpose", where, notes)
        concluded = _json_str(entry, "licenseConcluded", where, notes, Severity.ERROR)
        declared = _json_str(entry, "licenseDeclared", where, notes, Severity.ERROR)
    raw = RawPackage(Origin(path, where), name, spdxid, version, purpose=purpose)
    if concluded is not None:
        raw.concluded = (concluded, Origin(path, f"{where}.licenseConcluded"))
    if declared is not None:
        raw.declared = (declared, Origin(path, f"{where}.licenseDeclared"))
    refs = entry.get("externalRefs")
    if isinstance(refs, list):
        for ref_index, ref in enumerate(refs):
            if not isinstance(ref, dict):
                notes.counted(
                    "ref-shape",
                    f"{where}.externalRefs[{ref_index}]",
                    f"external reference is {typed(ref)}, not an object; skipped",
                )
                continue
            ref_type = ref.get("referenceType")
            locator = ref.get("referenceLocator")
            if isinstance(ref_type, str) and ref_type.strip().lower() == "purl":
                location = f"{where}.externalRefs[{ref_index}].referenceLocator"
                if isinstance(locator, str):
                    raw.purls.append((locator, Origin(path, location)))
                else:
                    notes.counted(
                        "purl-shape",
                        location,
                        f"purl reference locator is {typed(locator)}, not a string; ignored",
                    )
    elif refs is not None:
        notes.counted(
            "refs-shape",
            f"{where}.externalRefs",
            f"externalRefs is {typed(refs)}, not an array; ignored",
        )
    attributions = entry.get("attributionTexts")
    if isinstance(attributions, list):
        raw.attributions = [text for text in attributions if isinstance(text, str)]
    return raw


def _json_str(
    entry: dict[str, Any],
    key: str,
    where: str,
    notes: Notes,
    severity: Severity = Severity.WARNING,
) -> str | None:
    """A string field, or None; other types are noted once, never trusted.

    ``Severity.ERROR`` for a license field: a license statement the reader
    cannot read may be the one that denies the package.
    """
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    notes.counted(
        f"type-{key}",
        f"{where}.{key}",
        f"{key} is {typed(value)}, not a string; "
        + ("it cannot be read" if severity is Severity.ERROR else "ignored"),
        severity,
    )
    return None


def _json_described(doc: dict[str, Any], path: str, document: Document, notes: Notes) -> None:
    describes = doc.get("documentDescribes")
    if isinstance(describes, list):
        document.described.update(item for item in describes if isinstance(item, str))
    elif describes is not None:
        notes.counted(
            "describes-shape",
            "$.documentDescribes",
            f"documentDescribes is {typed(describes)}, not an array; ignored",
        )
    relationships = doc.get("relationships")
    if relationships is None:
        return
    if not isinstance(relationships, list):
        notes.counted(
            "relationships-shape",
            "$.relationships",
            f"relationships is {typed(relationships)}, not an array; ignored",
        )
        return
    doc_id = doc.get("SPDXID") if isinstance(doc.get("SPDXID"), str) else "SPDXRef-DOCUMENT"
    for index, rel in enumerate(relationships):
        if not isinstance(rel, dict):
            notes.counted(
                "relationship-shape",
                f"$.relationships[{index}]",
                f"relationship is {typed(rel)}, not an object; skipped",
            )
            continue
        add_described(
            document,
            rel.get("spdxElementId"),
            rel.get("relationshipType"),
            rel.get("relatedSpdxElement"),
            doc_id,
        )
