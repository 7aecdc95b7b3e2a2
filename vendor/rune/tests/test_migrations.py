"""Migrator: ordering, transactions, bookkeeping, legacy bootstrap, refusals, concurrency."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rune.storage import MigrationError, WorkflowEvent
from rune.storage.maintenance import status as db_status
from rune.storage.migrator import Migrator, load_migrations, split_statements
from rune.storage.sqlite import SQLiteStorage
from tests.conftest import clean_env

ALL_VERSIONS = [m.version for m in load_migrations()]

# Upstream's pre-migrator tables (no foreign keys, no tenant on events).
LEGACY_DDL = {
    "jobs": """CREATE TABLE jobs (job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
        kind TEXT NOT NULL, status TEXT NOT NULL, request_json TEXT NOT NULL, result_json TEXT,
        error TEXT, message TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
    "idempotency_keys": """CREATE TABLE idempotency_keys (tenant_id TEXT NOT NULL,
        operation TEXT NOT NULL, idempotency_key TEXT NOT NULL, job_id TEXT NOT NULL,
        created_at REAL NOT NULL, PRIMARY KEY (tenant_id, operation, idempotency_key))""",
    "workflow_events": """CREATE TABLE workflow_events (id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT, event TEXT NOT NULL, status TEXT NOT NULL, duration_ms REAL,
        error_type TEXT, labels_json TEXT, recorded_at REAL NOT NULL)""",
    "chain_state": """CREATE TABLE chain_state (job_id TEXT PRIMARY KEY, state_json TEXT NOT NULL,
        overall_status TEXT NOT NULL, updated_at REAL NOT NULL)""",
    "audit_artifact": """CREATE TABLE audit_artifact (artifact_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL, content BLOB NOT NULL, created_at REAL NOT NULL)""",
}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def versions(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT version, source FROM schema_version ORDER BY version"))


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


def test_the_sqlite_migrator_knows_its_latest_version() -> None:
    """Both migrators share how they are built (BaseMigrator), ``latest_version`` too."""
    assert Migrator().latest_version == max(ALL_VERSIONS)


def test_fresh_database_gets_every_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    SQLiteStorage(db).close()
    rows = versions(db)
    assert [v for v, _ in rows] == ALL_VERSIONS and {s for _, s in rows} == {"applied"}
    with sqlite3.connect(db) as conn:
        name, checksum = conn.execute(
            "SELECT name, checksum FROM schema_version WHERE version=1"
        ).fetchone()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert name == "jobs" and len(checksum) == 64
    applied_at = sqlite3.connect(db).execute("SELECT applied_at FROM schema_version").fetchall()
    SQLiteStorage(db).close()  # idempotent re-run
    assert (
        sqlite3.connect(db).execute("SELECT applied_at FROM schema_version").fetchall()
        == applied_at
    )


def test_legacy_database_with_three_tables(tmp_path: Path) -> None:
    db = tmp_path / "legacy.db"
    with sqlite3.connect(db) as conn:
        for table in ("jobs", "idempotency_keys", "workflow_events"):
            conn.execute(LEGACY_DDL[table])
        conn.execute(
            "INSERT INTO jobs VALUES ('j1','acme','benchmark','running','{}',NULL,NULL,NULL,1,1)"
        )
        conn.execute(
            "INSERT INTO workflow_events (job_id, event, status, recorded_at) "
            "VALUES ('j1', 'e', 'ok', 1)"
        )
    assert db_status(db).legacy_bootstrap == (1, 2, 3)
    with SQLiteStorage(db) as store:
        # a legacy running job has no lease, so recovery fails it like an expired one
        assert store.recover_expired_jobs() == 1
        legacy_job = store.get_job("j1")
        assert legacy_job is not None and legacy_job.status == "failed"
        assert legacy_job.owner is None and legacy_job.lease_expires_at is None
        store.record_chain_initialized(job_id="j1", nodes=[{"id": "a"}], edges=[])
        store.record_audit_artifact(job_id="j1", kind="log", name="l", content=b"x")
        store.record_workflow_event(WorkflowEvent("e", "ok", 2.0, job_id="j1"))
        # the pre-existing event was backfilled with its job's tenant by 0007
        assert store.get_events_summary(tenant_id="acme")[0]["total"] == 2
    assert versions(db) == [(1, "bootstrap"), (2, "bootstrap"), (3, "bootstrap")] + [
        (v, "applied") for v in ALL_VERSIONS[3:]
    ]


def test_legacy_database_with_all_tables(tmp_path: Path) -> None:
    db = tmp_path / "legacy.db"
    with sqlite3.connect(db) as conn:
        for ddl in LEGACY_DDL.values():
            conn.execute(ddl)
        conn.execute(
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL, "
            "updated_at REAL NOT NULL)"
        )
    SQLiteStorage(db).close()
    assert [v for v, s in versions(db) if s == "bootstrap"] == [1, 2, 3, 4, 5, 6]
    assert [v for v, s in versions(db) if s == "applied"] == ALL_VERSIONS[6:]


def test_upstream_r1_schema_version_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "r1.db"
    with sqlite3.connect(db) as conn:
        for ddl in LEGACY_DDL.values():
            conn.execute(ddl)
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        conn.executemany("INSERT INTO schema_version VALUES (?, 1.0)", [(v,) for v in range(1, 6)])
    SQLiteStorage(db).close()
    rows = versions(db)
    assert [v for v, _ in rows] == ALL_VERSIONS
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute("SELECT COUNT(*) FROM schema_version WHERE checksum = ''").fetchone()[0]
            == 0
        )


