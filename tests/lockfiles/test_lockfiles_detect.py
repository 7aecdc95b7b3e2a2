"""Lockfile detection by file name, and dispatch to the readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker import lockfiles
from checker.errors import InputError
from tests.helpers import CORPUS


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("test_requirements.txt", "requirements"),
        ("Requirements.TXT", "requirements"),
        ("requirements/main.txt", "requirements"),
        ("requirements/main.in", "requirements"),
        ("constraints.txt", "requirements"),
        ("constraints-py311.txt", "requirements"),
        ("poetry.lock", "poetry-lock"),
        ("backend/uv.lock", "uv-lock"),
        ("Pipfile.lock", "pipfile-lock"),
        ("pylock.toml", "pylock"),
        ("pylock.dev.toml", "pylock"),
        ("package-lock.json", "npm-lock"),
        ("npm-shrinkwrap.json", "npm-lock"),
        ("notes.txt", None),
        ("requirements.in", None),
        ("main.in", None),
        ("Pipfile", None),
        ("pyproject.toml", None),
        ("pylock.a.b.toml", None),
        ("package.json", None),
        ("yarn.lock", None),
        ("docs/requirements.md", None),
    ],
)
def test_detect_by_name(name: str, fmt: str | None) -> None:
    assert lockfiles.detect(Path("project") / name) == fmt


def test_every_detected_format_is_dispatched(tmp_path: Path) -> None:
    samples = {
        "requirements": b"flask==3.1.0\n",
        "poetry-lock": b'[[package]]\nname = "flask"\nversion = "3.1.0"\n',
        "uv-lock": b'version = 1\n[[package]]\nname = "flask"\nversion = "3.1.0"\n',
        "pipfile-lock": b'{"default": {"flask": {"version": "==3.1.0"}}}',
        "pylock": b'lock-version = "1.0"\n[[packages]]\nname = "flask"\nversion = "3.1.0"\n',
        "npm-lock": b'{"lockfileVersion": 3, "packages": {"node_modules/flask": '
        b'{"version": "3.1.0"}}}',
    }
    assert set(samples) == set(lockfiles.FORMATS)
    for fmt, data in samples.items():
        path = tmp_path / "lock"
        path.write_bytes(data)
        result = lockfiles.read_lockfile(fmt, path, data, 10_000)
        assert result.format == fmt
        assert [(c.name, c.version) for c in result.components] == [("flask", "3.1.0")]
        assert result.path == str(path)
    with pytest.raises(ValueError, match="unknown lockfile format"):
        lockfiles.read_lockfile("yarn-lock", tmp_path / "yarn.lock", b"x", 10)


def test_invalid_utf8_is_an_input_error_for_every_format(tmp_path: Path) -> None:
    for fmt in lockfiles.FORMATS:
        with pytest.raises(InputError):
            lockfiles.read_lockfile(fmt, tmp_path / "lock", b"\xff\xfe\xfd broken \x80", 100)


def test_corpus_files_are_detected() -> None:
    folder = CORPUS / "lockfiles"
    if not folder.is_dir():
        pytest.skip(f"shared corpus not found at {folder}")
    found = {
        str(path.relative_to(folder)): lockfiles.detect(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    assert found == {
        "full-stack-fastapi-template_2024/poetry.lock": "poetry-lock",
        "full-stack-fastapi-template_2026-frontend/package-lock.json": "npm-lock",
        "full-stack-fastapi-template_2026/uv.lock": "uv-lock",
        "pypi-warehouse/requirements/main.txt": "requirements",
        "trivy-ci-test/Pipfile.lock": "pipfile-lock",
        "trivy-pip-unhashed/requirements.txt": "requirements",
        "typeorm/package-lock.json": "npm-lock",
    }
