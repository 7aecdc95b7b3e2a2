"""Recognising artifacts by name (and YAML manifests by their first lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.artifacts import FORMATS, detect, read_artifact

MANIFEST = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("chart/Chart.yaml", b"", "helm-chart"),
        ("chart/Chart.lock", b"", "helm-chart-lock"),
        ("chart/charts/postgresql-16.0.0.tgz", b"", "helm-package"),
        ("backup.tgz", b"\x1f\x8b not a chart", None),
        ("chart/values.yaml", b"", "helm-values"),
        ("chart/values-production.yaml", b"", "helm-values"),
        ("chart/values.prod.yml", b"", "helm-values"),
        ("Dockerfile", b"", "dockerfile"),
        ("dockerfile", b"", "dockerfile"),
        ("Dockerfile.prod", b"", "dockerfile"),
        ("api.Dockerfile", b"", "dockerfile"),
        ("Containerfile", b"", "dockerfile"),
        ("Dockerfile.dockerignore", b"", None),
        ("compose.yaml", b"", "compose"),
        ("compose.yml", b"", "compose"),
        ("compose.override.yaml", b"", "compose"),
        ("docker-compose.yml", b"", "compose"),
        ("docker-compose.prod.yaml", b"", "compose"),
        ("deploy/postgres.yaml", MANIFEST, "kubernetes"),
        ("deploy/postgres.yml", b"# c\n---\n" + MANIFEST, "kubernetes"),
        ("deploy/indented.yaml", b"  apiVersion: v1\n  kind: Pod\n", None),
        (".github/workflows/ci.yml", b"name: ci\non: push\n", None),
        ("mkdocs.yml", b"site_name: x\n", None),
        ("README.md", MANIFEST, None),
        ("chart.yaml", b"", None),  # Helm only knows Chart.yaml
    ],
)
def test_detect(name: str, head: bytes, expected: str | None) -> None:
    assert detect(Path(name), head) == expected


def test_every_format_has_a_reader_and_unknown_formats_are_a_programming_error() -> None:
    assert set(FORMATS) == {
        "helm-chart",
        "helm-chart-lock",
        "helm-package",
        "helm-values",
        "kubernetes",
        "dockerfile",
        "compose",
    }
    with pytest.raises(ValueError, match="unknown artifact format"):
        read_artifact("nope", Path("x"), b"")


def test_read_artifact_dispatches() -> None:
    result = read_artifact("dockerfile", Path("Dockerfile"), b"FROM postgres:17-alpine\n")
    assert result.format == "dockerfile"
    assert result.path == "Dockerfile"
    assert [c.name for c in result.components] == ["docker.io/library/postgres"]
