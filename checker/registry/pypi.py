"""License metadata of one PyPI release, read from the distribution the lock pins.

The simple API's JSON form (PEP 691) lists every file of a project with its
sha256; the lock pins some of those hashes. The file whose hash the lock
pins is the artifact that will be installed, so its core metadata is the
evidence (PEP 658/714: ``<file URL>.metadata``, whose own sha256 the listing
states and which is checked). Without pinned hashes, a wheel of exactly the
pinned version is read (``py3-none-any`` preferred), matched by parsing file
names with :mod:`packaging.utils`, never by substring.

Where no chosen file advertises its metadata, or the index serves no PEP
691 JSON, the fallbacks are, in order:

1. the JSON API, ``<base>/pypi/<name>/<version>/json`` (``<base>``: the index
   URL without a trailing ``/simple``): release-level fields, and its
   ``urls`` digests are still checked against the lock's hashes;
2. ``<file URL>.metadata`` although the listing does not advertise it (some
   mirrors drop the ``core-metadata`` key but serve the files); nothing
   states its hash, but the file URL comes from the listing entry the lock's
   hash selected;
3. the artifact itself, within the size cap, its sha256 checked against the
   listing: ``*.dist-info/METADATA`` of a wheel, ``PKG-INFO`` of an sdist;
4. for an artifact over the cap only, the project-level JSON API,
   ``<base>/pypi/<name>/json``, when the version it describes is the one
   pinned (an index that serves no per-version document still describes
   its latest release). It is last because it is release-level data that a
   proxy may thin out, where the artifact's own metadata is checked by hash.

Metadata is parsed with :mod:`email`, as :mod:`importlib.metadata` parses
it, and must name the release asked for. Every failure is a
:class:`~checker.registry.http.FetchError`: one line with the URL.
"""

from __future__ import annotations

import email
import io
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin

import orjson
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from checker.evidence.records import Ecosystem, LicenseFields, PackageRecord, Wanted
from checker.registry.cache import Fetched, Fetcher
from checker.registry.http import FetchError
from checker.registry.indexes import strip_credentials

__all__ = ["SIMPLE_JSON", "json_api_url", "license_fields", "lookup", "project_url"]

#: PEP 691's media type, version 1.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_JSON = "application/json"
#: The cache's content type for metadata extracted from an artifact (keyed by
#: the artifact's URL, its sha256 kept as the entry's tag).
_EXTRACTED = "application/x-rune-policy-extracted-metadata"
#: The largest artifact read for the metadata inside it (wheels of native
#: projects run to tens of MB; PyMuPDF's are about 60 MB).
ARTIFACT_MAX_BYTES = 512 * 1024 * 1024
_SDIST_ENDINGS = (".tar.gz", ".zip")


@dataclass(frozen=True, slots=True)
class _File:
    """One file of the release, as the listing states it."""

    filename: str
    url: str
    hashes: dict[str, str]
    #: The ``.metadata`` hashes when advertised with hashes, {} when advertised bare.
    metadata: dict[str, str] | None
    wheel: bool
    universal: bool
    size: int | None

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")


def project_url(index: str, name: str) -> str:
    """``<index>/<normalized-name>/``: the project's page (PEP 503 normalization)."""
    return f"{index.rstrip('/')}/{canonicalize_name(name)}/"


def json_api_url(index: str, name: str, version: str | None) -> str:
    """``<base>/pypi/<name>/<version>/json``, ``<base>`` being the index without ``/simple``.

    Without ``version``: the project-level document, which describes the latest release.
    """
    base = index.rstrip("/").removesuffix("/simple")
    if version is None:
        return f"{base}/pypi/{canonicalize_name(name)}/json"
    return f"{base}/pypi/{canonicalize_name(name)}/{version}/json"


