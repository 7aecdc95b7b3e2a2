"""Reader for ``uv.lock`` (version 1).

Every ``[[package]]`` table becomes a component located at its header line.
The project itself (a workspace member listed in ``[manifest] members``, or a
package whose source is ``editable``/``virtual`` ``"."``) is the subject:
``is_subject=True``, judged by identity only. Other ``git``, ``url``,
``path``, ``directory`` and ``editable`` sources are noted: they do not come
from an index, so the version does not name a release.

Scope is derived from the dependency graph when the lock has a subject:
packages reachable from the subjects' ``dependencies`` (following each
edge's ``extra`` into ``[package.optional-dependencies]``) are ``required``;
packages reachable only from ``[package.dev-dependencies]`` or
``[manifest.dependency-groups]`` are ``dev``. The walk is linear in the
number of edges; an edge naming a version picks that version when a name is
locked more than once (forked resolutions).
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
    type_name,
)
from checker.model import Component, Kind, Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.sbom.piplicenses import normalize_pypi_name

FORMAT = "uv-lock"

#: Lock versions this reader was written against.
SUPPORTED_VERSIONS = (1,)

_LOCAL = ("editable", "virtual")
_NOTED_SOURCES = ("git", "url", "path", "directory", "editable", "virtual")


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a uv.lock into components; only InputError escapes."""
    return guarded(path, "a uv.lock", lambda: _read(data, path))


def _read(data: bytes, path: str) -> ReadResult:
    text, doc = load_toml(data, path, "uv.lock")
    result = ReadResult(path=path, format=FORMAT)
    notes = Notes(path, result.notes)
    version = doc.get("version")
    if "package" not in doc and version is None:
        raise InputError(path, "", "has no version and no [[package]] tables: not a uv.lock")
    if type(version) is int and version not in SUPPORTED_VERSIONS:
        notes.warn(
            "version",
            f"uv.lock version {version} is not the version 1 this reader knows; "
            "read on a best-effort basis",
        )
    packages = doc.get("package", [])
    if type(packages) is not list:
        raise InputError(
            path, "package", f"is a {type_name(packages)}, expected [[package]] tables"
        )
    manifest = doc.get("manifest")
    members: set[str] = set()
    groups: Any = None
    if type(manifest) is dict:
        raw_members = manifest.get("members")
        if type(raw_members) is list:
            members = {normalize_pypi_name(m) for m in raw_members if type(m) is str}
        groups = manifest.get("dependency-groups")

    locate = TomlLocator(text, "package", len(packages))
    components = result.components
    #: Index in ``packages`` of each component, for the scope walk.
    tables: list[dict[str, Any]] = []
    for index, entry in enumerate(packages):
        component = package_table(entry, Origin(path, locate(index)), notes)
        if component is None:
            continue
        component.digests = _digests(entry)
        source = entry.get("source")
        if type(source) is dict and "registry" not in source:
            _source(source, component, members, notes)
        components.append(component)
        tables.append(entry)
    _scopes(components, tables, groups)
    return result


def _source(source: dict[str, Any], component: Component, members: set[str], notes: Notes) -> None:
    kind = next((k for k in _NOTED_SOURCES if k in source), None)
    if kind is None:
        return
    value = source[kind]
    location = value if type(value) is str else "?"
    if kind in _LOCAL and (normalize_pypi_name(component.name) in members or location == "."):
        component.is_subject = True
        component.kind = Kind.APPLICATION
        return
    notes.at(
        component.origin,
        f"{component.name} comes from {kind} source {redact_url(location)}, {OFF_INDEX}: "
        "its version does not name a published release, check its license at the source",
    )


def _digests(entry: dict[str, Any]) -> tuple[str, ...]:
    """The ``hash`` of the package's ``sdist`` and of each of its ``wheels``."""
    hashes: list[Any] = []
    sdist = entry.get("sdist")
    if type(sdist) is dict:
        hashes.append(sdist.get("hash"))
    wheels = entry.get("wheels")
    if type(wheels) is list:
        hashes.extend(w.get("hash") for w in wheels if type(w) is dict)
    return digests(hashes)


def _scopes(components: list[Component], tables: list[dict[str, Any]], groups: Any) -> None:
    """Mark packages required (reachable from the subjects) or dev (only from dev groups)."""
    subjects = [i for i, c in enumerate(components) if c.is_subject]
    if not subjects:
        return
    by_name: dict[str, list[int]] = {}
    for i, component in enumerate(components):
        by_name.setdefault(normalize_pypi_name(component.name), []).append(i)

    def edges(value: Any) -> list[tuple[int, tuple[str, ...]]]:
        """Targets of a list of dependency tables: (component index, extras)."""
        found: list[tuple[int, tuple[str, ...]]] = []
        if type(value) is not list:
            return found
        for dep in value:
            if type(dep) is not dict or type(dep.get("name")) is not str:
                continue
            targets = by_name.get(normalize_pypi_name(dep["name"]), [])
            wanted = dep.get("version")
            if len(targets) > 1 and type(wanted) is str:
                targets = [t for t in targets if components[t].version == wanted] or targets
            extras = dep.get("extra", dep.get("extras"))
            extra = tuple(e for e in extras if type(e) is str) if type(extras) is list else ()
            found.extend((t, extra) for t in targets)
        return found

    def group_edges(value: Any) -> list[tuple[int, tuple[str, ...]]]:
        found: list[tuple[int, tuple[str, ...]]] = []
        if type(value) is dict:
            for deps in value.values():
                found.extend(edges(deps))
        return found

    def walk(start: list[tuple[int, tuple[str, ...]]]) -> set[int]:
        reached: set[int] = set()
        seen: set[tuple[int, str | None]] = set()
        todo: list[tuple[int, str | None]] = []
        for index, extras in start:
            todo.append((index, None))
            todo.extend((index, e) for e in extras)
        while todo:
            state = todo.pop()
            if state in seen:
                continue
            seen.add(state)
            index, extra = state
            reached.add(index)
            table = tables[index]
            if extra is None:
                found = edges(table.get("dependencies"))
            else:
                optional = table.get("optional-dependencies")
                found = edges(optional.get(extra)) if type(optional) is dict else []
            for target, extras in found:
                todo.append((target, None))
                todo.extend((target, e) for e in extras)
        return reached

    roots: list[tuple[int, tuple[str, ...]]] = []
    dev_roots: list[tuple[int, tuple[str, ...]]] = []
    for i in subjects:
        roots.extend(edges(tables[i].get("dependencies")))
        # the project's own extras ship with it
        roots.extend(group_edges(tables[i].get("optional-dependencies")))
        dev_roots.extend(group_edges(tables[i].get("dev-dependencies")))
    # a virtual workspace root lists its groups in the manifest, not in a package
    dev_roots.extend(group_edges(groups))
    required = walk(roots)
    dev = walk(dev_roots)
    for i, component in enumerate(components):
        if component.is_subject:
            continue
        if i in required:
            component.scope = "required"
        elif i in dev:
            component.scope = "dev"
