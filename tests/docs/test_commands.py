"""Every command the docs mark as runnable runs, in order, in a scratch directory.

Why: a reader copies commands from the operations pages during an incident;
a command that no longer works is worse than none. The convention:

* ``<!-- rune:run -->`` on the line before a fenced block: run it with bash
  (``set -euo pipefail``), expecting exit 0. Options: ``exit=N`` for an
  expected status, ``needs=rune`` for commands of the vendored storage layer
  (run with ``vendor/rune/.venv/bin`` first on PATH; skipped with the reason
  when that environment does not exist), ``needs=pg`` for commands that
  need a PostgreSQL server as well (see below).
* ``<!-- rune:output -->`` before the next fenced block: each of its lines
  must appear in the output (stdout and stderr) of the run block before it.

The blocks of one page run in page order in one scratch directory holding
copies of ``policy/``, ``adr/`` and ``vex/``; variables a block exports are
seen by the next, as in a reader's shell. ``RUNE_DATA`` and ``BACKUP_DIR``
point into the scratch directory so runbooks never touch ``/var``.

``needs=pg`` blocks run, with the storage layer on PATH, against a scratch
database created for the page on the server that ``RUNE_TEST_PG_URL`` names
(the user must be allowed to ``CREATE DATABASE``) and dropped afterwards,
together with its restore target. The scratch database holds RUNE's schema,
applied with ``rune db migrate``, and :data:`SEED_JOBS` jobs. The page's
runbook variables point at it, as ``RUNE_DATA`` does for SQLite:
``PGDATABASE_URL`` (the live database), ``RESTORE_DB`` and ``PGRESTORE_URL``
(a database that does not exist yet, for the runbook to restore into), and
``PGTARGET_URL`` (an empty database, as a DBA or the chart provides, for the
move from SQLite).
Without ``RUNE_TEST_PG_URL`` the page's other blocks still run and the test
is then skipped with the reason; under ``RUNE_REQUIRE_PG=1`` (CI) it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNE_BIN = ROOT / "vendor" / "rune" / ".venv" / "bin"
MARKER = re.compile(r"^\s*<!--\s*rune:(run|output)\b([^>]*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(```|~~~)")
ENV_PG_URL = "RUNE_TEST_PG_URL"
ENV_REQUIRE_PG = "RUNE_REQUIRE_PG"
#: Jobs the scratch PostgreSQL database holds before a page's blocks run.
SEED_JOBS = 3


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
    body: list[str] = []
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
    pg = [b.code for b in ops if b.needs == "pg"]
    assert any("pg_dump" in c and "--format=custom" in c for c in pg)
    assert any("pg_restore --list" in c for c in pg)
    assert any(
        "pg_restore" in c
        and all(o in c for o in ("--no-owner", "--exit-on-error", "--single-transaction"))
        for c in pg
    )
    assert any('rune db status --db-url "$PGRESTORE_URL"' in c for c in pg)


def _psql(url: str, *sql: str) -> subprocess.CompletedProcess[str]:
    args = ["psql", url, "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1"]
    for statement in sql:
        args += ["-c", statement]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def _with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` (user, host, port and query kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def _pg_unusable(reason: str) -> NoReturn:
    if os.environ.get(ENV_REQUIRE_PG) == "1":
        pytest.fail(f"{ENV_REQUIRE_PG}=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def _scratch_pg(admin: str, rune_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A fresh database with RUNE's schema and some jobs; its runbook variables.

    The database and its restore target are dropped afterwards, whatever the
    page did to them.
    """
    if shutil.which("psql") is None:
        _pg_unusable("psql is not installed (the PostgreSQL client tools)")
    name = f"rune_docs_{uuid.uuid4().hex[:12]}"
    restore = f"{name}_restored"
    target = f"{name}_target"
    created = _psql(admin, f'CREATE DATABASE "{name}"', f'CREATE DATABASE "{target}"')
    if created.returncode != 0:
        _pg_unusable(f"PostgreSQL at {ENV_PG_URL} is not usable: {created.stderr.strip()}")
    url = _with_database(admin, name)
    try:
        migrate = subprocess.run(
            [str(RUNE_BIN / "rune"), "db", "migrate", "--db-url", url],
            capture_output=True,
            text=True,
            timeout=120,
            env=rune_env,
            check=False,
        )
        assert migrate.returncode == 0, (
            f"rune db migrate on the scratch database:\n{migrate.stdout}{migrate.stderr}"
        )
        rows = ", ".join(
            f"('docs-job-{i}', 'docs', 'benchmark', 'succeeded', '{{}}', {1_700_000_000 + i}, "
            f"{1_700_000_060 + i})"
            for i in range(1, SEED_JOBS + 1)
        )
        seeded = _psql(
            url,
            "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, created_at, "
            f"updated_at) VALUES {rows}",
        )
        assert seeded.returncode == 0, f"seeding the scratch database: {seeded.stderr}"
        yield {
            "PGDATABASE_URL": url,
            "RESTORE_DB": restore,
            "PGRESTORE_URL": _with_database(admin, restore),
            "PGTARGET_URL": _with_database(admin, target),
        }
    finally:
        dropped = _psql(
            admin,
            f'DROP DATABASE IF EXISTS "{restore}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )
        assert dropped.returncode == 0, f"dropping the scratch databases: {dropped.stderr}"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_marked_commands_run(page: str, tmp_path: Path) -> None:
    blocks = PAGES[page]
    if any(b.needs in ("rune", "pg") for b in blocks) and not (RUNE_BIN / "rune").exists():
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
    with ExitStack() as stack:
        pg_skipped = ""
        pg_blocks = sum(b.needs == "pg" for b in blocks)
        if pg_blocks:
            admin = os.environ.get(ENV_PG_URL, "").strip()
            if admin:
                env.update(stack.enter_context(_scratch_pg(admin, env)))
            elif os.environ.get(ENV_REQUIRE_PG) == "1":
                pytest.fail(f"{page}: {ENV_REQUIRE_PG}=1 but {ENV_PG_URL} is not set")
            else:
                pg_skipped = (
                    f"{page}: {pg_blocks} block(s) need PostgreSQL and {ENV_PG_URL} is not set "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test); the other blocks passed"
                )
        _run_blocks(blocks, tmp_path, env, base_path, skip_pg=bool(pg_skipped))
    if pg_skipped:
        pytest.skip(pg_skipped)


def _run_blocks(
    blocks: list[Block], tmp_path: Path, env: dict[str, str], base_path: str, *, skip_pg: bool
) -> None:
    failures = []
    for block in blocks:
        if block.needs == "pg" and skip_pg:
            continue
        path = base_path
        if block.needs in ("rune", "pg"):
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
