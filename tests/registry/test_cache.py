"""The registry cache: immutable entries reused, mutable ones revalidated, corruption survived."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.registry.cache import Cache, Fetcher, default_cache_dir
from checker.registry.http import FetchError, HttpClient
from tests.registry.server import RegistryServer, Reply, sha256


def test_an_immutable_entry_is_reused_without_asking(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.set("/m", Reply(200, b"metadata"))
    first = fetcher.get(f"{registry.url}/m", immutable=True, sha256=sha256(b"metadata"))
    again = fetcher.get(f"{registry.url}/m", immutable=True, sha256=sha256(b"metadata"))
    assert first.body == again.body == b"metadata"
    assert registry.hits["/m"] == 1


def test_a_cached_entry_with_another_hash_is_fetched_again(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.set("/m", Reply(200, b"old"))
    fetcher.get(f"{registry.url}/m", immutable=True)
    registry.set("/m", Reply(200, b"new"))
    assert fetcher.get(f"{registry.url}/m", immutable=True, sha256=sha256(b"new")).body == b"new"
    assert registry.hits["/m"] == 2


def test_a_mutable_page_is_revalidated_with_its_etag(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.set("/page", Reply(200, b"listing", headers=(("ETag", '"v1"'),)))
    assert fetcher.get(f"{registry.url}/page").body == b"listing"
    assert fetcher.get(f"{registry.url}/page").body == b"listing"
    assert registry.hits["/page"] == 2
    assert registry.requests[-1][1]["if-none-match"] == '"v1"'


def test_a_corrupt_entry_is_ignored_and_refetched(
    registry: RegistryServer, fetcher: Fetcher, tmp_path: Path
) -> None:
    registry.set("/m", Reply(200, b"metadata"))
    url = f"{registry.url}/m"
    fetcher.get(url, immutable=True)
    assert fetcher.cache is not None
    entry = fetcher.cache.path(url, None)
    for garbage in (b"", b"not json\nbody", entry.read_bytes()[:-3], b'{"url": 1}\n'):
        entry.write_bytes(garbage)
        assert fetcher.get(url, immutable=True).body == b"metadata"
    assert registry.hits["/m"] == 5


def test_offline_uses_only_the_cache_and_names_each_miss(
    registry: RegistryServer, fetcher: Fetcher
) -> None:
    registry.set("/page", Reply(200, b"listing"))
    fetcher.get(f"{registry.url}/page")
    offline = Fetcher(None, fetcher.cache, offline=True)
    assert offline.get(f"{registry.url}/page").body == b"listing"
    with pytest.raises(FetchError) as caught:
        offline.get(f"{registry.url}/other")
    assert "run without --offline" in caught.value.reason
    assert caught.value.url == f"{registry.url}/other"
    assert registry.hits["/page"] == 1


def test_credentials_never_name_or_enter_an_entry(
    registry: RegistryServer, client: HttpClient, tmp_path: Path
) -> None:
    registry.set("/p", Reply(200, b"private"))
    cache = Cache(tmp_path / "c")
    host = registry.url.removeprefix("http://")
    Fetcher(client, cache, offline=False).get(f"http://u:token@{host}/p", immutable=True)
    assert cache.path(f"http://u:token@{host}/p", None) == cache.path(f"http://{host}/p", None)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert b"token" not in stored
    # the folder is marked as a cache, so backups and this gate's walk pass over it
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28")


def test_an_unwritable_cache_costs_only_a_refetch(
    registry: RegistryServer, client: HttpClient, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    fetcher = Fetcher(client, Cache(blocker / "cache"), offline=False)
    registry.set("/m", Reply(200, b"x"))
    assert fetcher.get(f"{registry.url}/m", immutable=True).body == b"x"


def test_default_cache_dir_follows_xdg() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/rune-policy/registry")
    assert default_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/rune-policy/registry")
