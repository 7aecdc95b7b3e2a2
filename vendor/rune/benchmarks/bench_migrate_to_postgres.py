"""Benchmark: ``rune db migrate-to-postgres`` against pgloader, on the same SQLite file.

Both copy one RUNE SQLite database into a fresh, empty PostgreSQL database on the same
server, one after the other, each timed from process start to exit. Ours includes what
pgloader does not do: the schema comes from rune's migrations (indexes and foreign keys
in place while rows arrive), every batch is committed with its resume point, and every
table is verified (row count and checksum on both sides) before it exits. pgloader creates
its own schema (note: it maps SQLite REAL to PostgreSQL ``real``, a 4-byte float, so it
does not even keep the timestamps exact), builds indexes after the load and verifies
nothing; we check its exit code and count its rows. pgloader 3.6 runs in a fixed 1 GB
SBCL heap and sometimes dies of heap exhaustion on this size; the run is then repeated
(in a fresh database) with ``prefetch rows = 10000`` and that is said in the output.

The source has ``--jobs`` jobs (default 1,000,000) with two events each, an idempotency
key for every third job, an artifact (200-500 random bytes) and a chain state for every
tenth, and 100 settings. It is built with raw ``executemany`` into a schema made by the
SQLite migrator and cached (``--cache``, default: a folder in the system temp dir), so
only the first run pays for it.

Usage: ``python benchmarks/bench_migrate_to_postgres.py [--jobs N] [--quick] [--check]
[--rounds R] [--pg-url URL]``. The server comes from ``--pg-url``, else
``RUNE_TEST_PG_URL``; the user must be allowed to create databases. ``--quick`` is a
smoke test (2,000 jobs, no cache); ``--check`` exits 1 when ours is slower than pgloader
(ratio < 1.0); ``--rounds`` runs both several times, alternating, and keeps each one's
best time (other work on the machine only ever makes a run slower).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from rune.storage.migrator import Migrator

TARGET = 1.0
TABLES = (
    "jobs",
    "idempotency_keys",
    "workflow_events",
    "chain_state",
    "audit_artifact",
    "settings",
)
CACHE_VERSION = 1
_CHUNK = 50_000


def build_source(path: Path, jobs: int) -> None:
    """Fill a fresh RUNE SQLite file quickly (deterministic content for a given size)."""
    conn = sqlite3.connect(path, isolation_level=None)
    Migrator().migrate(conn)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    rnd = random.Random(20_240_601)
    start = 1.7e9
    conn.execute("BEGIN")
    job_rows: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    keys: list[tuple[object, ...]] = []
    artifacts: list[tuple[object, ...]] = []
    chains: list[tuple[object, ...]] = []

    def flush() -> None:
        conn.executemany(
            "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, result_json, "
            "error, message, created_at, updated_at, owner, lease_expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            job_rows,
        )
        conn.executemany(
            "INSERT INTO workflow_events (job_id, event, status, duration_ms, error_type, "
            "labels_json, recorded_at, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany("INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, ?)", keys)
        conn.executemany("INSERT INTO audit_artifact VALUES (?, ?, ?, ?, ?, ?, ?, ?)", artifacts)
        conn.executemany("INSERT INTO chain_state VALUES (?, ?, ?, ?)", chains)
        for rows in (job_rows, events, keys, artifacts, chains):
            rows.clear()

    for i in range(jobs):
        job_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        tenant = f"tenant-{i % 17}"
        created = start + i * 0.013 + rnd.random() / 1000
        request = json.dumps(
            {"model": "llama3", "prompt": f"benchmark {i}", "params": {"n": i % 7}},
            sort_keys=True,
            separators=(",", ":"),
        )
        done = i % 3 != 0
        result = (
            json.dumps({"duration_seconds": rnd.random() * 10, "tokens": i % 1000}, sort_keys=True)
            if done
            else None
        )
        job_rows.append(
            (
                job_id,
                tenant,
                "benchmark",
                "succeeded" if done else "queued",
                request,
                result,
                None,
                "accepted",
                created,
                created + 1.5,
                "worker-1" if done else None,
                None,
            )
        )
        for step in range(2):
            events.append(
                (job_id, f"step{step}", "ok", rnd.random() * 100, None, '{"stage":"run"}',
                 created + step, tenant)
            )  # fmt: skip
        if i % 3 == 0:
            digest = hashlib.sha256(request.encode()).hexdigest()
            keys.append((tenant, "benchmark", f"key-{i}", job_id, created, digest))
        if i % 10 == 0:
            content = rnd.randbytes(200 + i % 300)
            artifacts.append(
                (str(uuid.UUID(int=rnd.getrandbits(128), version=4)), job_id, "log",
                 f"log-{i}.txt", len(content), hashlib.sha256(content).hexdigest(), content,
                 created + 2)
            )  # fmt: skip
        if i % 10 == 5:
            chains.append(
                (job_id, '{"edges":[],"nodes":[{"id":"a","status":"success"}]}', "success",
                 created + 3)
            )  # fmt: skip
        if len(job_rows) >= _CHUNK:
            flush()
    flush()
    for n in range(100):
        conn.execute(
            "INSERT INTO settings VALUES (?, ?, ?)", (f"profile.{n}", json.dumps({"v": n}), start)
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # as the API leaves it
    conn.close()


def cached_source(cache: Path, jobs: int) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"source-{jobs}-v{CACHE_VERSION}.db"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        started = time.perf_counter()
        print(f"building {path} ({jobs} jobs; cached for the next run) ...", flush=True)
        build_source(tmp, jobs)
        tmp.rename(path)
        print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def source_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


@contextmanager
def fresh_database(admin_url: str, label: str) -> Iterator[str]:
    name = f"rune_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_ours(source: Path, url: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "rune.cli", "db", "migrate-to-postgres", "--source",
         f"sqlite://{source}", "--target", url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "verified: every table matches" not in result.stdout:
        sys.exit(f"migrate-to-postgres failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


class HeapExhausted(Exception):
    """pgloader's SBCL runtime ran out of its fixed 1 GB heap (a known pgloader limit)."""


