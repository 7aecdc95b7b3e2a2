"""Shared fixtures.

``store_factory`` is the seam for the conformance suite: it is parametrized over every
backend (SQLite in memory, SQLite on disk, PostgreSQL), and the suite runs unchanged on
each.

PostgreSQL tests talk to the real server named by ``RUNE_TEST_PG_URL`` (a URL whose
database the test user may connect to and whose user may ``CREATE DATABASE``). Each test
gets a database of its own, created empty and dropped afterwards, so tests never see each
other's rows or schema. Without the variable they are skipped with the reason; with
``RUNE_REQUIRE_PG=1`` (set by CI) a missing variable or an unreachable server fails them
instead, so a green CI run always includes PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from rune.storage import StoragePort, make_storage, urls

StoreFactory = Callable[[], StoragePort]


ENV_PG_URL = "RUNE_TEST_PG_URL"
ENV_REQUIRE_PG = "RUNE_REQUIRE_PG"


def pg_admin_url() -> str:
    """The server URL from the environment; skip (or fail under RUNE_REQUIRE_PG=1)."""
    url = os.environ.get(ENV_PG_URL, "").strip()
    if url:
        return url
    reason = f"{ENV_PG_URL} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
    if os.environ.get(ENV_REQUIRE_PG) == "1":
        pytest.fail(f"{ENV_REQUIRE_PG}=1 but {reason}")
    pytest.skip(reason)


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` (user, host, port and query kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database that is dropped after the test."""
    admin = pg_admin_url()
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the dev environment installs the pg extra
        pytest.fail("psycopg is not installed; install rune with the pg extra")
    dbname = f"rune_test_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {ENV_PG_URL} is not usable: {str(exc).strip()}"
        if os.environ.get(ENV_REQUIRE_PG) == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield with_database(admin, dbname)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Return a function that opens a store on one shared database per test."""
    opened: list[StoragePort] = []
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")

        def factory() -> StoragePort:
            store = make_storage(url, env={})
            opened.append(store)
            return store
    elif request.param == "sqlite-memory":
        first = make_storage("sqlite:///:memory:", env={})
        opened.append(first)

        def factory() -> StoragePort:
            # A memory database is private to its store object; hand out the same one.
            return first
    else:
        url = f"sqlite://{tmp_path}/conformance.db"

        def factory() -> StoragePort:
            store = make_storage(url, env={})
            opened.append(store)
            return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> StoragePort:
    return store_factory()


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without RUNE_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNE_")}
    env.update(extra)
    return env


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``rune`` in a subprocess (``python -m rune.cli``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "rune.cli", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs file systems (needs root); skip the test when mounting is denied."""
    mounts: list[Path] = []

    def mount(size: str = "64k", readonly: bool = False) -> Path:
        point = tmp_path / f"mnt{len(mounts)}"
        point.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount tmpfs ({result.stderr.strip() or 'not root?'})")
        mounts.append(point)
        return point

    yield mount
    for point in reversed(mounts):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@contextlib.contextmanager
def isolated_secrets() -> Iterator[None]:
    """Forget the secrets registered inside the block (``redact`` state is process-wide).

    Property tests register hundreds of generated passwords; one that happens to be a word
    such as "seconds" would otherwise be scrubbed from the output of every later test in
    the same process.
    """
    with urls._secrets_lock:
        saved = set(urls._secrets)
    try:
        yield
    finally:
        with urls._secrets_lock:
            urls._secrets.clear()
            urls._secrets.update(saved)
