"""The GitHub Action and the pre-commit hook, exercised rather than only parsed.

``action.yml`` and ``.pre-commit-hooks.yaml`` are code nobody runs locally:
a flag the CLI does not accept, or a quoting slip in a run script, shows up
only in someone else's CI. So the action's scripts run here under bash the
way the runner runs them (``bash --noprofile --norc -eo pipefail``), with a
stub ``rune-policy`` that records its arguments, and the recorded arguments
go through the real argument parser; the hook's command runs as pre-commit
would run it, and its exit codes are checked.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from checker.cli import build_parser
from checker.sources import discover

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT / "tests" / "data" / "gate"
CORPUS = ROOT.parent / "shared" / "corpus"
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
HOOKS: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
)
RUNE_POLICY = Path(sys.executable).parent / "rune-policy"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


# -- the action ---------------------------------------------------------------


def step(key: str) -> dict[str, Any]:
    """The step whose id or name is ``key``."""
    for item in ACTION["runs"]["steps"]:
        if key in (item.get("id"), item.get("name")):
            return item  # type: ignore[no-any-return]
    raise AssertionError(f"action.yml has no step {key!r}")


def expand(text: str, inputs: dict[str, str], outputs: dict[str, str] | None = None) -> str:
    """Replace ``${{ ... }}`` as the runner would, for the expressions the action uses."""
    defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}

    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            name = expr.removeprefix("inputs.")
            return inputs.get(name, defaults[name])
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps.gate.outputs."):
            return (outputs or {}).get(expr.removeprefix("steps.gate.outputs."), "")
        raise AssertionError(f"unexpected expression {expr!r}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_step(
    key: str,
    tmp_path: Path,
    inputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one ``shell: bash`` step like the runner; return it and its outputs."""
    assert BASH is not None
    item = step(key)
    assert item["shell"] == "bash"
    script = tmp_path / f"{item.get('id', 'step')}.sh"
    script.write_text(item["run"], encoding="utf-8")
    github_output = tmp_path / "github_output"
    github_output.write_text("", encoding="utf-8")
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(github_output),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_ENV": str(tmp_path / "github_env"),
        **{k: expand(str(v), inputs or {}, outputs) for k, v in item.get("env", {}).items()},
        **(env or {}),
    }
    done = subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    pairs = [line.split("=", 1) for line in github_output.read_text().splitlines() if "=" in line]
    return done, {k: v for k, v in pairs}


STUB = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
code = int(os.environ.get("STUB_EXIT", "0"))
if code in (0, 1, 3):
    if "--output" in args:
        with open(args[args.index("--output") + 1], "w", encoding="utf-8") as out:
            out.write("report")
    else:
        print("stub report")
