"""Helm: Chart.yaml, Chart.lock and packaged charts (built here, hostile ones too)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from checker import identity
from checker.artifacts import detect, helm, read_artifact
from checker.artifacts.helm import package as helm_package
from checker.errors import InputError
from checker.model import Component, ImageRef, Kind, ReadResult
from checker.sources import read_paths
from tests.helpers import corpus_file, tar_bytes


def read(relative: str) -> ReadResult:
    path = corpus_file(relative)
    fmt = detect(path, path.read_bytes()[:4096])
    assert fmt is not None
    return read_artifact(fmt, path, path.read_bytes())


def by_kind(result: ReadResult, kind: Kind) -> list[Component]:
    return [c for c in result.components if c.kind is kind]


# --------------------------------------------------------------------------- corpus


def test_bitnami_postgresql_chart_yaml() -> None:
    result = read("helm/bitnami-postgresql-17.1.0/Chart.yaml")
    assert result.format == "helm-chart"
    chart, common = by_kind(result, Kind.CHART)
    assert (chart.name, chart.version) == ("postgresql", "17.1.0")
    # no repository of its own: the chart's first `sources` entry identifies it
    assert (
        chart.chart_repository == "https://github.com/bitnami/charts/tree/main/bitnami/postgresql"
    )
    assert chart.is_subject and chart.path == ()
    assert [(e.text, e.form) for e in chart.licenses] == [("Apache-2.0", "expression")]
    assert chart.licenses[0].origin.location == "line 12"
    # the Chart.lock beside it pins `2.x.x` to 2.31.4: the version Helm installs
    assert (common.name, common.version, common.chart_repository, common.path) == (
        "common",
        "2.31.4",
        "oci://registry-1.docker.io/bitnamicharts",
        ("postgresql",),
    )
    assert common.origin.location == "line 17"  # still Chart.yaml's entry
    images = by_kind(result, Kind.IMAGE)
    assert [str(c.image) for c in images] == [
        "docker.io/bitnami/os-shell:12-debian-12-r51",
        "docker.io/bitnami/postgres-exporter:0.17.1-debian-12-r16",
        "docker.io/bitnami/postgresql:17.6.0-debian-12-r4",
    ]
    assert [c.origin.location for c in images] == ["line 7", "line 9", "line 11"]
    assert {c.path for c in images} == {("postgresql",)}
    assert images[2].name == "docker.io/bitnami/postgresql"
    assert images[2].version == "17.6.0-debian-12-r4"


def test_keycloak_chart_lock_depends_on_bitnami_postgresql() -> None:
    result = read("helm/bitnami-keycloak-16.1.6/Chart.lock")
    assert result.format == "helm-chart-lock"
    assert [(c.name, c.version, c.chart_repository, c.path) for c in result.components] == [
        ("postgresql", "12.12.9", "oci://registry-1.docker.io/bitnamicharts", ("Chart.lock",)),
        ("common", "2.12.0", "oci://registry-1.docker.io/bitnamicharts", ("Chart.lock",)),
    ]
    assert all(c.kind is Kind.CHART for c in result.components)


def test_cnpg_operator_dependency_is_aliased() -> None:
    result = read("helm/cloudnative-pg-operator-0.29.0/Chart.yaml")
    chart, dependency = result.components
    assert (chart.name, chart.version) == ("cloudnative-pg", "0.29.0")
    # declared as "0.0", pinned to 0.0.5 by the Chart.lock beside it
    assert (dependency.name, dependency.version, dependency.chart_repository) == (
        "cluster",
        "0.0.5",
        "https://cloudnative-pg.github.io/grafana-dashboards",
    )
    assert dependency.path == ("cloudnative-pg",)
    [note] = result.notes
    assert "alias 'monitoring'" in note.message
    assert note.origin.location == dependency.origin.location == "line 44"


def test_cockroachdb_v1_chart_without_dependencies() -> None:
    result = read("helm/cockroachdb-21.0.1/Chart.yaml")
    [chart] = result.components
    assert (chart.name, chart.version, chart.kind) == ("cockroachdb", "21.0.1", Kind.CHART)
    assert chart.licenses == []
    assert result.notes == []


def test_chart_without_app_version_reads() -> None:
    result = read("helm/cloudnative-pg-cluster-0.8.1/Chart.yaml")
    [chart] = result.components
    assert (chart.name, chart.version) == ("cluster", "0.8.1")


# --------------------------------------------------------------------------- Chart.yaml edge cases


def test_chart_yaml_without_name_is_refused() -> None:
    with pytest.raises(InputError, match="has no chart `name`"):
        helm.read_chart(b"apiVersion: v2\nversion: 1.0.0\n", "Chart.yaml")
    with pytest.raises(InputError, match="expected a mapping"):
        helm.read_chart(b"- name: x\n", "Chart.yaml")


def test_artifacthub_annotations_and_broken_images_annotation() -> None:
    text = b"""apiVersion: v2
