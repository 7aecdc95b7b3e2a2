"""``rune db``: status, migrate, backup, restore, exit codes and bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rune.storage import make_storage
from rune.storage.sqlite import SQLiteStorage
from tests.conftest import clean_env, run_cli


def url_for(path: Path) -> str:
    return f"sqlite://{path}"


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".rune-")]


def test_status_migrate_status(tmp_path: Path) -> None:
    db = tmp_path / "data" / "jobs.db"
    env = clean_env(RUNE_API_DB_PATH=str(db))
    first = run_cli("db", "status", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "backend: sqlite" in first.stdout and "from RUNE_API_DB_PATH" in first.stdout
    assert "does not exist yet" in first.stdout and "pending: 8" in first.stdout
    assert not db.exists()  # status never creates the database
    migrated = run_cli("db", "migrate", cwd=tmp_path, env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "migrations applied: 8" in migrated.stdout
    again = run_cli("db", "migrate", cwd=tmp_path, env=env)
    assert "migrations applied: 0" in again.stdout
    status = run_cli("db", "status", cwd=tmp_path, env=env)
    assert "applied: 8" in status.stdout and "pending: 0" in status.stdout


def test_default_location_and_url_precedence(tmp_path: Path) -> None:
    result = run_cli("db", "migrate", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / ".rune-api" / "jobs.db").exists()
    env = clean_env(
        RUNE_DB_URL=url_for(tmp_path / "env.db"), RUNE_API_DB_PATH=str(tmp_path / "p.db")
    )
    run_cli("db", "migrate", cwd=tmp_path, env=env)
    assert (tmp_path / "env.db").exists() and not (tmp_path / "p.db").exists()
    run_cli("db", "--db-url", url_for(tmp_path / "arg.db"), "migrate", cwd=tmp_path, env=env)
    run_cli("db", "migrate", "--db-url", url_for(tmp_path / "arg2.db"), cwd=tmp_path, env=env)
    assert (tmp_path / "arg.db").exists() and (tmp_path / "arg2.db").exists()


@pytest.mark.parametrize(
    "args", [(), ("db",), ("db", "bogus"), ("db", "backup"), ("db", "restore"), ("nope",)]
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_reports_problems_with_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    SQLiteStorage(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9999, 'future', 'x', 0, 'applied')")
    result = run_cli("db", "--db-url", url_for(db), "status", cwd=tmp_path)
    assert result.returncode == 1 and "newer than the code" in result.stdout
    migrate = run_cli("db", "--db-url", url_for(db), "migrate", cwd=tmp_path)
    assert migrate.returncode == 1 and "newer than the code" in migrate.stderr


@pytest.mark.parametrize("action", ["status", "migrate", "backup", "restore"])
def test_unreachable_postgres_is_one_masked_line(tmp_path: Path, action: str) -> None:
    """Nothing listens on port 1: every action fails with one line and no password."""
    extra = [str(tmp_path / "f.db")] if action in ("backup", "restore") else []
    result = run_cli(
        "db",
        "--db-url",
        "postgresql://rune:pw1234@127.0.0.1:1/rune",
        "--connect-timeout",
        "0.5",
        action,
        *extra,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "pw1234" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    if action in ("status", "migrate"):
        assert "cannot connect to PostgreSQL at postgresql://rune:***@127.0.0.1:1/rune" in (
            result.stderr
        )
        assert "backend: postgresql" in result.stdout
    else:
        assert "pg_dump" in result.stderr or "pg_restore" in result.stderr


def test_unknown_scheme_lists_supported(tmp_path: Path) -> None:
    result = run_cli("db", "--db-url", "mysql://u@h/db", "status", cwd=tmp_path)
    assert result.returncode == 1
    assert "supported schemes: sqlite, sqlite+pysqlite, postgresql, postgres" in result.stderr


def test_missing_variable_is_named(tmp_path: Path) -> None:
    result = run_cli(
        "db", "--db-url", "postgresql://rune:${DB_PASSWORD}@h/db", "status", cwd=tmp_path
    )
    assert result.returncode == 1 and "DB_PASSWORD" in result.stderr and "not set" in result.stderr


def test_corrupt_database_file(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    garbage = b"this is not a sqlite database at all" * 200
    db.write_bytes(garbage)
    for action in ("migrate", "status"):
        result = run_cli("db", "--db-url", url_for(db), action, cwd=tmp_path)
        assert result.returncode == 1, result
        assert "not a valid SQLite database" in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == garbage
    assert not Path(f"{db}-wal").exists()


def test_read_only_directory(tmp_path: Path, tmpfs: Callable[..., Path]) -> None:
    ro = tmpfs("64k", readonly=True)
    result = run_cli("db", "--db-url", url_for(ro / "sub" / "jobs.db"), "migrate", cwd=tmp_path)
    assert result.returncode == 1 and "Read-only file system" in result.stderr, result.stderr
    result = run_cli("db", "--db-url", url_for(ro / "jobs.db"), "migrate", cwd=tmp_path)
    assert result.returncode == 1 and "cannot open database" in result.stderr, result.stderr
    assert list(ro.iterdir()) == []


def test_full_disk_during_migrate_keeps_schema_consistent(
    tmp_path: Path, tmpfs: Callable[..., Path]
) -> None:
    small = tmpfs("64k")
    db = small / "jobs.db"
    result = run_cli("db", "--db-url", url_for(db), "migrate", cwd=tmp_path)
    assert result.returncode == 1 and "disk is full" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if db.exists() and db.stat().st_size:
        assert integrity(db) == "ok"
        with sqlite3.connect(db) as conn:
            applied = {r[0] for r in conn.execute("SELECT name FROM schema_version")}
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        # every table present belongs to a migration recorded as applied: no partial step
        expected = {
            "jobs": "jobs",
            "idempotency_keys": "idempotency_keys",
            "workflow_events": "workflow_events",
            "chain_state": "chain_state",
            "audit_artifact": "audit_artifact",
            "settings": "settings",
        }
        for table in names - {"schema_version", "sqlite_sequence"}:
            assert expected[table] in applied


def test_full_disk_during_backup_leaves_nothing(tmp_path: Path, tmpfs: Callable[..., Path]) -> None:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        for i in range(50):
            store.create_job(
                tenant_id="t", kind="benchmark", request_payload={"blob": "x" * 2000, "i": i}
            )
    small = tmpfs("64k")
    result = run_cli("db", "--db-url", url_for(db), "backup", str(small / "b.db"), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"disk full while writing the copy into {small}" in result.stderr, result.stderr
    assert list(small.iterdir()) == []


def test_backup_refusals(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    missing = run_cli("db", "--db-url", url_for(db), "backup", str(tmp_path / "b.db"), cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr and not db.exists()
    mem = run_cli(
        "db", "--db-url", "sqlite:///:memory:", "backup", str(tmp_path / "b.db"), cwd=tmp_path
    )
    assert mem.returncode == 1 and "in-memory" in mem.stderr
    SQLiteStorage(db).close()
    (tmp_path / "b.db").write_text("keep me")
    exists = run_cli("db", "--db-url", url_for(db), "backup", str(tmp_path / "b.db"), cwd=tmp_path)
    assert exists.returncode == 1 and "--force" in exists.stderr
    assert (tmp_path / "b.db").read_text() == "keep me"
    forced = run_cli(
        "db", "--db-url", url_for(db), "backup", "--force", str(tmp_path / "b.db"), cwd=tmp_path
    )
    assert forced.returncode == 0 and integrity(tmp_path / "b.db") == "ok"


def test_backup_while_four_writers_run_restores_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    SQLiteStorage(db).close()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with make_storage(url_for(db), env={}) as store:  # type: ignore[attr-defined]
                i = 0
                while not stop.is_set():
                    job_id, _ = store.create_job(
                        tenant_id=f"w{n}",
                        kind="benchmark",
                        request_payload={"i": i, "pad": "p" * 500},
                        idempotency_key=f"{n}-{i}",
                    )
                    store.update_job(job_id, status="running")
                    i += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.4)
    backups = []
    for k in range(2):
        dest = tmp_path / f"backup{k}.db"
        result = run_cli("db", "--db-url", url_for(db), "backup", str(dest), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "integrity ok" in result.stdout
        backups.append(dest)
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    for dest in backups:
        restored = tmp_path / f"restored-{dest.name}"
        result = run_cli("db", "--db-url", url_for(restored), "restore", str(dest), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert integrity(restored) == "ok"
        with sqlite3.connect(restored) as conn:
            jobs = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            keys = conn.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0]
            assert jobs > 0 and jobs == keys  # one snapshot: job and key rows commit together
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_restore_refuses_while_in_use_and_leaves_old_db(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={"v": "old"})
    backup = tmp_path / "b.db"
    assert (
        run_cli("db", "--db-url", url_for(db), "backup", str(backup), cwd=tmp_path).returncode == 0
    )
    with SQLiteStorage(db) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={"v": "new"})
        result = run_cli("db", "--db-url", url_for(db), "restore", str(backup), cwd=tmp_path)
        assert result.returncode == 1 and "in use" in result.stderr, result.stderr
        assert len(store.list_jobs(tenant_id="t")) == 2
    assert no_temp_files(tmp_path)
    result = run_cli("db", "--db-url", url_for(db), "restore", str(backup), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with SQLiteStorage(db) as store:
        assert [j.request_payload for j in store.list_jobs(tenant_id="t")] == [{"v": "old"}]


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from rune.storage.sqlite import SQLiteStorage
store = SQLiteStorage(Path(sys.argv[1]))
for i in range(20):
    store.create_job(tenant_id="t", kind="benchmark", request_payload={"v": "stale", "i": i})
print("written", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_restore_replaces_stale_wal_and_shm(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={"v": "backup"})
    backup = tmp_path / "b.db"
    assert (
        run_cli("db", "--db-url", url_for(db), "backup", str(backup), cwd=tmp_path).returncode == 0
    )
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(db)], env=clean_env(), capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
    result = run_cli("db", "--db-url", url_for(db), "restore", str(backup), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    with SQLiteStorage(db) as store:
        assert [j.request_payload for j in store.list_jobs(tenant_id="t")] == [{"v": "backup"}]


def test_restore_over_corrupt_target_with_stale_sidecars(tmp_path: Path) -> None:
    src = tmp_path / "src.db"
    with SQLiteStorage(src) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={"v": 1})
    db = tmp_path / "jobs.db"
    db.write_bytes(b"garbage" * 1000)
    Path(f"{db}-wal").write_bytes(b"stale wal" * 100)
    Path(f"{db}-shm").write_bytes(b"\0" * 32768)
    result = run_cli("db", "--db-url", url_for(db), "restore", str(src), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    assert integrity(db) == "ok"


def test_restore_checks_source_first(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={})
    before = db.read_bytes()
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"not sqlite" * 500)
    # a real database whose pages were damaged after the header
    damaged = tmp_path / "damaged.db"
    with SQLiteStorage(damaged) as store:
        for i in range(200):
            store.create_job(
                tenant_id="t", kind="benchmark", request_payload={"i": i, "pad": "x" * 300}
            )
    with sqlite3.connect(damaged) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    data = bytearray(damaged.read_bytes())
    data[4096 * 3 : 4096 * 3 + 2000] = os.urandom(2000)
    damaged.write_bytes(bytes(data))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE other (x)")
    newer = tmp_path / "newer.db"
    with SQLiteStorage(newer):
        pass
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9999, 'future', 'x', 0, 'applied')")
    cases = {
        bad: "not a valid SQLite database",
        damaged: "integrity check",
        foreign: "does not look like a RUNE database",
        newer: "newer than this code",
        tmp_path / "missing.db": "does not exist",
    }
    for src, message in cases.items():
        result = run_cli("db", "--db-url", url_for(db), "restore", str(src), cwd=tmp_path)
        assert result.returncode == 1, (src, result.stdout)
        assert message in result.stderr, (src, result.stderr)
        assert db.read_bytes() == before
    assert no_temp_files(tmp_path)


HOLDER = """
import sys, time
from pathlib import Path
from rune.storage.sqlite import SQLiteStorage
store = SQLiteStorage(Path(sys.argv[1]))
store.list_jobs(tenant_id="x")
print("ready", flush=True)
time.sleep(60)
"""


def test_restore_refuses_damaged_target_still_open_elsewhere(tmp_path: Path) -> None:
    """SQLite cannot open a damaged file, so the -shm lock probe must catch the holder."""
    src = tmp_path / "src.db"
    SQLiteStorage(src).close()
    db = tmp_path / "jobs.db"
    SQLiteStorage(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True, env=clean_env()
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with open(db, "r+b") as fh:
            fh.write(b"garbage header!!")
        damaged = db.read_bytes()
        result = run_cli("db", "--db-url", url_for(db), "restore", str(src), cwd=tmp_path)
        assert result.returncode == 1 and "in use" in result.stderr, result.stderr
        assert db.read_bytes() == damaged
    finally:
        holder.kill()
        holder.wait()


# File-system failures: one line naming the path and the OS reason (issue #11, item 6) ----
def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command; no traceback, no 'unexpected error'."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rune: error: "), lines[0]
    assert "unexpected error" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def backup_src(tmp_path: Path) -> Path:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        store.create_job(tenant_id="t", kind="benchmark", request_payload={"i": 1})
    return db


@pytest.mark.parametrize("below", ["b.db", "sub/b.db"])
def test_backup_and_restore_below_a_file(tmp_path: Path, backup_src: Path, below: str) -> None:
    """A regular file where a folder should be: named, with "not a directory"."""
    blocker = tmp_path / "afile"
    blocker.write_text("keep")
    backup = run_cli(
        "db", "--db-url", url_for(backup_src), "backup", str(blocker / below), cwd=tmp_path
    )
    line = one_error_line(backup)
    assert f"the backup {blocker / below}" in line and f"{blocker} is not a directory" in line
    restore = run_cli(
        "db", "--db-url", url_for(blocker / below), "restore", str(backup_src), cwd=tmp_path
    )
    line = one_error_line(restore)
    assert f"the database {blocker / below}" in line and f"{blocker} is not a directory" in line
    assert blocker.read_text() == "keep" and no_temp_files(tmp_path)


def test_backup_and_restore_create_a_missing_folder(tmp_path: Path, backup_src: Path) -> None:
    dest = tmp_path / "new" / "folder" / "b.db"
    result = run_cli("db", "--db-url", url_for(backup_src), "backup", str(dest), cwd=tmp_path)
    assert result.returncode == 0 and integrity(dest) == "ok", result.stderr
    target = tmp_path / "other" / "jobs.db"
    result = run_cli("db", "--db-url", url_for(target), "restore", str(dest), cwd=tmp_path)
    assert result.returncode == 0 and integrity(target) == "ok", result.stderr


def test_restore_source_and_target_problems(tmp_path: Path, backup_src: Path) -> None:
    (tmp_path / "afile").write_text("x")
    folder = tmp_path / "folder"
    folder.mkdir()
    for src, target, expected in (
        (folder, backup_src, f"backup file {folder} is a directory, not a file"),
        (tmp_path / "afile" / "b.db", backup_src, "does not exist (" + str(tmp_path / "afile")),
        (backup_src, folder, f"restore target {folder} is a directory"),
    ):
        result = run_cli("db", "--db-url", url_for(target), "restore", str(src), cwd=tmp_path)
        assert expected in one_error_line(result)
    result = run_cli(
        "db", "--db-url", url_for(folder), "backup", str(tmp_path / "b.db"), cwd=tmp_path
    )
    assert f"database {folder} is a directory" in one_error_line(result)


def test_backup_and_restore_on_a_read_only_mount(
    tmp_path: Path, backup_src: Path, tmpfs: Callable[..., Path]
) -> None:
    ro = tmpfs("64k", readonly=True)
    result = run_cli(
        "db", "--db-url", url_for(backup_src), "backup", str(ro / "b.db"), cwd=tmp_path
    )
    line = one_error_line(result)
    assert line == (
        f"rune: error: cannot write the backup {ro / 'b.db'}: cannot create a file in {ro}: "
        "Read-only file system"
    )
    result = run_cli(
        "db", "--db-url", url_for(backup_src), "backup", str(ro / "sub" / "b.db"), cwd=tmp_path
    )
    assert f"cannot create directory {ro / 'sub'}" in one_error_line(result)
    result = run_cli(
        "db", "--db-url", url_for(ro / "j.db"), "restore", str(backup_src), cwd=tmp_path
    )
    line = one_error_line(result)
    assert f"cannot restore into {ro / 'j.db'}" in line and "Read-only file system" in line
    assert list(ro.iterdir()) == []


def test_restore_over_a_database_on_a_remounted_read_only_mount(
    tmp_path: Path, backup_src: Path, tmpfs: Callable[..., Path]
) -> None:
    """The old database stays as it was, and no temporary file is left next to it."""
    mnt = tmpfs("512k")
    old = mnt / "jobs.db"
    SQLiteStorage(old).close()
    before = old.read_bytes()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr!r}")
    result = run_cli("db", "--db-url", url_for(old), "restore", str(backup_src), cwd=tmp_path)
    line = one_error_line(result)
    assert "Read-only file system" in line and "the database was not changed" in line
    assert old.read_bytes() == before and no_temp_files(mnt)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_backup_into_a_folder_without_write_permission(tmp_path: Path, backup_src: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        result = run_cli(
            "db", "--db-url", url_for(backup_src), "backup", str(locked / "b.db"), cwd=tmp_path
        )
        line = one_error_line(result)
        assert f"cannot create a file in {locked}: Permission denied" in line
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_other_os_failures_are_one_line(tmp_path: Path, backup_src: Path) -> None:
    """'File name too long' used to escape as "unexpected error: OSError"."""
    long = tmp_path / ("x" * 300 + ".db")
    result = run_cli("db", "--db-url", url_for(backup_src), "backup", str(long), cwd=tmp_path)
    assert "File name too long" in one_error_line(result)
    result = run_cli("db", "--db-url", url_for(long), "status", cwd=tmp_path)
    assert "File name too long" in one_error_line(result)


def test_closed_stdout_is_not_an_unexpected_error(tmp_path: Path, backup_src: Path) -> None:
    """`rune db status | head -0`: exit 1, and nothing about it on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "rune.cli", "db", "--db-url", url_for(backup_src), "status"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=clean_env(),
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
