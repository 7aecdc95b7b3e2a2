"""The gate on the corpus charts, values, manifests and Compose files, under this policy.

Each case reads one real file with the artifact readers and evaluates every
component with the project's decision table, so a reader change that hides a
rejected image (or a policy change that flips a verdict) fails here with the
component named.
"""

from __future__ import annotations

import pytest

from checker.artifacts import detect, helm, read_artifact
from checker.evaluation import Evaluator
from checker.model import Finding, Severity
from checker.policy import Policy, load_policy
from tests.helpers import ROOT, corpus_file, tar_bytes


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    policy: Policy = load_policy(ROOT / "policy")
    return Evaluator(policy)


def findings(evaluator: Evaluator, relative: str) -> list[Finding]:
    path = corpus_file(relative)
    data = path.read_bytes()
    fmt = detect(path, data[:4096])
    assert fmt is not None, relative
    result = read_artifact(fmt, path, data)
    out: list[Finding] = []
    for component in result.components:
        out.extend(evaluator.evaluate(component))
    return out


def errors(found: list[Finding]) -> set[tuple[str, str, str | None]]:
    return {
        (f.rule, f.component.name, f.policy_entry) for f in found if f.severity is Severity.ERROR
    }


BITNAMI_IMAGES = {
    ("rejected-component", "docker.io/bitnami/postgresql", "bitnami-postgresql-images"),
    ("rejected-component", "docker.io/bitnami/os-shell", "bitnami-postgresql-images"),
    ("rejected-component", "docker.io/bitnami/postgres-exporter", "bitnami-postgresql-images"),
}


