"""``evidence resolve``'s library call on a 230-package lock, against the local test registry.

The registry is :mod:`tests.registry.server` (the one the tests trust),
run in this driver process and serving 230 releases whose METADATA is that
of the distributions installed here (renamed ``bench-NNN-<name>`` so there
are 230 distinct projects), each as a PEP 691 page and an advertised
``.metadata`` file. The lock is a hashed requirements file pinning each
release's wheel. Each side runs in a fresh interpreter (``_peak.py``), which
times its own work: reading the lock, :func:`checker.registry.wanted_from`
and :func:`checker.registry.resolve` with no cache (every request is made).

Printed: packages per second with 8 workers and with 1, and their ratio,
measured in the same run (medians of ``--runs`` interleaved runs), at each
``--latency`` (seconds the server waits before each answer: 0 is the
loopback, 0.025 a nearby mirror's round trip). The target is the 230
packages in under 2 s with 8 connections.

``--online`` also resolves the corpus uv.lock (80 packages) and the
warehouse requirements (184) against the index this machine's installer
configuration names (never a URL written here), once each, without cache.

    .venv/bin/python benchmarks/bench_resolve.py [--runs 3] [--latency 0 0.025] [--online]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry.server import RegistryServer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "lockfiles"
PEAK = str(Path(__file__).with_name("_peak.py"))
PACKAGES = 230
TARGET_SECONDS = 2.0

_CHILD = """
import sys, time
from pathlib import Path
from checker.errors import UsageError
from checker.registry import IndexConfig, index_config, resolve, wanted_from
from checker.registry.indexes import IndexSetting
from checker.evidence.records import Ecosystem
from checker.sources import read_paths

lock, index, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
inputs = read_paths([Path(lock)])
assert not inputs.errors, inputs.errors
wanted, problems = wanted_from(inputs.results)
if index == "-":
    config = index_config(need={w.ecosystem for w in wanted})
else:
    config = IndexConfig(pypi=IndexSetting(index, "bench"))
outcome = resolve(wanted, config, jobs=jobs, use_cache=False)
print(len(wanted), len(outcome.records), len(outcome.failures))
for failure in outcome.failures[:5]:
    print("  failure:", failure, file=sys.stderr)
"""


def _metadata_pool() -> list[bytes]:
    pool = []
    for dist in sorted(importlib.metadata.distributions(), key=lambda d: str(d.metadata["Name"])):
        text = dist.read_text("METADATA")
        if text and dist.metadata["Name"] and dist.metadata["Version"]:
            pool.append(text.encode("utf-8"))
    return pool


def _renamed(metadata: bytes, index: int) -> bytes:
    """The METADATA with its Name made unique: ``bench-NNN-<name>``."""

    def rename(match: re.Match[bytes]) -> bytes:
        name = re.sub(rb"[^A-Za-z0-9]+", b"-", match.group(1).strip()).strip(b"-").lower()
        return b"Name: bench-%03d-%s" % (index, name)

    return re.sub(rb"(?m)^Name: *(.+?)\r?$", rename, metadata, count=1)


def _publish(server: RegistryServer, folder: Path) -> Path:
    pool = _metadata_pool()
    lines = []
    for i in range(PACKAGES):
        published = server.publish_pypi(_renamed(pool[i % len(pool)], i), other_versions=())
        lines.append(f"{published.name}=={published.version} --hash={published.digest}")
    lock = folder / "requirements.txt"
    lock.write_text("\n".join(lines) + "\n")
    return lock


def _run(lock: Path, index: str, jobs: int, folder: Path) -> tuple[float, str]:
    report = folder / f"peak-{jobs}.txt"
    done = subprocess.run(
        [sys.executable, PEAK, str(report), "-c", _CHILD, str(lock), index, str(jobs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the resolve child failed:\n{done.stdout}{done.stderr}")
    seconds = float(report.read_text().split()[0])
    return seconds, done.stdout.strip() + (f" | {done.stderr.strip()}" if done.stderr else "")


def _local(runs: int, latencies: list[float]) -> bool:
    met = True
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        folder = Path(tmp)
        for latency in latencies:
            server = RegistryServer(latency=latency).start()
            try:
                lock = _publish(server, folder)
                times: dict[int, list[float]] = {8: [], 1: []}
                answer = ""
                for _ in range(runs):
                    for jobs in (8, 1):
                        seconds, answer = _run(lock, server.index_url, jobs, folder)
                        times[jobs].append(seconds)
            finally:
                server.stop()
            wanted, records, failures = (int(x) for x in answer.split("|")[0].split())
            if (wanted, records, failures) != (PACKAGES, PACKAGES, 0):
                raise SystemExit(f"expected {PACKAGES} records, got: {answer}")
            eight, one = statistics.median(times[8]), statistics.median(times[1])
            verdict = "met" if eight < TARGET_SECONDS else "MISSED"
            met = met and eight < TARGET_SECONDS
            print(
                f"latency {latency * 1000:.0f} ms: {PACKAGES} packages, 8 workers "
                f"{eight:.2f} s ({PACKAGES / eight:.0f} packages/s), 1 worker {one:.2f} s "
                f"({PACKAGES / one:.0f} packages/s); 8 vs 1: {one / eight:.1f}x faster; "
                f"target < {TARGET_SECONDS:.0f} s with 8: {verdict}"
            )
    return met


def _online() -> None:
    locks = [
        CORPUS / "full-stack-fastapi-template_2026" / "uv.lock",
        CORPUS / "pypi-warehouse" / "requirements" / "main.txt",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        for lock in locks:
            if not lock.exists():
                print(f"online: {lock} is absent; skipped")
                continue
            seconds, answer = _run(lock, "-", 8, Path(tmp))
            wanted, records, failures = (int(x) for x in answer.split("|")[0].split())
            print(
                f"online {lock.relative_to(CORPUS)}: {wanted} packages in {seconds:.2f} s "
                f"({wanted / seconds:.0f} packages/s), {records} records, {failures} failures"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.025])
    parser.add_argument("--online", action="store_true")
    args = parser.parse_args()
    met = _local(args.runs, args.latency)
    if args.online:
        _online()
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
