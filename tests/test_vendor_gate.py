"""The gate audits the vendored RUNE storage layer's dependency set.

CI runs the gate on ``vendor/rune/requirements.lock`` with licenses joined
from a CycloneDX SBOM of the installed environment. These tests show that the
audit has teeth: a copy of the lock with a rejected or an AGPL package fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.gate import check
from checker.policy import Policy, load_policy
from checker.sbom.piplicenses import normalize_pypi_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "vendor" / "rune" / "requirements.lock"
RUNE_PYTHON = ROOT / "vendor" / "rune" / ".venv" / "bin" / "python"
AGPL_SBOM = ROOT / "tests" / "data" / "joining" / "sbom.cdx.json"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


@pytest.fixture(scope="module")
def rune_sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real CycloneDX SBOM of the vendored implementation's environment."""
    if not RUNE_PYTHON.is_file():
        pytest.skip(f"vendor/rune's environment is not built ({RUNE_PYTHON}); run .ci/bootstrap")
    out = tmp_path_factory.mktemp("sbom") / "rune.cdx.json"
    tool = Path(sys.executable).with_name("cyclonedx-py")
    subprocess.run(
        [str(tool), "environment", "--of", "JSON", "-o", str(out), str(RUNE_PYTHON)],
        check=True,
        capture_output=True,
    )
    return out


def lock_with(tmp_path: Path, line: str) -> Path:
    copy = tmp_path / "requirements.lock"
    shutil.copy(LOCK, copy)
    with copy.open("a", encoding="utf-8") as handle:
        handle.write(f"{line}\n")
    return copy


def test_the_vendored_lock_passes_with_its_sbom(policy: Policy, rune_sbom: Path) -> None:
    result = check([LOCK, rune_sbom], policy)
    assert result.verdict == "pass", [
        f.message for f in result.findings if f.severity.value == "error"
    ]
    lock = next(r for r in result.inputs if r.path == str(LOCK))
    names = {c.name for c in lock.components}
    assert {"psycopg", "psycopg-binary", "psycopg-pool"} <= names  # the pg extra is audited


def test_a_rejected_driver_in_the_lock_fails(
    policy: Policy, rune_sbom: Path, tmp_path: Path
) -> None:
    copy = lock_with(tmp_path, "psycopg2-binary==2.9.10")
    result = check([copy, rune_sbom], policy)
    assert result.verdict == "fail"
    rejected = [f for f in result.findings if f.rule == "rejected-component"]
    assert [(f.component.name, f.policy_entry) for f in rejected] == [
        ("psycopg2-binary", "psycopg2")
    ]


def test_an_agpl_package_in_the_lock_fails(policy: Policy, rune_sbom: Path, tmp_path: Path) -> None:
    copy = lock_with(tmp_path, "some-agpl-lib==1.0")
    unknown = check([copy, rune_sbom], policy)
    assert [f.rule for f in unknown.findings if f.component.name == "some-agpl-lib"] == [
        "unknown-license"
    ]
    denied = check([copy, rune_sbom, AGPL_SBOM], policy)
    # the SBOM spells it some_agpl_lib: the same release, one finding naming the lock too
    agpl = [f for f in denied.findings if normalize_pypi_name(f.component.name) == "some-agpl-lib"]
    assert [(f.rule, f.license) for f in agpl] == [("denied-license", "AGPL-3.0-or-later")]
    assert [o.path for o in agpl[0].also] == [str(copy)]
    assert denied.verdict == "fail"