name: app
version: 1.0.0
annotations:
  artifacthub.io/license: MIT
  artifacthub.io/images: |
    - name: app
      image: ghcr.io/acme/app:1.0.0
    - name: broken
      image: "{{ .Values.image }}"
  images: "not: [a list"
"""
    result = helm.read_chart(text, "Chart.yaml")
    chart, image = result.components
    assert [e.text for e in chart.licenses] == ["MIT"]
    assert image.image == ImageRef("ghcr.io", "acme/app", "1.0.0")
    assert image.origin.location == "line 8"
    messages = [n.message for n in result.notes]
    assert any("'{{ .Values.image }}' is not resolved" in m for m in messages)
    assert any(m.startswith("annotations.images is not a YAML list") for m in messages)


# --------------------------------------------------------------------------- packages


POSTGRESQL_CHART = b"""apiVersion: v2
name: postgresql
version: 16.0.0
appVersion: "16.4"
annotations:
  licenses: Apache-2.0
"""
POSTGRESQL_VALUES = b"""global:
  imageRegistry: ""
image:
  registry: docker.io
  repository: bitnami/postgresql
  tag: "16"
"""
PARENT_CHART = b"""apiVersion: v2
name: parent
version: 1.0.0
appVersion: 2.0.0
dependencies:
  - name: postgresql
    version: 16.x.x
    repository: oci://registry-1.docker.io/bitnamicharts
  - name: redis
    version: 1.x.x
    repository: https://charts.example.com
    alias: cache
"""
PARENT_LOCK = b"""dependencies:
- name: postgresql
  repository: oci://registry-1.docker.io/bitnamicharts
  version: 16.0.0
- name: redis
  repository: https://charts.example.com
  version: 1.2.0
"""
PARENT_VALUES = b"""image:
  repository: ghcr.io/acme/parent
  tag: ""
