"""The registry HTTP client: retries, timeouts, caps, gzip, redirects, credentials, proxies."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.registry.http import FetchError, HttpClient, ca_bundle
from tests.registry.server import RegistryServer, Reply, self_signed


def test_a_500_then_200_is_retried_and_succeeds(
    registry: RegistryServer, client: HttpClient
) -> None:
    registry.set("/x", Reply(500), Reply(503), Reply(200, b"ok"))
    assert client.get(f"{registry.url}/x").body == b"ok"
    assert registry.hits["/x"] == 3


def test_always_500_fails_after_the_attempts_in_one_line(
    registry: RegistryServer, client: HttpClient
) -> None:
    registry.set("/x", Reply(500))
    with pytest.raises(FetchError) as caught:
        client.get(f"{registry.url}/x")
    assert registry.hits["/x"] == 3
    assert str(caught.value) == (f"HTTP 500 Internal Server Error (3 attempts) ({registry.url}/x)")


def test_a_404_is_final_at_once(registry: RegistryServer, client: HttpClient) -> None:
    with pytest.raises(FetchError) as caught:
        client.get(f"{registry.url}/missing")
    assert caught.value.status == 404
    assert registry.hits["/missing"] == 1


def test_a_429_honours_retry_after(registry: RegistryServer, client: HttpClient) -> None:
    registry.set("/x", Reply(429, headers=(("Retry-After", "1"),)), Reply(200, b"ok"))
    started = time.monotonic()
    assert client.get(f"{registry.url}/x").body == b"ok"
    assert time.monotonic() - started >= 0.9


def test_a_slow_response_times_out_and_says_so(
    registry: RegistryServer, client: HttpClient
) -> None:
    registry.set("/slow", Reply(200, b"late", delay=2.0))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        client.get(f"{registry.url}/slow")
    assert "timed out after 0.5 s (3 attempts)" in caught.value.reason
    assert time.monotonic() - started < 4


def test_a_refused_connection_is_one_line(client: HttpClient) -> None:
    with pytest.raises(FetchError) as caught:
        client.get("http://127.0.0.1:9/simple/x/")  # the discard port: nothing listens
    assert caught.value.reason.startswith("connection failed")
    assert "\n" not in str(caught.value)


def test_responses_over_the_cap_are_refused(registry: RegistryServer) -> None:
    small = HttpClient(max_bytes=1000, attempts=1, environ={})
    registry.set("/big", Reply(200, b"x" * 5000))
    with pytest.raises(FetchError, match="over the 1,000-byte cap"):
        small.get(f"{registry.url}/big")
    # a gzip bomb is stopped while it is inflated, not after
    registry.set("/bomb", Reply(200, b"\0" * 200_000, gzip=True))
    with pytest.raises(FetchError, match="once decompressed"):
        small.get(f"{registry.url}/bomb")
    small.close()


def test_gzip_is_accepted(registry: RegistryServer, client: HttpClient) -> None:
    registry.set("/z", Reply(200, b'{"a": 1}' * 100, gzip=True))
    assert client.get(f"{registry.url}/z").body == b'{"a": 1}' * 100
    assert registry.requests[-1][1]["accept-encoding"] == "gzip"


def test_redirects_are_followed_and_the_final_url_kept(
    registry: RegistryServer, client: HttpClient
) -> None:
    registry.set("/simple/Requests/", Reply(301, headers=(("Location", "/simple/requests/"),)))
    registry.set("/simple/requests/", Reply(200, b"page"))
    response = client.get(f"{registry.url}/simple/Requests/")
    assert response.body == b"page"
    assert response.url == f"{registry.url}/simple/requests/"


def test_url_credentials_become_basic_auth_and_are_masked_in_errors(
    registry: RegistryServer, client: HttpClient
) -> None:
    registry.set("/private", Reply(200, b"ok"))
    host = registry.url.removeprefix("http://")
    client.get(f"http://user:s3cret@{host}/private")
    assert registry.requests[-1][1]["authorization"] == "Basic dXNlcjpzM2NyZXQ="
    with pytest.raises(FetchError) as caught:
        client.get(f"http://user:s3cret@{host}/nothing")
    assert "s3cret" not in str(caught.value)
    assert f"user:***@{host}" in str(caught.value)


def test_a_keep_alive_connection_is_reused(registry: RegistryServer, client: HttpClient) -> None:
    registry.set("/a", Reply(200, b"a"))
    for _ in range(5):
        client.get(f"{registry.url}/a")
    pool = client._pool()
    assert len(pool.open) == 1


def test_a_plain_http_proxy_is_sent_the_absolute_url(registry: RegistryServer) -> None:
    registry.set("/via-proxy", Reply(200, b"proxied"))
    proxied = HttpClient(attempts=1, environ={"http_proxy": registry.url})
    try:
        response = proxied.get("http://index.example.invalid/via-proxy")
    finally:
        proxied.close()
    assert response.body == b"proxied"
    assert registry.requests[-1][1]["host"] == "index.example.invalid"


def test_no_proxy_exempts_a_host(registry: RegistryServer) -> None:
    registry.set("/direct", Reply(200, b"direct"))
    env = {"http_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"}
    direct = HttpClient(attempts=1, environ=env)
    try:
        assert direct.get(f"{registry.url}/direct").body == b"direct"
    finally:
        direct.close()


def test_ca_bundle_variables_in_pip_order() -> None:
    assert ca_bundle({"SSL_CERT_FILE": "/c", "REQUESTS_CA_BUNDLE": "/b"}) == "/b"
    assert ca_bundle({"PIP_CERT": "/a", "REQUESTS_CA_BUNDLE": "/b"}) == "/a"
    assert ca_bundle({}) is None


def test_a_ca_bundle_that_cannot_be_loaded_is_one_line() -> None:
    broken = HttpClient(cafile="/nonexistent/ca.pem", attempts=1, environ={})
    with pytest.raises(
        FetchError, match=r"CA bundle /nonexistent/ca.pem cannot be loaded"
    ) as caught:
        broken.get("https://127.0.0.1:9/x")
    assert caught.value.url == "https://127.0.0.1:9/x"


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[RegistryServer, str]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = self_signed(tmp_path)
    with RegistryServer(certificate=(cert, key)) as server:
        yield server, cert


def test_tls_is_verified_against_the_ca_bundle_pip_cert_names(
    tls_registry: tuple[RegistryServer, str],
) -> None:
    server, cert = tls_registry
    server.set("/secure", Reply(200, b"trusted"))
    untrusted = HttpClient(attempts=1, environ={})
    with pytest.raises(FetchError) as caught:
        untrusted.get(f"{server.url}/secure")
    assert caught.value.reason.startswith("TLS certificate not trusted")
    assert "PIP_CERT" in caught.value.reason
    trusted = HttpClient(attempts=1, environ={"PIP_CERT": cert})
    try:
        assert trusted.get(f"{server.url}/secure").body == b"trusted"
    finally:
        trusted.close()
        untrusted.close()
