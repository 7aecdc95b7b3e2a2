"""``check`` with the evidence file against ``check`` on the lock alone (target <= 1.2x).

The evidence file must not make the offline gate noticeably slower: reading
it, validating every record, locating each by line and judging the
licenses it supplies is all extra work the lock-alone run does not do (that
run reports an ``unknown-license`` per entry instead). Both sides run the
real CLI, ``checker.cli.main(["check", LOCK, "--format", "json", ...])``, in
a fresh interpreter each (``_peak.py``, which times the work without the
CLI's import), medians of ``--runs`` interleaved runs.

The inputs are generated in a temporary folder: a hashed requirements lock
of ``--packages`` entries (230 by default, the size of a large Django
application's lock) and its evidence file, one record per entry with the
license fields real registry metadata carries, in realistic proportions
(PEP 639 expressions, SPDX ``License`` fields beside classifiers,
classifiers only, free text, a few GPL packages). The policy is a copy of
this repository's, so neither side picks up an evidence file of its own.

    .venv/bin/python benchmarks/bench_evidence_check.py [--runs 7] [--packages 230]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.bench_paths import ROOT, Figure, run, verdict  # noqa: E402
from checker.evidence.evidence_file import (  # noqa: E402
    EvidenceFile,
    IndexUsed,
    write_evidence,
)
from checker.evidence.records import Ecosystem, LicenseFields, PackageRecord  # noqa: E402

TARGET = 1.2

#: License fields as registries state them, cycled over the generated packages.
_FIELDS = (
    LicenseFields(license_expression="MIT", license_files=("LICENSE",)),
    LicenseFields(
        license="Apache-2.0",
        classifiers=("License :: OSI Approved :: Apache Software License",),
    ),
    LicenseFields(classifiers=("License :: OSI Approved :: BSD License",), license="BSD"),
    LicenseFields(license_expression="BSD-3-Clause OR Apache-2.0"),
    LicenseFields(classifiers=("License :: OSI Approved :: MIT License",)),
    LicenseFields(license="MIT License"),
    LicenseFields(license_expression="MPL-2.0"),
    LicenseFields(license="PSF-2.0"),
    LicenseFields(
        classifiers=("License :: OSI Approved :: GNU General Public License v2 (GPLv2)",)
    ),
    LicenseFields(license_expression="ISC"),
)


def _digest(i: int, which: str) -> str:
    return hashlib.sha256(f"{which}{i}".encode()).hexdigest()


def build(folder: Path, count: int) -> tuple[Path, Path]:
    """The lock and its evidence file, ``count`` releases each."""
    lock = folder / "requirements.lock"
    lines = []
    records = []
    for i in range(count):
        name, version = f"package-{i}", f"1.{i % 50}.{i % 7}"
        first, second = _digest(i, "a"), _digest(i, "b")
        lines += [
            f"{name}=={version} \\",
            f"    --hash=sha256:{first} \\",
            f"    --hash=sha256:{second}",
            "    # via -r requirements.in",
        ]
        records.append(
            PackageRecord(
                ecosystem=Ecosystem.PYPI,
                name=name,
                version=version,
                fields=_FIELDS[i % len(_FIELDS)],
                url=f"/packages/{first[:2]}/{name}-{version}-py3-none-any.whl.metadata",
                retrieved="2026-11-02",
                artifact=f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
                digest=f"sha256:{first}",
            )
        )
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    evidence = folder / "evidence.json"
    index = (IndexUsed(Ecosystem.PYPI, "pip's built-in default"),)
    write_evidence(evidence, EvidenceFile("2026-11-02", index, tuple(records)))
    return lock, evidence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs per side")
    parser.add_argument("--packages", type=int, default=230, help="entries in the lock")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as name:
        tmp = Path(name)
        shutil.copytree(ROOT / "policy", tmp / "policy", ignore=shutil.ignore_patterns("*.json"))
        lock, evidence = build(tmp, args.packages)
        common = [
            "--cli",
            "check",
            str(lock),
            "--format",
            "json",
            "--policy",
            str(tmp / "policy"),
            "--adr",
            str(ROOT / "adr"),
            "--no-vex",
        ]
        alone: list[Figure] = []
        with_file: list[Figure] = []
        for _ in range(args.runs):
            alone.append(run(common))
            with_file.append(run([*common, "--evidence", str(evidence)]))
        a = statistics.median(f.seconds for f in alone)
        e = statistics.median(f.seconds for f in with_file)
        ratio = e / a
        size = evidence.stat().st_size
        print(
            f"bench_evidence_check: medians of {args.runs} interleaved runs, each a fresh process"
        )
        print(f"  check on the {args.packages}-entry lock alone       {a * 1000:8.1f} ms")
        print(
            f"  check with its evidence file ({size / 1024:,.0f} KiB)   {e * 1000:8.1f} ms"
            f"   {ratio:.2f}x (<= {TARGET}x {verdict(ratio <= TARGET)})"
        )
        print(
            f"  whole process: {statistics.median(f.wall for f in alone) * 1000:.0f} ms / "
            f"{statistics.median(f.wall for f in with_file) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
