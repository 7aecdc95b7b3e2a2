"""Helm ``values.yaml``: the images a chart deploys, found wherever they are.

Images are recognised by shape anywhere in the tree
(:mod:`checker.artifacts.imagescan`). The registry of each is composed as
charts compose it in their templates; the conventions recognised:

* ``image: {registry, repository, tag, digest}`` (Bitnami; a ``digest``
  pins it), and ``{repository, tag}`` with the host in ``repository``
  (``helm create``);
* name/tag pairs, ``image: {name: foo, tag: "1.2"}`` (with a ``registry``
  beside them, or a host in ``name``);
* ``global.imageRegistry`` (or ``global.image.registry``), the Bitnami
  common chart's: it replaces every image map's own ``registry`` (a note
  says so where one differs) and fills it where there is none;
* a top-level ``containerRegistry``, ``imageRegistry`` or ``registry``
  string: the registry of image maps that name none
  (:mod:`checker.artifacts.helm.registry`); one that is not a registry host,
  or several that disagree, are a warning and not applied;
* anything else has no registry of its own and is a Docker Hub image, as
  Docker resolves it; flat strings (``image: ghcr.io/org/app:1.2``) are
  read as they are.

An empty tag is what ``helm create``
charts render as ``.Chart.AppVersion``; a values file read alone cannot know
it, so the image is checked without a tag and a note says so; a values file
beside its chart's ``Chart.yaml`` is placed in that chart and takes its
appVersion (a packaged chart passes it in, see
:mod:`checker.artifacts.helm`). Images behind ``enabled: false`` are still
reported: the gate checks what a chart can deploy, not one configuration of
it. Every image component carries ``Origin(file, "line N")`` of its image key.
"""

from __future__ import annotations

from checker.artifacts.helm.chart import in_chart
from checker.artifacts.helm.registry import default_registry
from checker.artifacts.imagescan import values_components
from checker.inputs import only_input_errors
from checker.model import ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.yamldocs import YAML_TOO_DEEP, mapping_roots

FORMAT = "helm-values"


def read_source(source: Source) -> ReadResult:
    """A values file, placed in its chart when a Chart.yaml sits beside it."""
    chart_path, app_version = in_chart(source.path, source.scope)
    return read(source.data, source.name, chart_path=chart_path, app_version=app_version)


def read(
    data: bytes,
    path: str,
    *,
    chart_path: tuple[str, ...] = (),
    app_version: str | None = None,
) -> ReadResult:
    """Read a Helm values file (``values.yaml``, ``values-*.yaml``).

    ``chart_path`` is the path of the chart the file belongs to and
    ``app_version`` its appVersion (for empty tags), when the caller knows
    them from the chart's Chart.yaml.
    """
    return only_input_errors(
        path,
        "Helm values",
        lambda: _read(data, path, chart_path, app_version),
        too_deep=YAML_TOO_DEEP,
    )


def _read(
    data: bytes, path: str, chart_path: tuple[str, ...], app_version: str | None
) -> ReadResult:
    result = ReadResult(path=path, format=FORMAT)
    notes = Notes(path, result.notes)
    refusal = "is not a Helm values file: expected a mapping of settings"
    for root in mapping_roots(data, path, result.notes, refusal):
        registry = default_registry(root, notes)
        result.components.extend(
            values_components(
                root, chart_path, notes, app_version=app_version, default_registry=registry
            )
        )
    return result