def test_bitnami_chart_yaml_fails_on_rejected_components(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/bitnami-postgresql-17.1.0/Chart.yaml")
    assert errors(found) == BITNAMI_IMAGES | {
        ("rejected-component", "common", "bitnami-common-chart"),
        # Read on its own the chart names no repository; its `sources`
        # (github.com/bitnami/charts) still identify the Bitnami chart.
        ("rejected-component", "postgresql", "bitnami-postgresql-chart"),
    }
    image = next(f for f in found if f.component.name == "docker.io/bitnami/postgresql")
    assert image.path == ("postgresql",)


def test_bitnami_chart_lock_fails_on_the_common_chart(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/bitnami-postgresql-17.1.0/Chart.lock")
    assert errors(found) == {("rejected-component", "common", "bitnami-common-chart")}


def test_bitnami_values_fail_on_the_images(evaluator: Evaluator) -> None:
    found = findings(evaluator, "images/bitnami-postgresql-17.1.0/values.yaml")
    assert errors(found) == BITNAMI_IMAGES


def test_keycloak_lock_fails_on_the_bitnami_postgresql_chart(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/bitnami-keycloak-16.1.6/Chart.lock")
    assert errors(found) == {
        ("rejected-component", "postgresql", "bitnami-postgresql-chart"),
        ("rejected-component", "common", "bitnami-common-chart"),
    }
    postgresql = next(f for f in found if f.component.name == "postgresql")
    assert (postgresql.component.version, postgresql.path) == ("12.12.9", ("Chart.lock",))


def test_keycloak_chart_yaml_fails_on_its_bitnami_dependencies(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/bitnami-keycloak-16.1.6/Chart.yaml")
    assert errors(found) == {
        ("rejected-component", "postgresql", "bitnami-postgresql-chart"),
        ("rejected-component", "common", "bitnami-common-chart"),
    }


def test_cnpg_operator_chart_is_bring_your_own(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/cloudnative-pg-operator-0.29.0/Chart.yaml")
    assert errors(found) == {
        ("bundled-byo", "cloudnative-pg", "cloudnative-pg"),
        ("bundled-byo", "cluster", "cloudnative-pg"),
    }
    found = findings(evaluator, "helm/cloudnative-pg-operator-0.29.0/Chart.lock")
    assert errors(found) == {("bundled-byo", "cluster", "cloudnative-pg")}
    found = findings(evaluator, "images/cloudnative-pg-operator-0.29.0/values.yaml")
    assert errors(found) == {
        ("bundled-byo", "ghcr.io/cloudnative-pg/cloudnative-pg", "cloudnative-pg")
    }


def test_cnpg_cluster_chart_alone_is_bundled_byo(evaluator: Evaluator) -> None:
    # its `sources` (github.com/cloudnative-pg/charts) say whose chart it is:
    # shipping CloudNativePG's cluster chart bundles what RUNE leaves to operators
    found = findings(evaluator, "helm/cloudnative-pg-cluster-0.8.1/Chart.yaml")
    assert {(rule, name) for rule, name, _ in errors(found)} == {("bundled-byo", "cluster")}


def test_cockroachdb_chart_is_rejected(evaluator: Evaluator) -> None:
    found = findings(evaluator, "helm/cockroachdb-21.0.1/Chart.yaml")
    assert errors(found) == {("rejected-component", "cockroachdb", "cockroachdb")}


def test_wordpress_mysql_compose_fails_on_the_mariadb_server(evaluator: Evaluator) -> None:
    found = findings(evaluator, "images/awesome-compose-wordpress-mysql/compose.yaml")
    assert errors(found) == {
        ("rejected-component", "docker.io/library/mariadb", "mariadb-mysql-server")
    }
    [mariadb] = [f for f in found if f.severity is Severity.ERROR]
    assert (mariadb.component.version, mariadb.source.location) == ("10.6.4-focal", "line 4")


@pytest.mark.parametrize(
    "relative",
    [
        "images/saleor_2019/docker-compose.yml",
        "images/full-stack-fastapi-template/compose.yml",
        "images/awesome-compose-postgresql-pgadmin/compose.yaml",
    ],
)
def test_official_postgres_compose_files_fail_only_on_the_missing_digest(
    evaluator: Evaluator, relative: str
) -> None:
    # The official image is approved by identity; its row requires a digest
    # pin (require_digest), and these files reference it by tag only.
    found = findings(evaluator, relative)
    assert errors(found) == {
        ("unpinned-image", "docker.io/library/postgres", "postgres-official-image")
    }


def test_cnpg_postgis_sample_fails_on_the_extension_image(evaluator: Evaluator) -> None:
    found = findings(evaluator, "images/cnpg-samples/postgis-example.yaml")
    assert errors(found) == {
        ("rejected-component", "ghcr.io/cloudnative-pg/postgis-extension", "postgis"),
        (
            "bundled-byo",
            "ghcr.io/cloudnative-pg/postgresql",
            "cloudnative-pg-postgresql-images",
        ),
    }


def test_cnpg_pooler_sample_ships_bring_your_own_images(evaluator: Evaluator) -> None:
    found = findings(evaluator, "images/cnpg-samples/pooler-example-explicit-image.yaml")
    assert errors(found) == {
        (
            "bundled-byo",
            "ghcr.io/cloudnative-pg/postgresql",
            "cloudnative-pg-postgresql-images",
        ),
        ("bundled-byo", "ghcr.io/cloudnative-pg/pgbouncer", "cloudnative-pg-pgbouncer-image"),
    }


def test_vendored_bitnami_subchart_fails_with_its_path(evaluator: Evaluator) -> None:
    subchart = tar_bytes(
        [
            ("postgresql/Chart.yaml", b"apiVersion: v2\nname: postgresql\nversion: 16.0.0\n"),
            (
                "postgresql/values.yaml",
                b"image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: '16'\n",
            ),
        ]
    )
    package = tar_bytes(
        [
            ("app/Chart.yaml", b"apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            (
                "app/Chart.lock",
                b"dependencies:\n- name: postgresql\n  version: 16.0.0\n"
                b"  repository: https://charts.bitnami.com/bitnami\n",
            ),
            ("app/charts/postgresql-16.0.0.tgz", subchart),
        ]
    )
    result = helm.read_package(package, "app-1.0.0.tgz")
    found = [f for c in result.components for f in evaluator.evaluate(c)]
    assert errors(found) == {
        ("rejected-component", "postgresql", "bitnami-postgresql-chart"),
        ("rejected-component", "docker.io/bitnami/postgresql", "bitnami-postgresql-images"),
    }
    image = next(f for f in found if f.component.name == "docker.io/bitnami/postgresql")
    assert image.path == ("app", "postgresql (https://charts.bitnami.com/bitnami)")
