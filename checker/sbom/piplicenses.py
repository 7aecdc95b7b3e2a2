"""Reader for ``pip-licenses --format=json`` output.

pip-licenses is what rune-ci's license check runs today, so its JSON is an
input teams already have. Its license column is lossy: several values are
joined with ``"; "`` (sorted, with no AND/OR meaning), classifiers are cut to
their last segment and anything missing becomes ``UNKNOWN``. This reader
undoes only what can be undone safely: it splits the join into separate
statements (the gate ANDs them, the conservative reading) and records
``UNKNOWN`` as an explicit reason so it fails closed instead of passing.

The json-license-finder variant (``[{name, version, licenses: [...]}]``) is
read as well; it is the same data with the list left unjoined.

Where an entry that may be a package, or a license value, cannot be read (an
entry that is not an object, a nameless entry that states a license or
version, a license field that is not a string) the note is an error: the run
fails instead of the package vanishing.
"""

from __future__ import annotations

import re
from typing import Any

from packageurl import PackageURL

from checker.errors import InputError
from checker.inputs import excerpt, json_type, only_input_errors
from checker.licenses import is_spdx_expression
from checker.model import (
    Component,
    EvidenceForm,
    LicenseEvidence,
    Origin,
    ReadResult,
)
from checker.readers import Source
from checker.readers.notes import Notes

UNKNOWN = "UNKNOWN"

#: pip-licenses' join separator between several license values.
_JOIN = "; "

#: A metadata ``License`` value longer than this, or spanning lines, is a
#: pasted license text rather than a name; reading it as a name would only
#: produce an unknown license with a misleading label.
MAX_NAME_LENGTH = 200

_NAME_KEYS = ("Name", "name")
_LICENSE_KEYS = ("License", "License-Expression", "License-Metadata", "License-Classifier")
_PEP503_RUN = re.compile(r"[-_.]+")


def _typed(value: Any) -> str:
    """A value's JSON type with its article, for messages: "an array", "null"."""
    kind = json_type(value)
    if kind == "null":
        return kind
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def normalize_pypi_name(name: str) -> str:
    """PEP 503 normalization: lowercase, runs of ``-_.`` become ``-``.

    The purl spec keeps ``.``, PEP 503 does not; every Python reader in the
    checker uses this one rule so lockfile, SBOM and environment purls join.
    """
    return _PEP503_RUN.sub("-", name.strip()).lower()


_PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def pypi_purl(name: str, version: str | None) -> str | None:
    """The purl of a PyPI distribution, built with packageurl-python.

    None when ``name`` is not a valid distribution name (PEP 508): such a
    component is still checked, by name, but gets no identity to match.
    """
    if not _PEP508_NAME.match(name.strip()):
        return None
    return PackageURL(type="pypi", name=normalize_pypi_name(name), version=version).to_string()


def looks_like(doc: list[Any]) -> bool:
    """True for a non-empty array of pip-licenses package objects.

    Only the first few entries are checked: detection must stay cheap, and a
    bad entry further in is reported by the reader with its index. An empty
    array is not accepted because nothing in it says what produced it.
    """
    if not isinstance(doc, list) or not doc:
        return False
    for entry in doc[:5]:
        if not isinstance(entry, dict):
            return False
        if "Name" in entry and any(key in entry for key in _LICENSE_KEYS):
            continue
        if "name" in entry and isinstance(entry.get("licenses"), list):
            continue
        return False
    return True


def claims(source: Source) -> bool:
    doc = source.json()
    return isinstance(doc, list) and looks_like(doc)


def read_source(source: Source) -> ReadResult:
    return read_json(source.json(), source.name)


def read_json(doc: list[Any], path: str) -> ReadResult:
    """Read pip-licenses JSON into components; only InputError escapes."""
    return only_input_errors(path, "pip-licenses output", lambda: _read(doc, path), where="$")


def _read(doc: list[Any], path: str) -> ReadResult:
    if not isinstance(doc, list):
        raise InputError(path, "$", f"is a JSON {json_type(doc)}, expected pip-licenses' array")
    result = ReadResult(path=path, format="pip-licenses")
    notes = Notes(path, result.notes)
    for index, entry in enumerate(doc):
        where = f"$[{index}]"
        if not isinstance(entry, dict):
            shown = f" {excerpt(entry, 40)}" if isinstance(entry, str) else ""
            notes.error(
                where, f"entry is {_typed(entry)}{shown}, not a package object; it cannot be read"
            )
            continue
        name = next((entry[k] for k in _NAME_KEYS if isinstance(entry.get(k), str)), None)
        if not name or not name.strip():
            _nameless(entry, where, notes)
            continue
        version = entry.get("Version", entry.get("version"))
        if version is not None and not isinstance(version, str):
            notes.warn(f"{where}.Version", "Version is not a string; ignored")
            version = None
        if version is not None:
            version = version.strip() or None
        component = Component(
            name=name.strip(),
            origin=Origin(path, where),
            version=version,
            purl=pypi_purl(name, version),
        )
        _licenses(entry, component, path, where, notes)
        result.components.append(component)
    return result


