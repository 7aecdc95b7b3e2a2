"""``python -m rune.api``: endpoints, tenants, idempotency, crash recovery at start."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rune.api import build_server, parse_tokens
from rune.storage import ConfigurationError, StoragePort, make_storage
from rune.storage.sqlite import SQLiteStorage
from tests.conftest import clean_env

TOKENS = {"tok-a": "tenant-a", "tok-b": "tenant-b"}


@pytest.fixture
def api(store: StoragePort) -> Iterator[str]:
    server = build_server(store, TOKENS, "127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def call(
    base: str,
    method: str,
    path: str,
    token: str | None = "tok-a",
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_parse_tokens() -> None:
    assert parse_tokens(" t1:a , t:2:b ,") == {"t1": "a", "t:2": "b"}
    for bad in ("", "justtoken", ":tenant", "t:", "t:a,t:b"):
        with pytest.raises(ConfigurationError):
            parse_tokens(bad)


def test_auth_required(api: str) -> None:
    assert call(api, "GET", "/healthz", token=None) == (200, {"status": "ok"})
    assert call(api, "GET", "/jobs", token=None)[0] == 401
    assert call(api, "GET", "/jobs", token="wrong")[0] == 401


def test_submit_get_list_cancel(api: str) -> None:
    status, doc = call(api, "POST", "/jobs", body={"kind": "benchmark", "payload": {"model": "m"}})
    assert status == 202 and doc["created"] is True and doc["status"] == "queued"
    job_id = doc["job_id"]
    status, job = call(api, "GET", f"/jobs/{job_id}")
    assert (
        status == 200
        and job["request_payload"] == {"model": "m"}
        and job["tenant_id"] == "tenant-a"
    )
    assert call(api, "GET", f"/jobs/{job_id}", token="tok-b")[0] == 404  # other tenant
    assert call(api, "POST", f"/jobs/{job_id}/cancel", token="tok-b")[0] == 404
    status, listed = call(api, "GET", "/jobs?status=queued&limit=10")
    assert status == 200 and [j["job_id"] for j in listed["jobs"]] == [job_id]
    assert call(api, "GET", "/jobs", token="tok-b")[1] == {"jobs": []}
    status, cancelled = call(api, "POST", f"/jobs/{job_id}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    assert call(api, "POST", f"/jobs/{job_id}/cancel")[0] == 409
    assert call(api, "GET", "/jobs/does-not-exist")[0] == 404


def test_idempotency_key(api: str) -> None:
    body = {"kind": "benchmark", "payload": {"n": 1}}
    first = call(api, "POST", "/jobs", body=body, headers={"Idempotency-Key": " key-1 "})
    again = call(api, "POST", "/jobs", body=body, headers={"Idempotency-Key": "key-1"})
    assert first[0] == 202 and again[0] == 200 and again[1]["created"] is False
    assert first[1]["job_id"] == again[1]["job_id"]
    other = call(
        api,
        "POST",
        "/jobs",
        body={"kind": "benchmark", "payload": {"n": 2}},
        headers={"Idempotency-Key": "key-1"},
    )
    assert other[0] == 409
    tenant_b = call(
        api, "POST", "/jobs", body=body, token="tok-b", headers={"Idempotency-Key": "key-1"}
    )
    assert tenant_b[0] == 202 and tenant_b[1]["job_id"] != first[1]["job_id"]


def test_bad_requests(api: str) -> None:
    assert call(api, "POST", "/jobs", raw=b"{not json")[0] == 400
    assert call(api, "POST", "/jobs", body=[1, 2])[0] == 400
    assert call(api, "POST", "/jobs", body={"kind": "rm -rf"})[0] == 400
    assert call(api, "POST", "/jobs", body={"kind": "benchmark", "payload": "x"})[0] == 400
    assert call(api, "GET", "/jobs?status=weird")[0] == 400
    assert call(api, "GET", "/jobs?limit=x")[0] == 400
    assert call(api, "GET", "/elsewhere")[0] == 404


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rune.api", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=30,
    )
    assert result.returncode == 0
    assert (
        "RUNE_API_TOKENS" in result.stdout
        and "--port" in result.stdout
        and "--db-url" in result.stdout
    )


def start_api(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rune.api", "--port", "0"],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on " in line:
            return proc, line.rsplit("listening on ", 1)[1].strip()
    proc.wait()
    raise AssertionError("the API did not start")


def test_crash_recovery_at_start_with_db_path(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with SQLiteStorage(db) as store:
        job_id, _ = store.create_job(tenant_id="tenant-a", kind="benchmark", request_payload={})
        store.update_job(job_id, status="running")
    env = clean_env(RUNE_API_DB_PATH=str(db), RUNE_API_TOKENS="tok-a:tenant-a")
    proc, base = start_api(env, tmp_path)
    try:
        status, job = call(base, "GET", f"/jobs/{job_id}")
        assert status == 200 and job["status"] == "failed"
        assert job["error"] == "server restarted before job completion"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_db_url_wins_over_db_path(tmp_path: Path) -> None:
    env = clean_env(
        RUNE_DB_URL=f"sqlite://{tmp_path}/url.db",
        RUNE_API_DB_PATH=str(tmp_path / "path.db"),
        RUNE_API_TOKENS="tok-a:tenant-a",
    )
    proc, base = start_api(env, tmp_path)
    try:
        assert call(base, "POST", "/jobs", body={"kind": "benchmark"})[0] == 202
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert (tmp_path / "url.db").exists() and not (tmp_path / "path.db").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "RUNE_API_TOKENS is empty"),
        ({"RUNE_API_TOKENS": "t:a", "RUNE_DB_URL": "mysql://x@h/db"}, "supported schemes"),
    ],
)
def test_start_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rune.api", "--port", "0"],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_memory_store_serves_threads(api: str) -> None:
    results: list[int] = []

    def submit(i: int) -> None:
        results.append(
            call(api, "POST", "/jobs", body={"kind": "benchmark", "payload": {"i": i}})[0]
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [202] * 20
    assert len(call(api, "GET", "/jobs?limit=100")[1]["jobs"]) == 20


def test_make_storage_reads_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNE_API_DB_PATH", str(tmp_path / "env.db"))
    monkeypatch.delenv("RUNE_DB_URL", raising=False)
    make_storage().close()
    assert (tmp_path / "env.db").exists()
