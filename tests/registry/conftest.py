"""Fixtures of the resolver's tests: a registry on 127.0.0.1 and a quick client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.registry.cache import Cache, Fetcher
from checker.registry.http import HttpClient
from tests.registry.server import RegistryServer


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[HttpClient]:
    """Short timeout and backoff, so failure tests take tenths of a second."""
    http = HttpClient(timeout=0.5, attempts=3, backoff=0.01, environ={})
    try:
        yield http
    finally:
        http.close()


@pytest.fixture
def fetcher(client: HttpClient, tmp_path: Path) -> Fetcher:
    return Fetcher(client, Cache(tmp_path / "cache"), offline=False)


def pytest_configure(config: pytest.Config) -> None:
    # registered here, beside the only tests that use it: deselect with -m "not online"
    config.addinivalue_line(
        "markers", "online: asks the real package index (skipped when it cannot be reached)"
    )