# Retried with this when the defaults exhaust pgloader's heap: fewer rows held in memory.
SMALLER_PREFETCH = ("--with", "prefetch rows = 10000")


def run_pgloader(
    pgloader: str, source: Path, url: str, expected: dict[str, int], options: tuple[str, ...]
) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [pgloader, *options, f"sqlite://{source}", url], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    output = result.stdout + result.stderr
    if result.returncode != 0 and "Heap exhausted" in output:
        raise HeapExhausted
    if result.returncode != 0:
        sys.exit(f"pgloader failed ({result.returncode}):\n{output[-2000:]}")
    copied = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            copied[table] = int(row[0]) if row else -1
    if copied != expected:
        sys.exit(f"pgloader exited 0 but did not copy every row: {copied} != {expected}")
    return elapsed


def timed_pgloader(pgloader: str, source: Path, admin_url: str, expected: dict[str, int]) -> float:
    """Defaults first; after a heap exhaustion, once more with a smaller prefetch."""
    for options in ((), SMALLER_PREFETCH):
        with fresh_database(admin_url, "pgloader") as url:
            try:
                return run_pgloader(pgloader, source, url, expected, options)
            except HeapExhausted:
                print(f"pgloader {' '.join(options) or '(defaults)'}: heap exhausted (crashed)")
    sys.exit("pgloader crashed with heap exhaustion even with a smaller prefetch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs in the source")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2,000 jobs, no cache")
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET}x")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run both R times, alternating; keep the best"
    )
    parser.add_argument("--pg-url", default=os.environ.get("RUNE_TEST_PG_URL", ""))
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "rune-bench-migrate"
    )
    args = parser.parse_args(argv)
    if not args.pg_url:
        parser.error("give --pg-url or set RUNE_TEST_PG_URL (a user that may CREATE DATABASE)")
    pgloader = shutil.which("pgloader")
    if pgloader is None:
        parser.error("pgloader is not installed (apt-get install pgloader)")
    scratch = None
    if args.quick:
        scratch = Path(tempfile.mkdtemp(prefix="rune-bench-quick-"))
        source = scratch / "source.db"
        build_source(source, 2_000)
    else:
        source = cached_source(args.cache, args.jobs)
    try:
        counts = source_counts(source)
        rows = sum(counts.values())
        print(
            f"source: {source} ({rows} rows: "
            + ", ".join(f"{t} {n}" for t, n in counts.items())
            + ")"
        )
        ours_times: list[float] = []
        their_times: list[float] = []
        for _round in range(args.rounds):
            with fresh_database(args.pg_url, "rune") as url:
                ours_times.append(run_ours(source, url))
            their_times.append(timed_pgloader(pgloader, source, args.pg_url, counts))
        ours, theirs = min(ours_times), min(their_times)
        if args.rounds > 1:
            print(
                "rounds (s): ours "
                + ", ".join(f"{t:.1f}" for t in ours_times)
                + "; pgloader "
                + ", ".join(f"{t:.1f}" for t in their_times)
                + " (best kept)"
            )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    ratio = theirs / ours
    print(f"rune db migrate-to-postgres: {ours:7.1f} s {rows / ours:10.0f} rows/s (verified)")
    print(f"pgloader:                    {theirs:7.1f} s {rows / theirs:10.0f} rows/s (counted)")
    print(f"ratio (ours / pgloader, rows per second): {ratio:.2f}x (target >= {TARGET}x)")
    return 1 if args.check and ratio < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
