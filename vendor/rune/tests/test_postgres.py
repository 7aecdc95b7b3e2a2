"""PostgreSQL adapter specifics the conformance suite cannot see.

Column types (upstream shrank timestamps to float4 and ids to int4), exact float
round-trips, migrations under concurrency and refusal rules, NUL handling, pool settings
and closing. Every test runs against the real server of ``RUNE_TEST_PG_URL`` on a fresh
database (the ``pg_url`` fixture).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rune.storage import (
    ConfigurationError,
    MigrationError,
    StoreClosedError,
    WorkflowEvent,
    make_storage,
)
from rune.storage.migrator import default_migrations_dir
from rune.storage.pg_migrator import PgMigrator, check_postgres_script
from rune.storage.postgres import PostgresStorage, pool_bounds
from rune.storage.urls import PostgresTarget, parse_url

PG_DIR = default_migrations_dir("postgres")
ALL_VERSIONS = [m.version for m in PgMigrator().migrations]


def target_of(url: str) -> PostgresTarget:
    target = parse_url(url, {})
    assert isinstance(target, PostgresTarget)
    return target


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresStorage]:
    with PostgresStorage(target_of(pg_url), env={}) as opened:
        yield opened


def copy_migrations(tmp_path: Path, name: str = "migrations") -> Path:
    folder = tmp_path / name
    shutil.copytree(PG_DIR, folder)
    return folder


# schema ------------------------------------------------------------------------------------
def test_column_types_are_wide_enough(
    store: PostgresStorage, conn: psycopg.Connection[Any]
) -> None:
    """Upstream defect 5: REAL (float4) rounds epoch seconds to 128 s steps; SERIAL is 32-bit."""
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ).fetchall()
    types = {(t, c): d for t, c, d in rows}
    for table, column in [
        ("jobs", "created_at"),
        ("jobs", "updated_at"),
        ("jobs", "lease_expires_at"),
        ("idempotency_keys", "created_at"),
        ("workflow_events", "recorded_at"),
        ("workflow_events", "duration_ms"),
        ("chain_state", "updated_at"),
        ("audit_artifact", "created_at"),
        ("settings", "updated_at"),
        ("schema_version", "applied_at"),
    ]:
        assert types[(table, column)] == "double precision", (table, column)
    assert types[("workflow_events", "id")] == "bigint"
    assert types[("audit_artifact", "size_bytes")] == "bigint"
    assert types[("audit_artifact", "content")] == "bytea"
    assert types[("jobs", "owner")] == "text"


def test_timestamps_round_trip_exactly(
    store: PostgresStorage, conn: psycopg.Connection[Any]
) -> None:
    job_id, _ = store.create_job(tenant_id="t", kind="benchmark", request_payload={})
    stamp = 1777000000.123456
    store.record_workflow_event(WorkflowEvent("e", "ok", stamp, 0.1, job_id=job_id))
    assert store.get_events_for_job(job_id)[0]["recorded_at"] == stamp
    conn.execute("UPDATE jobs SET created_at = %s WHERE job_id = %s", (stamp, job_id))
    job = store.get_job(job_id)
    assert job is not None and job.created_at == stamp
    # and the value the store itself writes is kept to the last bit
    row = conn.execute("SELECT updated_at FROM jobs WHERE job_id = %s", (job_id,)).fetchone()
    assert row is not None and row[0] == job.updated_at and row[0] != round(row[0])


def test_artifact_bytes_and_hash(store: PostgresStorage, conn: psycopg.Connection[Any]) -> None:
    job_id, _ = store.create_job(tenant_id="t", kind="benchmark", request_payload={})
    content = bytes(range(256)) * 3
    art = store.record_audit_artifact(job_id=job_id, kind="log", name="l", content=content)
    row = conn.execute(
        "SELECT octet_length(content), sha256 = encode(sha256(content), 'hex') "
        "FROM audit_artifact WHERE artifact_id = %s",
        (art,),
    ).fetchone()
    assert row == (768, True)


def test_lease_deadline_comes_from_the_database_clock(
    store: PostgresStorage, conn: psycopg.Connection[Any]
) -> None:
    store.create_job(tenant_id="t", kind="benchmark", request_payload={})
    job = store.claim_job(worker_id="w", lease_seconds=100)
    assert job is not None and job.lease_expires_at is not None
    row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    assert row is not None
    assert 98 <= job.lease_expires_at - row[0] <= 100
    # A lease the database clock says has run out is recovered, whatever the caller's clock.
    conn.execute(
        "UPDATE jobs SET lease_expires_at = extract(epoch FROM clock_timestamp()) - 1 "
        "WHERE job_id = %s",
        (job.job_id,),
    )
    assert store.recover_expired_jobs() == 1


# migrations ----------------------------------------------------------------------------------
def test_migrator_status_and_versions(pg_url: str, conn: psycopg.Connection[Any]) -> None:
    migrator = PgMigrator()
    assert migrator.latest_version == max(ALL_VERSIONS)
    status = migrator.status(conn)
    assert status.exists and not status.applied and not status.problems
    assert [m.version for m in status.pending] == ALL_VERSIONS
    assert migrator.applied_version(conn) == 0
    assert conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)  # no writes
    assert migrator.migrate(conn) == ALL_VERSIONS
    assert migrator.migrate(conn) == []
    assert migrator.applied_version(conn) == max(ALL_VERSIONS)
    status = migrator.status(conn)
    assert not status.pending and [a.source for a in status.applied] == ["applied"] * len(
        ALL_VERSIONS
    )


def _start_migrator_process(url: str, folder: Path) -> subprocess.Popen[str]:
    """A process that connects, says ``ready`` and migrates when it reads a line."""
    script = textwrap.dedent(
        """
        import json, sys
        import psycopg
        from pathlib import Path
        from rune.storage.pg_migrator import PgMigrator

        logs = []
        migrator = PgMigrator(Path(sys.argv[2]), log=logs.append)
        with psycopg.connect(sys.argv[1], autocommit=True) as conn:
            print("ready", flush=True)
            sys.stdin.readline()
            applied = migrator.migrate(conn)
        print(json.dumps({"applied": applied, "logs": logs}))
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script, url, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_parallel_migrators_apply_each_migration_once(
    pg_url: str, tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    """Upstream defect 10: replicas starting together raced on CREATE TABLE."""
    folder = copy_migrations(tmp_path)
    # A slow first file keeps the lock held while the other process arrives.
    (folder / "0001_jobs.sql").write_text(
        "SELECT pg_sleep(0.3);\n" + (PG_DIR / "0001_jobs.sql").read_text()
    )
    procs = [_start_migrator_process(pg_url, folder) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:  # both are connected: let them go at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    applied = [v for r in results for v in r["applied"]]
    assert sorted(applied) == ALL_VERSIONS  # every version once, by one of the two
    logs = [line for r in results for line in r["logs"]]
    assert sum(line.startswith("applying ") for line in logs) == len(ALL_VERSIONS)
    assert any("another process is migrating" in line for line in logs)
    rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == ALL_VERSIONS


def test_newer_database_is_refused(
    pg_url: str, tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    folder = copy_migrations(tmp_path)
    (folder / "0099_future.sql").write_text("CREATE TABLE future (x INTEGER);\n")
    PgMigrator(folder).migrate(conn)
    with pytest.raises(MigrationError, match="newer than the code"):
        PgMigrator().migrate(conn)
    with pytest.raises(MigrationError, match="newer than the code"):
        make_storage(pg_url, env={})
    assert any("0099" in p for p in PgMigrator().status(conn).problems)


def test_edited_or_renamed_migration_is_refused(
    pg_url: str, tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    PgMigrator().migrate(conn)
    edited = copy_migrations(tmp_path, "edited")
    path = edited / "0003_workflow_events.sql"
    path.write_text(path.read_text() + "-- edited\n")
    with pytest.raises(MigrationError, match="0003_workflow_events.sql was changed"):
        PgMigrator(edited).migrate(conn)
    renamed = copy_migrations(tmp_path, "renamed")
    (renamed / "0002_idempotency_keys.sql").rename(renamed / "0002_idem_keys.sql")
    with pytest.raises(MigrationError, match="rename it back"):
        PgMigrator(renamed).migrate(conn)


def test_failing_migration_leaves_nothing(
    pg_url: str, tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    folder = copy_migrations(tmp_path)
    (folder / "0009_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    with pytest.raises(MigrationError, match="0009_broken.sql failed and was rolled back"):
        PgMigrator(folder).migrate(conn)
    assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
    assert PgMigrator().applied_version(conn) == max(ALL_VERSIONS)  # earlier files stay


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE a (x INT); COMMIT;",
        "begin; CREATE TABLE a (x INT);",
        "CREATE TABLE a (x INT);\n  Rollback ;",
        "-- only a comment\n",
        "VACUUM jobs;",
    ],
)
def test_transaction_control_in_a_file_is_refused(script: str) -> None:
    with pytest.raises(MigrationError, match="not allowed|no SQL statement"):
        check_postgres_script(script, "0009_x.sql")


def test_a_refused_file_stops_the_migrator_when_it_is_built(tmp_path: Path) -> None:
    (tmp_path / "0001_bad.sql").write_text("CREATE TABLE a (x INT); COMMIT;")
    with pytest.raises(MigrationError, match=r"0001_bad\.sql"):
        PgMigrator(tmp_path)


def test_keywords_inside_bodies_and_literals_are_fine() -> None:
    check_postgres_script(
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n"
        "  PERFORM 1;\nEND;\n$body$;\n"
        "INSERT INTO t VALUES ('a; COMMIT; b'); -- ; rollback\n"
        'SELECT 1 AS "x;BEGIN";'
    )


# values PostgreSQL cannot store ------------------------------------------------------------
def test_nul_characters_are_refused_with_the_field_name(store: PostgresStorage) -> None:
    with pytest.raises(ValueError, match="tenant_id"):
        store.create_job(tenant_id="a\x00b", kind="benchmark", request_payload={})
    with pytest.raises(ValueError, match="idempotency_key"):
        store.create_job(
            tenant_id="a", kind="benchmark", request_payload={}, idempotency_key="k\x00"
        )
    job_id, _ = store.create_job(tenant_id="a", kind="benchmark", request_payload={"p": "x\x00y"})
    job = store.get_job(job_id)
    assert job is not None and job.request_payload == {"p": "x\x00y"}  # JSON escapes it
    with pytest.raises(ValueError, match="message"):
        store.update_job(job_id, status="running", message="m\x00")
    with pytest.raises(ValueError, match="key"):
        store.set_setting("s\x00", {})
    with pytest.raises(ValueError, match="worker_id"):
        store.claim_job(worker_id="w\x00")
    with pytest.raises(ValueError, match="name"):
        store.record_audit_artifact(job_id=job_id, kind="log", name="n\x00", content=b"")
    with pytest.raises(ValueError, match="error_type"):
        store.record_workflow_event(
            WorkflowEvent("e", "error", 1.0, job_id=job_id, error_type="E\x00")
        )
    # Lookups by such a value find nothing instead of failing.
    assert store.get_job("x\x00") is None
    assert store.update_job("x\x00", status="running") is False
    assert store.get_setting("s\x00") is None
    assert store.list_settings("s\x00") == {}
    assert store.list_jobs(tenant_id="a\x00") == []
    assert store.get_events_for_job("x\x00") == []
    assert not store.renew_lease(job_id, worker_id="w\x00")
    unchanged = store.get_job(job_id)
    assert unchanged is not None and unchanged.status == "queued"


# pool and lifecycle ------------------------------------------------------------------------
def test_pool_bounds() -> None:
    assert pool_bounds(None, None, {}) == (1, 10)
    assert pool_bounds(None, None, {"RUNE_PG_POOL_MIN": "2", "RUNE_PG_POOL_MAX": " 4 "}) == (2, 4)
    assert pool_bounds(3, 5, {"RUNE_PG_POOL_MIN": "x"}) == (3, 5)  # arguments win
    for env, message in [
        ({"RUNE_PG_POOL_MIN": "0"}, "RUNE_PG_POOL_MIN must be at least 1"),
        ({"RUNE_PG_POOL_MIN": "two"}, "RUNE_PG_POOL_MIN must be a whole number"),
        ({"RUNE_PG_POOL_MAX": "1.5"}, "RUNE_PG_POOL_MAX must be a whole number"),
        ({"RUNE_PG_POOL_MIN": "5", "RUNE_PG_POOL_MAX": "4"}, r"RUNE_PG_POOL_MAX \(4\) must be"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            pool_bounds(None, None, env)
    with pytest.raises(ConfigurationError, match="pool_max"):
        pool_bounds(2, 1, {})


def test_bad_pool_setting_fails_before_connecting() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match="RUNE_PG_POOL_MAX"):
        make_storage(
            "postgresql://u:pw-secret@127.0.0.1:1/db",
            env={"RUNE_PG_POOL_MAX": "0", "RUNE_DB_CONNECT_TIMEOUT": "30"},
        )
    assert time.monotonic() - started < 5


def _backends(conn: psycopg.Connection[Any], dbname: str, expected: int) -> int:
    """Server processes of the test pool, polled a little: a closed one takes a moment to go."""
    deadline = time.monotonic() + 5
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (dbname, "rune-test-pool"),
        ).fetchone()
        assert row is not None
        if int(row[0]) == expected or time.monotonic() > deadline:
            return int(row[0])
        time.sleep(0.05)


def test_pool_size_and_close(pg_url: str, conn: psycopg.Connection[Any]) -> None:
    dbname = target_of(pg_url).dbname
    store = PostgresStorage(
        target_of(pg_url), env={}, pool_min=2, pool_max=3, application_name="rune-test-pool"
    )
    assert (store.pool_min, store.pool_max) == (2, 3)
    assert _backends(conn, dbname, 2) == 2  # the migration connection is gone, the pool is open
    store.create_job(tenant_id="t", kind="benchmark", request_payload={})
    store.close()
    store.close()
    assert _backends(conn, dbname, 0) == 0
    with pytest.raises(StoreClosedError):
        store.get_job("x")
    with pytest.raises(StoreClosedError):
        store.claim_job(worker_id="w")


def test_make_storage_accepts_the_psycopg_scheme(pg_url: str) -> None:
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    store = make_storage(url, env={})
    try:
        assert isinstance(store, PostgresStorage)
        job_id, created = store.create_job(tenant_id="t", kind="benchmark", request_payload={})
        assert created and store.get_job(job_id) is not None
    finally:
        store.close()


def test_migrate_false_does_not_touch_the_schema(
    pg_url: str, conn: psycopg.Connection[Any]
) -> None:
    make_storage(pg_url, env={}, migrate=False).close()
    assert conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)
