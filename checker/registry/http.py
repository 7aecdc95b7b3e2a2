"""A small HTTP client on the standard library, for registry metadata.

Metadata is small and many: a lock of 230 packages is some 460 requests of
a few kilobytes, so what costs is connection set-up, not bandwidth. Each
worker thread keeps one persistent connection per host
(``http.client``, keep-alive), which saves a TCP and TLS handshake per
request; ``urllib.request`` opens a new connection every time. No third-party
client is needed for that, so none is added.

What the client guarantees, whatever the server does:

* a per-request timeout, and up to ``attempts`` tries with exponential
  backoff and jitter on 5xx, 429 (``Retry-After`` honoured up to a cap),
  connection errors and timeouts; 4xx other than 429 is final at once;
* redirects followed (up to 5), credentials sent only to the host they were
  given for;
* a response size cap (``max_bytes``, default 20 MB), checked before and
  while reading and while un-gzipping, so a hostile or broken server cannot
  exhaust memory;
* TLS verified against ``PIP_CERT``, ``REQUESTS_CA_BUNDLE`` or
  ``SSL_CERT_FILE`` when set (the first that is), else the system store;
* ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` honoured as urllib honours them;
* every failure is one :class:`FetchError`: the URL (credentials masked) and
  one line of reason.
"""

from __future__ import annotations

import base64
import http.client
import os
import random
import socket
import ssl
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from checker import __version__
from checker.registry.indexes import mask_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FetchError",
    "HttpClient",
    "Response",
    "ca_bundle",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 20.0
DEFAULT_ATTEMPTS = 3
MAX_REDIRECTS = 5
#: The longest a ``Retry-After`` is waited for; longer is treated as this.
MAX_RETRY_AFTER = 30.0
_CHUNK = 64 * 1024
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


class FetchError(Exception):
    """A request that failed for good: where and why, in one line.

    ``status`` is the HTTP status when the server answered; None for
    network failures. ``absent`` says the thing is not there to be had (HTTP
    404 or 410, or missing from the cache of an offline run), so a caller
    may try the next source instead of failing.
    """

    def __init__(
        self, url: str, reason: str, status: int | None = None, *, absent: bool = False
    ) -> None:
        self.url = mask_url(url)
        self.reason = " ".join(reason.split())
        self.status = status
        self.absent = absent or status in (404, 410)
        super().__init__(f"{self.reason} ({self.url})")


@dataclass(frozen=True, slots=True)
class Response:
    """A successful answer: the URL it finally came from, status, headers, body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle named by ``PIP_CERT``, ``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE``."""
    env = os.environ if environ is None else environ
    for name in _CA_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    #: Basic credentials given in the URL, as a header value.
    auth: str | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def url(self) -> str:
        """The URL without credentials (what errors name and a plain proxy is sent)."""
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port == default else f"{host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an http(s) URL")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError(url, "has an invalid port") from None
    auth = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return _Target(scheme, parts.hostname, port, path, auth)


@dataclass(slots=True)
class _Connections:
    """One worker thread's persistent connections, by (scheme, host, port)."""

    open: dict[tuple[str, str, int], http.client.HTTPConnection] = field(default_factory=dict)