def _nameless(entry: dict[str, Any], where: str, notes: Notes) -> None:
    """An entry without a usable name: an error unless it states nothing else."""
    if set(entry) <= set(_NAME_KEYS):
        notes.warn(where, "entry has no package name and nothing else; skipped")
    else:
        notes.error(
            where, "entry has no package name (Name); the package it describes cannot be checked"
        )


def _unreadable_licenses(
    entry: dict[str, Any], component: Component, path: str, where: str, notes: Notes
) -> None:
    """Error notes for license values that are there but are not strings.

    Such a value may be the statement that denies the package; reading the
    others and passing would open the gate.
    """
    wrong = [
        (key, "a string")
        for key in _LICENSE_KEYS
        if entry.get(key) is not None and not isinstance(entry[key], str)
    ]
    listed = entry.get("licenses")
    if "name" in entry and listed is not None and not isinstance(listed, list):
        wrong.append(("licenses", "an array"))
    for key, expected in wrong:
        notes.error(
            f"{where}.{key}",
            f"{component.name}: {key} is {_typed(entry[key])}, not {expected}; it cannot be read",
        )


def _licenses(
    entry: dict[str, Any], component: Component, path: str, where: str, notes: Notes
) -> None:
    """Pick the best license evidence, in the environment reader's order.

    A real ``License-Expression`` always wins (PEP 639). Then, for
    ``--from=all`` output, the metadata ``License`` field when it is an exact
    SPDX expression, with the classifiers beside it marked as such (the
    evaluator decides whether they corroborate it or contradict it); else
    classifiers before the free-text metadata field. Both inputs judge a
    package alike (:mod:`checker.sbom.environment`).
    """
    _unreadable_licenses(entry, component, path, where, notes)
    expression = _text(entry, "License-Expression")
    if expression and expression != UNKNOWN:
        component.licenses.append(
            LicenseEvidence(
                expression, Origin(path, f"{where}.License-Expression"), EvidenceForm.EXPRESSION
            )
        )
        return
    license_list = entry.get("licenses")
    if "name" in entry and isinstance(license_list, list):
        for i, value in enumerate(license_list):
            text = value.strip() if isinstance(value, str) else ""
            if not isinstance(value, str) and value is not None:
                notes.error(
                    f"{where}.licenses[{i}]",
                    f"{component.name}: license is {_typed(value)}, not a string; "
                    "it cannot be read",
                )
            if text and text != UNKNOWN:
                component.licenses.append(
                    LicenseEvidence(text, Origin(path, f"{where}.licenses[{i}]"), EvidenceForm.NAME)
                )
        if not component.licenses:
            component.no_license_reason = UNKNOWN
        return
    metadata = _text(entry, "License-Metadata")
    if metadata and is_spdx_expression(metadata):
        component.licenses.append(
            LicenseEvidence(
                metadata, Origin(path, f"{where}.License-Metadata"), EvidenceForm.EXPRESSION
            )
        )
        _classifiers(entry, component, path, where)
        return
    for key, form in (
        ("License", EvidenceForm.NAME),
        ("License-Classifier", EvidenceForm.CLASSIFIER),
        ("License-Metadata", EvidenceForm.NAME),
    ):
        value = _text(entry, key)
        if not value or value == UNKNOWN:
            continue
        origin = Origin(path, f"{where}.{key}")
        # pip-licenses joins only the License and License-Classifier columns;
        # the raw metadata field is one value even if it contains "; ".
        parts = [value] if key == "License-Metadata" else value.split(_JOIN)
        for part in (p.strip() for p in parts):
            if not part or part == UNKNOWN:
                continue
            if len(part) >= MAX_NAME_LENGTH or "\n" in part:
                notes.at(
                    origin,
                    f"{component.name}: {key} holds {len(part)} characters of license "
                    "text, not a license name; no license read from it",
                )
                continue
            component.licenses.append(LicenseEvidence(part, origin, form))
        if component.licenses:
            return
    component.no_license_reason = UNKNOWN


def _classifiers(entry: dict[str, Any], component: Component, path: str, where: str) -> None:
    """The License-Classifier column's values, as classifier evidence beside an exact one."""
    value = _text(entry, "License-Classifier")
    if not value or value == UNKNOWN:
        return
    origin = Origin(path, f"{where}.License-Classifier")
    for part in dict.fromkeys(p.strip() for p in value.split(_JOIN)):
        if part and part != UNKNOWN and len(part) < MAX_NAME_LENGTH and "\n" not in part:
            component.licenses.append(LicenseEvidence(part, origin, EvidenceForm.CLASSIFIER))


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else None
