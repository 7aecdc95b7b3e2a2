"""The gate honours the register: accepted, expired-exception, unused-exception, exit codes.

The issue's "Done when": on real SBOMs from the corpus and on a small SBOM of
our own with an AGPL library (no corpus SBOM has one), a denied component
fails; a current exception with an ADR reference makes it pass; the same
exception expired fails with ``expired-exception``; an exception for a
component that is not there warns ``unused-exception``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.gate import check
from checker.model import Severity
from checker.policy import load_policy
from checker.vex.loader import load_vex
from tests.vex.vex_helpers import (
    ADR,
    DATA,
    JUICE_SHOP,
    JUICE_SHOP_UNLICENSED,
    POLICY,
    TODAY,
    TODAY_ARG,
    corpus,
    license_entry,
    run,
    write_register,
)

AGPL = DATA / "agpl-service.cdx.json"
POD = DATA / "bitnami-pod.yaml"
BASE = ["--policy", str(POLICY), *TODAY_ARG, "--format", "json"]


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = run(capsys, "check", *argv, *BASE)
    return code, json.loads(out), err


def rules(data: dict, *, accepted: bool | None = None) -> list[str]:  # type: ignore[type-arg]
    return sorted(
        f["rule"] for f in data["findings"] if accepted is None or ("accepted" in f) is accepted
    )


# --------------------------------------------------------------------------- AGPL fixture


def test_agpl_component_fails_without_register(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = report(capsys, str(AGPL), "--no-vex")
    assert code == 1
    assert rules(data) == ["denied-license"]
    assert data["summary"]["accepted"] == 0


def test_current_exception_with_adr_makes_agpl_pass(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex", license_entry("LIC-0001", "pkg:pypi/pymupdf@1.24.10", "AGPL-3.0-only")
    )
    code, data, err = report(capsys, str(AGPL), "--vex", str(vex))
    assert code == 0, err
    assert data["verdict"] == "pass"
    assert data["summary"] == {
        "components": 4,
        "entries": 4,
        "inputs": 1,
        "errors": 0,
        "warnings": 0,
        "accepted": 1,
    }
    (finding,) = data["findings"]
    assert finding["rule"] == "denied-license" and finding["severity"] == "error"
    assert finding["accepted"]["entry"] == "LIC-0001"
    assert finding["accepted"]["reference"] == "ADR-0007"
    assert finding["accepted"]["expires"] == "2027-01-10"
    assert finding["accepted"]["source"]["location"] == "line 3"


def test_text_report_shows_accepted_group_with_days_left(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex", license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only")
    )
    code, out, _ = run(
        capsys, "check", str(AGPL), "--vex", str(vex), "--policy", str(POLICY), *TODAY_ARG
    )
    assert code == 0
    assert "accepted by the VEX register (1)" in out
    assert "ACCEPTED denied-license: pymupdf@1.24.10" in out
    assert "accepted by LIC-0001" in out and "reference ADR-0007" in out
    assert "expires 2027-01-10 (223 days left)" in out
    assert "verdict: PASS - 4 components in 1 input, 0 errors, 0 warnings, 1 accepted" in out


def test_same_exception_expired_fails_with_expired_exception(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry(
            "LIC-0001", "pkg:pypi/pymupdf@1.24.10", "AGPL-3.0-only", expires="2026-05-31"
        ),
    )
    code, data, _ = report(capsys, str(AGPL), "--vex", str(vex))
    assert code == 1
    assert rules(data) == ["denied-license", "expired-exception"]
    assert data["summary"]["errors"] == 2 and data["summary"]["accepted"] == 0
    expired = next(f for f in data["findings"] if f["rule"] == "expired-exception")
    assert expired["severity"] == "error"
    assert (
        "LIC-0001" in expired["message"]
        and "expired on 2026-05-31 (1 day ago)" in expired["message"]
    )
    assert expired["component"]["name"] == "pymupdf"
    assert expired["source"]["path"].endswith("register.yaml")


def test_last_day_is_still_current(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only", expires=TODAY.isoformat()),
    )
    code, out, _ = run(
        capsys, "check", str(AGPL), "--vex", str(vex), "--policy", str(POLICY), *TODAY_ARG
    )
    assert code == 0
    assert "(last day)" in out


def test_exception_for_absent_component_warns_unused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only"),
        license_entry("LIC-0002", "pkg:npm/left-pad@1.3.0", "WTFPL"),
    )
    code, data, _ = report(capsys, str(AGPL), "--vex", str(vex))
    assert code == 0
    assert rules(data) == ["denied-license", "unused-exception"]
    unused = next(f for f in data["findings"] if f["rule"] == "unused-exception")
    assert unused["severity"] == "warning"
    assert "LIC-0002" in unused["message"] and "pkg:npm/left-pad@1.3.0" in unused["message"]
    assert data["summary"]["warnings"] == 1


def test_exception_for_another_license_or_version_does_not_accept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "GPL-3.0-only"),
        license_entry("LIC-0002", "pkg:pypi/pymupdf", "AGPL-3.0-only", versions=">=1.25"),
        license_entry("LIC-0003", "pkg:pypi/pymupdf@1.24.10", "rejected-component"),
    )
    code, data, _ = report(capsys, str(AGPL), "--vex", str(vex))
    assert code == 1
    assert rules(data) == ["denied-license", *["unused-exception"] * 3]


def test_version_range_rule_id_and_deprecated_id_accept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for license_text in ("denied-license", "AGPL-3.0"):  # AGPL-3.0 is deprecated: AGPL-3.0-only
        vex = write_register(
            tmp_path / license_text,
            license_entry("LIC-0001", "pkg:pypi/PyMuPDF", license_text, versions=">=1.24,<1.25"),
        )
        code, data, err = report(capsys, str(AGPL), "--vex", str(vex))
        assert code == 0, (license_text, err)
        assert rules(data, accepted=True) == ["denied-license"]


def test_image_exception_matches_by_digest_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    digest = "sha256:4c2a5e9f7d3b1a0e8f6d4c2b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
    vex = write_register(
        tmp_path / "vex",
        license_entry(
            "LIC-0001", f"bitnami/postgresql@{digest}", "rejected-component", key="image"
        ),
    )
    code, data, _ = report(capsys, str(POD), "--vex", str(vex))
    assert code == 0
    assert rules(data, accepted=True) == ["rejected-component"]
    other = tmp_path / "other.yaml"
    other.write_text(
        POD.read_text(encoding="utf-8").replace(digest[-8:], "00000000"), encoding="utf-8"
    )
    code, data, _ = report(capsys, str(other), "--vex", str(vex))
    assert code == 1
    assert rules(data) == ["rejected-component", "unused-exception"]


def test_renewal_supersedes_the_expired_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only", expires="2026-03-01"),
        license_entry("LIC-0002", "pkg:pypi/pymupdf", "AGPL-3.0-only", created="2026-03-01"),
    )
    code, data, _ = report(capsys, str(AGPL), "--vex", str(vex))
    assert code == 0
    accepted = [f for f in data["findings"] if "accepted" in f]
    assert [f["accepted"]["entry"] for f in accepted] == ["LIC-0002"]
    unused = next(f for f in data["findings"] if f["rule"] == "unused-exception")
    assert "superseded by LIC-0002" in unused["message"]


# --------------------------------------------------------------------------- register errors


def test_broken_entry_or_missing_adr_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vex = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only", reference="ADR-0099"),
        license_entry("LIC-0002", "pkg:pypi/requests", "MIT", expires="soon"),
    )
    code, out, err = run(capsys, "check", str(AGPL), "--vex", str(vex), "--policy", str(POLICY))
    assert code == 2 and out == ""
    assert "has 2 problems" in err
    assert "register.yaml:line 9: ADR-0099 does not resolve" in err
    assert "register.yaml:line 20: 'expires' must be a date written YYYY-MM-DD" in err
    assert "Traceback" not in err


def test_no_vex_and_default_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_register(tmp_path / "vex", license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only"))
    monkeypatch.chdir(tmp_path)
    code, data, _ = report(capsys, str(AGPL))
    assert code == 0 and data["summary"]["accepted"] == 1  # ./vex read by default
    code, data, _ = report(capsys, str(AGPL), "--no-vex")
    assert code == 1 and data["summary"]["accepted"] == 0
    code, _, err = run(
        capsys, "check", str(AGPL), "--no-vex", "--vex", "vex", "--policy", str(POLICY)
    )
    assert code == 2 and "contradict" in err


def test_shipped_register_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """The repository's own vex/ folder is valid and (having no entries) accepts nothing."""
    root = Path(__file__).resolve().parents[2]
    code, data, err = report(capsys, str(AGPL), "--vex", str(root / "vex"))
    assert code == 1 and err == ""
    assert rules(data) == ["denied-license"]