"""
BITNAMI = "oci://registry-1.docker.io/bitnamicharts"


def postgresql_package() -> bytes:
    return tar_bytes(
        [
            ("postgresql/Chart.yaml", POSTGRESQL_CHART),
            ("postgresql/values.yaml", POSTGRESQL_VALUES),
            ("postgresql/templates/statefulset.yaml", b'{{ include "x" . }}\n'),
        ]
    )


def parent_package(values: bytes = PARENT_VALUES) -> bytes:
    return tar_bytes(
        [
            ("parent/Chart.yaml", PARENT_CHART),
            ("parent/Chart.lock", PARENT_LOCK),
            ("parent/values.yaml", values),
            ("parent/charts/postgresql-16.0.0.tgz", postgresql_package()),
        ]
    )


def test_package_paths_read_parent_dependency_image(tmp_path: Path) -> None:
    path = tmp_path / "parent-1.0.0.tgz"
    path.write_bytes(parent_package())
    assert detect(path, path.read_bytes()[:4096]) == "helm-package"
    result = read_artifact("helm-package", path, path.read_bytes())
    assert result.format == "helm-package"
    shown = [(c.kind.value, c.display, c.path) for c in result.components]
    postgresql_label = f"postgresql ({BITNAMI})"
    assert shown == [
        ("chart", "parent@1.0.0", ()),
        ("image", "ghcr.io/acme/parent:2.0.0", ("parent",)),
        ("chart", "redis@1.2.0", ("parent",)),
        ("chart", "postgresql@16.0.0", ("parent",)),
        ("image", "docker.io/bitnami/postgresql:16", ("parent", postgresql_label)),
    ]
    chart, _, redis, postgresql, image = result.components
    assert chart.is_subject and not postgresql.is_subject
    assert postgresql.chart_repository == BITNAMI
    assert [e.text for e in postgresql.licenses] == ["Apache-2.0"]
    assert redis.chart_repository == "https://charts.example.com"
    # The finding reads parent -> dependency -> image.
    assert " -> ".join((*image.path, str(image.image))) == (
        f"parent -> {postgresql_label} -> docker.io/bitnami/postgresql:16"
    )
    assert image.origin.path == (
        f"{path}!/parent/charts/postgresql-16.0.0.tgz!/postgresql/values.yaml"
    )
    assert image.origin.location == "line 3"
    messages = [n.message for n in result.notes]
    assert any("appVersion '2.0.0' is assumed" in m for m in messages)
    assert any("alias 'cache'" in m for m in messages)


def test_parent_values_override_the_subchart_image() -> None:
    values = (
        PARENT_VALUES
        + b"postgresql:\n  image:\n    tag: 16.6.0\nglobal:\n  imageRegistry: mirror.example.com\n"
    )
    result = helm.read_package(parent_package(values), "parent.tgz")
    images = {c.path[-1]: c for c in result.components if c.kind is Kind.IMAGE}
    overridden = images[f"postgresql ({BITNAMI})"]
    assert overridden.image == ImageRef("mirror.example.com", "bitnami/postgresql", "16.6.0")
    assert overridden.origin.path == "parent.tgz!/parent/values.yaml"
    assert overridden.origin.location == "line 5"
    # The parent's own image gets the global registry too (it has no registry of its own)
    assert images["parent"].image == ImageRef("ghcr.io", "acme/parent", "2.0.0")


def test_standalone_subchart_package_gets_its_repository_from_the_chart_lock(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "keycloak"
    (folder / "charts").mkdir(parents=True)
    (folder / "Chart.yaml").write_bytes(PARENT_CHART.replace(b"name: parent", b"name: keycloak"))
    (folder / "Chart.lock").write_bytes(PARENT_LOCK)
    package = folder / "charts" / "postgresql-16.0.0.tgz"
    package.write_bytes(postgresql_package())
    assert detect(package, b"") == "helm-package"
    result = read_artifact("helm-package", package, package.read_bytes())
    chart, image = result.components
    assert chart.chart_repository == BITNAMI and not chart.is_subject
    assert chart.path == ("Chart.lock",)
    assert image.path == ("Chart.lock", f"postgresql ({BITNAMI})")
    # Without the lock, the Chart.yaml that declares it names the parent.
    (folder / "Chart.lock").unlink()
    result = read_artifact("helm-package", package, package.read_bytes())
    assert result.components[1].path == ("keycloak", f"postgresql ({BITNAMI})")


def test_unpacked_subchart_folders_and_v1_requirements() -> None:
    data = tar_bytes(
        [
            ("old/Chart.yaml", b"apiVersion: v1\nname: old\nversion: 0.1.0\n"),
            (
                "old/requirements.yaml",
                b"dependencies:\n- name: mariadb\n  version: 7.x\n  repository: https://charts.example.com\n",
            ),
            ("old/charts/db/Chart.yaml", b"apiVersion: v1\nname: db\nversion: 2.0.0\n"),
            ("old/charts/db/values.yaml", b"image: mariadb:10.6\n"),
        ]
    )
    result = helm.read_package(data, "old.tgz")
    shown = [(c.kind.value, c.display, c.path) for c in result.components]
    assert shown == [
        ("chart", "old@0.1.0", ()),
        ("chart", "mariadb@7.x", ("old",)),
        ("chart", "db@2.0.0", ("old",)),
        ("image", "docker.io/library/mariadb:10.6", ("old", "db")),
    ]


def test_nesting_is_limited() -> None:
    data = tar_bytes([("c0/Chart.yaml", b"name: c0\nversion: 1.0.0\n")])
    for level in range(1, helm.MAX_NESTING + 3):
        data = tar_bytes(
            [
                (f"c{level}/Chart.yaml", f"name: c{level}\nversion: 1.0.0\n".encode()),
                (f"c{level}/charts/c{level - 1}.tgz", data),
            ]
        )
    with pytest.raises(InputError, match="levels deep"):
        helm.read_package(data, "deep.tgz")


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


CHART = ("evil/Chart.yaml", b"name: evil\nversion: 1.0.0\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (tar_bytes([CHART, ("../x", b"escape")]), "leaves the chart folder"),
        (tar_bytes([CHART, ("evil/../../x", b"escape")]), "leaves the chart folder"),
        (tar_bytes([CHART, ("/etc/cron.d/x", b"absolute")]), "absolute path"),
        (
            tar_bytes([CHART], extra=[link("evil/values.yaml", "/etc/passwd", tarfile.SYMTYPE)]),
            "is a link",
        ),
        (
            tar_bytes([CHART], extra=[link("evil/x", "evil/Chart.yaml", tarfile.LNKTYPE)]),
            "is a link",
        ),
        (tar_bytes([CHART], extra=[link("evil/dev", "", tarfile.CHRTYPE)]), "device or FIFO"),
        (
            tar_bytes([CHART] + [(f"evil/templates/{i}.yaml", b"") for i in range(1001)]),
            "more than 1,000 members",
        ),
        (tar_bytes([("Chart.yaml", b"name: x\n")]), "not inside a chart folder"),
        (tar_bytes([("evil/values.yaml", b"a: 1\n")]), "has no CHART/Chart.yaml"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "not a readable gzip archive"),
        (b"PK\x03\x04 zip, not tar", "not a Helm package"),
        (gzip.compress(b"not a tar archive at all" * 40), "not a readable tar archive"),
    ],
)
def test_hostile_packages_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        helm.read_package(data, "evil.tgz")


def test_oversize_member_is_refused_without_unpacking_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm_package, "MAX_UNPACKED", 1000)
    data = tar_bytes([CHART, ("evil/big.bin", b"\0" * 5000)])
    with pytest.raises(InputError, match="unpacked bytes"):
        helm.read_package(data, "evil.tgz")


def test_gzip_bomb_is_refused_in_bounded_memory() -> None:
    # 80 MB of zeros compress to about 80 KB; reading stops at MAX_STREAM.
    compressor = io.BytesIO()
    with gzip.GzipFile(fileobj=compressor, mode="wb", mtime=0) as stream:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(80):
            stream.write(chunk)
    with pytest.raises(InputError, match="gzip bomb"):
        helm.read_package(compressor.getvalue(), "bomb.tgz")


def test_uncompressed_tar_is_read_too() -> None:
    data = tar_bytes([("plain/Chart.yaml", b"name: plain\nversion: 1.0.0\n")], compress=False)
    [chart] = helm.read_package(data, "plain.tgz").components
    assert chart.name == "plain"


def test_any_tgz_whose_first_member_is_a_chart_is_detected(tmp_path: Path) -> None:
    chart = tmp_path / "anything.tgz"
    chart.write_bytes(postgresql_package())
    other = tmp_path / "backup.tgz"
    other.write_bytes(tar_bytes([("data/file.txt", b"x")]))
    assert detect(chart, chart.read_bytes()[:4096]) == "helm-package"
    assert detect(other, other.read_bytes()[:4096]) is None


def test_chart_folder_files_are_placed_in_their_chart(tmp_path: Path) -> None:
    """values.yaml beside Chart.yaml and an unpacked subchart, as a folder scan finds them."""
    folder = tmp_path / "rune"
    sub = folder / "charts" / "postgresql"
    sub.mkdir(parents=True)
    (folder / "Chart.yaml").write_bytes(
        PARENT_CHART.replace(b"name: parent", b"name: rune").replace(b"2.0.0", b"1.30.0")
    )
    (folder / "Chart.lock").write_bytes(PARENT_LOCK)
    (folder / "values.yaml").write_bytes(
        b"image:\n  repository: ghcr.io/cloudnative-pg/cloudnative-pg\n  tag: ''\n"
    )
    (sub / "Chart.yaml").write_bytes(POSTGRESQL_CHART)
    (sub / "values.yaml").write_bytes(POSTGRESQL_VALUES)

    def read_path(path: Path) -> ReadResult:
        fmt = detect(path, path.read_bytes()[:4096])
        assert fmt is not None
        return read_artifact(fmt, path, path.read_bytes())

    [image] = read_path(folder / "values.yaml").components
    assert image.image == ImageRef("ghcr.io", "cloudnative-pg/cloudnative-pg", "1.30.0")
    assert image.path == ("rune",)
    chart = read_path(sub / "Chart.yaml").components[0]
    assert (chart.chart_repository, chart.path, chart.is_subject) == (
        BITNAMI,
        ("Chart.lock",),
        False,
    )
    [sub_image] = read_path(sub / "values.yaml").components
    assert sub_image.path == ("Chart.lock", f"postgresql ({BITNAMI})")


# -------------------------------------------------------------------------- Chart.yaml + Chart.lock


def chart_folder(tmp_path: Path, chart: bytes = PARENT_CHART, lock: bytes = PARENT_LOCK) -> Path:
    folder = tmp_path / "parent"
    folder.mkdir()
    (folder / "Chart.yaml").write_bytes(chart)
    (folder / "Chart.lock").write_bytes(lock)
    return folder


def chart_releases(results: list[ReadResult]) -> dict[str, list[tuple[str, str | None, str]]]:
    """The run's chart releases as the gate groups them: name@version -> (format, path, line)."""
    grouped: dict[str, list[tuple[str, str | None, str]]] = {}
    for same in identity.group(results):
        first = same.members[0][1]
        if first.kind is Kind.CHART:
            grouped[first.display] = [
                (fmt, " -> ".join(c.path) or None, c.origin.location) for fmt, c in same.members
            ]
    return grouped


