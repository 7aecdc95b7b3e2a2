"""License metadata of one npm release: the registry's version document.

``GET <registry>/<name>/<version>`` (a scoped ``@scope/name`` is sent as
``@scope%2fname``) answers the ``package.json`` as published, plus ``dist``.
The license is ``license`` (an SPDX expression as a string; the legacy
object form ``{"type": ...}`` is read for its type) or the legacy
``licenses`` array, whose types are joined with `` OR `` (what npm meant by
listing several). ``dist.integrity`` (``sha512-<base64>``, the tarball's
Subresource Integrity string) becomes the record's digest as
``sha512:<hex>``; when the lock pins an integrity of the same algorithm
that differs, the artifact in the lock is not the one published: a
failure, not a record. A document of another version than the one asked
for is a failure too.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import quote

import orjson

from checker.evidence.records import Ecosystem, LicenseFields, PackageRecord, Wanted
from checker.lockfiles._common import sri_digests
from checker.registry.cache import Fetcher
from checker.registry.http import FetchError
from checker.registry.indexes import strip_credentials

__all__ = ["lookup", "version_url"]

_JSON = "application/json"


def version_url(registry: str, name: str, version: str) -> str:
    """``<registry>/<name>/<version>`` with a scope's slash encoded (``@scope%2fname``)."""
    return f"{registry.rstrip('/')}/{quote(name, safe='@')}/{quote(version, safe='')}"


def lookup(wanted: Wanted, registry: str, fetcher: Fetcher) -> PackageRecord:
    """The license evidence of ``wanted`` from ``registry``; FetchError when there is none."""
    url = version_url(registry, wanted.name, wanted.version)
    try:
        fetched = fetcher.get(url, accept=_JSON, immutable=True)
    except FetchError as exc:
        if exc.status in (404, 410):
            raise FetchError(
                url, "the registry has no such package version (HTTP 404)", exc.status
            ) from None
        raise
    try:
        doc = orjson.loads(fetched.body)
    except orjson.JSONDecodeError as exc:
        raise FetchError(fetched.url, f"malformed JSON ({exc})") from None
    if type(doc) is not dict:
        raise FetchError(fetched.url, "malformed version document: not a JSON object")
    if doc.get("version") != wanted.version:
        raise FetchError(
            fetched.url,
            f"the registry answered version {doc.get('version')!r}, not {wanted.version}",
        )
    published = _published(doc)
    digest = _check_integrity(wanted, published, fetched.url)
    return PackageRecord(
        ecosystem=Ecosystem.NPM,
        name=wanted.name,
        version=wanted.version,
        fields=LicenseFields(license=_license(doc)),
        url=strip_credentials(fetched.url),
        retrieved=fetched.fetched,
        artifact=_tarball(doc),
        digest=digest,
    )


def _published(doc: dict[str, Any]) -> list[str]:
    """The digests ``dist`` states: ``integrity`` entries, then ``shasum`` as sha1."""
    dist = doc.get("dist")
    if type(dist) is not dict:
        return []
    found: list[str] = []
    integrity = dist.get("integrity")
    if type(integrity) is str:
        found.extend(sri_digests(integrity))
    shasum = dist.get("shasum")
    if type(shasum) is str and len(shasum) == 40:
        found.append(f"sha1:{shasum.lower()}")
    return found


def _check_integrity(wanted: Wanted, published: list[str], url: str) -> str | None:
    """The digest to record; a failure when the lock pins another artifact than the published."""
    strongest = next((d for d in published if d.startswith("sha512:")), None)
    if not wanted.digests:
        return strongest or (published[0] if published else None)
    by_algorithm: dict[str, set[str]] = {}
    for digest in published:
        by_algorithm.setdefault(digest.split(":", 1)[0], set()).add(digest)
    compared = False
    for pin in wanted.digests:
        algorithm = pin.split(":", 1)[0]
        known = by_algorithm.get(algorithm)
        if known is None:
            continue
        compared = True
        if pin in known:
            return pin
    if compared:
        shown = next(iter(sorted(wanted.digests)))
        _mismatch(url, shown, published)
    return strongest or (published[0] if published else None)


def _mismatch(url: str, pin: str, published: list[str]) -> NoReturn:
    algorithm = pin.split(":", 1)[0]
    registry = next((d for d in published if d.startswith(algorithm + ":")), "?")
    raise FetchError(
        url,
        f"integrity mismatch: the lock pins {_short(pin)}, the registry publishes "
        f"{_short(registry)}: the lock's artifact is not the one published",
    )


def _short(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:16]}..." if len(value) > 16 else digest


def _license(doc: dict[str, Any]) -> str | None:
    value = doc.get("license")
    if value is None:
        value = doc.get("licenses")
    if type(value) is str:
        return value.strip() or None
    if type(value) is dict:
        return _type(value)
    if type(value) is list:
        types = [t for t in (_type(item) for item in value) if t]
        return " OR ".join(types) if types else None
    return None


def _type(item: Any) -> str | None:
    if type(item) is str:
        return item.strip() or None
    if type(item) is dict and type(item.get("type")) is str:
        return item["type"].strip() or None
    return None


def _tarball(doc: dict[str, Any]) -> str | None:
    dist = doc.get("dist")
    tarball = dist.get("tarball") if type(dist) is dict else None
    if type(tarball) is not str or not tarball:
        return None
    return tarball.rsplit("/", 1)[-1] or None
