"""Reader for ``Pipfile.lock`` (pipfile-spec 6).

Every entry of ``default`` (scope ``required``), ``develop`` (scope ``dev``)
and of any custom category pipenv writes beside them (scope unknown) becomes
a component located at its JSON path (``$.default.django``,
``$.default["django-postgres-extra"]``). ``version`` is ``"==1.2.3"``; the
``==`` is dropped. Entries installed from ``git``, ``file`` or ``path`` (often
``editable``) have no version and are noted: nothing but their source says
what they are. Credentials in URLs are never repeated in notes.
"""

from __future__ import annotations

from typing import Any

from checker.errors import InputError
from checker.inputs import json_type, load_json
from checker.lockfiles._common import (
    OFF_INDEX,
    digests,
    guarded,
    json_key,
    pypi_library,
    redact_url,
    text_or_none,
)
from checker.model import Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT = "pipfile-lock"

SUPPORTED_SPEC = 6

_SCOPES = {"default": "required", "develop": "dev"}
_SOURCES = ("git", "hg", "svn", "bzr", "file", "path")


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a Pipfile.lock into components; only InputError escapes."""
    return guarded(path, "a Pipfile.lock", lambda: _read(load_json(data, path), path))


def _read(doc: Any, path: str) -> ReadResult:
    if type(doc) is not dict:
        raise InputError(path, "$", f"is a JSON {json_type(doc)}, expected a Pipfile.lock object")
    if not any(key in doc for key in ("_meta", "default", "develop")):
        raise InputError(path, "$", 'has no "_meta", "default" or "develop": not a Pipfile.lock')
    result = ReadResult(path=path, format=FORMAT)
    notes = Notes(path, result.notes)
    meta = doc.get("_meta")
    if type(meta) is dict:
        spec = meta.get("pipfile-spec")
        if type(spec) is int and spec != SUPPORTED_SPEC:
            notes.warn(
                '$._meta["pipfile-spec"]',
                f"pipfile-spec {spec} is not the {SUPPORTED_SPEC} this reader knows; "
                "read on a best-effort basis",
            )
    for section, entries in doc.items():
        if section == "_meta":
            continue
        base = json_key("$", str(section))
        if type(entries) is not dict:
            notes.warn(base, f"is a JSON {json_type(entries)}, expected an object")
            continue
        scope = _SCOPES.get(section)
        for name, entry in entries.items():
            _entry(result, notes, base, str(name), entry, scope)
    return result


def _entry(
    result: ReadResult, notes: Notes, base: str, name: str, entry: Any, scope: str | None
) -> None:
    where = json_key(base, name)
    if type(entry) is not dict:
        # Pipfile syntax ("*") in a lock: a hand-edited or broken file.
        notes.error(where, f"is a JSON {json_type(entry)}, expected an object")
        return
    name = name.strip()
    if not name:
        notes.error(where, "entry has no package name")
        return
    raw = text_or_none(entry.get("version"))
    version: str | None = None
    if raw is not None:
        if raw.startswith("==="):
            version = raw[3:].strip() or None
        elif raw.startswith("=="):
            version = raw[2:].strip() or None
        if version is None or "*" in version:
            version = None
            notes.warn(
                f"{where}.version",
                f"{name}: version {raw!r} is not an exact '==' pin; version unknown",
            )
    component = pypi_library(name, Origin(notes.path, where), version, scope)
    component.digests = digests(entry.get("hashes"))
    source = next((key for key in _SOURCES if key in entry), None)
    if source is not None:
        location = text_or_none(entry.get(source)) or "?"
        ref = text_or_none(entry.get("ref"))
        at = f"@{ref}" if ref and source not in ("file", "path") else ""
        article = "an editable" if entry.get("editable") is True else "a"
        unversioned = "" if version else ", without a version"
        notes.warn(
            where,
            f"{name} is {article} {source} dependency ({redact_url(location)}{at})"
            f"{unversioned}, {OFF_INDEX}: check its license at the source",
        )
    elif raw is None:
        notes.warn(where, f"{name} has no version")
    result.components.append(component)
