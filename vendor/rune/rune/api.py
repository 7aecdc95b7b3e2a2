"""``python -m rune.api``: a small HTTP job API on the storage port.

Why it exists: the operations docs tell operators to run ``python -m rune.api`` with
``RUNE_API_DB_PATH``/``RUNE_DB_URL``; this makes those commands real and exercises the
port the way the production API does (a thread per request, idempotent submission, tenant
scoping, crash recovery at start). It stores jobs; ``rune worker`` (:mod:`rune.worker`)
claims and runs them, and any number of API replicas and workers may share one database.
The command line (arguments, logging, signals, exit codes) is :mod:`rune.cli.api`.

Authentication: ``RUNE_API_TOKENS`` lists bearer tokens and their tenants as
``token1:tenantA,token2:tenantB`` (entries separated by commas, token and tenant by the
*last* colon, surrounding whitespace ignored). Requests send
``Authorization: Bearer <token>``; every job operation is scoped to that tenant, so another
tenant's job id answers 404. The server refuses to start without tokens.

Endpoints (JSON in and out):

* ``POST /jobs`` body ``{"kind": "benchmark", "payload": {...}}``, optional
  ``Idempotency-Key`` header: 202 + ``{"job_id", "status", "created": true}``; a repeat with
  the same key and payload answers 200 with ``created: false``; another payload 409.
* ``GET /jobs/{id}``, ``GET /jobs?status=queued&limit=50``, ``POST /jobs/{id}/cancel``
  (409 if the job already finished), ``GET /healthz`` (no auth).

Hostile or broken clients: every answer, errors included, is a JSON object, and the JSON is
strict both ways (``NaN``/``Infinity``, numbers out of range, lone UTF-16 surrogates and
nesting deeper than :data:`MAX_JSON_DEPTH` are refused with 400; nothing non-standard is
ever sent). The body is read only after the bearer token has been checked from the
headers, so an unauthenticated client gets 401 and a closed connection without being able
to make a thread wait for its body. Each connection's socket gives up after
``timeout`` seconds of silence, and at most ``max_connections`` connections are served at
once; beyond that a client gets 503 with ``Retry-After`` at once instead of a thread, so a
crowd of stalled clients can delay the others by at most the timeout, never hang them.
"""

from __future__ import annotations

import contextlib
import email.message
import hmac
import json
import logging
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

# RedactingFilter lives in rune.logredact (shared with the worker); re-exported here,
# where it was first defined, for callers that import it from rune.api.
from rune.logredact import RedactingFilter as RedactingFilter
from rune.storage import StoragePort, make_storage
from rune.storage.errors import (
    ConfigurationError,
    DatabaseBusyError,
    IdempotencyConflictError,
    StorageError,
)
from rune.storage.records import JOB_STATUSES, JobStatus, plain
from rune.storage.urls import mask_url, parse_url, resolve_url

ENV_TOKENS = "RUNE_API_TOKENS"
JOB_KINDS = frozenset({"agentic-agent", "benchmark", "llm-instance", "cost-estimate"})
MAX_BODY = 1 << 20
# Far deeper than any job payload needs, far below where the json module (or the
# database's JSON functions) would run out of stack.
MAX_JSON_DEPTH = 64
# Seconds of silence after which a connection is dropped (a stalled body, an idle keep-alive).
DEFAULT_REQUEST_TIMEOUT = 5.0
# Connections served at once (one thread each); more get 503 at once.
DEFAULT_MAX_CONNECTIONS = 64
LOG = logging.getLogger("rune.api")

Answer = tuple[int, dict[str, Any]]
_SURROGATE_RE = re.compile("[\\ud800-\\udfff]")


