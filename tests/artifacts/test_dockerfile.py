"""Dockerfiles: FROM lines, build arguments, stages, COPY --from, directives, RUN installs."""

from __future__ import annotations

import functools

import pytest

from checker.artifacts import dockerfile
from checker.cli import main as cli_main
from checker.errors import InputError
from checker.gate import evaluate_results
from checker.model import Component, ImageRef, Kind, Origin, ReadResult, Severity
from checker.policy import Policy, load_policy
from checker.rules import RuleId
from tests.helpers import FIXTURES, ROOT

DATA = FIXTURES / "artifacts"
DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def read(name: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    result = dockerfile.read((DATA / name).read_bytes(), name)
    assert result.format == "dockerfile"
    images = [(str(c.image), c.origin.location) for c in result.components if c.image]
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
    # The heredoc's FROM is no instruction; what the script installs is not read.
    assert notes == [("line 4", "RUN runs a heredoc script; packages it installs are not read")]


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


# --------------------------------------------------------------------------- RUN installs


@functools.cache
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def gate(name: str) -> tuple[ReadResult, list[tuple[RuleId, str, str, str | None]]]:
    """A fixture through the reader and the real policy: (rule, component, line, row)."""
    result = dockerfile.read((DATA / name).read_bytes(), name)
    findings = evaluate_results([result], policy())
    return result, [(f.rule, f.component.name, f.source.location, f.policy_entry) for f in findings]


def packages(text: str) -> list[tuple[str, str | None, str, str]]:
    """(purl, version, kind, line) of each installed package of a Dockerfile given as text."""
    result = dockerfile.read(text.encode(), "Dockerfile")
    return [
        (c.purl or "", c.version, c.kind.value, c.origin.location)
        for c in result.components
        if c.image is None and not c.is_subject
    ]


def notes_of(text: str) -> list[tuple[str, str]]:
    result = dockerfile.read(text.encode(), "Dockerfile")
    return [(n.origin.location, n.message) for n in result.notes]


def test_postgis_installed_from_apt_on_a_digest_pinned_official_base_is_rejected() -> None:
    """The docker-postgis recipe: the base passes, the apt install of PostGIS does not."""
    result, findings = gate("Dockerfile.postgis")
    rejected = [f for f in findings if f[0] is RuleId.REJECTED_COMPONENT]
    assert rejected == [
        (RuleId.REJECTED_COMPONENT, "postgresql-$PG_MAJOR-postgis-3", "line 12", "postgis"),
        (RuleId.REJECTED_COMPONENT, "postgresql-$PG_MAJOR-postgis-3-scripts", "line 12", "postgis"),
        (RuleId.REJECTED_COMPONENT, "postgis", "line 12", "postgis"),
    ]
    # The base image itself is approved and pinned: nothing about line 3 but its packages.
    assert not [f for f in findings if f[2] == "line 3"]
    [postgis, *_] = [c for c in result.components if "postgis" in c.name]
    assert postgis.kind is Kind.OS_PACKAGE
    assert postgis.version == "3.6.0+dfsg-2.pgdg13+1"  # from ENV POSTGIS_VERSION
    assert (
        postgis.purl == "pkg:deb/debian/postgresql-%24PG_MAJOR-postgis-3@3.6.0%2Bdfsg-2.pgdg13%2B1"
    )
    # PG_MAJOR comes from the base image's ENV: kept as written, and said so.
    assert [(n.origin.location, n.severity) for n in result.notes] == [
        ("line 12", Severity.WARNING)
    ] * 2  # one per word using PG_MAJOR; the llvm check's $(...) on line 25 installs nothing
    assert all("uses PG_MAJOR with no value in this Dockerfile" in n.message for n in result.notes)
    assert (
        cli_main(["check", str(DATA / "Dockerfile.postgis"), "--policy", str(ROOT / "policy")]) == 1
    )


def test_official_postgres_image_pinned_by_digest_without_installs_passes() -> None:
    result, findings = gate("Dockerfile.official")
    assert [str(c.image) for c in result.components] == [
        f"docker.io/library/postgres:18-trixie@{DIGEST}"
    ]
    assert findings == []
    assert (
        cli_main(["check", str(DATA / "Dockerfile.official"), "--policy", str(ROOT / "policy")])
        == 0
    )


def test_installs_of_a_multi_stage_python_service() -> None:
    result = dockerfile.read((DATA / "Dockerfile.installs").read_bytes(), "Dockerfile.installs")
    found = [
        (c.kind.value, c.purl, c.origin.location) for c in result.components if not c.is_subject
    ]
    assert found == [
        (
            "image",
            "pkg:oci/python?repository_url=docker.io/library/python&tag=3.12-slim-bookworm",
            "line 8",
        ),
        ("os-package", "pkg:deb/debian/build-essential", "line 12"),
        ("os-package", "pkg:deb/debian/libpq-dev@15.8-0%2Bdeb12u1", "line 12"),  # "$LIBPQ"=...
        ("os-package", "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u8", "line 12"),
        ("library", "pkg:pypi/pip", "line 17"),
        ("library", "pkg:pypi/psycopg@3.2.1", "line 17"),  # a global ARG declared again
        ("library", "pkg:pypi/flask", "line 17"),  # a range is no pin
        ("library", "pkg:pypi/gunicorn@23.0.0", "line 20"),  # exec form with sh -c
        ("library", "pkg:npm/%40redocly/cli@1.25.0", "line 21"),
        ("library", "pkg:npm/pnpm", "line 21"),
        ("os-package", "pkg:deb/debian/tool-%24%7BTOOL_VERSION%7D", "line 26"),
        ("os-package", "pkg:deb/debian/libpq5", "line 32"),  # in the stage built FROM build
    ]
    assert [(n.origin.location, n.message.split(";")[0]) for n in result.notes] == [
        ("line 17", "RUN pip installs from the requirements file 'requirements.txt'"),
        ("line 22", "RUN deb package word '$(...)' comes from a command substitution"),
        ("line 23", "RUN runs a heredoc script"),
        (
            "line 26",
            "RUN installs 'tool-${TOOL_VERSION}', which uses TOOL_VERSION with no value in this "
            "Dockerfile (set by the base image or --build-arg)",
        ),
    ]


def test_the_built_image_declares_its_license_in_an_oci_label() -> None:
    result = dockerfile.read((DATA / "Dockerfile.installs").read_bytes(), "Dockerfile.installs")
    [subject] = [c for c in result.components if c.is_subject]
    assert (subject.name, subject.version, subject.kind) == ("rune-api", "1.4.0", Kind.IMAGE)
    assert [(e.text, e.origin.location) for e in subject.licenses] == [("Apache-2.0", "line 29")]


def test_a_denied_license_label_fails_and_a_label_of_an_unused_stage_does_not_count() -> None:
    label = 'LABEL "org.opencontainers.image.licenses"="AGPL-3.0-only"\n'
    other_stage = f"FROM alpine:3.20 AS tools\n{label}FROM alpine:3.20\n"
    assert not [
        c for c in dockerfile.read(other_stage.encode(), "Dockerfile").components if c.is_subject
    ]
    inherited = f"FROM alpine:3.20 AS tools\n{label}FROM tools\n"
    result = dockerfile.read(inherited.encode(), "Dockerfile")
    [subject] = [c for c in result.components if c.is_subject]
    assert subject.origin == Origin("Dockerfile", "line 2")
    findings = evaluate_results([result], policy())
    assert [(f.rule, f.component.name) for f in findings if f.severity is Severity.ERROR] == [
        (RuleId.DENIED_LICENSE, "Dockerfile")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Chains, continuations and the usual prefixes.
        (
            "FROM debian:12\nRUN set -eux; apt-get update && apt-get install -y \\\n"
            "    --no-install-recommends ca-certificates || true; apt install -y jq\n",
            [
                ("pkg:deb/debian/ca-certificates", None, "os-package", "line 2"),
                ("pkg:deb/debian/jq", None, "os-package", "line 2"),
            ],
        ),
        # Options with values, release and architecture suffixes, sudo, env prefixes.
        (
            "FROM ubuntu:24.04\nRUN DEBIAN_FRONTEND=noninteractive sudo -E apt-get -o "
            "Dpkg::Options::=--force-confold install -t noble-backports -y nginx/noble "
            "libc6:amd64 libpq5=16.4-1 2>&1 >/dev/null\n",
            [
                ("pkg:deb/ubuntu/nginx", None, "os-package", "line 2"),
                ("pkg:deb/ubuntu/libc6", None, "os-package", "line 2"),
                ("pkg:deb/ubuntu/libpq5@16.4-1", "16.4-1", "os-package", "line 2"),
            ],
        ),
        # Alpine: --virtual names a group, not a package; = pins, ~ and > do not.
        (
            "FROM postgres:17-alpine\nRUN apk add --no-cache --virtual .build-deps gcc "
            "postgis=3.5.2-r0 'curl>8'\n",
            [
                ("pkg:apk/alpine/gcc", None, "os-package", "line 2"),
                ("pkg:apk/alpine/postgis@3.5.2-r0", "3.5.2-r0", "os-package", "line 2"),
                ("pkg:apk/alpine/curl", None, "os-package", "line 2"),
            ],
        ),
        # RPMs: the vendor from the base image, NAME-VERSION-RELEASE split.
        (
            "FROM rockylinux:9\nRUN dnf install -y --setopt=tsflags=nodocs postgis34_16 "
            "postgresql16-server-16.4-1PGDG.rhel9 && microdnf install -y jq\n",
            [
                ("pkg:rpm/rocky/postgis34_16", None, "os-package", "line 2"),
                (
                    "pkg:rpm/rocky/postgresql16-server@16.4-1PGDG.rhel9",
                    "16.4-1PGDG.rhel9",
                    "os-package",
                    "line 2",
                ),
                ("pkg:rpm/rocky/jq", None, "os-package", "line 2"),
            ],
        ),
        # pip in its spellings; extras and markers; only == pins.
        (
            "FROM python:3.12\nRUN pip3 install --no-cache-dir -i https://mirror.invalid/simple "
            '"psycopg[binary]==3.2.1" && python3 -m pip install asyncpg~=0.30 '
            "&& uv pip install --system Flask_Login==0.6.3\n",
            [
                ("pkg:pypi/psycopg@3.2.1", "3.2.1", "library", "line 2"),
                ("pkg:pypi/asyncpg", None, "library", "line 2"),
                ("pkg:pypi/flask-login@0.6.3", "0.6.3", "library", "line 2"),
            ],
        ),
        # npm: global or not, scoped names, exact versions only.
        (
            'FROM node:22\nRUN ["npm", "install", "--global", "@scope/tool@2.0.1", "pg@^8"]\n',
            [
                ("pkg:npm/%40scope/tool@2.0.1", "2.0.1", "library", "line 2"),
                ("pkg:npm/pg", None, "library", "line 2"),
            ],
        ),
        # ENV (both spellings) and stage ARGs expand; single quotes do not.
        (
            "ARG GLOBAL=x\nFROM debian:12\nARG V=1.2\nENV PKG=jq\nENV OLD legacy\n"
            'RUN apt-get install -y "$PKG"=${V}-1 ${OLD:-unused}-tool\n',
            [
                ("pkg:deb/debian/jq@1.2-1", "1.2-1", "os-package", "line 6"),
                ("pkg:deb/debian/legacy-tool", None, "os-package", "line 6"),
            ],
        ),
        # Not installs: other subcommands and commands that only mention a package.
        (
            "FROM debian:12\nRUN apt-get remove -y vim && apt-cache show postgis && "
            "echo apt-get install -y nothing && pip download flask\n",
            [],
        ),
    ],
)
def test_run_installs(text: str, expected: list[tuple[str, str | None, str, str]]) -> None:
    assert packages(text) == expected


