"""SPDX readers against the shared corpus and small hand-made fixtures.

Corpus facts asserted here come from /work/shared/corpus/SOURCES.md; the
fixtures under tests/data/spdx/ cover what real files lack (truncation,
unclosed <text>, wrong shapes, wrong encoding).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from checker.errors import InputError
from checker.inputs import decode_text, load_json, read_bytes
from checker.model import Component, ImageRef, Kind, ReadResult
from checker.sbom import read_input
from checker.sbom.spdx import (
    looks_like_tag_value,
    parse_image_reference,
    read_json,
    read_tag_value,
)
from tests.helpers import FIXTURES, corpus_file, one

DATA = FIXTURES / "spdx"

NEWRELIC = "LARGE_bom-shelter_trivy_newrelic-synthetics-minion-runner_cbfa244c.spdx.json"
FLUX = "bom-shelter_flux_0.26.3_sbom.spdx"
KIBANA = "bom-shelter_trivy_bitnami-kibana_8fea4e88.spdx.json"
BITNAMI_PG = "bom-shelter_trivy_bitnami-postgresql_8bbeb1f9.spdx.json"
MARIADB = "bom-shelter_trivy_mariadb-server_ff1367c7.spdx.json"
TOOLS_JSON = "tools-python_SPDXJSONExample-v2.3.spdx.json"
TOOLS_TAG = "tools-python_SPDXTagExample-v2.2.spdx"
PG_1530 = "trivy_bitnami-postgresql-15.3.0.spdx.json"
CENTOS = "trivy_centos-7-spdx.txt"


def corpus(name: str) -> Path:
    return corpus_file("spdx", name)


def read_corpus(name: str) -> ReadResult:
    return read_input(corpus(name))


def by_name(result: ReadResult, name: str) -> list[Component]:
    return [c for c in result.components if c.name == name]


def texts(component: Component) -> list[str]:
    return [evidence.text for evidence in component.licenses]


def base_doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "test-doc",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.org/test",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: test"]},
    }
    doc.update(extra)
    return doc


# --------------------------------------------------------------------------
# Corpus: real documents
# --------------------------------------------------------------------------


def test_large_newrelic_reads_every_package_fast() -> None:
    path = corpus(NEWRELIC)
    start = time.perf_counter()
    result = read_input(path)
    elapsed = time.perf_counter() - start
    assert result.format == "spdx-json"
    # 3,952 packages, less Trivy's three target entries (node-pkg, jar,
    # and the OS), which name what was scanned rather than a package.
    assert len(result.components) == 3949
    assert any("target entries" in n.message for n in result.notes)
    # Generous bound: catches accidental quadratic work, not machine speed.
    assert elapsed < 5.0, f"reading took {elapsed:.2f}s"

    runtimes = by_name(result, "synthetics-runtime")
    assert runtimes
    for component in runtimes:
        assert texts(component) == ["New Relic"]
        assert component.licenses[0].form == "expression"
        assert component.licenses[0].origin.location.endswith(".licenseConcluded")
        assert component.purl and component.purl.startswith("pkg:npm/synthetics-runtime@")

    subjects = [c for c in result.components if c.is_subject]
    assert len(subjects) == 1
    assert subjects[0].kind is Kind.IMAGE
    assert subjects[0].image == ImageRef(
        "docker.io",
        "newrelic/synthetics-minion-runner",
        None,
        "sha256:cbfa244c7d31e471944398f7f22119ea2a7491887591a3ebd78ebf12869611d9",
    )
    # One note for the comma-joined lists, not one per package.
    comma_notes = [n for n in result.notes if "comma-separated" in n.message]
    assert len(comma_notes) == 1


def test_large_newrelic_origins_point_at_json_paths() -> None:
    result = read_corpus(NEWRELIC)
    doc = json.loads(corpus(NEWRELIC).read_text(encoding="utf-8"))
    for component in result.components[:: max(1, len(result.components) // 50)]:
        location = component.origin.location
        index = int(location.removeprefix("$.packages[").removesuffix("]"))
        assert doc["packages"][index]["name"] == component.name


def test_flux_tag_value_has_no_license_data() -> None:
    result = read_corpus(FLUX)
    assert result.format == "spdx-tag-value"
    assert len(result.components) == 244
    assert all(c.no_license_reason == "NONE" for c in result.components)
    assert all(not c.licenses for c in result.components)
    # syft lists go-cmp twice (two go.mod files); both are kept, each with its line.
    go_cmp = by_name(result, "github.com/google/go-cmp")
    assert [c.origin.location for c in go_cmp] == ["line 14", "line 1626"]
    assert {c.version for c in go_cmp} == {"v0.5.6"}
    assert {c.purl for c in go_cmp} == {"pkg:golang/github.com/google/go-cmp@v0.5.6"}
    # File sections (491 files) must not turn into components or move SPDXIDs.
    assert not any(c.name.startswith("/") for c in result.components)


def test_kibana_kbn_packages_keep_the_raw_disjunction() -> None:
    result = read_corpus(KIBANA)
    kbn = [c for c in result.components if c.name.startswith("@kbn/")]
    assert len(kbn) >= 81
    elastic = [c for c in kbn if texts(c) == ["SSPL-1.0 OR Elastic License 2.0"]]
    assert len(elastic) == 81


def test_bitnami_postgresql_image_subject_and_os_packages() -> None:
    result = read_corpus(BITNAMI_PG)
    assert len(result.components) == 116  # 118 packages less two Trivy target entries
    subjects = [c for c in result.components if c.is_subject]
    assert len(subjects) == 1
    image = subjects[0]
    assert image.kind is Kind.IMAGE
    assert image.image is not None
    assert image.image.registry == "docker.io"
    assert image.image.repository == "bitnami/postgresql"
    assert image.image.digest is not None and image.image.digest.startswith("sha256:8bbeb1f9")

    debs = [c for c in result.components if c.purl and c.purl.startswith("pkg:deb/")]
    assert len(debs) == 113
    assert all(c.kind is Kind.OS_PACKAGE for c in debs)
    # Trivy's comma-joined strings stay whole; splitting is the license module's job.
    assert any(texts(c) == ["LGPL-2.1, GPL-2.0"] for c in debs)
    assert not by_name(result, "debian")  # Trivy's OS target entry is not a package


def test_mariadb_server_packages_are_os_packages_with_gpl() -> None:
    result = read_corpus(MARIADB)
    server = one(result, "mariadb-server-10.5")
    assert server.kind is Kind.OS_PACKAGE
    assert texts(server) == ["GPL-2.0"]


def test_bitnami_postgresql_1530_document() -> None:
    result = read_corpus(PG_1530)
    postgres = one(result, "PostgreSQL")
    assert postgres.version == "15.3.0"
    assert postgres.purl == "pkg:bitnami/postgresql@15.3.0"
    assert texts(postgres) == ["PostgreSQL"]
    assert postgres.is_subject
    assert texts(one(result, "GEOS")) == ["LGPL-2.1-only"]
    # Millisecond timestamp and a non-image document name: read, no image invented.
    assert not any(c.kind is Kind.IMAGE for c in result.components)


def test_centos_txt_is_detected_as_tag_value() -> None:
    result = read_corpus(CENTOS)
    assert result.format == "spdx-tag-value"
    assert len(result.components) == 3  # 4 packages less Trivy's OS target entry
    bash = one(result, "bash")
    assert texts(bash) == ["GPLv3+"]
    assert bash.kind is Kind.OS_PACKAGE
    assert bash.purl == "pkg:rpm/centos/bash@4.2.46-31.el7?arch=x86_64&distro=centos-7.6.1810"
    assert bash.licenses[0].origin.location == "line 35"
    image = next(c for c in result.components if c.is_subject)
    assert image.kind is Kind.IMAGE
    # No purl in this Trivy output: the RepoTag attribution names the image.
    assert image.image == ImageRef("ghcr.io", "aquasecurity/trivy-test-images", "centos-7", None)
    assert not by_name(result, "centos")  # Trivy's OS target entry is not a package


@pytest.mark.parametrize("name", [TOOLS_JSON, TOOLS_TAG])
def test_tools_python_examples(name: str) -> None:
    result = read_corpus(name)
    assert len(result.components) == 4
    glibc = one(result, "glibc")
    assert glibc.version == "2.11.1"
    assert glibc.is_subject
    # licenseConcluded wins over licenseDeclared; this document is the one
    # place in the corpus where they differ (OR concluded, AND declared).
    assert texts(glibc) == ["(LGPL-2.0-only OR LicenseRef-3)"]
    assert glibc.licenses[0].form == "expression"
    assert one(result, "Saxon").licenses[0].text == "MPL-1.0"
    commons = one(result, "Apache Commons Lang")
    assert commons.licenses == []
    assert commons.no_license_reason == "NOASSERTION"
    jena = one(result, "Jena")
    assert jena.purl == "pkg:maven/org.apache.jena/apache-jena@3.12.0"
    assert jena.no_license_reason == "NOASSERTION"


def test_tools_python_declared_used_when_concluded_says_nothing() -> None:
    doc = load_json(read_bytes(corpus(TOOLS_JSON)), TOOLS_JSON)
    doc["packages"][0]["licenseConcluded"] = "NOASSERTION"
    glibc = one(read_json(doc, "x.json"), "glibc")
    assert texts(glibc) == ["(LGPL-2.0-only AND LicenseRef-3)"]
    assert glibc.licenses[0].origin.location == "$.packages[0].licenseDeclared"


def test_tools_python_tag_value_keeps_multiline_text_out_of_packages() -> None:
    result = read_corpus(TOOLS_TAG)
    assert {c.name for c in result.components} == {"glibc", "Apache Commons Lang", "Jena", "Saxon"}
    assert result.notes == []


# --------------------------------------------------------------------------
# Own fixtures
# --------------------------------------------------------------------------


def test_container_fixture_kinds_and_licenses() -> None:
    result = read_input(DATA / "container-2.3.spdx.json")
    image = one(result, "api")
    assert image.kind is Kind.IMAGE and image.is_subject
    assert image.image == ImageRef(
        "ghcr.io", "example/api", "2.4.1", "sha256:" + "abcdef" * 10 + "abcd"
    )
    os_ = one(result, "alpine")
    assert os_.kind is Kind.OTHER
    busybox = one(result, "busybox")
    assert busybox.kind is Kind.OS_PACKAGE
    assert texts(busybox) == ["GPL-2.0-only"]
    server = one(result, "api-server")
    assert server.kind is Kind.APPLICATION
    assert server.no_license_reason == "NONE"
    requests = one(result, "requests")
    assert requests.kind is Kind.LIBRARY
    assert requests.purl == "pkg:pypi/requests@2.32.3"
    assert texts(requests) == ["Apache-2.0"]
    envoy = one(result, "envoy")
    assert envoy.kind is Kind.IMAGE
    assert envoy.image == ImageRef("docker.io", "envoyproxy/envoy", "v1.30.1", None)
    # The document name is an image, but a described package already is one.
    assert sum(c.kind is Kind.IMAGE and c.is_subject for c in result.components) == 1
    assert result.notes == []


def test_truncated_tag_value_reads_what_is_there_and_notes_it() -> None:
    result = read_input(DATA / "truncated.spdx")
    assert [c.name for c in result.components] == ["app", "libfoo"]
    app = result.components[0]
    assert app.is_subject and app.kind is Kind.APPLICATION
    assert texts(app) == ["Apache-2.0"]
    assert app.origin.location == "line 11"
    libfoo = result.components[1]
    # The cut-off license line makes no statement: fails closed later.
    assert libfoo.licenses == [] and libfoo.no_license_reason == "NOASSERTION"
    assert len(result.notes) == 1
    assert result.notes[0].origin.location == "line 23"
    assert "truncated" in result.notes[0].message


def test_unterminated_text_block_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        read_input(DATA / "unterminated-text.spdx")
    assert info.value.problem.location == "line 14"
    assert "</text>" in info.value.problem.message


def test_packages_not_a_list_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        read_input(DATA / "packages-not-list.spdx.json")
    assert info.value.problem.location == "$.packages"
    assert "object" in info.value.problem.message


def test_latin1_bytes_are_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        read_input(DATA / "latin1.spdx")
    assert "UTF-8" in info.value.problem.message
    assert info.value.problem.location == "line 6"


# --------------------------------------------------------------------------
# Inline documents: subjects, shapes, robustness
# --------------------------------------------------------------------------


def test_document_name_becomes_image_subject_when_no_image_is_described() -> None:
    doc = base_doc(
        name="bitnami/postgresql@sha256:" + "8bbeb1f9" * 8,
        packages=[{"SPDXID": "SPDXRef-a", "name": "a", "licenseConcluded": "MIT"}],
        relationships=[
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-a",
            }
        ],
    )
    result = read_json(doc, "doc.json")
    assert one(result, "a").is_subject
    image = result.components[-1]
    assert image.kind is Kind.IMAGE and image.is_subject
    assert image.origin.location == "$.name"
    assert image.image == ImageRef(
        "docker.io", "bitnami/postgresql", None, "sha256:" + "8bbeb1f9" * 8
    )


def test_document_name_with_registry_and_tag() -> None:
    result = read_json(base_doc(name="docker.io/x/y:tag", packages=[]), "doc.json")
    assert [c.image for c in result.components] == [ImageRef("docker.io", "x/y", "tag", None)]


@pytest.mark.parametrize(
    "name",
    [
        "SPDX-Tools-v2.0",
        "flux_0.26.3_source_code.tar.gz",
        "integration/testdata/fixtures/images/centos-7.tar.gz",
        "SPDX document for PostgreSQL 15.3.0",
        "/src",
        ".",
    ],
)
def test_document_names_that_are_not_images(name: str) -> None:
    result = read_json(base_doc(name=name, packages=[]), "doc.json")
    assert result.components == []


def test_described_by_relationship_marks_subject() -> None:
    doc = base_doc(
        packages=[{"SPDXID": "SPDXRef-a", "name": "a"}, {"SPDXID": "SPDXRef-b", "name": "b"}],
        relationships=[
            {
                "spdxElementId": "SPDXRef-b",
                "relationshipType": "DESCRIBED_BY",
                "relatedSpdxElement": "SPDXRef-DOCUMENT",
            }
        ],
    )
    result = read_json(doc, "doc.json")
    assert [c.is_subject for c in result.components] == [False, True]


def test_malformed_shapes_become_one_note_each() -> None:
    doc = base_doc(
        packages=[
            "not-a-package",
            {"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": 3, "licenseConcluded": ["MIT"]},
            {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": 4},
            {"SPDXID": "SPDXRef-c", "externalRefs": {"oops": 1}},
            {
                "SPDXID": "SPDXRef-d",
                "name": "d",
                "externalRefs": [{"referenceType": "purl", "referenceLocator": "npm:left-pad"}],
            },
        ],
        relationships="none",
        documentDescribes="SPDXRef-a",
    )
    result = read_json(doc, "doc.json")
    assert [c.name for c in result.components] == ["a", "b", "SPDXRef-c", "d"]
    assert result.components[0].version is None
    assert result.components[0].no_license_reason == "NOASSERTION"
    assert result.components[3].purl is None
    version_notes = [n for n in result.notes if "versionInfo" in n.message]
    assert len(version_notes) == 1 and "1 more" in version_notes[0].message
    locations = {n.origin.location for n in result.notes}
    assert "$.packages[0]" in locations
    assert "$.relationships" in locations
    assert "$.documentDescribes" in locations


def test_fractional_timestamps_and_missing_fields_read() -> None:
    doc = {"spdxVersion": "SPDX-2.2", "packages": [{"name": "bare"}]}
    result = read_json(doc, "doc.json")
    assert one(result, "bare").no_license_reason == "NOASSERTION"


def test_not_spdx_json_is_an_input_error() -> None:
    with pytest.raises(InputError):
        read_json({"hello": "world"}, "doc.json")
    with pytest.raises(InputError):
        read_json([1, 2], "doc.json")  # type: ignore[arg-type]


def test_spdx3_version_is_refused() -> None:
    with pytest.raises(InputError, match="not supported"):
        read_json(base_doc(spdxVersion="SPDX-3.0"), "doc.json")


def test_not_spdx_tag_value_is_an_input_error() -> None:
    with pytest.raises(InputError):
        read_tag_value("hello: world\n", "x.txt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SPDXVersion: SPDX-2.3\n", True),
        ("# generated\n\n## banner\nSPDXVersion: SPDX-2.2\n", True),
        ("\ufeffSPDXVersion: SPDX-2.2\n", True),
        ("DataLicense: CC0-1.0\n" * 50 + "SPDXVersion: SPDX-2.2\n", False),
        ("requests==2.0\n", False),
        ("", False),
    ],
)
def test_looks_like_tag_value(text: str, expected: bool) -> None:
    assert looks_like_tag_value(text) is expected


def test_tag_value_text_blocks_relationships_and_files() -> None:
    text = "\n".join(
        [
            "SPDXVersion: SPDX-2.3",
            "DocumentName: doc",
            "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-p",
            "PackageName: p",
            "SPDXID: SPDXRef-p",
            "PackageLicenseComments: <text>PackageName: not-a-package",
            "SPDXID: SPDXRef-not",
            "</text>",
            "PackageLicenseDeclared: <text>MIT</text>",
            "ExternalRef: PACKAGE_MANAGER purl pkg:npm/%40scope/p@1.0.0",
            "FileName: ./p.c",
            "SPDXID: SPDXRef-file",
            "LicenseConcluded: GPL-3.0-only",
            "",
        ]
    )
    result = read_tag_value(text, "doc.spdx")
    assert [c.name for c in result.components] == ["p"]
    p = result.components[0]
    assert p.is_subject
    assert texts(p) == ["MIT"]
    assert p.licenses[0].origin.location == "line 9"
    assert p.purl == "pkg:npm/%40scope/p@1.0.0"


def test_crlf_tag_value() -> None:
    text = "SPDXVersion: SPDX-2.2\r\nPackageName: p\r\nPackageLicenseConcluded: MIT\r\n"
    result = read_tag_value(text, "doc.spdx")
    assert texts(result.components[0]) == ["MIT"]


@pytest.mark.parametrize(
    "doc",
    [
        {"spdxVersion": 2.3, "packages": [{"name": None, "SPDXID": 7}]},
        {
            "spdxVersion": "SPDX-2.3",
            "packages": [{"externalRefs": [None, 5, {"referenceType": 1}]}],
        },
        {
            "spdxVersion": "SPDX-2.3",
            "packages": [{"attributionTexts": "x", "SPDXID": "SPDXRef-ContainerImage-1"}],
        },
        {"spdxVersion": "SPDX-2.3", "packages": [], "relationships": [None, {"spdxElementId": []}]},
        {"spdxVersion": "SPDX-2.3", "name": {"nested": True}, "packages": None},
        {"SPDXID": "SPDXRef-DOCUMENT", "packages": [{"primaryPackagePurpose": ["CONTAINER"]}]},
    ],
)
def test_hostile_json_shapes_never_crash(doc: dict[str, Any]) -> None:
    try:
        result = read_json(doc, "doc.json")
    except InputError:
        return
    assert isinstance(result, ReadResult)


@pytest.mark.parametrize(
    "text",
    [
        "SPDXVersion: SPDX-2.2\nPackageName:\nExternalRef: PACKAGE-MANAGER purl\n",
        "SPDXVersion: SPDX-2.2\nRelationship: a b\n::::\n\x00\x01\n",
        "SPDXVersion: SPDX-2.2\nPackageName: <text></text>\nPackageAttributionText: RepoTag: ::\n",
        "SPDXVersion: SPDX-2.2\nPackageName: x\nSPDXID: SPDXRef-ContainerImage-x\n",
    ],
)
def test_hostile_tag_value_never_crashes(text: str) -> None:
    try:
        result = read_tag_value(text, "doc.spdx")
    except InputError:
        return
    assert isinstance(result, ReadResult)


def test_image_package_without_reference_is_noted() -> None:
    text = "SPDXVersion: SPDX-2.2\nPackageName: Some Image\nSPDXID: SPDXRef-ContainerImage-x\n"
    result = read_tag_value(text, "doc.spdx")
    assert result.components[0].kind is Kind.IMAGE
    assert result.components[0].image is None
    assert any("image reference" in n.message for n in result.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres", ImageRef("docker.io", "library/postgres")),
        ("postgres:16", ImageRef("docker.io", "library/postgres", "16")),
        ("index.docker.io/bitnami/postgresql", ImageRef("docker.io", "bitnami/postgresql")),
        ("localhost:5000/app:dev", ImageRef("localhost:5000", "app", "dev")),
        (
            "ghcr.io/org/app@sha256:" + "a" * 64,
            ImageRef("ghcr.io", "org/app", None, "sha256:" + "a" * 64),
        ),
        ("Upper/Case", None),
        ("has space:1", None),
        ("app@sha256:short", None),
    ],
)
def test_parse_image_reference(text: str, expected: ImageRef | None) -> None:
    assert parse_image_reference(text) == expected


def test_reader_reads_decoded_corpus_tag_value_directly() -> None:
    path = corpus(CENTOS)
    text = decode_text(read_bytes(path), str(path))
    assert looks_like_tag_value(text)
    assert len(read_tag_value(text, str(path)).components) == 3