class BadJsonError(ValueError):
    """The request body is not strict JSON that can be stored; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise BadJsonError(f"body is not valid JSON: {name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJsonError(f"body is not valid JSON: the number {text[:32]} is out of range")
    return value


def parse_json_body(body: bytes) -> Any:
    """Decode ``body`` as strict JSON, or raise :class:`BadJsonError` saying why.

    Why stricter than :func:`json.loads`: Python accepts ``NaN``, ``Infinity``, ``1e999``
    (as infinity) and ``"\\ud800"`` (a lone surrogate), none of which the database can
    store or another JSON parser read back, and a deeply nested document makes the
    parser raise RecursionError instead of a decode error.
    """
    try:
        doc = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except BadJsonError:
        raise
    except UnicodeDecodeError:
        raise BadJsonError("body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadJsonError(
            f"body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        raise BadJsonError("body is not valid JSON: a number has too many digits") from None
    except RecursionError:
        raise BadJsonError(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise BadJsonError(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and _SURROGATE_RE.search(value):
            raise BadJsonError(
                "body contains a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF "
                "escape), which is not a Unicode character"
            )
    return doc


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (rows stored before the checks)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def encode_json(doc: dict[str, Any]) -> bytes:
    """Strict JSON for a response: never ``NaN``/``Infinity``, which clients cannot parse.

    A value that is not finite can still come from the database (a row written before
    input was checked, or a worker result); it is sent as null and logged, so one such
    row does not make a whole job list unreadable.
    """
    try:
        return json.dumps(doc, allow_nan=False).encode()
    except ValueError:
        LOG.warning("response held NaN or Infinity; sent as null")
        return json.dumps(_finite(doc), allow_nan=False).encode()


def parse_tokens(text: str) -> dict[str, str]:
    """Parse ``token:tenant,token:tenant``; errors never echo a token."""
    tokens: dict[str, str] = {}
    for index, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        token, sep, tenant = entry.rpartition(":")
        token, tenant = token.strip(), tenant.strip()
        if not sep or not token or not tenant:
            raise ConfigurationError(
                f"{ENV_TOKENS} entry {index} is not token:tenant (format: "
                "token1:tenantA,token2:tenantB)"
            )
        if token in tokens:
            raise ConfigurationError(f"{ENV_TOKENS} entry {index} repeats a token")
        tokens[token] = tenant
    if not tokens:
        raise ConfigurationError(f"{ENV_TOKENS} is empty; set it to token1:tenantA,token2:tenantB")
    return tokens


class JobApi:
    """Transport-independent request handling, so tests can call it without sockets."""

    def __init__(self, store: StoragePort, tokens: Mapping[str, str]) -> None:
        self.store = store
        self._tokens = [(t.encode(), tenant) for t, tenant in tokens.items()]

    def tenant_for(self, authorization: str | None) -> str | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        presented = authorization[len("Bearer ") :].strip().encode()
        found: str | None = None
        for token, tenant in self._tokens:  # compare against all: no early exit timing
            if hmac.compare_digest(presented, token):
                found = tenant
        return found

    def authenticate(self, target: str, headers: Mapping[str, str]) -> Answer | None:
        """The 401 for a ``/jobs`` request without a valid token, else None.

        Decided from the request line and headers alone, so the transport can answer
        before it reads (or waits for) a body.
        """
        path = urlsplit(target).path.strip("/")
        if path.split("/")[0] != "jobs":
            return None
        if self.tenant_for(headers.get("Authorization")) is None:
            return 401, {"error": "missing or invalid bearer token"}
        return None

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if method == "GET" and path == "/healthz":
            return 200, {"status": "ok"}
        segments = path.strip("/").split("/")
        if segments[0] != "jobs":
            return 404, {"error": "not found"}
        tenant = self.tenant_for(headers.get("Authorization"))
        if tenant is None:
            return 401, {"error": "missing or invalid bearer token"}
        try:
            if method == "POST" and len(segments) == 1:
                return self._submit(tenant, headers, body)
            if method == "GET" and len(segments) == 1:
                return self._list(tenant, parse_qs(parts.query))
            if method == "GET" and len(segments) == 2:
                job = self.store.get_job(segments[1], tenant_id=tenant)
                return (200, job.to_dict()) if job else (404, {"error": "job not found"})
            if method == "POST" and len(segments) == 3 and segments[2] == "cancel":
                return self._cancel(tenant, segments[1])
        except IdempotencyConflictError as exc:
            return 409, {"error": str(exc)}
        except DatabaseBusyError:
            LOG.warning("storage busy")
            return 503, {"error": "storage busy, retry"}
        except StorageError as exc:
            LOG.error("storage error: %s", exc)
            return 503, {"error": "storage unavailable"}
        except ValueError as exc:  # the store refused a value (e.g. NUL on PostgreSQL)
            return 400, {"error": str(exc)}
        return 405 if segments[0] == "jobs" and len(segments) <= 3 else 404, {
            "error": "method not allowed" if len(segments) <= 3 else "not found"
        }

    def _submit(self, tenant: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            doc = parse_json_body(body or b"{}")
        except BadJsonError as exc:
            return 400, {"error": str(exc)}
        if not isinstance(doc, dict):
            return 400, {"error": "body must be a JSON object"}
        kind = doc.get("kind")
        payload = doc.get("payload", {})
        if not isinstance(kind, str) or kind not in JOB_KINDS:
            return 400, {"error": f"kind must be one of {sorted(JOB_KINDS)}"}
        if not isinstance(payload, dict):
            return 400, {"error": "payload must be a JSON object"}
        key = (headers.get("Idempotency-Key") or "").strip() or None
        if key is not None and len(key) > 256:
            return 400, {"error": "Idempotency-Key is longer than 256 characters"}
        job_id, created = self.store.create_job(
            tenant_id=tenant, kind=str(kind), request_payload=payload, idempotency_key=key
        )
        job = self.store.get_job(job_id, tenant_id=tenant)
        status = job.status if job else JobStatus.QUEUED
        return (202 if created else 200), {"job_id": job_id, "status": status, "created": created}

    def _list(self, tenant: str, query: dict[str, list[str]]) -> Answer:
        status = query.get("status", [None])[0]
        if status is not None and status not in JOB_STATUSES:
            return 400, {"error": f"status must be one of {plain(sorted(JOB_STATUSES))}"}
        try:
            limit = int(query.get("limit", ["100"])[0])
        except ValueError:
            return 400, {"error": "limit must be an integer"}
        jobs = self.store.list_jobs(tenant_id=tenant, status=status, limit=limit)
        return 200, {"jobs": [j.to_dict() for j in jobs]}

    def _cancel(self, tenant: str, job_id: str) -> Answer:
        job = self.store.get_job(job_id, tenant_id=tenant)
        if job is None:
            return 404, {"error": "job not found"}
        if self.store.update_job(
            job_id, status=JobStatus.CANCELLED, message="cancelled by request"
        ):
            cancelled = self.store.get_job(job_id, tenant_id=tenant)
            return 200, cancelled.to_dict() if cancelled else {}
        current = self.store.get_job(job_id, tenant_id=tenant)
        return 409, {"error": f"job already {current.status if current else 'gone'}"}


def _body_length(headers: email.message.Message) -> tuple[int, Answer | None]:
    """The announced body length, or the error answer for a length that cannot be used.

    A bad length cannot be skipped over, so every error here also ends the connection.
    """
    if headers.get("Transfer-Encoding") is not None:
        return 0, (411, {"error": "send the body with Content-Length; no transfer encodings"})
    values = {str(v).strip() for v in headers.get_all("Content-Length") or []}
    if not values:
        return 0, None
    if len(values) > 1:
        return 0, (400, {"error": "conflicting Content-Length headers"})
    raw = values.pop()
    if not (raw.isascii() and raw.isdigit()):
        return 0, (400, {"error": "Content-Length must be a whole number of bytes"})
    if len(raw) > 12 or int(raw) > MAX_BODY:
        return 0, (413, {"error": f"request body too large (at most {MAX_BODY} bytes)"})
    return int(raw), None


def make_handler(
    api: JobApi, *, request_timeout: float = DEFAULT_REQUEST_TIMEOUT
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "rune-api"
        protocol_version = "HTTP/1.1"
        # StreamRequestHandler.setup() puts it on the socket: a read or write that waits
        # longer raises TimeoutError, and handle_one_request() drops the connection.
        timeout = request_timeout

        def _headers(self) -> dict[str, str]:
            headers = {k: v for k, v in self.headers.items()}
            for name in ("Authorization", "Idempotency-Key"):  # whatever the client's case
                value = self.headers.get(name)
                if value is not None:
                    headers[name] = str(value)
            return headers

        def _early_answer(self) -> Answer | None:
            """401 or a bad length: answered from the headers, the body is never read."""
            refusal = api.authenticate(self.path, self._headers())
            return refusal if refusal is not None else _body_length(self.headers)[1]

        def handle_expect_100(self) -> bool:
            # No "100 Continue" for a request that will be refused: the client then sends
            # no body at all, and _dispatch answers at once.
            if self._early_answer() is not None:
                return True
            return super().handle_expect_100()

        def _dispatch(self, method: str) -> None:
            early = self._early_answer()
            if early is not None:
                self._send(*early, close=True)
                return
            length = _body_length(self.headers)[0]
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client closed the connection mid-body
                self.close_connection = True
                return
            try:
                status, doc = api.handle(method, self.path, self._headers(), body)
            except Exception:
                LOG.exception("unhandled error")
                status, doc = 500, {"error": "internal error"}
            self._send(status, doc)

        def _send(self, status: int, doc: dict[str, Any], *, close: bool = False) -> None:
            data = encode_json(doc)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", "Bearer")
            if close:
                self.send_header("Connection", "close")  # also sets close_connection
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """The stdlib's answer to a malformed request is an HTML page; this API's is JSON."""
            reason = message or self.responses.get(code, ("error", ""))[0]
            if self.request_version == "HTTP/0.9":
                # The request line was unreadable (or 0.9, which no client speaks): an
                # answer without a status line and headers would be unreadable in turn.
                self.request_version = "HTTP/1.0"
            self.log_error("code %d, message %s", code, reason)
            self._send(code, {"error": reason}, close=True)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: Any) -> None:
            LOG.info("%s %s", self.address_string(), format % args)

    return Handler


def build_server(
    store: StoragePort,
    tokens: Mapping[str, str],
    host: str,
    port: int,
    *,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """A server for the job API; ``timeout`` and ``max_connections`` bound what stalled
    or numerous clients can hold (see the module docstring)."""
    if not (isinstance(timeout, int | float) and 0 < timeout < math.inf):
        raise ValueError("timeout must be a positive number of seconds")
    if (
        isinstance(max_connections, bool)
        or not isinstance(max_connections, int)
        or max_connections < 1
    ):
        raise ValueError("max_connections must be a whole number of at least 1")
    handler = make_handler(JobApi(store, tokens), request_timeout=float(timeout))
    return _Server((host, port), handler, max_connections=max_connections)


_BUSY_BODY = json.dumps({"error": "server busy, retry"}).encode()
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\nRetry-After: 1\r\n"
    b"Connection: close\r\n\r\n" + _BUSY_BODY
)
# How often a burst of refused connections is logged (one line per interval).
_REFUSAL_LOG_INTERVAL = 10.0


class _Server(ThreadingHTTPServer):
    """A thread per connection, but at most ``max_connections`` of them.

    The stdlib default listen backlog (5) resets connections under modest bursts, hence
    128. A connection beyond the bound is answered 503 on the accepting thread, without
    waiting for its request: the answer fits the socket buffer, so this never blocks.
    """

    request_queue_size = 128
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseRequestHandler],
        *,
        max_connections: int,
    ) -> None:
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        self._refused = 0
        self._refusal_logged_at = -math.inf
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread was started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket, client_address: Any) -> None:
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(_BUSY_RESPONSE)
            # Discard what the client already sent: closing a socket with unread input
            # makes the kernel send a reset, which can destroy the 503 before it is read.
            for _ in range(16):
                if not request.recv(65536):
                    break
        self.shutdown_request(request)
        self._refused += 1
        now = time.monotonic()
        if now - self._refusal_logged_at >= _REFUSAL_LOG_INTERVAL:
            LOG.warning(
                "busy: refused %d connection(s) with 503; all %d connection slots are in use "
                "(raise --max-connections, or look for clients that stall)",
                self._refused,
                self.max_connections,
            )
            self._refused = 0
            self._refusal_logged_at = now

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line instead of socketserver's traceback on stderr.

        A client that resets the connection or stops reading is not a server fault, so
        OS errors are logged without a traceback; anything else is a bug and keeps one.
        """
        exc = sys.exc_info()[1]
        peer = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(exc, OSError):
            LOG.info("%s: connection dropped: %s", peer, exc)
        else:
            LOG.error("unhandled error serving %s", peer, exc_info=True)


def open_store(db_url: str | None = None) -> StoragePort:
    """The store the API serves: ``db_url``, else the environment's database, migrated."""
    resolved = resolve_url(db_url)
    target = parse_url(resolved.url)
    LOG.info("storage: %s %s (from %s)", target.backend, mask_url(target.url), resolved.source)
    return make_storage(resolved.url, log=LOG.info)


def recover_at_start(store: StoragePort) -> int:
    """Crash recovery when an API replica starts; return the number of jobs failed.

    Only running jobs whose lease has expired are failed: another replica's workers may
    be running jobs right now, and queued jobs stay queued for ``rune worker``.
    """
    recovered = store.recover_expired_jobs()
    if recovered:
        LOG.warning("crash recovery: marked %d running job(s) with expired lease failed", recovered)
    return recovered


if __name__ == "__main__":
    from rune.cli.api import main

    sys.exit(main())
