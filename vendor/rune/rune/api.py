"""``python -m rune.api``: a small HTTP job API on the storage port.

Why it exists: the operations docs tell operators to run ``python -m rune.api`` with
``RUNE_API_DB_PATH``/``RUNE_DB_URL``; this makes those commands real and exercises the
port the way the production API does (a thread per request, idempotent submission, tenant
scoping, crash recovery at start). It stores jobs; ``rune worker`` (:mod:`rune.worker`)
claims and runs them, and any number of API replicas and workers may share one database.

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
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rune.storage import StoragePort, make_storage
from rune.storage.errors import (
    ConfigurationError,
    DatabaseBusyError,
    IdempotencyConflictError,
    StorageError,
)
from rune.storage.port import JOB_STATUSES
from rune.storage.urls import mask_url, parse_url, redact, resolve_url

ENV_TOKENS = "RUNE_API_TOKENS"
JOB_KINDS = frozenset({"agentic-agent", "benchmark", "llm-instance", "cost-estimate"})
MAX_BODY = 1 << 20
LOG = logging.getLogger("rune.api")


class RedactingFilter(logging.Filter):
    """Scrub registered secrets from every log record (the message is formatted first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


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

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
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
        return 405 if segments[0] == "jobs" and len(segments) <= 3 else 404, {
            "error": "method not allowed" if len(segments) <= 3 else "not found"
        }

    def _submit(
        self, tenant: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        try:
            doc = json.loads(body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "body must be a JSON object"}
        if not isinstance(doc, dict):
            return 400, {"error": "body must be a JSON object"}
        kind = doc.get("kind")
        payload = doc.get("payload", {})
        if kind not in JOB_KINDS:
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
        status = job.status if job else "queued"
        return (202 if created else 200), {"job_id": job_id, "status": status, "created": created}

    def _list(self, tenant: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        status = query.get("status", [None])[0]
        if status is not None and status not in JOB_STATUSES:
            return 400, {"error": f"status must be one of {sorted(JOB_STATUSES)}"}
        try:
            limit = int(query.get("limit", ["100"])[0])
        except ValueError:
            return 400, {"error": "limit must be an integer"}
        jobs = self.store.list_jobs(tenant_id=tenant, status=status, limit=limit)
        return 200, {"jobs": [j.to_dict() for j in jobs]}

    def _cancel(self, tenant: str, job_id: str) -> tuple[int, dict[str, Any]]:
        job = self.store.get_job(job_id, tenant_id=tenant)
        if job is None:
            return 404, {"error": "job not found"}
        if self.store.update_job(job_id, status="cancelled", message="cancelled by request"):
            cancelled = self.store.get_job(job_id, tenant_id=tenant)
            return 200, cancelled.to_dict() if cancelled else {}
        current = self.store.get_job(job_id, tenant_id=tenant)
        return 409, {"error": f"job already {current.status if current else 'gone'}"}


def make_handler(api: JobApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "rune-api"
        protocol_version = "HTTP/1.1"

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": "request body too large"})
                return
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k: v for k, v in self.headers.items()}
            try:
                status, doc = api.handle(method, self.path, headers, body)
            except Exception:
                LOG.exception("unhandled error")
                status, doc = 500, {"error": "internal error"}
            self._send(status, doc)

        def _send(self, status: int, doc: dict[str, Any]) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", "Bearer")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: Any) -> None:
            LOG.info("%s %s", self.address_string(), format % args)

    return Handler


def build_server(
    store: StoragePort, tokens: Mapping[str, str], host: str, port: int
) -> ThreadingHTTPServer:
    server = _Server((host, port), make_handler(JobApi(store, tokens)))
    return server


class _Server(ThreadingHTTPServer):
    """The stdlib default listen backlog (5) resets connections under modest bursts."""

    request_queue_size = 128
    daemon_threads = True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rune.api",
        description=(
            "RUNE job API. Database: --db-url, else RUNE_DB_URL, else RUNE_API_DB_PATH, else "
            ".rune-api/jobs.db. Tokens: RUNE_API_TOKENS=token1:tenantA,token2:tenantB. "
            "At start the schema is migrated and running jobs whose worker lease has "
            "expired are marked failed; queued jobs stay queued for `rune worker`."
        ),
    )
    parser.add_argument("--host", default=os.environ.get("RUNE_API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RUNE_API_PORT", "8080")))
    parser.add_argument("--db-url", help="database URL (overrides the environment)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    try:
        tokens = parse_tokens(os.environ.get(ENV_TOKENS, ""))
        resolved = resolve_url(args.db_url)
        target = parse_url(resolved.url)
        LOG.info("storage: %s %s (from %s)", target.backend, mask_url(target.url), resolved.source)
        store = make_storage(resolved.url, log=LOG.info)
    except StorageError as exc:
        LOG.error("cannot start: %s", exc)
        return 1
    try:
        # Only expired leases: another replica's workers may be running jobs right now.
        recovered = store.recover_expired_jobs()
        if recovered:
            LOG.warning(
                "crash recovery: marked %d running job(s) with expired lease failed", recovered
            )
        server = build_server(store, tokens, args.host, args.port)
    except (StorageError, OSError) as exc:
        LOG.error("cannot start: %s", exc)
        store.close()
        return 1

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    LOG.info("listening on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
