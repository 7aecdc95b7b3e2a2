"""Deployment artifacts: Helm charts, values, manifests, Dockerfiles, Compose files.

A rejected database rarely arrives in an SBOM first; it arrives as a Helm
dependency, an ``image:`` line or a ``FROM``. These readers turn such files
into the same :class:`~checker.model.Component` objects the SBOM readers
produce (``Kind.CHART`` and ``Kind.IMAGE``, with the dependency path that
leads to each), so the one decision table judges them all.

Formats are recognised by file name (:func:`detect`), because the content of
a Compose file, a values file and a manifest is "some YAML":

========================  ===================================================
``helm-chart``            ``Chart.yaml``
``helm-chart-lock``       ``Chart.lock``
``helm-package``          ``*.tgz`` in a ``charts/`` folder, or any ``.tgz``
                          whose first member is ``NAME/Chart.yaml``
``helm-values``           ``values.yaml``, ``values*.yaml``, ``values*.yml``
``dockerfile``            ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``,
                          ``Containerfile``, ``Containerfile.*``
``compose``               ``compose.yaml``/``.yml``, ``compose.*.yaml``,
                          ``docker-compose*.yaml``/``.yml``
``kubernetes``            any other ``*.yaml``/``*.yml`` with top-level
                          ``apiVersion:`` and ``kind:`` lines
========================  ===================================================

Every reader is ``read(data, path) -> ReadResult`` and, whatever the bytes,
either returns or raises :class:`~checker.errors.InputError`.
"""

from __future__ import annotations

import fnmatch
import re
import zlib
from collections.abc import Callable
from pathlib import Path

from checker.artifacts import compose, dockerfile, helm, kubernetes, values
from checker.model import ReadResult
from checker.scope import Scope

Reader = Callable[[bytes, str], ReadResult]

#: Every artifact format and its reader.
READERS: dict[str, Reader] = {
    helm.FORMAT_CHART: helm.read_chart,
    helm.FORMAT_LOCK: helm.read_lock,
    helm.FORMAT_PACKAGE: helm.read_package,
    values.FORMAT: values.read,
    kubernetes.FORMAT: kubernetes.read,
    dockerfile.FORMAT: dockerfile.read,
    compose.FORMAT: compose.read,
}
FORMATS = tuple(READERS)

_YAML_SUFFIXES = (".yaml", ".yml")
_TOP_API_VERSION = re.compile(rb"^apiVersion:[ \t]*\S", re.MULTILINE)
_TOP_KIND = re.compile(rb"^kind:[ \t]*\S", re.MULTILINE)
_CHART_MEMBER = re.compile(r"^(?:\./)?[^/]+/Chart\.yaml$")
#: Sibling files read for a ``charts/*.tgz`` are small; anything bigger is not used.
_MAX_CONTEXT_BYTES = 1024 * 1024


def _is_dockerfile(lower: str) -> bool:
    if lower.endswith(".dockerignore"):
        return False
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith(".dockerfile")
    )


def _is_compose(lower: str) -> bool:
    return lower in ("compose.yaml", "compose.yml") or (
        lower.endswith(_YAML_SUFFIXES) and lower.startswith(("docker-compose", "compose."))
    )


def _is_values(lower: str) -> bool:
    return fnmatch.fnmatchcase(lower, "values*.yaml") or fnmatch.fnmatchcase(lower, "values*.yml")


def looks_like_kubernetes(head: bytes) -> bool:
    """Top-level ``apiVersion:`` and ``kind:`` lines in the first bytes."""
    return bool(_TOP_API_VERSION.search(head) and _TOP_KIND.search(head))


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


def detect(path: Path, head: bytes) -> str | None:
    """The artifact format of ``path`` by its name (and, for YAML and .tgz, its first bytes)."""
    name = path.name
    lower = name.lower()
    if name == "Chart.yaml":
        return helm.FORMAT_CHART
    if name == "Chart.lock":
        return helm.FORMAT_LOCK
    if lower.endswith(".tgz"):
        if path.parent.name == "charts" or is_chart_archive(head):
            return helm.FORMAT_PACKAGE
        return None
    if _is_dockerfile(lower):
        return dockerfile.FORMAT
    if not lower.endswith(_YAML_SUFFIXES):
        return None
    if _is_compose(lower):
        return compose.FORMAT
    if _is_values(lower):
        return values.FORMAT
    if looks_like_kubernetes(head):
        return kubernetes.FORMAT
    return None


def _parent_context(chart_folder: Path, scope: Scope) -> helm.ParentContext | None:
    """What a chart folder's Chart.lock and Chart.yaml say about its ``charts/``."""
    lock = scope.small_file(chart_folder / "Chart.lock", _MAX_CONTEXT_BYTES)
    chart = scope.small_file(chart_folder / "Chart.yaml", _MAX_CONTEXT_BYTES)
    if lock is None and chart is None:
        return None
    return helm.parent_context(lock, chart, str(chart_folder))


def _subchart_context(chart_folder: Path, scope: Scope) -> helm.ParentContext | None:
    """The parent's context when ``chart_folder`` is ``PARENT/charts/NAME``."""
    if chart_folder.parent.name != "charts":
        return None
    return _parent_context(chart_folder.parent.parent, scope)


def _read_values(path: Path, data: bytes, scope: Scope) -> ReadResult:
    """A values file, placed in its chart when a Chart.yaml sits beside it."""
    chart_yaml = scope.small_file(path.parent / "Chart.yaml", _MAX_CONTEXT_BYTES)
    meta = None
    if chart_yaml is not None:
        try:
            meta = helm.parse_chart(chart_yaml, str(path.parent / "Chart.yaml"))
        except Exception:  # the Chart.yaml is read (and reported) on its own
            meta = None
    if meta is None:
        return values.read(data, str(path))
    prefix, repository, _ = helm.placement(meta.name, _subchart_context(path.parent, scope))
    return values.read(
        data,
        str(path),
        chart_path=(*prefix, helm.chart_label(meta.name, repository)),
        app_version=meta.app_version,
    )


def read_artifact(fmt: str, path: Path, data: bytes, scope: Scope | None = None) -> ReadResult:
    """Read ``data`` (the bytes of ``path``) as artifact format ``fmt``.

    Helm files are read with what the chart folder around them says: a
    ``charts/*.tgz`` or an unpacked ``charts/NAME/Chart.yaml`` gets its
    repository and the path that leads to it from the parent's ``Chart.lock``
    and ``Chart.yaml``; a values file beside a ``Chart.yaml`` is placed in
    that chart and an empty image tag takes the chart's appVersion (with a
    note). Those context files are read only inside ``scope`` (default: the
    file's folder). Raises :class:`~checker.errors.InputError` for unreadable
    input and ``ValueError`` for a format name that is not one of :data:`FORMATS`.
    """
    scope = scope or Scope.around(path)
    if fmt == helm.FORMAT_PACKAGE:
        in_charts = path.parent.name == "charts"
        context = _parent_context(path.parent.parent, scope) if in_charts else None
        return helm.read_package(data, str(path), context)
    if fmt == helm.FORMAT_CHART:
        return helm.read_chart(data, str(path), _subchart_context(path.parent, scope))
    if fmt == values.FORMAT:
        return _read_values(path, data, scope)
    reader = READERS.get(fmt)
    if reader is None:
        raise ValueError(f"unknown artifact format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return reader(data, str(path))


__all__ = [
    "FORMATS",
    "READERS",
    "detect",
    "is_chart_archive",
    "looks_like_kubernetes",
    "read_artifact",
]
