"""``--python PATH``: judge a project's own venv without installing the gate into it.

Why: ``--env`` alone reads the interpreter running the gate, which is
rarely the project's. These tests build a real venv at test time (no pip,
no network), write distributions into its site-packages by hand, and run
the command line on it as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parents[2]
POLICY = ["--policy", str(ROOT / "policy")]
ARGS = [*POLICY, "--no-vex"]


def write_dist(site: Path, dirname: str, metadata: str) -> None:
    info = site / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata, encoding="utf-8")


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project venv holding an MIT package and an AGPL one, its interpreter returned."""
    where = tmp_path_factory.mktemp("project") / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = where / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    site = Path(done.stdout.strip())
    write_dist(
        site,
        "demo_pkg-0.3.dist-info",
        "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.3\nLicense: MIT\n",
    )
    write_dist(
        site,
        "copyleft_pkg-1.0.dist-info",
        "Metadata-Version: 2.4\nName: copyleft-pkg\nVersion: 1.0\n"
        "License-Expression: AGPL-3.0-only\n",
    )
    return python


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_judges_the_venv_and_python_implies_env(
    capsys: pytest.CaptureFixture[str], venv_python: Path
) -> None:
    code, out, err = run(capsys, "check", "--python", str(venv_python), *ARGS, "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    names = {f["component"]["name"]: f["rule"] for f in report["findings"]}
    assert names == {"copyleft-pkg": "denied-license"}, report["findings"]
    assert f"<environment of {venv_python}>" in [i["path"] for i in report["inputs"]]
    # The gate's own environment is not read: only the venv's two distributions.
    assert report["summary"]["components"] == 2


def test_explain_finds_a_component_of_the_venv(
    capsys: pytest.CaptureFixture[str], venv_python: Path
) -> None:
    code, out, _ = run(
        capsys, "explain", "demo-pkg", "--env", "--python", str(venv_python), *POLICY
    )
    assert code == 0
    assert "component: demo-pkg@0.3" in out
    assert "demo_pkg-0.3.dist-info" in out and "verdict: PASS" in out


def test_a_path_that_is_no_interpreter_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "python"
    code, out, err = run(capsys, "check", "--python", str(missing), *ARGS)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        f"rune-policy: error: --python {missing}: no such file; give the path of the "
        "project's Python interpreter, such as .venv/bin/python"
    ]
