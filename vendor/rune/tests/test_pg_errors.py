"""What an operator sees when a PostgreSQL URL is wrong: one line, no traceback, no password.

Each case is a real failure, not a mock: a closed port, a port that accepts TCP but never
answers, an unknown database and role and ``sslmode=require`` on the shared server (which
runs without TLS), and a wrong password on a private throwaway cluster with
``scram-sha-256`` authentication (the shared server trusts every local connection, so it
would accept any password). They run through ``rune db status`` in a subprocess, as an
operator would, and through :func:`make_storage`, as the API does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rune.storage import ConfigurationError, StorageError, make_storage
from rune.storage.errors import DatabaseBusyError
from rune.storage.pgconn import describe_pg_error
from rune.storage.urls import PostgresTarget, parse_url
from tests.conftest import clean_env, pg_admin_url, run_cli, with_database

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "Sup3r-Secret-Pw-4711"
WRONG_PASSWORD = "Wr0ng-Guess-Pw-0815"


@dataclass(frozen=True)
class Cluster:
    port: int
    password: str

    def url(self, password: str, dbname: str = "postgres") -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{dbname}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run it as the ``postgres`` OS user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' OS user to run initdb as")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def scram_cluster() -> Iterator[Cluster]:
    """A private PostgreSQL 15 that checks passwords (scram-sha-256), stopped afterwards."""
    initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
    if not (initdb.exists() and pg_ctl.exists()):
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    prefix = _as_postgres_user()
    # Not pytest's tmp_path: its parent is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="rune-scram-"))
    data, pwfile, log = base / "data", base / "pwfile", base / "server.log"
    pwfile.write_text(PASSWORD + "\n")
    if prefix:
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    subprocess.run(
        [*prefix, str(initdb), "-D", str(data), "--auth=scram-sha-256", f"--pwfile={pwfile}",
         "-U", "postgres", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
        "-c fsync=off -c ssl=off"
    )
    started = subprocess.run(
        [*prefix, str(pg_ctl), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options,
         "start"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    try:
        if started.returncode != 0:
            detail = log.read_text() if log.exists() else started.stderr
            pytest.fail(f"private PostgreSQL did not start: {detail.strip()[-500:]}")
        yield Cluster(port, PASSWORD)
    finally:
        subprocess.run(
            [*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def cli_status(
    tmp_path: Path, url: str, *extra: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_cli("db", *extra, "status", "--db-url", url, cwd=tmp_path, env=clean_env(**env))


def assert_one_clean_line(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """Exit 1, one ``rune: error:`` line on stderr, no traceback, no secret anywhere."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rune: error: "), result.stderr
    both = result.stdout + result.stderr
    assert "Traceback" not in both
    for secret in secrets:
        assert secret not in both
    return lines[0]


# wrong password ---------------------------------------------------------------------------
def test_wrong_password_cli(scram_cluster: Cluster, tmp_path: Path) -> None:
    started = time.monotonic()
    result = cli_status(tmp_path, scram_cluster.url(WRONG_PASSWORD), "--connect-timeout", "20")
    elapsed = time.monotonic() - started
    line = assert_one_clean_line(result, WRONG_PASSWORD, PASSWORD)
    assert "password authentication failed" in line and "'postgres'" in line
    assert f"postgresql://postgres:***@127.0.0.1:{scram_cluster.port}/postgres" in line
    assert elapsed < 10  # not retried: waiting cannot fix a wrong password


def test_wrong_password_from_an_environment_variable(
    scram_cluster: Cluster, tmp_path: Path
) -> None:
    url = f"postgresql://postgres:${{DB_PASSWORD}}@127.0.0.1:{scram_cluster.port}/postgres"
    result = cli_status(tmp_path, url, DB_PASSWORD=WRONG_PASSWORD)
    line = assert_one_clean_line(result, WRONG_PASSWORD, PASSWORD)
    assert "password authentication failed" in line