sys.exit(code)
"""


def stub(tmp_path: Path, exit_code: int = 1) -> dict[str, str]:
    path = tmp_path / "stub-rune-policy"
    path.write_text(STUB.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return {
        "RUNE_POLICY": str(path),
        "STUB_LOG": str(tmp_path / "calls.jsonl"),
        "STUB_EXIT": str(exit_code),
    }


def calls(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_action_is_a_composite_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {
        "paths",
        "policy",
        "adr",
        "vex",
        "extra-formats",
        "sarif-output",
        "upload-sarif",
        "category",
        "fail-on-violations",
        "python-version",
    } <= set(ACTION["inputs"])
    assert ACTION["inputs"]["policy"]["default"] == "policy"
    assert ACTION["inputs"]["sarif-output"]["default"] == "rune-policy.sarif"
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), f"input {name} is undocumented"
    assert {"exit-code", "verdict", "sarif-file"} <= set(ACTION["outputs"])

    steps = ACTION["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    upload = next(s for s in steps if str(s.get("uses", "")).endswith("/upload-sarif@v3"))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.gate.outputs.sarif-file }}"
    assert steps.index(upload) > steps.index(step("gate"))
    assert steps[-1]["name"] == "Verdict" and "always()" in steps[-1]["if"]


def test_every_expression_names_a_real_input_and_no_script_splices_one() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for name in re.findall(r"\$\{\{\s*inputs\.([\w-]+)", text):
        assert name in ACTION["inputs"], name
    for item in ACTION["runs"]["steps"]:
        if "run" in item:
            assert "${{" not in item["run"], f"{item['name']}: pass inputs through env"


def test_install_step_installs_this_checkout_hash_pinned() -> None:
    install = step("Install rune-policy")
    assert install["env"]["RP_ACTION_PATH"] == "${{ github.action_path }}"
    run = install["run"]
    assert '--require-hashes -r "$RP_ACTION_PATH/requirements.lock"' in run
    assert '--no-deps --no-build-isolation "$RP_ACTION_PATH"' in run
    assert (ROOT / "requirements.lock").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["rune-policy"] == "checker.cli:main"
    assert "RUNE_POLICY=$bin/rune-policy" in run


FAKE_PYTHON = """#!/bin/sh
# Stands in for python: `-m venv DIR` makes DIR/bin/python (this script);
# every call is logged, so pip installs are recorded instead of run.
echo "$0 $*" >> "$FAKE_LOG"
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
"""


@needs_bash
def test_install_step_makes_a_venv_and_exports_the_gate(tmp_path: Path) -> None:
    """The install script's own logic, with python and pip stood in for (no network)."""
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    fake = fake_bin / "python"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    env = {"PATH": f"{fake_bin}{os.pathsep}/usr/bin:/bin", "FAKE_LOG": str(tmp_path / "log")}
    done, _ = run_step("Install rune-policy", tmp_path, {}, env)
    assert done.returncode == 0, done.stderr
    venv = tmp_path / "rune-policy-venv"
    log = (tmp_path / "log").read_text(encoding="utf-8").splitlines()
    assert log[0] == f"{fake} -m venv {venv}"
    assert log[1].startswith(f"{venv}/bin/python -m pip install")
    assert log[1].endswith(f"--require-hashes -r {ROOT}/requirements.lock")
    assert log[2].endswith(f"--no-deps --no-build-isolation {ROOT}")
    exported = (tmp_path / "github_env").read_text(encoding="utf-8")
    assert exported == f"RUNE_POLICY={venv}/bin/rune-policy\n"


GATE_INPUTS = {
    "plain": {"paths": "sbom/app.cdx.json\nrequirements.lock  deploy/"},
    "everything": {
        "paths": "sbom/app.cdx.json",
        "adr": "docs/adr",
        "vex": "vex",
        "sarif-output": "out/gate.sarif",
        "extra-formats": "json junit markdown text",
    },
}


@needs_bash
@pytest.mark.parametrize("case", sorted(GATE_INPUTS))
def test_gate_step_runs_the_cli_as_documented(tmp_path: Path, case: str) -> None:
    inputs = GATE_INPUTS[case]
    (tmp_path / "out").mkdir()
    done, outputs = run_step("gate", tmp_path, inputs, stub(tmp_path, exit_code=1))
    assert done.returncode == 0, done.stderr
    invocations = calls(tmp_path)
    sarif_call, summary_call, *extra = invocations
    sarif_output = inputs.get("sarif-output", "rune-policy.sarif")
    assert sarif_call[-4:] == ["--format", "sarif", "--output", sarif_output]
    assert summary_call[-2:] == ["--format", "markdown"]
    assert (tmp_path / "summary.md").read_text() == "stub report\n"
    for argv in invocations:
        assert argv[0] == "check"
        assert argv[argv.index("--policy") + 1] == "policy"
        paths = argv[1 : argv.index("--policy")]
        assert paths == inputs["paths"].split()
        if "vex" in inputs:
            assert argv[argv.index("--vex") + 1] == "vex"
            assert argv[argv.index("--adr") + 1] == "docs/adr"
        else:
            assert "--vex" not in argv and "--adr" not in argv
    formats = {argv[argv.index("--format") + 1]: argv for argv in extra}
    assert list(formats) == inputs.get("extra-formats", "").split()
    if extra:
        assert formats["junit"][-1] == "rune-policy.junit.xml"
        assert (tmp_path / "rune-policy.json").is_file()
    assert outputs == {
        "exit-code": "1",
        "verdict": "fail",
        "sarif-file": sarif_output,
        "sarif-written": "true",
    }


@needs_bash
@pytest.mark.parametrize("case", sorted(GATE_INPUTS))
def test_gate_step_arguments_are_ones_the_cli_accepts(tmp_path: Path, case: str) -> None:
    (tmp_path / "out").mkdir()
    run_step("gate", tmp_path, GATE_INPUTS[case], stub(tmp_path))
    for argv in calls(tmp_path):
        args = build_parser().parse_args(argv)
        assert args.command == "check"


