"""Helm values files: image maps and strings wherever they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.artifacts import values
from checker.cli import main
from checker.errors import InputError
from checker.model import ImageRef, Kind, Severity
from tests.helpers import ROOT, corpus_file


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


# -------------------------------------------------------------------------- top-level registry keys

#: A chart that keeps its registry in one top-level key and composes it in
#: the templates (``{{ .Values.containerRegistry }}/{{ .Values.x.image.name }}``).
CONTAINER_REGISTRY = b"""containerRegistry: quay.io
operator:
  image:
    name: jetstack/cert-manager-controller
    tag: v1.14.0
webhook:
  image:
    repository: jetstack/cert-manager-webhook
    tag: v1.14.0
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
own:
  image:
    registry: ghcr.io
    name: acme/app
    tag: "1.2"
hosted:
  image:
    repository: docker.io/library/postgres
    tag: "17"
flat:
  image: busybox:1.36
"""


def test_top_level_container_registry_applies_to_images_that_name_none() -> None:
    result = values.read(CONTAINER_REGISTRY, "values.yaml")
    assert [(str(c.image), c.origin.location) for c in result.components] == [
        ("quay.io/jetstack/cert-manager-controller:v1.14.0", "line 3"),
        (
            "quay.io/jetstack/cert-manager-webhook:v1.14.0@sha256:0123456789abcdef0123456789"
            "abcdef0123456789abcdef0123456789abcdef",
            "line 7",
        ),
        ("ghcr.io/acme/app:1.2", "line 12"),  # its own registry wins
        ("docker.io/library/postgres:17", "line 17"),  # a host in the repository wins
        ("docker.io/library/busybox:1.36", "line 21"),  # flat strings are rendered as written
    ]
    assert result.components[0].name == "quay.io/jetstack/cert-manager-controller"
    assert result.notes == []


@pytest.mark.parametrize("key", ["containerRegistry", "imageRegistry", "registry"])
def test_each_top_level_registry_key_is_recognised(key: str) -> None:
    data = f"{key}: registry.example.com:5000/mirror\nimage:\n  name: app\n  tag: '2'\n"
    [image] = values.read(data.encode(), "values.yaml").components
    assert str(image.image) == "registry.example.com:5000/mirror/app:2"


def test_global_image_registry_wins_over_a_top_level_key() -> None:
    data = b"global:\n  imageRegistry: mirror.example.com\ncontainerRegistry: quay.io\n" + (
        b"image:\n  name: acme/app\n  tag: '1'\n"
    )
    result = values.read(data, "values.yaml")
    assert [str(c.image) for c in result.components] == ["mirror.example.com/acme/app:1"]
    assert result.notes == []


def test_top_level_registry_keys_that_disagree_are_a_warning_not_a_guess() -> None:
    data = b"containerRegistry: quay.io\nregistry: ghcr.io\nimage:\n  name: acme/app\n  tag: '1'\n"
    result = values.read(data, "values.yaml")
    [image] = result.components
    assert str(image.image) == "docker.io/acme/app:1"
    [note] = result.notes
    assert note.severity is Severity.WARNING
    assert note.origin.location == "line 1"
    assert "containerRegistry 'quay.io' (line 1)" in note.message
    assert "registry 'ghcr.io' (line 2)" in note.message
    assert "checked under docker.io" in note.message


@pytest.mark.parametrize("value", ["internal", "${REGISTRY}"])
def test_a_top_level_registry_that_is_not_a_host_is_a_warning(value: str) -> None:
    data = f"registry: '{value}'\nimage:\n  name: acme/app\n  tag: '1'\n".encode()
    result = values.read(data, "values.yaml")
    assert [str(c.image) for c in result.components] == ["docker.io/acme/app:1"]
    [note] = result.notes
    assert note.origin.location == "line 1"
    assert "does not name a registry host" in note.message


def test_a_registry_setting_that_is_not_a_string_is_not_a_registry() -> None:
    data = b"registry:\n  enabled: true\nimageRegistry: true\nimage:\n  name: a/b\n  tag: '1'\n"
    result = values.read(data, "values.yaml")
    assert [str(c.image) for c in result.components] == ["docker.io/a/b:1"]
    assert result.notes == []


def test_container_registry_values_file_is_judged_as_the_image_it_pulls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: reported under quay.io, never under docker.io."""
    path = tmp_path / "values.yaml"
    path.write_bytes(CONTAINER_REGISTRY)
    code = main(["check", str(path), "--policy", str(ROOT / "policy"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1)  # the license rules judge it; which image is judged is the point here
    named = {
        (f["component"]["name"], f["source"]["location"])
        for f in report["findings"]
        if f["component"] is not None
    }
    assert ("quay.io/jetstack/cert-manager-controller", "line 3") in named
    assert not any(name.startswith("docker.io/jetstack/") for name, _ in named)