def test_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {
            "0001_base.sql": "CREATE TABLE base (x INTEGER);",
            "0002_broken.sql": (
                "CREATE TABLE half (x INTEGER);\n"
                "CREATE INDEX idx_half ON half (x);\n"
                "INSERT INTO base VALUES (1);\n"
                "CREATE TABLE oops (x INTEGER REFERENCES nowhere(y), ;\n"
            ),
        },
    )
    db = tmp_path / "x.db"
    with pytest.raises(MigrationError, match="0002_broken.sql failed and was rolled back"):
        SQLiteStorage(db, migrations_dir=folder)
    assert tables(db) == {"base", "schema_version"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM base").fetchone()[0] == 0
        assert (
            conn.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND name='idx_half'"
            ).fetchone()
            is None
        )
    assert versions(db) == [(1, "applied")]
    # fix the file and re-run: it converges
    (folder / "0002_broken.sql").write_text(
        "CREATE TABLE half (x INTEGER);\nINSERT INTO base VALUES (1);\n"
    )
    SQLiteStorage(db, migrations_dir=folder, migrate=True).close()
    assert tables(db) == {"base", "half", "schema_version"}


def test_duplicate_versions_refused_before_touching_db(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x);", "0001_b.sql": "CREATE TABLE b (x);"}
    )
    db = tmp_path / "x.db"
    with pytest.raises(
        MigrationError, match="duplicate migration version 0001: 0001_a.sql and 0001_b.sql"
    ):
        SQLiteStorage(db, migrations_dir=folder)
    assert not db.exists()


def test_badly_named_file_refused(tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "m", {"1_a.sql": "CREATE TABLE a (x);"})
    with pytest.raises(MigrationError, match="not named NNNN_slug.sql"):
        load_migrations(folder)


def test_changed_applied_migration_refused(tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x);"})
    db = tmp_path / "x.db"
    SQLiteStorage(db, migrations_dir=folder).close()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x, y);")
    with pytest.raises(MigrationError, match="0001_a.sql was changed after it was applied"):
        SQLiteStorage(db, migrations_dir=folder)
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (folder / "0001_a.sql").rename(folder / "0001_renamed.sql")
    with pytest.raises(
        MigrationError, match="applied as 'a' but the file is now named 0001_renamed.sql"
    ):
        SQLiteStorage(db, migrations_dir=folder)


def test_database_newer_than_code_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"}
    )
    db = tmp_path / "x.db"
    SQLiteStorage(db, migrations_dir=folder).close()
    (folder / "0002_b.sql").unlink()
    with pytest.raises(
        MigrationError, match="0002 that this code does not know.*newer than the code"
    ):
        SQLiteStorage(db, migrations_dir=folder)
    assert db_status(db, Migrator(folder)).problems


