"""Reader for the installed Python environment (core metadata, PEP 639).

Lockfiles carry no licenses, so the installed distributions are one of the
few places a Python application's license facts live. Precedence follows
PEP 639: ``License-Expression`` replaces the legacy fields entirely; only
without it do ``License ::`` classifiers count, and only without those the
free-text ``License`` field, which is often a whole pasted license text and
is then refused as a name (a Note says so) rather than misread.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any

from checker.errors import InputError
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin, ReadResult
from checker.readers.notes import Notes
from checker.sbom.piplicenses import MAX_NAME_LENGTH, normalize_pypi_name, pypi_purl

ENVIRONMENT = "<environment>"

#: The bare classifier says a license is OSI approved, not which one; read as
#: a license it would only add an unknown statement to the AND.
_BARE_CLASSIFIERS = frozenset({"License :: OSI Approved"})


def read_environment(path_entries: list[str] | None = None) -> ReadResult:
    """Read installed distributions, from ``sys.path`` or the given entries.

    Entries are searched in order, like the import system: the first
    distribution of a name is the one that runs, later ones are shadowed and
    only noted. Only InputError escapes, whatever the metadata holds.
    """
    label = ENVIRONMENT if path_entries is None else os.pathsep.join(path_entries)
    try:
        return _read(path_entries, label)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            label, "", f"installed metadata could not be read ({type(exc).__name__}: {exc})"
        ) from exc


def _read(path_entries: list[str] | None, label: str) -> ReadResult:
    result = ReadResult(path=label, format="environment")
    notes = Notes(label, result.notes)
    if path_entries is None:
        found = metadata.distributions()
    else:
        found = metadata.distributions(path=list(path_entries))
    first_seen: dict[str, Component] = {}
    for dist in found:
        source = _metadata_path(dist)
        meta: Any = None
        problem = ""
        try:
            meta = dist.metadata
            name = meta["Name"] if meta is not None and "Name" in meta else None
            version = dist.version if name else None
        except Exception as exc:  # a broken METADATA file must not hide the others
            name = version = None
            problem = f"its metadata could not be read ({type(exc).__name__})"
        if not name or not str(name).strip():
            # Skipping would let an unreadable distribution pass unchecked;
            # it is kept under its directory name with no license instead.
            name, version = _name_from_directory(source)
            problem = problem or "its metadata has no Name"
            if not name:
                notes.at(Origin(source), f"{problem}; skipped")
                continue
            notes.at(Origin(source), f"{problem}; checked as {name} with no license")
            meta = None
        name = str(name).strip()
        key = normalize_pypi_name(name)
        kept = first_seen.get(key)
        if kept is not None:
            notes.at(
                Origin(source),
                f"{name} {version} is shadowed by {kept.name} {kept.version} at "
                f"{kept.origin.path}, which is the one imported; only that one is checked",
            )
            continue
        version = str(version).strip() if version else None
        component = Component(
            name=name,
            origin=Origin(source),
            version=version or None,
            purl=pypi_purl(name, version or None),
        )
        if meta is None:
            component.no_license_reason = "UNKNOWN"
        else:
            _licenses(meta, component, source, notes)
        first_seen[key] = component
        result.components.append(component)
    return result


def _name_from_directory(source: str) -> tuple[str | None, str | None]:
    """``name-version`` from a ``name-version.dist-info`` directory name."""
    directory = Path(source).parent.name
    for suffix in (".dist-info", ".egg-info"):
        if directory.endswith(suffix):
            stem = directory[: -len(suffix)]
            name, _, version = stem.partition("-")
            return (name or None), (version or None)
    return None, None


def _metadata_path(dist: metadata.Distribution) -> str:
    """The METADATA (or PKG-INFO) file a distribution was read from.

    ``Distribution`` has no public attribute for its location; ``_path`` is
    what the standard-library PathDistribution sets and is used when present.
    """
    base: Any = getattr(dist, "_path", None)
    if base is None:
        return ENVIRONMENT
    location = Path(str(base))
    if location.suffix == ".egg-info" and not location.is_dir():
        return str(location)
    name = "PKG-INFO" if location.suffix == ".egg-info" else "METADATA"
    return str(location / name)


def _licenses(meta: Any, component: Component, source: str, notes: Notes) -> None:
    expression = _field(meta, "License-Expression")
    if expression and expression.upper() != "UNKNOWN":
        component.licenses.append(
            LicenseEvidence(
                expression, Origin(source, "License-Expression"), EvidenceForm.EXPRESSION
            )
        )
        return
    classifiers = [
        str(value).strip()
        for value in (meta.get_all("Classifier") or [])
        if str(value).strip().startswith("License ::")
        and str(value).strip() not in _BARE_CLASSIFIERS
    ]
    if classifiers:
        component.licenses.extend(
            LicenseEvidence(text, Origin(source, "Classifier"), EvidenceForm.CLASSIFIER)
            for text in dict.fromkeys(classifiers)
        )
        return
    text = _field(meta, "License")
    if not text or text.upper() == "UNKNOWN":
        component.no_license_reason = "UNKNOWN"
        return
    if len(text) >= MAX_NAME_LENGTH or "\n" in text:
        component.no_license_reason = "UNKNOWN"
        notes.at(
            Origin(source, "License"),
            f"{component.name}: the License field holds {len(text)} characters of "
            "license text, not a license name; no license read from it",
        )
        return
    component.licenses.append(LicenseEvidence(text, Origin(source, "License"), EvidenceForm.NAME))


def _field(meta: Any, key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None
