"""The job API against broken and hostile clients (issue #11, item 8).

Every test talks to the real server over TCP on 127.0.0.1 (raw sockets where the request
must be malformed, ``http.client`` otherwise) and checks what an operator and a client
see: the status, a body that strict JSON parsers accept, a connection that is closed when
the request could not be delimited, and a log without a traceback.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import math
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rune.api import LOG, MAX_BODY, RedactingFilter, build_server
from rune.storage import StoragePort, make_storage
from tests.conftest import clean_env

TOKEN = "tok-hostile"
TIGHT_TIMEOUT = 1.5  # long enough that "at once" (< 1 s) is not luck on a loaded machine
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()


def strict_json(data: bytes) -> Any:
    """Parse like a strict client (no NaN/Infinity); fail the test on anything else."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the server sent the non-JSON constant {name}: {data!r}")

    return json.loads(data, parse_constant=refuse)


@dataclass
class Served:
    port: int
    store: StoragePort
    log: io.StringIO

    def text(self) -> str:
        return self.log.getvalue()


def serve(store: StoragePort, **options: Any) -> Iterator[Served]:
    """Run the API in this process; its log (tracebacks included) goes to ``Served.log``."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.addFilter(RedactingFilter())
    LOG.addHandler(handler)
    saved_level = LOG.level
    LOG.setLevel(logging.INFO)
    server = build_server(store, {TOKEN: "tenant-h"}, "127.0.0.1", 0, **options)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield Served(server.server_address[1], store, log)
    finally:
        server.shutdown()
        server.server_close()
        LOG.removeHandler(handler)
        LOG.setLevel(saved_level)


@pytest.fixture
def api(store: StoragePort) -> Iterator[Served]:
    """Default limits, on every backend."""
    yield from serve(store)


@pytest.fixture
def plain() -> Iterator[Served]:
    """Default limits on an in-memory store: for what does not depend on the backend."""
    store = make_storage("sqlite:///:memory:", env={})
    try:
        yield from serve(store)
    finally:
        store.close()


@pytest.fixture
def roomy() -> Iterator[Served]:
    """A long timeout and many slots: a quick answer can only come from the headers."""
    store = make_storage("sqlite:///:memory:", env={})
    try:
        yield from serve(store, timeout=30, max_connections=256)
    finally:
        store.close()


@pytest.fixture
def tight() -> Iterator[Served]:
    """Short timeout and few connection slots, to watch the limits work in test time."""
    store = make_storage("sqlite:///:memory:", env={})
    try:
        yield from serve(store, timeout=TIGHT_TIMEOUT, max_connections=4)
    finally:
        store.close()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    closed: bool  # the server closed the connection after the reply


def exchange(port: int, data: bytes, *, wait: float = 5.0) -> Reply:
    """Send raw bytes and read one response; if it says ``Connection: close``, check that
    the server really closes (within 1 s; a kept-alive connection would wait for the
    next request until the server's timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        closed = False
        if response.headers.get("Connection") == "close":
            sock.settimeout(1)
            try:
                closed = sock.recv(1) == b""
            except (TimeoutError, ConnectionResetError):
                closed = False
        return Reply(response.status, response.headers, body, closed)


def post_jobs(port: int, body: bytes, extra: bytes = b"") -> Reply:
    head = b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + AUTH + extra
    return exchange(port, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def assert_json_error(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply
    assert reply.headers["Content-Type"] == "application/json"
    doc = strict_json(reply.body)
    assert isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"]
    return doc


def assert_no_traceback(served: Served, capfd: pytest.CaptureFixture[str]) -> None:
    captured = capfd.readouterr()
    for text in (served.text(), captured.err, captured.out):
        assert "Traceback" not in text, text
        assert "Exception occurred during processing" not in text, text


# B1, B2: bodies Python's json module takes but nothing downstream can -------------------
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"kind": "benchmark", "payload": {"x": "\\ud800"}}', "surrogate"),
        (b'{"kind": "benchmark", "payload": {"\\udfff": 1}}', "surrogate"),
        (b'{"kind": "benchmark", "payload": {"x": ' + DEEP + b"}}", "nested deeper"),
        (b'{"kind": "benchmark", "payload": ' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"}", "deeper"),
        (b'{"kind": "benchmark", "payload": {"x": NaN}}', "NaN"),
        (b'{"kind": "benchmark", "payload": {"x": Infinity}}', "Infinity"),
        (b'{"kind": "benchmark", "payload": {"x": [-Infinity]}}', "-Infinity"),
        (b'{"kind": "benchmark", "payload": {"x": 1e999}}', "out of range"),
        (b'{"kind": "benchmark", "payload": {"x": ' + b"9" * 5000 + b"}}", "too many digits"),
        (b'{"kind": ["benchmark"]}', "kind must be"),
        (b'{"kind": {"a": 1}}', "kind must be"),
        (b'{"kind": "benchmark", "payload": "\xff"}', "UTF-8"),
        (b'{"kind": "benchmark"', "not valid JSON"),
    ],
)
def test_bodies_that_cannot_be_stored_are_400(
    plain: Served, capfd: pytest.CaptureFixture[str], body: bytes, reason: str
) -> None:
    doc = assert_json_error(post_jobs(plain.port, body), 400)
    assert reason in doc["error"]
    assert plain.store.list_jobs(tenant_id="tenant-h") == []  # nothing was stored
    assert_no_traceback(plain, capfd)


