"""Asking package registries for the licenses lockfiles do not state.

``rune-policy evidence resolve`` calls two functions:

* :func:`wanted_from` turns lockfile read results into the releases to look
  up (:class:`~checker.evidence.records.Wanted`): entries with a PyPI or npm
  purl and an exact version, once per release (the digests of every entry
  of that release joined), never the project itself, and never an entry
  whose reader noted that it does not come from an index (git, URL and path
  sources name no published release: looking their name up would read
  another project's license). A name that is no valid package name is a
  :class:`~checker.errors.Problem`, not a request.
* :func:`resolve` looks each release up (:mod:`checker.registry.pypi`,
  :mod:`checker.registry.npm`) on the index the user's installer
  configuration names (:mod:`checker.registry.indexes`), with bounded
  concurrency (:mod:`checker.registry.http`) behind a local cache
  (:mod:`checker.registry.cache`), and returns the records found and one
  :class:`Failure` per release without evidence, both sorted, so two runs
  over the same locks and registry give the same file.

Nothing here writes the evidence file or decides a verdict: that is
:mod:`checker.evidence`'s, over the shared records of
:mod:`checker.evidence.records`.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from packageurl import PackageURL

from checker.errors import Problem, UsageError
from checker.evidence.records import Ecosystem, PackageRecord, ReleaseKey, Wanted, release_key
from checker.lockfiles._common import OFF_INDEX, OFF_REGISTRY
from checker.model import Component, ReadResult
from checker.readers import Family, by_name
from checker.registry import npm, pypi
from checker.registry.cache import Cache, Fetcher, default_cache_dir
from checker.registry.http import FetchError, HttpClient, ca_bundle
from checker.registry.indexes import IndexConfig, index_config, mask_url

__all__ = [
    "DEFAULT_JOBS",
    "Failure",
    "IndexConfig",
    "Outcome",
    "Progress",
    "index_config",
    "resolve",
    "stderr_progress",
    "wanted_from",
]

#: Concurrent requests by default: enough to hide latency, few enough for any registry.
DEFAULT_JOBS = 8

#: ``progress(done, total, label)``, called after each release is looked up.
Progress = Callable[[int, int, str], None]

_ECOSYSTEMS = {"pypi": Ecosystem.PYPI, "npm": Ecosystem.NPM}
#: Lockfile formats whose entries are npm packages; every other lockfile names PyPI ones.
_NPM_FORMATS = frozenset({"npm-lock"})
_PYPI_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
# npm's validate-npm-package-name, legacy names (upper case) included
_NPM_PART = r"[A-Za-z0-9~-][A-Za-z0-9._~!'()*-]*"
_NPM_NAME = re.compile(rf"^(?:@{_NPM_PART}/)?{_NPM_PART}$")
_NPM_MAX = 214


@dataclass(frozen=True, slots=True)
class Failure:
    """A release the registry gave no evidence for: which, where asked, and why (one line)."""

    ecosystem: Ecosystem
    name: str
    version: str
    url: str
    reason: str

    @property
    def key(self) -> ReleaseKey:
        return release_key(self.ecosystem, self.name, self.version)

    def __str__(self) -> str:
        return f"{self.ecosystem} {self.name} {self.version}: {self.reason} ({self.url})"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a resolve found: records and failures, each sorted by release key.

    ``unreachable`` names each index that answered nothing at all (every
    request a network failure, :data:`UNREACHABLE_AFTER` of them before the
    first success), with the first reason: the releases not asked after that
    are failures too, but a report says it once instead of once per package.
    """

    records: list[PackageRecord]
    failures: list[Failure]
    unreachable: dict[Ecosystem, str] = field(default_factory=dict)


#: Network failures (no HTTP answer) before any success that mark an index
#: unreachable: the rest of its releases are not asked.
UNREACHABLE_AFTER = 8
#: The reason given to releases not asked once their index proved unreachable.
NOT_ASKED = "not asked: the index could not be reached"


# --------------------------------------------------------------------------- what to ask


def wanted_from(results: Sequence[ReadResult]) -> tuple[list[Wanted], list[Problem]]:
    """The releases lockfile results pin, once each, and the entries that cannot be asked."""
    found: dict[ReleaseKey, Wanted] = {}
    problems: list[Problem] = []
    for result in results:
        off_index = {
            (note.origin.path, note.origin.location)
            for note in result.notes
            if OFF_INDEX in note.message or OFF_REGISTRY in note.message
        }
        for component in result.components:
            if component.is_subject or not component.version:
                continue
            if (component.origin.path, component.origin.location) in off_index:
                continue
            wanted = _wanted(component, result.format, problems)
            if wanted is None:
                continue
            known = found.get(wanted.key)
            if known is None:
                found[wanted.key] = wanted
            elif not set(wanted.digests) <= set(known.digests):
                joined = tuple(sorted(set(known.digests) | set(wanted.digests)))
                found[wanted.key] = Wanted(
                    known.ecosystem, known.name, known.version, joined, known.origin
                )
    return [found[key] for key in sorted(found)], problems