def test_chart_yaml_beside_its_lock_takes_the_locked_versions(tmp_path: Path) -> None:
    folder = chart_folder(tmp_path)
    result = read_artifact("helm-chart", folder / "Chart.yaml", PARENT_CHART)
    deps = [(c.name, c.version, c.chart_repository) for c in result.components[1:]]
    assert deps == [
        ("postgresql", "16.0.0", BITNAMI),
        ("redis", "1.2.0", "https://charts.example.com"),
    ]
    # the alias is still said, and nothing is stale
    assert [n.message for n in result.notes] == [
        "dependency 'redis' (https://charts.example.com) is installed under the alias 'cache'"
    ]


def test_a_chart_folder_is_one_finding_per_dependency(tmp_path: Path) -> None:
    """The issue's case: `postgresql@16.x.x` and `postgresql@16.0.0` were two findings."""
    folder = chart_folder(tmp_path)
    inputs = read_paths([folder])
    assert inputs.errors == []
    assert chart_releases(inputs.results) == {
        "parent@1.0.0": [("helm-chart", None, "line 2")],
        # the lock's entry first (the walk reads Chart.lock first), Chart.yaml's beside it
        "postgresql@16.0.0": [
            ("helm-chart-lock", "Chart.lock", "line 2"),
            ("helm-chart", "parent", "line 6"),
        ],
        "redis@1.2.0": [
            ("helm-chart-lock", "Chart.lock", "line 5"),
            ("helm-chart", "parent", "line 9"),
        ],
    }