def test_right_password_works_and_is_not_shown(scram_cluster: Cluster, tmp_path: Path) -> None:
    result = cli_status(tmp_path, scram_cluster.url(PASSWORD))
    assert result.returncode == 0, result.stderr
    assert "postgresql://postgres:***@" in result.stdout and "pending: " in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_wrong_password_make_storage(scram_cluster: Cluster) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_storage(scram_cluster.url(WRONG_PASSWORD), env={})
    text = str(info.value)
    assert "password authentication failed" in text and "\n" not in text
    assert WRONG_PASSWORD not in text and "***" in text


# server not there -------------------------------------------------------------------------
def test_closed_port_gives_up_after_the_connect_timeout(tmp_path: Path) -> None:
    port = free_port()  # bound and released: nothing listens there
    url = f"postgresql://rune:{PASSWORD}@127.0.0.1:{port}/rune"
    started = time.monotonic()
    result = cli_status(tmp_path, url, "--connect-timeout", "1")
    elapsed = time.monotonic() - started
    line = assert_one_clean_line(result, PASSWORD)
    assert f"connection refused by 127.0.0.1 port {port}" in line
    assert "gave up after 1." in line
    assert 1.0 <= elapsed < 6  # ~1 s of retries plus interpreter start-up


def test_closed_port_make_storage_uses_the_environment_timeout() -> None:
    url = f"postgresql://rune:{PASSWORD}@127.0.0.1:{free_port()}/rune"
    started = time.monotonic()
    with pytest.raises(StorageError, match="gave up after") as info:
        make_storage(url, env={"RUNE_DB_CONNECT_TIMEOUT": "1.5"})
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 3.5
    assert PASSWORD not in str(info.value) and "connect timeout 1.5 s" in str(info.value)


