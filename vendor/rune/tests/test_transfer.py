"""``rune db migrate-to-postgres``: snapshot, checks, resume after SIGKILL, verification.

Every test copies a real SQLite file into a real, freshly created PostgreSQL database
(the ``pg_url`` fixture); nothing is mocked. Sources are small except in the SIGKILL test,
which needs enough rows to be killed in the middle of a copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from rune.storage import ConfigurationError, StorageError, WorkflowEvent, make_storage, transfer
from rune.storage.migrator import Migrator, default_migrations_dir
from rune.storage.pg_migrator import PgMigrator
from rune.storage.sqlite import SQLiteStorage
from tests.conftest import clean_env, pg_admin_url, run_cli
from tests.test_pg_errors import Cluster, free_port, scram_cluster  # noqa: F401

SECRET_PAYLOAD = "do-not-print-this-payload-7781"
PASSWORD = "Tr4nsfer-Pw-9931"


# helpers ----------------------------------------------------------------------------------
def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


def with_password(url: str, password: str) -> str:
    """``url`` with a password (the trust-auth server accepts any)."""
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(
        (parts.scheme, f"{user or 'postgres'}:{password}@{host}", parts.path, parts.query, "")
    )


def with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, ""))


@contextmanager
def sqlite_db(path: Path | str, **kwargs: Any) -> Iterator[sqlite3.Connection]:
    """A connection that commits at the end of the block and is closed (no stray lock)."""
    conn = sqlite3.connect(path, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def pg(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def pg_tables(url: str) -> set[str]:
    with pg(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def index_defs(url: str) -> set[str]:
    with pg(url) as conn:
        rows = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'rune_copy_%'"
        ).fetchall()
    return {str(r[0]) for r in rows}


@pytest.fixture(scope="module")
def schema_indexes() -> Iterator[set[str]]:
    """The indexes rune's migrations create, read from a scratch database."""
    admin = pg_admin_url()
    name = f"rune_test_ref_{uuid.uuid4().hex[:8]}"
    with pg(admin) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = urlunsplit(urlsplit(admin)._replace(path="/" + name))
        with pg(url) as conn:
            PgMigrator().migrate(conn)
        yield index_defs(url)
    finally:
        with pg(admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def file_state(path: Path) -> tuple[bytes, int, int]:
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_size


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    spec = transfer.SPECS[table]
    cols = ", ".join(spec.column_names)
    with sqlite_db(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(f"SELECT {cols} FROM {table} ORDER BY {', '.join(spec.pk)}").fetchall()


def pg_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    spec = transfer.SPECS[table]
    cols = ", ".join(spec.column_names)
    order = ", ".join(f'{c} COLLATE "C"' if c != "id" else c for c in spec.pk)
    with pg(url) as conn:
        return [tuple(r) for r in conn.execute(f"SELECT {cols} FROM {table} ORDER BY {order}")]


def assert_same_contents(path: Path, url: str) -> None:
    """Row by row, value by value (floats exactly, bytes exactly, NULL is not '')."""
    for spec in transfer.TABLES:
        assert pg_rows(url, spec.name) == sqlite_rows(path, spec.name), spec.name


def make_source(path: Path, jobs: int = 12) -> Path:
    """A RUNE database with rows in every table, written through the SQLite adapter,
    plus edge values (NULL vs '', extreme floats, unicode, every byte value)."""
    store = SQLiteStorage(path)
    try:
        for i in range(jobs):
            job_id, _ = store.create_job(
                tenant_id=f"tenant-{i % 3}",
                kind="benchmark",
                request_payload={"i": i, "secret": SECRET_PAYLOAD, "ü": "ß✓"},
                idempotency_key=f"key-{i}" if i % 2 else None,
            )
            store.record_workflow_event(
                WorkflowEvent("step", "ok", time.time(), duration_ms=i / 7, job_id=job_id)
            )
            if i % 3 == 0:
                store.update_job(job_id, status="succeeded", result_payload={"n": i})
                store.record_chain_initialized(
                    job_id=job_id, nodes=[{"id": "a", "status": "pending"}], edges=[]
                )
            if i % 4 == 0:
                store.record_audit_artifact(
                    job_id=job_id, kind="log", name=f"log-{i}.txt", content=bytes(range(256)) * 3
                )
        store.record_workflow_event(WorkflowEvent("orphan-free", "error", time.time()))
        store.set_setting("profile.a", {"x": 1})
        store.set_setting("profile.b", {"nested": {"y": [1, 2.5, None]}})
    finally:
        store.close()
    with sqlite_db(path) as conn:
        first = conn.execute("SELECT job_id FROM jobs ORDER BY rowid LIMIT 1").fetchone()[0]
        conn.execute(
            "UPDATE jobs SET error = '', message = NULL, owner = 'w1', lease_expires_at = ?, "
            "created_at = ? WHERE job_id = ?",
            (1.7976931348623157e308, 5e-324, first),
        )
        conn.execute(
            "INSERT INTO workflow_events (job_id, event, status, duration_ms, error_type, "
            "labels_json, recorded_at, tenant_id) VALUES (?, 'edge', 'ok', ?, '', NULL, ?, '')",
            (first, -0.0, 1700000000.123456789),
        )
        conn.execute(
            "INSERT INTO workflow_events (job_id, event, status, duration_ms, recorded_at) "
            "VALUES (NULL, 'émoji 🎉', 'ok', 1e-300, 0.1)"
        )
    return path


def make_bulk_source(path: Path, jobs: int) -> Path:
    """Many rows fast: raw inserts into a schema made by the migrator."""
    conn = sqlite3.connect(path, isolation_level=None)
    Migrator().migrate(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for i in range(jobs):
        job_id = f"job-{i:06d}-{uuid.uuid4().hex[:8]}"
        created = 1.7e9 + i / 3
        conn.execute(
            "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, created_at, "
            "updated_at) VALUES (?, 't', 'benchmark', 'queued', ?, ?, ?)",
            (job_id, json.dumps({"i": i, "s": SECRET_PAYLOAD}), created, created),
        )
        conn.execute(
            "INSERT INTO workflow_events (job_id, event, status, duration_ms, recorded_at, "
            "tenant_id) VALUES (?, 'step', 'ok', ?, ?, 't')",
            (job_id, i / 11, created),
        )
        if i % 3 == 0:
            conn.execute(
                "INSERT INTO idempotency_keys VALUES ('t', 'benchmark', ?, ?, ?, NULL)",
                (f"k{i}", job_id, created),
            )
        if i % 10 == 0:
            content = os.urandom(64)
            conn.execute(
                "INSERT INTO audit_artifact VALUES (?, ?, 'log', 'n', ?, ?, ?, ?)",
                (
                    f"art-{i}",
                    job_id,
                    len(content),
                    hashlib.sha256(content).hexdigest(),
                    content,
                    created,
                ),
            )
            conn.execute(
                "INSERT INTO chain_state VALUES (?, '{}', 'pending', ?)", (job_id, created)
            )
    for i in range(20):
        conn.execute("INSERT INTO settings VALUES (?, '{}', 1.5)", (f"s{i}",))
    conn.execute("COMMIT")
    conn.close()
    return path


def copy(source: Path, target: str, **kwargs: Any) -> transfer.TransferResult:
    return transfer.migrate_to_postgres(sqlite_url(source), target, env={}, **kwargs)


def cli(
    *args: str, cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "db", "migrate-to-postgres", *args, cwd=cwd, env=clean_env(**env), timeout=timeout
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("rune: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return errors[0]


def progress_rows(url: str) -> dict[str, int]:
    with pg(url) as conn:
        rows = conn.execute(f"SELECT table_name, rows FROM {transfer.PROGRESS_TABLE}").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def target_counts(url: str) -> dict[str, int]:
    counts = {}
    with pg(url) as conn:
        for spec in transfer.TABLES:
            row = conn.execute(f"SELECT count(*) FROM {spec.name}").fetchone()
            counts[spec.name] = int(row[0]) if row else -1
    return counts


# A float column per table: a change there must be noticed, never a crash.
FLOAT_COLUMN = {
    "jobs": "created_at",
    "idempotency_keys": "created_at",
    "workflow_events": "recorded_at",
    "chain_state": "updated_at",
    "audit_artifact": "created_at",
    "settings": "updated_at",
}


# the copy ---------------------------------------------------------------------------------
def test_copies_every_table_exactly_and_leaves_the_source_alone(
    tmp_path: Path, pg_url: str, schema_indexes: set[str]
) -> None:
    source = make_source(tmp_path / "jobs.db")
    before = file_state(source)
    result = copy(source, pg_url, batch_size=3)
    assert result.ok and not result.dry_run
    assert result.plan.target_state == "empty"
    assert [c.table for c in result.checks] == [s.name for s in transfer.TABLES]
    assert all(c.source_rows > 0 for c in result.checks)  # every table, settings included
    assert_same_contents(source, pg_url)
    assert file_state(source) == before  # bytes, mtime and size: nothing was written
    with sqlite_db(source) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # not switched
    tables = pg_tables(pg_url)
    assert transfer.PROGRESS_TABLE not in tables  # dropped after verification
    assert transfer.INDEX_TABLE not in tables
    assert index_defs(pg_url) == schema_indexes  # dropped for the load, rebuilt as made
    assert len(schema_indexes) > len(transfer.TABLES)  # secondary ones exist at all
    with pg(pg_url) as conn:
        status = PgMigrator().status(conn)
    assert not status.pending and not status.problems


def test_a_rollback_journal_source_stays_as_it_is(tmp_path: Path, pg_url: str) -> None:
    """A backup file (journal_mode=DELETE) is not switched to WAL, and no side file appears."""
    source = make_source(tmp_path / "jobs.db", jobs=3)
    with sqlite_db(source) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    before = file_state(source)
    assert copy(source, pg_url).ok
    assert file_state(source) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.db"]


def test_events_keep_their_ids_and_new_ones_come_after(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=5)
    with sqlite_db(source) as conn:
        conn.execute(
            "UPDATE workflow_events SET id = id + 1000 "
            "WHERE id = (SELECT max(id) FROM workflow_events)"
        )
        top = conn.execute("SELECT max(id) FROM workflow_events").fetchone()[0]
    assert copy(source, pg_url).ok
    with pg(pg_url) as conn:
        fresh = conn.execute(
            "INSERT INTO workflow_events (event, status, recorded_at) VALUES ('n', 'ok', 1) "
            "RETURNING id"
        ).fetchone()
    assert fresh is not None and fresh[0] == top + 1
    store = make_storage(pg_url, env={})
    try:
        assert store.record_workflow_event(WorkflowEvent("later", "ok", time.time())) > top + 1
    finally:
        store.close()


def test_empty_source_gives_an_empty_schema(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "empty.db"
    SQLiteStorage(source).close()
    result = copy(source, pg_url)
    assert result.ok and all(c.source_rows == c.target_rows == 0 for c in result.checks)
    assert {s.name for s in transfer.TABLES} <= pg_tables(pg_url)
    with pg(pg_url) as conn:  # the identity starts at 1
        row = conn.execute(
            "INSERT INTO workflow_events (event, status, recorded_at) VALUES ('n', 'ok', 1) "
            "RETURNING id"
        ).fetchone()
    assert row is not None and row[0] == 1


def test_an_existing_empty_schema_is_used(tmp_path: Path, pg_url: str) -> None:
    with pg(pg_url) as conn:
        PgMigrator().migrate(conn)
    source = make_source(tmp_path / "jobs.db", jobs=4)
    result = copy(source, pg_url)
    assert result.ok and result.plan.target_state == "ready"
    assert_same_contents(source, pg_url)


def test_checksums_match_the_sql_definition_and_see_null_vs_empty() -> None:
    spec = transfer.SPECS["settings"]
    enc = transfer.encoders_for(spec)
    assert transfer.rows_checksum(enc, [(b"k", b"", 1.0)]) != transfer.rows_checksum(
        enc, [(b"k", None, 1.0)]
    )
    assert transfer.rows_checksum(enc, [(b"k", b"v", 1.0)]) != transfer.rows_checksum(
        enc, [(b"k", b"v", 1.0 + 2**-52)]
    )
    # sums are order independent and add up over batches
    rows = [(b"a", b"1", 0.5), (b"b", None, -0.0), (b"c", "€".encode(), 1e300)]
    whole = transfer.rows_checksum(enc, rows)
    assert whole == transfer.rows_checksum(enc, rows[::-1])
    assert whole == transfer.rows_checksum(enc, rows[:1]) + transfer.rows_checksum(enc, rows[1:])


# concurrent writer ------------------------------------------------------------------------
def test_one_snapshot_while_the_api_keeps_writing(tmp_path: Path, pg_url: str) -> None:
    """A writer commits (job + event + artifact in one transaction) during the copy; the
    copy is exactly the snapshot: whole units only, a prefix of the writer's sequence."""
    path = tmp_path / "live.db"
    SQLiteStorage(path).close()  # WAL, as the API runs it

    def insert_unit(conn: sqlite3.Connection, n: int) -> None:
        job_id = f"live-{n:06d}"
        content = f"artifact {n}".encode()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, created_at, "
            "updated_at) VALUES (?, 't', 'k', 'queued', '{}', ?, ?)",
            (job_id, n + 0.25, n + 0.25),
        )
        conn.execute(
            "INSERT INTO workflow_events (job_id, event, status, recorded_at, tenant_id) "
            "VALUES (?, 'e', 'ok', ?, 't')",
            (job_id, n + 0.5),
        )
        conn.execute(
            "INSERT INTO audit_artifact VALUES (?, ?, 'log', 'n', ?, ?, ?, ?)",
            (f"a-{n:06d}", job_id, len(content), hashlib.sha256(content).hexdigest(), content, 1.0),
        )
        conn.execute("COMMIT")

    writer_conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer_conn.execute("PRAGMA busy_timeout = 5000")
    for n in range(600):
        insert_unit(writer_conn, n)
    committed = [600]
    stop = threading.Event()

    def writer() -> None:
        n = committed[0]
        while not stop.is_set():
            insert_unit(writer_conn, n)
            n += 1
            committed[0] = n
            time.sleep(0.001)

    class WaitForWrites(transfer.Reporter):
        """After the first committed batch, let the writer commit 50 more units."""

        seen = False

        def progress(self, table: str, copied: int, total: int) -> None:
            if not self.seen:
                self.seen = True
                goal = committed[0] + 50
                deadline = time.monotonic() + 20
                while committed[0] < goal and time.monotonic() < deadline:
                    time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = copy(path, pg_url, batch_size=40, reporter=WaitForWrites())
    finally:
        stop.set()
        thread.join()
        writer_conn.close()
    assert result.ok, result.checks
    counts = target_counts(pg_url)
    copied = counts["jobs"]
    assert copied >= 600 and counts["workflow_events"] == counts["audit_artifact"] == copied
    assert committed[0] >= copied + 50  # the writer went on during the copy
    with pg(pg_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT job_id FROM jobs ORDER BY job_id")]
        orphans = conn.execute(
            "SELECT count(*) FROM workflow_events e LEFT JOIN jobs j USING (job_id) "
            "WHERE j.job_id IS NULL"
        ).fetchone()
    assert ids == [f"live-{n:06d}" for n in range(copied)]  # a prefix: one instant
    assert orphans == (0,)
    later = transfer.verify(sqlite_url(path), pg_url, env={})
    assert not all(c.ok for c in later)  # the source has moved on since the snapshot


# refusals: the source --------------------------------------------------------------------
def _older_source(path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mig7"
    folder.mkdir()
    for f in sorted(default_migrations_dir().glob("*.sql"))[:7]:
        (folder / f.name).write_bytes(f.read_bytes())
    conn = sqlite3.connect(path, isolation_level=None)
    Migrator(folder).migrate(conn)
    conn.close()


def _newer_source(path: Path, tmp_path: Path) -> None:
    SQLiteStorage(path).close()
    with sqlite_db(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9, 'future', 'x', 1.0, 'applied')")


def _edited_source(path: Path, tmp_path: Path) -> None:
    SQLiteStorage(path).close()
    with sqlite_db(path) as conn:
        conn.execute("UPDATE schema_version SET checksum = ? WHERE version = 3", ("0" * 64,))


def _legacy_source(path: Path, tmp_path: Path) -> None:
    with sqlite_db(path) as conn:
        conn.execute("CREATE TABLE jobs (job_id TEXT PRIMARY KEY)")


def _foreign_source(path: Path, tmp_path: Path) -> None:
    with sqlite_db(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")


def _not_sqlite(path: Path, tmp_path: Path) -> None:
    path.write_text("this is not a database\n" * 100)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (_older_source, "older than this code (0008); run `rune db migrate --db-url sqlite://"),
        (_newer_source, "newer than the code"),
        (_edited_source, "was changed after it was applied"),
        (_legacy_source, "no schema_version (it predates migrations); run `rune db migrate"),
        (_foreign_source, "is not a RUNE database"),
        (_not_sqlite, "is not a SQLite database"),
    ],
    ids=["older", "newer", "edited", "legacy", "foreign", "not-sqlite"],
)
def test_bad_sources_are_refused_before_anything_is_written(
    tmp_path: Path, pg_url: str, build: Any, expected: str
) -> None:
    source = tmp_path / "src.db"
    build(source, tmp_path)
    before = file_state(source)
    result = cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path)
    line = one_error_line(result)
    assert expected in line
    assert file_state(source) == before
    assert pg_tables(pg_url) == set()  # target untouched


def test_bad_urls(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=1)
    missing = one_error_line(
        cli("--source", sqlite_url(tmp_path / "nope.db"), "--target", pg_url, cwd=tmp_path)
    )
    assert "does not exist" in missing and not (tmp_path / "nope.db").exists()
    memory = one_error_line(cli("--source", "sqlite:///:memory:", "--target", pg_url, cwd=tmp_path))
    assert "in-memory" in memory
    swapped = one_error_line(cli("--source", pg_url, "--target", sqlite_url(source), cwd=tmp_path))
    assert "--source must be a sqlite:// URL" in swapped
    to_sqlite = one_error_line(
        cli("--source", sqlite_url(source), "--target", sqlite_url(source), cwd=tmp_path)
    )
    assert "--target must be a postgresql:// URL" in to_sqlite
    with pytest.raises(ConfigurationError, match="batch size"):
        copy(source, pg_url, batch_size=0)
    for bad in ("0", "-5", "ten"):
        usage = cli(
            "--source", sqlite_url(source), "--target", pg_url, "--batch-size", bad, cwd=tmp_path
        )
        assert usage.returncode == 2 and "--batch-size" in usage.stderr
    assert pg_tables(pg_url) == set()


def test_a_damaged_artifact_is_named_and_nothing_is_written(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=9)
    with sqlite_db(source) as conn:
        artifact_id = conn.execute("SELECT artifact_id FROM audit_artifact LIMIT 1").fetchone()[0]
        conn.execute(
            "UPDATE audit_artifact SET content = CAST(? AS BLOB) WHERE artifact_id = ?",
            (b"tampered" + bytes(760), artifact_id),
        )
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert f"artifact_id='{artifact_id}'" in line and "damaged" in line
    assert pg_tables(pg_url) == set()


# refusals: the target --------------------------------------------------------------------
def _migrations_upto(tmp_path: Path, version: int) -> Path:
    folder = tmp_path / f"pg{version}"
    folder.mkdir()
    for f in sorted(default_migrations_dir("postgres").glob("*.sql"))[:version]:
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


def test_an_older_target_schema_is_not_migrated_silently(tmp_path: Path, pg_url: str) -> None:
    with pg(pg_url) as conn:
        PgMigrator(_migrations_upto(tmp_path, 7)).migrate(conn)
    before = pg_tables(pg_url)
    source = make_source(tmp_path / "jobs.db", jobs=2)
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "schema version 0007, older than this code (0008)" in line
    assert "run `rune db migrate --db-url postgresql://" in line
    assert pg_tables(pg_url) == before
    with pg(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (7,)


def test_a_newer_target_and_foreign_tables_are_refused(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=2)
    with pg(pg_url) as conn:
        conn.execute("CREATE TABLE jobs (job_id TEXT PRIMARY KEY)")
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "has RUNE tables (jobs) but no schema_version" in line
    with pg(pg_url) as conn:
        conn.execute("DROP TABLE jobs")
        PgMigrator().migrate(conn)
        conn.execute("INSERT INTO schema_version VALUES (9, 'future', 'x', 1, 'applied')")
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "newer than the code" in line


def test_a_target_database_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    admin = pg_admin_url()
    name = f"rune_test_ascii_{uuid.uuid4().hex[:8]}"
    with pg(admin) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                     "TEMPLATE template0")  # fmt: skip
    try:
        url = urlunsplit(urlsplit(admin)._replace(path="/" + name))
        source = make_source(tmp_path / "jobs.db", jobs=1)
        line = one_error_line(cli("--source", sqlite_url(source), "--target", url, cwd=tmp_path))
        assert "uses encoding SQL_ASCII; RUNE needs UTF8" in line
        assert pg_tables(url) == set()
    finally:
        with pg(admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_target_with_rows_needs_force(tmp_path: Path, pg_url: str) -> None:
    old = make_source(tmp_path / "old.db", jobs=3)
    assert copy(old, pg_url).ok
    source = make_source(tmp_path / "jobs.db", jobs=7)
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "already holds RUNE rows (jobs: 3" in line and "--force" in line
    assert_same_contents(old, pg_url)  # untouched
    dry = cli(
        "--source", sqlite_url(source), "--target", pg_url, "--dry-run", "--force", cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert "replace 3 rows" in dry.stdout
    assert_same_contents(old, pg_url)
    forced = cli("--source", sqlite_url(source), "--target", pg_url, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "verified: every table matches" in forced.stdout
    assert_same_contents(source, pg_url)


def test_with_force_a_failing_first_batch_keeps_the_old_rows(tmp_path: Path, pg_url: str) -> None:
    old = make_source(tmp_path / "old.db", jobs=3)
    assert copy(old, pg_url).ok
    source = tmp_path / "jobs.db"  # one table with rows: its first batch is the first one
    SQLiteStorage(source).close()
    job_id = "job-with-a-nul"
    with sqlite_db(source) as conn:
        for n, payload in enumerate(["{}", f'{{"secret": "{SECRET_PAYLOAD}\x00"}}', "{}"]):
            conn.execute(
                "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, created_at, "
                "updated_at) VALUES (?, 't', 'k', 'queued', ?, 1, 1)",
                (job_id if n == 1 else f"job-{n}", payload),
            )
    result = cli("--source", sqlite_url(source), "--target", pg_url, "--force", cwd=tmp_path)
    line = one_error_line(result)
    assert f"jobs (job_id='{job_id}'): column request_json contains a NUL character" in line
    assert SECRET_PAYLOAD not in result.stdout + result.stderr
    assert_same_contents(old, pg_url)  # the TRUNCATE was rolled back with the batch


def test_rows_postgresql_refuses_are_named_by_primary_key_only(tmp_path: Path, pg_url: str) -> None:
    """An idempotency key whose job is gone (SQLite without foreign keys) stops the copy."""
    source = make_source(tmp_path / "jobs.db", jobs=4)
    with sqlite_db(source) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys VALUES ('t', 'op', ?, 'no-such-job', 1.0, NULL)",
            (SECRET_PAYLOAD[:4] + "-k",),
        )
    result = cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path)
    line = one_error_line(result)
    assert "idempotency_keys (tenant_id='t', operation='op', idempotency_key='do-n-k')" in line
    assert "job_id does not exist in jobs" in line
    assert SECRET_PAYLOAD not in result.stdout + result.stderr


@pytest.fixture
def owner_url(pg_url: str) -> Iterator[str]:
    """The test database owned by a fresh ordinary role (no superuser): foreign keys are
    then checked row by row during the copy instead of once at the end."""
    role = f"rune_copy_{uuid.uuid4().hex[:10]}"
    dbname = urlsplit(pg_url).path.lstrip("/")
    with pg(pg_admin_url()) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO "{role}"')
    try:
        yield with_user(pg_url, role)
    finally:
        with pg(pg_url) as conn:
            conn.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
            conn.execute(f'DROP OWNED BY "{role}"')
        with pg(pg_admin_url()) as conn:
            conn.execute(f'DROP ROLE "{role}"')


def test_an_ordinary_role_copies_with_foreign_keys_checked(
    tmp_path: Path, owner_url: str, schema_indexes: set[str]
) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=8)

    notes: list[str] = []

    class Notes(transfer.Reporter):
        def message(self, text: str) -> None:
            notes.append(text)

    result = copy(source, owner_url, batch_size=5, reporter=Notes())
    assert result.ok
    assert any("checked row by row" in line for line in notes), notes
    assert_same_contents(source, owner_url)
    assert index_defs(owner_url) == schema_indexes
    bad = make_source(tmp_path / "bad.db", jobs=3)
    with sqlite_db(bad) as db:
        db.execute(
            "INSERT INTO chain_state VALUES ('ghost-job', ?, 'pending', 1.0)",
            (json.dumps({"secret": SECRET_PAYLOAD}),),
        )
    with pg(owner_url) as conn:
        conn.execute(
            "DROP TABLE jobs, idempotency_keys, workflow_events, chain_state, "
            "audit_artifact, settings, schema_version"
        )
    with pytest.raises(StorageError) as info:
        copy(bad, owner_url)
    text = str(info.value)
    assert "chain_state (job_id='ghost-job')" in text and "foreign key" in text
    assert SECRET_PAYLOAD not in text and "\n" not in text


def test_a_role_that_does_not_own_the_schema_keeps_the_indexes(
    tmp_path: Path, pg_url: str, schema_indexes: set[str]
) -> None:
    """The usual managed-database split: the schema belongs to another role; the copy
    role may only use the tables. Nothing of the schema is dropped then."""
    with pg(pg_url) as conn:
        PgMigrator().migrate(conn)
    role = f"rune_app_{uuid.uuid4().hex[:10]}"
    with pg(pg_url) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"')
        conn.execute(f'GRANT SELECT, INSERT, TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.execute(f'GRANT USAGE, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    try:
        source = make_source(tmp_path / "jobs.db", jobs=6)
        notes: list[str] = []

        class Notes(transfer.Reporter):
            def message(self, text: str) -> None:
                notes.append(text)

        assert copy(source, with_user(pg_url, role), batch_size=4, reporter=Notes()).ok
        assert not any("secondary indexes" in line for line in notes), notes
        assert_same_contents(source, pg_url)
        assert index_defs(pg_url) == schema_indexes
        assert {transfer.PROGRESS_TABLE, transfer.INDEX_TABLE}.isdisjoint(pg_tables(pg_url))
    finally:
        with pg(pg_url) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


# connection problems ---------------------------------------------------------------------
def test_unreachable_and_tls_targets_give_one_masked_line(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=1)
    closed = f"postgresql://rune:{PASSWORD}@127.0.0.1:{free_port()}/rune"
    result = cli(
        "--source", sqlite_url(source), "--target", closed, "--connect-timeout", "1", cwd=tmp_path
    )
    line = one_error_line(result)
    assert "connection refused" in line and "rune:***@127.0.0.1" in line
    assert PASSWORD not in result.stdout + result.stderr
    tls = with_password(pg_url, PASSWORD) + "?sslmode=require"
    result = cli("--source", sqlite_url(source), "--target", tls, cwd=tmp_path)
    line = one_error_line(result)
    assert "does not support SSL" in line and PASSWORD not in result.stdout + result.stderr
    assert pg_tables(pg_url) == set()


def test_wrong_password(tmp_path: Path, scram_cluster: Cluster) -> None:  # noqa: F811
    source = make_source(tmp_path / "jobs.db", jobs=1)
    url = f"postgresql://postgres:${{PGPW}}@127.0.0.1:{scram_cluster.port}/postgres"
    result = cli("--source", sqlite_url(source), "--target", url, cwd=tmp_path, PGPW=PASSWORD)
    line = one_error_line(result)
    assert "password authentication failed" in line and "postgres:***@" in line
    assert PASSWORD not in result.stdout + result.stderr


def test_one_copy_at_a_time_per_target(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=2)
    with pg(pg_url) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (transfer.COPY_LOCK_KEY,))
        result = cli(
            "--source", sqlite_url(source), "--target", pg_url, "--connect-timeout", "1",
            cwd=tmp_path,
        )  # fmt: skip
    line = one_error_line(result)
    assert "another migrate-to-postgres is running" in line
    assert pg_tables(pg_url) == set()


# dry run -----------------------------------------------------------------------------------
def test_dry_run_writes_nothing_anywhere(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db")
    before = file_state(source)
    result = cli("--source", sqlite_url(source), "--target", pg_url, "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "empty database: the RUNE schema will be created" in result.stdout
    for spec in transfer.TABLES:
        count = len(sqlite_rows(source, spec.name))
        assert any(
            line.split()[:2] == [spec.name, str(count)] for line in result.stdout.splitlines()
        ), result.stdout
    assert "dry run: nothing was written" in result.stdout
    assert pg_tables(pg_url) == set()  # no schema, no progress table
    assert file_state(source) == before
    # SQLite may create the WAL side files a reader needs; nothing else appears
    assert {p.name for p in tmp_path.iterdir()} <= {"jobs.db", "jobs.db-wal", "jobs.db-shm"}


def test_dry_run_reports_a_refusal_with_exit_1(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=2)
    assert copy(source, pg_url).ok
    before = pg_tables(pg_url)
    result = cli("--source", sqlite_url(source), "--target", pg_url, "--dry-run", cwd=tmp_path)
    line = one_error_line(result)
    assert "already holds RUNE rows" in line and "refuse" in result.stdout
    assert pg_tables(pg_url) == before


# resume ------------------------------------------------------------------------------------
def test_sigkill_at_several_points_then_resume(
    tmp_path: Path, pg_url: str, schema_indexes: set[str]
) -> None:
    source = make_bulk_source(tmp_path / "big.db", jobs=2500)
    before = file_state(source)
    args = ("--source", sqlite_url(source), "--target", pg_url, "--batch-size", "100")
    seen = 0
    for fault in ("commit:1", "commit:3", "copy:6", "commit:30"):
        killed = cli(*args, cwd=tmp_path, RUNE_TEST_TRANSFER_KILL=fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr)
        progress = progress_rows(pg_url)
        assert target_counts(pg_url) == progress  # progress and rows commit together
        # at most one more batch: the other writer may commit before the signal lands
        batches = {"commit:1": 1, "commit:3": 3, "copy:6": 5, "commit:30": 30}[fault] + 1
        assert seen < sum(progress.values()) <= seen + batches * 100, (fault, progress)
        seen = sum(progress.values())
        assert transfer.INDEX_TABLE in pg_tables(pg_url)  # what is still to rebuild
        assert index_defs(pg_url) < schema_indexes
    dry = cli(*args, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and "holds an unfinished copy of this source" in dry.stdout
    assert progress_rows(pg_url) == target_counts(pg_url)
    final = cli(*args, cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert f"resuming an unfinished copy ({seen} rows already copied)" in final.stderr
    assert "verified: every table matches" in final.stdout
    assert transfer.PROGRESS_TABLE not in pg_tables(pg_url)
    assert transfer.INDEX_TABLE not in pg_tables(pg_url)
    assert index_defs(pg_url) == schema_indexes
    assert_same_contents(source, pg_url)  # no duplicates, nothing lost
    assert all(c.ok for c in transfer.verify(sqlite_url(source), pg_url, env={}))
    assert file_state(source) == before


def _killed_copy(tmp_path: Path, source: Path, pg_url: str, fault: str = "commit:2") -> None:
    result = cli(
        "--source",
        sqlite_url(source),
        "--target",
        pg_url,
        "--batch-size",
        "4",
        cwd=tmp_path,
        RUNE_TEST_TRANSFER_KILL=fault,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_plan_counts_the_rows_still_to_copy() -> None:
    """The plan, not the CLI, knows how many rows a run would copy: every source row
    less what an unfinished copy already holds."""
    plan = transfer.Plan(
        source="jobs.db",
        target="postgresql://h/db",
        schema_version=1,
        server_version=160000,
        target_state="resume",
        summary="",
        refusal=None,
        tables=(
            transfer.TablePlan("jobs", 10, 4, 4, "resume: 6 rows left"),
            transfer.TablePlan("settings", 3, 3, 3, "complete"),
            transfer.TablePlan("chain_state", 2, 0, 0, "resume: 2 rows left"),
        ),
    )
    assert plan.rows_to_copy == 8
    assert dataclasses.replace(plan, tables=()).rows_to_copy == 0


def test_dry_run_of_a_resume_prints_the_rows_left(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=20)
    _killed_copy(tmp_path, source, pg_url)
    done = sum(progress_rows(pg_url).values())
    total = sum(len(sqlite_rows(source, spec.name)) for spec in transfer.TABLES)
    assert 0 < done < total
    assert copy(source, pg_url, dry_run=True).plan.rows_to_copy == total - done
    dry = cli("--source", sqlite_url(source), "--target", pg_url, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-1] == (
        f"dry run: nothing was written; {total - done} rows would be copied"
    )


def test_resume_is_refused_when_the_source_changed(
    tmp_path: Path, pg_url: str, schema_indexes: set[str]
) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=20)
    _killed_copy(tmp_path, source, pg_url)
    with sqlite_db(source) as conn:  # the API went on: first rows changed
        for table, column in FLOAT_COLUMN.items():
            conn.execute(
                f"UPDATE {table} SET {column} = {column} + 1 "
                f"WHERE rowid = (SELECT min(rowid) FROM {table})"
            )
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "changed since the copy started" in line and "--force" in line
    forced = cli("--source", sqlite_url(source), "--target", pg_url, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "left dropped by an earlier run" in forced.stderr
    assert_same_contents(source, pg_url)
    assert index_defs(pg_url) == schema_indexes  # the killed run's drops were rebuilt


def test_resume_is_refused_for_another_source(tmp_path: Path, pg_url: str) -> None:
    first = make_source(tmp_path / "a.db", jobs=20)
    other = make_source(tmp_path / "b.db", jobs=5)
    _killed_copy(tmp_path, first, pg_url)
    line = one_error_line(cli("--source", sqlite_url(other), "--target", pg_url, cwd=tmp_path))
    assert "copy of another database" in line and str(first) in line
    # the same source resumes, even from a copy of the file (same lineage, same rows)
    moved = tmp_path / "moved.db"
    moved.write_bytes(first.read_bytes())
    resumed = cli("--source", sqlite_url(moved), "--target", pg_url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert_same_contents(first, pg_url)


# verification ------------------------------------------------------------------------------
def test_a_corrupted_target_row_is_detected(tmp_path: Path, pg_url: str) -> None:
    source = make_source(tmp_path / "jobs.db")
    assert copy(source, pg_url).ok
    assert all(c.ok for c in transfer.verify(sqlite_url(source), pg_url, env={}))
    with pg(pg_url) as conn:
        conn.execute(
            "UPDATE workflow_events SET duration_ms = duration_ms + 1e-9 WHERE id = "
            "(SELECT min(id) FROM workflow_events WHERE duration_ms > 0)"
        )
        conn.execute(
            "UPDATE audit_artifact SET content = set_byte(content, 100, "
            "get_byte(content, 100) # 1) WHERE artifact_id = (SELECT min(artifact_id) "
            "FROM audit_artifact)"
        )
    checks = {c.table: c for c in transfer.verify(sqlite_url(source), pg_url, env={})}
    changed = ("workflow_events", "audit_artifact")
    for name in changed:  # same count, another sum
        assert not checks[name].ok and checks[name].source_rows == checks[name].target_rows
    assert all(c.ok for name, c in checks.items() if name not in changed)


def test_a_difference_found_at_the_end_exits_1_and_keeps_the_progress(
    tmp_path: Path, pg_url: str
) -> None:
    """A target that alters what it stores (here a trigger that fires even while triggers
    are skipped) must fail the verification, not pass silently."""
    with pg(pg_url) as conn:
        PgMigrator().migrate(conn)
        conn.execute(
            "CREATE FUNCTION shift_lease() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.lease_expires_at := coalesce(NEW.lease_expires_at, 0) + 1e-9; RETURN NEW; "
            "END $$"
        )
        conn.execute(
            "CREATE TRIGGER shift_lease BEFORE INSERT ON jobs FOR EACH ROW "
            "EXECUTE FUNCTION shift_lease()"
        )
        conn.execute("ALTER TABLE jobs ENABLE ALWAYS TRIGGER shift_lease")
    source = make_source(tmp_path / "jobs.db", jobs=5)
    result = cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path)
    line = one_error_line(result)
    assert "verification failed: jobs differ" in line
    jobs_line = next(
        row
        for row in result.stdout.split("source checksum", 1)[1].splitlines()
        if row.startswith("jobs ")
    )
    fields = jobs_line.split()
    assert fields[1] == fields[2] and fields[3] != fields[4] and fields[5] == "DIFF"
    assert all(
        row.endswith(" ok")
        for row in result.stdout.split("source checksum", 1)[1].splitlines()[1:]
        if row.split()[0] in {s.name for s in transfer.TABLES} - {"jobs"}
    )
    assert transfer.PROGRESS_TABLE in pg_tables(pg_url)


def test_a_target_changed_behind_an_unfinished_copy_is_not_resumed(
    tmp_path: Path, pg_url: str
) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=20)
    _killed_copy(tmp_path, source, pg_url)
    table = max(progress_rows(pg_url).items(), key=lambda item: item[1])[0]
    column = FLOAT_COLUMN[table]
    with pg(pg_url) as conn:  # something else wrote into a table the copy had filled
        conn.execute(f"UPDATE {table} SET {column} = {column} + 1")
    line = one_error_line(cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path))
    assert "no longer holds what the copy wrote" in line
    forced = cli("--source", sqlite_url(source), "--target", pg_url, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert_same_contents(source, pg_url)


# output ------------------------------------------------------------------------------------
def test_cli_output_masks_the_password_and_prints_the_verification(
    tmp_path: Path, pg_url: str
) -> None:
    source = make_source(tmp_path / "jobs.db", jobs=6)
    url = with_password(pg_url, "${DB_PW}")
    result = cli("--source", sqlite_url(source), "--target", url, cwd=tmp_path, DB_PW=PASSWORD)
    assert result.returncode == 0, result.stderr
    both = result.stdout + result.stderr
    assert PASSWORD not in both and "postgres:***@" in result.stdout
    header = next(line for line in result.stdout.splitlines() if "source checksum" in line)
    assert header.split() == [
        "table", "source", "rows", "target", "rows", "source", "checksum", "target",
        "checksum", "result",
    ]  # fmt: skip
    for spec in transfer.TABLES:
        lines = result.stdout.split(header, 1)[1].splitlines()
        row = next(line for line in lines if line.startswith(spec.name + " "))
        fields = row.split()
        assert fields[1] == fields[2] and fields[3] == fields[4] and fields[5] == "ok"
    # not a terminal: one line per table, when it is done, and no carriage returns
    done = [line for line in result.stderr.splitlines() if " rows copied in " in line]
    assert sorted(line.split(":")[0] for line in done) == sorted(s.name for s in transfer.TABLES)
    assert "\r" not in result.stderr
    # the refusal on a second run is masked too
    again = cli("--source", sqlite_url(source), "--target", url, cwd=tmp_path, DB_PW=PASSWORD)
    line = one_error_line(again)
    assert "postgres:***@" in line and PASSWORD not in again.stdout + again.stderr


def test_progress_on_a_terminal_updates_in_place(tmp_path: Path, pg_url: str) -> None:
    source = make_bulk_source(tmp_path / "jobs.db", jobs=300)
    main, secondary = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "rune.cli", "db", "migrate-to-postgres", "--source",
             sqlite_url(source), "--target", pg_url, "--batch-size", "50"],
            cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=secondary,
            timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(secondary)
        reader.join(10)
        os.close(main)
    text = b"".join(chunks).decode()
    assert proc.returncode == 0, text
    assert "\r" in text and "jobs 50/300" in text
    assert text.count(" rows copied in ") == len(transfer.TABLES)


def test_a_half_copied_target_is_not_served(tmp_path: Path, pg_url: str) -> None:
    """Switching RUNE_DB_URL before the copy finished must fail loudly, not serve half."""
    source = make_source(tmp_path / "jobs.db", jobs=20)
    _killed_copy(tmp_path, source, pg_url)
    with pytest.raises(StorageError, match="unfinished `rune db migrate-to-postgres` copy"):
        make_storage(pg_url, env={})
    status = run_cli("db", "--db-url", pg_url, "status", cwd=tmp_path)
    assert status.returncode == 1
    assert "problem: an unfinished `rune db migrate-to-postgres` copy" in status.stdout
    assert cli("--source", sqlite_url(source), "--target", pg_url, cwd=tmp_path).returncode == 0
    make_storage(pg_url, env={}).close()  # finished: served again
