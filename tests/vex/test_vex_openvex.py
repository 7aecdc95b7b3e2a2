"""Reading others' OpenVEX: the real corpus documents, the legacy v0.0.1 one, and bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.vex.openvex import parse_openvex, read_openvex
from tests.vex.vex_helpers import CORPUS, DATA, POLICY, TODAY_ARG, corpus, run

#: File -> (statements, statuses) as SOURCES.md describes them.
DOCUMENTS = {
    "go-vex_v0.2.0.json": (5, {"fixed": 3, "not_affected": 2}),
    "trivy_openvex-oci.json": (1, {"not_affected": 1}),
    "trivy_openvex.json": (1, {"not_affected": 1}),
    "vexctl_demo.vex.json": (1, {"fixed": 1}),
    "vexctl_v001-1.vex.json": (1, {"under_investigation": 1}),
    "vexhub_longhorn-engine_scan.openvex.json": (90, {"not_affected": 90}),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_corpus_documents_load(name: str) -> None:
    outcome = read_openvex(corpus(f"openvex/{name}"))
    assert outcome.errors == [], [str(p) for p in outcome.errors]
    assert outcome.document is not None
    count, statuses = DOCUMENTS[name]
    assert len(outcome.document.statements) == count
    found: dict[str, int] = {}
    for statement in outcome.document.statements:
        found[statement.status] = found.get(statement.status, 0) + 1
        assert statement.products and statement.vulnerability
    assert found == statuses


def test_details_survive_reading() -> None:
    go_vex = read_openvex(corpus("openvex/go-vex_v0.2.0.json")).document
    assert go_vex is not None
    product = go_vex.statements[0].products[0]
    assert product.id.startswith("pkg:oci/alpine@sha256%3A124c7d")
    assert product.subcomponents == (
        "pkg:apk/alpine/libssl3@3.0.8-r3",
        "pkg:apk/alpine/libcrypto3@3.0.8-r3",
    )
    longhorn = read_openvex(corpus("openvex/vexhub_longhorn-engine_scan.openvex.json")).document
    assert longhorn is not None
    assert longhorn.statements[0].aliases == ("GO-2022-0646", "GHSA-f5pg-7wfw-84q9")
    demo = read_openvex(corpus("openvex/vexctl_demo.vex.json")).document
    assert demo is not None
    assert [p.id for p in demo.statements[0].products] == [
        "pkg:apk/distro/git@2.39.0-r1?arch=armv7",
        "pkg:apk/distro/git@2.39.0-r1?arch=x86_64",
    ]


def test_schema_deviations_are_warnings() -> None:
    oci = read_openvex(corpus("openvex/trivy_openvex-oci.json"))
    assert [w.message for w in oci.warnings] == ["has no @id (required by the OpenVEX schema)"]
    trivy = read_openvex(corpus("openvex/trivy_openvex.json"))
    assert trivy.document is not None
    assert trivy.document.statements[0].vulnerability == "CVE-2022-23628"
    assert any("has only an @id" in w.message for w in trivy.warnings)


def test_legacy_v001_is_upgraded_with_a_clear_warning() -> None:
    outcome = read_openvex(corpus("openvex/vexctl_v001-1.vex.json"))
    assert outcome.errors == []
    assert outcome.document is not None and outcome.document.upgraded_from == "v0.0.1"
    (statement,) = outcome.document.statements
    assert statement.vulnerability == "CVE-1234-5678"
    assert [p.id for p in statement.products] == ["pkg:apk/wolfi/bash@1.0.0"]
    assert statement.timestamp == "2022-12-22T16:36:43-05:00"
    assert any("legacy OpenVEX v0.0.1" in w.message for w in outcome.warnings)


def test_unsupported_and_foreign_documents_are_refused() -> None:
    newer = parse_openvex({"@context": "https://openvex.dev/ns/v0.3.0", "statements": []}, "x.json")
    assert newer.document is None
    assert "OpenVEX version 'v0.3.0' is not read by this gate" in newer.errors[0].message
    cyclonedx = parse_openvex({"bomFormat": "CycloneDX", "specVersion": "1.6"}, "bom.json")
    assert cyclonedx.document is None
    assert "is not an OpenVEX document (no @context)" in cyclonedx.errors[0].message
    assert parse_openvex([1, 2], "list.json").errors[0].location == "$"


def test_incomplete_statements_are_errors_with_json_paths() -> None:
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "Example",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2024-1234"}, "products": [{"@id": "pkg:npm/x"}]},
            {
                "vulnerability": {"name": "CVE-2024-1235"},
                "products": [{"@id": "pkg:npm/x"}],
                "status": "not_affected",
            },
            {
                "vulnerability": {"name": "CVE-2024-1236"},
                "products": [{"hashes": {"sha1": "00"}}],
                "status": "affected",
            },
            {"products": [{"@id": "pkg:npm/x"}], "status": "fixed", "adr": "ADR-0007"},
        ],
    }
    outcome = parse_openvex(document, "bad.json")
    assert outcome.document is None
    found = {(p.location, p.message.split(":")[0]) for p in outcome.errors}
    assert ("$.statements[0].status", "a statement needs a status") in found
    assert (
        "$.statements[1]",
        "status not_affected needs a justification or an impact_statement",
    ) in found
    assert ("$.statements[2]", "status affected needs an action_statement") in found
    assert (
        "$.statements[2].products[0]",
        "a product needs an @id or identifiers.purl (a purl is what Trivy and Grype match)",
    ) in found
    assert (
        "$.statements[3].vulnerability",
        "a statement needs a vulnerability with a name",
    ) in found
    assert any(w.location == "$.statements[3].adr" for w in outcome.warnings)


def test_bad_json_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"@context": "https://openvex.dev/ns/v0.2.0",\n "statements": [,]}', encoding="utf-8"
    )
    outcome = read_openvex(bad)
    assert outcome.document is None
    assert outcome.errors[0].location.startswith("line 2 column")


def test_check_reads_openvex_beside_the_register(capsys: pytest.CaptureFixture[str]) -> None:
    folder = CORPUS / "openvex"
    if not folder.is_dir():
        pytest.skip(f"shared corpus folder openvex is absent (expected at {folder})")
    code, out, err = run(
        capsys,
        "check",
        str(DATA / "agpl-service.cdx.json"),
        "--vex",
        str(folder),
        "--policy",
        str(POLICY),
        *TODAY_ARG,
        "--verbose",
    )
    assert code == 1  # vulnerability statements accept no license finding
    assert "vex: 99 vulnerability statements read and valid, not applied" in out
    assert "6 OpenVEX documents (99 statements)" in err
    assert "legacy OpenVEX v0.0.1" in err


def test_broken_openvex_in_check_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = tmp_path / "supplier.openvex.json"
    doc.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "statements": [{"vulnerability": {"name": "CVE-2024-1"}, "status": "nope"}],
            }
        ),
        encoding="utf-8",
    )
    code, _, err = run(
        capsys,
        "check",
        str(DATA / "agpl-service.cdx.json"),
        "--vex",
        str(doc),
        "--policy",
        str(POLICY),
    )
    assert code == 2
    assert "supplier.openvex.json:$.statements[0].status: status 'nope' must be one of" in err
    assert "supplier.openvex.json:$.statements[0].products" in err