def test_a_global_arg_is_seen_by_run_only_where_the_stage_declares_it_again() -> None:
    text = "ARG PG=16\nFROM debian:12\nRUN apt-get install -y postgresql-$PG\n"
    assert packages(text) == [("pkg:deb/debian/postgresql-%24PG", None, "os-package", "line 3")]
    again = text.replace("FROM debian:12\n", "FROM debian:12\nARG PG\n")
    assert packages(again) == [("pkg:deb/debian/postgresql-16", None, "os-package", "line 4")]


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("RUN <<EOF\napt-get install -y x\nEOF", "runs a heredoc script"),
        ("RUN install() { apt-get install -y x; }; install", "defines a shell function"),
        ('RUN eval "apt-get install -y x"', "runs 'eval'"),
        ("RUN . ./install.sh", "runs '.'"),
        ("RUN apt-get install -y 'unbalanced", "has an unbalanced single quote"),
        ("RUN apt-get install -y $(cat /pkgs", "has an unclosed $( command substitution"),
        ("RUN apt-get install -y `cat /pkgs`", "comes from a command substitution"),
        ("RUN apt-get install -y ./local.deb", "is a local .deb file"),
        ('RUN ["apt-get", 1]', "RUN in exec form is not a list of strings"),
    ],
)
def test_scripts_the_reader_cannot_follow_are_a_note_naming_the_line(run: str, reason: str) -> None:
    text = f"FROM debian:12\n{run}\n"
    assert packages(text) == []
    [(location, message)] = notes_of(text)
    assert location == "line 2"
    assert reason in message