@needs_bash
@pytest.mark.parametrize(
    ("code", "verdict", "written"),
    [(0, "pass", "true"), (1, "fail", "true"), (2, "error", "false"), (3, "error", "true")],
)
def test_gate_step_records_the_exit_code_and_never_fails(
    tmp_path: Path, code: int, verdict: str, written: str
) -> None:
    done, outputs = run_step("gate", tmp_path, {}, stub(tmp_path, exit_code=code))
    assert done.returncode == 0, done.stderr
    assert outputs["exit-code"] == str(code)
    assert outputs["verdict"] == verdict
    assert outputs["sarif-written"] == written, "no upload of a SARIF file that was not written"


@needs_bash
def test_unknown_extra_format_is_a_usage_error(tmp_path: Path) -> None:
    done, outputs = run_step("gate", tmp_path, {"extra-formats": "pdf"}, stub(tmp_path, 0))
    assert outputs["exit-code"] == "2"
    assert "::error::rune-policy: unknown extra format 'pdf'" in done.stdout


@needs_bash
def test_inputs_cannot_inject_shell(tmp_path: Path) -> None:
    hostile = {"paths": "$(touch pwned1) `touch pwned2`", "policy": '"; touch pwned3; "'}
    done, _ = run_step("gate", tmp_path, hostile, stub(tmp_path, 0))
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("pwned*"))
    assert calls(tmp_path)[0][1:3] == ["$(touch", "pwned1)"]


@needs_bash
@pytest.mark.parametrize(
    ("code", "fail_on_violations", "expected"),
    [("0", "true", 0), ("1", "true", 1), ("1", "false", 0), ("2", "false", 2), ("3", "false", 3)],
)
def test_verdict_step_exits_with_the_gates_code(
    tmp_path: Path, code: str, fail_on_violations: str, expected: int
) -> None:
    done, _ = run_step(
        "Verdict",
        tmp_path,
        {"fail-on-violations": fail_on_violations},
        outputs={"exit-code": code},
    )
    assert done.returncode == expected
    if code == "1" and expected == 0:
        assert "::warning::" in done.stdout


@needs_bash
def test_gate_step_with_the_real_gate(tmp_path: Path) -> None:
    if not RUNE_POLICY.is_file():
        pytest.skip(f"no rune-policy console script at {RUNE_POLICY}")
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    shutil.copy(GATE / "mixed-verdicts.cdx.json", tmp_path / "bom.cdx.json")
    inputs = {"paths": "bom.cdx.json", "extra-formats": "junit"}
    done, outputs = run_step("gate", tmp_path, inputs, {"RUNE_POLICY": str(RUNE_POLICY)})
    assert done.returncode == 0, done.stderr
    assert outputs["exit-code"] == "1" and outputs["sarif-written"] == "true"
    log = json.loads((tmp_path / "rune-policy.sarif").read_text(encoding="utf-8"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"bom.cdx.json"}
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## rune-policy: FAIL")
    assert (tmp_path / "rune-policy.junit.xml").is_file()


# -- the pre-commit hook ---------------------------------------------------------


def hook() -> dict[str, Any]:
    (only,) = HOOKS
    return only


def test_hook_definition() -> None:
    spec = hook()
    assert spec["id"] == "rune-policy"
    assert spec["language"] == "python"
    assert spec["entry"] == "rune-policy check"
    assert spec["pass_filenames"] is True
    assert spec["require_serial"] is True, "one run, so lockfiles join SBOM licenses"
    assert spec["args"] == ["--policy", "policy"]
    re.compile(spec["files"])
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert shlex.split(spec["entry"])[0] in pyproject["project"]["scripts"]


def test_hook_arguments_are_ones_the_cli_accepts() -> None:
    spec = hook()
    argv = [*shlex.split(spec["entry"])[1:], *spec["args"], "sbom/app.cdx.json", "uv.lock"]
    args = build_parser().parse_args(argv)
    assert args.command == "check"
    assert args.policy == Path("policy")
    assert args.paths == [Path("sbom/app.cdx.json"), Path("uv.lock")]


MATCH = [
    "requirements.txt",
    "requirements-dev.lock",
    "backend/dev-requirements.txt",
    "constraints.txt",
    "requirements/main.in",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pylock.dev.toml",
    "web/package-lock.json",
    "charts/db/Chart.yaml",
    "charts/db/Chart.lock",
    "charts/db/charts/postgresql-1.0.0.tgz",
    "charts/db/values.yaml",
    "charts/db/values-prod.yml",
    "compose.yaml",
    "docker-compose.override.yml",
    "Dockerfile",
    "docker/Dockerfile.prod",
    "Containerfile",
    "api.dockerfile",
    "bom.json",
    "bom.xml",
    "sbom/app.cdx.json",
    "dist/app-sbom.spdx.json",
    "image.spdx",
    "bom.1.4.json",
]
NO_MATCH = [
    "README.md",
    "policy/dependencies.yaml",
    "policy/licenses.yaml",
    "src/app.py",
    "package.json",
    "pyproject.toml",
    ".dockerignore",
    "Dockerfile.dockerignore",
    "deploy/config.json",
    "deploy/settings.yaml",
    "docs/bom.md",
]


def test_hook_files_pattern() -> None:
    pattern = re.compile(hook()["files"])
    assert [p for p in MATCH if not pattern.search(p)] == []
    assert [p for p in NO_MATCH if pattern.search(p)] == []


@pytest.mark.parametrize("tree", ["tests/data", "corpus"])
def test_hook_never_passes_a_file_the_gate_would_not_read(tree: str) -> None:
    """Whatever the pattern selects, a directory scan would read as well.

    A file the gate cannot read is exit 3, so the pattern may select less
    than a scan reads (manifests are recognised by content), never more.
    """
    root = CORPUS if tree == "corpus" else ROOT / tree
    if not root.is_dir():
        pytest.skip(f"shared corpus absent at {CORPUS}")
    pattern = re.compile(hook()["files"])
    readable = {p.relative_to(root).as_posix() for p in discover(root).files}
    selected = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and pattern.search(p.relative_to(root).as_posix())
    }
    assert selected, "the pattern selects the fixtures it is meant for"
    assert selected - readable == set()


