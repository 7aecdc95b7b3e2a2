"""``rune worker``: each job runs once across worker processes, crashed workers' jobs are
recovered only after their lease, cancellation discards results, outages are survived.

The multi-process tests run real ``python -m rune.cli worker`` processes on a SQLite file
and on PostgreSQL; executions are counted by the handler in ``tests.worker_handlers``
(an ``O_APPEND`` file), independently of what the store says.
"""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rune.storage import StoragePort, make_storage
from rune.storage.port import JobRecord, JSONDict
from rune.storage.sqlite import SQLiteStorage
from rune.worker import (
    RECOVERY_MESSAGE,
    HandlerSpecError,
    Worker,
    WorkerStats,
    echo,
    load_handler,
)
from tests.conftest import clean_env, pg_admin_url, run_cli
from tests.worker_handlers import ENV_RECORD

ROOT = Path(__file__).resolve().parent.parent
RECORD = "tests.worker_handlers:record"
T = TypeVar("T")


@pytest.fixture(params=["sqlite-file", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite://{tmp_path}/jobs.db"


@pytest.fixture
def store(db_url: str) -> Iterator[StoragePort]:
    opened = make_storage(db_url, env={})
    yield opened
    opened.close()


def worker_env(record: Path) -> dict[str, str]:
    return clean_env(PYTHONPATH=str(ROOT), **{ENV_RECORD: str(record)})


def start_worker(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rune.cli", "worker", "--db-url", url, *args],
        cwd=tmp_path,
        env=worker_env(tmp_path / "executions.log"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "it") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def job_in(store: StoragePort, job_id: str, status: str) -> JobRecord | None:
    job = store.get_job(job_id)
    return job if job is not None and job.status == status else None


def new_job(store: StoragePort, kind: str = "benchmark", **payload: Any) -> str:
    return store.create_job(tenant_id="t", kind=kind, request_payload=payload)[0]


def summary_counts(stderr: str) -> dict[str, int]:
    match = re.search(
        r"claimed (\d+), succeeded (\d+), failed (\d+), lost (\d+), storage errors (\d+)", stderr
    )
    assert match, stderr
    names = ("claimed", "succeeded", "failed", "lost", "storage_errors")
    return dict(zip(names, map(int, match.groups()), strict=True))


# the acceptance test --------------------------------------------------------------------------
def test_two_worker_processes_run_each_of_1000_jobs_exactly_once(
    store: StoragePort, db_url: str, tmp_path: Path
) -> None:
    # ~1 ms per job keeps both workers busy long enough that neither drains the queue alone.
    ids = {new_job(store, sleep=0.001) for _ in range(1000)}
    args = (RECORD, "--exit-when-idle", "--poll-interval", "0.05", "--lease-seconds", "30")
    procs = [
        start_worker(db_url, tmp_path, "--worker-id", f"w{n}", "--handler", *args) for n in range(2)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err

    lines = (tmp_path / "executions.log").read_text().splitlines()
    executed = Counter(line.split()[0] for line in lines)
    assert len(lines) == 1000 and set(executed) == ids  # none missing
    assert executed.most_common(1)[0][1] == 1  # none twice
    jobs = [store.get_job(job_id) for job_id in ids]
    assert all(job is not None and job.status == "succeeded" for job in jobs)
    owners = Counter(job.owner for job in jobs if job is not None)
    assert set(owners) == {"w0", "w1"}, owners  # both did work
    claimed = [summary_counts(err) for _, err in outputs]
    assert [c["claimed"] for c in claimed] == [owners["w0"], owners["w1"]]
    assert sum(c["succeeded"] for c in claimed) == 1000
    # the pid that recorded each execution is the pid whose result the store kept
    ran_in = dict(line.split() for line in lines)
    for job in jobs:
        assert job is not None and job.result_payload == {"pid": int(ran_in[job.job_id])}


def test_killed_worker_job_is_failed_only_after_its_lease_expired(
    store: StoragePort, db_url: str, tmp_path: Path
) -> None:
    lease = 2.0
    job_id = new_job(store, sleep=60)
    common = ("--handler", RECORD, "--lease-seconds", str(lease), "--poll-interval", "0.05")
    doomed = start_worker(db_url, tmp_path, "--worker-id", "doomed", *common)
    try:
        claimed = wait_for(lambda: job_in(store, job_id, "running"), what="the claim")
        assert claimed.owner == "doomed" and claimed.lease_expires_at is not None
        # the heartbeat moves the lease forward while the handler runs
        first = claimed.lease_expires_at
        renewed = wait_for(
            lambda: ((j := store.get_job(job_id)) and (j.lease_expires_at or 0) > first) or None,
            timeout=lease,
            what="a lease renewal",
        )
        assert renewed
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
    killed = store.get_job(job_id)
    assert killed is not None and killed.status == "running"
    expires = killed.lease_expires_at
    assert expires is not None

    # Before the deadline, recovery (here, by a restarting replica) leaves the job alone.
    if time.time() < expires - 0.2:
        assert store.recover_expired_jobs() == 0
    rescuer = start_worker(db_url, tmp_path, "--worker-id", "rescuer", *common)
    try:
        while (job := store.get_job(job_id)) is not None and job.status == "running":
            assert time.time() < expires + 3 * lease + 10, "never recovered"
            time.sleep(0.02)
        assert job is not None
        assert (job.status, job.error, job.owner) == ("failed", RECOVERY_MESSAGE, "doomed")
        assert job.updated_at >= expires  # never before the lease ran out
    finally:
        rescuer.send_signal(signal.SIGTERM)
        _, err = rescuer.communicate(timeout=30)
    assert rescuer.returncode == 0, err
    assert summary_counts(err)["claimed"] == 0
    assert not (tmp_path / "executions.log").exists()  # the killed handler never completed


def test_sigterm_finishes_the_current_job_then_exits(
    store: StoragePort, db_url: str, tmp_path: Path
) -> None:
    current = new_job(store, sleep=1.0)
    time.sleep(0.002)
    waiting = new_job(store)
    proc = start_worker(db_url, tmp_path, "--handler", RECORD, "--poll-interval", "0.05")
    try:
        wait_for(lambda: job_in(store, current, "running"), what="the claim")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert summary_counts(err) == {
        "claimed": 1,
        "succeeded": 1,
        "failed": 0,
        "lost": 0,
        "storage_errors": 0,
    }
    done = store.get_job(current)
    assert done is not None and done.status == "succeeded" and done.lease_expires_at is None
    assert job_in(store, waiting, "queued") is not None
    assert err.count("\n") == 1  # quiet by default: only the summary line


# in-process worker behaviour -----------------------------------------------------------------
def run_worker(store: StoragePort, handler: Callable[[JobRecord], Any], **kw: Any) -> WorkerStats:
    run_kw = {k: kw.pop(k) for k in ("max_jobs", "exit_when_idle") if k in kw}
    run_kw.setdefault("exit_when_idle", True)
    worker = Worker(store, worker_id=kw.pop("worker_id", "w"), handler=handler, **kw)
    return worker.run(stop=threading.Event(), **run_kw)


def test_cancellation_during_a_run_discards_the_result(store: StoragePort) -> None:
    job_id = new_job(store)
    started, release = threading.Event(), threading.Event()

    def slow(job: JobRecord) -> JSONDict:
        started.set()
        release.wait(10)
        return {"late": True}

    result: list[WorkerStats] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_worker(store, slow, lease_seconds=0.3, poll_interval=0.05, max_jobs=1)
        )
    )
    thread.start()
    assert started.wait(10)
    assert store.update_job(job_id, status="cancelled", message="cancelled by request")
    time.sleep(0.35)  # at least one renewal (every 0.1 s) sees the cancellation
    release.set()
    thread.join(10)
    assert result and (result[0].claimed, result[0].lost, result[0].succeeded) == (1, 1, 0)
    job = store.get_job(job_id)
    assert job is not None and (job.status, job.result_payload) == ("cancelled", None)


def test_handler_outcomes(store: StoragePort) -> None:
    def handler(job: JobRecord) -> Any:
        mode = job.request_payload["mode"]
        if mode == "raise":
            raise ValueError("bad input")
        if mode == "list":
            return [1]
        if mode == "unserialisable":
            return {"x": object()}
        return {"ok": mode}

    ids = {}
    for mode in ("ok", "raise", "list", "unserialisable"):
        ids[mode] = new_job(store, mode=mode)
        time.sleep(0.002)
    stats = run_worker(store, handler)
    assert (stats.claimed, stats.succeeded, stats.failed, stats.lost) == (4, 1, 3, 0)
    jobs = {mode: store.get_job(job_id) for mode, job_id in ids.items()}
    assert all(j is not None and j.lease_expires_at is None for j in jobs.values())
    outcome = {m: (j.status, j.result_payload, j.error) for m, j in jobs.items() if j is not None}
    assert outcome["ok"] == ("succeeded", {"ok": "ok"}, None)
    assert outcome["raise"] == ("failed", None, "ValueError: bad input")
    assert outcome["list"] == ("failed", None, "TypeError: handler returned list, expected a dict")
    status, _, error = outcome["unserialisable"]
    assert status == "failed" and error is not None and error.startswith("TypeError:")


def test_kinds_filter_and_max_jobs(store: StoragePort) -> None:
    bench = [new_job(store, kind="benchmark") for _ in range(3)]
    cost = new_job(store, kind="cost-estimate")
    stats = run_worker(store, echo, kinds=["cost-estimate", "llm-instance"])
    assert stats.claimed == 1 and job_in(store, cost, "succeeded") is not None
    stats = run_worker(store, echo, max_jobs=2)
    assert stats.claimed == 2
    assert sum(job_in(store, j, "queued") is not None for j in bench) == 1


def test_storage_outage_while_polling_is_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that is briefly unusable (here: locked by another process's writer for
    longer than the busy timeout) is logged and retried, not a crash."""
    path = tmp_path / "locked.db"
    store = make_storage(f"sqlite://{path}", env={}, busy_timeout_ms=50)
    job_id = new_job(store)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.6, blocker.execute, ("COMMIT",))
    timer.start()
    try:
        with caplog.at_level("WARNING", logger="rune.worker"):
            stats = run_worker(store, echo, poll_interval=0.05)
    finally:
        timer.join()
        blocker.close()
        store.close()
    assert stats.storage_errors >= 1 and stats.succeeded == 1
    polls = [r for r in caplog.records if "storage error while polling" in r.getMessage()]
    assert polls and all(r.exc_info is None and "\n" not in r.getMessage() for r in polls)
    assert "busy" in polls[0].getMessage()
    reopened = make_storage(f"sqlite://{path}", env={})
    try:
        assert job_in(reopened, job_id, "succeeded") is not None
    finally:
        reopened.close()


def test_worker_survives_a_postgresql_outage(pg_url: str, tmp_path: Path) -> None:
    """The server refuses the database and drops every connection for ~2 s: the worker
    process logs one line per failed poll (no traceback, no pool chatter) and carries on."""
    import psycopg

    dbname = pg_url.rsplit("/", 1)[1]
    store = make_storage(pg_url, env={})
    admin = psycopg.connect(pg_admin_url(), autocommit=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rune.cli", "worker", "--db-url", pg_url, "--poll-interval", "0.05"],
        cwd=tmp_path,
        env=clean_env(RUNE_DB_CONNECT_TIMEOUT="0.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = new_job(store)
        wait_for(lambda: job_in(store, before, "succeeded"), what="the first job")
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (dbname,),
        )
        time.sleep(2)
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        store.close()
        store = make_storage(pg_url, env={})
        after = new_job(store)
        wait_for(lambda: job_in(store, after, "succeeded"), what="the job after the outage")
    finally:
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        admin.close()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        store.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "psycopg" not in err, err
    counts = summary_counts(err)
    assert counts["succeeded"] == 2 and counts["storage_errors"] >= 1, err
    polls = [line for line in err.splitlines() if "storage error while polling" in line]
    assert len(polls) == counts["storage_errors"], err


# handlers ------------------------------------------------------------------------------------
def test_echo_handler_and_default_worker_id(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/jobs.db"
    store = make_storage(url, env={})
    try:
        job_id = new_job(store, prompt="hi")
        result = run_cli("worker", "--db-url", url, "--exit-when-idle", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert summary_counts(result.stderr)["succeeded"] == 1
        job = store.get_job(job_id)
    finally:
        store.close()
    assert job is not None and job.result_payload == {"echo": {"prompt": "hi"}}
    host = re.escape(socket.gethostname())
    assert job.owner is not None and re.fullmatch(rf"{host}:\d+:[0-9a-f]{{4}}", job.owner)
    assert job.message == "completed"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "is not of the form module:function"),
        ("rune.worker:", "is not of the form module:function"),
        ("no_such_module_xyz:run", "cannot import 'no_such_module_xyz'"),
        ("rune.worker:missing", "has no attribute 'missing'"),
        ("tests.worker_handlers:NOT_CALLABLE", "is not callable"),
    ],
)
def test_bad_handler_spec(spec: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(HandlerSpecError, match=re.escape(message)):
        load_handler(spec)
    result = run_cli(
        "worker",
        "--db-url",
        f"sqlite://{tmp_path}/jobs.db",
        "--handler",
        spec,
        cwd=tmp_path,
        env=worker_env(tmp_path / "x.log"),
    )
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "jobs.db").exists()  # rejected before touching the database


def test_load_handler_resolves_module_function() -> None:
    assert load_handler("rune.worker:echo") is echo
    assert load_handler(" tests.worker_handlers : record ").__name__ == "record"


@pytest.mark.parametrize(
    "args",
    [
        ["--lease-seconds", "0"],
        ["--lease-seconds", "nan"],
        ["--lease-seconds", "inf"],
        ["--poll-interval", "-1"],
        ["--poll-interval", "0"],
        ["--max-jobs", "0"],
        ["--kinds", "benchmark,,x"],
        ["--worker-id", ""],
    ],
)
def test_usage_errors(args: list[str], tmp_path: Path) -> None:
    result = run_cli("worker", "--db-url", f"sqlite://{tmp_path}/jobs.db", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_storage_error_at_start_is_one_masked_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = run_cli("worker", "--db-url", f"sqlite://{tmp_path}/a-file/jobs.db", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("rune: error: ")
    assert result.stderr.count("\n") == 1
    result = run_cli(
        "worker",
        "--db-url",
        "postgresql://rune:s3cret-pw@127.0.0.1:1/rune",
        cwd=tmp_path,
        env=clean_env(RUNE_DB_CONNECT_TIMEOUT="0.5"),
    )
    assert result.returncode == 1, result.stderr
    assert "s3cret-pw" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_worker_validates_its_settings(store: StoragePort) -> None:
    bad: dict[str, Any]
    for bad in (
        {"worker_id": ""},
        {"lease_seconds": 0.0},
        {"lease_seconds": float("nan")},
        {"poll_interval": -1.0},
        {"poll_interval": 0.0},
        {"kinds": []},
        {"kinds": "benchmark"},
    ):
        kw: dict[str, Any] = {"worker_id": "w", **bad}
        with pytest.raises(ValueError):
            Worker(store, handler=echo, **kw)


def test_worker_refuses_what_the_store_would_refuse_when_built(store: StoragePort) -> None:
    """The store checks the worker id and the kinds only at the first claim, inside the
    polling loop; the worker checks them when it is built, naming the limit."""
    with pytest.raises(ValueError, match="257 characters long; the store records at most 256"):
        Worker(store, worker_id="w" * 257, handler=echo)
    with pytest.raises(ValueError, match="65 characters long; a job kind has at most 64"):
        Worker(store, worker_id="w", handler=echo, kinds=["benchmark", "k" * 65])
    with pytest.raises(ValueError, match="every kind must be a non-empty string"):
        Worker(store, worker_id="w", handler=echo, kinds=["benchmark", ""])


def test_the_longest_worker_id_and_kind_work(store: StoragePort) -> None:
    job_id = new_job(store, kind="k" * 64)
    stats = Worker(
        store, worker_id="w" * 256, handler=echo, kinds=["k" * 64], poll_interval=0.05
    ).run(stop=threading.Event(), exit_when_idle=True)
    assert stats.succeeded == 1
    job = store.get_job(job_id)
    assert job is not None and job.owner == "w" * 256


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kinds", "benchmark," + "k" * 65], "--kinds: kind 'kkkkkkkk"),
        (["--worker-id", "w" * 257], "--worker-id must be 1 to 256 characters"),
    ],
)
def test_over_long_kind_or_worker_id_is_one_usage_line(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = run_cli("worker", "--db-url", f"sqlite://{tmp_path}/jobs.db", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("rune worker: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert ("at most 64" if "--kinds" in args else "256") in result.stderr
    assert not (tmp_path / "jobs.db").exists()  # rejected before touching the database


def test_worker_log_masks_a_password_quoted_in_a_traceback(tmp_path: Path) -> None:
    """The worker's log filter is the API's: the message, its arguments and the traceback
    are all masked, also for a password RUNE never parsed (here, a handler's DSN)."""
    url = f"sqlite://{tmp_path}/jobs.db"
    store = make_storage(url, env={})
    try:
        new_job(store)
    finally:
        store.close()
    result = run_cli(
        "worker",
        "--db-url",
        url,
        "--handler",
        "tests.worker_handlers:log_dsn_failure",
        "--exit-when-idle",
        cwd=tmp_path,
        env=worker_env(tmp_path / "x.log"),
    )
    assert result.returncode == 0, result.stderr
    assert summary_counts(result.stderr)["succeeded"] == 1
    assert "Traceback" in result.stderr and "ConnectionError: cannot reach" in result.stderr
    assert "secret" not in result.stderr, result.stderr
    assert result.stderr.count("postgresql://u:***@h/db") == 2, result.stderr  # message, exc


# storage details the worker relies on ------------------------------------------------------------
def test_sqlite_claim_reads_the_queue_index(tmp_path: Path) -> None:
    """Without statistics SQLite preferred idx_jobs_status and sorted every queued row on
    each claim, so draining a long queue was quadratic (873 vs 8,500 claims/s at 20,000
    jobs in benchmarks/bench_claim.py)."""
    store = SQLiteStorage(tmp_path / "jobs.db")
    try:
        new_job(store)
        seen: list[str] = []
        with store.connection() as conn:
            conn.set_trace_callback(seen.append)  # the pool hands this connection out next
        assert store.claim_job(worker_id="w", kinds=["benchmark"]) is not None
        claim = next(sql for sql in seen if sql.startswith("UPDATE jobs SET status = 'running'"))
        with store.connection() as conn:
            conn.set_trace_callback(None)
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + claim))
    finally:
        store.close()
    assert "idx_jobs_queue" in plan and "TEMP B-TREE" not in plan, plan
