"""The command line as a user meets it: exit codes, messages, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "gate"
POLICY = ["--policy", str(ROOT / "policy")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pass_is_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(DATA / "psycopg-lgpl.cdx.json"), *POLICY)
    assert code == 0
    assert "verdict: PASS" in out


def test_violations_are_exit_1_with_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", str(DATA / "mixed-verdicts.cdx.json"), *POLICY, "--format", "json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["report_version"] == 1
    assert report["verdict"] == "fail"
    assert set(report["summary"]) == {
        "components",
        "entries",
        "inputs",
        "errors",
        "warnings",
        "accepted",
    }
    assert report["summary"]["errors"] == sum(
        1 for f in report["findings"] if f["severity"] == "error"
    )
    for finding in report["findings"]:
        assert {
            "rule",
            "severity",
            "component",
            "license",
            "policy_entry",
            "source",
            "message",
        } <= set(finding)
        assert set(finding["component"]) == {"name", "version", "purl"}
        assert set(finding["source"]) == {"path", "location"}


def test_output_file_is_written_atomically(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")
    code, out, err = run(
        capsys,
        "check",
        str(DATA / "psycopg-lgpl.cdx.json"),
        *POLICY,
        "--format",
        "json",
        "--output",
        str(target),
    )
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["verdict"] == "pass"
    assert "report written" in err
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_broken_policy_is_exit_2_with_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    broken = ROOT / "tests" / "data" / "policy" / "broken" / "policy"
    code, out, err = run(
        capsys, "check", str(DATA / "psycopg-lgpl.cdx.json"), "--policy", str(broken)
    )
    assert code == 2
    assert out == ""
    assert "licenses.yaml:line 7" in err and "dependencies.yaml:line 19" in err
    assert "Traceback" not in err


def test_unreadable_input_is_exit_3_and_others_still_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.spdx"
    bad.write_bytes(b'{"spdxVersion": "SPDX-2.3", "packages": [\n  {"name": "x",,}\n]}')
    code, out, err = run(capsys, "check", str(bad), str(DATA / "mixed-verdicts.cdx.json"), *POLICY)
    assert code == 3
    assert f"{bad}:line 2 column" in err
    assert "left" in out  # the good input's findings are still in the report


def test_missing_file_and_no_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "nope.json"), *POLICY)
    assert code == 3 and "file not found" in err
    code, _, err = run(capsys, "check", *POLICY)
    assert code == 2 and "nothing to check" in err


def test_explain_prints_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "left", str(DATA / "mixed-verdicts.cdx.json"), *POLICY)
    assert code == 1
    assert "license string: 'MIT AND AGPL-3.0-only'" in out
    assert "AGPL-3.0-only: deny" in out
    assert "verdict: FAIL" in out
    code, _, err = run(capsys, "explain", "absent", str(DATA / "mixed-verdicts.cdx.json"), *POLICY)
    assert code == 2 and "no component matching" in err


def test_explain_shows_one_release_once_as_check_judges_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    joining = ROOT / "tests" / "data" / "joining"
    lock, bom = str(joining / "requirements.txt"), str(joining / "sbom.cdx.json")
    code, out, _ = run(capsys, "explain", "some-agpl-lib", lock, bom, *POLICY, "--no-evidence")
    assert code == 1
    # the lock entry and the SBOM entry are one release: one trace, on the SBOM's statement
    assert out.count("component: ") == 1
    assert "AGPL-3.0-or-later" in out and "verdict: FAIL" in out
    assert f"also appears in:\n    {lock}:line 3" in out


def test_python_dash_m_and_console_script_agree() -> None:
    args = ["check", str(DATA / "psycopg-mismatch.cdx.json"), *POLICY, "--format", "json"]
    via_module = subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, check=False
    )
    script = Path(sys.executable).with_name("rune-policy")
    via_script = subprocess.run([str(script), *args], capture_output=True, text=True, check=False)
    assert via_module.returncode == via_script.returncode == 1
    assert json.loads(via_module.stdout) == json.loads(via_script.stdout)


def test_oversized_input_is_refused_before_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:  # sparse: no gigabyte is written or read
        handle.truncate(2 * 1024**3)
    code, _, err = run(capsys, "check", str(huge), *POLICY)
    assert code == 3
    assert "over the 268,435,456-byte input limit" in err
    small = tmp_path / "small.json"
    small.write_bytes((DATA / "psycopg-lgpl.cdx.json").read_bytes())
    code, _, err = run(capsys, "check", str(small), *POLICY, "--max-input-size", "100")
    assert code == 3 and "--max-input-size" in err


def test_bad_size_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", str(DATA / "psycopg-lgpl.cdx.json"), "--max-input-size", "lots"])
    assert caught.value.code == 2
    assert "not a size" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown"])
def test_ci_formats_are_available_from_check(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(
        capsys,
        "check",
        str(DATA / "mixed-verdicts.cdx.json"),
        *POLICY,
        "--format",
        fmt,
        "--no-vex",
    )
    assert code == 1
    marker = {"sarif": '"version": "2.1.0"', "junit": "<testsuites", "markdown": "FAIL"}[fmt]
    assert marker in out
