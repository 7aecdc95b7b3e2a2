"""Shared fixtures.

``store_factory`` is the seam for the conformance suite: it is parametrized over the
backends available in this build (SQLite in memory and on disk). The PostgreSQL adapter
adds one more parameter here and the suite runs unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rune.storage import StoragePort, make_storage

StoreFactory = Callable[[], StoragePort]


@pytest.fixture(params=["sqlite-memory", "sqlite-file"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Return a function that opens a store on one shared database per test."""
    opened: list[StoragePort] = []
    if request.param == "sqlite-memory":
        first = make_storage("sqlite:///:memory:", env={})
        opened.append(first)

        def factory() -> StoragePort:
            # A memory database is private to its store object; hand out the same one.
            return first
    else:
        url = f"sqlite://{tmp_path}/conformance.db"

        def factory() -> StoragePort:
            store = make_storage(url, env={})
            opened.append(store)
            return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> StoragePort:
    return store_factory()


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without RUNE_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNE_")}
    env.update(extra)
    return env


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``rune`` in a subprocess (``python -m rune.cli``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "rune.cli", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs file systems (needs root); skip the test when mounting is denied."""
    mounts: list[Path] = []

    def mount(size: str = "64k", readonly: bool = False) -> Path:
        point = tmp_path / f"mnt{len(mounts)}"
        point.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount tmpfs ({result.stderr.strip() or 'not root?'})")
        mounts.append(point)
        return point

    yield mount
    for point in reversed(mounts):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