def test_splitter_handles_literals_comments_and_triggers() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');  /* block; comment */
    CREATE TRIGGER trg AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d' WHERE rowid = new.rowid;
        SELECT 1;
    END;
    INSERT INTO t VALUES ('semi;colon');
    -- trailing comment
    """
    statements = split_statements(sql)
    assert len(statements) == 3
    assert "CREATE TRIGGER" in statements[1] and statements[1].endswith("END;")
    conn = sqlite3.connect(":memory:")
    for s in statements:
        conn.execute(s)
    assert conn.execute("SELECT x FROM t").fetchone() == ("c;d",)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("BEGIN; CREATE TABLE a (x); COMMIT;", "BEGIN is not allowed"),
        ("PRAGMA foreign_keys = OFF;", "PRAGMA is not allowed"),
        ("CREATE TABLE a (x); CREATE TABLE b (y)", "unterminated statement"),
        ("-- nothing\n", "contains no SQL statement"),
    ],
)
def test_splitter_refuses(sql: str, message: str) -> None:
    with pytest.raises(MigrationError, match=message):
        split_statements(sql)


def test_memory_database_migrates_and_is_shared_across_connections() -> None:
    with SQLiteStorage(None) as store:
        job_id, _ = store.create_job(tenant_id="t", kind="benchmark", request_payload={})
        with store.connection() as c1, store.connection() as c2:
            assert c1 is not c2
            assert c2.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1
        assert store.get_job(job_id) is not None


MIGRATE_SCRIPT = """
import sys
from pathlib import Path
from rune.storage.sqlite import SQLiteStorage
def log(m): print(m, flush=True)
SQLiteStorage(Path(sys.argv[1]), migrations_dir=Path(sys.argv[2]), log=log).close()
print("DONE", flush=True)
"""

SLOW_INSERT = (
    "CREATE TABLE big (n INTEGER);\n"
    "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < {rows}) SELECT x FROM c;\n"
    "CREATE TABLE after_big (x INTEGER);\n"
)


def test_sigkill_mid_migration_then_rerun_converges(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {
            "0001_base.sql": "CREATE TABLE base (x INTEGER);",
            "0002_slow.sql": SLOW_INSERT.format(rows=3_000_000),
            "0003_tail.sql": "CREATE TABLE tail (x INTEGER);",
        },
    )
    db = tmp_path / "kill.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", MIGRATE_SCRIPT, str(db), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("applying 0002_slow.sql"):
            break
    time.sleep(0.3)
    assert proc.poll() is None, "the slow step finished before the kill; make it slower"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the interrupted migration left nothing behind
    assert tables(db) == {"base", "schema_version"}
    assert versions(db) == [(1, "applied")]
    # re-run converges
    out = subprocess.run(
        [sys.executable, "-c", MIGRATE_SCRIPT, str(db), str(folder)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=True,
    ).stdout
    assert "applied 0002_slow.sql" in out and "applied 0001_base.sql" not in out
    assert [v for v, _ in versions(db)] == [1, 2, 3]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM big").fetchone()[0] == 3_000_000
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_eight_processes_migrating_at_once_apply_each_version_once(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {
            "0001_t.sql": "CREATE TABLE t (x INTEGER);",
            "0002_insert.sql": "INSERT INTO t VALUES (1);",  # not idempotent on purpose
            "0003_slow.sql": SLOW_INSERT.format(rows=200_000),
            "0004_insert_again.sql": "INSERT INTO t VALUES (2);",
        },
    )
    db = tmp_path / "race.db"
    go = tmp_path / "go"
    script = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n" + MIGRATE_SCRIPT
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(db), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        for _ in range(8)
    ]
    time.sleep(0.5)  # let every interpreter start and wait at the gate
    go.touch()
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outputs
    applied = [
        line for out, _ in outputs for line in out.splitlines() if line.startswith("applied ")
    ]
    assert sorted(applied) == [
        "applied 0001_t.sql",
        "applied 0002_insert.sql",
        "applied 0003_slow.sql",
        "applied 0004_insert_again.sql",
    ]
    with sqlite3.connect(db) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT x FROM t")) == [1, 2]
        assert conn.execute("SELECT COUNT(*) FROM big").fetchone()[0] == 200_000
    assert [v for v, _ in versions(db)] == [1, 2, 3, 4]
