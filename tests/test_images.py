"""The one image-reference parser: normalization, purls, interpolation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import images
from checker.images import (
    image_from_component,
    image_from_purl,
    image_from_purl_text,
    image_purl,
    interpolate,
    is_pinned,
    parse_image,
    split_reference,
)
from checker.matching import ImagePattern
from checker.model import ImageRef
from checker.sbom import spdx

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres:17-alpine", ImageRef("docker.io", "library/postgres", "17-alpine")),
        ("library/postgres:17-alpine", ImageRef("docker.io", "library/postgres", "17-alpine")),
        (
            "docker.io/library/postgres:17-alpine",
            ImageRef("docker.io", "library/postgres", "17-alpine"),
        ),
        ("docker.io/postgres", ImageRef("docker.io", "library/postgres")),
        ("index.docker.io/bitnami/postgresql", ImageRef("docker.io", "bitnami/postgresql")),
        (
            "registry-1.docker.io/library/postgres:16",
            ImageRef("docker.io", "library/postgres", "16"),
        ),
        ("registry.hub.docker.com/postgres", ImageRef("docker.io", "library/postgres")),
        ("INDEX.DOCKER.IO/bitnami/redis", ImageRef("docker.io", "bitnami/redis")),
        (
            "bitnamilegacy/postgresql:16.4.0",
            ImageRef("docker.io", "bitnamilegacy/postgresql", "16.4.0"),
        ),
        (
            "ghcr.io/cloudnative-pg/postgresql:18.6-system-trixie",
            ImageRef("ghcr.io", "cloudnative-pg/postgresql", "18.6-system-trixie"),
        ),
        ("localhost/app", ImageRef("localhost", "app")),
        ("localhost:5000/team/app:dev", ImageRef("localhost:5000", "team/app", "dev")),
        ("quay.io/ongres/patroni:v3.0.2", ImageRef("quay.io", "ongres/patroni", "v3.0.2")),
        (f"postgres@{DIGEST}", ImageRef("docker.io", "library/postgres", None, DIGEST)),
        (f"postgres:17@{DIGEST}", ImageRef("docker.io", "library/postgres", "17", DIGEST)),
        ("  postgres:16  ", ImageRef("docker.io", "library/postgres", "16")),
        # Not references:
        ("", None),
        ("Postgres:16", None),
        ("my image", None),
        ("postgres:", None),
        ("postgres:bad/tag", None),
        ("postgres@sha256:short", None),
        ("${IMAGE}", None),
        ("postgres:${TAG}", None),
        ("$REGISTRY/app:1", None),
        ("{{ .Values.image.repository }}:{{ .Values.image.tag }}", None),
        ("/tmp/image.tar", None),
        ("C:/images/app.tar", None),
        ("https://ghcr.io/org/app", None),
    ],
)
def test_parse_image(text: str, expected: ImageRef | None) -> None:
    assert parse_image(text) == expected


def test_parts_are_kept_apart_and_the_namespace_is_kept() -> None:
    ref = parse_image(f"registry-1.docker.io/bitnamilegacy/postgresql:16.4.0-debian-12-r0@{DIGEST}")
    assert ref is not None
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "docker.io",
        "bitnamilegacy/postgresql",
        "16.4.0-debian-12-r0",
        DIGEST,
    )
    assert ref.name == "docker.io/bitnamilegacy/postgresql"
    assert str(ref) == f"docker.io/bitnamilegacy/postgresql:16.4.0-debian-12-r0@{DIGEST}"
    # The policy's Bitnami glob covers the legacy namespace because the namespace survives.
    assert ImagePattern("*/bitnami*/postgresql*").matches(ref)


def test_a_digest_pins_an_image() -> None:
    pinned = parse_image(f"postgres@{DIGEST}")
    unpinned = parse_image("postgres:17-alpine")
    assert pinned is not None and is_pinned(pinned)
    assert unpinned is not None and not is_pinned(unpinned)


def test_split_reference_reports_bad_parts_instead_of_dropping_silently() -> None:
    parts = split_reference("ghcr.io/org/app:bad/tag")
    assert parts is not None
    assert parts.registry == "ghcr.io"
    parts = split_reference("app:1@sha256:short")
    assert parts is not None and parts.bad_digest and parts.tag == "1"
    assert split_reference("app:${TAG}") is None


def test_the_sbom_readers_use_this_parser() -> None:
    assert spdx.parse_image_reference is images.parse_image


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        (
            f"pkg:oci/postgresql@{DIGEST.replace(':', '%3A')}"
            "?repository_url=docker.io/bitnami/postgresql&tag=15.3.0",
            ImageRef("docker.io", "bitnami/postgresql", "15.3.0", DIGEST),
        ),
        (f"pkg:oci/debian@{DIGEST}", ImageRef("docker.io", "library/debian", None, DIGEST)),
        (
            f"pkg:oci/app@{DIGEST}?repository_url=ghcr.io",
            ImageRef("ghcr.io", "app", None, DIGEST),
        ),
        (
            "pkg:docker/smartentry/debian@dc437cc87d10?repository_url=https://gcr.io",
            ImageRef("gcr.io", "smartentry/debian", "dc437cc87d10"),
        ),
        ("pkg:docker/postgres@16.4", ImageRef("docker.io", "library/postgres", "16.4")),
        (
            "pkg:docker/cockroachdb/cockroach@v24.2.0?repository_url=index.docker.io",
            ImageRef("docker.io", "cockroachdb/cockroach", "v24.2.0"),
        ),
        ("pkg:pypi/psycopg@3.2.1", None),
        ("not a purl", None),
    ],
)
def test_image_from_purl_text(purl: str, expected: ImageRef | None) -> None:
    assert image_from_purl_text(purl) == expected


def test_image_from_purl_parts_as_the_matcher_passes_them() -> None:
    ref = image_from_purl("docker", "bitnami", "postgresql", "16", {})
    assert ref == ImageRef("docker.io", "bitnami/postgresql", "16")
    ref = image_from_purl(
        "oci", None, "postgresql", None, {"repository_url": "ghcr.io/cloudnative-pg/postgresql"}
    )
    assert ref == ImageRef("ghcr.io", "cloudnative-pg/postgresql")
    assert image_from_purl("npm", None, "pg", "8", {}) is None


def test_image_from_component_fills_gaps_of_the_purl_from_the_name() -> None:
    purl = f"pkg:oci/alpine@{DIGEST}?repository_url=index.docker.io%2Flibrary%2Falpine"
    assert image_from_component("alpine:3.19", None, purl) == ImageRef(
        "docker.io", "library/alpine", "3.19", DIGEST
    )
    assert image_from_component("cockroachdb/cockroach", DIGEST, None) == ImageRef(
        "docker.io", "cockroachdb/cockroach", None, DIGEST
    )
    assert image_from_component("localhost:5000/app", "1.2", None) == ImageRef(
        "localhost:5000", "app", "1.2"
    )
    # An image purl that names no valid image is not repaired from the name.
    assert image_from_component("postgres:16", None, "pkg:oci/Bad%20Name") is None


def test_image_purl_round_trips() -> None:
    ref = ImageRef("ghcr.io", "cloudnative-pg/postgresql", "17.2", DIGEST)
    purl = image_purl(ref)
    assert purl.startswith("pkg:oci/postgresql@sha256")
    assert image_from_purl_text(purl) == ref
    unpinned = ImageRef("docker.io", "library/postgres", "17-alpine")
    assert image_from_purl_text(image_purl(unpinned)) == unpinned


@pytest.mark.parametrize(
    ("text", "variables", "expected", "missing"),
    [
        ("postgres:${TAG:-17}", {}, "postgres:17", []),
        ("postgres:${TAG:-17}", {"TAG": ""}, "postgres:17", []),
        ("postgres:${TAG-17}", {"TAG": ""}, "postgres:", []),
        ("postgres:${TAG}", {"TAG": "16"}, "postgres:16", []),
        ("postgres:$TAG", {"TAG": "16"}, "postgres:16", []),
        ("postgres:${TAG}", {"TAG": None}, "postgres:${TAG}", ["TAG"]),
        ("${REG:+ghcr.io/}app", {"REG": "x"}, "ghcr.io/app", []),
        ("${REG:+ghcr.io/}app", {}, "app", []),
        ("${REG:?must be set}/app", {}, "${REG:?must be set}/app", ["REG"]),
    ],
)
def test_interpolate(
    text: str, variables: dict[str, str | None], expected: str, missing: list[str]
) -> None:
    assert interpolate(text, variables) == (expected, missing)


def test_interpolate_compose_dollar_escape() -> None:
    assert interpolate("a$$b-${X:-1}", {}, dollar_escape=True) == ("a$b-1", [])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parser_never_raises_and_normalizes_idempotently(text: str) -> None:
    ref = parse_image(text)
    if ref is not None:
        assert parse_image(str(ref)) == ref
        assert ref.registry == ref.registry.lower()
