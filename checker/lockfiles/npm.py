"""Reader for npm ``package-lock.json`` and ``npm-shrinkwrap.json`` (v1, v2, v3).

Lockfile versions 2 and 3 are read from the ``packages`` map, keyed by install
location: ``""`` is the project itself (``is_subject``), ``node_modules/a``
and ``node_modules/a/node_modules/b`` are installed packages, named by their
``name`` field (set for aliases, ``npm:real@1``) or else by what follows the
last ``node_modules/``, ``@scope/`` included; ``path`` lists the packages a
nested one is installed under. Keys outside ``node_modules`` are workspace
folders: the project's own packages (``is_subject``) unless they lie outside
the project (``../x``). A ``link`` entry points at one of those folders and
is not read twice; a link whose target has no entry is noted.

npm copies ``license`` from each ``package.json``: a string is kept as
written (``"SEE LICENSE IN x.txt"`` too; the license module decides), located
at ``$.packages["node_modules/x"].license``. The legacy forms
(``{"type": "MIT"}``, ``[{"type": ...}, ...]``, ``licenses``) are read, each
statement separately (so all must be satisfied), with a note. Scope: ``dev``
for ``dev`` and ``devOptional``, ``optional`` for ``optional``, else
``required``.

Version 1 files (npm 5/6) have only the nested ``dependencies`` tree and no
license at all: the tree is walked without recursion, and a note says why
every package will lack a license.
"""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from checker.errors import InputError
from checker.inputs import json_type, load_json
from checker.lockfiles._common import OFF_REGISTRY, guarded, json_key, redact_url, sri_digests
from checker.model import (
    Component,
    EvidenceForm,
    Kind,
    LicenseEvidence,
    Origin,
    ReadResult,
)
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT = "npm-lock"

SUPPORTED_VERSIONS = (1, 2, 3)

