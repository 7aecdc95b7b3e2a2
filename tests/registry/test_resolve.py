"""What to look up (wanted_from) and the whole resolve: records, failures, cache, offline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from checker.errors import UsageError
from checker.evidence.records import Ecosystem, Wanted
from checker.lockfiles import read_lockfile
from checker.model import Component, Origin, ReadResult
from checker.registry import Failure, IndexConfig, resolve, stderr_progress, wanted_from
from checker.registry.http import HttpClient
from checker.registry.indexes import IndexSetting
from checker.sources import read_file
from tests.helpers import corpus_file
from tests.registry.server import RegistryServer, Reply, installed_metadata

UV_LOCK = ("lockfiles", "full-stack-fastapi-template_2026", "uv.lock")
POETRY_LOCK = ("lockfiles", "full-stack-fastapi-template_2024", "poetry.lock")
PIPFILE_LOCK = ("lockfiles", "trivy-ci-test", "Pipfile.lock")
NPM_LOCK = ("lockfiles", "full-stack-fastapi-template_2026-frontend", "package-lock.json")
WAREHOUSE = ("lockfiles", "pypi-warehouse", "requirements", "main.txt")


def read(*parts: str) -> ReadResult:
    return read_file(corpus_file(*parts))


# --------------------------------------------------------------------------- wanted_from


def test_uv_lock_wants_every_index_package_with_its_hashes() -> None:
    result = read(*UV_LOCK)
    wanted, problems = wanted_from([result])
    assert problems == []
    # 81 packages, less the project itself (source = editable)
    assert len(wanted) == 80
    assert "app" not in {w.name for w in wanted}
    assert all(w.ecosystem is Ecosystem.PYPI and w.digests for w in wanted)
    psycopg = next(w for w in wanted if w.name == "psycopg")
    assert psycopg.version == "3.3.4"
    assert all(d.startswith("sha256:") and len(d) == 71 for d in psycopg.digests)
    assert wanted == sorted(wanted, key=lambda w: w.key)


@pytest.mark.parametrize("parts", [POETRY_LOCK, PIPFILE_LOCK, WAREHOUSE])
def test_python_locks_pin_sha256_digests(parts: tuple[str, ...]) -> None:
    result = read(*parts)
    wanted, problems = wanted_from([result])
    assert problems == []
    assert wanted and all(w.ecosystem is Ecosystem.PYPI for w in wanted)
    hashed = [w for w in wanted if w.digests]
    assert len(hashed) == len(wanted)
    assert all(d.startswith("sha256:") for w in hashed for d in w.digests)


def test_npm_lock_wants_npm_packages_with_sha512_integrity() -> None:
    result = read(*NPM_LOCK)
    wanted, problems = wanted_from([result])
    assert problems == []
    assert wanted and all(w.ecosystem is Ecosystem.NPM for w in wanted)
    assert sum(1 for w in wanted if any(d.startswith("sha512:") for d in w.digests)) > 0.9 * len(
        wanted
    )
    scoped = [w for w in wanted if w.name.startswith("@")]
    assert scoped and all("/" in w.name for w in scoped)


def test_same_release_in_two_locks_is_asked_once_with_both_hashes() -> None:
    first = ReadResult("a/requirements.txt", "requirements")
    second = ReadResult("b/requirements.txt", "requirements")
    for result, digest in ((first, "sha256:" + "a" * 64), (second, "sha256:" + "b" * 64)):
        result.components.append(
            Component(
                "Django",
                Origin(result.path, "line 1"),
                "5.0",
                "pkg:pypi/django@5.0",
                digests=(digest,),
            )
        )
    wanted, _ = wanted_from([first, second])
    assert len(wanted) == 1
    assert wanted[0].digests == ("sha256:" + "a" * 64, "sha256:" + "b" * 64)
    assert wanted[0].origin == Origin("a/requirements.txt", "line 1")


def test_entries_not_from_an_index_and_invalid_names_are_not_asked(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(
        "version = 1\n"
        "[[package]]\n"
        'name = "from-git"\nversion = "0.1.0"\n'
        'source = { git = "https://git.example.invalid/x.git?rev=1#abc" }\n'
        "[[package]]\n"
        'name = "real"\nversion = "1.0"\n'
        'source = { registry = "https://mirror.example.invalid/simple" }\n'
        "[[package]]\n"
        'name = "-bad name-"\nversion = "1.0"\n'
        'source = { registry = "https://mirror.example.invalid/simple" }\n'
    )
    result = read_lockfile("uv-lock", lock, lock.read_bytes())
    wanted, problems = wanted_from([result])
    assert [w.name for w in wanted] == ["real"]
    assert len(problems) == 1
    assert problems[0].location == "line 10"
    assert "'-bad name-' is not a valid PyPI package name" in problems[0].message


def test_unpinned_entries_are_left_to_the_readers_notes(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("flask>=2\nrequests==2.32.3 --hash=sha256:" + "A" * 64 + "\n")
    wanted, problems = wanted_from([read_file(req)])
    assert [(w.name, w.digests) for w in wanted] == [("requests", ("sha256:" + "a" * 64,))]
    assert problems == []


# --------------------------------------------------------------------------- resolve


def config(registry: RegistryServer) -> IndexConfig:
    return IndexConfig(
        pypi=IndexSetting(registry.index_url, "test"), npm=IndexSetting(registry.npm_url, "test")
    )


def origin() -> Origin:
    return Origin("lock", "line 1")


def test_resolve_gives_sorted_records_and_one_line_failures(
    registry: RegistryServer, client: HttpClient, tmp_path: Path
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    idna = registry.publish_pypi(installed_metadata("idna"))
    integrity = registry.publish_npm({"name": "left-pad", "version": "1.3.0", "license": "WTFPL"})
    registry.set("/simple/flaky/", Reply(500))
    registry.set("/simple/slow/", Reply(200, b"{}", delay=2.0))
    wanted = [
        Wanted(Ecosystem.PYPI, requests.name, requests.version, (requests.digest,), origin()),
        Wanted(Ecosystem.PYPI, idna.name, idna.version, (), origin()),
        Wanted(Ecosystem.NPM, "left-pad", "1.3.0", (), origin()),
        Wanted(Ecosystem.PYPI, "flaky", "1.0", (), origin()),
        Wanted(Ecosystem.PYPI, "slow", "1.0", (), origin()),
        Wanted(Ecosystem.PYPI, "absent", "1.0", (), origin()),
    ]
    seen: list[tuple[int, int]] = []
    outcome = resolve(
        wanted,
        config(registry),
        cache_dir=tmp_path / "cache",
        jobs=4,
        client=client,
        progress=lambda done, total, label: seen.append((done, total)),
    )
    assert [(r.ecosystem, r.name) for r in outcome.records] == [
        (Ecosystem.NPM, "left-pad"),
        (Ecosystem.PYPI, idna.name),
        (Ecosystem.PYPI, "requests"),
    ]
    assert integrity.startswith("sha512-") and outcome.records[0].digest is not None
    assert sorted(seen) == [(i, 6) for i in range(1, 7)]
    failures = {f.name: f for f in outcome.failures}
    assert sorted(failures) == ["absent", "flaky", "slow"]
    for failure in outcome.failures:
        line = str(failure)
        assert "\n" not in line
        assert line.startswith(f"pypi {failure.name} 1.0: ")
        assert line.endswith(f"({registry.index_url}/{failure.name}/)")
    assert "HTTP 404" in failures["absent"].reason
    assert "HTTP 500" in failures["flaky"].reason
    assert "timed out" in failures["slow"].reason


def test_a_second_run_is_served_by_the_cache_and_offline_works(
    registry: RegistryServer, client: HttpClient, tmp_path: Path
) -> None:
    requests = registry.publish_pypi(installed_metadata("requests"))
    wanted = [Wanted(Ecosystem.PYPI, "requests", requests.version, (requests.digest,), origin())]
    cache = tmp_path / "cache"
    first = resolve(wanted, config(registry), cache_dir=cache, client=client)
    metadata = f"/files/{requests.wheel}.metadata"
    assert registry.hits[metadata] == 1
    again = resolve(wanted, config(registry), cache_dir=cache, client=client)
    assert again == first
    assert registry.hits[metadata] == 1  # immutable: not asked again
    before = sum(registry.hits.values())
    offline = resolve(wanted, config(registry), cache_dir=cache, offline=True)
    assert offline == first
    assert sum(registry.hits.values()) == before
    missing = [Wanted(Ecosystem.PYPI, "other", "1.0", (), origin())]
    failed = resolve(missing, config(registry), cache_dir=cache, offline=True)
    assert failed.records == []
    assert "run without --offline" in failed.failures[0].reason


def test_eight_workers_give_the_same_outcome_as_one(
    registry: RegistryServer, client: HttpClient, tmp_path: Path
) -> None:
    names = ["requests", "idna", "urllib3", "certifi", "packaging", "pytest", "attrs"]
    wanted = []
    for name in names:
        published = registry.publish_pypi(installed_metadata(name))
        wanted.append(Wanted(Ecosystem.PYPI, published.name, published.version, (), origin()))
    serial = resolve(wanted, config(registry), jobs=1, client=client, use_cache=False)
    parallel = resolve(wanted, config(registry), jobs=8, client=client, use_cache=False)
    assert serial == parallel
    assert len(serial.records) == len(names) and not serial.failures


def test_an_ecosystem_without_an_index_is_a_usage_error_before_any_request(
    registry: RegistryServer,
) -> None:
    only_pypi = IndexConfig(pypi=IndexSetting(registry.index_url, "test"))
    wanted = [Wanted(Ecosystem.NPM, "left-pad", "1.3.0", (), origin())]
    with pytest.raises(UsageError, match="--npm-registry"):
        resolve(wanted, only_pypi)
    assert sum(registry.hits.values()) == 0


def test_failure_names_package_and_url() -> None:
    failure = Failure(Ecosystem.NPM, "@s/p", "1.0.0", "https://r/@s%2fp/1.0.0", "HTTP 404")
    assert str(failure) == "npm @s/p 1.0.0: HTTP 404 (https://r/@s%2fp/1.0.0)"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    assert stderr_progress(io.StringIO()) is None
    out = _Tty()
    draw = stderr_progress(out)
    assert draw is not None
    draw(1, 2, "requests 2.32.3")
    draw(2, 2, "idna 3.10")
    text = out.getvalue()
    assert "\r[" in text and "1/2 requests 2.32.3" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_an_unreachable_index_is_said_once_and_not_asked_for_every_package(
    tmp_path: Path,
) -> None:
    """A typo in --index-url must not cost a timeout per package, nor 200 identical lines."""
    import socket

    from checker.registry import NOT_ASKED, UNREACHABLE_AFTER

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = IndexConfig(pypi=IndexSetting(f"http://127.0.0.1:{port}/simple", "--index-url"))
    wanted = [
        Wanted(Ecosystem.PYPI, f"pkg{i}", "1.0", (), Origin("uv.lock", f"line {i}"))
        for i in range(40)
    ]
    client = HttpClient(timeout=0.5, attempts=1, backoff=0.0, environ={})
    try:
        outcome = resolve(wanted, dead, cache_dir=tmp_path / "cache", jobs=1, client=client)
    finally:
        client.close()
    assert outcome.records == []
    assert len(outcome.failures) == 40  # every release is still a failure: nothing passes
    asked = [f for f in outcome.failures if f.reason != NOT_ASKED]
    assert len(asked) == UNREACHABLE_AFTER
    assert list(outcome.unreachable) == [Ecosystem.PYPI]
    assert "connection" in outcome.unreachable[Ecosystem.PYPI].lower()