def test_single_quotes_keep_a_dollar_literal() -> None:
    text = "FROM debian:12\nENV PKG=jq\nRUN apt-get install -y '$PKG'\n"
    assert packages(text) == []
    assert notes_of(text) == [
        (
            "line 3",
            "RUN deb package word '$PKG' is not a Debian package name (a glob or regular "
            "expression?); not checked",
        )
    ]


def test_pip_requirement_files_are_a_note_not_a_package() -> None:
    text = "FROM python:3.12\nRUN pip install -r requirements.txt --constraint=c.txt\n"
    assert packages(text) == []
    assert [m for _, m in notes_of(text)] == [
        "RUN pip installs from the requirements file 'requirements.txt'; scan that file to "
        "check what it names",
        "RUN pip installs from the constraints file 'c.txt'; scan that file to check what it names",
    ]


# --------------------------------------------------------------------------- identity


def identified(component: Component) -> tuple[str | None, str | None]:
    """(deciding row id, stack pattern) the policy gives ``component``."""
    decided, stack = policy().identify(component)
    return (decided.decision.id if decided else None), stack


@pytest.mark.parametrize(
    "purl",
    [
        "pkg:bitnami/postgis@3.4.2",  # what Bitnami writes into its images' SPDX files
        "pkg:deb/debian/postgresql-16-postgis-3@3.5.2%2Bdfsg-1.pgdg120%2B1",
        "pkg:deb/ubuntu/postgresql-16-postgis-3-scripts",
        "pkg:deb/debian/postgis",
        "pkg:apk/alpine/postgis@3.5.2-r0",
        "pkg:rpm/redhat/postgis34_16",
        "pkg:rpm/fedora/postgis",
    ],
)
def test_postgis_distribution_packages_and_bitnami_purls_are_the_postgis_row(purl: str) -> None:
    component = Component(name="x", origin=Origin("sbom", "$"), purl=purl, kind=Kind.OS_PACKAGE)
    assert identified(component) == ("postgis", None)


