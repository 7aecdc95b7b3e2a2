"""PyPI look-ups against a local index serving real distributions' METADATA."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from checker.evidence.records import Ecosystem, Wanted
from checker.model import Origin
from checker.registry import pypi
from checker.registry.cache import Fetcher
from checker.registry.http import FetchError
from tests.registry.server import (
    SIMPLE_JSON,
    Published,
    RegistryServer,
    Reply,
    installed_metadata,
    json_api_reply,
    sha256,
)

ORIGIN = Origin("uv.lock", "line 1")


def wanted(published: Published, *digests: str) -> Wanted:
    return Wanted(Ecosystem.PYPI, published.name, published.version, digests, ORIGIN)


def with_license_expression() -> bytes:
    """METADATA of an installed PEP 639 distribution (packaging declares License-Expression)."""
    for name in ("packaging", "attrs", "pytest", "click"):
        try:
            data = installed_metadata(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if b"\nLicense-Expression:" in data:
            return data
    pytest.skip("no installed distribution declares License-Expression")


def classifiers_only() -> bytes:
    """METADATA of an installed distribution whose only license statement is a classifier."""
    for dist in importlib.metadata.distributions():
        md = dist.metadata
        classifiers = [c for c in md.get_all("Classifier") or [] if c.startswith("License ::")]
        if classifiers and not md["License"] and not md["License-Expression"]:
            text = dist.read_text("METADATA")
            if text:
                return text.encode()
    pytest.skip("no installed distribution states its license only as a classifier")


def test_pinned_wheel_metadata_is_read_and_its_hash_checked(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    record = pypi.lookup(wanted(requests, requests.digest), registry.index_url, fetcher)
    expected = importlib.metadata.distribution("requests").metadata
    assert record.fields.license == expected["License"]
    assert record.fields.license_expression is None
    assert record.fields.classifiers == tuple(
        c for c in expected.get_all("Classifier") or [] if c.startswith("License ::")
    )
    assert record.fields.license_files == tuple(expected.get_all("License-File") or [])
    assert (record.artifact, record.digest) == (requests.wheel, requests.digest)
    # the relative file URL of the listing is resolved against the page
    assert record.url == f"{registry.url}/files/{requests.wheel}.metadata"
    assert registry.hits[requests.page] == 1


def test_license_expression_and_classifier_only_distributions(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    pep639 = registry.publish_pypi(with_license_expression())
    record = pypi.lookup(wanted(pep639, pep639.digest), registry.index_url, fetcher)
    expected = importlib.metadata.distribution(pep639.name).metadata
    assert record.fields.license_expression == expected["License-Expression"]
    old = registry.publish_pypi(classifiers_only())
    record = pypi.lookup(wanted(old), registry.index_url, fetcher)
    assert record.fields.license is None and record.fields.license_expression is None
    assert record.fields.classifiers and all(
        c.startswith("License ::") for c in record.fields.classifiers
    )


def test_without_pinned_digests_the_universal_wheel_of_that_version_is_read(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"), other_versions=("1.0",))
    record = pypi.lookup(wanted(requests), registry.index_url, fetcher)
    # not the 1.0 wheel listed first; the digest names the file that was read
    assert record.artifact == requests.wheel
    assert record.digest == requests.digest


def test_metadata_whose_hash_differs_from_the_listing_is_a_failure(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    tampered = requests.metadata.replace(b"Apache", b"Apathy")
    registry.set(f"/files/{requests.wheel}.metadata", Reply(200, tampered, "text/plain"))
    with pytest.raises(FetchError) as caught:
        pypi.lookup(wanted(requests, requests.digest), registry.index_url, fetcher)
    assert "hash mismatch" in caught.value.reason
    assert caught.value.url == f"{registry.url}/files/{requests.wheel}.metadata"
    assert requests.metadata_sha256 in caught.value.reason


def test_a_lock_hash_the_index_does_not_list_is_a_failure(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    with pytest.raises(FetchError) as caught:
        pypi.lookup(wanted(requests, "sha256:" + "0" * 64), registry.index_url, fetcher)
    assert "not the one published" in caught.value.reason
    assert caught.value.url == registry.url + requests.page


def test_a_project_without_the_pinned_version_is_a_failure(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    gone = Wanted(Ecosystem.PYPI, requests.name, "99.0", (), ORIGIN)
    with pytest.raises(FetchError) as caught:
        pypi.lookup(gone, registry.index_url, fetcher)
    assert "no file of version 99.0" in caught.value.reason


def test_an_unknown_project_is_a_404_failure_naming_its_page(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    missing = Wanted(Ecosystem.PYPI, "No_Such.Project", "1.0", (), ORIGIN)
    with pytest.raises(FetchError) as caught:
        pypi.lookup(missing, registry.index_url, fetcher)
    assert caught.value.status == 404
    # the page of the PEP 503 normalized name was asked
    assert caught.value.url == f"{registry.index_url}/no-such-project/"


def test_malformed_page_json_is_a_failure(registry: RegistryServer, fetcher: Fetcher) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    registry.set(requests.page, Reply(200, b'{"files": [', SIMPLE_JSON))
    with pytest.raises(FetchError) as caught:
        pypi.lookup(wanted(requests), registry.index_url, fetcher)
    assert caught.value.reason.startswith("malformed PEP 691 JSON")


def test_unadvertised_metadata_falls_back_to_the_json_api(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"), advertise=False, json_api=True)
    record = pypi.lookup(wanted(requests, requests.digest), registry.index_url, fetcher)
    assert record.url == f"{registry.url}/pypi/requests/{requests.version}/json"
    assert record.fields.license == importlib.metadata.distribution("requests").metadata["License"]
    assert (record.artifact, record.digest) == (requests.wheel, requests.digest)


def test_an_html_only_index_is_read_through_the_json_api(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"), json_api=True)
    registry.set(requests.page, Reply(200, b"<html><body></body></html>", "text/html"))
    record = pypi.lookup(wanted(requests, requests.digest), registry.index_url, fetcher)
    assert record.url.endswith(f"/pypi/requests/{requests.version}/json")
    # without a listing, the JSON API's own digests are checked against the lock's
    assert (record.artifact, record.digest) == (requests.wheel, requests.digest)
    with pytest.raises(FetchError, match="not the one published"):
        pypi.lookup(wanted(requests, "sha256:" + "1" * 64), registry.index_url, fetcher)


def test_without_json_api_the_unadvertised_metadata_then_the_wheel_is_read(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    served = registry.publish_pypi(installed_metadata("requests"), advertise=False)
    record = pypi.lookup(wanted(served, served.digest), registry.index_url, fetcher)
    assert record.url.endswith(".whl.metadata")
    bare = registry.publish_pypi(with_license_expression(), advertise=False, metadata_served=False)
    record = pypi.lookup(wanted(bare, bare.digest), registry.index_url, fetcher)
    assert record.url == f"{registry.url}/files/{bare.wheel}"
    assert record.fields.license_expression is not None
    # a wheel whose bytes do not match the listing's hash is refused
    registry.set(f"/files/{bare.wheel}", Reply(200, b"not the wheel", "application/zip"))
    fresh = Fetcher(fetcher.client, None, offline=False)
    with pytest.raises(FetchError, match="hash mismatch"):
        pypi.lookup(wanted(bare, bare.digest), registry.index_url, fresh)


def test_a_wheel_over_the_cap_is_read_from_the_project_json_of_its_version(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    """Playwright's case: no ``.metadata``, no per-version document, wheels over the cap."""
    served = registry.publish_pypi(
        installed_metadata("requests"), advertise=False, metadata_served=False
    )
    project = f"/pypi/{served.name.lower()}/json"
    registry.set(project, json_api_reply(served.metadata, served.files[-1]))
    # within the cap the wheel itself is read: its metadata is checked by hash
    record = pypi.lookup(wanted(served, served.digest), registry.index_url, fetcher)
    assert record.url == f"{registry.url}/files/{served.wheel}"
    # the listing says the wheel is larger than the client reads (35-50 MB for playwright)
    entry = dict(served.files[-1], size=10**10)
    page = {"meta": {"api-version": "1.1"}, "name": "requests", "files": [entry]}
    registry.set(served.page, Reply(200, json.dumps(page).encode(), SIMPLE_JSON))
    fresh = Fetcher(fetcher.client, None, offline=False)
    record = pypi.lookup(wanted(served, served.digest), registry.index_url, fresh)
    assert record.url == f"{registry.url}{project}"
    license_text = importlib.metadata.distribution("requests").metadata["License"]
    assert record.fields.license == license_text
    assert (record.artifact, record.digest) == (served.wheel, served.digest)
    # a project document about a newer release is not this version's evidence
    newer = served.metadata.replace(f"Version: {served.version}".encode(), b"Version: 999.0", 1)
    registry.set(project, json_api_reply(newer, served.files[-1]))
    with pytest.raises(FetchError, match=r"describes version 999\.0"):
        pypi.lookup(wanted(served, served.digest), registry.index_url, fresh)