def lookup(wanted: Wanted, index: str, fetcher: Fetcher) -> PackageRecord:
    """The license evidence of ``wanted`` from ``index``; FetchError when there is none."""
    try:
        pinned = Version(wanted.version)
    except InvalidVersion:
        raise FetchError(
            project_url(index, wanted.name), f"version {wanted.version!r} is not a PEP 440 version"
        ) from None
    page_url = project_url(index, wanted.name)
    try:
        page = fetcher.get(page_url, accept=SIMPLE_JSON)
    except FetchError as exc:
        if exc.status in (404, 410):
            raise FetchError(page_url, "the index has no such project (HTTP 404)", 404) from None
        raise
    if page.content_type != SIMPLE_JSON:
        # an index without PEP 691 (HTML only): the JSON API is the one source left
        return _from_json_api(wanted, index, fetcher, None, f"no PEP 691 JSON at {page_url}")
    files = _release_files(page, wanted, pinned)
    chosen, digest = _choose(files, wanted, page.url)
    if chosen.metadata is not None:
        meta_url = urldefrag(chosen.url)[0] + ".metadata"
        fetched = fetcher.get(meta_url, immutable=True, sha256=chosen.metadata.get("sha256"))
        return _record(
            wanted, license_fields(fetched.body, meta_url, wanted), fetched, chosen, digest
        )
    return _from_json_api(wanted, index, fetcher, (chosen, digest, files), "")


# --------------------------------------------------------------------------- the listing


def _release_files(page: Fetched, wanted: Wanted, pinned: Version) -> list[_File]:
    try:
        doc = orjson.loads(page.body)
    except orjson.JSONDecodeError as exc:
        raise FetchError(page.url, f"malformed PEP 691 JSON ({exc})") from None
    files = doc.get("files") if type(doc) is dict else None
    if type(files) is not list:
        raise FetchError(page.url, 'malformed PEP 691 JSON: no "files" list')
    project = canonicalize_name(wanted.name)
    found: list[_File] = []
    for entry in files:
        if type(entry) is not dict:
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if type(filename) is not str or type(url) is not str:
            continue
        parsed = _parse_filename(filename)
        if parsed is None or parsed[0] != project or parsed[1] != pinned:
            continue
        hashes = entry.get("hashes")
        found.append(
            _File(
                filename=filename,
                url=urljoin(page.url, url),
                hashes=_hashes(hashes),
                metadata=_advertised(entry),
                wheel=filename.endswith(".whl"),
                universal=filename.endswith("-py3-none-any.whl"),
                size=entry.get("size") if type(entry.get("size")) is int else None,
            )
        )
    if not found:
        raise FetchError(
            page.url,
            f"the index lists no file of version {wanted.version} (the release was removed "
            "or never published there)",
        )
    return found


