"""Packaged Helm charts (``.tgz``), read in memory under limits, never extracted.

See :mod:`checker.artifacts.helm` for what is read. A ``.tgz`` is a package
when it sits in a ``charts/`` folder or its first member is
``NAME/Chart.yaml`` (:func:`sniff`).
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from checker.artifacts.helm.chart import (
    ChartMeta,
    Dependency,
    ParentContext,
    chart_component,
    chart_label,
    dependency_component,
    folder_context,
    parse_chart,
    parse_dependencies,
    parse_lock,
    placement,
    root_mapping,
    wrap,
)
from checker.artifacts.helm.registry import default_registry
from checker.artifacts.imagescan import (
    ScanOptions,
    global_registry,
    hit_results,
    overlay,
    scan,
    values_image_key,
)
from checker.errors import InputError
from checker.model import ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.yamldocs import YMap, load

FORMAT_PACKAGE = "helm-package"

#: Members one archive may hold (a real chart has tens to a few hundred).
MAX_MEMBERS = 1000
#: Bytes of member files one archive may hold.
MAX_UNPACKED = 50 * 1024 * 1024
#: Bytes one gzip stream may decompress to (files plus tar headers).
MAX_STREAM = 64 * 1024 * 1024
#: Bytes all archives of one package, nested ones included, may decompress to.
MAX_TOTAL = 128 * 1024 * 1024
#: Levels of ``charts/*.tgz`` inside ``charts/*.tgz``.
MAX_NESTING = 5

_CHART_FILES = frozenset(
    {"Chart.yaml", "values.yaml", "Chart.lock", "requirements.yaml", "requirements.lock"}
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHART_MEMBER = re.compile(r"^(?:\./)?[^/]+/Chart\.yaml$")


def sniff(path: Path, head: bytes) -> bool:
    """A ``.tgz`` in a ``charts/`` folder, or one whose first member is ``NAME/Chart.yaml``."""
    return path.parent.name == "charts" or is_chart_archive(head)


def read_source(source: Source) -> ReadResult:
    """A package, placed by its parent chart's Chart.lock and Chart.yaml when in ``charts/``."""
    path = source.path
    in_charts = path.parent.name == "charts"
    context = folder_context(path.parent.parent, source.scope) if in_charts else None
    return read_package(source.data, source.name, context)