def test_metadata_of_another_release_is_refused(registry: RegistryServer, fetcher: Fetcher) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    other = installed_metadata("idna")
    entry = requests.files[-1]
    entry["core-metadata"] = {"sha256": sha256(other)}
    page = {"meta": {"api-version": "1.1"}, "name": "requests", "files": [entry]}
    registry.set(requests.page, Reply(200, json.dumps(page).encode(), SIMPLE_JSON))
    registry.set(f"/files/{requests.wheel}.metadata", Reply(200, other))
    with pytest.raises(FetchError, match="describes idna"):
        pypi.lookup(wanted(requests), registry.index_url, fetcher)


def test_a_pinned_hash_the_index_cannot_confirm_does_not_block_the_look_up(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    record = pypi.lookup(wanted(requests, "md5:" + "0" * 32), registry.index_url, fetcher)
    # the listing states only sha256: the md5 pin can be neither matched nor refuted
    assert (record.artifact, record.digest) == (requests.wheel, requests.digest)


def test_offline_follows_the_fallbacks_through_the_cache(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    """No JSON API: online, its 404 is not cached; offline, its miss must not end the chain."""
    served = registry.publish_pypi(installed_metadata("requests"), advertise=False)
    online = pypi.lookup(wanted(served, served.digest), registry.index_url, fetcher)
    offline = Fetcher(None, fetcher.cache, offline=True)
    assert pypi.lookup(wanted(served, served.digest), registry.index_url, offline) == online


def test_an_artifact_read_for_its_metadata_is_not_kept_only_what_it_holds(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    """A 60 MB wheel read once for its METADATA must not grow the cache by 60 MB."""
    bare = registry.publish_pypi(with_license_expression(), advertise=False, metadata_served=False)
    record = pypi.lookup(wanted(bare, bare.digest), registry.index_url, fetcher)
    wheel_url = f"{registry.url}/files/{bare.wheel}"
    assert record.url == wheel_url
    assert fetcher.cache is not None
    assert fetcher.cache.get(wheel_url, None) is None
    kept = fetcher.cache.get(wheel_url, pypi._EXTRACTED)
    assert kept is not None and kept.body.startswith(b"Metadata-Version")
    offline = Fetcher(None, fetcher.cache, offline=True)
    again = pypi.lookup(wanted(bare, bare.digest), registry.index_url, offline)
    assert again.fields == record.fields


def test_the_smallest_pinned_artifact_is_the_one_read(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    served = registry.publish_pypi(
        with_license_expression(), advertise=False, metadata_served=False
    )
    big = dict(
        served.files[-1], filename=served.wheel.replace("py3-none-any", "cp311-abi3-win_amd64")
    )
    big.update(size=60_000_000, url="../../files/huge.whl", hashes={"sha256": "f" * 64})
    page = {"meta": {"api-version": "1.1"}, "name": served.name, "files": [big, served.files[-1]]}
    registry.set(served.page, Reply(200, json.dumps(page).encode(), SIMPLE_JSON))
    registry.set("/files/huge.whl", Reply(500, b"must not be downloaded"))
    record = pypi.lookup(
        wanted(served, "sha256:" + "f" * 64, served.digest), registry.index_url, fetcher
    )
    assert record.url == f"{registry.url}/files/{served.wheel}"
    assert record.digest == served.digest