def test_bodies_that_used_to_reach_the_store(
    api: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    """On every backend: these were a 500 (surrogate) or were stored as NaN before."""
    for body in (
        b'{"kind": "benchmark", "payload": {"x": "\\ud800"}}',
        b'{"kind": "benchmark", "payload": {"x": NaN}}',
        b'{"kind": "benchmark", "payload": {"x": 1e999}}',
    ):
        assert_json_error(post_jobs(api.port, body), 400)
    assert api.store.list_jobs(tenant_id="tenant-h") == []
    assert_no_traceback(api, capfd)


def test_valid_unicode_and_nesting_still_accepted(api: Served) -> None:
    payload = {"emoji": "\U0001f600", "nested": json.loads("[" * 60 + "]" * 60), "n": 1e308}
    reply = post_jobs(api.port, json.dumps({"kind": "benchmark", "payload": payload}).encode())
    assert reply.status == 202, reply
    job = api.store.get_job(strict_json(reply.body)["job_id"], tenant_id="tenant-h")
    assert job is not None and job.request_payload == payload


def test_output_is_strict_json_even_for_stored_nan(
    api: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    """A NaN that reached the database another way (a worker result) is sent as null."""
    job_id, _ = api.store.create_job(tenant_id="tenant-h", kind="benchmark", request_payload={})
    api.store.update_job(job_id, status="succeeded", result_payload={"score": math.nan})
    for path in (f"/jobs/{job_id}", "/jobs"):
        reply = exchange(api.port, f"GET {path} HTTP/1.1\r\nHost: t\r\n".encode() + AUTH + b"\r\n")
        assert reply.status == 200 and b"NaN" not in reply.body
        doc = strict_json(reply.body)
        job = doc if path != "/jobs" else doc["jobs"][0]
        assert job["result_payload"] == {"score": None}
    assert "NaN or Infinity" in api.text()
    assert_no_traceback(api, capfd)


# B3: lengths that cannot delimit a body ------------------------------------------------
@pytest.mark.parametrize(
    ("length_headers", "status"),
    [
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -5\r\n", 400),
        (b"Content-Length: 1.5\r\n", 400),
        (b"Content-Length: 2, 2\r\n", 400),
        (b"Content-Length: \xb2\r\n", 400),  # a digit to str.isdigit(), not to int()
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", 400),
        (b"Content-Length: %d\r\n" % (MAX_BODY + 1), 413),
        (b"Content-Length: 99999999999999999999999999\r\n", 413),
        (b"Transfer-Encoding: chunked\r\n", 411),
    ],
)
def test_unusable_content_length_is_answered_and_closed(
    plain: Served, capfd: pytest.CaptureFixture[str], length_headers: bytes, status: int
) -> None:
    request = b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + AUTH + length_headers + b"\r\n{}"
    reply = exchange(plain.port, request)
    assert_json_error(reply, status)
    assert reply.headers["Connection"] == "close" and reply.closed
    assert_no_traceback(plain, capfd)


def test_malformed_requests_get_json_errors(
    plain: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    for request, status in (
        (b"GARBAGE\r\n\r\n", 400),
        (b"PUT /jobs HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 501),
        (b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ):
        reply = exchange(plain.port, request)
        assert_json_error(reply, status)
        assert reply.closed
    assert_no_traceback(plain, capfd)


def test_store_refusals_are_400_not_500(api: Served, capfd: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL cannot store NUL; the store's ValueError is the client's error."""
    reply = post_jobs(api.port, b'{"kind": "benchmark"}', b"Idempotency-Key: a\x00b\r\n")
    assert reply.status in (202, 400)  # SQLite stores NUL, PostgreSQL refuses it
    strict_json(reply.body)
    assert_no_traceback(api, capfd)


def test_header_names_are_case_insensitive(plain: Served) -> None:
    body = b'{"kind": "benchmark"}'
    request = (
        b"POST /jobs HTTP/1.1\r\nHost: t\r\nauthorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"idempotency-key: k1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    first, again = exchange(plain.port, request), exchange(plain.port, request)
    assert (first.status, again.status) == (202, 200)


# B4: authentication before the body, timeouts, bounded connections ---------------------
def test_unauthenticated_body_is_never_awaited(roomy: Served) -> None:
    """401 from the headers alone (the body is never sent), then the server closes."""
    for auth in (b"", b"Authorization: Bearer wrong\r\n", b"Authorization: Basic eA==\r\n"):
        start = time.monotonic()
        head = b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + auth + b"Content-Length: 5000\r\n"
        reply = exchange(roomy.port, head + b"\r\n", wait=10)
        assert time.monotonic() - start < 5  # the server would wait 30 s for a body
        assert_json_error(reply, 401)
        assert reply.headers["WWW-Authenticate"] == "Bearer"
        assert reply.headers["Connection"] == "close" and reply.closed


def test_expect_100_continue(tight: Served) -> None:
    """No "100 Continue" for a request that will be refused; the real one still gets it."""
    head = b"POST /jobs HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 21\r\n"
    refused = exchange(tight.port, head + b"\r\n", wait=2)
    assert_json_error(refused, 401)
    with socket.create_connection(("127.0.0.1", tight.port), timeout=2) as sock:
        sock.sendall(head + AUTH + b"\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(b'{"kind": "benchmark"}')
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 202 and strict_json(response.read())["created"] is True


def test_two_hundred_unauthenticated_stallers_hold_nothing(roomy: Served) -> None:
    """The attack from the review: headers sent, body never. Each gets 401 and is closed
    at once, although the server would wait 30 s for a body; meanwhile others are served."""
    stallers = []
    start = time.monotonic()
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", roomy.port), timeout=5)
            sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
            stallers.append(sock)
        assert get_jobs(roomy.port)[0] == 200
        for sock in stallers:
            data = b""
            while chunk := sock.recv(4096):  # b"" once the server has closed
                data += chunk
            assert data.startswith(b"HTTP/1.1 401 "), data
        assert time.monotonic() - start < 10
    finally:
        for sock in stallers:
            sock.close()


def get_jobs(port: int, timeout: float = 3.0) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        strict_json(response.read())
        return response.status, dict(response.headers)
    finally:
        conn.close()


def test_stalled_clients_time_out_and_do_not_block_others(
    tight: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    """4 slots, 1.5 s timeout: stallers are dropped, others are served or told 503 at once."""
    body_stall = b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + AUTH + b"Content-Length: 100\r\n\r\n{"
    stallers: list[socket.socket] = []
    try:
        for request in (body_stall, b"POST /jobs HTTP/1.1\r\nHost: t\r\n", b""):
            sock = socket.create_connection(("127.0.0.1", tight.port), timeout=5)
            sock.sendall(request)  # a stalled body, stalled headers, nothing at all
            stallers.append(sock)
        time.sleep(0.1)
        start = time.monotonic()
        assert get_jobs(tight.port)[0] == 200  # a free slot: served at once
        assert time.monotonic() - start < 1
        time.sleep(0.2)  # its handler thread sees the client close and frees the slot
        sock = socket.create_connection(("127.0.0.1", tight.port), timeout=5)
        sock.sendall(body_stall)
        stallers.append(sock)  # now all 4 slots are held
        time.sleep(0.1)
        start = time.monotonic()
        status, headers = get_jobs(tight.port)
        assert (status, headers.get("Retry-After")) == (503, "1")
        assert time.monotonic() - start < 1  # refused at once, not queued behind stallers
        for sock in stallers:  # each is dropped by the server after 1.5 s of silence
            assert sock.recv(1) == b"", "a stalled connection was not closed"
        assert time.monotonic() - start < TIGHT_TIMEOUT + 3
        time.sleep(0.1)  # the handler threads release their slots as they finish
        assert get_jobs(tight.port)[0] == 200
    finally:
        for sock in stallers:
            sock.close()
    assert "timed out" in tight.text() and "refused 1 connection(s) with 503" in tight.text()
    assert_no_traceback(tight, capfd)


def test_client_that_disconnects_mid_body_is_one_quiet_line(
    tight: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    with socket.create_connection(("127.0.0.1", tight.port), timeout=2) as sock:
        sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + AUTH + b"Content-Length: 50\r\n\r\n{")
    with socket.create_connection(("127.0.0.1", tight.port), timeout=2) as sock:
        # linger 0: close() sends a reset instead of a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: t\r\n" + AUTH + b"Content-Length: 50\r\n\r\n{")
    time.sleep(0.3)
    assert get_jobs(tight.port)[0] == 200
    assert tight.store.list_jobs(tenant_id="tenant-h") == []
    assert_no_traceback(tight, capfd)


def test_build_server_rejects_bad_limits() -> None:
    with make_storage("sqlite:///:memory:", env={}) as store:  # type: ignore[attr-defined]
        for options in ({"timeout": 0}, {"timeout": math.nan}, {"max_connections": 0}):
            with pytest.raises(ValueError):
                build_server(store, {TOKEN: "t"}, "127.0.0.1", 0, **options)


def test_command_line_limits(tmp_path: Path) -> None:
    """``python -m rune.api --request-timeout --max-connections`` wire the same limits."""
    env = clean_env(RUNE_API_TOKENS=f"{TOKEN}:tenant-h", RUNE_DB_URL="sqlite:///:memory:")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rune.api",
            "--port",
            "0",
            "--request-timeout",
            "0.5",
            "--max-connections",
            "1",
        ],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if "listening on " in line:
                break
        port = int(lines[-1].rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
            time.sleep(0.1)
            assert get_jobs(port)[0] == 503
            assert idle.recv(1) == b""  # dropped after 0.5 s
        time.sleep(0.1)
        assert get_jobs(port)[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=10)
    log = "".join(lines) + rest
    assert proc.returncode == 0 and "Traceback" not in log, log
