"""The database password never appears in any output, log or status line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import clean_env, run_cli

PASSWORD = "Xq7-Pelican/Marmalade:42@!"  # reserved characters on purpose
ENCODED = quote(PASSWORD, safe="")
FORMS = (PASSWORD, ENCODED, "Pelican", "Marmalade")

URLS = [
    f"postgresql://rune:{ENCODED}@db.example.internal:5432/rune?sslmode=require",
    f"postgresql+psycopg://rune:{ENCODED}@db:5432/rune",
    "postgresql://rune:${DB_PASSWORD}@db.example.internal:5432/rune?sslmode=require",
    f"postgresql://rune:{ENCODED}@db:notaport/rune",
    f"postgresql://rune:{ENCODED}@db:5432/rune#frag",
    f"postgresql://rune:{PASSWORD}@db:5432/rune",  # unencoded: malformed
    f"mysql://rune:{ENCODED}@db:3306/rune",
    f"oracle://rune:{PASSWORD}@db/rune",
    f"postgresql://db:5432/rune?password={ENCODED}",
    f"sqlite://rune:{ENCODED}@host/x.db",
    "postgresql://rune:${DB_PASSWORD}@db:5432/${MISSING_DB_NAME_VAR}",
]


def assert_clean(text: str) -> None:
    for form in FORMS:
        assert form not in text, f"secret form {form!r} leaked: {text!r}"


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("action", ["status", "migrate", "backup", "restore"])
def test_cli_error_paths_never_print_the_password(tmp_path: Path, url: str, action: str) -> None:
    env = clean_env(DB_PASSWORD=PASSWORD, RUNE_DB_URL=url)
    extra = [str(tmp_path / "b.db")] if action in ("backup", "restore") else []
    result = run_cli("db", action, *extra, cwd=tmp_path, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert_clean(result.stdout + result.stderr)


def test_explicit_argument_and_usage_error_paths(tmp_path: Path) -> None:
    env = clean_env(DB_PASSWORD=PASSWORD)
    for args in (
        ["db", "--db-url", URLS[0], "status"],
        ["db", "--db-url", URLS[0], "frobnicate"],  # usage error echoes nothing secret
        ["db", "status", "--db-url", URLS[2], "--bogus-flag"],
    ):
        result = run_cli(*args, cwd=tmp_path, env=env)
        assert result.returncode in (1, 2)
        assert_clean(result.stdout + result.stderr)


@pytest.mark.parametrize("url", URLS[:3] + URLS[6:7])
def test_api_start_logs_never_print_the_password(tmp_path: Path, url: str) -> None:
    env = clean_env(DB_PASSWORD=PASSWORD, RUNE_DB_URL=url, RUNE_API_TOKENS="t:a")
    result = subprocess.run(
        [sys.executable, "-m", "rune.api", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert_clean(result.stdout + result.stderr)
