"""Helm ``Chart.yaml``: the chart, its dependencies and its annotation images.

Also what every Helm reader takes from a chart's metadata: ``Chart.yaml``
and ``Chart.lock`` parsing (:func:`parse_chart`, :func:`parse_lock`), the
chart and dependency components, and the context the chart folder around a
file gives it (:class:`ParentContext`, :func:`placement`). See
:mod:`checker.artifacts.helm` for what is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from checker.artifacts.imagescan import Hit, hit_results
from checker.errors import InputError
from checker.images import parse_image, unresolved_message
from checker.model import Component, EvidenceForm, Kind, LicenseEvidence, Note, Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.scope import Scope
from checker.yamldocs import YMap, YSeq, load

FORMAT_CHART = "helm-chart"

_LICENSE_KEYS = ("licenses", "artifacthub.io/license")
_IMAGES_KEYS = ("images", "artifacthub.io/images")


def read_source(source: Source) -> ReadResult:
    """A Chart.yaml, placed in its parent chart when it is ``PARENT/charts/NAME/Chart.yaml``.

    The ``Chart.lock`` beside it (if any) gives its dependencies their
    locked versions: see :func:`lock_dependencies`.
    """
    folder = source.path.parent
    lock = source.scope.small_file(folder / "Chart.lock", _MAX_CONTEXT_BYTES)
    return read_chart(
        source.data,
        source.name,
        subchart_context(folder, source.scope),
        lock=lock,
        lock_path=str(folder / "Chart.lock") if lock is not None else None,
    )


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


def root_mapping(data: bytes, source: str, what: str) -> tuple[YMap | None, list[Note]]:
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
    root, notes = root_mapping(data, source, "Chart.yaml")
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
    found = Notes(source, meta.notes)
    sources = root.get("sources")
    first_source = sources.text(0) if isinstance(sources, YSeq) and len(sources) else None
    meta.publisher = (first_source or root.text("home") or "").strip() or None
    if version is None:
        found.at(meta.origin, f"chart {name!r} has no `version`")
    annotations = root.get("annotations")
    if isinstance(annotations, YMap):
        _chart_licenses(meta, annotations, source)
        for key in _IMAGES_KEYS:
            if annotations.text(key) is not None:
                _annotation_images(meta, annotations, key, source)
    meta.dependencies = parse_dependencies(root, found)
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
    notes = Notes(source, meta.notes)
    try:
        loaded = load(text, source, line_offset=offset)
    except InputError as exc:
        notes.at(where, f"annotations.{key} is not a YAML list ({exc.problem.message}); ignored")
        return
    meta.notes.extend(loaded.notes)
    for document in loaded.documents:
        items = document.root
        if items is None:
            continue
        if not isinstance(items, YSeq):
            notes.at(where, f"annotations.{key} is not a list of {{name, image}}; ignored")
            continue
        for index, item in enumerate(items):
            line = items.item_line(index)
            reference = item.text("image") if isinstance(item, YMap) else None
            if reference is None:
                notes.warn(f"line {line}", f"annotations.{key} entry has no image")
                continue
            if isinstance(item, YMap):
                line = item.key_line("image")
            image = parse_image(reference)
            label = f"annotations.{key}[{index}]"
            note = None if image is not None else unresolved_message(label, reference)
            meta.images.append(Hit((key, index), source, line, image, note))


def parse_dependencies(root: YMap, notes: Notes) -> list[Dependency]:
    """The ``dependencies`` list of a Chart.yaml, requirements.yaml or lock (``notes.path``)."""
    source = notes.path
    entries = root.get("dependencies")
    if entries is None:
        return []
    if not isinstance(entries, YSeq):
        notes.warn(f"line {root.key_line('dependencies')}", "`dependencies` is not a list; ignored")
        return []
    found: list[Dependency] = []
    for index, entry in enumerate(entries):
        origin = Origin(source, f"line {entries.item_line(index)}")
        name = (entry.text("name") or "").strip() if isinstance(entry, YMap) else ""
        if not isinstance(entry, YMap) or not name:
            notes.at(origin, "dependency entry without a `name`; skipped")
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
    root, notes = root_mapping(data, source, "Chart.lock")
    if root is None:
        return [], notes
    notes = list(notes)
    return parse_dependencies(root, Notes(source, notes)), notes


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


def dependency_component(dep: Dependency, path: tuple[str, ...], notes: Notes) -> Component:
    if dep.alias and dep.alias != dep.name:
        notes.at(
            dep.origin,
            f"dependency {dep.name!r} ({dep.repository or 'no repository'}) is installed "
            f"under the alias {dep.alias!r}",
        )
    return Component(
        name=dep.name,
        origin=dep.origin,
        version=dep.version,
        kind=Kind.CHART,
        chart_repository=dep.repository,
        path=path,
    )


def wrap(path: str, what: str, exc: Exception) -> InputError:
    if isinstance(exc, InputError):
        return exc
    if isinstance(exc, RecursionError):
        return InputError(path, "", "nests too deeply to read")
    return InputError(path, "", f"could not be read as {what} ({type(exc).__name__}: {exc})")


def read_chart(
    data: bytes,
    path: str,
    context: ParentContext | None = None,
    *,
    lock: bytes | None = None,
    lock_path: str | None = None,
) -> ReadResult:
    """Read a ``Chart.yaml``: the chart, its dependencies and annotation images.

    ``context`` describes the parent chart when this one is an unpacked
    subchart (``charts/NAME/Chart.yaml``); ``lock`` is the ``Chart.lock``
    beside it (named ``lock_path``), whose versions the dependencies take.
    """
    try:
        return _read_chart(data, path, context, lock, lock_path or "Chart.lock")
    except Exception as exc:  # the promise: only InputError leaves a reader
        raise wrap(path, "a Helm Chart.yaml", exc) from None


def _read_chart(
    data: bytes, path: str, context: ParentContext | None, lock: bytes | None, lock_path: str
) -> ReadResult:
    result = ReadResult(path=path, format=FORMAT_CHART)
    notes = Notes(path, result.notes)
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
    dependencies = meta.dependencies
    if lock is not None and dependencies:
        dependencies = lock_dependencies(dependencies, lock, lock_path, notes)
    for dep in dependencies:
        result.components.append(dependency_component(dep, here, notes))
    result.components.extend(hit_results(meta.images, here, notes))
    return result


_STALE = "the lock is stale (run `helm dependency update`)"


def lock_dependencies(
    declared: list[Dependency], lock: bytes, lock_path: str, notes: Notes
) -> list[Dependency]:
    """Chart.yaml's dependencies with the versions the Chart.lock beside it pins.

    Helm installs what the lock pins, not the range Chart.yaml declares
    (``postgresql: 16.x.x`` is ``16.7.24`` once locked), and a folder scan
    reads both files: a dependency reported at its range and at its locked
    version would be two releases, two findings. With the locked version
    Chart.yaml's entry and the lock's are one release, which the run groups
    into one finding listing both places (:mod:`checker.identity`). Entries
    are matched by name, in order (an aliased chart may be declared twice).
    A declared dependency the lock does not pin, one pinned from another
    repository, and a pinned one Chart.yaml does not declare are notes: the
    lock is stale, and the declared range is what is checked. A lock that
    cannot be read adds nothing (it is read, and reported, on its own).
    """
    try:
        locked, _ = parse_lock(lock, lock_path)
    except Exception:  # the lock is read (and its problems reported) on its own
        return declared
    pending: dict[str, list[Dependency]] = {}
    for entry in locked:
        pending.setdefault(entry.name, []).append(entry)
    merged: list[Dependency] = []
    for dep in declared:
        candidates = pending.get(dep.name)
        pin = candidates.pop(0) if candidates else None
        if pin is None or pin.version is None:
            notes.at(
                dep.origin,
                f"dependency {dep.name!r} is not pinned by {lock_path}: {_STALE}; "
                f"checked at the declared version {dep.version or '(none)'!r}",
            )
            merged.append(dep)
            continue
        if dep.repository and pin.repository and not _same_repository(dep, pin):
            notes.at(
                dep.origin,
                f"dependency {dep.name!r} is declared from {dep.repository!r} but {lock_path} "
                f"pins it from {pin.repository!r}: {_STALE}",
            )
        merged.append(
            Dependency(
                name=dep.name,
                version=pin.version,
                repository=dep.repository or pin.repository,
                alias=dep.alias,
                origin=dep.origin,
            )
        )
    for rest in pending.values():
        for pin in rest:
            notes.at(
                pin.origin,
                f"{lock_path} pins {pin.name!r}, which Chart.yaml does not declare: {_STALE}",
            )
    return merged


def _same_repository(a: Dependency, b: Dependency) -> bool:
    return (a.repository or "").rstrip("/").lower() == (b.repository or "").rstrip("/").lower()


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


#: Sibling files read for context are small; anything bigger is not used.
_MAX_CONTEXT_BYTES = 1024 * 1024


def folder_context(chart_folder: Path, scope: Scope) -> ParentContext | None:
    """What a chart folder's Chart.lock and Chart.yaml say about its ``charts/``."""
    lock = scope.small_file(chart_folder / "Chart.lock", _MAX_CONTEXT_BYTES)
    chart = scope.small_file(chart_folder / "Chart.yaml", _MAX_CONTEXT_BYTES)
    if lock is None and chart is None:
        return None
    return parent_context(lock, chart, str(chart_folder))


def subchart_context(chart_folder: Path, scope: Scope) -> ParentContext | None:
    """The parent's context when ``chart_folder`` is ``PARENT/charts/NAME``."""
    if chart_folder.parent.name != "charts":
        return None
    return folder_context(chart_folder.parent.parent, scope)


def in_chart(path: Path, scope: Scope) -> tuple[tuple[str, ...], str | None]:
    """(chart path, appVersion) of the chart whose Chart.yaml sits beside ``path``.

    ``((), None)`` when there is none, or it cannot be read (it is read, and
    reported, on its own).
    """
    chart_yaml = scope.small_file(path.parent / "Chart.yaml", _MAX_CONTEXT_BYTES)
    meta = None
    if chart_yaml is not None:
        try:
            meta = parse_chart(chart_yaml, str(path.parent / "Chart.yaml"))
        except Exception:  # the Chart.yaml is read (and reported) on its own
            meta = None
    if meta is None:
        return (), None
    prefix, repository, _ = placement(meta.name, subchart_context(path.parent, scope))
    return (*prefix, chart_label(meta.name, repository)), meta.app_version
