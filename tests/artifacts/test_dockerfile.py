"""Dockerfiles: FROM lines, build arguments, stages, COPY --from, directives."""

from __future__ import annotations

import pytest

from checker.artifacts import dockerfile
from checker.errors import InputError
from checker.model import ImageRef, Kind
from tests.helpers import FIXTURES

DATA = FIXTURES / "artifacts"
DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def read(name: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    result = dockerfile.read((DATA / name).read_bytes(), name)
    assert result.format == "dockerfile"
    assert all(c.kind is Kind.IMAGE for c in result.components)
    images = [(str(c.image), c.origin.location) for c in result.components]
    notes = [(n.origin.location, n.message) for n in result.notes]
    return images, notes


def test_multi_stage_with_platform_digest_and_copy_from() -> None:
    images, notes = read("Dockerfile.multistage")
    assert images == [
        (
            "docker.io/library/python:3.12-slim@sha256:"
            "4c4a4f3e7b0e0e7c2f1b6d2a8c1e9f0a3b5d7e9f1a3c5e7b9d1f3a5c7e9b1d3f",
            "line 8",
        ),
        ("docker.io/library/postgres:17-alpine", "line 13"),
        ("gcr.io/distroless/python3-debian12:nonroot", "line 18"),
        ("docker.io/bitnami/postgresql:16", "line 23"),
    ]
    assert notes == []  # `FROM build`, `COPY --from=build` and --platform=$BUILDPLATFORM


def test_arg_substitution_and_unresolved_arguments() -> None:
    images, notes = read("Dockerfile.args")
    assert images == [
        ("docker.io/library/postgres:16-alpine", "line 7"),
        ("docker.io/library/alpine:3.20", "line 11"),
    ]
    assert notes == [
        (
            "line 9",
            "FROM '${BASE_IMAGE}' uses build argument(s) BASE_IMAGE without a default; the "
            "image depends on --build-arg and cannot be checked",
        )
    ]


def test_escape_directive_heredoc_and_registry_with_port() -> None:
    images, notes = read("Containerfile")
    assert images == [
        ("mcr.microsoft.com/windows/servercore:ltsc2022", "line 2"),
        (f"registry.example.com:5000/team/app@{DIGEST}", "line 7"),
    ]
    assert notes == []


def test_pinned_base_image_keeps_tag_and_digest() -> None:
    result = dockerfile.read(f"FROM postgres:17-alpine@{DIGEST} AS db\n".encode(), "Dockerfile")
    [component] = result.components
    assert component.image == ImageRef("docker.io", "library/postgres", "17-alpine", DIGEST)
    assert component.name == "docker.io/library/postgres"
    assert component.version == "17-alpine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM scratch\n", []),
        ("from alpine:3.20 as base\nfrom BASE\n", ["docker.io/library/alpine:3.20"]),
        ("FROM alpine\\\n:3.20\n", ["docker.io/library/alpine:3.20"]),
        (
            "FROM alpine:3.20 \\\n# a comment inside\n  AS x\nFROM x\n",
            ["docker.io/library/alpine:3.20"],
        ),
        (
            "ARG V=3.20\nFROM alpine:$V\nARG V=9\nFROM alpine:${V}\n",
            ["docker.io/library/alpine:3.20"] * 2,
        ),
        ('ARG A=1 B="2"\nFROM x/y:${A}.${B}\n', ["docker.io/x/y:1.2"]),
        (
            "FROM alpine:3.20 AS a\nCOPY --from=1 /a /b\nCOPY --chown=1 --from=a /a /b\n",
            ["docker.io/library/alpine:3.20"],
        ),
    ],
)
def test_small_cases(text: str, expected: list[str]) -> None:
    result = dockerfile.read(text.encode(), "Dockerfile")
    assert [str(c.image) for c in result.components] == expected


def test_invalid_reference_is_noted() -> None:
    result = dockerfile.read(b"FROM Not/Valid:Image!\n", "Dockerfile")
    assert result.components == []
    assert "is not a valid image reference" in result.notes[0].message


def test_a_file_without_from_is_not_a_dockerfile() -> None:
    with pytest.raises(InputError, match="has no FROM instruction"):
        dockerfile.read(b"# just a comment\nRUN echo hi\n", "Dockerfile")
