"""A package registry on 127.0.0.1 for the resolver's tests and benchmark.

It serves what real registries serve, built from real inputs: PEP 691 JSON
project pages whose files carry the sha256 of their bytes, ``.metadata``
files that are the METADATA of distributions installed in this environment
(so every field is as a real build backend wrote it), wheels that hold that
METADATA, a JSON API, and npm version documents shaped like the registry's.
Any path can instead be given a sequence of replies (500 then 200), a delay
longer than the client's timeout, a malformed body or a wrong hash.

No test or benchmark that uses it touches the network. One module serves
both, so the benchmark measures the server the tests trust.
"""

from __future__ import annotations

import base64
import email
import gzip
import hashlib
import http.server
import importlib.metadata
import io
import json
import ssl
import subprocess
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from packaging.utils import canonicalize_name

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer to a GET."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    gzip: bool = False


@dataclass(slots=True)
class Published:
    """A release the server now serves, with the hashes a lock would pin."""

    name: str
    version: str
    metadata: bytes
    wheel: str
    wheel_sha256: str
    metadata_sha256: str
    page: str
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return f"sha256:{self.wheel_sha256}"


def installed_metadata(distribution: str) -> bytes:
    """The METADATA bytes of a distribution installed in this environment."""
    text = importlib.metadata.distribution(distribution).read_text("METADATA")
    if text is None:
        raise LookupError(f"{distribution} has no METADATA")
    return text.encode("utf-8")


def name_version(metadata: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(metadata)
    return str(message["Name"]), str(message["Version"])


def wheel_of(metadata: bytes, tag: str = "py3-none-any") -> tuple[str, bytes]:
    """A wheel file name and bytes holding ``metadata`` as its ``.dist-info/METADATA``."""
    name, version = name_version(metadata)
    dist = canonicalize_name(name).replace("-", "_")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{dist}-{version}.dist-info/METADATA", metadata)
        archive.writestr(f"{dist}/__init__.py", b"")
    return f"{dist}-{version}-{tag}.whl", buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sri(data: bytes) -> str:
    """npm's ``integrity`` of a tarball: ``sha512-<base64>``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class RegistryServer:
    """A threading HTTP/1.1 server (keep-alive) whose replies are set per path."""

    def __init__(self, latency: float = 0.0, certificate: tuple[str, str] | None = None) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.latency = latency
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> RegistryServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple"

    @property
    def npm_url(self) -> str:
        return f"{self.url}/npm"

    # ------------------------------------------------------------------ replies

    def set(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with ``replies`` in turn; the last one repeats."""
        with self._lock:
            self.replies[path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            self.hits[path] += 1
            queue = self.replies.get(path)
            if not queue:
                return Reply(404, b'{"message": "Not Found"}')
            return queue.pop(0) if len(queue) > 1 else queue[0]

    # ------------------------------------------------------------------ registries

    def publish_pypi(
        self,
        metadata: bytes,
        *,
        advertise: bool = True,
        metadata_served: bool = True,
        json_api: bool = False,
        tag: str = "py3-none-any",
        other_versions: tuple[str, ...] = ("0.0.1",),
    ) -> Published:
        """A project page listing a wheel of this METADATA (and an older release's wheel).

        ``advertise`` puts the ``core-metadata`` hash in the listing;
        ``metadata_served`` serves ``<wheel>.metadata``; ``json_api`` serves
        ``/pypi/<name>/<version>/json`` built from the same METADATA.
        """
        name, version = name_version(metadata)
        project = canonicalize_name(name)
        wheel, data = wheel_of(metadata, tag)
        files = []
        for other in other_versions:
            old_name = f"{project.replace('-', '_')}-{other}-py3-none-any.whl"
            files.append(_listing(old_name, b"old release " + old_name.encode(), None))
            self.set(f"/files/{old_name}", Reply(200, b"old", "application/octet-stream"))
        files.append(_listing(wheel, data, metadata if advertise else None))
        page = f"/simple/{project}/"
        self.set(page, _page(project, files))
        self.set(f"/files/{wheel}", Reply(200, data, "application/octet-stream"))
        if metadata_served:
            self.set(f"/files/{wheel}.metadata", Reply(200, metadata, "application/octet-stream"))
        if json_api:
            self.set(f"/pypi/{project}/{version}/json", json_api_reply(metadata, files[-1]))
        return Published(
            name, version, metadata, wheel, sha256(data), sha256(metadata), page, files
        )

    def publish_npm(self, doc: dict[str, Any], tarball: bytes | None = None) -> str:
        """A version document at ``/npm/<name>/<version>``; returns the lock's ``integrity``."""
        name, version = str(doc["name"]), str(doc["version"])
        data = tarball if tarball is not None else f"{name}@{version}".encode()
        dist = doc.setdefault("dist", {})
        dist.setdefault("integrity", sri(data))
        dist.setdefault("shasum", hashlib.sha1(data).hexdigest())
        base = name.rsplit("/", 1)[-1]
        dist.setdefault("tarball", f"{self.npm_url}/{name}/-/{base}-{version}.tgz")
        doc.setdefault("_id", f"{name}@{version}")
        self.set(f"/npm/{quote(name, safe='@')}/{version}", Reply(200, json.dumps(doc).encode()))
        return str(dist["integrity"])


def self_signed(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def _listing(filename: str, data: bytes, metadata: bytes | None) -> dict[str, Any]:
    """One PEP 691 file entry; the URL is relative to the page, as PEP 691 allows."""
    entry: dict[str, Any] = {
        "filename": filename,
        "url": f"../../files/{filename}",
        "hashes": {"sha256": sha256(data)},
        "requires-python": ">=3.8",
        "size": len(data),
        "upload-time": "2025-01-01T00:00:00.000000Z",
        "yanked": False,
    }
    if metadata is not None:
        entry["core-metadata"] = {"sha256": sha256(metadata)}
        entry["data-dist-info-metadata"] = {"sha256": sha256(metadata)}
    return entry


def _page(project: str, files: list[dict[str, Any]]) -> Reply:
    doc = {
        "meta": {"api-version": "1.1", "_last-serial": 1},
        "name": project,
        "files": files,
        "versions": sorted({f["filename"].split("-")[1] for f in files}),
    }
    return Reply(200, json.dumps(doc).encode(), SIMPLE_JSON)


def json_api_reply(metadata: bytes, file: dict[str, Any]) -> Reply:
    """The JSON API's release document, its ``info`` taken from ``metadata``."""
    message = email.message_from_bytes(metadata)
    info = {
        "name": message["Name"],
        "version": message["Version"],
        "license": message.get("License"),
        "license_expression": message.get("License-Expression"),
        "license_files": message.get_all("License-File"),
        "classifiers": message.get_all("Classifier") or [],
    }
    urls = [{"filename": file["filename"], "digests": dict(file["hashes"])}]
    return Reply(200, json.dumps({"info": info, "urls": urls}).encode())


def _handler(server: RegistryServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body are written apart: without this, Nagle and delayed ACKs
        # stall every keep-alive answer by 40 ms
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = self.path
            if "://" in path:  # asked as a plain proxy: the absolute URL
                parts = urlsplit(path)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
            with server._lock:
                server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            reply = server.next_reply(path)
            if server.latency:
                time.sleep(server.latency)
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.body
            headers = dict(reply.headers)
            status = reply.status
            etag = headers.get("ETag")
            if etag is not None and self.headers.get("If-None-Match") == etag:
                status, body = 304, b""
            if reply.gzip and body:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            try:
                self.send_response(status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