def _parse_filename(filename: str) -> tuple[str, Version] | None:
    """(normalized name, version) of a wheel or sdist file name; None for anything else."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return str(name), version
        if filename.lower().endswith(_SDIST_ENDINGS):
            name, version = parse_sdist_filename(filename)
            return str(name), version
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def _hashes(value: Any) -> dict[str, str]:
    if type(value) is not dict:
        return {}
    return {str(k).lower(): v.lower() for k, v in value.items() if type(v) is str}


def _advertised(entry: dict[str, Any]) -> dict[str, str] | None:
    """The ``.metadata`` file's hashes (PEP 714 key, then PEP 658's); None if not offered."""
    for key in ("core-metadata", "data-dist-info-metadata"):
        value = entry.get(key)
        if type(value) is dict:
            return _hashes(value)
        if value is True:
            return {}
    return None


def _choose(files: list[_File], wanted: Wanted, page_url: str) -> tuple[_File, str | None]:
    """The file whose metadata is read, and the pinned digest that selected it."""
    listed = {algorithm for f in files for algorithm in f.hashes}
    # only hashes the listing can confirm count (an old lock's md5 cannot be checked)
    pins = {d for d in wanted.digests if d.split(":", 1)[0] in listed}
    if pins:
        matched = [(f, d) for f in files for d in _digests(f) if d in pins]
        if not matched:
            raise FetchError(
                page_url,
                f"none of the {len(files)} files of version {wanted.version} on the index has "
                "a hash the lock pins: the lock's artifact is not the one published",
            )
        matched.sort(key=lambda pair: _preference(pair[0]))
        return matched[0]
    ranked = sorted(files, key=_preference)
    best = ranked[0]
    return best, f"sha256:{best.sha256}" if best.sha256 else None


def _digests(file: _File) -> list[str]:
    return [f"{algorithm}:{value}" for algorithm, value in sorted(file.hashes.items())]


def _preference(file: _File) -> tuple[bool, bool, bool, int, str]:
    """Metadata advertised first, then wheels, ``py3-none-any``, the smallest, then by name.

    Size matters only when the artifact itself has to be read (fallback 3).
    """
    size = file.size if file.size is not None else 1 << 62
    return (file.metadata is None, not file.wheel, not file.universal, size, file.filename)


# --------------------------------------------------------------------------- fallbacks


def _from_json_api(
    wanted: Wanted,
    index: str,
    fetcher: Fetcher,
    listing: tuple[_File, str | None, list[_File]] | None,
    why: str,
) -> PackageRecord:
    """Fallback 1 (the JSON API), then 2 and 3 when there is a listed file to read."""
    api_url = json_api_url(index, wanted.name, wanted.version)
    tried: list[str] = [why] if why else []
    try:
        fetched = fetcher.get(api_url, accept=_JSON, immutable=True)
    except FetchError as exc:
        tried.append(f"JSON API {exc.reason}")
        if listing is None or not exc.absent:
            raise FetchError(api_url, _joined(tried, "no license metadata")) from None
    else:
        return _json_api_record(wanted, fetched, listing)
    chosen, digest, _files = listing
    plain = urldefrag(chosen.url)[0]
    if chosen.wheel:
        meta_url = plain + ".metadata"
        try:
            meta = fetcher.get(meta_url, immutable=True)
        except FetchError as exc:
            if not exc.absent:
                raise
            tried.append(f"{meta_url}: {exc.reason}")
        else:
            return _record(
                wanted, license_fields(meta.body, meta_url, wanted), meta, chosen, digest
            )
    # The smallest artifact the lock pins: every file of a release carries
    # the same core metadata, and a 60 MB platform wheel is not read for it
    # when a 2 MB one of the same release is pinned too.
    chosen, digest = _smallest(_files, wanted) or (chosen, digest)
    if chosen.size is not None and chosen.size > ARTIFACT_MAX_BYTES:
        # The artifact is the better evidence (its hash is checked); the
        # project document is asked only when the artifact is too big to read.
        latest = _from_project_json(wanted, index, fetcher, listing, tried)
        if latest is not None:
            return latest
    return _from_artifact(wanted, fetcher, chosen, digest, tried)


def _smallest(files: list[_File], wanted: Wanted) -> tuple[_File, str | None] | None:
    """The smallest wheel of the release that the lock pins (any file, without pins; an
    sdist when no wheel is pinned) that states its sha256, with the digest that selects it."""
    pins = set(wanted.digests)
    candidates: list[tuple[_File, str | None]] = []
    for file in files:
        if file.sha256 is None or file.size is None:
            continue
        own = f"sha256:{file.sha256}"
        if pins and own not in pins:
            continue
        candidates.append((file, own))
    if not candidates:
        return None
    # A wheel's METADATA is what the installer reads; an sdist's PKG-INFO may
    # leave fields dynamic, so it is read only when no wheel is pinned.
    return min(
        candidates, key=lambda pair: (not pair[0].wheel, pair[0].size or 0, pair[0].filename)
    )


def _from_project_json(
    wanted: Wanted,
    index: str,
    fetcher: Fetcher,
    listing: tuple[_File, str | None, list[_File]],
    tried: list[str],
) -> PackageRecord | None:
    """Fallback 4: the project-level JSON API, only when it describes the pinned version.

    Not cached as immutable: the project document moves on with each release.
    """
    url = json_api_url(index, wanted.name, None)
    try:
        fetched = fetcher.get(url, accept=_JSON)
    except FetchError as exc:
        tried.append(f"project JSON API {exc.reason}")
        return None
    try:
        doc = orjson.loads(fetched.body)
    except orjson.JSONDecodeError:
        tried.append(f"{url}: malformed JSON")
        return None
    info = doc.get("info") if type(doc) is dict else None
    version = info.get("version") if type(info) is dict else None
    if type(version) is not str or not _same_version(version, wanted.version):
        tried.append(f"{url} describes version {version}, not {wanted.version}")
        return None
    return _json_api_record(wanted, fetched, listing)


def _json_api_record(
    wanted: Wanted, fetched: Fetched, listing: tuple[_File, str | None, list[_File]] | None
) -> PackageRecord:
    url = fetched.url
    try:
        doc = orjson.loads(fetched.body)
    except orjson.JSONDecodeError as exc:
        raise FetchError(url, f"malformed JSON API document ({exc})") from None
    info = doc.get("info") if type(doc) is dict else None
    if type(info) is not dict:
        raise FetchError(url, 'malformed JSON API document: no "info" object')
    version = info.get("version")
    if type(version) is str and not _same_version(version, wanted.version):
        raise FetchError(url, f"the JSON API describes version {version}, not {wanted.version}")
    fields = LicenseFields(
        license_expression=_text(info.get("license_expression")),
        license=_text(info.get("license")),
        classifiers=_licence_classifiers(info.get("classifiers")),
        license_files=_strings(info.get("license_files")),
    )
    artifact: str | None = None
    digest: str | None = None
    if listing is not None:
        chosen, digest, _files = listing
        artifact = chosen.filename
    elif wanted.digests:
        artifact, digest = _pinned_in_urls(doc.get("urls"), wanted, url)
    return PackageRecord(
        ecosystem=Ecosystem.PYPI,
        name=wanted.name,
        version=wanted.version,
        fields=fields,
        url=strip_credentials(url),
        retrieved=fetched.fetched,
        artifact=artifact,
        digest=digest,
    )


def _pinned_in_urls(urls: Any, wanted: Wanted, api_url: str) -> tuple[str, str]:
    """The JSON API file the lock pins (when there was no listing to choose from)."""
    pins = set(wanted.digests)
    files = [u for u in urls if type(u) is dict] if type(urls) is list else []
    for entry in sorted(files, key=lambda u: str(u.get("filename"))):
        for algorithm, value in sorted(_hashes(entry.get("digests")).items()):
            digest = f"{algorithm}:{value}"
            if digest in pins and type(entry.get("filename")) is str:
                return entry["filename"], digest
    raise FetchError(
        api_url,
        f"none of the {len(files)} files the JSON API lists for version {wanted.version} has "
        "a hash the lock pins: the lock's artifact is not the one published",
    )


def _from_artifact(
    wanted: Wanted, fetcher: Fetcher, chosen: _File, digest: str | None, tried: list[str]
) -> PackageRecord:
    """Fallback 3: the metadata inside the artifact itself, its hash checked.

    The artifact is read whole (its sha256 is what ties it to the lock) but
    only the metadata extracted from it is cached, so the cache does not
    grow by the size of every wheel without a ``.metadata`` file.
    """
    url = urldefrag(chosen.url)[0]
    cap = ARTIFACT_MAX_BYTES
    if chosen.sha256 is None:
        tried.append(f"{url}: the listing states no sha256 to check the file by")
        raise FetchError(url, _joined(tried, "no license metadata"))
    if chosen.size is not None and chosen.size > cap:
        tried.append(f"the artifact is {chosen.size:,} bytes, over the {cap:,}-byte cap")
        raise FetchError(url, _joined(tried, "no license metadata"))
    kept = fetcher.cache.get(url, _EXTRACTED) if fetcher.cache is not None else None
    if kept is not None and kept.etag == chosen.sha256:
        return _record(wanted, license_fields(kept.body, url, wanted), kept, chosen, digest)
    try:
        fetched = fetcher.get(url, immutable=True, sha256=chosen.sha256, limit=cap, store=False)
    except FetchError as exc:
        tried.append(f"artifact {exc.reason}")
        raise FetchError(url, _joined(tried, "no license metadata")) from None
    data = _metadata_inside(fetched.body, chosen, wanted)
    if data is None:
        raise FetchError(url, f"{chosen.filename} holds no METADATA or PKG-INFO")
    extracted = Fetched(fetched.url, data, _EXTRACTED, fetched.fetched, etag=chosen.sha256)
    if fetcher.cache is not None:
        fetcher.cache.put(url, _EXTRACTED, extracted)
    return _record(wanted, license_fields(data, url, wanted), extracted, chosen, digest)


def _metadata_inside(body: bytes, chosen: _File, wanted: Wanted) -> bytes | None:
    project = canonicalize_name(wanted.name)
    try:
        if chosen.wheel or chosen.filename.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                names = archive.namelist()
                wanted_end = "METADATA" if chosen.wheel else "PKG-INFO"
                for member in names:
                    parts = member.split("/")
                    top = parts[0]
                    if len(parts) != 2 or parts[1] != wanted_end:
                        continue
                    if chosen.wheel and not top.endswith(".dist-info"):
                        continue
                    if canonicalize_name(top.split("-", 1)[0]) == project or not chosen.wheel:
                        return archive.read(member)[: 1 << 22]
            return None
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            for info in archive:
                parts = info.name.split("/")
                if len(parts) == 2 and parts[1] == "PKG-INFO" and info.isfile():
                    handle = archive.extractfile(info)
                    return handle.read(1 << 22) if handle is not None else None
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
        return None
    return None


# --------------------------------------------------------------------------- metadata


def license_fields(data: bytes, url: str, wanted: Wanted) -> LicenseFields:
    """The license fields of a core-metadata file, which must describe ``wanted``."""
    message = email.message_from_string(data.decode("utf-8", "replace"))
    name, version = message.get("Name"), message.get("Version")
    if not message.get("Metadata-Version") or not name or not version:
        raise FetchError(url, "is not core metadata (no Metadata-Version, Name or Version)")
    if canonicalize_name(str(name)) != canonicalize_name(wanted.name) or not _same_version(
        str(version), wanted.version
    ):
        raise FetchError(
            url, f"the metadata describes {name} {version}, not {wanted.name} {wanted.version}"
        )
    return LicenseFields(
        license_expression=_text(message.get("License-Expression")),
        license=_text(message.get("License")),
        classifiers=_licence_classifiers(message.get_all("Classifier")),
        license_files=_strings(message.get_all("License-File")),
    )


def _record(
    wanted: Wanted, fields: LicenseFields, fetched: Fetched, chosen: _File, digest: str | None
) -> PackageRecord:
    return PackageRecord(
        ecosystem=Ecosystem.PYPI,
        name=wanted.name,
        version=wanted.version,
        fields=fields,
        url=strip_credentials(fetched.url),
        retrieved=fetched.fetched,
        artifact=chosen.filename,
        digest=digest,
    )


def _same_version(found: str, wanted: str) -> bool:
    try:
        return Version(found) == Version(wanted)
    except InvalidVersion:
        return found.strip() == wanted.strip()


def _text(value: Any) -> str | None:
    if type(value) is not str:
        return None
    value = value.strip()
    return value or None


def _strings(value: Any) -> tuple[str, ...]:
    if type(value) is not list:
        return ()
    return tuple(s.strip() for s in value if type(s) is str and s.strip())


def _licence_classifiers(value: Any) -> tuple[str, ...]:
    return tuple(c for c in _strings(value) if c.startswith("License ::"))


def _joined(tried: list[str], what: str) -> str:
    return f"{what}: " + "; ".join(tried) if tried else what