def run_hook(files: list[str], args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The hook's command as pre-commit builds it: entry, args, then the file names."""
    spec = hook()
    entry = shlex.split(spec["entry"])
    command = [str(RUNE_POLICY), *entry[1:], *(spec["args"] if args is None else args), *files]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


requires_script = pytest.mark.skipif(
    not RUNE_POLICY.is_file(), reason=f"no rune-policy console script at {RUNE_POLICY}"
)


@requires_script
def test_hook_passes_clean_files() -> None:
    done = run_hook(["tests/data/gate/psycopg-lgpl.cdx.json"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: PASS" in done.stdout


@requires_script
def test_hook_fails_on_violations() -> None:
    files = ["tests/data/gate/psycopg-lgpl.cdx.json", "tests/data/gate/mixed-verdicts.cdx.json"]
    assert all(re.search(hook()["files"], f) for f in files), "pre-commit would pass these"
    done = run_hook(files)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "denied-license" in done.stdout


@requires_script
def test_hook_reports_an_unreadable_file_as_exit_3(tmp_path: Path) -> None:
    broken = tmp_path / "bom.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [', encoding="utf-8")
    done = run_hook([str(broken), "tests/data/gate/psycopg-lgpl.cdx.json"])
    assert done.returncode == 3, done.stdout + done.stderr
    assert "bom.json" in done.stderr


@requires_script
def test_hook_with_a_missing_policy_is_a_usage_error(tmp_path: Path) -> None:
    done = run_hook(
        ["tests/data/gate/psycopg-lgpl.cdx.json"], ["--policy", str(tmp_path / "nowhere")]
    )
    assert done.returncode == 2, done.stdout + done.stderr


# -- the documentation -------------------------------------------------------------


def test_ci_guide_documents_the_action_the_hook_and_exit_codes() -> None:
    guide = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for name in ACTION["inputs"]:
        assert f"| `{name}` |" in guide, f"input {name} missing from docs/ci.md"
    for name in ACTION["outputs"]:
        assert f"`{name}`" in guide
    assert f"id: {hook()['id']}" in guide
    for code in "0123":
        assert f"\n| {code} |" in guide
    for fmt in ("text", "json", "sarif", "junit", "markdown"):
        assert f"| `{fmt}` |" in guide
