"""Directory scans: what is read, what is skipped, and links that stay inside."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from checker.cli import main
from checker.readers.sniff import JSON_SCHEMA
from checker.sources import CACHEDIR_SIGNATURE, discover

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT / "tests" / "data" / "gate"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "requirements.txt").write_text("psycopg==3.3.9\n", encoding="utf-8")
    (root / "app" / "Dockerfile").write_text("FROM postgres:17-alpine\n", encoding="utf-8")
    (root / "app" / "main.py").write_text("print('hi')\n", encoding="utf-8")
    (root / "deploy").mkdir()
    (root / "deploy" / "compose.yaml").write_text(
        "services:\n  db:\n    image: mariadb:11\n", encoding="utf-8"
    )
    shutil.copy(GATE / "psycopg-lgpl.cdx.json", root / "deploy" / "rune.cdx.json")
    # Passed over, because each can be shown not to hold inputs:
    (root / ".git").mkdir()
    (root / ".git" / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    (root / "web").mkdir()
    (root / "web" / "package.json").write_text("{}\n", encoding="utf-8")
    (root / "web" / "node_modules").mkdir()
    (root / "web" / "node_modules" / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    os.symlink("/usr/bin/python3", venv / "bin" / "python")
    (venv / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    cache = root / ".pytest_cache"
    cache.mkdir()
    (cache / "CACHEDIR.TAG").write_bytes(CACHEDIR_SIGNATURE + b"\n")
    (cache / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    # Walked, because only the name says "skip me":
    (root / "env").mkdir()
    (root / "env" / "pyvenv.cfg").write_text("", encoding="utf-8")
    (root / "env" / "requirements.txt").write_text("flask==3.1.0\n", encoding="utf-8")
    (root / "vendor" / "node_modules").mkdir(parents=True)
    (root / "vendor" / "node_modules" / "requirements.txt").write_text(
        "flask==3.1.0\n", encoding="utf-8"
    )
    (root / "site-packages").mkdir()
    (root / "site-packages" / "bom.cdx.json").write_text(
        (GATE / "psycopg-lgpl.cdx.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    outside = tmp_path / "outside-requirements.txt"
    outside.write_text("evil==1\n", encoding="utf-8")
    os.symlink(outside, root / "app" / "linked-requirements.txt")
    os.symlink(tmp_path, root / "loop")
    return root


def test_walk_reads_manifests_and_skips_only_what_it_can_prove(tree: Path) -> None:
    found = discover(tree)
    read = sorted(p.relative_to(tree).as_posix() for p in found.files)
    assert read == [
        "app/Dockerfile",
        "app/requirements.txt",
        "deploy/compose.yaml",
        "deploy/rune.cdx.json",
        "env/requirements.txt",
        "site-packages/bom.cdx.json",
        "vendor/node_modules/requirements.txt",
    ]
    folders = {Path(p).relative_to(tree).as_posix(): why for p, why in found.folders}
    assert folders[".git"] == "version-control metadata"
    assert folders["web/node_modules"].startswith("installed npm packages beside package.json")
    assert folders[".venv"].startswith("virtual environment")
    assert folders[".pytest_cache"] == "cache folder (marked by CACHEDIR.TAG)"
    assert set(folders) == {".git", "web/node_modules", ".venv", ".pytest_cache", "loop"}
    # A link named like an input that leads out of the tree is an error, not a skip.
    [error] = found.errors
    assert error.problem.path.endswith("app/linked-requirements.txt")
    assert "link out of the scanned tree" in error.problem.message
    reasons = {Path(p).relative_to(tree).as_posix(): why for p, why in found.skipped}
    assert folders["loop"] == "linked folder not followed (it leads out of the tree)"
    assert "not a recognised" in reasons["app/main.py"]


def test_check_on_a_directory_and_verbose_listing(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(tree), "--policy", str(ROOT / "policy"), "--verbose"])
    out, err = capsys.readouterr()
    assert code == 3  # the lockfile linked from outside the tree was not read
    assert "rejected-component" in out and "mariadb" in out  # the rest was still checked
    assert "evil" not in out
    assert "linked-requirements.txt: is a link out of the scanned tree" in err
    assert f"read {tree / 'app' / 'requirements.txt'} as requirements" in err
    assert f"skipped {tree / '.git'}: version-control metadata" in err


def test_a_link_inside_the_tree_is_read_once_as_itself(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    real = root / "requirements.txt"
    real.write_text("psycopg==3.3.9\n", encoding="utf-8")
    os.symlink(real, root / "requirements-dev.txt")
    found = discover(root)
    assert sorted(p.name for p in found.files) == ["requirements-dev.txt", "requirements.txt"]


def cyclonedx_schemas() -> Path:
    """The JSON Schemas cyclonedx-python-lib ships, read in place."""
    resources = pytest.importorskip("cyclonedx.schema._res")
    folder = Path(str(resources.__file__)).parent
    if not (folder / "bom-1.6.SNAPSHOT.schema.json").is_file():
        pytest.skip(f"no CycloneDX 1.6 JSON Schema in {folder}")
    return folder


def test_a_vendored_cyclonedx_schema_is_passed_over_with_its_reason() -> None:
    folder = cyclonedx_schemas()
    found = discover(folder)
    assert found.files == [] and found.errors == []
    reasons = {Path(p).name: why for p, why in found.skipped}
    assert reasons["bom-1.6.SNAPSHOT.schema.json"] == JSON_SCHEMA
    assert reasons["bom-1.2-strict.SNAPSHOT.schema.json"] == JSON_SCHEMA


def test_a_tree_with_a_vendored_schema_checks_its_sbom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site-packages copy of the schema beside a real SBOM: the SBOM decides, exit 1."""
    site = tmp_path / "site-packages" / "cyclonedx" / "schema"
    site.mkdir(parents=True)
    schema = b"""{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "http://cyclonedx.org/schema/bom-1.6.schema.json",
  "type": "object",
  "properties": {"bomFormat": {"type": "string", "enum": ["CycloneDX"]}}
}"""
    (site / "bom-1.6.schema.json").write_bytes(schema)
    # An SBOM may name a JSON Schema meta-schema too: bomFormat beside it makes it one.
    (tmp_path / "app.cdx.json").write_bytes(
        b'{"$schema": "http://json-schema.org/draft-07/schema#", "bomFormat": "CycloneDX", '
        b'"specVersion": "1.6", "components": [{"type": "library", "name": "mariadb", '
        b'"version": "10.11.0", "purl": "pkg:pypi/mariadb@10.11.0"}]}'
    )
    code = main(["check", str(tmp_path), "--policy", str(ROOT / "policy"), "--verbose"])
    out, err = capsys.readouterr()
    assert code == 1, out
    assert "mariadb" in out
    assert f"skipped {site / 'bom-1.6.schema.json'}: {JSON_SCHEMA}" in err


def test_a_schema_given_as_a_path_is_refused_with_that_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = cyclonedx_schemas() / "bom-1.6.SNAPSHOT.schema.json"
    code = main(["check", str(schema), "--policy", str(ROOT / "policy")])
    out, _ = capsys.readouterr()
    assert code == 3
    assert (
        "is a JSON Schema ($schema 'http://json-schema.org/draft-07/schema#'), not an SBOM" in out
    )
