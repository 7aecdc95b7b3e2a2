"""Exports: OpenVEX 0.2.0 valid against the official schema, CycloneDX 1.6 VEX valid for
cyclonedx-python-lib, deterministic bytes, and what is left out said on stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft202012Validator

from checker.vex.openvex import parse_openvex
from tests.vex.vex_helpers import (
    ADR,
    DATA,
    SCHEMAS,
    TODAY_ARG,
    license_entry,
    run,
    vulnerability_entry,
    write_register,
)

VALID = DATA / "registers" / "valid"


def openvex_validator() -> Draft202012Validator:
    path = SCHEMAS / "openvex-0.2.0.schema.json"
    if not path.is_file():
        pytest.skip(f"the official OpenVEX schema is absent (expected at {path})")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def export(
    capsys: pytest.CaptureFixture[str], folder: Path, fmt: str, *extra: str
) -> tuple[int, str, str]:
    return run(
        capsys,
        "vex",
        "export",
        "--format",
        fmt,
        "--vex",
        str(folder),
        "--adr",
        str(ADR),
        *TODAY_ARG,
        *extra,
    )


def test_openvex_export_is_schema_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = export(capsys, VALID, "openvex")
    assert code == 0, err
    document = json.loads(out)
    errors = sorted(openvex_validator().iter_errors(document), key=str)
    assert errors == [], [e.message for e in errors]
    assert document["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert document["timestamp"] == "2026-04-15T00:00:00Z"  # the newest created date
    assert document["@id"].startswith("https://openvex.dev/docs/public/vex-")
    by_name = {s["vulnerability"]["name"]: s for s in document["statements"]}
    assert set(by_name) == {"CVE-2024-3094", "CVE-2023-39417"}
    xz = by_name["CVE-2024-3094"]
    assert xz["status"] == "not_affected"
    assert xz["justification"] == "vulnerable_code_not_present"
    assert xz["vulnerability"]["aliases"] == ["GHSA-rxwq-x6h5-x525"]
    assert "reference ADR-0006" in xz["status_notes"] and "VULN-0001" in xz["status_notes"]
    assert "expires 2026-12-01" in xz["status_notes"] and "CVSS 10" in xz["status_notes"]
    # The ranged product cannot be said in OpenVEX: left out, not widened.
    assert [p["@id"] for p in xz["products"]] == ["pkg:deb/debian/xz-utils@5.4.1-0.2"]
    assert "pkg:deb/debian/liblzma5 >=5.4,<5.6 left out" in err
    assert "2 license exceptions left out (LIC-0001, LIC-0002)" in err
    postgres = by_name["CVE-2023-39417"]
    assert postgres["action_statement"].startswith("Do not install untrusted extensions")
    assert "patch SLA 2026-09-30" in postgres["status_notes"]


def test_one_current_statement_per_vulnerability_and_product(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = export(capsys, VALID, "openvex")
    assert code == 0
    pairs = [
        (s["vulnerability"]["name"], p["@id"])
        for s in json.loads(out)["statements"]
        for p in s["products"]
    ]
    assert len(pairs) == len(set(pairs))


def test_exports_are_deterministic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "vex"
    shutil.copytree(VALID, copy)
    for fmt in ("openvex", "cyclonedx"):
        first = export(capsys, VALID, fmt)[1]
        again = export(capsys, VALID, fmt)[1]
        moved = export(capsys, copy, fmt)[1]  # another checkout, another path
        assert first == again == moved
    before = export(capsys, copy, "openvex")[1]
    register = copy / "register.yaml"
    register.write_text(
        register.read_text(encoding="utf-8").replace("expires: 2026-12-01", "expires: 2026-11-30"),
        encoding="utf-8",
    )
    after = export(capsys, copy, "openvex")[1]
    assert json.loads(before)["@id"] != json.loads(after)["@id"]


def test_openvex_export_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = export(capsys, VALID, "openvex")
    assert code == 0
    outcome = parse_openvex(json.loads(out), "export.json")
    assert outcome.errors == [] and outcome.warnings == []
    assert outcome.document is not None
    assert {s.vulnerability for s in outcome.document.statements} == {
        "CVE-2024-3094",
        "CVE-2023-39417",
    }


def test_cyclonedx_export_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "vex.cdx.json"
    code, out, err = export(capsys, VALID, "cyclonedx", "--output", str(target))
    assert code == 0 and out == "", err
    text = target.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom: dict[str, Any] = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["serialNumber"].startswith("urn:uuid:")
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    xz = vulns["CVE-2024-3094"]
    assert xz["analysis"]["state"] == "not_affected"
    assert xz["analysis"]["justification"] == "code_not_present"
    assert xz["analysis"]["detail"].startswith("The backdoored")
    assert xz["ratings"] == [{"score": 10.0, "severity": "critical"}]
    assert {"name": "rune:vex:reference", "value": "ADR-0006"} in xz["properties"]
    affects = {a["ref"]: a["versions"] for a in xz["affects"]}
    assert affects["pkg:deb/debian/liblzma5"] == [
        {"range": "vers:deb/>=5.4|<5.6", "status": "unaffected"}
    ]
    assert affects["pkg:deb/debian/xz-utils"] == [{"version": "5.4.1-0.2", "status": "unaffected"}]
    postgres = vulns["CVE-2023-39417"]
    assert postgres["analysis"]["state"] == "exploitable"
    assert postgres["analysis"]["response"] == ["will_not_fix"]
    assert postgres["recommendation"].startswith("Do not install")
    refs = {c["bom-ref"] for c in bom["components"]}
    assert all(a["ref"] in refs for v in bom["vulnerabilities"] for a in v["affects"])


def test_every_status_and_justification_exports_validly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entries = []
    justifications = (
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
    )
    for i, justification in enumerate(justifications):
        entries.append(
            vulnerability_entry(
                f"VULN-{i:04d}",
                f"CVE-2025-{1000 + i}",
                [f"pkg:pypi/lib{i}@1.0"],
                extra=f"    justification: {justification}\n",
            )
        )
    entries.append(
        vulnerability_entry(
            "VULN-0100",
            "GHSA-abcd-efgh-ijkl",
            ["pkg:golang/github.com/example/mod@v1.2.3"],
            status="fixed",
            extra="",
        )
    )
    entries.append(
        vulnerability_entry(
            "VULN-0101",
            "GO-2025-0001",
            ["pkg:npm/%40scope/pkg@2.0.0"],
            status="under_investigation",
            extra="",
        )
    )
    folder = write_register(tmp_path / "vex", *entries)
    code, out, err = export(capsys, folder, "openvex")
    assert code == 0, err
    assert list(openvex_validator().iter_errors(json.loads(out))) == []
    code, out, err = export(capsys, folder, "cyclonedx")
    assert code == 0, err
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out) is None
    states = {v["id"]: v["analysis"] for v in json.loads(out)["vulnerabilities"]}
    assert states["GHSA-abcd-efgh-ijkl"] == {
        "state": "resolved",
        "response": ["update"],
        "firstIssued": "2026-01-10T00:00:00Z",
    }
    assert "justification" not in states["CVE-2025-1003"]  # no CycloneDX counterpart
    assert "vulnerable_code_cannot_be_controlled_by_adversary" in states["CVE-2025-1003"]["detail"]


def test_expired_entries_are_left_out_and_empty_openvex_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write_register(
        tmp_path / "vex",
        vulnerability_entry(
            "VULN-0001", "CVE-2024-1234", ["pkg:npm/x@1.0.0"], expires="2026-05-01"
        ),
        license_entry("LIC-0001", "pkg:npm/y", "MIT"),
    )
    code, out, err = export(capsys, folder, "openvex")
    assert code == 2 and out == ""
    assert "VULN-0001 expired on 2026-05-01: left out" in err
    assert "an OpenVEX document needs at least one statement" in err
    code, out, err = export(capsys, folder, "cyclonedx")
    assert code == 2 and "no current vulnerability entry" in err
