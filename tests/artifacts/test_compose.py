"""Docker Compose files: service images, interpolation, build-only services."""

from __future__ import annotations

import pytest

from checker.artifacts import compose
from checker.errors import InputError
from checker.model import Kind, ReadResult
from tests.helpers import FIXTURES, corpus_file

DATA = FIXTURES / "artifacts"


def read_corpus(relative: str) -> ReadResult:
    path = corpus_file(relative)
    result = compose.read(path.read_bytes(), str(path))
    assert result.format == "compose"
    assert all(c.kind is Kind.IMAGE for c in result.components)
    return result


def images(result: ReadResult) -> list[str]:
    return [str(c.image) for c in result.components]


def test_wordpress_mysql_ignores_the_commented_out_mysql_image() -> None:
    result = read_corpus("images/awesome-compose-wordpress-mysql/compose.yaml")
    assert images(result) == [
        "docker.io/library/mariadb:10.6.4-focal",
        "docker.io/library/wordpress:latest",
    ]
    assert "docker.io/library/mysql" not in {c.name for c in result.components}
    mariadb = result.components[0]
    assert mariadb.origin.location == "line 4"
    assert mariadb.path == ("services.db",)


def test_saleor_explicit_library_namespace_normalizes() -> None:
    result = read_corpus("images/saleor_2019/docker-compose.yml")
    assert images(result) == [
        "docker.io/library/postgres:11.1-alpine",
        "docker.io/library/redis:5.0-alpine",
    ]
    # web and celery are built, not pulled
    assert [n.origin.location for n in result.notes] == ["line 5", "line 38"]
    assert all("built from a Dockerfile" in n.message for n in result.notes)


def test_fastapi_template_uses_postgres_18() -> None:
    result = read_corpus("images/full-stack-fastapi-template/compose.yml")
    assert "docker.io/library/postgres:18" in images(result)
    db = next(c for c in result.components if c.path == ("services.db",))
    assert (db.name, db.version) == ("docker.io/library/postgres", "18")


def test_pgadmin_latest_tags() -> None:
    result = read_corpus("images/awesome-compose-postgresql-pgadmin/compose.yaml")
    assert images(result) == [
        "docker.io/library/postgres:latest",
        "docker.io/dpage/pgadmin4:latest",
    ]


def test_interpolation_anchors_and_build_services() -> None:
    result = compose.read((DATA / "compose-interpolation.yaml").read_bytes(), "compose.yaml")
    assert [(str(c.image), c.origin.location, c.path) for c in result.components] == [
        ("docker.io/library/mariadb:11.4", "line 2", ("services.db",)),
        ("ghcr.io/acme/api:1.0", "line 16", ("services.api",)),
        (
            "docker.io/library/postgres:17-alpine@sha256:"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "line 18",
            ("services.pinned",),
        ),
    ]
    notes = [(n.origin.location, n.message) for n in result.notes]
    assert notes[0][0] == "line 9"
    assert "uses CACHE_IMAGE without a default" in notes[0][1]
    assert notes[1][0] == "line 12" and "built from a Dockerfile" in notes[1][1]
    assert notes[2][0] == "line 16" and "both `image` and `build`" in notes[2][1]


def test_version_1_files_and_non_mappings() -> None:
    result = compose.read(b"db:\n  image: postgres:9.6\nweb:\n  build: .\n", "docker-compose.yml")
    assert images(result) == ["docker.io/library/postgres:9.6"]
    with pytest.raises(InputError, match="not a Compose file"):
        compose.read(b"- postgres\n", "compose.yaml")