def _tar_names(raw: bytes) -> list[str]:
    """Member names of the first tar headers in ``raw`` (long-name records followed)."""
    names: list[str] = []
    offset = 0
    pending: str | None = None
    while offset + 512 <= len(raw) and len(names) < 3:
        header = raw[offset : offset + 512]
        if not header.strip(b"\0"):
            break
        name = header[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
        if header[257:262] == b"ustar":
            prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
            if prefix:
                name = f"{prefix}/{name}"
        flag = header[156:157]
        try:
            size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        except ValueError:
            break
        body = raw[offset + 512 : offset + 512 + size]
        offset += 512 + (size + 511) // 512 * 512
        if flag == b"L":  # GNU long name for the next member
            pending = body.split(b"\0", 1)[0].decode("utf-8", "replace")
            continue
        if flag in (b"x", b"g"):  # PAX header: look for a path record
            match = re.search(rb"\d+ path=([^\n]*)\n", body)
            if match and flag == b"x":
                pending = match[1].decode("utf-8", "replace")
            continue
        names.append(pending or name)
        pending = None
    return names


def is_chart_archive(head: bytes) -> bool:
    """Whether gzip-compressed bytes start a tar whose first member is NAME/Chart.yaml."""
    if head[:2] != b"\x1f\x8b":
        return False
    try:
        raw = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(head, 64 * 1024)
    except zlib.error:
        return False
    names = _tar_names(raw)
    return bool(names) and _CHART_MEMBER.match(names[0]) is not None


@dataclass(slots=True)
class _Budget:
    streams: int = 0
    members: int = 0


def _check_member_name(name: str, source: str) -> None:
    if not name or "\x00" in name:
        raise InputError(source, repr(name), "has a member without a usable name")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise InputError(source, name, "has a member with an absolute path; refusing the package")
    if ".." in re.split(r"[\\/]+", name):
        raise InputError(
            source, name, "has a member whose path leaves the chart folder (..); refusing it"
        )


def _wanted(rel: str) -> bool:
    parts = rel.split("/")
    if parts[-1] in _CHART_FILES:
        return True
    return rel.endswith(".tgz") and len(parts) >= 2 and parts[-2] == "charts"


def _decompress(data: bytes, source: str, budget: _Budget) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                raw = stream.read(MAX_STREAM + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(source, "", f"is not a readable gzip archive ({exc})") from None
        if len(raw) > MAX_STREAM:
            raise InputError(
                source,
                "",
                f"unpacks to more than {MAX_STREAM:,} bytes (a gzip bomb?); refusing it",
            )
    elif data[257:262] == b"ustar":
        raw = data
    else:
        raise InputError(
            source, "", "is not a Helm package (expected a gzip-compressed tar archive)"
        )
    budget.streams += len(raw)
    if budget.streams > MAX_TOTAL:
        raise InputError(
            source,
            "",
            f"with its nested charts unpacks to more than {MAX_TOTAL:,} bytes; refusing it",
        )
    return raw


def _unpack(data: bytes, source: str, budget: _Budget) -> tuple[str, dict[str, bytes]]:
    """(chart folder, chart files by path inside it) of one archive, checked."""
    raw = _decompress(data, source, budget)
    files: dict[str, bytes] = {}
    top: str | None = None
    total = 0
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            while True:
                try:
                    member = archive.next()
                except tarfile.TarError as exc:
                    raise InputError(source, f"member {count + 1}", f"is corrupt ({exc})") from None
                if member is None:
                    break
                count += 1
                budget.members += 1
                if count > MAX_MEMBERS or budget.members > MAX_MEMBERS * MAX_NESTING:
                    raise InputError(
                        source, "", f"has more than {MAX_MEMBERS:,} members; refusing the package"
                    )
                name = member.name
                _check_member_name(name, source)
                if member.issym() or member.islnk():
                    raise InputError(
                        source, name, "is a link; a Helm package holds only files and folders"
                    )
                if member.isdir():
                    continue
                if not member.isreg():
                    raise InputError(
                        source, name, "is a device or FIFO; a Helm package holds only files"
                    )
                total += member.size
                if total > MAX_UNPACKED:
                    raise InputError(
                        source,
                        name,
                        f"takes the package over {MAX_UNPACKED:,} unpacked bytes; refusing it",
                    )
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if len(parts) < 2:
                    if parts and parts[-1] == "Chart.yaml":
                        raise InputError(source, name, "Chart.yaml is not inside a chart folder")
                    continue
                if top is None:
                    top = parts[0]
                rel = "/".join(parts[1:])
                if not _wanted(rel):
                    continue
                handle = archive.extractfile(member)
                files[rel] = handle.read(member.size) if handle is not None else b""
    except tarfile.TarError as exc:
        raise InputError(source, "", f"is not a readable tar archive ({exc})") from None
    if top is None or "Chart.yaml" not in files:
        raise InputError(source, "", "has no CHART/Chart.yaml; not a Helm package")
    return top, files


class _PackageReader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=FORMAT_PACKAGE)
        self.notes = Notes(path, self.result.notes)
        self.budget = _Budget()

    def read(self, data: bytes, context: ParentContext | None) -> ReadResult:
        top, files = _unpack(data, self.path, self.budget)
        archive = _Archive(self.path, top, files)
        meta = self.meta(archive, "")
        prefix, repository, subject = placement(meta.name, context)
        self.chart(archive, "", meta, prefix, repository, None, None, subject, 0)
        return self.result

    def meta(self, archive: _Archive, base: str) -> ChartMeta:
        source = archive.member(base + "Chart.yaml")
        meta = parse_chart(archive.files[base + "Chart.yaml"], source)
        if meta is None:
            raise InputError(source, "line 1", "is a template, not a Chart.yaml")
        self.notes.items.extend(meta.notes)
        return meta

    def chart(
        self,
        archive: _Archive,
        base: str,
        meta: ChartMeta,
        prefix: tuple[str, ...],
        repository: str | None,
        overrides: YMap | None,
        parent_global: YMap | None,
        subject: bool,
        depth: int,
    ) -> None:
        if depth > MAX_NESTING:
            raise InputError(
                archive.member(base + "Chart.yaml"),
                "",
                f"nests charts more than {MAX_NESTING} levels deep; refusing the package",
            )
        components = self.result.components
        components.append(chart_component(meta, prefix, repository, subject=subject))
        here = (*prefix, chart_label(meta.name, repository))

        declared = list(meta.dependencies)
        if base + "requirements.yaml" in archive.files:
            source = archive.member(base + "requirements.yaml")
            root, notes = root_mapping(
                archive.files[base + "requirements.yaml"], source, "requirements.yaml"
            )
            self.notes.items.extend(notes)
            if root is not None:
                declared.extend(parse_dependencies(root, self.notes.about(source)))
        locked: list[Dependency] = []
        for lock_name in ("Chart.lock", "requirements.lock"):
            if base + lock_name in archive.files:
                deps, notes = parse_lock(
                    archive.files[base + lock_name], archive.member(base + lock_name)
                )
                self.notes.items.extend(notes)
                locked.extend(deps)

        values = self.values(archive, base)
        if overrides is not None:
            values = overlay(values, overrides)
        if parent_global is not None:
            # Helm coalesces a parent's globals into every subchart's `global`.
            current = values.get("global")
            own = current if isinstance(current, YMap) else YMap(values.line, values.source)
            values["global"] = overlay(own, parent_global)
            values.lines.setdefault("global", parent_global.line)

        subcharts = self.subcharts(archive, base, depth)
        present: set[str] = set()
        skip: set[str] = set()
        plans: list[tuple[_Archive, str, ChartMeta, str | None, str]] = []
        for sub_archive, sub_base, sub_meta in subcharts:
            dep = _find(locked, sub_meta.name) or _find(declared, sub_meta.name)
            alias_dep = _find(declared, sub_meta.name)
            key = (alias_dep.alias if alias_dep and alias_dep.alias else None) or sub_meta.name
            present.add(sub_meta.name)
            skip.add(key)
            sub_repository = dep.repository if dep is not None else None
            if sub_repository is None and alias_dep is not None:
                sub_repository = alias_dep.repository
            plans.append((sub_archive, sub_base, sub_meta, sub_repository, key))

        options = ScanOptions(
            image_key=values_image_key,
            note_invalid=True,
            global_registry=global_registry(values),
            default_registry=default_registry(values, self.notes),
            app_version=meta.app_version,
            skip=frozenset(skip),
        )
        hits = scan(values, options)
        seen = {str(h.image) for h in hits if h.image is not None}
        hits.extend(h for h in meta.images if h.image is None or str(h.image) not in seen)
        components.extend(hit_results(hits, here, self.notes))

        aliases = {d.name: d.alias for d in declared if d.alias}
        for dep in locked or declared:
            if dep.name in present:
                continue
            if dep.alias is None and dep.name in aliases:
                dep.alias = aliases[dep.name]  # a lock does not repeat Chart.yaml's alias
            components.append(dependency_component(dep, here, self.notes))

        parent_globals = values.get("global")
        for sub_archive, sub_base, sub_meta, sub_repository, key in plans:
            section = values.get(key)
            self.chart(
                sub_archive,
                sub_base,
                sub_meta,
                here,
                sub_repository,
                section if isinstance(section, YMap) else None,
                parent_globals if isinstance(parent_globals, YMap) else None,
                False,
                depth + 1,
            )

    def values(self, archive: _Archive, base: str) -> YMap:
        name = base + "values.yaml"
        source = archive.member(name)
        if name not in archive.files:
            return YMap(1, source)
        loaded = load(archive.files[name], source)
        self.notes.items.extend(loaded.notes)
        roots = [d for d in loaded.documents if d.root is not None]
        if not roots:
            return YMap(1, source)
        root = roots[0].root
        if not isinstance(root, YMap):
            raise InputError(
                source, f"line {roots[0].line}", "is not a Helm values file: expected a mapping"
            )
        return root

    def subcharts(
        self, archive: _Archive, base: str, depth: int
    ) -> list[tuple[_Archive, str, ChartMeta]]:
        """Subcharts under ``charts/``: packaged (``.tgz``) and unpacked folders."""
        found: list[tuple[_Archive, str, ChartMeta]] = []
        folder = base + "charts/"
        folders: set[str] = set()
        for rel in sorted(archive.files):
            if not rel.startswith(folder):
                continue
            rest = rel[len(folder) :]
            if "/" not in rest:
                if rest.endswith(".tgz"):
                    if depth + 1 > MAX_NESTING:
                        raise InputError(
                            archive.member(rel),
                            "",
                            f"nests charts more than {MAX_NESTING} levels deep; refusing it",
                        )
                    source = archive.member(rel)
                    top, files = _unpack(archive.files[rel], source, self.budget)
                    nested = _Archive(source, top, files)
                    found.append((nested, "", self.meta(nested, "")))
                continue
            sub = rest.split("/", 1)[0]
            if sub not in folders and f"{folder}{sub}/Chart.yaml" in archive.files:
                folders.add(sub)
                sub_base = f"{folder}{sub}/"
                found.append((archive, sub_base, self.meta(archive, sub_base)))
        return found


@dataclass(slots=True)
class _Archive:
    """One unpacked archive: where it is and its chart files."""

    path: str
    top: str
    files: dict[str, bytes]

    def member(self, rel: str) -> str:
        return f"{self.path}!/{self.top}/{rel}"


def _find(deps: list[Dependency], name: str) -> Dependency | None:
    for dep in deps:
        if dep.name == name:
            return dep
    return None


def read_package(data: bytes, path: str, context: ParentContext | None = None) -> ReadResult:
    """Read a packaged chart (``.tgz``) safely; see the module notes."""
    try:
        return _PackageReader(path).read(data, context)
    except Exception as exc:  # the promise: only InputError leaves a reader
        raise wrap(path, "a Helm package", exc) from None