def test_silent_server_times_out(tmp_path: Path) -> None:
    """A host that accepts TCP but never answers (a stuck proxy, a wrong service)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        url = f"postgresql://rune:{PASSWORD}@127.0.0.1:{port}/rune"
        started = time.monotonic()
        result = cli_status(tmp_path, url, "--connect-timeout", "1")
        elapsed = time.monotonic() - started
    line = assert_one_clean_line(result, PASSWORD)
    assert f"no answer from 127.0.0.1 port {port}" in line and "gave up after" in line
    assert elapsed < 8  # one attempt: libpq waits at least 2 s


def test_unknown_host_name_fails_at_once(tmp_path: Path) -> None:
    """A name that does not exist is a typo, not a database that is still starting."""
    url = f"postgresql://rune:{PASSWORD}@no-such-host.invalid:5432/rune"
    started = time.monotonic()
    result = cli_status(tmp_path, url, "--connect-timeout", "30")
    line = assert_one_clean_line(result, PASSWORD)
    assert "'no-such-host.invalid' cannot be resolved (no such host)" in line
    assert "gave up" not in line and time.monotonic() - started < 10


def test_bad_connect_timeout_setting(tmp_path: Path) -> None:
    url = f"postgresql://rune:{PASSWORD}@127.0.0.1:{free_port()}/rune"
    result = cli_status(tmp_path, url, RUNE_DB_CONNECT_TIMEOUT="soon")
    line = assert_one_clean_line(result, PASSWORD)
    assert "RUNE_DB_CONNECT_TIMEOUT must be a positive number of seconds" in line
    usage = cli_status(tmp_path, url, "--connect-timeout", "-1")
    assert usage.returncode == 2 and "--connect-timeout" in usage.stderr


# the shared server, asked for the wrong thing ----------------------------------------------
def _shared_url(dbname: str, query: str = "", user: str | None = None) -> str:
    url = with_database(pg_admin_url(), dbname) + query
    if user is not None:
        url = url.replace("://postgres@", f"://{user}:{PASSWORD}@", 1)
    else:
        url = url.replace("://postgres@", f"://postgres:{PASSWORD}@", 1)
    assert PASSWORD in url, "RUNE_TEST_PG_URL is expected to be postgresql://postgres@host..."
    return url


def test_unknown_database(tmp_path: Path) -> None:
    url = _shared_url("rune_no_such_database")
    started = time.monotonic()
    line = assert_one_clean_line(cli_status(tmp_path, url, "--connect-timeout", "20"), PASSWORD)
    assert "database 'rune_no_such_database' does not exist" in line
    assert time.monotonic() - started < 10  # not retried
    with pytest.raises(ConfigurationError, match="does not exist") as info:
        make_storage(url, env={})
    assert PASSWORD not in str(info.value)


def test_unknown_role(tmp_path: Path) -> None:
    url = _shared_url("test", user="rune_no_such_role")
    line = assert_one_clean_line(cli_status(tmp_path, url), PASSWORD)
    assert "role 'rune_no_such_role' does not exist" in line


def test_ssl_required_but_server_has_none(tmp_path: Path) -> None:
    url = _shared_url("test", "?sslmode=require")
    line = assert_one_clean_line(cli_status(tmp_path, url), PASSWORD)
    assert "server does not support SSL, but SSL was required" in line
    assert "?sslmode=require" in line  # the masked URL keeps the query


def test_backup_and_restore_point_to_pg_tools(tmp_path: Path) -> None:
    url = _shared_url("test")
    env = clean_env()
    backup = run_cli("db", "backup", str(tmp_path / "b.db"), "--db-url", url, cwd=tmp_path, env=env)
    line = assert_one_clean_line(backup, PASSWORD)
    assert "pg_dump" in line and "Back up and restore PostgreSQL" in line
    restore = run_cli(
        "db", "restore", str(tmp_path / "b.db"), "--db-url", url, cwd=tmp_path, env=env
    )
    assert "pg_restore" in assert_one_clean_line(restore, PASSWORD)
    assert not (tmp_path / "b.db").exists()


def test_missing_driver_names_the_extra(tmp_path: Path) -> None:
    """Upstream defect 22: without psycopg the error must say how to install it."""
    code = (
        "import sys; sys.modules['psycopg'] = None; "
        "from rune.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    url = f"postgresql://rune:{PASSWORD}@127.0.0.1:5432/rune"
    result = subprocess.run(
        [sys.executable, "-c", code, "db", "status", "--db-url", url],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(Path(__file__).resolve().parents[1])),
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = assert_one_clean_line(result, PASSWORD)
    assert "pip install 'rune[pg]'" in line


# the message of each kind ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("driver_text", "error_class", "fragment"),
    [
        ('invalid sslmode value: "x"', ConfigurationError, "invalid connection parameter"),
        ("no pg_hba.conf entry for host", ConfigurationError, "does not allow user 'u'"),
        ("temporary failure in name resolution", StorageError, "'dbhost' cannot be resolved"),
        ("No route to host", StorageError, "dbhost port 6543 is unreachable"),
        ("the database system is starting up", StorageError, "not accepting connections yet"),
        ("sorry, too many clients already", StorageError, "no free connection slot"),
        ("cannot execute INSERT in a read-only transaction", StorageError, "accepts only reads"),
        ("could not extend file: No space left on device", StorageError, "disk full: "),
        ("deadlock detected", DatabaseBusyError, "aborted because of a concurrent one"),
        ("permission denied for table jobs", StorageError, "permission denied for user 'u'"),
        ("server closed the connection unexpectedly", StorageError, "lost the connection to"),
        ("something {else}", StorageError, "PostgreSQL error on postgresql://u:***@dbhost"),
    ],
)
def test_each_kind_of_failure_has_its_own_line(
    driver_text: str, error_class: type[StorageError], fragment: str
) -> None:
    """The failures the real cases above cannot provoke on demand, through the same
    message table: the class callers catch, the words, the masked URL, the driver's text."""
    target = parse_url(f"postgresql://u:{PASSWORD}@dbhost:6543/mydb", env={})
    assert isinstance(target, PostgresTarget)
    error = describe_pg_error(Exception(driver_text), target)
    assert type(error) is error_class
    text = str(error)
    assert fragment in text and driver_text in text, text
    assert "postgresql://u:***@dbhost:6543/mydb" in text and PASSWORD not in text
