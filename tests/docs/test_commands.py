"""Every command the docs mark as runnable runs, in order, in a scratch directory.

Why: a reader copies commands from the operations pages during an incident;
a command that no longer works is worse than none. The convention:

* ``<!-- rune:run -->`` on the line before a fenced block: run it with bash
  (``set -euo pipefail``), expecting exit 0. Options: ``exit=N`` for an
  expected status, ``needs=rune`` for commands of the vendored storage layer
  (run with ``vendor/rune/.venv/bin`` first on PATH; skipped with the reason
  when that environment does not exist).
* ``<!-- rune:output -->`` before the next fenced block: each of its lines
  must appear in the output (stdout and stderr) of the run block before it.

The blocks of one page run in page order in one scratch directory holding
copies of ``policy/``, ``adr/`` and ``vex/``; variables a block exports are
seen by the next, as in a reader's shell. ``RUNE_DATA`` and ``BACKUP_DIR``
point into the scratch directory so runbooks never touch ``/var``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNE_BIN = ROOT / "vendor" / "rune" / ".venv" / "bin"
MARKER = re.compile(r"^\s*<!--\s*rune:(run|output)\b([^>]*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(```|~~~)")


@dataclass
class Block:
    page: str
    line: int
    code: str
    exit: int = 0
    needs: str | None = None
    output: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _fence_after(lines: list[str], start: int) -> tuple[str, int] | None:
    """The fenced block starting on the first non-blank line at or after ``start``."""
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        return None
    opening = FENCE.match(lines[i])
    if opening is None:
        return None
    indent, fence = opening.group(1), opening.group(2)
    body = []
    for j in range(i + 1, len(lines)):
        if lines[j].strip().startswith(fence):
            return "\n".join(line.removeprefix(indent) for line in body) + "\n", j
        body.append(lines[j])
    return None


def extract(path: Path) -> list[Block]:
    """The marked blocks of one page, with their expected output attached."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    page = path.relative_to(DOCS).as_posix()
    for number, line in enumerate(lines):
        match = MARKER.match(line)
        if match is None:
            continue
        fenced = _fence_after(lines, number + 1)
        assert fenced is not None, f"{page}:{number + 1}: marker without a fenced block after it"
        text = fenced[0]
        options = dict(re.findall(r"(\w+)=(\S+)", match.group(2)))
        if match.group(1) == "run":
            blocks.append(
                Block(page, number + 1, text, int(options.get("exit", 0)), options.get("needs"))
            )
        else:
            assert blocks, f"{page}:{number + 1}: output block before any run block"
            blocks[-1].output += [t.strip() for t in text.splitlines() if t.strip()]
    return blocks


PAGES = {p.relative_to(DOCS).as_posix(): extract(p) for p in sorted(DOCS.rglob("*.md"))}
PAGES = {page: blocks for page, blocks in PAGES.items() if blocks}


def test_the_operations_pages_mark_their_commands() -> None:
    ops = PAGES.get("operations/database.md", [])
    assert any("rune db backup" in b.code for b in ops)
    assert any("rune db restore" in b.code for b in ops)
    assert any("RUNE_DB_URL=" in b.code for b in ops)
    assert any("rune-policy check" in b.code for b in ops)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_marked_commands_run(page: str, tmp_path: Path) -> None:
    blocks = PAGES[page]
    if any(b.needs == "rune" for b in blocks) and not (RUNE_BIN / "rune").exists():
        pytest.skip(f"{page}: needs the vendored storage layer ({RUNE_BIN}/rune does not exist)")
    for name in ("policy", "adr", "vex"):
        shutil.copytree(ROOT / name, tmp_path / name)
    state = tmp_path / ".docs-env.sh"
    base_path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNE_") and k != "VIRTUAL_ENV"}
    env.update(
        HOME=str(tmp_path),
        RUNE_DATA=str(tmp_path / "var-lib-rune"),
        BACKUP_DIR=str(tmp_path / "backups"),
        RUNE_DOCS_STATE=str(state),
    )
    failures = []
    for block in blocks:
        path = base_path
        if block.needs == "rune":
            path = f"{RUNE_BIN}{os.pathsep}{base_path}"
        script = (
            "trap 'export -p > \"$RUNE_DOCS_STATE\"' EXIT\n"
            '[ -f "$RUNE_DOCS_STATE" ] && source "$RUNE_DOCS_STATE"\n'
            f"export PATH={_quote(path)}\n"
            "set -euo pipefail\n" + block.code
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = result.stdout + result.stderr
        if result.returncode != block.exit:
            failures.append(
                f"{block.id}: exit {result.returncode}, expected {block.exit}\n"
                f"$ {block.code}{output}"
            )
            continue
        missing = [line for line in block.output if line not in output]
        if missing:
            failures.append(f"{block.id}: output lacks {missing}\n$ {block.code}{output}")
    assert not failures, "\n\n".join(failures)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
