"""Kubernetes manifests: workloads, CloudNativePG resources, generic custom resources."""

from __future__ import annotations

import pytest

from checker.artifacts import kubernetes
from checker.errors import InputError
from checker.model import Kind
from tests.helpers import FIXTURES, corpus_file

DATA = FIXTURES / "artifacts"


def corpus_bytes(relative: str) -> bytes:
    return corpus_file(relative).read_bytes()


def shown(data: bytes, name: str = "m.yaml") -> list[tuple[str, str, tuple[str, ...]]]:
    result = kubernetes.read(data, name)
    assert all(c.kind is Kind.IMAGE for c in result.components)
    return [(str(c.image), c.origin.location, c.path) for c in result.components]


def test_cnpg_postgis_sample_finds_the_extension_image() -> None:
    assert shown(corpus_bytes("images/cnpg-samples/postgis-example.yaml")) == [
        (
            "ghcr.io/cloudnative-pg/postgresql:18.6-minimal-trixie",
            "line 6",
            ("Cluster/postgis-example",),
        ),
        (
            "ghcr.io/cloudnative-pg/postgis-extension:3.6.1-18-trixie",
            "line 16",
            ("Cluster/postgis-example",),
        ),
    ]


def test_cnpg_pooler_sample_finds_the_pgbouncer_image() -> None:
    assert shown(corpus_bytes("images/cnpg-samples/pooler-example-explicit-image.yaml")) == [
        (
            "ghcr.io/cloudnative-pg/postgresql:18.6-system-trixie",
            "line 7",
            ("Cluster/cluster-example",),
        ),
        ("ghcr.io/cloudnative-pg/pgbouncer:1.25.1", "line 22", ("Pooler/pooler-example-rw",)),
    ]


def test_workloads_lists_and_custom_resources() -> None:
    result = kubernetes.read((DATA / "workloads.yaml").read_bytes(), "workloads.yaml")
    assert [(str(c.image), c.origin.location, c.path) for c in result.components] == [
        ("docker.io/library/busybox:1.36", "line 11", ("StatefulSet/db",)),
        (
            "docker.io/library/postgres:17-alpine@sha256:"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "line 14",
            ("StatefulSet/db",),
        ),
        ("docker.io/bitnamilegacy/postgresql:16", "line 19", ("StatefulSet/db",)),
        (
            "ghcr.io/cloudnative-pg/postgis-extension:3.6.1-18-trixie",
            "line 23",
            ("StatefulSet/db",),
        ),
        ("docker.io/library/postgres:16", "line 37", ("CronJob/backup",)),
        ("quay.io/ongres/patroni:v3.0.2", "line 56", ("Pod/one-off",)),
        ("ghcr.io/example/runner:2.1", "line 66", ("Widget/custom",)),
        ("ghcr.io/example/sidecar:0.9", "line 67", ("Widget/custom",)),
    ]
    # The ConfigMap's `image` is data, annotations are metadata, prose is not an image.
    names = {c.name for c in result.components}
    assert "docker.io/library/mariadb" not in names
    [note] = result.notes
    assert note.origin.location == "line 16"
    assert "'{{ .Values.exporter.image }}' is not resolved" in note.message


def test_helm_template_with_a_templated_image_is_a_note() -> None:
    data = (DATA / "deployment-template.yaml").read_bytes()
    result = kubernetes.read(data, "templates/deployment.yaml")
    assert result.components == []
    [note] = result.notes
    assert note.origin.location == "line 13"
    assert "1 image reference(s) are templated" in note.message
    assert "helm template" in note.message


def test_a_literal_image_in_a_helm_template_is_checked() -> None:
    """A template is not YAML, but an image written into it literally must not escape."""
    data = (
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        b"spec:\n  template:\n    spec:\n      initContainers:\n"
        b"        - image: docker.io/bitnami/os-shell:12-debian-12-r30  # permissions\n"
        b"      containers:\n        - image: '{{ .Values.image }}'\n"
        b'        - imageName: "docker.io/library/postgres:17-alpine"\n'
    )
    result = kubernetes.read(data, "templates/deployment.yaml")
    refs = [(c.name, c.version, c.origin.location) for c in result.components]
    assert refs == [
        ("docker.io/bitnami/os-shell", "12-debian-12-r30", "line 9"),
        ("docker.io/library/postgres", "17-alpine", "line 12"),
    ]
    assert [n.origin.location for n in result.notes] == ["line 11"]


def test_a_helm_template_without_images_is_silent() -> None:
    data = b"apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
    result = kubernetes.read(data, "templates/service.yaml")
    assert result.components == [] and result.notes == []


def test_broken_manifest_is_an_input_error_with_a_line() -> None:
    with pytest.raises(InputError) as caught:
        kubernetes.read(b"apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n", "pod.yaml")
    assert caught.value.problem.location.startswith("line 5")


def test_image_catalog_reference_and_kustomization() -> None:
    data = b"""apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg}
spec:
  imageCatalogRef:
    {apiGroup: postgresql.cnpg.io, kind: ClusterImageCatalog, name: standard, major: 17}
---
apiVersion: postgresql.cnpg.io/v1
kind: ClusterImageCatalog
metadata: {name: standard}
spec:
  images:
    - {major: 17, image: ghcr.io/cloudnative-pg/postgresql:17.6}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: postgres
    newName: mirror.example.com/postgres
    newTag: "17"
"""
    result = kubernetes.read(data, "k.yaml")
    assert [(str(c.image), c.path) for c in result.components] == [
        ("ghcr.io/cloudnative-pg/postgresql:17.6", ("ClusterImageCatalog/standard",)),
        ("mirror.example.com/postgres:17", ("Kustomization/document-3",)),
    ]
    [note] = result.notes
    assert "Cluster/pg takes its PostgreSQL image from ClusterImageCatalog/standard" in note.message


def test_documents_that_are_not_objects_are_noted() -> None:
    result = kubernetes.read(b"apiVersion: v1\nkind: Pod\n---\n- a list\n", "x.yaml")
    assert any("document 2 is not a Kubernetes object" in n.message for n in result.notes)
    assert any("has no pod spec" in n.message for n in result.notes)