def test_keycloak_chart_folder_reports_each_dependency_once() -> None:
    folder = corpus_file("helm/bitnami-keycloak-16.1.6/Chart.yaml").parent
    releases = chart_releases(read_paths([folder]).results)
    assert sorted(releases) == ["common@2.12.0", "keycloak@16.1.6", "postgresql@12.12.9"]
    assert [fmt for fmt, _, _ in releases["postgresql@12.12.9"]] == [
        "helm-chart-lock",
        "helm-chart",
    ]


def test_a_stale_lock_is_noted_and_the_declared_range_checked(tmp_path: Path) -> None:
    chart = (
        PARENT_CHART + b"  - name: minio\n    version: 5.x.x\n    repository: https://m.example\n"
    )
    lock = PARENT_LOCK.replace(b"https://charts.example.com", b"https://other.example.com") + (
        b"- name: mongodb\n  repository: https://charts.example.com\n  version: 15.1.0\n"
    )
    folder = chart_folder(tmp_path, chart, lock)
    result = read_artifact("helm-chart", folder / "Chart.yaml", chart)
    deps = {c.name: c.version for c in result.components[1:]}
    assert deps == {"postgresql": "16.0.0", "redis": "1.2.0", "minio": "5.x.x"}
    stale = [
        (n.origin.path, n.origin.location, n.message) for n in result.notes if "stale" in n.message
    ]
    lock_path = str(folder / "Chart.lock")
    assert stale == [
        (
            str(folder / "Chart.yaml"),
            "line 9",
            f"dependency 'redis' is declared from 'https://charts.example.com' but {lock_path} "
            "pins it from 'https://other.example.com': the lock is stale (run `helm dependency "
            "update`)",
        ),
        (
            str(folder / "Chart.yaml"),
            "line 13",
            f"dependency 'minio' is not pinned by {lock_path}: the lock is stale (run `helm "
            "dependency update`); checked at the declared version '5.x.x'",
        ),
        (
            lock_path,
            "line 8",
            f"{lock_path} pins 'mongodb', which Chart.yaml does not declare: the lock is stale "
            "(run `helm dependency update`)",
        ),
    ]


