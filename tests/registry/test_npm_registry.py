"""npm look-ups against a local registry serving version documents shaped like the real ones."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from checker.evidence.records import Ecosystem, Wanted
from checker.lockfiles._common import sri_digests
from checker.model import Origin
from checker.registry import npm
from checker.registry.cache import Fetcher
from checker.registry.http import FetchError
from tests.registry.server import RegistryServer, Reply

ORIGIN = Origin("package-lock.json", '$.packages["node_modules/x"]')


def document(name: str, version: str, **fields: Any) -> dict[str, Any]:
    """A version document with the members the registry sends (license, dist, _id ...)."""
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "description": "test package",
        "main": "index.js",
        "repository": {"type": "git", "url": "git+ssh://git@example.invalid/x.git"},
        "maintainers": [{"name": "someone", "email": "someone@example.invalid"}],
    }
    doc.update(fields)
    return doc


def wanted(name: str, version: str, *digests: str) -> Wanted:
    return Wanted(Ecosystem.NPM, name, version, digests, ORIGIN)


def test_license_string_and_integrity_as_hex(registry: RegistryServer, fetcher: Fetcher) -> None:
    integrity = registry.publish_npm(document("left-pad", "1.3.0", license="WTFPL"))
    pins = sri_digests(integrity)
    record = npm.lookup(wanted("left-pad", "1.3.0", *pins), registry.npm_url, fetcher)
    assert record.fields.license == "WTFPL"
    assert record.digest == pins[0] and record.digest.startswith("sha512:")
    assert record.artifact == "left-pad-1.3.0.tgz"
    assert record.url == f"{registry.npm_url}/left-pad/1.3.0"


def test_a_scoped_name_is_asked_with_its_slash_encoded(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.publish_npm(document("@types/node", "20.0.0", license="MIT"))
    record = npm.lookup(wanted("@types/node", "20.0.0"), registry.npm_url, fetcher)
    assert record.fields.license == "MIT"
    assert registry.hits["/npm/@types%2Fnode/20.0.0"] == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"license": {"type": "MIT", "url": "http://example.invalid"}}, "MIT"),
        ({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}, "MIT OR Apache-2.0"),
        ({"license": ["BSD-3-Clause", {"type": "GPL-2.0"}]}, "BSD-3-Clause OR GPL-2.0"),
        ({}, None),
    ],
)
def test_legacy_license_forms(
    registry: RegistryServer, fetcher: Fetcher, fields: dict[str, Any], expected: str | None
) -> None:
    registry.publish_npm(document("legacy", "0.1.0", **fields))
    record = npm.lookup(wanted("legacy", "0.1.0"), registry.npm_url, fetcher)
    assert record.fields.license == expected


def test_an_integrity_the_registry_does_not_publish_is_a_failure(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.publish_npm(document("left-pad", "1.3.0", license="WTFPL"))
    other = "sha512-" + base64.b64encode(hashlib.sha512(b"another tarball").digest()).decode()
    with pytest.raises(FetchError) as caught:
        npm.lookup(wanted("left-pad", "1.3.0", *sri_digests(other)), registry.npm_url, fetcher)
    assert caught.value.reason.startswith("integrity mismatch")
    assert caught.value.url == f"{registry.npm_url}/left-pad/1.3.0"


def test_an_old_lock_sha1_is_compared_with_the_shasum(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.publish_npm(document("old", "1.0.0", license="ISC"), tarball=b"tarball bytes")
    sha1 = hashlib.sha1(b"tarball bytes").hexdigest()
    record = npm.lookup(wanted("old", "1.0.0", f"sha1:{sha1}"), registry.npm_url, fetcher)
    assert record.digest == f"sha1:{sha1}"
    with pytest.raises(FetchError, match="integrity mismatch"):
        npm.lookup(wanted("old", "1.0.0", "sha1:" + "0" * 40), registry.npm_url, fetcher)


def test_unknown_version_wrong_version_and_malformed_json(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    with pytest.raises(FetchError) as caught:
        npm.lookup(wanted("left-pad", "9.9.9"), registry.npm_url, fetcher)
    assert caught.value.status == 404 and caught.value.url.endswith("/left-pad/9.9.9")
    registry.set("/npm/shifty/1.0.0", Reply(200, b'{"name": "shifty", "version": "2.0.0"}'))
    with pytest.raises(FetchError, match=r"answered version '2\.0\.0'"):
        npm.lookup(wanted("shifty", "1.0.0"), registry.npm_url, fetcher)
    registry.set("/npm/broken/1.0.0", Reply(200, b'{"name": "broken", '))
    with pytest.raises(FetchError, match="malformed JSON"):
        npm.lookup(wanted("broken", "1.0.0"), registry.npm_url, fetcher)
