"""The evidence file as ``check`` uses it: best field first, mismatches, stale files.

Why: a lockfile states no licenses, so after ``evidence resolve`` the file
is what decides whether a GPL package in a lock is named as GPL or waved
through. The statement judged must be the record's best field (PEP 639's
order), a lock entry pinning another artifact than the one reviewed must
fail, and an entry the file does not know must say how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker import evidence
from checker.evidence.evidence_file import (
    EvidenceFile,
    IndexUsed,
    load_evidence,
    record_licenses,
    write_evidence,
)
from checker.evidence.records import Ecosystem, LicenseFields, PackageRecord
from checker.gate import check, read_all
from checker.model import EvidenceForm, Finding, Origin
from checker.policy import Policy, load_policy
from checker.rules import RULES, WAIVABLE, RuleId

ROOT = Path(__file__).resolve().parents[2]
SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
HERE = Origin("policy/evidence.json", "line 7")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def record(
    name: str,
    version: str,
    fields: LicenseFields,
    *,
    ecosystem: Ecosystem = Ecosystem.PYPI,
    digest: str | None = SHA_A,
) -> PackageRecord:
    return PackageRecord(
        ecosystem=ecosystem,
        name=name,
        version=version,
        fields=fields,
        url=f"/pypi/{name}/{version}/json",
        retrieved="2026-11-02",
        artifact=f"{name}-{version}-py3-none-any.whl",
        digest=digest,
    )


def statements(
    fields: LicenseFields, ecosystem: Ecosystem = Ecosystem.PYPI
) -> list[tuple[str, str]]:
    found = record_licenses(record("pkg", "1.0", fields, ecosystem=ecosystem), HERE)
    assert all(item.origin == HERE for item in found)
    return [(item.text, item.form.value) for item in found]


# --------------------------------------------------------------------------- precedence


def test_license_expression_outranks_every_other_field() -> None:
    fields = LicenseFields(
        license_expression="MIT OR Apache-2.0",
        license="BSD",
        classifiers=("License :: OSI Approved :: BSD License",),
    )
    assert statements(fields) == [("MIT OR Apache-2.0", EvidenceForm.EXPRESSION)]


def test_an_spdx_license_field_outranks_the_classifiers() -> None:
    """requests states ``License: Apache-2.0`` beside its classifier: the id decides."""
    fields = LicenseFields(
        license="Apache-2.0",
        classifiers=("License :: OSI Approved :: Apache Software License",),
    )
    assert statements(fields) == [("Apache-2.0", EvidenceForm.EXPRESSION)]


def test_classifiers_outrank_a_free_text_license() -> None:
    fields = LicenseFields(
        license="GNU General Public License (GPL)",
        classifiers=(
            "License :: OSI Approved",
            "License :: DFSG approved",
            "License :: OSI Approved :: GNU General Public License v2 (GPLv2)",
            "Programming Language :: Python",
        ),
    )
    assert statements(fields) == [
        ("License :: OSI Approved :: GNU General Public License v2 (GPLv2)", "classifier")
    ]


def test_free_text_is_the_last_resort_and_a_pasted_license_body_is_none() -> None:
    assert statements(LicenseFields(license="GNU GPL")) == [("GNU GPL", EvidenceForm.NAME)]
    body = "Copyright (c) 2001\n\nPermission is hereby granted, free of charge, ..."
    assert statements(LicenseFields(license=body)) == []
    assert statements(LicenseFields(license="UNKNOWN")) == []


def test_npm_license_is_an_expression() -> None:
    assert statements(LicenseFields(license="(MIT OR ISC)"), Ecosystem.NPM) == [
        ("(MIT OR ISC)", EvidenceForm.EXPRESSION)
    ]


# --------------------------------------------------------------------------- check


def lock(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    """A hashed requirements lock: (name, version, pinned digest) per entry."""
    lines = []
    for name, version, digest in entries:
        lines.append(f"{name}=={version} \\\n    --hash={digest}\n")
    path = tmp_path / "requirements.lock"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def evidence_file(tmp_path: Path, *records: PackageRecord) -> EvidenceFile:
    path = tmp_path / "evidence.json"
    index = (IndexUsed(Ecosystem.PYPI, "--index-url"),)
    write_evidence(path, EvidenceFile("2026-11-02", index, records))
    return load_evidence(path)


def findings_of(findings: list[Finding], name: str) -> dict[str, Finding]:
    return {f.rule.value: f for f in findings if f.component.name.lower() == name}


GPL = record(
    "mysqlclient",
    "2.2.4",
    LicenseFields(
        license="GNU General Public License (GPL)",
        classifiers=("License :: OSI Approved :: GNU General Public License v2 (GPLv2)",),
    ),
)
MIT = record("attrs", "23.1.0", LicenseFields(license_expression="MIT"))


def test_the_evidence_file_turns_unknown_licenses_into_verdicts(
    tmp_path: Path, policy: Policy
) -> None:
    path = lock(tmp_path, ("mysqlclient", "2.2.4", SHA_A), ("attrs", "23.1.0", SHA_A))
    before = check([path], policy)
    assert {f.rule for f in before.findings} == {RuleId.UNKNOWN_LICENSE}

    loaded = evidence_file(tmp_path, GPL, MIT)
    after = check([path], policy, evidence_file=loaded)
    gpl = findings_of(after.findings, "mysqlclient")
    assert set(gpl) == {"denied-license"}
    assert gpl["denied-license"].license == "GPL-2.0-only"
    # reported on the lock line to fix; the record's own line is where the license came from
    assert gpl["denied-license"].source.path == str(path)
    assert gpl["denied-license"].license_source == (
        f"{loaded.origin(GPL.key)} (registry metadata from /pypi/mysqlclient/2.2.4/json, "
        "retrieved 2026-11-02)"
    )
    assert findings_of(after.findings, "attrs") == {}


def test_a_lock_pinning_another_artifact_is_an_evidence_mismatch(
    tmp_path: Path, policy: Policy
) -> None:
    path = lock(tmp_path, ("attrs", "23.1.0", SHA_B))
    result = check([path], policy, evidence_file=evidence_file(tmp_path, MIT))
    found = findings_of(result.findings, "attrs")
    assert set(found) == {"evidence-mismatch"}
    mismatch = found["evidence-mismatch"]
    assert mismatch.severity.value == "error"
    assert mismatch.source.path == str(path) and mismatch.source.location == "line 1"
    assert "the artifact is not the one reviewed" in mismatch.message
    assert f"rune-policy evidence resolve {path}" in mismatch.message
    assert SHA_A in mismatch.message
    assert RuleId.EVIDENCE_MISMATCH not in WAIVABLE
    assert RULES[RuleId.EVIDENCE_MISMATCH].level.value == "error"


def test_a_lock_that_also_pins_the_reviewed_artifact_matches(
    tmp_path: Path, policy: Policy
) -> None:
    path = tmp_path / "requirements.lock"
    path.write_text(
        f"attrs==23.1.0 \\\n    --hash={SHA_B} \\\n    --hash={SHA_A}\n", encoding="utf-8"
    )
    result = check([path], policy, evidence_file=evidence_file(tmp_path, MIT))
    assert result.findings == []


def test_an_entry_missing_from_the_file_says_the_file_is_stale(
    tmp_path: Path, policy: Policy
) -> None:
    path = lock(tmp_path, ("attrs", "23.1.0", SHA_A), ("six", "1.16.0", SHA_A))
    loaded = evidence_file(tmp_path, MIT)
    found = findings_of(check([path], policy, evidence_file=loaded).findings, "six")
    message = found["unknown-license"].message
    assert f"{loaded.path} has no record of it (the file is stale)" in message
    assert f"run `rune-policy evidence resolve {path}` to fetch its license" in message


def test_without_an_evidence_file_a_lock_entry_says_how_to_get_one(
    tmp_path: Path, policy: Policy
) -> None:
    path = lock(tmp_path, ("six", "1.16.0", SHA_A))
    [finding] = check([path], policy).findings
    assert finding.message.endswith(
        f"unknown is not approved: run `rune-policy evidence resolve {path}` to fetch its "
        "license from the registry (or give an SBOM of the same environment)"
    )


def test_a_record_without_license_fields_says_so(tmp_path: Path, policy: Policy) -> None:
    path = lock(tmp_path, ("attrs", "23.1.0", SHA_A))
    empty = record("attrs", "23.1.0", LicenseFields(license_files=("LICENSE",)))
    loaded = evidence_file(tmp_path, empty)
    [finding] = check([path], policy, evidence_file=loaded).findings
    assert finding.rule is RuleId.UNKNOWN_LICENSE
    assert (
        f"the registry metadata at {loaded.origin(empty.key)} states no license (it names "
        "the license files LICENSE: read them)" in finding.message
    )


def test_an_sboms_silence_is_not_filled_from_the_file(tmp_path: Path, policy: Policy) -> None:
    sbom = tmp_path / "bom.cdx.json"
    sbom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", '
        '"name": "attrs", "version": "23.1.0", "purl": "pkg:pypi/attrs@23.1.0"}]}',
        encoding="utf-8",
    )
    [finding] = check([sbom], policy, evidence_file=evidence_file(tmp_path, MIT)).findings
    assert finding.rule is RuleId.UNKNOWN_LICENSE
    assert "find the license and fix the SBOM" in finding.message


# --------------------------------------------------------------------------- across sources


def test_the_file_ranks_after_the_run_and_before_the_decision_table(tmp_path: Path) -> None:
    path = lock(tmp_path, ("attrs", "23.1.0", SHA_A))
    loaded = evidence_file(tmp_path, MIT)
    results = read_all([path]).results
    chain = evidence.for_run(results, loaded)
    # The image knowledge base (policy/images.yaml) sits between the file and the table.
    assert [s.name for s in chain.sources] == [
        "run",
        "evidence-file",
        "knowledge-base",
        "decision-table",
    ]
    [component] = results[0].components
    resolution = chain.resolve(component, None)
    assert [name for name, _ in resolution.asked] == ["run", "evidence-file"]
    assert resolution.source is not None and resolution.source.startswith(loaded.path)
    assert [(e.text, e.form) for e in resolution.licenses] == [("MIT", EvidenceForm.EXPRESSION)]


def test_an_sbom_of_the_same_release_outranks_the_file(tmp_path: Path, policy: Policy) -> None:
    path = lock(tmp_path, ("mysqlclient", "2.2.4", SHA_A))
    sbom = tmp_path / "bom.cdx.json"
    sbom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", '
        '"name": "mysqlclient", "version": "2.2.4", "purl": "pkg:pypi/mysqlclient@2.2.4", '
        '"licenses": [{"license": {"id": "MIT"}}]}]}',
        encoding="utf-8",
    )
    result = check([path, sbom], policy, evidence_file=evidence_file(tmp_path, GPL))
    assert result.findings == []
