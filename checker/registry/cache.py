"""The resolver's on-disk cache, and the fetcher that puts the network behind it.

Resolving a lock again should ask the registry only what may have changed.
Entries are keyed by URL (credentials removed: a token never names a file)
and the ``Accept`` header (one URL may serve JSON or HTML):

* **immutable** things (a ``.metadata`` file whose hash the listing states,
  an npm version document, a release's JSON API document, an artifact
  chosen by its hash) are reused without asking when present and, where a
  hash is known, matching it;
* **mutable** things (a project's page, which grows with each release) are
  asked again with ``If-None-Match``/``If-Modified-Since`` when the server
  gave an ``ETag`` or ``Last-Modified``, so an unchanged page costs a 304.

An entry is one file: a JSON header line (URL, content type, validators,
the date it was fetched, the body's length and sha256) and the body. A
reader checks length and hash, so a truncated, corrupt or hand-edited entry
is ignored (and removed) and fetched again, never a crash. Writes go through
a temporary file and a rename, so a reader sees an old entry or a new one,
never half of one; no ``fsync``: a lost entry is only refetched. The folder
is marked with a ``CACHEDIR.TAG``, which backup tools and this gate's own
directory walk pass over.

``offline=True`` uses only the cache: each entry missing is one failure
saying to run without ``--offline``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from checker.registry.http import FetchError, HttpClient
from checker.registry.indexes import strip_credentials

__all__ = ["Cache", "Fetched", "Fetcher", "default_cache_dir"]

_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file marks the rune-policy registry cache (https://bford.info/cachedir/).\n"
)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/rune-policy/registry``, else ``~/.cache/rune-policy/registry``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".cache"
    )
    return Path(base, "rune-policy", "registry")


def today() -> str:
    """The ISO date (UTC) a fetch is recorded under."""
    return datetime.now(UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A body as fetched or as cached: its final URL, content type and fetch date."""

    url: str
    body: bytes
    content_type: str
    fetched: str
    etag: str | None = None
    last_modified: str | None = None


class Cache:
    """Entries under ``root``; every failure to read or write one is a miss, never an error."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tagged = False

    @staticmethod
    def key(url: str, accept: str | None) -> str:
        return hashlib.sha256(f"{strip_credentials(url)}\n{accept or ''}".encode()).hexdigest()

    def path(self, url: str, accept: str | None) -> Path:
        key = self.key(url, accept)
        return self.root / key[:2] / key

    def get(self, url: str, accept: str | None) -> Fetched | None:
        path = self.path(url, accept)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        entry = _decode(data)
        if entry is None:
            with contextlib.suppress(OSError):
                path.unlink()
        return entry

    def put(self, url: str, accept: str | None, entry: Fetched) -> None:
        path = self.path(url, accept)
        header = {
            "url": strip_credentials(entry.url),
            "content-type": entry.content_type,
            "fetched": entry.fetched,
            "etag": entry.etag,
            "last-modified": entry.last_modified,
            "length": len(entry.body),
            "sha256": hashlib.sha256(entry.body).hexdigest(),
        }
        data = json.dumps(header, sort_keys=True).encode() + b"\n" + entry.body
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._tag()
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:16]}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass  # a cache that cannot be written only costs a refetch
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _tag(self) -> None:
        if self._tagged:
            return
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            with contextlib.suppress(OSError):
                tag.write_bytes(_TAG)
        self._tagged = True


def _decode(data: bytes) -> Fetched | None:
    """An entry whose header parses and whose body has the stated length and hash; else None."""
    head, newline, body = data.partition(b"\n")
    if not newline:
        return None
    try:
        header = json.loads(head)
    except ValueError:
        return None
    if type(header) is not dict:
        return None
    url, kind, fetched = header.get("url"), header.get("content-type"), header.get("fetched")
    etag, modified = header.get("etag"), header.get("last-modified")
    if not (type(url) is str and type(kind) is str and type(fetched) is str):
        return None
    if header.get("length") != len(body):
        return None
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None
    return Fetched(
        url,
        body,
        kind,
        fetched,
        etag if type(etag) is str else None,
        modified if type(modified) is str else None,
    )


class Fetcher:
    """GET through the cache: immutable entries reused, mutable ones revalidated.

    ``client`` may be None only when ``offline`` is set. Thread-safe: the
    client keeps per-thread connections, and cache entries are replaced
    atomically.
    """

    def __init__(self, client: HttpClient | None, cache: Cache | None, *, offline: bool) -> None:
        if client is None and not offline:
            raise ValueError("a Fetcher without a client must be offline")
        self.client = client
        self.cache = cache
        self.offline = offline

    def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        immutable: bool = False,
        sha256: str | None = None,
        limit: int | None = None,
        store: bool = True,
    ) -> Fetched:
        """The body of ``url``; ``sha256`` (hex), when given, must match or it is a failure.

        ``limit``: the largest body accepted (default: the client's cap).
        ``store=False`` keeps the body out of the cache (an artifact read only
        for the metadata inside it; the caller caches what it extracts).

        Raises :class:`FetchError`.
        """
        cached = self.cache.get(url, accept) if self.cache is not None else None
        if cached is not None and sha256 is not None and _sha256(cached.body) != sha256:
            cached = None  # written by another listing's hash: not this file
        if cached is not None and (immutable or self.offline):
            return cached
        if self.offline or self.client is None:
            where = f" ({self.cache.root})" if self.cache is not None else ""
            raise FetchError(
                url, f"not in the cache{where}; run without --offline to fetch it", absent=True
            )
        headers: dict[str, str] = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        response = self.client.get(url, accept=accept, headers=headers, limit=limit)
        if response.status == 304 and cached is not None:
            return cached
        if response.status == 304:
            raise FetchError(url, "HTTP 304 to a request that was not conditional", 304)
        if sha256 is not None:
            found = _sha256(response.body)
            if found != sha256:
                raise FetchError(
                    url,
                    f"hash mismatch: the file's sha256 is {found}, the index listing states "
                    f"{sha256}",
                )
        entry = Fetched(
            response.url,
            response.body,
            response.content_type,
            today(),
            response.headers.get("etag"),
            response.headers.get("last-modified"),
        )
        if self.cache is not None and store:
            self.cache.put(url, accept, entry)
        return entry


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