def _wanted(component: Component, fmt: str, problems: list[Problem]) -> Wanted | None:
    """The release a component names, or None (with a Problem when its name is invalid)."""
    version = component.version
    assert version is not None
    ecosystem: Ecosystem | None
    if component.purl is not None:
        try:
            purl = PackageURL.from_string(component.purl)
        except ValueError:
            return None
        ecosystem = _ECOSYSTEMS.get(purl.type)
        if ecosystem is None:
            return None  # not a registry this resolver asks
        version = purl.version or version
    else:
        record = by_name(fmt)
        if record is None or record.family is not Family.LOCKFILE:
            return None  # an SBOM entry without a purl names no registry
        # a lock entry whose reader built no purl: its name is not valid
        ecosystem = Ecosystem.NPM if fmt in _NPM_FORMATS else Ecosystem.PYPI
    name = component.name.strip()
    if not _valid_name(ecosystem, name):
        problems.append(
            Problem.at(
                component.origin,
                f"{name!r} is not a valid {_LABEL[ecosystem]} package name; it is not looked up",
            )
        )
        return None
    return Wanted(ecosystem, name, version, tuple(sorted(set(component.digests))), component.origin)


_LABEL = {Ecosystem.PYPI: "PyPI", Ecosystem.NPM: "npm"}


def _valid_name(ecosystem: Ecosystem, name: str) -> bool:
    if ecosystem is Ecosystem.PYPI:
        return _PYPI_NAME.match(name) is not None
    return len(name) <= _NPM_MAX and _NPM_NAME.match(name) is not None


# --------------------------------------------------------------------------- asking


def resolve(
    wanted: Sequence[Wanted],
    config: IndexConfig,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
    client: HttpClient | None = None,
    use_cache: bool = True,
) -> Outcome:
    """Look every release up, ``jobs`` at a time; never raises for a registry's answer.

    ``config`` must hold the index of every ecosystem in ``wanted`` (a
    :class:`~checker.errors.UsageError` says what to pass otherwise, before
    anything is asked). ``cache_dir`` defaults to :func:`default_cache_dir`;
    ``use_cache=False`` asks everything afresh and stores nothing.
    """
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    urls = {e: config.setting(e).url for e in sorted({w.ecosystem for w in wanted})}
    cache = Cache(cache_dir or default_cache_dir()) if use_cache or offline else None
    own_client = client is None and not offline
    http = HttpClient(cafile=_trusted_bundle()) if own_client else client
    fetcher = Fetcher(None if offline else http, cache, offline=offline)
    total = len(wanted)
    done = 0
    lock = threading.Lock()
    answered: set[Ecosystem] = set()
    network_failures: dict[Ecosystem, list[str]] = {}
    unreachable: dict[Ecosystem, str] = {}

    def one(item: Wanted) -> PackageRecord | Failure:
        nonlocal done
        ecosystem = item.ecosystem
        if ecosystem in unreachable:
            result: PackageRecord | Failure = Failure(
                ecosystem, item.name, item.version, mask_url(urls[ecosystem]), NOT_ASKED
            )
        else:
            result, network = _lookup(item, urls[ecosystem], fetcher)
            with lock:
                if not network:
                    answered.add(ecosystem)
                elif ecosystem not in answered and isinstance(result, Failure):
                    seen = network_failures.setdefault(ecosystem, [])
                    seen.append(result.reason)
                    if len(seen) >= UNREACHABLE_AFTER:
                        unreachable.setdefault(ecosystem, seen[0])
        if progress is not None:
            with lock:
                done += 1
                progress(done, total, f"{item.name} {item.version}")
        return result

    try:
        if jobs == 1 or total <= 1:
            answers = [one(item) for item in wanted]
        else:
            with ThreadPoolExecutor(max_workers=min(jobs, total)) as pool:
                answers = list(pool.map(one, wanted))
    finally:
        if own_client and http is not None:
            http.close()
    records = sorted((a for a in answers if isinstance(a, PackageRecord)), key=_record_key)
    failures = sorted((a for a in answers if isinstance(a, Failure)), key=_failure_key)
    return Outcome(records, failures, dict(unreachable))


def _trusted_bundle() -> str | None:
    """The CA bundle to verify the index with: pip's (``PIP_CERT``, pip.conf ``cert``),
    else the client's own default (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, the system)."""
    from checker.registry.indexes import pip_config_cert

    return pip_config_cert(os.environ) or ca_bundle()


def _lookup(item: Wanted, index: str, fetcher: Fetcher) -> tuple[PackageRecord | Failure, bool]:
    """The record or failure, and whether it failed without any HTTP answer."""
    try:
        if item.ecosystem is Ecosystem.PYPI:
            return pypi.lookup(item, index, fetcher), False
        return npm.lookup(item, index, fetcher), False
    except FetchError as exc:
        failure = Failure(item.ecosystem, item.name, item.version, exc.url, exc.reason)
        return failure, exc.status is None and not exc.absent
    except Exception as exc:  # a bug must cost one package, named, not the whole run
        reason = f"unexpected {type(exc).__name__}: {exc}"
        return Failure(item.ecosystem, item.name, item.version, mask_url(index), reason), False


def _record_key(record: PackageRecord) -> tuple[ReleaseKey, str]:
    return record.key, record.name


def _failure_key(failure: Failure) -> tuple[ReleaseKey, str]:
    return failure.key, failure.name


# --------------------------------------------------------------------------- progress


def stderr_progress(stream: TextIO | None = None, width: int = 30) -> Progress | None:
    """A one-line progress bar on stderr when it is a terminal; None (draw nothing) otherwise."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        return None

    def draw(done: int, total: int, label: str) -> None:
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        text = f"\r[{bar}] {done}/{total} {label}"[:120]
        out.write(text.ljust(120) if done < total else text.ljust(120) + "\n")
        out.flush()

    return draw
