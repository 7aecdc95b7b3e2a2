"""The artifact hashes every lockfile reader records (``Component.digests``).

Each expectation is derived from the file itself with a plain parser
(tomllib, json), not from the reader under test.
"""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

from checker.lockfiles import npm, pipfile, poetry, pylock, read_lockfile, uv
from checker.lockfiles._common import digest, sri_digests
from tests.helpers import corpus_file

UV_LOCK = ("lockfiles", "full-stack-fastapi-template_2026", "uv.lock")
POETRY_LOCK = ("lockfiles", "full-stack-fastapi-template_2024", "poetry.lock")
PIPFILE_LOCK = ("lockfiles", "trivy-ci-test", "Pipfile.lock")
NPM_LOCK = ("lockfiles", "typeorm", "package-lock.json")
WAREHOUSE = ("lockfiles", "pypi-warehouse", "requirements", "main.txt")


def test_digest_forms() -> None:
    assert digest("sha256:ABCDEF") == "sha256:abcdef"
    assert digest("sha256=abcdef") == "sha256:abcdef"  # pip's --hash=sha256=... spelling
    for bad in ("sha256:", "sha256:xyz", "abcdef", "", None, 5):
        assert digest(bad) is None
    raw = bytes(range(64))
    sri = "sha512-" + base64.b64encode(raw).decode()
    assert sri_digests(sri) == (f"sha512:{raw.hex()}",)
    sha1 = "a" * 40
    assert sri_digests(f"{sri} sha1-{base64.b64encode(bytes(20)).decode()}") == (
        f"sha1:{bytes(20).hex()}",
        f"sha512:{raw.hex()}",
    )
    assert sri_digests(sha1.upper()) == (f"sha1:{sha1}",)
    assert sri_digests("sha512-not*base64") == ()


def test_uv_lock_records_the_sdist_and_every_wheel_hash() -> None:
    path = corpus_file(*UV_LOCK)
    result = uv.read(path.read_bytes(), str(path))
    doc = tomllib.loads(path.read_text())
    for table, component in zip(
        [p for p in doc["package"] if "name" in p], result.components, strict=True
    ):
        expected = {w["hash"] for w in table.get("wheels", [])}
        if "sdist" in table:
            expected.add(table["sdist"]["hash"])
        assert set(component.digests) == expected, component.name
    psycopg = next(c for c in result.components if c.name == "psycopg")
    assert psycopg.digests and all(d.startswith("sha256:") for d in psycopg.digests)


def test_poetry_lock_records_files_hashes() -> None:
    path = corpus_file(*POETRY_LOCK)
    result = poetry.read(path.read_bytes(), str(path))
    doc = tomllib.loads(path.read_text())
    for table, component in zip(doc["package"], result.components, strict=True):
        assert set(component.digests) == {f["hash"] for f in table["files"]}, component.name
    assert sum(len(c.digests) for c in result.components) > len(result.components)


def test_poetry_lock_1x_keeps_files_in_metadata(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\nname = "six"\nversion = "1.16.0"\ncategory = "main"\n'
        '[metadata]\nlock-version = "1.1"\n'
        "[metadata.files]\nsix = [\n"
        '    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:' + "A" * 64 + '"},\n'
        '    {file = "six-1.16.0.tar.gz", hash = "sha256:' + "b" * 64 + '"},\n]\n'
    )
    (six,) = poetry.read(lock.read_bytes(), str(lock)).components
    assert six.digests == ("sha256:" + "a" * 64, "sha256:" + "b" * 64)


def test_pipfile_lock_records_hashes() -> None:
    path = corpus_file(*PIPFILE_LOCK)
    result = pipfile.read(path.read_bytes(), str(path))
    doc = json.loads(path.read_bytes())
    expected = {
        name: set(entry.get("hashes", []))
        for section in ("default", "develop")
        for name, entry in doc[section].items()
    }
    assert result.components
    for component in result.components:
        assert set(component.digests) == expected[component.name], component.name


def test_pylock_records_sdist_wheel_and_archive_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n'
        '[[packages]]\nname = "attrs"\nversion = "25.3.0"\n'
        '[packages.sdist]\nname = "attrs-25.3.0.tar.gz"\nhashes = {sha256 = "' + "1" * 64 + '"}\n'
        '[[packages.wheels]]\nname = "attrs-25.3.0-py3-none-any.whl"\n'
        'hashes = {sha256 = "' + "2" * 64 + '", blake2b = "' + "3" * 32 + '"}\n'
        '[[packages]]\nname = "local"\nversion = "1.0"\n'
        '[packages.archive]\nurl = "https://example.invalid/local-1.0.tar.gz"\n'
        'hashes = {sha256 = "' + "4" * 64 + '"}\n'
    )
    attrs, local = pylock.read(lock.read_bytes(), str(lock)).components
    assert attrs.digests == ("blake2b:" + "3" * 32, "sha256:" + "1" * 64, "sha256:" + "2" * 64)
    assert local.digests == ("sha256:" + "4" * 64,)


def test_npm_lock_records_integrity_as_hex() -> None:
    path = corpus_file(*NPM_LOCK)
    result = npm.read(path.read_bytes(), str(path))
    doc = json.loads(path.read_bytes())
    checked = 0
    for component in result.components:
        if component.is_subject:
            continue
        key = component.origin.location.removeprefix("$.packages[").removesuffix("]")
        entry = doc["packages"][json.loads(key)]
        integrity = entry.get("integrity")
        if integrity is None:
            assert component.digests == ()
            continue
        algorithm, encoded = integrity.split("-", 1)
        assert component.digests == (f"{algorithm}:{base64.b64decode(encoded).hex()}",)
        checked += 1
    assert checked > 1000


def test_npm_lock_v1_records_integrity(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    sha1 = base64.b64encode(bytes(range(20))).decode()
    lock.write_text(
        json.dumps(
            {
                "name": "app",
                "lockfileVersion": 1,
                "dependencies": {"a": {"version": "1.0.0", "integrity": f"sha1-{sha1}"}},
            }
        )
    )
    result = npm.read(lock.read_bytes(), str(lock))
    (a,) = [c for c in result.components if c.name == "a"]
    assert a.digests == (f"sha1:{bytes(range(20)).hex()}",)


def test_requirements_hashes_become_digests(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "requests==2.32.3 \\\n"
        "    --hash=sha256:" + "A" * 64 + " \\\n"
        "    --hash sha256=" + "b" * 64 + "\n"
        "idna==3.10 --hash=md5:nothex\n"
    )
    result = read_lockfile("requirements", req, req.read_bytes())
    requests, idna = result.components
    assert requests.digests == ("sha256:" + "a" * 64, "sha256:" + "b" * 64)
    assert idna.digests == ()


def test_warehouse_requirements_pin_all_2089_hashes() -> None:
    path = corpus_file(*WAREHOUSE)
    result = read_lockfile("requirements", path, path.read_bytes())
    expected = path.read_text().count("--hash=sha256:")
    assert sum(len(c.digests) for c in result.components) == expected == 2089
