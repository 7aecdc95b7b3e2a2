"""``rune-policy evidence`` and ``check`` with its file, as a user runs them.

Why: the point of the evidence file is that a lockfile's ``check`` reports
real verdicts, offline, after one ``evidence resolve``; that a registry
failure never replaces a reviewed file with a partial one; and that CI
can tell a stale file without the network. The registry here is a small
PEP 691 server on 127.0.0.1 started by the test, serving core-metadata files
with the hashes it lists (tests never use the network).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from checker.cli import main
from tests.registry.server import Published, RegistryServer, installed_metadata

ROOT = Path(__file__).resolve().parents[2]


def metadata(name: str, version: str, *lines: str) -> bytes:
    text = "\n".join(["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *lines])
    return (text + "\n\n").encode()


#: Core metadata as registries serve it: real METADATA of distributions
#: installed here where their license matters little, written for the GPL
#: and AGPL cases (no such distribution is installed).
GPL = metadata(
    "mysqlclient",
    "2.2.4",
    "License: GNU General Public License (GPL)",
    "Classifier: License :: OSI Approved :: GNU General Public License v2 (GPLv2)",
)
AGPL = metadata("PyMuPDF", "1.24.0", "License-Expression: AGPL-3.0-only")
MIT = installed_metadata("attrs")
APACHE = installed_metadata("requests")


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a copy of this repository's policy and ADRs, as cwd."""
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("*.json"))
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write_lock(path: Path, *releases: Published | tuple[str, str, str]) -> Path:
    """A hashed requirements lock of published releases, or of (name, version, sha256 hex)."""
    lines = []
    for release in releases:
        if isinstance(release, Published):
            release = (release.name, release.version, release.wheel_sha256)
        name, version, digest = release
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def moved(release: Published) -> tuple[str, str, str]:
    """The same release pinned to another artifact."""
    return release.name, release.version, "f" * 64


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def resolve(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, *argv: str
) -> tuple[int, str, str]:
    return run(capsys, "evidence", "resolve", *argv, "--index-url", registry.index_url)


# --------------------------------------------------------------------------- resolve


