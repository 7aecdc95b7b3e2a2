"""The default ADR folder: one rule, asked by the gate, the ``vex`` commands and the docs.

Why: the default was computed three ways (beside the policy for ``check``,
beside the register for ``vex``, under the repository root for the docs);
they agreed only for the standard layout. These tests pin the one rule and
that the callers use it.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from checker.adr_folder import adr_folder
from checker.cli import main
from checker.docs import directives

ROOT = Path(__file__).resolve().parents[1]


def test_given_wins_else_the_sibling_adr_folder() -> None:
    assert adr_folder(Path("repo/policy"), Path("elsewhere/records")) == Path("elsewhere/records")
    assert adr_folder(Path("repo/policy")) == Path("repo/adr")
    assert adr_folder(Path("repo/vex")) == Path("repo/adr")


def test_vex_commands_resolve_references_beside_the_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("vex", "adr"):
        shutil.copytree(ROOT / name, tmp_path / "repo" / name)
    register = tmp_path / "repo" / "vex" / "register.yaml"
    for path in (register, register.parent):
        code = main(["vex", "validate", "--vex", str(path), "--today", "2026-06-01"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "valid" in out


def test_the_docs_read_the_adr_folder_beside_the_policy(tmp_path: Path) -> None:
    for name in ("policy", "adr", "vex"):
        shutil.copytree(ROOT / name, tmp_path / name)
    data = directives.load_site(tmp_path, date(2026, 6, 1))
    assert data.problems == []
    assert {r.path.parent for r in data.adrs.records} == {adr_folder(tmp_path / "policy")}