# --------------------------------------------------------------------------- corpus


def test_juice_shop_fuzzball_denied_then_accepted_then_expired(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sbom = corpus(JUICE_SHOP)
    code, data, _ = report(capsys, str(sbom), "--no-vex")
    assert code == 1
    denied = [f for f in data["findings"] if f["rule"] == "denied-license"]
    assert [(f["component"]["name"], f["license"]) for f in denied] == [
        ("fuzzball", "GPL-2.0-only")
    ]

    # The GPL exception (written with the deprecated id the SBOM uses) and a
    # reviewed unknown-license waiver for each component the SBOM leaves
    # unlicensed: the real SBOM then passes, with every waiver shown.
    entries = [license_entry("LIC-0001", "pkg:npm/fuzzball@1.4.0", "GPL-2.0")]
    entries += [
        license_entry(f"LIC-{i + 2:04d}", purl, "unknown-license", reference="ADR-0007")
        for i, purl in enumerate(JUICE_SHOP_UNLICENSED)
    ]
    vex = write_register(tmp_path / "current", *entries)
    code, data, err = report(capsys, str(sbom), "--vex", str(vex))
    assert code == 0, err
    assert data["summary"]["errors"] == 0 and data["summary"]["accepted"] == 10
    fuzzball = next(f for f in data["findings"] if f["component"]["name"] == "fuzzball")
    assert fuzzball["accepted"]["entry"] == "LIC-0001"
    assert fuzzball["accepted"]["reference"] == "ADR-0007"

    expired = write_register(
        tmp_path / "expired",
        license_entry("LIC-0001", "pkg:npm/fuzzball@1.4.0", "GPL-2.0", expires="2026-04-01"),
        *entries[1:],
    )
    code, data, _ = report(capsys, str(sbom), "--vex", str(expired))
    assert code == 1
    assert [
        f["component"]["name"]
        for f in data["findings"]
        if f["severity"] == "error" and "accepted" not in f
    ] == [
        "fuzzball",
        "fuzzball",
    ]
    assert {f["rule"] for f in data["findings"] if f["component"]["name"] == "fuzzball"} == {
        "denied-license",
        "expired-exception",
    }

    absent = write_register(
        tmp_path / "absent",
        *entries,
        license_entry("LIC-0100", "pkg:pypi/pymupdf", "AGPL-3.0-only"),
    )
    code, data, _ = report(capsys, str(sbom), "--vex", str(absent))
    assert code == 0
    unused = [f for f in data["findings"] if f["rule"] == "unused-exception"]
    assert len(unused) == 1 and "LIC-0100" in unused[0]["message"]


def test_library_api_honours_register_with_injected_today(tmp_path: Path) -> None:
    vex_dir = write_register(
        tmp_path / "vex",
        license_entry("LIC-0001", "pkg:pypi/pymupdf", "AGPL-3.0-only", expires="2026-06-30"),
    )
    policy = load_policy(POLICY)
    vex = load_vex([vex_dir], adr_ids=set(policy.adr_files), today=TODAY)
    assert not vex.errors
    before = check([AGPL], policy, vex=vex, today=TODAY)
    after = check([AGPL], policy, vex=vex, today=TODAY.replace(month=7))
    assert before.verdict == "pass" and before.accepted == 1
    assert after.verdict == "fail"
    assert {f.rule for f in after.findings if f.severity is Severity.ERROR} == {
        "denied-license",
        "expired-exception",
    }
    assert ADR.is_dir()