def test_resolve_writes_a_reviewable_file_with_no_host_in_it(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    gpl, mit, apache = (registry.publish_pypi(m) for m in (GPL, MIT, APACHE))
    lock = write_lock(project / "requirements.lock", mit, gpl, apache)
    code, _, err = resolve(capsys, registry, str(lock))
    assert code == 0, err
    assert f"index: {registry.index_url} (from --index-url)" in err
    assert (
        "wrote policy/evidence.json: 3 packages, 3 with license fields, 0 failures "
        "(3 added, 0 changed, 0 removed, 0 unchanged)" in err
    )
    text = (project / "policy" / "evidence.json").read_text(encoding="utf-8")
    doc = orjson.loads(text)
    assert [p["name"].lower() for p in doc["packages"]] == ["attrs", "mysqlclient", "requests"]
    assert doc["index"] == [{"ecosystem": "pypi", "configured_by": "--index-url"}]
    record = doc["packages"][1]
    assert record["digest"] == gpl.digest and record["artifact"] == gpl.wheel
    assert record["url"] == f"/files/{gpl.wheel}.metadata"
    assert record["license"] == "GNU General Public License (GPL)"
    assert record["classifiers"] == [
        "License :: OSI Approved :: GNU General Public License v2 (GPLv2)"
    ]
    assert "127.0.0.1" not in text and "://" not in text


def test_resolving_again_without_changes_leaves_the_file_as_it_was(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    mit, gpl = registry.publish_pypi(MIT), registry.publish_pypi(GPL)
    lock = write_lock(project / "requirements.lock", mit)
    assert resolve(capsys, registry, str(lock))[0] == 0
    target = project / "policy" / "evidence.json"
    before = target.read_bytes()
    code, _, err = resolve(capsys, registry, str(lock))
    assert code == 0
    assert "unchanged: policy/evidence.json: 1 package" in err
    assert target.read_bytes() == before

    write_lock(lock, mit, gpl)
    code, _, err = resolve(capsys, registry, str(lock))
    assert code == 0 and "(1 added, 0 changed, 0 removed, 1 unchanged)" in err


def test_a_registry_failure_names_package_and_url_and_leaves_the_file(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    mit = registry.publish_pypi(MIT)
    lock = write_lock(project / "requirements.lock", mit)
    assert resolve(capsys, registry, str(lock))[0] == 0
    target = project / "policy" / "evidence.json"
    before = target.read_bytes()

    write_lock(lock, mit, ("mysqlclient", "2.2.4", "e" * 64))  # not on this index
    code, _, err = resolve(capsys, registry, str(lock))
    assert code == 3
    [failure] = [line for line in err.splitlines() if "error:" in line]
    assert "pypi mysqlclient 2.2.4" in failure
    assert f"{registry.index_url}/mysqlclient/" in failure
    assert "1 of 2 releases resolved, 1 failure; policy/evidence.json is left as it was" in err
    assert target.read_bytes() == before


def test_a_failure_on_a_first_resolve_writes_nothing(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    lock = write_lock(project / "requirements.lock", ("mysqlclient", "2.2.4", "e" * 64))
    code, _, err = resolve(capsys, registry, str(lock))
    assert code == 3 and "nothing was written" in err
    assert not (project / "policy" / "evidence.json").exists()


def test_an_unreadable_lock_is_exit_3_and_nothing_is_asked(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    broken = project / "poetry.lock"
    broken.write_text("[[package]\nname = ", encoding="utf-8")
    code, _, err = resolve(capsys, registry, str(broken))
    assert code == 3 and "poetry.lock" in err
    assert registry.requests == []


def test_resolve_without_a_lockfile_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    sbom = project / "bom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}')
    code, _, err = resolve(capsys, registry, str(sbom))
    assert code == 2 and "no lockfile in" in err and "(cyclonedx-json)" in err
    assert registry.requests == [] and not (project / "policy" / "evidence.json").exists()


def test_resolve_reads_npm_locks_from_the_npm_registry(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    integrity = registry.publish_npm({"name": "left-pad", "version": "1.3.0", "license": "WTFPL"})
    lock = project / "package-lock.json"
    lock.write_text(
        orjson.dumps(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "app", "version": "1.0.0"},
                    "node_modules/left-pad": {"version": "1.3.0", "integrity": integrity},
                },
            }
        ).decode(),
        encoding="utf-8",
    )
    code, _, err = run(capsys, "evidence", "resolve", str(lock), "--npm-registry", registry.npm_url)
    assert code == 0, err
    assert f"npm registry: {registry.npm_url} (from --npm-registry)" in err
    [record] = orjson.loads((project / "policy" / "evidence.json").read_bytes())["packages"]
    assert (record["ecosystem"], record["name"], record["license"]) == ("npm", "left-pad", "WTFPL")
    code, out, _ = run(capsys, "explain", "left-pad", str(lock))
    assert "WTFPL" in out and "policy/evidence.json:line 12 (registry metadata from" in out


# --------------------------------------------------------------------------- --check


def test_check_tells_a_current_file_from_a_stale_one_offline(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    mit, gpl, apache = (registry.publish_pypi(m) for m in (MIT, GPL, APACHE))
    lock = write_lock(project / "requirements.lock", mit, gpl)
    assert resolve(capsys, registry, str(lock))[0] == 0
    asked = len(registry.requests)

    code, _, err = run(capsys, "evidence", "resolve", "--check", str(lock))
    assert code == 0 and "is current: 2 records for 2 locked releases" in err

    write_lock(lock, mit, apache)  # mysqlclient gone, requests new
    code, _, err = run(capsys, "evidence", "resolve", "--check", str(lock))
    assert code == 1
    stale = [line for line in err.splitlines() if "stale: " in line]
    assert any(f"pypi requests {apache.version} has no record" in line for line in stale)
    assert any("pypi mysqlclient 2.2.4 is in no lock any more" in line for line in stale)
    assert f"run `rune-policy evidence resolve {lock}`" in err

    write_lock(lock, moved(mit), moved(gpl))  # same releases, other artifacts
    code, _, err = run(capsys, "evidence", "resolve", "--check", str(lock))
    assert code == 1 and err.count("the lock no longer pins") == 2
    assert len(registry.requests) == asked  # --check asked nothing


def test_check_without_a_file_is_stale(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    lock = write_lock(project / "requirements.lock", ("attrs", "23.1.0", "a" * 64))
    code, _, err = run(capsys, "evidence", "resolve", "--check", str(lock))
    assert code == 1 and "there is no evidence file at policy/evidence.json" in err


# --------------------------------------------------------------------------- check


def test_check_reads_the_file_offline_and_names_gpl_and_agpl(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    published = [registry.publish_pypi(m) for m in (MIT, GPL, AGPL, APACHE)]
    lock = write_lock(project / "requirements.lock", *published)
    code, out, _ = run(capsys, "check", str(lock), "--format", "json", "--no-vex")
    before = orjson.loads(out)
    assert code == 1
    assert {f["rule"] for f in before["findings"]} == {"unknown-license"}
    assert len(before["findings"]) == 4

    assert resolve(capsys, registry, str(lock))[0] == 0
    asked = len(registry.requests)
    code, out, _ = run(capsys, "check", str(lock), "--format", "json", "--no-vex")
    assert code == 1
    after = orjson.loads(out)
    assert {(f["component"]["name"], f["rule"], f["license"]) for f in after["findings"]} == {
        ("mysqlclient", "denied-license", "GPL-2.0-only"),
        ("PyMuPDF", "denied-license", "AGPL-3.0-only"),
    }
    assert len(registry.requests) == asked  # check never touched the registry
    code, out, _ = run(capsys, "check", str(lock), "--no-vex")
    assert "mysqlclient@2.2.4 is licensed GPL-2.0-only" in out
    assert "PyMuPDF@1.24.0 is licensed AGPL-3.0-only" in out


def test_explain_shows_the_evidence_file_as_the_source(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    apache = registry.publish_pypi(APACHE)
    lock = write_lock(project / "requirements.lock", apache)
    assert resolve(capsys, registry, str(lock))[0] == 0
    code, out, _ = run(capsys, "explain", "requests", str(lock))
    assert code == 0
    assert "policy/evidence.json:line 12 (registry metadata from" in out
    assert "Apache-2.0" in out


def test_a_corrupt_evidence_file_stops_check_with_its_line(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    lock = write_lock(project / "requirements.lock", ("attrs", "23.1.0", "a" * 64))
    bad = project / "bad.json"
    bad.write_text(
        '{\n  "format": "rune-policy-evidence",\n  "format_version": 1,\n'
        '  "generated": "2026-11-02",\n  "index": [],\n  "packages": [\n    {\n'
        '      "ecosystem": "pypi", "name": "attrs", "version": "23.1.0",\n'
        '      "url": "/x", "retrieved": "2026-11-02", "licence": "MIT"\n    }\n  ]\n}\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "check", str(lock), "--evidence", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}:line 9: $.packages[0].licence: unknown field 'licence'" in err
    assert "Traceback" not in err

    code, _, err = run(capsys, "check", str(lock), "--evidence", str(project / "none.json"))
    assert code == 2 and "file not found" in err


def test_show_prints_the_record_and_what_check_judges(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, project: Path
) -> None:
    gpl = registry.publish_pypi(GPL)
    lock = write_lock(project / "requirements.lock", gpl)
    assert resolve(capsys, registry, str(lock))[0] == 0
    code, out, _ = run(capsys, "evidence", "show", "MySQLClient")
    assert code == 0
    assert out.startswith("pypi mysqlclient 2.2.4 (policy/evidence.json:line ")
    assert (
        "check judges:       License :: OSI Approved :: GNU General Public License v2 (GPLv2) "
        "(classifier)" in out
    )
    assert run(capsys, "evidence", "show", "nosuch")[0] == 2
