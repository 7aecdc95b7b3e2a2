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
    ``appVersion`` are read the same way. With a ``Chart.lock`` beside it,
    a dependency takes the version the lock pins (``16.7.24``, not the
    range ``16.x.x``), so the Chart.yaml entry and the lock entry are one
    release and one finding; a dependency the lock does not pin (or pins
    from another repository), and one the lock pins that Chart.yaml does
    not declare, are notes: the lock is stale.

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

from checker.artifacts.helm.chart import (
    FORMAT_CHART,
    ChartMeta,
    Dependency,
    ParentContext,
    chart_label,
    parent_context,
    parse_chart,
    parse_lock,
    placement,
    read_chart,
)
from checker.artifacts.helm.lock import FORMAT_LOCK, read_lock
from checker.artifacts.helm.package import (
    FORMAT_PACKAGE,
    MAX_MEMBERS,
    MAX_NESTING,
    MAX_STREAM,
    MAX_TOTAL,
    MAX_UNPACKED,
    is_chart_archive,
    read_package,
)

__all__ = [
    "FORMAT_CHART",
    "FORMAT_LOCK",
    "FORMAT_PACKAGE",
    "MAX_MEMBERS",
    "MAX_NESTING",
    "MAX_STREAM",
    "MAX_TOTAL",
    "MAX_UNPACKED",
    "ChartMeta",
    "Dependency",
    "ParentContext",
    "chart_label",
    "is_chart_archive",
    "parent_context",
    "parse_chart",
    "parse_lock",
    "placement",
    "read_chart",
    "read_lock",
    "read_package",
]
