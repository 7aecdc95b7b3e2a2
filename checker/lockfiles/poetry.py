"""Reader for ``poetry.lock`` (lock-version 1.x and 2.x).

Every ``[[package]]`` table becomes a component located at its header line.
Scope comes from what the lock records: ``category = "main"|"dev"`` in lock
1.x, ``groups = [...]`` in Poetry 2 (``main`` means required, any other group
dev-only); locks written by Poetry 1.2-1.8 (lock-version 2.0) record neither,
so their scope is left unknown. ``optional = true`` (installed only for an
extra) is scope ``optional``. A ``[package.source]`` of type ``git``, ``url``,
``file`` or ``directory`` is noted: the package does not come from an index,
so its name and version do not identify a release. Credentials in source URLs
are never repeated in notes.
"""

from __future__ import annotations

from typing import Any

from checker.errors import InputError
from checker.lockfiles._common import (
    OFF_INDEX,
    TomlLocator,
    digests,
    guarded,
    load_toml,
    package_table,
    redact_url,
    text_or_none,
    type_name,
)
from checker.model import Component, Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT = "poetry-lock"

_NON_INDEX_SOURCES = frozenset({"git", "url", "file", "directory"})


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a poetry.lock into components; only InputError escapes."""
    return guarded(path, "a poetry.lock", lambda: _read(data, path))


def _read(data: bytes, path: str) -> ReadResult:
    text, doc = load_toml(data, path, "poetry.lock")
    result = ReadResult(path=path, format=FORMAT)
    packages = doc.get("package")
    if packages is None:
        if "metadata" in doc:
            return result  # a project without dependencies
        raise InputError(path, "", "has no [[package]] tables and no [metadata]: not a poetry.lock")
    if type(packages) is not list:
        raise InputError(
            path, "package", f"is a {type_name(packages)}, expected [[package]] tables"
        )
    notes = Notes(path, result.notes)
    metadata = doc.get("metadata")
    _check_version(metadata, notes)
    # lock-version 1.x keeps the files of every package in [metadata.files]
    legacy = metadata.get("files") if type(metadata) is dict else None
    legacy_files: dict[str, Any] = legacy if type(legacy) is dict else {}
    locate = TomlLocator(text, "package", len(packages))
    components = result.components
    for index, entry in enumerate(packages):
        where = locate(index)
        component = package_table(entry, Origin(path, where), notes)
        if component is None:
            continue
        if component.version is None:
            notes.warn(where, f"{component.name} has no version")
        component.scope = _scope(entry)
        files = entry.get("files", legacy_files.get(component.name))
        if type(files) is list:
            component.digests = digests([f.get("hash") for f in files if type(f) is dict])
        source = entry.get("source")
        if source is not None:
            _source(source, component, notes)
        components.append(component)
    return result


def _check_version(metadata: Any, notes: Notes) -> None:
    if type(metadata) is not dict:
        return
    version = text_or_none(metadata.get("lock-version"))
    if version is not None and version.split(".", 1)[0] not in ("1", "2"):
        notes.warn(
            "metadata.lock-version",
            f"lock-version {version} is newer than the 1.x/2.x this reader knows; "
            "read on a best-effort basis",
        )


def _scope(entry: dict[str, Any]) -> str | None:
    scope: str | None = None
    groups = entry.get("groups")
    if type(groups) is list and groups:
        scope = "required" if "main" in groups else "dev"
    else:
        category = entry.get("category")
        if category == "main":
            scope = "required"
        elif category == "dev":
            scope = "dev"
    if entry.get("optional") is True and scope != "dev":
        scope = "optional"
    return scope


def _source(source: Any, component: Component, notes: Notes) -> None:
    if type(source) is not dict:
        notes.at(component.origin, f"{component.name}: source is a {type_name(source)}; ignored")
        return
    kind = text_or_none(source.get("type"))
    if kind not in _NON_INDEX_SOURCES:
        return
    url = text_or_none(source.get("url")) or "?"
    ref = text_or_none(source.get("resolved_reference")) or text_or_none(source.get("reference"))
    at = f"@{ref}" if ref and kind == "git" else ""
    notes.at(
        component.origin,
        f"{component.name} comes from {kind} source {redact_url(url)}{at}, {OFF_INDEX}: "
        "its version does not name a published release, check its license at the source",
    )
