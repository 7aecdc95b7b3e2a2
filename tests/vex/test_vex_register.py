"""Loading and validating the register: schema, OpenVEX rules, references, expiry, overlaps."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from checker.errors import Problem
from checker.matching import parse_purl
from checker.policy import adr_index
from checker.rules import WAIVABLE, RuleId
from checker.versions import parse_range
from checker.vex.fields import check_license, parse_subject_purl
from checker.vex.loader import VexSet, load_vex
from checker.vex.model import SPDX_NORMALIZER, LicenseException, VulnerabilityEntry, ranges_overlap
from checker.vex.vocabulary import EntryKind, Status
from tests.vex.vex_helpers import (
    ADR,
    DATA,
    ROOT,
    TODAY,
    TODAY_ARG,
    license_entry,
    run,
    vulnerability_entry,
    write_register,
)

ADRS = set(adr_index(ADR))


def load(folder: Path, today: date = TODAY) -> VexSet:
    return load_vex([folder], adr_ids=ADRS, today=today)


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def test_example_register_loads_every_field() -> None:
    vex = load(DATA / "registers" / "valid")
    assert not vex.errors and not vex.expired, messages(vex.errors + vex.expired)
    lic, image, vuln, affected = vex.register.entries
    assert isinstance(lic, LicenseException) and lic.id == "LIC-0001"
    assert lic.subject.versions is not None and str(lic.subject.versions) == ">=1.24,<1.25"
    assert lic.expression is not None and lic.expression.expression == "AGPL-3.0-only"
    assert lic.reason.startswith("Runs only in the offline report builder, which")
    assert lic.created == date(2026, 1, 10) and lic.expires == date(2027, 1, 10)
    assert lic.origin.location == "line 6"
    assert isinstance(image, LicenseException) and image.rule == "rejected-component"
    assert image.subject.image is not None
    assert image.subject.image.name == "docker.io/bitnami/postgresql"
    assert isinstance(vuln, VulnerabilityEntry) and vuln.aliases == ("GHSA-rxwq-x6h5-x525",)
    assert [p.describe() for p in vuln.products] == [
        "pkg:deb/debian/xz-utils@5.4.1-0.2",
        "pkg:deb/debian/liblzma5 >=5.4,<5.6",
    ]
    assert vuln.cvss == 10.0 and vuln.justification == "vulnerable_code_not_present"
    assert isinstance(affected, VulnerabilityEntry)
    assert affected.status == "affected" and affected.response == ("will_not_fix",)
    assert affected.patch_sla == date(2026, 9, 30)


def test_shipped_register_is_valid_and_documents_the_schema() -> None:
    vex = load(ROOT / "vex")
    assert not vex.errors and not vex.expired and not vex.warnings
    assert vex.register.entries == []
    header = (ROOT / "vex" / "register.yaml").read_text(encoding="utf-8")
    for word in ("kind: license", "kind: vulnerability", "approver", "reference", "expires"):
        assert word in header


def test_broken_register_lists_every_problem_with_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = DATA / "registers" / "broken"
    code, out, err = run(
        capsys, "vex", "validate", "--vex", str(folder), "--adr", str(ADR), *TODAY_ARG
    )
    assert code == 2 and out == ""
    expected = [
        "a-syntax.yaml:line 7 column 1: is not valid YAML",
        "b-entries.yaml:line 8: status 'exploitable' must be one of",
        "b-entries.yaml:line 19: ADR-0999 does not resolve",
        "b-entries.yaml:line 29: 'created' must be a date written YYYY-MM-DD, found '01/10/2026'",
        "b-entries.yaml:line 30: 'expires' must be a date written YYYY-MM-DD, found '2026-7-1'",
        "b-entries.yaml:line 33: purl 'npm:lodash@4' does not parse",
        "b-entries.yaml:line 39: 'expires' is '2026-02-30', which is not a calendar date",
        "b-entries.yaml:line 40: status not_affected needs a 'justification'",
        "b-entries.yaml:line 46: reference 'http://example.com/issues/1' must use https://",
        "b-entries.yaml:line 49: unknown key 'severity'",
    ]
    for text in expected:
        assert text in err, text
    assert "has 10 problems" in err
    assert "Traceback" not in err


def check_one(tmp_path: Path, entry: str, today: date = TODAY) -> VexSet:
    return load(write_register(tmp_path / "vex", entry), today)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            license_entry("LIC-1", "pkg:npm/x@1", "MIT", reference="ADR-7"),
            "must look like ADR-0007",
        ),
        (license_entry("LIC-1", "pkg:npm/x@1", "MIT", reference="see ADR"), "must be ADR-NNNN"),
        (license_entry("LIC-1", "pkg:npm/*", "MIT"), "has a glob"),
        (license_entry("LIC-1", "pkg:npm/x@1", "MIT", versions=">=1"), "use one or the other"),
        (license_entry("LIC-1", "pkg:npm/x", "MIT", versions="~1.2"), "must start with one of"),
        (license_entry("LIC-1", "pkg:npm/x", "GPL-2.0-onyl"), "SPDX does not know"),
        (license_entry("LIC-1", "pkg:npm/x", "denied-licence"), "neither a rule id"),
        (license_entry("LIC-1", "pkg:npm/x", "unused-exception"), "cannot be waived"),
        (license_entry("LIC-1", "pkg:npm/x", "MIT AND"), "not an SPDX expression"),
        (
            license_entry(
                "LIC-1", "docker.io/library/postgres:17", "rejected-component", key="image"
            ),
            "has no digest",
        ),
        (license_entry("LIC-1", "pkg:npm/x", "MIT", created="2026-07-01"), "after today"),
        (
            license_entry("LIC-1", "pkg:npm/x", "MIT", created="2026-05-01", expires="2026-04-01"),
            "is before 'created'",
        ),
        (license_entry("bad id!", "pkg:npm/x", "MIT"), "must be letters, digits"),
        (
            vulnerability_entry("V-1", "CVE-2024-1", ["pkg:npm/x"]),
            "is not a CVE id",
        ),
        (
            vulnerability_entry("V-1", "CVE-2024-1234", ["pkg:npm/x"], status="affected", extra=""),
            "needs an 'action_statement'",
        ),
        (
            vulnerability_entry(
                "V-1",
                "CVE-2024-1234",
                ["pkg:npm/x"],
                status="affected",
                extra="    action_statement: Upgrade.\n    justification: component_not_present\n",
            ),
            "goes with status not_affected only",
        ),
        (
            vulnerability_entry(
                "V-1",
                "CVE-2024-1234",
                ["pkg:npm/x"],
                status="fixed",
                extra="    action_statement: Upgrade.\n",
            ),
            "'action_statement' goes with status affected only",
        ),
        (
            vulnerability_entry(
                "V-1", "CVE-2024-1234", ["pkg:npm/x"], extra="    justification: not_exploitable\n"
            ),
            "justification 'not_exploitable' must be one of",
        ),
        (
            vulnerability_entry(
                "V-1",
                "CVE-2024-1234",
                ["pkg:npm/x"],
                extra="    justification: component_not_present\n    cvss: 11\n",
            ),
            "'cvss' must be from 0 to 10",
        ),
        (
            vulnerability_entry(
                "V-1",
                "CVE-2024-1234",
                ["pkg:npm/x"],
                extra="    justification: component_not_present\n    aliases: [CVE-2024-1234]\n",
            ),
            "repeats the vulnerability id",
        ),
        (
            vulnerability_entry("V-1", "CVE-2024-1234", ["pkg:npm/x", "pkg:npm/x@2"]),
            "overlap",
        ),
        (
            license_entry("LIC-1", "pkg:npm/x", "MIT").replace("kind: license", "kind: licence"),
            "kind 'licence' must be one of",
        ),
        (
            license_entry("LIC-1", "pkg:npm/x", "MIT") + "    status: fixed\n",
            "it belongs to kind: vulnerability entries",
        ),
    ],
)
def test_each_mistake_is_reported(tmp_path: Path, entry: str, message: str) -> None:
    vex = check_one(tmp_path, entry)
    assert message in messages(vex.errors), messages(vex.errors)
    assert all(p.location.startswith("line ") for p in vex.errors)


def test_duplicate_ids_across_files_and_overlaps(tmp_path: Path) -> None:
    folder = tmp_path / "vex"
    write_register(folder, license_entry("LIC-0001", "pkg:npm/x", "MIT"), name="a.yaml")
    write_register(
        folder,
        license_entry("LIC-0001", "pkg:npm/y", "MIT"),
        license_entry("LIC-0002", "pkg:npm/x", "MIT", versions=">=1,<2"),
        license_entry("LIC-0003", "pkg:npm/x@3.1.0", "denied-license"),
        license_entry("LIC-0004", "pkg:npm/x@3.1.0", "rejected-component"),
        vulnerability_entry("VULN-0001", "CVE-2024-1234", ["pkg:deb/debian/tar"]),
        vulnerability_entry(
            "VULN-0002",
            "GHSA-aaaa-bbbb-cccc",
            ["pkg:deb/debian/tar@1.34"],
            extra="    justification: component_not_present\n    aliases: [CVE-2024-1234]\n",
        ),
        name="b.yaml",
    )
    text = messages(load(folder).errors)
    assert "b.yaml:line 3: duplicate id 'LIC-0001' (first at " in text
    assert "LIC-0002 overlaps LIC-0001" in text
    assert "LIC-0003 overlaps LIC-0001" in text  # MIT findings of x@3.1.0 are denied-license ones
    assert "LIC-0004" not in text  # another rule: no overlap
    assert "VULN-0002 overlaps VULN-0001" in text and "CVE-2024-1234" in text


def test_disjoint_versions_and_qualifiers_do_not_overlap(tmp_path: Path) -> None:
    folder = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:npm/x", "MIT", versions=">=1,<2"),
        license_entry("LIC-0002", "pkg:npm/x", "MIT", versions=">=2"),
        license_entry("LIC-0003", "pkg:apk/wolfi/git@2.39?arch=x86_64", "MIT"),
        license_entry("LIC-0004", "pkg:apk/wolfi/git@2.39?arch=armv7", "MIT"),
        license_entry("LIC-0005", "pkg:npm/x@1.5.0", "Apache-2.0"),
    )
    assert load(folder).errors == []


def test_expiry_is_judged_on_the_given_day(tmp_path: Path) -> None:
    folder = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:npm/a", "MIT", expires="2026-05-31"),
        license_entry("LIC-0002", "pkg:npm/b", "MIT", expires="2026-06-01"),
        license_entry("LIC-0003", "pkg:npm/c", "MIT", expires="2026-07-01"),
        license_entry("LIC-0004", "pkg:npm/d", "MIT", expires="2026-07-02"),
    )
    vex = load(folder)
    assert vex.errors == []
    assert ["LIC-0001" in p.message for p in vex.expired] == [True]
    assert "expired on 2026-05-31 (1 day ago)" in vex.expired[0].message
    warned = messages(vex.warnings)
    assert "LIC-0002 expires on 2026-06-01 (its last day)" in warned
    assert "LIC-0003 expires on 2026-07-01 (30 days left)" in warned
    assert "LIC-0004" not in warned
    later = load(folder, TODAY + timedelta(days=400))
    assert len(later.expired) == 4


def test_expired_current_renewal_is_no_overlap(tmp_path: Path) -> None:
    folder = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:npm/a", "MIT", expires="2026-03-01"),
        license_entry("LIC-0002", "pkg:npm/a", "MIT", created="2026-03-01"),
    )
    vex = load(folder)
    assert vex.errors == [] and len(vex.expired) == 1


def test_patch_sla_passed_warns(tmp_path: Path) -> None:
    entry = vulnerability_entry(
        "VULN-0001",
        "CVE-2024-1234",
        ["pkg:npm/x@1.0.0"],
        status="affected",
        extra="    action_statement: Upgrade to 1.0.1.\n    patch_sla: 2026-05-01\n",
    )
    vex = check_one(tmp_path, entry)
    assert vex.errors == []
    assert "the patch SLA (2026-05-01) has passed" in messages(vex.warnings)


def test_empty_and_entry_less_files(tmp_path: Path) -> None:
    folder = tmp_path / "vex"
    folder.mkdir()
    (folder / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    (folder / "none.yaml").write_text("version: 1\nentries: []\n", encoding="utf-8")
    (folder / "bad.yaml").write_text("version: 2\nitems: []\n", encoding="utf-8")
    text = messages(load(folder).errors)
    assert "bad.yaml:line 1: 'version' must be 1" in text
    assert "unknown key 'items'" in text and "missing key 'entries'" in text
    assert "empty.yaml" not in text and "none.yaml" not in text


def test_ranges_overlap() -> None:
    assert ranges_overlap(parse_range(">=1,<2"), parse_range(">=1.5"))
    assert not ranges_overlap(parse_range(">=1,<2"), parse_range(">=2"))
    assert ranges_overlap(parse_range("<=2"), parse_range(">=2"))
    assert not ranges_overlap(parse_range("<2"), parse_range(">2"))
    assert not ranges_overlap(parse_range("==1.4"), parse_range("!=1.4"))
    assert ranges_overlap(parse_range("==1.4.0"), parse_range(">=1.4,<1.5"))


def test_subject_matching_uses_purl_rules() -> None:
    subject = parse_subject_purl("pkg:pypi/PyMuPDF")
    ident = parse_purl("pkg:pypi/pymupdf@1.24.10")
    assert subject.matches(ident, "1.24.10", None)
    qualified = parse_subject_purl("pkg:apk/wolfi/git@2.39?arch=x86_64")
    git = parse_purl("pkg:apk/wolfi/git@2.39?arch=x86_64&distro=wolfi")
    assert qualified.matches(git, "2.39", None, {"arch": "x86_64", "distro": "wolfi"})
    assert not qualified.matches(git, "2.39", None, {"arch": "armv7"})
    assert not qualified.matches(git, "2.39", None, {})


def test_a_license_value_is_a_waivable_rule_or_an_spdx_expression() -> None:
    rule = check_license("rejected-component", SPDX_NORMALIZER)
    assert rule.rule is RuleId.REJECTED_COMPONENT and rule.expression is None
    assert rule.problem is None
    expression = check_license("GPL-2.0", SPDX_NORMALIZER)
    assert expression.rule is None and expression.problem is None
    assert expression.expression is not None
    assert expression.expression.expression == "GPL-2.0-only"
    refused = check_license("unused-exception", SPDX_NORMALIZER)
    waivable = ", ".join(WAIVABLE)
    assert refused.problem == f"rule 'unused-exception' cannot be waived (waivable: {waivable})"
    assert waivable.startswith("rejected-component, bundled-byo, unapproved-stack-component")


def test_entries_carry_their_kind_and_status_as_members() -> None:
    vex = load(DATA / "registers" / "valid")
    kinds = [e.kind for e in vex.register.entries]
    assert kinds == [EntryKind.LICENSE, EntryKind.LICENSE] + [EntryKind.VULNERABILITY] * 2
    statuses = {e.status for e in vex.register.vulnerabilities}
    assert all(isinstance(s, Status) for s in statuses)
