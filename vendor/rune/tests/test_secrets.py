"""The database password never appears in any output, log or status line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rune.cli import main as cli_main
from rune.storage import StorageError
from rune.storage.urls import mask_url, parse_url
from tests.conftest import clean_env, isolated_secrets, pg_admin_url, run_cli, with_database

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


# Blanks, quotes and backslashes on purpose: libpq keyword/value quoting must be followed.
DSN_PASSWORD = "Quince's \\Walrus Tangerine"
DSN_FORMS = (DSN_PASSWORD, "Quince", "Walrus", "Tangerine")


def libpq_quoted(value: str) -> str:
    """``value`` as a single-quoted libpq keyword value."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_escaped(value: str) -> str:
    """``value`` as an unquoted libpq keyword value (blanks, quotes, backslashes escaped)."""
    return "".join("\\" + c if c.isspace() or c in "'\"\\" else c for c in value)


# Where a URL is expected: sslpassword in the query (also with a percent-encoded key, which
# libpq decodes) and libpq keyword/value strings, which are refused but must not be echoed.
MORE_URLS = [
    f"postgresql://rune@127.0.0.1:1/rune?sslmode=prefer&sslpassword={ENCODED}",
    f"postgresql://rune@127.0.0.1:1/rune?ssl%70assword={ENCODED}",
    "postgresql://rune@127.0.0.1:1/rune?sslpassword=${DB_PASSWORD}",
    f"postgresql://rune@db:notaport/rune?sslpassword={ENCODED}",
    f"host=db dbname=rune password={libpq_quoted(DSN_PASSWORD)}",
    f"host=db password = {libpq_escaped(DSN_PASSWORD)} dbname=rune",
    f"host=db sslpassword={libpq_quoted(DSN_PASSWORD)} sslmode=require",
]


def assert_clean(text: str) -> None:
    for form in FORMS + DSN_FORMS:
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


@pytest.mark.parametrize("url", MORE_URLS)
def test_status_never_prints_sslpassword_or_keyword_dsn_passwords(tmp_path: Path, url: str) -> None:
    env = clean_env(DB_PASSWORD=PASSWORD, RUNE_DB_URL=url, RUNE_DB_CONNECT_TIMEOUT="0.3")
    result = run_cli("db", "status", cwd=tmp_path, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert_clean(result.stdout + result.stderr)
    if url.startswith("host="):
        assert "malformed database URL host=db" in result.stderr and "key=value" in result.stderr
    elif "notaport" not in url:
        assert "sslpassword=***" in result.stdout or "ssl%70assword=***" in result.stdout


def test_status_with_sslpassword_on_a_real_server(tmp_path: Path) -> None:
    """A valid URL with sslpassword still connects; the status line shows it masked."""
    url = with_database(pg_admin_url(), "test")
    url += ("&" if "?" in url else "?") + f"sslpassword={ENCODED}"
    result = run_cli("db", "--db-url", url, "status", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "server: PostgreSQL" in result.stdout and "sslpassword=***" in result.stdout
    assert_clean(result.stdout + result.stderr)


@pytest.mark.parametrize("url", URLS[:3] + URLS[6:7] + MORE_URLS[:2] + MORE_URLS[4:6])
def test_api_start_logs_never_print_the_password(tmp_path: Path, url: str) -> None:
    env = clean_env(
        DB_PASSWORD=PASSWORD,
        RUNE_DB_URL=url,
        RUNE_API_TOKENS="t:a",
        RUNE_DB_CONNECT_TIMEOUT="0.3",
    )
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


# Property: for any generated secret, in every URL/DSN form, no output contains it. -------
NO_SERVER = "%2Fnonexistent-rune-socket"  # a Unix-socket directory that does not exist
SENTINEL = "Sentinel-Value-0"
# form name -> builder(secret) -> (url, environment)
Form = Callable[[str], tuple[str, dict[str, str]]]
SECRET_FORMS: dict[str, Form] = {
    "userinfo variable": lambda s: (f"postgresql://rune:${{PW}}@{NO_SERVER}/rune", {"PW": s}),
    "userinfo literal": lambda s: (f"postgresql://rune:{quote(s, safe='')}@{NO_SERVER}/rune", {}),
    "query password": lambda s: (f"postgresql://rune@{NO_SERVER}/rune?password={quote(s)}", {}),
    "query sslpassword": lambda s: (
        f"postgresql://rune@{NO_SERVER}/rune?sslmode=prefer&sslpassword={quote(s, safe='')}",
        {},
    ),
    "query encoded key": lambda s: (
        f"postgresql://rune@{NO_SERVER}/rune?ssl%70assword={quote(s, safe='')}&sslmode=prefer",
        {},
    ),
    "query variable": lambda s: (
        f"postgresql://rune@{NO_SERVER}/rune?sslpassword=${{PW}}&sslmode=prefer",
        {"PW": s},
    ),
    "malformed port": lambda s: (
        f"postgresql://rune:{quote(s, safe='')}@db:notaport/rune?sslpassword={quote(s)}",
        {},
    ),
    "dsn quoted": lambda s: (f"host=db password={libpq_quoted(s)} dbname=rune", {}),
    "dsn escaped": lambda s: (f"host=db password = {libpq_escaped(s)} dbname=rune", {}),
    "dsn sslpassword": lambda s: (f"sslmode=require sslpassword={libpq_quoted(s)}", {}),
}


def shown_for(url: str, env: dict[str, str]) -> list[str]:
    """Everything RUNE shows about ``url``: masks, parse errors, ``rune db status`` output."""
    shown = [mask_url(url)]
    try:
        target = parse_url(url, env)
    except StorageError as exc:
        shown.append(str(exc))
    else:
        shown += [target.masked, repr(target)]
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env):
        cli_main(["db", "--db-url", url, "--connect-timeout", "0.2", "status"], out, err)
    return [*shown, out.getvalue(), err.getvalue()]


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        min_size=6,
        max_size=24,
    ),
    form=st.sampled_from(sorted(SECRET_FORMS)),
)
def test_generated_secrets_never_appear_in_any_output(secret: str, form: str) -> None:
    build = SECRET_FORMS[form]
    with isolated_secrets():
        reference = shown_for(*build(SENTINEL))
        forms = {secret, quote(secret, safe="")}
        # A secret that is a piece of the fixed text ("rune:", "status") proves nothing.
        assume(not any(f in text for f in forms for text in reference))
        url, env = build(secret)
        shown = shown_for(url, env)
        for text in shown:
            for leaked in forms:
                assert leaked not in text, f"{form}: {leaked!r} shown in {text!r}"
        # Stronger than "not shown": the masked URL does not depend on the secret at all,
        # so no part of it (the words after a blank, the half after an "&") leaks either.
        assert mask_url(url) == mask_url(build(SENTINEL)[0])
