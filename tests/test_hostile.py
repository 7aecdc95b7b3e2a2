"""The hostile-input suite: every attack of issue #11, through the real command line.

Each case runs ``rune-policy`` in a fresh process under an address-space
cap and a timeout, with secret-shaped values in its environment, and
asserts the documented exit code, that the message names the file and the
place, and that no secret (nor any other file's content) reaches any output.
A hang is a failure (the timeout), a crash is a failure (no exit code or a
traceback), a leak is a failure. The long campaign with the full-size
inputs is ``benchmarks/hostile_campaign.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from checker.gate import check
from checker.policy import load_policy
from tests import hostile
from tests.hostile import (
    AGPL_COMPONENT,
    FORMATS,
    MEMORY,
    ROOT,
    TIMEOUT,
    Run,
    alias_bomb,
    cyclonedx,
    policy_args,
    policy_copy,
    write,
)


def gate(args: Sequence[str], cwd: Path, *, timeout: float = TIMEOUT, memory: int = MEMORY) -> Run:
    """:func:`tests.hostile.gate` with its verdicts asserted: no crash, no hang, no leak."""
    run = hostile.gate(args, cwd, timeout=timeout, memory=memory)
    assert not run.timed_out, f"no answer within {timeout} s: {run.err[-2000:]}"
    assert not run.crashed, f"crashed ({run.code}): {run.err[-2000:]}"
    assert not run.leaks, f"secrets reached the output: {run.leaks}"
    return run


# --------------------------------------------------------------------------- 1. includes


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_include_of_proc_environ_is_refused_in_every_format(tmp_path: Path, fmt: str) -> None:
    write(tmp_path / "d" / "requirements.txt", "-r /proc/self/environ\n")
    run = gate([*policy_args("d/requirements.txt"), "--format", fmt], tmp_path)
    assert run.code == 3
    assert "d/requirements.txt:line 1: includes requirements file '/proc/self/environ'" in run.err
    assert "outside" in run.err
    assert "PATH=" not in run.both  # nothing of the environment, secret or not


def test_a_constraint_on_etc_shadow_is_refused_without_its_content(tmp_path: Path) -> None:
    write(tmp_path / "d" / "requirements.txt", "-c /etc/shadow\nflask==3.1.0\n")
    run = gate(policy_args("d/requirements.txt"), tmp_path)
    assert run.code == 3
    assert "requirements.txt:line 1: includes constraints file '/etc/shadow'" in run.err
    assert "root:" not in run.both


def test_includes_that_leave_the_folder_by_path_or_by_link_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside.txt", "CANARY-OUTSIDE-CONTENT==1.0\n")
    write(tmp_path / "d" / "requirements.txt", "flask==3.1.0\n-r ../outside.txt\n")
    os.symlink(tmp_path / "outside.txt", tmp_path / "d" / "linked.txt")
    write(tmp_path / "d" / "requirements-dev.txt", "-r linked.txt\n")
    run = gate(policy_args("d/requirements.txt", "d/requirements-dev.txt"), tmp_path)
    assert run.code == 3
    assert "requirements.txt:line 2: includes requirements file '../outside.txt'" in run.err
    assert "requirements-dev.txt:line 1: includes requirements file 'linked.txt'" in run.err
    assert "CANARY-OUTSIDE-CONTENT" not in run.both.upper()


def test_an_include_inside_the_scanned_folder_still_works(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "base.txt", "psycopg2-binary==2.9.10\n")
    write(tmp_path / "repo" / "app" / "requirements.txt", "-r ../base.txt\n")
    run = gate(policy_args("repo"), tmp_path)
    assert run.code == 1  # psycopg2 is rejected by the decision table: the include was read
    assert "rejected-component" in run.out and "psycopg2-binary" in run.out


def test_an_include_of_a_fifo_or_device_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    write(folder / "requirements.txt", "-r pipe.txt\n-c /dev/zero\n")
    run = gate(policy_args("d/requirements.txt"), tmp_path, timeout=20)
    assert run.code == 3
    assert "line 1: includes requirements file 'pipe.txt' which is a named pipe (FIFO)" in run.err


def test_a_huge_unparseable_line_is_quoted_only_as_a_short_excerpt(tmp_path: Path) -> None:
    line = "not a requirement " + "SECRETLIKE" * 2000
    write(tmp_path / "requirements.txt", line + "\n")
    run = gate(policy_args("requirements.txt"), tmp_path)
    assert run.code == 3
    assert "requirements.txt:line 1" in run.err
    assert run.both.count("SECRETLIKE") <= 16  # an excerpt of about 80 characters
    assert "more characters" in run.err


# --------------------------------------------------------------------------- 2. YAML


def test_an_alias_bomb_in_the_policy_is_refused_at_once(tmp_path: Path) -> None:
    policy = policy_copy(tmp_path)
    licenses = policy / "licenses.yaml"
    licenses.write_text(licenses.read_text(encoding="utf-8") + alias_bomb(), encoding="utf-8")
    write(tmp_path / "bom.json", cyclonedx("[]"))
    run = gate(["check", "--no-vex", "--policy", str(policy), "bom.json"], tmp_path, timeout=20)
    assert run.code == 2
    assert re.search(r"licenses\.yaml:line \d+: expands to more than [\d,]+ YAML nodes", run.err)
    assert run.seconds < 10


def test_an_alias_bomb_in_the_default_register_is_refused_at_once(tmp_path: Path) -> None:
    write(tmp_path / "vex" / "register.yaml", "version: 1\n" + alias_bomb() + "entries: []\n")
    write(tmp_path / "bom.json", cyclonedx("[]"))
    run = gate(["check", "--policy", str(ROOT / "policy"), "bom.json"], tmp_path, timeout=20)
    assert run.code == 2
    assert re.search(r"vex/register\.yaml:line \d+: expands to more than", run.err)


def test_an_alias_bomb_in_a_values_file_is_an_unreadable_input(tmp_path: Path) -> None:
    write(tmp_path / "values.yaml", "image: postgres:17\n" + alias_bomb())
    run = gate(policy_args("values.yaml"), tmp_path, timeout=20)
    assert run.code == 3
    assert re.search(r"values\.yaml:line \d+: expands to more than", run.err)


def test_oversized_register_and_policy_are_refused_before_parsing(tmp_path: Path) -> None:
    entry = "  # padding " + "x" * 100 + "\n"
    write(
        tmp_path / "vex" / "register.yaml",
        "version: 1\nentries:\n" + entry * (10 * 1024 * 1024 // len(entry)),
    )
    write(tmp_path / "bom.json", cyclonedx("[]"))
    run = gate(["check", "--policy", str(ROOT / "policy"), "bom.json"], tmp_path, timeout=20)
    assert run.code == 2
    assert "vex/register.yaml" in run.err and "over the 4,194,304-byte input limit" in run.err
    policy = policy_copy(tmp_path)
    with (policy / "dependencies.yaml").open("a", encoding="utf-8") as handle:
        handle.write(entry * (66 * 1024 * 1024 // len(entry)))
    run = gate(["check", "--no-vex", "--policy", str(policy), "bom.json"], tmp_path, timeout=20)
    assert run.code == 2
    assert "dependencies.yaml" in run.err and "input limit" in run.err
    assert run.seconds < 10


def test_duplicate_keys_are_refused_in_config_and_in_artifacts(tmp_path: Path) -> None:
    write(
        tmp_path / "vex" / "register.yaml",
        "version: 1\nversion: 1\nentries: []\n",
    )
    write(tmp_path / "compose.yaml", "services:\n  db:\n    image: postgres:17\n    image: x\n")
    run = gate(["check", "--policy", str(ROOT / "policy"), "compose.yaml"], tmp_path)
    assert run.code == 2
    assert "vex/register.yaml:line 2: duplicate key 'version' (first at line 1)" in run.err
    run = gate(policy_args("compose.yaml"), tmp_path)
    assert run.code == 3
    assert "compose.yaml:line 4: duplicate key 'image' (first at line 3)" in run.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: !!python/object/apply:os.system ['echo pwned']\n", "YAML tag"),
        ("version: 1\nentries: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        ("version: 1\n---\nentries: []\n", "more than one YAML document"),
    ],
    ids=["python-tag", "deep", "two-documents"],
)
def test_register_yaml_tricks_are_problems_with_a_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path / "vex" / "register.yaml", text)
    write(tmp_path / "adr" / "0001-x.md", "---\nstatus: accepted\n---\n")
    run = gate(["vex", "validate"], tmp_path)
    assert run.code == 2
    assert re.search(r"vex/register\.yaml:line \d+", run.err), run.err
    assert expected in run.err
    assert "pwned" not in run.out


# --------------------------------------------------------------------------- 4. readers


def test_duplicate_json_keys_are_refused_with_their_path(tmp_path: Path) -> None:
    component = (
        '{"type": "library", "name": "x", "version": "1", "licenses": '
        '[{"license": {"id": "AGPL-3.0-only"}}], "licenses": [{"license": {"id": "MIT"}}]}'
    )
    write(tmp_path / "a.cdx.json", cyclonedx(f"[{{}}, {component}]".replace("{}", AGPL_COMPONENT)))
    write(
        tmp_path / "b.cdx.json",
        cyclonedx(f"[{AGPL_COMPONENT}]", head='"components": [], '),
    )
    run = gate(policy_args("a.cdx.json", "b.cdx.json"), tmp_path)
    assert run.code == 3
    assert "a.cdx.json:$.components[1]: has the key 'licenses' more than once" in run.err
    assert "b.cdx.json:$: has the key 'components' more than once" in run.err


@pytest.mark.parametrize(
    "components",
    ['"oops"', "42", '{"name": "x"}', "null", "true"],
    ids=["string", "number", "object", "null", "boolean"],
)
def test_wrong_typed_components_do_not_pass(tmp_path: Path, components: str) -> None:
    write(tmp_path / "bom.cdx.json", cyclonedx(components))
    run = gate(policy_args("bom.cdx.json"), tmp_path)
    assert run.code in (1, 3), run.out
    assert "bom.cdx.json:$.components" in run.both


def test_components_the_readers_cannot_place_fail_closed(tmp_path: Path) -> None:
    ns = "http://cyclonedx.org/schema/bom/1.5"
    agpl = (
        "<name>agpl-thing</name><version>1.0</version>"
        "<licenses><license><id>AGPL-3.0-only</id></license></licenses>"
    )
    write(
        tmp_path / "foreign.cdx.xml",
        f'<bom xmlns="{ns}" version="1"><components>'
        f'<component type="library" xmlns="urn:other">{agpl}</component>'
        "</components></bom>",
    )
    write(
        tmp_path / "unqualified.cdx.xml",
        f'<bom xmlns="{ns}" version="1"><components>'
        f'<component type="library" xmlns="">{agpl}</component>'
        "</components></bom>",
    )
    write(
        tmp_path / "fields.spdx",
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
        "DocumentName: x\nDocumentNamespace: https://example.com/x\n"
        "PackageVersion: 1.0\nPackageLicenseDeclared: AGPL-3.0-only\n",
    )
    nameless = (
        '{"type": "library", "purl": "pkg:pypi/agpl-thing@1.0", '
        '"licenses": [{"license": {"id": "AGPL-3.0-only"}}]}'
    )
    write(tmp_path / "nameless.cdx.json", cyclonedx(f"[{nameless}]"))
    fake_os = (
        '{"type": "library", "name": "gpl-lib", "version": "1", "purl": "pkg:deb/", '
        '"licenses": [{"license": {"id": "GPL-3.0-only"}}]}'
    )
    write(tmp_path / "fakeos.cdx.json", cyclonedx(f"[{fake_os}]"))
    for name in (
        "foreign.cdx.xml",
        "unqualified.cdx.xml",
        "fields.spdx",
        "nameless.cdx.json",
        "fakeos.cdx.json",
    ):
        run = gate(policy_args(name), tmp_path)
        assert run.code in (1, 3), f"{name} passed:\n{run.out}"
        assert name in run.both


# --------------------------------------------------------------------------- 5. the walk


def test_folders_named_like_skips_are_walked(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "env" / "pyvenv.cfg", "")
    write(repo / "env" / "a.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    write(repo / "deep" / "node_modules" / "b.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    write(repo / "venv" / "c.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    run = gate([*policy_args("repo"), "--format", "json"], tmp_path)
    assert run.code == 1
    report = json.loads(run.out)
    denied = [f for f in report["findings"] if f["rule"] == "denied-license"]
    # the same release in three walked files: one finding that names all three
    assert len(denied) == 1
    places = {denied[0]["source"]["path"], *(a["path"] for a in denied[0]["also"])}
    assert places == {
        "repo/env/a.cdx.json",
        "repo/deep/node_modules/b.cdx.json",
        "repo/venv/c.cdx.json",
    }


@pytest.mark.parametrize("padding", [5_000, 70_000, 3_000_000])
def test_an_sbom_whose_marker_comes_late_is_found(tmp_path: Path, padding: int) -> None:
    # JSON keys are unordered: a generator may write bomFormat after a long metadata block.
    doc = (
        '{"metadata": {"component": {"type": "application", "name": "app", "description": "'
        + "x" * padding
        + '"}}, "components": ['
        + AGPL_COMPONENT
        + '], "specVersion": "1.5", "bomFormat": "CycloneDX"}'
    )
    write(tmp_path / "repo" / "output.json", doc)
    run = gate(policy_args("repo"), tmp_path)
    assert run.code == 1
    assert "denied-license" in run.out and "agpl-thing" in run.out


def test_fifos_are_refused_without_blocking(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    os.mkfifo(tmp_path / "given.cdx.json")
    os.mkfifo(repo / "pipe")
    os.symlink(repo / "pipe", repo / "bom.cdx.json")
    (repo / "cache").mkdir()
    os.mkfifo(repo / "cache" / "CACHEDIR.TAG")  # found by the walk fuzz campaign: it hung
    run = gate(policy_args("given.cdx.json", "repo"), tmp_path, timeout=20)
    assert run.code == 3
    assert "given.cdx.json: is a named pipe (FIFO), not a regular file" in run.err
    assert "repo/bom.cdx.json: is a link to a named pipe (FIFO)" in run.err
    assert run.seconds < 15


def test_an_unlistable_folder_is_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, whom permissions do not stop: make one folder fail to list.
    write(tmp_path / "repo" / "secret" / "bom.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    real = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = check([tmp_path / "repo"], load_policy(ROOT / "policy"))
    [error] = result.input_errors
    assert error.problem.path.endswith("repo/secret")
    assert error.problem.message == "cannot be listed: Permission denied"
    assert result.verdict == "fail"


def test_skipped_folders_are_in_every_report(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(repo / "requirements.txt", "flask==3.1.0\n")
    run = gate([*policy_args("repo"), "--format", "json"], tmp_path)
    assert json.loads(run.out)["skipped_folders"] == [
        {"path": "repo/.git", "reason": "version-control metadata"}
    ]
    run = gate(policy_args("repo"), tmp_path)
    assert "not scanned (1 folders)\n  repo/.git: version-control metadata" in run.out


# --------------------------------------------------------------------------- 6. crashes


def test_a_document_too_large_for_the_memory_left_is_refused_before_parsing(
    tmp_path: Path,
) -> None:
    # 40 MB of components needs about 640 MB once parsed; the process gets 600 MB.
    item = AGPL_COMPONENT.replace("agpl-thing", "c" * 200)
    count = 40 * 1024 * 1024 // len(item)
    write(tmp_path / "big.cdx.json", cyclonedx("[" + ", ".join([item] * count) + "]"))
    run = gate(policy_args("big.cdx.json"), tmp_path, memory=600 * 1024**2, timeout=60.0)
    assert run.code == 3
    assert "big.cdx.json: is" in run.err and "bytes of memory" in run.err
    assert "--max-input-size" in run.err


def test_a_non_utf8_file_name_is_escaped_in_every_format(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    name = os.fsencode(repo) + b"/bom-\xff\x1b[31m.cdx.json"
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(cyclonedx(f"[{AGPL_COMPONENT}]"))
    for fmt in FORMATS:
        run = gate([*policy_args("repo"), "--format", fmt], tmp_path)
        assert run.code == 1, run.err
        shown = run.out.replace("\\\\", "\\").replace("\\[", "[")  # JSON, Markdown escapes
        if fmt == "sarif":  # a URI: the escaped name, percent-encoded
            assert "repo/bom-%5Cxff%5Cx1b%5B31m.cdx.json" in shown
        else:
            assert "bom-\\xff\\x1b[31m.cdx.json" in shown
        assert "\x1b" not in run.out and "\udcff" not in run.out
    run = gate([*policy_args("repo"), "--format", "json"], tmp_path)
    json.loads(run.out)


@pytest.mark.parametrize("value", ["inf", "1e400", "1e30", "nan", "-1", "2T"])
def test_bad_max_input_sizes_are_usage_errors(tmp_path: Path, value: str) -> None:
    write(tmp_path / "bom.json", cyclonedx("[]"))
    run = gate([*policy_args("bom.json"), "--max-input-size", value], tmp_path)
    assert run.code == 2
    assert "--max-input-size" in run.err


def test_a_large_limit_does_not_allocate_it(tmp_path: Path) -> None:
    write(tmp_path / "bom.json", cyclonedx("[]"))
    run = gate([*policy_args("bom.json"), "--max-input-size", "900G"], tmp_path)
    assert run.code == 0, run.err


def test_an_unwritable_output_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    write(tmp_path / "bom.json", cyclonedx("[]"))
    write(tmp_path / "file", "")
    run = gate([*policy_args("bom.json"), "--output", "file/report.txt"], tmp_path)
    assert run.code == 2
    assert run.err.strip() == "rune-policy: error: cannot write file/report.txt: Not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bom.json", "file"]