class HttpClient:
    """GET with timeouts, retries, a size cap and per-thread keep-alive connections.

    Safe to share between threads: each thread gets its own connections.
    ``backoff`` is the first retry's base delay in seconds (doubled each
    retry, with up to 50% random jitter added).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = 0.5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cafile: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.cafile = cafile if cafile is not None else ca_bundle(env)
        self.user_agent = f"rune-policy/{__version__} (evidence resolve)"
        self._context: ssl.SSLContext | None = None
        self._context_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[_Connections] = []
        self._all_lock = threading.Lock()
        self._proxies = proxies_from(env)

    # ------------------------------------------------------------------ API

    def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> Response:
        """The final response to GET ``url`` (200, or 304 to a conditional request).

        ``limit`` replaces the client's ``max_bytes`` for this one response (an
        artifact read for the metadata inside it is larger than any page).

        Raises :class:`FetchError` for anything else, after retries where a
        retry can help.
        """
        sent: dict[str, str] = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip"}
        if accept:
            sent["Accept"] = accept
        sent.update(headers or {})
        origin = _target(url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = _target(current)
            request_headers = dict(sent)
            auth = target.auth or (origin.auth if target.origin == origin.origin else None)
            if auth is not None:
                request_headers["Authorization"] = auth
            response = self._with_retries(current, target, request_headers, limit)
            if response.status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {response.status} without a Location")
                current = urljoin(current, location)
                continue
            return replace(response, url=current)
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        """Close every connection every thread opened."""
        with self._all_lock:
            for pool in self._all:
                for connection in pool.open.values():
                    connection.close()
                pool.open.clear()

    # ------------------------------------------------------------------ retries

    def _with_retries(
        self, url: str, target: _Target, headers: dict[str, str], limit: int | None = None
    ) -> Response:
        last = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            delay: float | None = None
            try:
                response = self._once(target, headers, limit)
            except FetchError:
                raise
            except TimeoutError:
                last = f"timed out after {self.timeout:g} s"
            except ssl.SSLCertVerificationError as exc:
                raise FetchError(
                    url,
                    f"TLS certificate not trusted ({exc.verify_message or exc.reason}); set "
                    "PIP_CERT or SSL_CERT_FILE to the CA bundle that signs it",
                ) from None
            except ssl.SSLError as exc:
                last = f"TLS error ({exc.reason or exc})"
            except (OSError, http.client.HTTPException) as exc:
                last = f"connection failed ({_describe(exc)})"
            else:
                status = response.status
                if status == 200 or status == 304 or status in _REDIRECTS:
                    return response
                if status in _RETRIED_STATUS:
                    last = f"HTTP {status} {_reason(status)}".strip()
                    delay = _retry_after(response.headers.get("retry-after"))
                else:
                    raise FetchError(url, f"HTTP {status} {_reason(status)}".strip(), status)
            if attempt < self.attempts:
                pause = self.backoff * (2 ** (attempt - 1))
                pause += random.uniform(0, pause / 2)
                time.sleep(min(MAX_RETRY_AFTER, max(pause, delay or 0.0)))
        tries = f"{self.attempts} attempts" if self.attempts > 1 else "1 attempt"
        raise FetchError(url, f"{last} ({tries})")

    def _once(self, target: _Target, headers: dict[str, str], limit: int | None = None) -> Response:
        """One request on this thread's connection to the host (reopened once if stale)."""
        pool = self._pool()
        key = target.origin
        for fresh in (False, True):
            connection = pool.open.get(key)
            reused = connection is not None and not fresh
            if connection is None or fresh:
                if connection is not None:
                    connection.close()
                connection = self._connect(target)
                pool.open[key] = connection
            try:
                return self._exchange(connection, target, headers, limit)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                pool.open.pop(key, None)
                if not reused:
                    raise
                # a keep-alive connection the server closed meanwhile: retry at once
            except BaseException:
                connection.close()
                pool.open.pop(key, None)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        target: _Target,
        headers: dict[str, str],
        limit: int | None = None,
    ) -> Response:
        path = target.path
        if getattr(connection, "_rune_plain_proxy", False):
            # a plain-HTTP proxy is sent the absolute URL
            path = target.url
        connection.request("GET", path, headers=headers)
        raw = connection.getresponse()
        url = target.url
        found = {k.lower(): v for k, v in raw.getheaders()}
        if raw.status != 200:
            # error bodies are read (bounded) only to keep the connection usable
            self._body(raw, url, found, limit=min(self.max_bytes, 256 * 1024), quiet=True)
            if raw.will_close:
                connection.close()
            return Response(url, raw.status, found, b"")
        body = self._body(raw, url, found, limit=self.max_bytes if limit is None else limit)
        if raw.will_close:
            connection.close()
        return Response(url, raw.status, found, body)

    def _body(
        self,
        raw: http.client.HTTPResponse,
        url: str,
        headers: Mapping[str, str],
        *,
        limit: int,
        quiet: bool = False,
    ) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not quiet:
            raise FetchError(
                url, f"response of {int(declared):,} bytes is over the {limit:,}-byte cap"
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = raw.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                if quiet:
                    return b""
                raise FetchError(url, f"response is over the {limit:,}-byte cap")
            chunks.append(chunk)
        data = b"".join(chunks)
        if headers.get("content-encoding", "").strip().lower() == "gzip" and not quiet:
            data = _gunzip(data, url, limit)
        return data

    # ------------------------------------------------------------------ connections

    def _pool(self) -> _Connections:
        pool: _Connections | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = _Connections()
            self._local.pool = pool
            with self._all_lock:
                self._all.append(pool)
        return pool

    def _ssl(self, url: str) -> ssl.SSLContext:
        with self._context_lock:
            if self._context is None:
                try:
                    self._context = ssl.create_default_context(cafile=self.cafile)
                except (OSError, ssl.SSLError) as exc:
                    raise FetchError(
                        url,
                        f"the CA bundle {self.cafile} cannot be loaded ({_describe(exc)})",
                    ) from None
            return self._context

    def _connect(self, target: _Target) -> http.client.HTTPConnection:
        proxy = self._proxy_for(target)
        connection: http.client.HTTPConnection
        if proxy is None:
            if target.scheme == "https":
                connection = http.client.HTTPSConnection(
                    target.host, target.port, timeout=self.timeout, context=self._ssl(target.url)
                )
            else:
                connection = http.client.HTTPConnection(
                    target.host, target.port, timeout=self.timeout
                )
            return connection
        proxy_target = _target(proxy)
        proxy_headers = {"Proxy-Authorization": proxy_target.auth} if proxy_target.auth else {}
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(
                proxy_target.host,
                proxy_target.port,
                timeout=self.timeout,
                context=self._ssl(target.url),
            )
            connection.set_tunnel(target.host, target.port, headers=proxy_headers)
            return connection
        connection = _ProxyConnection(
            proxy_target.host, proxy_target.port, timeout=self.timeout, headers=proxy_headers
        )
        return connection

    def _proxy_for(self, target: _Target) -> str | None:
        proxy = self._proxies.get(target.scheme)
        if not proxy:
            return None
        if _bypass(target.host, self._proxies):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"


class _ProxyConnection(http.client.HTTPConnection):
    """A connection to a plain-HTTP proxy: requests carry the absolute URL."""

    _rune_plain_proxy = True

    def __init__(self, host: str, port: int, *, timeout: float, headers: dict[str, str]) -> None:
        super().__init__(host, port, timeout=timeout)
        self._proxy_headers = headers

    def putrequest(
        self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False
    ) -> None:
        host = urlsplit(url).netloc
        super().putrequest(method, url, skip_host=True, skip_accept_encoding=skip_accept_encoding)
        self.putheader("Host", host)
        for name, value in self._proxy_headers.items():
            self.putheader(name, value)


def proxies_from(environ: Mapping[str, str]) -> dict[str, str]:
    """``{scheme: proxy URL, "no": hosts}`` from ``*_proxy`` variables, as urllib reads them.

    The lower-case name wins over the upper-case one, as in urllib.
    """
    found: dict[str, str] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy") and name.isupper():
            found[name[:-6].lower()] = value
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy") and name.islower():
            found[name[:-6]] = value
    return found


def _bypass(host: str, proxies: dict[str, str]) -> bool:
    """Whether ``NO_PROXY`` exempts ``host`` (urllib's own rule; not in its type stubs)."""
    check: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return bool(check(host, proxies))


def _gunzip(data: bytes, url: str, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise FetchError(url, f"gzip response cannot be decoded ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise FetchError(url, f"response is over the {limit:,}-byte cap once decompressed")
    return out


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta or HTTP date), capped; else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(MAX_RETRY_AFTER, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(MAX_RETRY_AFTER, when.timestamp() - time.time()))


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"host name not resolved: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
