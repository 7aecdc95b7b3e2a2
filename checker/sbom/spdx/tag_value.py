"""The SPDX 2.2 / 2.3 tag-value reader.

See :mod:`checker.sbom.spdx` for what is read and why. Locations are
``line N``. A package's fields follow its ``PackageName:`` line; one outside
any package, or a single-valued field stated twice with different values,
is an error: a missing ``PackageName:`` line would otherwise make one
package's fields land in the one before it.
"""

from __future__ import annotations

from checker.errors import InputError
from checker.inputs import excerpt, only_input_errors
from checker.model import Origin, ReadResult, Severity
from checker.readers import Source
from checker.readers.notes import Notes
from checker.sbom.spdx._common import Document, RawPackage, add_described, build, check_version

#: How far into a text file the tag-value sniffer looks. Detection must stay
#: cheap on large non-SPDX inputs, and every SPDX writer puts the version first.
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 40

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


def claims(source: Source) -> bool:
    return looks_like_tag_value(source.text())


def read_source(source: Source) -> ReadResult:
    return read_tag_value(source.text(), source.name)


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


def read_tag_value(text: str, path: str) -> ReadResult:
    """Read an SPDX 2.x tag-value document into components.

    Wrapped like :func:`read_json` so only :class:`InputError` escapes.
    """
    return only_input_errors(
        path, "SPDX tag-value", lambda: _read_tag_value(text, path), where="line 1"
    )


def _read_tag_value(text: str, path: str) -> ReadResult:
    notes = Notes(path)
    document = Document(path, "spdx-tag-value")
    lines = text.split("\n")
    section = "document"
    current: RawPackage | None = None
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
            notes.counted(
                "tv-line",
                f"line {lineno}",
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
                check_version(value, origin, path, notes)
        elif tag == "DocumentName" and section == "document":
            document.name = value
            document.name_origin = origin
        elif tag == "PackageName":
            section = "package"
            current = RawPackage(origin, name=value)
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
                add_described(document, parts[0], parts[1], parts[2], "SPDXRef-DOCUMENT")
            else:
                notes.counted(
                    "tv-relationship",
                    origin.location,
                    "Relationship is not 'element TYPE element'; ignored",
                )
        elif current is not None:
            if tag in _SINGLE_PACKAGE_TAGS:
                before = stated.get(tag)
                if before is not None and before != value:
                    notes.counted(
                        f"tv-repeated-{tag}",
                        origin.location,
                        f"{tag} is stated again in the package of {current.origin.location}, "
                        f"as {excerpt(value, 40)} after {excerpt(before, 40)}; the last is used "
                        "(is a PackageName: line missing?)",
                        Severity.ERROR,
                    )
                stated[tag] = value
            _tag_package_field(current, tag, value, origin, notes)
        elif tag in _PACKAGE_TAGS:
            notes.counted(
                "tv-orphan",
                origin.location,
                f"{tag} is a package field outside any package (no PackageName: line "
                f"before it in this {section} section); the package it describes cannot be read",
                Severity.ERROR,
            )

    if not version_seen:
        raise InputError(path, "line 1", "is not SPDX tag-value: no 'SPDXVersion:' line")
    return build(document, notes)


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


def _tag_package_field(raw: RawPackage, tag: str, value: str, origin: Origin, notes: Notes) -> None:
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
            notes.counted(
                "tv-ref", origin.location, "ExternalRef is not 'CATEGORY type locator'; ignored"
            )
        elif parts[1].lower() == "purl":
            raw.purls.append((parts[2].strip(), origin))