@pytest.mark.parametrize(
    ("reference", "row"),
    [
        ("postgis/postgis:16-3.4", "postgis"),
        (f"docker.io/library/postgres:16-postgis@{DIGEST}", "postgis"),  # the tag says it
        ("registry.example.com/team/db:17-postgis-3.5", "postgis"),
        (f"docker.io/library/postgres:16@{DIGEST}", "postgres-official-image"),
        ("bitnami/postgresql:16", "bitnami-postgresql-images"),
    ],
)
def test_an_image_tag_that_names_postgis_is_the_postgis_row(reference: str, row: str) -> None:
    [component] = dockerfile.read(f"FROM {reference}\n".encode(), "Dockerfile").components
    assert identified(component) == (row, None)


@pytest.mark.parametrize(
    "purl",
    [
        "pkg:deb/debian/timescaledb-2-postgresql-16",
        "pkg:rpm/redhat/pgvector_16",
        "pkg:deb/debian/postgresql-16-pgvector",
        "pkg:rpm/redhat/citus_16",
        "pkg:deb/debian/postgresql-16-citus-12.1",
    ],
)
def test_undecided_extensions_are_stack_components(purl: str) -> None:
    """TimescaleDB, pgvector and Citus have no row yet: undecided, so they fail closed."""
    component = Component(name="x", origin=Origin("sbom", "$"), purl=purl, kind=Kind.OS_PACKAGE)
    decided, stack = identified(component)
    assert decided is None and stack is not None
