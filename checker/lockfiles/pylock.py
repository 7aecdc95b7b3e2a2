"""Reader for ``pylock.toml`` (PEP 751, lock-version 1.x).

Every ``[[packages]]`` table becomes a component located at its header line.
PEP 751 requires a reader to refuse a major ``lock-version`` it does not know,
so anything but 1.x is an :class:`~checker.errors.InputError`; a newer 1.x is
read with a note. ``version`` is optional in the format (it must be left out
for source trees), so packages from ``vcs``, ``directory`` or ``archive``
sources are noted: nothing but the source says what they are. A
``directory`` source at ``"."`` is the project itself (``is_subject``).

Scope: a package whose ``marker`` can only hold when a non-default dependency
group is installed (``'dev' in dependency_groups``) is ``dev``. The marker is
judged with three-valued logic: group tests are known from
``default-groups``, every other test (platform, extras) is unknown, and only a
marker that is false whatever the unknowns are marks the package dev-only.
"""

from __future__ import annotations

from typing import Any

from packaging.markers import InvalidMarker, Marker

from checker.errors import InputError
from checker.lockfiles._common import (
    OFF_INDEX,
    TomlLocator,
    guarded,
    load_toml,
    package_table,
    redact_url,
    table_digests,
    text_or_none,
    type_name,
)
from checker.model import Component, Kind, Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT = "pylock"

SUPPORTED_MAJOR = 1
KNOWN_MINOR = 0

_SOURCES = ("vcs", "directory", "archive")


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a pylock.toml into components; only InputError escapes."""
    return guarded(path, "a pylock.toml", lambda: _read(data, path))


def _read(data: bytes, path: str) -> ReadResult:
    text, doc = load_toml(data, path, "pylock.toml")
    result = ReadResult(path=path, format=FORMAT)
    notes = Notes(path, result.notes)
    _check_version(doc, path, notes)
    packages = doc.get("packages", [])
    if type(packages) is not list:
        raise InputError(
            path, "packages", f"is a {type_name(packages)}, expected [[packages]] tables"
        )
    default_groups = doc.get("default-groups")
    defaults = (
        frozenset(g for g in default_groups if type(g) is str)
        if type(default_groups) is list
        else frozenset()
    )
    locate = TomlLocator(text, "packages", len(packages))
    for index, entry in enumerate(packages):
        where = locate(index)
        component = package_table(entry, Origin(path, where), notes)
        if component is None:
            continue
        component.digests = _digests(entry)
        marker = text_or_none(entry.get("marker"))
        if marker is not None and "dependency_groups" in marker:
            component.scope = _group_scope(marker, defaults)
        source = next((key for key in _SOURCES if key in entry), None)
        if source is not None:
            _source(source, entry[source], component, notes)
        elif component.version is None:
            notes.warn(where, f"{component.name} has no version")
        result.components.append(component)
    return result


def _check_version(doc: dict[str, Any], path: str, notes: Notes) -> None:
    raw = doc.get("lock-version")
    if raw is None:
        if "packages" not in doc:
            raise InputError(
                path, "", "has no lock-version and no [[packages]] tables: not a pylock.toml"
            )
        notes.warn("lock-version", "has no lock-version (PEP 751 requires one)")
        return
    text = str(raw).strip()
    major, _, minor = text.partition(".")
    if major != str(SUPPORTED_MAJOR):
        raise InputError(
            path,
            "lock-version",
            f"is {text!r}; only lock-version {SUPPORTED_MAJOR}.x is supported "
            "(PEP 751: a reader must refuse a major version it does not know)",
        )
    if minor.isdigit() and int(minor) > KNOWN_MINOR:
        notes.warn(
            "lock-version",
            f"lock-version {text} is newer than {SUPPORTED_MAJOR}.{KNOWN_MINOR}; "
            "fields added later are ignored",
        )


def _source(kind: str, value: Any, component: Component, notes: Notes) -> None:
    if type(value) is not dict:
        notes.at(component.origin, f"{component.name}: {kind} is a {type_name(value)}; ignored")
        return
    location = text_or_none(value.get("url")) or text_or_none(value.get("path")) or "?"
    if kind == "directory" and location == ".":
        component.is_subject = True
        component.kind = Kind.APPLICATION
        return
    commit = text_or_none(value.get("commit-id"))
    at = f"@{commit}" if kind == "vcs" and commit else ""
    notes.at(
        component.origin,
        f"{component.name} comes from {kind} source {redact_url(location)}{at}, {OFF_INDEX}: "
        "check its license at the source",
    )


def _digests(entry: dict[str, Any]) -> tuple[str, ...]:
    """The ``hashes`` tables of the package's ``sdist``, ``wheels`` and ``archive``."""
    found: list[str] = []
    for key in ("sdist", "archive"):
        table = entry.get(key)
        if type(table) is dict:
            found.extend(table_digests(table.get("hashes")))
    wheels = entry.get("wheels")
    if type(wheels) is list:
        for wheel in wheels:
            if type(wheel) is dict:
                found.extend(table_digests(wheel.get("hashes")))
    return tuple(sorted(set(found)))


def _group_scope(marker: str, defaults: frozenset[str]) -> str | None:
    """``dev`` when the marker cannot hold with only the default groups installed."""
    try:
        tree = Marker(marker)._markers
    except (InvalidMarker, AttributeError):
        return None
    return "dev" if _judge(tree, defaults) is False else None


def _judge(markers: Any, defaults: frozenset[str]) -> bool | None:
    """Kleene evaluation of packaging's marker tree (an OR of ANDs)."""
    alternatives: list[list[bool | None]] = [[]]
    for item in markers:
        if type(item) is list:
            alternatives[-1].append(_judge(item, defaults))
        elif type(item) is tuple and len(item) == 3:
            alternatives[-1].append(_leaf(item, defaults))
        elif item == "or":
            alternatives.append([])
    outcome: bool | None = False
    for conjunction in alternatives:
        value: bool | None = True
        for part in conjunction:
            if part is False:
                value = False
                break
            if part is None:
                value = None
        if value is True:
            return True
        if value is None:
            outcome = None
    return outcome


def _leaf(item: tuple[Any, Any, Any], defaults: frozenset[str]) -> bool | None:
    left, op, right = item
    names = (type(left).__name__, type(right).__name__)
    if names == ("Value", "Variable"):
        value, variable = str(left.value), str(right.value)
    elif names == ("Variable", "Value"):
        value, variable = str(right.value), str(left.value)
    else:
        return None
    if variable != "dependency_groups":
        return None
    operator = str(op.value)
    if operator == "in":
        return value in defaults
    if operator == "not in":
        return value not in defaults
    return None
