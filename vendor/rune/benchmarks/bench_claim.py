"""Benchmark: job claims per second with 1, 2 and 4 worker processes, in one run.

Each worker process opens its own store (as ``rune worker`` does) and loops
``claim_job`` + ``finish_job(succeeded)`` -- a no-op handler -- until the queue is empty, so
the rate is what the claim protocol itself costs: the atomic claim statement, the lease
and owner writes and the owner-checked finish. Every run starts from an empty queue (a
fresh SQLite file; the PostgreSQL table truncated) filled with N queued jobs by one bulk
insert (not measured); the clock runs from the moment
all processes are connected and released together until the last one finds the queue
empty. Ratios compare each run with the 1-process run of the same backend in the same
invocation, so machine speed cancels out. Every run also checks that each job was claimed
exactly once and ended ``succeeded``.

SQLite serialises writers, so extra processes add contention rather than throughput;
PostgreSQL's ``FOR UPDATE SKIP LOCKED`` lets claimers pass over each other's rows, so its
rate should scale with processes until the server's CPUs are busy.

PostgreSQL runs against ``RUNE_TEST_PG_URL`` (a server where the user may ``CREATE
DATABASE``); the benchmark creates and drops a database of its own per run. Without the
variable only SQLite runs. Both backends run with their adapters' durability settings:
SQLite WAL with ``synchronous=NORMAL`` (no fsync per commit), PostgreSQL with whatever
the server uses (by default an fsync per commit, so a slow disk caps the 1-process rate
and concurrent processes gain from group commit).

Usage: ``python benchmarks/bench_claim.py [--jobs N] [--procs 1,2,4] [--quick]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from rune.storage import DatabaseBusyError, make_storage

ENV_PG_URL = "RUNE_TEST_PG_URL"
QUICK_JOBS = 100
REQUEST_JSON = '{"model":"llama3","prompt":"benchmark"}'
JOB_COLUMNS = "job_id, tenant_id, kind, status, request_json, message, created_at, updated_at"


@dataclass(frozen=True)
class RunResult:
    backend: str
    procs: int
    jobs: int
    seconds: float
    busy_retries: int

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds


# claimed job ids, monotonic time the queue ran dry, busy errors retried
Outcome = tuple[list[str], float, int]
T = TypeVar("T")


def retry_busy(call: Callable[[], T], busy: list[int]) -> T:
    """SQLite's lock is not fair: under saturation a process can wait out its whole busy
    timeout while others keep taking the lock. ``rune worker`` retries such errors; so does
    the benchmark, and it reports how often that happened."""
    while True:
        try:
            return call()
        except DatabaseBusyError:
            busy[0] += 1


def drain(url: str, worker_id: str, barrier: Barrier, results: mp.Queue[Outcome]) -> None:
    """One worker process: connect, wait for the others, claim and finish until empty."""
    store = make_storage(url, env={}, migrate=False)
    try:
        barrier.wait()
        done: list[str] = []
        busy = [0]
        claim = partial(store.claim_job, worker_id=worker_id, lease_seconds=60)
        while (job := retry_busy(claim, busy)) is not None:
            finish = partial(
                store.finish_job,
                job.job_id,
                worker_id=worker_id,
                status="succeeded",
                result_payload={},
            )
            if not retry_busy(finish, busy):
                raise AssertionError(f"{worker_id} could not finish job {job.job_id}")
            done.append(job.job_id)
        results.put((done, time.monotonic(), busy[0]))
    finally:
        store.close()


def fill_sqlite(path: Path, n: int) -> None:
    make_storage(f"sqlite://{path}", env={}).close()  # schema, indexes, WAL
    now = time.time()
    rows = [
        (str(uuid.uuid4()), "bench", "benchmark", "queued", REQUEST_JSON, "accepted", t, t)
        for t in (now + i * 1e-6 for i in range(n))
    ]
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()


def fill_postgres(url: str, n: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        # TRUNCATE gives every run a fresh heap and indexes (no dead rows from the last run).
        conn.execute("TRUNCATE jobs CASCADE")
        conn.execute(
            f"INSERT INTO jobs ({JOB_COLUMNS}) SELECT gen_random_uuid()::text, 'bench', "
            "'benchmark', 'queued', %s, 'accepted', %s + g * 1e-6, %s + g * 1e-6 "
            "FROM generate_series(1, %s) AS g",
            (REQUEST_JSON, time.time(), time.time(), n),
        )
        conn.execute("ANALYZE jobs")


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"rune_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(url: str, backend: str, procs: int, n: int) -> RunResult:
    ctx = mp.get_context("spawn")  # no connection or lock state inherited from the parent
    barrier = ctx.Barrier(procs + 1)
    results: mp.Queue[Outcome] = ctx.Queue()
    workers = [
        ctx.Process(target=drain, args=(url, f"bench-{i}", barrier, results)) for i in range(procs)
    ]
    for proc in workers:
        proc.start()
    barrier.wait(timeout=120)
    start = time.monotonic()
    outcomes: list[Outcome] = []
    while len(outcomes) < procs:
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in workers):
                for proc in workers:
                    proc.kill()
                raise RuntimeError("a worker process failed (its traceback is above)") from None
    for proc in workers:
        proc.join(timeout=60)
        if proc.exitcode != 0:
            raise RuntimeError(f"a worker process exited with {proc.exitcode}")
    claimed = [job_id for done, _, _ in outcomes for job_id in done]
    if len(claimed) != n or len(set(claimed)) != n:
        raise AssertionError(f"{len(claimed)} claims of {len(set(claimed))} jobs; expected {n}")
    busy = sum(b for _, _, b in outcomes)
    return RunResult(backend, procs, n, max(end for _, end, _ in outcomes) - start, busy)


def run_backend(
    backend: str, procs_list: list[int], n: int, pg_admin: str | None
) -> list[RunResult]:
    results = []
    if backend == "sqlite":
        for procs in procs_list:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "claims.db"
                fill_sqlite(path, n)
                results.append(measure(f"sqlite://{path}", backend, procs, n))
        return results
    assert pg_admin is not None
    with postgres_database(pg_admin) as url:
        make_storage(url, env={}).close()  # schema and indexes
        for procs in procs_list:
            fill_postgres(url, n)
            results.append(measure(url, backend, procs, n))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000, help="queued jobs per run")
    parser.add_argument("--procs", default="1,2,4", help="worker process counts (default 1,2,4)")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_JOBS} jobs per run (smoke test)"
    )
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="subset of sqlite,postgresql"
    )
    args = parser.parse_args(argv)
    n = QUICK_JOBS if args.quick else args.jobs
    procs_list = [int(p) for p in args.procs.split(",")]
    if n < 1 or not procs_list or min(procs_list) < 1:
        parser.error("--jobs and --procs must be positive")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    pg_admin = os.environ.get(ENV_PG_URL, "").strip() or None
    print(
        f"claim_job + finish_job, {n} jobs per run, {os.cpu_count()} CPUs, "
        f"sqlite {sqlite3.sqlite_version}"
    )
    for backend in backends:
        if backend == "postgresql" and pg_admin is None:
            print(f"postgresql: skipped ({ENV_PG_URL} is not set)")
            continue
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
        results = run_backend(backend, procs_list, n, pg_admin)
        base = next((r.rate for r in results if r.procs == 1), results[0].rate)
        for r in results:
            print(
                f"{backend:10s} {r.procs} process{'es' if r.procs > 1 else '  '} "
                f"{r.rate:10,.0f} claims/s   ratio {r.rate / base:.2f}x vs 1 process"
                + (f"   ({r.busy_retries} busy timeouts retried)" if r.busy_retries else "")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