def test_an_aliased_chart_declared_twice_takes_its_pins_in_order(tmp_path: Path) -> None:
    chart = b"""apiVersion: v2
name: two
version: 1.0.0
dependencies:
  - {name: redis, version: 1.x.x, repository: https://r.example, alias: cache}
  - {name: redis, version: 2.x.x, repository: https://r.example, alias: queue}
"""
    lock = b"""dependencies:
- {name: redis, version: 1.4.0, repository: https://r.example}
- {name: redis, version: 2.1.0, repository: https://r.example}
"""
    folder = chart_folder(tmp_path, chart, lock)
    result = read_artifact("helm-chart", folder / "Chart.yaml", chart)
    assert [c.version for c in result.components[1:]] == ["1.4.0", "2.1.0"]


@pytest.mark.parametrize("lock", [b"dependencies: [unclosed\n", b"- not a mapping\n", b"\x00\xff"])
def test_an_unreadable_lock_leaves_the_declared_ranges(tmp_path: Path, lock: bytes) -> None:
    folder = chart_folder(tmp_path, lock=lock)
    result = read_artifact("helm-chart", folder / "Chart.yaml", PARENT_CHART)
    assert [c.version for c in result.components[1:]] == ["16.x.x", "1.x.x"]
    assert not any("stale" in n.message for n in result.notes)


def test_a_packaged_chart_takes_its_values_top_level_registry() -> None:
    values = b"containerRegistry: quay.io\nimage:\n  name: acme/parent\n  tag: '3'\n"
    result = helm.read_package(parent_package(values), "parent.tgz")
    images = {c.path[-1]: c for c in result.components if c.kind is Kind.IMAGE}
    assert images["parent"].image == ImageRef("quay.io", "acme/parent", "3")
    # a parent's top-level key is not Helm's `global`: the subchart keeps its own registry
    assert images[f"postgresql ({BITNAMI})"].image == ImageRef(
        "docker.io", "bitnami/postgresql", "16"
    )
