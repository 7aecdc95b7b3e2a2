"""The reviewer's commands: `vex add`, `vex list`, `vex validate`, then `check`.

`vex add` appends text: every byte of the file before it (comments, order,
quoting, the other entries) is still there after it, and invalid input is
refused with the reason and the file left untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from checker.yamlio import load_yaml
from tests.vex.vex_helpers import (
    DATA,
    JUICE_SHOP,
    TODAY_ARG,
    corpus,
    license_entry,
    repository,
    run,
)

AGPL = DATA / "agpl-service.cdx.json"


def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    return repo


def add_license(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run(
        capsys,
        "vex",
        "add",
        "--kind",
        "license",
        "--component",
        "pkg:pypi/pymupdf",
        "--versions",
        ">=1.24,<1.25",
        "--license",
        "AGPL-3.0-only",
        "--reason",
        "Offline report builder only: not distributed, not a network service.",
        "--approver",
        "Jane Doe",
        "--ref",
        "ADR-0007",
        "--expires",
        "2026-12-31",
        *TODAY_ARG,
        *extra,
    )


def test_reviewer_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = in_repo(monkeypatch, tmp_path)
    register = repo / "vex" / "register.yaml"
    shipped = register.read_text(encoding="utf-8")

    code, _, err = run(capsys, "check", str(AGPL), *TODAY_ARG)
    assert code == 1 and err == ""

    code, out, err = add_license(capsys)
    assert code == 0, err
    assert out == "added LIC-0001 to vex/register.yaml (expires 2026-12-31, 213 days left)\n"
    code, out, err = run(
        capsys,
        "vex",
        "add",
        "--kind",
        "vulnerability",
        "--vulnerability",
        "CVE-2024-3094",
        "--alias",
        "GHSA-rxwq-x6h5-x525",
        "--product",
        "pkg:deb/debian/xz-utils@5.4.1-0.2",
        "--status",
        "not_affected",
        "--justification",
        "vulnerable_code_not_present",
        "--impact",
        "The backdoored releases are not shipped.",
        "--cvss",
        "10",
        "--approver",
        "Security Team",
        "--ref",
        "https://github.com/example/rune/issues/123",
        "--expires",
        "2026-06-20",
        *TODAY_ARG,
    )
    assert code == 0, err
    assert "added VULN-0001" in out
    assert "VULN-0001 expires on 2026-06-20 (19 days left)" in err  # within 30 days: warned

    text = register.read_text(encoding="utf-8")
    assert text.startswith(shipped)  # nothing before the new entries moved
    doc, problems = load_yaml(text, str(register))
    assert problems == [] and doc is not None
    assert [e["id"] for e in doc.data["entries"]] == ["LIC-0001", "VULN-0001"]
    assert doc.data["entries"][0]["created"] == "2026-06-01"

    code, out, _ = run(capsys, "vex", "list", *TODAY_ARG)
    assert code == 0
    assert "LIC-0001   license" in out and "213 days left" in out
    assert "VULN-0001  vulnerability" in out and "19 days left" in out

    code, out, err = run(capsys, "vex", "validate", *TODAY_ARG)
    assert code == 0
    assert "2 license" not in out and "1 license exception, 1 vulnerability entry" in out
    assert "1 warning" in out

    code, out, err = run(capsys, "check", str(AGPL), *TODAY_ARG, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["summary"]["accepted"] == 1
    (finding,) = report["findings"]
    assert finding["accepted"]["entry"] == "LIC-0001"

    code, _, err = run(capsys, "vex", "validate", "--today", "2027-01-01")
    assert code == 2
    assert "LIC-0001 expired on 2026-12-31 (1 day ago)" in err
    assert "VULN-0001 expired on 2026-06-20" in err


def test_add_never_loses_entries_or_comments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    register = tmp_path / "vex" / "register.yaml"
    register.parent.mkdir()
    before = (
        "# Header comment, kept.\n"
        "version: 1  # trailing comment\n"
        "entries:\n"
        "# items at column 0, as some editors write them\n"
        "- id: LIC-0007\n"
        "  kind: license\n"
        "  component: 'pkg:npm/left-pad@1.3.0'   # quoted on purpose\n"
        "  license: WTFPL\n"
        "  reason: >-\n"
        "    Folded text that a re-dump\n"
        "    would rewrite.\n"
        "  approver: Jane Doe\n"
        "  reference: ADR-0007\n"
        "  created: 2026-01-10\n"
        "  expires: 2027-01-10\n"
        "\n"
        "# a comment after the last entry"  # and no final newline
    )
    register.write_text(before, encoding="utf-8")
    code, _, err = add_license(capsys, "--file", str(register), "--adr", str(tmp_path.parent))
    assert code == 2 and "ADR-0007 does not resolve" in err  # no adr/ there: refused
    assert register.read_text(encoding="utf-8") == before

    adr = tmp_path / "adr"
    adr.mkdir()
    (adr / "0007-policy-as-data.md").write_text("# ADR\n", encoding="utf-8")
    code, _, err = add_license(capsys, "--file", str(register))
    assert code == 0, err
    after = register.read_text(encoding="utf-8")
    assert after.startswith(before + "\n")
    added = after[len(before) + 1 :]
    assert added.startswith("- id: LIC-0008\n  kind: license\n")  # same column as the others
    assert "  versions: '>=1.24,<1.25'\n" in added
    assert (
        "  reason: 'Offline report builder only: not distributed, not a network service.'\n"
        in added
    )
    doc, problems = load_yaml(after, str(register))
    assert problems == [] and doc is not None
    assert [e["id"] for e in doc.data["entries"]] == ["LIC-0007", "LIC-0008"]


def test_add_to_empty_flow_list_and_to_a_new_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = repository(tmp_path)
    register = repo / "vex" / "extra.yaml"
    register.write_text("version: 1\nentries: []  # none yet\n", encoding="utf-8")
    os.chmod(register, 0o640)
    code, _, err = add_license(capsys, "--file", str(register))
    assert code == 0, err
    text = register.read_text(encoding="utf-8")
    assert text.startswith("version: 1\nentries:  # none yet\n  - id: LIC-0001\n")
    assert oct(register.stat().st_mode & 0o777) == oct(0o640)  # the mode is kept

    fresh = repo / "vex" / "more.yaml"  # does not exist yet
    code, _, err = add_license(capsys, "--file", str(fresh), "--component", "pkg:npm/other")
    assert code == 0, err  # the later --component wins, as argparse does
    assert fresh.read_text(encoding="utf-8").startswith("# VEX register")
    code, out, err = run(capsys, "vex", "validate", "--vex", str(repo / "vex"), *TODAY_ARG)
    assert code == 0, err
    assert "3 register files (2 license exceptions" in out
    assert "LIC-0002" in fresh.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--expires", "2026-13-01"], "'expires' is '2026-13-01', which is not a calendar date"),
        (["--expires", "31.12.2026"], "'expires' must be a date written YYYY-MM-DD"),
        (["--expires", "2026-05-01"], "'expires' (2026-05-01) is before 'created' (2026-06-01)"),
        (["--ref", "ADR-0042"], "ADR-0042 does not resolve"),
        (["--component", "pypi/pymupdf"], "does not parse"),
        (["--license", "AGPL-3.0-onyl"], "SPDX does not know"),
        (["--versions", "1.24.x"], "must start with one of"),
    ],
)
def test_add_refuses_invalid_input_and_leaves_the_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    reason: str,
) -> None:
    repo = in_repo(monkeypatch, tmp_path)
    register = repo / "vex" / "register.yaml"
    before = register.read_bytes()
    code, out, err = add_license(capsys, *extra)
    assert code == 2 and out == ""
    assert "the entry was not added to vex/register.yaml" in err
    assert "new entry LIC-0001: " in err and reason in err
    assert register.read_bytes() == before
    assert sorted(p.name for p in register.parent.iterdir()) == ["register.yaml"]


def test_add_vulnerability_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_repo(monkeypatch, tmp_path)
    common = ["--approver", "A", "--ref", "ADR-0006", "--expires", "2026-12-01", *TODAY_ARG]
    code, _, err = run(
        capsys,
        "vex",
        "add",
        "--kind",
        "vulnerability",
        "--vulnerability",
        "CVE-2024-3094",
        "--product",
        "pkg:deb/debian/xz-utils",
        "--status",
        "exploitable",
        *common,
    )
    assert code == 2 and "status 'exploitable' must be one of" in err
    code, _, err = run(
        capsys,
        "vex",
        "add",
        "--kind",
        "vulnerability",
        "--vulnerability",
        "CVE-2024-3094",
        "--product",
        "pkg:deb/debian/xz-utils",
        "--status",
        "not_affected",
        *common,
    )
    assert code == 2 and "needs a 'justification' or an 'impact_statement'" in err
    code, _, err = run(
        capsys,
        "vex",
        "add",
        "--kind",
        "vulnerability",
        "--vulnerability",
        "CVE-2024-3094",
        "--status",
        "affected",
        *common,
    )
    assert code == 2 and "--kind vulnerability needs --product" in err
    code, _, err = run(
        capsys, "vex", "add", "--kind", "license", "--status", "fixed", "--license", "MIT", *common
    )
    assert code == 2 and "--status do(es) not go with --kind license" in err


def test_add_refuses_an_overlap_with_a_current_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = in_repo(monkeypatch, tmp_path)
    assert add_license(capsys)[0] == 0
    before = (repo / "vex" / "register.yaml").read_text(encoding="utf-8")
    code, _, err = add_license(capsys, "--versions", ">=1.24.5")
    assert code == 2 and "LIC-0002 overlaps LIC-0001" in err
    assert (repo / "vex" / "register.yaml").read_text(encoding="utf-8") == before


def test_add_refuses_when_entries_is_not_last(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = repository(tmp_path)
    register = repo / "vex" / "register.yaml"
    register.write_text(
        "entries:\n" + license_entry("LIC-0001", "pkg:npm/x", "MIT") + "version: 1\n"
    )
    before = register.read_text(encoding="utf-8")
    code, _, err = add_license(capsys, "--file", str(register))
    assert code == 2 and "'entries' must be the last top-level key" in err
    assert register.read_text(encoding="utf-8") == before


def test_add_refuses_a_flow_list_of_entries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Appending a block item after `entries: [...]` would not be YAML; the
    # loader's sequences know how they were written.
    repo = repository(tmp_path)
    register = repo / "vex" / "register.yaml"
    register.write_text("version: 1\nentries: [{id: LIC-0001}]\n", encoding="utf-8")
    code, _, err = add_license(capsys, "--file", str(register))
    assert code == 2 and "'entries' must be a block list" in err
    assert register.read_text(encoding="utf-8") == "version: 1\nentries: [{id: LIC-0001}]\n"


def test_list_and_validate_need_a_register(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "vex", "list")
    assert code == 2 and "no ./vex folder here" in err
    code, _, err = run(capsys, "vex")
    assert code == 2 and "give a VEX_COMMAND" in err
    code, _, err = run(capsys, "vex", "validate", "--vex", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml: not found" in err


def test_round_trip_on_the_corpus_sbom(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sbom = corpus(JUICE_SHOP)
    in_repo(monkeypatch, tmp_path)
    code, _, err = run(
        capsys,
        "vex",
        "add",
        "--kind",
        "license",
        "--component",
        "pkg:npm/fuzzball@1.4.0",
        "--license",
        "GPL-2.0-only",
        "--reason",
        "Fuzzy matching in the demo shop only.",
        "--approver",
        "Jane Doe",
        "--ref",
        "ADR-0007",
        "--expires",
        "2026-09-01",
        *TODAY_ARG,
    )
    assert code == 0, err
    code, out, _ = run(capsys, "check", str(sbom), *TODAY_ARG)
    assert code == 1  # the unlicensed components still fail
    assert "ACCEPTED denied-license: fuzzball@1.4.0" in out
    assert "accepted by LIC-0001" in out and "expires 2026-09-01 (92 days left)" in out
    assert "denied-license (" not in out
    code, out, _ = run(capsys, "check", str(sbom), "--today", "2026-09-02")
    assert "expired-exception: exception LIC-0001 (ADR-0007, approved by Jane Doe)" in out
