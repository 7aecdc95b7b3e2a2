"""Directory scans: what is read, what is skipped, and links that stay inside."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from checker.cli import main
from checker.sources import discover

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
    for skipped in (".git", "node_modules", ".venv"):
        (root / skipped).mkdir()
        (root / skipped / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    (root / "env").mkdir()
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    (root / "env" / "requirements.txt").write_text("evil==1\n", encoding="utf-8")
    outside = tmp_path / "outside-requirements.txt"
    outside.write_text("evil==1\n", encoding="utf-8")
    os.symlink(outside, root / "app" / "linked-requirements.txt")
    os.symlink(tmp_path, root / "loop")
    return root


def test_walk_reads_manifests_and_skips_what_it_must(tree: Path) -> None:
    found = discover(tree)
    read = sorted(p.relative_to(tree).as_posix() for p in found.files)
    assert read == [
        "app/Dockerfile",
        "app/requirements.txt",
        "deploy/compose.yaml",
        "deploy/rune.cdx.json",
    ]
    reasons = {Path(p).relative_to(tree).as_posix(): why for p, why in found.skipped}
    assert reasons[".git"] == reasons["node_modules"] == reasons[".venv"] == "skipped folder"
    assert reasons["env"] == "virtual environment"
    assert reasons["app/linked-requirements.txt"] == "link out of the scanned tree"
    assert reasons["loop"] == "link out of the scanned tree"
    assert "not a recognised" in reasons["app/main.py"]


def test_check_on_a_directory_and_verbose_listing(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(tree), "--policy", str(ROOT / "policy"), "--verbose"])
    out, err = capsys.readouterr()
    assert code == 1  # the bundled MariaDB server is rejected
    assert "rejected-component" in out and "mariadb" in out
    assert "evil" not in out
    assert f"read {tree / 'app' / 'requirements.txt'} as requirements" in err
    assert f"skipped {tree / '.git'}: skipped folder" in err


def test_a_link_inside_the_tree_is_read_once_as_itself(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    real = root / "requirements.txt"
    real.write_text("psycopg==3.3.9\n", encoding="utf-8")
    os.symlink(real, root / "requirements-dev.txt")
    found = discover(root)
    assert sorted(p.name for p in found.files) == ["requirements-dev.txt", "requirements.txt"]
