"""Helm charts: ``Chart.yaml``, ``Chart.lock`` and packaged charts (``.tgz``).

A chart is a component and so is everything it pulls in: its dependency
charts and the images it deploys. Each is reported with the path that leads
to it, so a finding reads ``Chart.lock -> postgresql (oci://...) ->
docker.io/bitnami/postgresql:16`` rather than naming an image out of nowhere.

``Chart.yaml`` (``helm-chart``)
    The chart itself (``Kind.CHART``, ``is_subject``: it is what was scanned),
    with the chart license from ``annotations.licenses`` (Bitnami) or
    ``annotations["artifacthub.io/license"]``; every ``dependencies`` entry
    (name, version constraint, repository; an alias is noted); every image of
    ``annotations.images`` / ``annotations["artifacthub.io/images"]`` (a YAML
    list of ``{name, image}`` held in a string). Dependencies and images get
    ``path=(chart name,)``. ``apiVersion: v1`` charts and a missing
    ``appVersion`` are read the same way.

``Chart.lock`` (``helm-chart-lock``)
    The resolved dependencies (exact version and repository), with
    ``path=("Chart.lock",)``.

Packaged charts (``helm-package``)
    Read in memory, never extracted, with :mod:`tarfile` under limits: gzip
    is decompressed in bounded reads (at most :data:`MAX_STREAM` bytes), an
    archive may hold :data:`MAX_MEMBERS` members and :data:`MAX_UNPACKED`
    bytes of files, only regular files and folders are allowed (a link, a
    device, an absolute path or a ``..`` component refuses the package), and
    nested ``charts/*.tgz`` are read to :data:`MAX_NESTING` levels. The chart,
    its locked or declared dependencies, its values images (values of a parent
    chart override a subchart's, as Helm coalesces them, including
    ``global``), its annotation images and its subcharts are reported; every
    component inside a package has a path starting with the package's chart
    label (``name`` or ``name (repository)``). Files are named
    ``package.tgz!/chart/values.yaml`` in origins.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from checker.artifacts.values import (
    Hit,
    ScanOptions,
    global_registry,
    hit_results,
    overlay,
    scan,
    values_image_key,
)
from checker.errors import InputError
from checker.images import parse_image, unresolved_message
from checker.model import Component, EvidenceForm, Kind, LicenseEvidence, Note, Origin, ReadResult
from checker.yamldocs import YMap, YSeq, load

FORMAT_CHART = "helm-chart"
FORMAT_LOCK = "helm-chart-lock"
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
_LICENSE_KEYS = ("licenses", "artifacthub.io/license")
_IMAGES_KEYS = ("images", "artifacthub.io/images")


# --------------------------------------------------------------------------- metadata


@dataclass(slots=True)
class Dependency:
    """One ``dependencies`` entry of Chart.yaml, requirements.yaml or a lock."""

    name: str
    version: str | None
    repository: str | None
    alias: str | None
    origin: Origin


@dataclass(slots=True)
class ChartMeta:
    """What Chart.yaml says about a chart."""

    name: str
    version: str | None
    app_version: str | None
    api_version: str | None
    origin: Origin
    licenses: list[LicenseEvidence] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    images: list[Hit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: Where the chart says it comes from (``sources[0]``, else ``home``).
    #: A Chart.yaml read on its own has no repository, yet "the Bitnami
    #: postgresql chart" must still be recognised as Bitnami's.
    publisher: str | None = None


def _root_mapping(data: bytes, source: str, what: str) -> tuple[YMap | None, list[Note]]:
    loaded = load(data, source)
    if loaded.template:
        return None, loaded.notes
    roots = [d for d in loaded.documents if d.root is not None]
    if not roots:
        raise InputError(source, "line 1", f"is empty; expected a Helm {what}")
    first = roots[0]
    if not isinstance(first.root, YMap):
        raise InputError(source, f"line {first.line}", f"is not a Helm {what}: expected a mapping")
    return first.root, loaded.notes


def parse_chart(data: bytes, source: str) -> ChartMeta | None:
    """Read Chart.yaml; None (with the notes lost) only for a template file."""
    root, notes = _root_mapping(data, source, "Chart.yaml")
    if root is None:
        return None
    name = (root.text("name") or "").strip()
    if not name:
        raise InputError(
            source,
            f"line {root.line}",
            "has no chart `name`; a Helm Chart.yaml names its chart (and its version)",
        )
    version = (root.text("version") or "").strip() or None
    meta = ChartMeta(
        name=name,
        version=version,
        app_version=(root.text("appVersion") or "").strip() or None,
        api_version=(root.text("apiVersion") or "").strip() or None,
        origin=Origin(source, f"line {root.key_line('name')}"),
        notes=list(notes),
    )
    sources = root.get("sources")
    first_source = sources.text(0) if isinstance(sources, YSeq) and len(sources) else None
    meta.publisher = (first_source or root.text("home") or "").strip() or None
    if version is None:
        meta.notes.append(Note(meta.origin, f"chart {name!r} has no `version`"))
    annotations = root.get("annotations")
    if isinstance(annotations, YMap):
        _chart_licenses(meta, annotations, source)
        for key in _IMAGES_KEYS:
            if annotations.text(key) is not None:
                _annotation_images(meta, annotations, key, source)
    meta.dependencies = parse_dependencies(root, source, meta.notes)
    return meta


def _chart_licenses(meta: ChartMeta, annotations: YMap, source: str) -> None:
    seen: set[str] = set()
    for key in _LICENSE_KEYS:
        text = (annotations.text(key) or "").strip()
        if text and text not in seen:
            seen.add(text)
            origin = Origin(source, f"line {annotations.key_line(key)}")
            meta.licenses.append(LicenseEvidence(text, origin, form=EvidenceForm.EXPRESSION))


def _annotation_images(meta: ChartMeta, annotations: YMap, key: str, source: str) -> None:
    """``annotations.images``: a YAML list of ``{name, image}`` inside a string."""
    text = annotations.text(key) or ""
    info = annotations.info.get(key)
    key_line = annotations.key_line(key)
    # A block scalar's text starts on the line after its indicator.
    offset = info.line if info is not None and info.style in ("|", ">") else key_line - 1
    where = Origin(source, f"line {key_line}")
    try:
        loaded = load(text, source, line_offset=offset)
    except InputError as exc:
        meta.notes.append(
            Note(where, f"annotations.{key} is not a YAML list ({exc.problem.message}); ignored")
        )
        return
    meta.notes.extend(loaded.notes)
    for document in loaded.documents:
        items = document.root
        if items is None:
            continue
        if not isinstance(items, YSeq):
            meta.notes.append(
                Note(where, f"annotations.{key} is not a list of {{name, image}}; ignored")
            )
            continue
        for index, item in enumerate(items):
            line = items.item_line(index)
            reference = item.text("image") if isinstance(item, YMap) else None
            if reference is None:
                meta.notes.append(
                    Note(Origin(source, f"line {line}"), f"annotations.{key} entry has no image")
                )
                continue
            if isinstance(item, YMap):
                line = item.key_line("image")
            image = parse_image(reference)
            label = f"annotations.{key}[{index}]"
            note = None if image is not None else unresolved_message(label, reference)
            meta.images.append(Hit((key, index), source, line, image, note))


def parse_dependencies(root: YMap, source: str, notes: list[Note]) -> list[Dependency]:
    """The ``dependencies`` list of a Chart.yaml, requirements.yaml or lock."""
    entries = root.get("dependencies")
    if entries is None:
        return []
    if not isinstance(entries, YSeq):
        notes.append(
            Note(
                Origin(source, f"line {root.key_line('dependencies')}"),
                "`dependencies` is not a list; ignored",
            )
        )
        return []
    found: list[Dependency] = []
    for index, entry in enumerate(entries):
        origin = Origin(source, f"line {entries.item_line(index)}")
        name = (entry.text("name") or "").strip() if isinstance(entry, YMap) else ""
        if not isinstance(entry, YMap) or not name:
            notes.append(Note(origin, "dependency entry without a `name`; skipped"))
            continue
        found.append(
            Dependency(
                name=name,
                version=(entry.text("version") or "").strip() or None,
                repository=(entry.text("repository") or "").strip() or None,
                alias=(entry.text("alias") or "").strip() or None,
                origin=origin,
            )
        )
    return found


def parse_lock(data: bytes, source: str) -> tuple[list[Dependency], list[Note]]:
    root, notes = _root_mapping(data, source, "Chart.lock")
    if root is None:
        return [], notes
    notes = list(notes)
    return parse_dependencies(root, source, notes), notes


# --------------------------------------------------------------------------- components


def chart_label(name: str, repository: str | None) -> str:
    """How a chart appears in a dependency path: ``name`` or ``name (repository)``."""
    return f"{name} ({repository})" if repository else name


def chart_component(
    meta: ChartMeta, path: tuple[str, ...], repository: str | None, *, subject: bool
) -> Component:
    return Component(
        name=meta.name,
        origin=meta.origin,
        version=meta.version,
        kind=Kind.CHART,
        licenses=list(meta.licenses),
        chart_repository=repository,
        is_subject=subject,
        path=path,
    )


def dependency_component(dep: Dependency, path: tuple[str, ...], notes: list[Note]) -> Component:
    if dep.alias and dep.alias != dep.name:
        notes.append(
            Note(
                dep.origin,
                f"dependency {dep.name!r} ({dep.repository or 'no repository'}) is installed "
                f"under the alias {dep.alias!r}",
            )
        )
    return Component(
        name=dep.name,
        origin=dep.origin,
        version=dep.version,
        kind=Kind.CHART,
        chart_repository=dep.repository,
        path=path,
    )


def _wrap(path: str, what: str, exc: Exception) -> InputError:
    if isinstance(exc, InputError):
        return exc
    if isinstance(exc, RecursionError):
        return InputError(path, "", "nests too deeply to read")
    return InputError(path, "", f"could not be read as {what} ({type(exc).__name__}: {exc})")


def read_chart(data: bytes, path: str, context: ParentContext | None = None) -> ReadResult:
    """Read a ``Chart.yaml``: the chart, its dependencies and annotation images.

    ``context`` describes the parent chart when this one is an unpacked
    subchart (``charts/NAME/Chart.yaml``).
    """
    try:
        return _read_chart(data, path, context)
    except Exception as exc:  # the promise: only InputError leaves a reader
        raise _wrap(path, "a Helm Chart.yaml", exc) from None


def _read_chart(data: bytes, path: str, context: ParentContext | None) -> ReadResult:
    result = ReadResult(path=path, format=FORMAT_CHART)
    meta = parse_chart(data, path)
    if meta is None:
        result.notes.extend(load(data, path).notes)
        return result
    result.notes.extend(meta.notes)
    prefix, repository, subject = placement(meta.name, context)
    result.components.append(
        chart_component(meta, prefix, repository or meta.publisher, subject=subject)
    )
    here = (*prefix, chart_label(meta.name, repository))
    for dep in meta.dependencies:
        result.components.append(dependency_component(dep, here, result.notes))
    result.components.extend(hit_results(meta.images, here, result.notes))
    return result


def read_lock(data: bytes, path: str) -> ReadResult:
    """Read a ``Chart.lock``: the exact dependency versions and their repositories."""
    try:
        result = ReadResult(path=path, format=FORMAT_LOCK)
        deps, notes = parse_lock(data, path)
        result.notes.extend(notes)
        here = (PurePosixPath(path.replace("\\", "/")).name or "Chart.lock",)
        for dep in deps:
            result.components.append(dependency_component(dep, here, result.notes))
            if dep.version is None:
                result.notes.append(
                    Note(dep.origin, f"locked dependency {dep.name!r} has no version")
                )
        return result
    except Exception as exc:  # the promise: only InputError leaves a reader
        raise _wrap(path, "a Helm Chart.lock", exc) from None


# --------------------------------------------------------------------------- packages


@dataclass(slots=True)
class ParentContext:
    """What the chart folder around a ``charts/*.tgz`` says about it.

    ``locked``/``declared`` map dependency names to repositories, from the
    sibling ``Chart.lock`` and ``Chart.yaml``; ``parent`` is the name of the
    chart that declares them.
    """

    locked: dict[str, str | None] = field(default_factory=dict)
    declared: dict[str, str | None] = field(default_factory=dict)
    parent: str | None = None


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


def placement(name: str, context: ParentContext | None) -> tuple[tuple[str, ...], str | None, bool]:
    """(path prefix, repository, is subject) of chart ``name`` inside ``context``.

    A chart its parent's Chart.lock names is reached through ``Chart.lock``;
    one only the parent's Chart.yaml declares, through the parent chart.
    """
    if context is not None:
        if name in context.locked:
            return ("Chart.lock",), context.locked[name], False
        if name in context.declared:
            return (context.parent or "Chart.yaml",), context.declared[name], False
    return (), None, True


class _PackageReader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=FORMAT_PACKAGE)
        self.notes = self.result.notes
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
        self.notes.extend(meta.notes)
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
            root, notes = _root_mapping(
                archive.files[base + "requirements.yaml"], source, "requirements.yaml"
            )
            self.notes.extend(notes)
            if root is not None:
                declared.extend(parse_dependencies(root, source, self.notes))
        locked: list[Dependency] = []
        for lock_name in ("Chart.lock", "requirements.lock"):
            if base + lock_name in archive.files:
                deps, notes = parse_lock(
                    archive.files[base + lock_name], archive.member(base + lock_name)
                )
                self.notes.extend(notes)
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
        self.notes.extend(loaded.notes)
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


def _single(key: str, value: YMap, origin_of: YMap) -> YMap:
    holder = YMap(origin_of.line, origin_of.source)
    holder[key] = value
    holder.lines[key] = origin_of.line
    return holder


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
        raise _wrap(path, "a Helm package", exc) from None


def parent_context(
    chart_lock: bytes | None, chart_yaml: bytes | None, folder: str
) -> ParentContext:
    """What a chart folder's Chart.lock and Chart.yaml say about its ``charts/``.

    Unreadable files only mean less context: errors are swallowed here.
    """
    context = ParentContext()
    if chart_lock is not None:
        try:
            deps, _ = parse_lock(chart_lock, f"{folder}/Chart.lock")
            context.locked = {d.name: d.repository for d in deps}
        except Exception:  # context is optional; the lock is read on its own anyway
            pass
    if chart_yaml is not None:
        try:
            meta = parse_chart(chart_yaml, f"{folder}/Chart.yaml")
            if meta is not None:
                context.parent = meta.name
                context.declared = {d.name: d.repository for d in meta.dependencies}
        except Exception:  # same: Chart.yaml is read on its own anyway
            pass
    return context


def read(data: bytes, path: str) -> ReadResult:
    """Read any Helm file, chosen by its name (Chart.lock, *.tgz, else Chart.yaml)."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if name.endswith(".tgz"):
        return read_package(data, path)
    if name in ("Chart.lock", "requirements.lock"):
        return read_lock(data, path)
    return read_chart(data, path)
