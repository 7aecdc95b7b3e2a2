"""Deployment artifacts: Helm charts, values, manifests, Dockerfiles, Compose files.

A rejected database rarely arrives in an SBOM first; it arrives as a Helm
dependency, an ``image:`` line or a ``FROM``. These readers turn such files
into the same :class:`~checker.model.Component` objects the SBOM readers
produce (``Kind.CHART`` and ``Kind.IMAGE``, with the dependency path that
leads to each), so the one decision table judges them all.

Formats are recognised by file name (:func:`detect`, from the registry in
:mod:`checker.readers`), because the content of a Compose file, a values
file and a manifest is "some YAML":

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

Every reader, whatever the bytes, either returns or raises
:class:`~checker.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from checker import readers
from checker.model import ReadResult
from checker.readers import Family, Source
from checker.scope import Scope

__all__ = ["FORMATS", "READERS", "detect", "read_artifact"]

#: Every artifact format, in the order detection tries them.
FORMATS = readers.family_formats(Family.ARTIFACT)


def __getattr__(name: str) -> Any:
    """``READERS``, made on first use: importing this package imports no reader."""
    if name != "READERS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from checker.artifacts import compose, dockerfile, helm, kubernetes, values

    #: Each artifact format's reader of bytes alone, ``(data, name) -> ReadResult``:
    #: without the chart folder around the file (see :func:`read_artifact`).
    found: dict[str, Callable[[bytes, str], ReadResult]] = {
        helm.FORMAT_CHART: helm.read_chart,
        helm.FORMAT_LOCK: helm.read_lock,
        helm.FORMAT_PACKAGE: helm.read_package,
        values.FORMAT: values.read,
        kubernetes.FORMAT: kubernetes.read,
        dockerfile.FORMAT: dockerfile.read,
        compose.FORMAT: compose.read,
    }
    globals()["READERS"] = found
    return found


def detect(path: Path, head: bytes) -> str | None:
    """The artifact format of ``path`` by its name (and, for YAML and .tgz, its first bytes)."""
    fmt = readers.detect(path, head)
    return fmt.name if fmt is not None and fmt.family is Family.ARTIFACT else None


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
    record = readers.by_name(fmt)
    if record is None or record.family is not Family.ARTIFACT:
        raise ValueError(f"unknown artifact format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return record.read(Source(path, str(path), data, given_scope=scope))
