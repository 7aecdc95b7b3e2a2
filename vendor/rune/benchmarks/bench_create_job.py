"""Benchmark: ``create_job`` throughput against a raw sqlite3 insert loop, in one run.

Both sides use the same durability settings (WAL, ``synchronous=NORMAL``, foreign keys on,
one transaction per job) and the same schema and indexes (both files are created by the
migrator), and the raw loop does the same per-job work the adapter must do (uuid4, sorted
JSON, timestamps), so the ratio measures what the adapter adds: validation, the connection
pool and error translation. With an idempotency key both sides run the same
``BEGIN IMMEDIATE`` / lookup / two inserts / ``COMMIT`` sequence.

Usage: ``python benchmarks/bench_create_job.py [--jobs N] [--rounds R] [--check]``;
``--check`` exits 1 when a ratio is below the 0.5x target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rune.storage.sqlite import SQLiteStorage

TARGET = 0.5
PAYLOAD = {"model": "llama3", "prompt": "benchmark", "params": {"n": 3, "temperature": 0.2}}
INSERT_JOB = (
    "INSERT INTO jobs (job_id, tenant_id, kind, status, request_json, message, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def fresh_db(folder: Path, name: str) -> Path:
    path = folder / name
    SQLiteStorage(path).close()  # same schema, indexes and WAL mode for both sides
    return path


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def raw_loop(path: Path, n: int, keyed: bool) -> float:
    conn = raw_connection(path)
    start = time.perf_counter()
    for i in range(n):
        job_id = str(uuid.uuid4())
        now = time.time()
        request_json = json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":"))
        row = (job_id, "tenant", "benchmark", "queued", request_json, "accepted", now, now)
        if not keyed:
            conn.execute(INSERT_JOB, row)
            continue
        digest = hashlib.sha256(request_json.encode()).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "SELECT job_id, request_sha256 FROM idempotency_keys WHERE tenant_id = ? "
            "AND operation = ? AND idempotency_key = ?",
            ("tenant", "benchmark", f"k{i}"),
        ).fetchone()
        conn.execute(INSERT_JOB, row)
        conn.execute(
            "INSERT INTO idempotency_keys (tenant_id, operation, idempotency_key, job_id, "
            "created_at, request_sha256) VALUES (?, ?, ?, ?, ?, ?)",
            ("tenant", "benchmark", f"k{i}", job_id, now, digest),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def adapter_loop(path: Path, n: int, keyed: bool) -> float:
    store = SQLiteStorage(path)
    start = time.perf_counter()
    for i in range(n):
        store.create_job(
            tenant_id="tenant",
            kind="benchmark",
            request_payload=PAYLOAD,
            idempotency_key=f"k{i}" if keyed else None,
        )
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 below the 0.5x target")
    args = parser.parse_args(argv)
    n = args.jobs
    ok = True
    print(f"sqlite {sqlite3.sqlite_version}, {n} jobs per run, best of {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for keyed in (False, True):
            label = "with idempotency key" if keyed else "without key"
            # Alternate the two sides round by round so drift affects both equally.
            raw_t: list[float] = []
            ada_t: list[float] = []
            for r in range(args.rounds):
                raw_t.append(raw_loop(fresh_db(folder, f"raw-{keyed}-{r}.db"), n, keyed))
                ada_t.append(adapter_loop(fresh_db(folder, f"ada-{keyed}-{r}.db"), n, keyed))
            raw_rate, ada_rate = n / min(raw_t), n / min(ada_t)
            ratio = ada_rate / raw_rate
            ok = ok and ratio >= TARGET
            print(
                f"{label:22s} raw {raw_rate:10,.0f} jobs/s   create_job {ada_rate:10,.0f} jobs/s"
                f"   ratio {ratio:.2f}x (target >= {TARGET}x)"
            )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
