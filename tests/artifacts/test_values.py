"""Helm values files: image maps and strings wherever they are."""

from __future__ import annotations

import pytest

from checker.artifacts import values
from checker.errors import InputError
from checker.model import ImageRef, Kind
from tests.helpers import corpus_file


def corpus_bytes(relative: str) -> bytes:
    return corpus_file(relative).read_bytes()


def test_bitnami_values_assemble_split_image_fields() -> None:
    data = corpus_bytes("images/bitnami-postgresql-17.1.0/values.yaml")
    result = values.read(data, "values.yaml")
    assert result.format == "helm-values"
    assert [(str(c.image), c.origin.location) for c in result.components] == [
        ("docker.io/bitnami/postgresql:17.6.0-debian-12-r4", "line 123"),
        ("docker.io/bitnami/os-shell:12-debian-12-r51", "line 1612"),
        ("docker.io/bitnami/postgres-exporter:0.17.1-debian-12-r16", "line 1721"),
    ]
    first = result.components[0]
    assert first.kind is Kind.IMAGE
    assert (first.name, first.version) == ("docker.io/bitnami/postgresql", "17.6.0-debian-12-r4")
    assert first.purl is not None and first.purl.startswith("pkg:oci/postgresql?")
    assert result.notes == []  # commented-out examples (`##   image: busybox`) are not read


def test_cnpg_operator_values_empty_tag_is_noted() -> None:
    data = corpus_bytes("images/cloudnative-pg-operator-0.29.0/values.yaml")
    result = values.read(data, "values.yaml")
    [image] = result.components
    assert image.image == ImageRef("ghcr.io", "cloudnative-pg/cloudnative-pg", None, None)
    assert image.version is None
    [note] = result.notes
    assert note.origin.location == "line 25"
    assert "tag is empty" in note.message and "appVersion" in note.message


SHAPES = b"""global:
  imageRegistry: ""
  image:
    registry: mirror.example.com
image:
  repository: bitnami/postgresql
  tag: 16
helm-create:
  image:
    repository: ghcr.io/acme/app
    tag: "1.2"
    pullPolicy: IfNotPresent
flat:
  initImage: busybox:1.36
  imageName: ghcr.io/cloudnative-pg/postgresql:17.2
  pinned:
    image: postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
exporter:
  repository: prometheuscommunity/postgres-exporter
  tag: v0.15.0
backup:
  repository: s3://bucket/path
  enabled: false
  pullImage: true
disabled:
  enabled: false
  image: {repository: "", tag: ""}
sidecars:
  - name: proxy
    image: "{{ .Values.proxy.image }}"
  - name: bad
    image: "Not An Image"
"""


def test_image_shapes_and_global_registry() -> None:
    result = values.read(SHAPES, "values.yaml")
    assert [(str(c.image), c.origin.location) for c in result.components] == [
        ("mirror.example.com/bitnami/postgresql:16", "line 5"),
        ("ghcr.io/acme/app:1.2", "line 9"),
        ("docker.io/library/busybox:1.36", "line 14"),
        ("ghcr.io/cloudnative-pg/postgresql:17.2", "line 15"),
        (
            "docker.io/library/postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef",
            "line 17",
        ),
        ("mirror.example.com/prometheuscommunity/postgres-exporter:v0.15.0", "line 18"),
    ]
    assert all(c.path == () for c in result.components)
    messages = [(n.origin.location, n.message) for n in result.notes]
    assert messages == [
        (
            "line 30",
            "sidecars[0].image '{{ .Values.proxy.image }}' is not resolved (it uses a variable "
            "or template); its image cannot be checked: scan the rendered file, or pin it",
        ),
        ("line 32", "sidecars[1].image 'Not An Image' is not a valid image reference; not checked"),
    ]


def test_values_that_are_not_a_mapping_are_refused() -> None:
    with pytest.raises(InputError, match="not a Helm values file"):
        values.read(b"- a\n- b\n", "values.yaml")
    assert values.read(b"# only comments\n", "values.yaml").components == []