_NODE_MODULES = "node_modules/"
_NON_REGISTRY = ("git", "github:", "gitlab:", "bitbucket:", "file:", "link:")


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a package-lock.json into components; only InputError escapes."""
    return guarded(path, "a package-lock.json", lambda: _read(load_json(data, path), path))


def npm_purl(name: str, version: str | None) -> str | None:
    """``pkg:npm/%40scope/name@version`` (scope as namespace), or None if not a name."""
    namespace: str | None = None
    base = name
    if name.startswith("@") and "/" in name:
        namespace, base = name.split("/", 1)
    if not base or (namespace is not None and len(namespace) < 2):
        return None
    try:
        return PackageURL(type="npm", namespace=namespace, name=base, version=version).to_string()
    except ValueError:
        return None


def _read(doc: Any, path: str) -> ReadResult:
    if type(doc) is not dict:
        raise InputError(path, "$", f"is a JSON {json_type(doc)}, expected a package-lock object")
    result = ReadResult(path=path, format=FORMAT)
    notes = Notes(path, result.notes)
    version = doc.get("lockfileVersion")
    if type(version) is int and version not in SUPPORTED_VERSIONS:
        notes.warn(
            "$.lockfileVersion",
            f"lockfileVersion {version} is not one of 1-3 this reader knows; "
            "read on a best-effort basis",
        )
    packages = doc.get("packages")
    if type(packages) is dict:
        _Packages(result, notes).read(packages, doc)
        return result
    if packages is not None:
        raise InputError(path, "$.packages", f"is a JSON {json_type(packages)}, expected an object")
    if "dependencies" in doc or "lockfileVersion" in doc:
        _read_v1(doc, result, notes)
        return result
    raise InputError(
        path,
        "$",
        'has neither "packages" nor "dependencies": not an npm package-lock.json',
    )


class _Packages:
    """Lockfile v2/v3: the flat ``packages`` map."""

    def __init__(self, result: ReadResult, notes: Notes) -> None:
        self.path = result.path
        self.result = result
        self.notes = notes

    def read(self, packages: dict[str, Any], doc: dict[str, Any]) -> None:
        components = self.result.components
        for key, entry in packages.items():
            where = json_key("$.packages", key)
            if type(entry) is not dict:
                self.notes.error(where, f"is a JSON {json_type(entry)}, expected an object")
                continue
            if entry.get("link") is True:
                self.link(key, entry, packages, where)
                continue
            component = self.component(key, entry, where, doc)
            if component is not None:
                components.append(component)

    def component(
        self, key: str, entry: dict[str, Any], where: str, doc: dict[str, Any]
    ) -> Component | None:
        name = entry.get("name")
        cut = key.rfind(_NODE_MODULES)
        installed = key[cut + len(_NODE_MODULES) :] if cut >= 0 else None
        subject = False
        if key == "":
            subject = True
            if type(name) is not str:
                name = doc.get("name")
        elif installed is None:
            # a workspace folder: the project's own code, unless it lies outside
            subject = not key.startswith("../") and key != ".."
            if type(name) is not str:
                name = key.rstrip("/").rsplit("/", 1)[-1]
        elif type(name) is not str:
            name = installed
        if type(name) is not str or not name.strip():
            if subject:
                name = "(root project)" if key == "" else key
            else:
                self.notes.error(where, "entry has no package name; it cannot be checked")
                return None
        name = name.strip()
        version = entry.get("version")
        if type(version) is not str or not version.strip():
            if version is not None:
                self.notes.warn(f"{where}.version", f"is a JSON {json_type(version)}; ignored")
            version = None
        else:
            version = version.strip()
        purl = npm_purl(name, version)
        if purl is None and not subject:
            self.notes.warn(where, f"{name!r} is not an npm package name; no purl built")
        component = Component(
            name=name,
            origin=Origin(self.path, where),
            version=version,
            purl=purl,
            kind=Kind.APPLICATION if subject else Kind.LIBRARY,
            is_subject=subject,
        )
        if not subject:
            component.scope = _scope(entry)
            component.digests = sri_digests(entry.get("integrity"))
            if cut > 0:
                component.path = _parents(key[:cut])
            resolved = entry.get("resolved")
            if type(resolved) is str and resolved.startswith(_NON_REGISTRY):
                self.notes.warn(
                    where,
                    f"{name} is installed from {redact_url(resolved)}, {OFF_REGISTRY}: "
                    "its version does not name a published release",
                )
        _licenses(entry, component, where, self.notes)
        return component

    def link(self, key: str, entry: dict[str, Any], packages: dict[str, Any], where: str) -> None:
        target = entry.get("resolved")
        if type(target) is str and target in packages:
            return  # the target folder has its own entry, read once there
        shown = target if type(target) is str else "?"
        self.notes.warn(
            where,
            f"links to {shown!r}, which has no entry in the lockfile; its license is not checked",
        )


def _parents(prefix: str) -> tuple[str, ...]:
    """Package names a nested install sits under: ``node_modules/a/node_modules/``."""
    names: list[str] = []
    for part in prefix.split(_NODE_MODULES):
        part = part.strip("/")
        if part:
            names.append(part)
    return tuple(names)


def _scope(entry: dict[str, Any]) -> str:
    if entry.get("dev") is True or entry.get("devOptional") is True:
        return "dev"
    if entry.get("optional") is True:
        return "optional"
    return "required"


def _licenses(entry: dict[str, Any], component: Component, where: str, notes: Notes) -> None:
    path = notes.path
    value = entry.get("license")
    key = "license"
    if value is None and "licenses" in entry:
        value, key = entry["licenses"], "licenses"
    if value is None:
        return
    location = f"{where}.{key}"
    if type(value) is str:
        text = value.strip()
        if text:
            component.licenses.append(
                LicenseEvidence(text, Origin(path, location), EvidenceForm.EXPRESSION)
            )
        else:
            notes.warn(location, f"{component.name}: license is empty")
        return
    items = [(value, location)] if type(value) is dict else None
    if type(value) is list:
        items = [(item, f"{location}[{i}]") for i, item in enumerate(value)]
    if items is None:
        notes.warn(location, f"{component.name}: license is a JSON {json_type(value)}; ignored")
        return
    read = 0
    for item, item_location in items:
        statement: Any = item.get("type") if type(item) is dict else item
        if type(statement) is str and statement.strip():
            component.licenses.append(
                LicenseEvidence(statement.strip(), Origin(path, item_location), EvidenceForm.NAME)
            )
            read += 1
    notes.warn(
        location,
        f"{component.name}: legacy license {'list' if type(value) is list else 'object'} "
        f"(deprecated in package.json); {read} statement{'s' if read != 1 else ''} read"
        + ("; all must be satisfied" if read > 1 else ""),
    )


# --------------------------------------------------------------------------- v1


def _read_v1(doc: dict[str, Any], result: ReadResult, notes: Notes) -> None:
    path = notes.path
    """The nested ``dependencies`` tree of lockfile v1, walked with a stack."""
    top = doc.get("dependencies")
    if top:
        notes.warn(
            "$.dependencies",
            "only the lockfile v1 (npm 5/6) dependency tree is present, and it carries "
            "no licenses: every package will show as unknown; regenerate the lock with "
            "npm 7 or later (lockfileVersion 2 or 3)",
        )
    root_name = doc.get("name")
    root_version = doc.get("version")
    if type(root_name) is str and root_name.strip():
        version = root_version.strip() if type(root_version) is str else None
        result.components.append(
            Component(
                name=root_name.strip(),
                origin=Origin(path, "$"),
                version=version or None,
                purl=npm_purl(root_name.strip(), version or None),
                kind=Kind.APPLICATION,
                is_subject=True,
            )
        )
    if top is None:
        return
    stack: list[tuple[Any, str, tuple[str, ...]]] = [(top, "$.dependencies", ())]
    while stack:
        dependencies, base, parents = stack.pop()
        if type(dependencies) is not dict:
            notes.error(base, f"is a JSON {json_type(dependencies)}, expected an object")
            continue
        found: list[tuple[Any, str, tuple[str, ...]]] = []
        for name, entry in dependencies.items():
            where = json_key(base, name)
            if type(entry) is not dict:
                notes.error(where, f"is a JSON {json_type(entry)}")
                continue
            component = _v1_component(str(name), entry, where, notes)
            if component is None:
                continue
            component.path = parents
            result.components.append(component)
            nested = entry.get("dependencies")
            if nested is not None:
                found.append((nested, f"{where}.dependencies", (*parents, component.name)))
        stack.extend(reversed(found))


def _v1_component(name: str, entry: dict[str, Any], where: str, notes: Notes) -> Component | None:
    name = name.strip()
    if not name:
        notes.error(where, "entry has no package name")
        return None
    raw = entry.get("version")
    version = raw.strip() if type(raw) is str and raw.strip() else None
    if version is not None and version.startswith("npm:"):
        # an alias: "npm:real-name@1.2.3"
        alias = version[4:]
        at = alias.rfind("@")
        if at > 0:
            name, version = alias[:at], alias[at + 1 :] or None
    elif version is not None and (version.startswith(_NON_REGISTRY) or "/" in version):
        notes.warn(
            where,
            f"{name} is installed from {redact_url(version)}, {OFF_REGISTRY}: no version to match",
        )
        version = None
    purl = npm_purl(name, version)
    if purl is None:
        notes.warn(where, f"{name!r} is not an npm package name; no purl")
    scope = _scope(entry)
    return Component(
        name=name,
        origin=Origin(notes.path, where),
        version=version,
        purl=purl,
        kind=Kind.LIBRARY,
        scope=scope,
        digests=sri_digests(entry.get("integrity")),
    )
