"""Every input path against its floor, whole process against whole process.

Each side runs in a fresh interpreter (``_peak.py``), which times its own
work and reads its own peak resident memory (the kernel's ``VmHWM``, so
nothing the driver or an earlier child touched is counted); figures are
medians of ``--runs`` interleaved runs. The gate side is the real CLI,
``checker.cli.main(["check", ..., "--format", "json"])`` with the report to
stdout (discarded): reading, evidence (license joining), rules and report.
Its timed work excludes the import of the CLI, which is start-up and has
its own figures; the whole-process times are printed beside. The floor side
is the least any reader of that input must do:

* ``cyclonedx``: ``orjson.loads`` of the file with the cyclic collector paused,
  at 10,000 and 100,000 components (``--million`` adds 1,000,000: a 1.8 GB
  document that needs about 20 GB of memory for both sides);
* ``spdx``: the same floor, on the 3,952-package corpus document and on a
  100,000-package document made from it;
* ``requirements``: reading the file and splitting every line on whitespace,
  for 2,000 and 20,000 hashed entries;
* ``startup``: ``check`` on a 1 KB SBOM and ``--help``, against
  ``python -c pass``;
* ``tree``: a folder of 10,000 files (9,800 that are no input, 200 manifests
  of five kinds) against a bare ``os.walk`` that parses the same manifests.

Ratios are printed with their targets and ``met``/``MISSED``. Documents are
generated from real corpus files in a child process (the driver stays small)
into a temporary folder.

    .venv/bin/python benchmarks/bench_paths.py [--runs 5] [--only cyclonedx spdx ...] [--million]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
JUICE_SHOP = CORPUS / "cyclonedx" / "bom-examples_juice-shop_via-npm_bare_bom.1.4.json"
LARGE_SPDX = (
    CORPUS / "spdx" / "LARGE_bom-shelter_trivy_newrelic-synthetics-minion-runner_cbfa244c.spdx.json"
)
PYTHON = sys.executable
PEAK = str(Path(__file__).with_name("_peak.py"))

_FLOOR_JSON = (
    "import gc, sys, orjson\n"
    "gc.disable()\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    orjson.loads(f.read())\n"
)
_FLOOR_LINES = (
    "import sys\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    for line in f.read().splitlines():\n"
    "        line.split()\n"
)
_FLOOR_TREE = (
    "import os, sys, json, tomllib, yaml\n"
    "Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\n"
    "for folder, dirs, files in os.walk(sys.argv[1]):\n"
    "    for name in files:\n"
    "        path = os.path.join(folder, name)\n"
    "        if name == 'package-lock.json':\n"
    "            json.loads(open(path, 'rb').read())\n"
    "        elif name == 'poetry.lock':\n"
    "            tomllib.loads(open(path, encoding='utf-8').read())\n"
    "        elif name in ('Chart.yaml', 'values.yaml'):\n"
    "            yaml.load(open(path, encoding='utf-8').read(), Loader=Loader)\n"
    "        elif name == 'requirements.txt':\n"
    "            [line.split() for line in open(path, encoding='utf-8')]\n"
)


@dataclass(frozen=True, slots=True)
class Figure:
    #: The work, timed inside the process (interpreter and CLI import excluded).
    seconds: float
    #: The whole process, as the parent saw it.
    wall: float
    peak: int


def run(argv: Sequence[str], *, peak: bool = True) -> Figure:
    """One fresh process: wall time, and its own resident high-water mark."""
    with tempfile.NamedTemporaryFile(prefix="peak-", delete=False) as out:
        report = out.name
    command = [PYTHON, PEAK, report, *argv] if peak else [PYTHON, *argv]
    started = time.perf_counter()
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench_paths: {argv} exited {done.returncode}: {done.stderr[-2000:]!r}")
    try:
        text = Path(report).read_text().split() if peak else []
    finally:
        os.unlink(report)
    if not peak:
        return Figure(wall, wall, 0)
    return Figure(float(text[0]), wall, int(text[1]))


def pair(gate: Sequence[str], floor: Sequence[str], runs: int) -> tuple[Figure, Figure]:
    """Medians of interleaved runs of both sides (so drift hits both alike)."""
    gates: list[Figure] = []
    floors: list[Figure] = []
    for _ in range(runs):
        floors.append(run(floor))
        gates.append(run(gate))
    return _median(gates), _median(floors)


def _median(figures: list[Figure]) -> Figure:
    return Figure(
        statistics.median(f.seconds for f in figures),
        statistics.median(f.wall for f in figures),
        max(f.peak for f in figures),
    )


def gate_cmd(*paths: Path) -> list[str]:
    """The CLI's ``check`` as a user runs it, JSON report to stdout (discarded)."""
    return ["--cli", "check", *map(str, paths), "--format", "json", "--max-input-size", "4G"]


def cli_cmd(*args: str) -> list[str]:
    """A whole ``python -m checker`` process, for start-up."""
    return ["-m", "checker", *args]


def report(label: str, gate: Figure, floor: Figure, target: float, mem_target: float | None) -> str:
    ratio = gate.seconds / floor.seconds
    line = (
        f"  {label:<34} gate {gate.seconds:7.3f} s  floor {floor.seconds:7.3f} s  "
        f"{ratio:5.2f}x (<= {target}x {verdict(ratio <= target)})"
        f"   whole process {gate.wall:6.3f} s / {floor.wall:6.3f} s"
    )
    if mem_target is not None and floor.peak:
        mem = gate.peak / floor.peak
        line += (
            f"   peak {mib(gate.peak)} / {mib(floor.peak)} = {mem:4.2f}x "
            f"(<= {mem_target}x {verdict(mem <= mem_target)})"
        )
    return line


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def generate(kind: str, count: int, out: Path) -> None:
    """Write a generated input in a child process, so the driver stays small."""
    subprocess.run(
        [PYTHON, str(Path(__file__).with_name("_generate.py")), kind, str(count), str(out)],
        check=True,
        cwd=ROOT,
    )


# --------------------------------------------------------------------------- the paths


def bench_cyclonedx(tmp: Path, runs: int, million: bool) -> list[str]:
    lines = ["cyclonedx (JSON; gate <= 1.5x the parse floor, peak <= 1.1x):"]
    sizes = [10_000, 100_000] + ([1_000_000] if million else [])
    for size in sizes:
        path = tmp / f"bom-{size}.cdx.json"
        generate("cyclonedx", size, path)
        gate, floor = pair(
            gate_cmd(path), ["-c", _FLOOR_JSON, str(path)], runs if size < 10**6 else 1
        )
        lines.append(
            report(f"{size:,} components ({mib(path.stat().st_size)})", gate, floor, 1.5, 1.1)
        )
        path.unlink()
    return lines


def bench_spdx(tmp: Path, runs: int) -> list[str]:
    lines = ["spdx (JSON; gate <= 2x the parse floor):"]
    generated = tmp / "bom-100000.spdx.json"
    generate("spdx", 100_000, generated)
    for label, path in (("3,952 packages (corpus)", LARGE_SPDX), ("100,000 packages", generated)):
        gate, floor = pair(gate_cmd(path), ["-c", _FLOOR_JSON, str(path)], runs)
        lines.append(report(label, gate, floor, 2.0, None))
    generated.unlink()
    return lines


def bench_requirements(tmp: Path, runs: int) -> list[str]:
    lines = [
        "requirements.txt (hashed; the reader <= 3x a bare read and split; the whole gate,",
        "  which also judges and reports every entry, for reference):",
    ]
    for size in (2_000, 20_000):
        folder = tmp / f"req-{size}"
        folder.mkdir()
        path = folder / "requirements.txt"
        generate("requirements", size, path)
        floor_cmd = ["-c", _FLOOR_LINES, str(path)]
        read, floor = pair(["--read", str(path)], floor_cmd, runs)
        lines.append(report(f"{size:,} entries, reader", read, floor, 3.0, None))
        gate, floor = pair(gate_cmd(path), floor_cmd, runs)
        lines.append(
            f"  {'':<34} whole gate {gate.seconds:7.3f} s ({gate.seconds / floor.seconds:.0f}x)"
        )
    return lines


_SMALL_SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "metadata": {"component": {"type": "application", "name": "demo", "version": "1.0.0"}},
    "components": [
        {
            "type": "library",
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{name}@{version}",
            "licenses": [{"license": {"id": license_id}}],
        }
        for name, version, license_id in (
            ("requests", "2.32.5", "Apache-2.0"),
            ("idna", "3.10", "BSD-3-Clause"),
            ("certifi", "2025.8.3", "MPL-2.0"),
            ("urllib3", "2.5.0", "MIT"),
        )
    ],
}


def bench_startup(tmp: Path, runs: int) -> list[str]:
    small = tmp / "small.cdx.json"
    small.write_text(json.dumps(_SMALL_SBOM, indent=1), encoding="utf-8")
    size = small.stat().st_size
    figures: dict[str, list[float]] = {"pass": [], "check": [], "help": []}
    for _ in range(runs * 2):
        figures["pass"].append(run(["-c", "pass"], peak=False).seconds)
        figures["check"].append(run(cli_cmd("check", str(small)), peak=False).seconds)
        figures["help"].append(run(cli_cmd("--help"), peak=False).seconds)
    bare, check, helps = (statistics.median(figures[k]) for k in ("pass", "check", "help"))
    return [
        "start-up (check on a small SBOM <= 120 ms; --help <= 3x python -c pass):",
        f"  python -c pass                     {bare * 1000:7.1f} ms",
        f"  check on a {size:,}-byte SBOM          {check * 1000:7.1f} ms   {check / bare:5.2f}x "
        f"python -c pass   (<= 120 ms {verdict(check <= 0.120)})",
        f"  --help                             {helps * 1000:7.1f} ms   {helps / bare:5.2f}x "
        f"python -c pass   (<= 3x {verdict(helps / bare <= 3.0)})",
    ]


def bench_tree(tmp: Path, runs: int) -> list[str]:
    tree = tmp / "tree"
    generate("tree", 10_000, tree)
    gate, floor = pair(gate_cmd(tree), ["-c", _FLOOR_TREE, str(tree)], runs)
    return [
        "directory scan (10,000 files; gate <= 2x the bare walk and parse of its manifests):",
        report("10,000 files, 200 manifests", gate, floor, 2.0, None),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per side")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("cyclonedx", "spdx", "requirements", "startup", "tree"),
        help="run only these paths",
    )
    parser.add_argument("--million", action="store_true", help="add the 1,000,000-component SBOM")
    args = parser.parse_args(argv)
    missing = [p for p in (JUICE_SHOP, LARGE_SPDX) if not p.is_file()]
    if missing:
        print(f"bench_paths: corpus files missing: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    chosen = args.only or ["cyclonedx", "spdx", "requirements", "startup", "tree"]
    print(f"bench_paths: medians of {args.runs} interleaved runs, each side a fresh process")
    with tempfile.TemporaryDirectory(prefix="bench-paths-") as name:
        tmp = Path(name)
        for path in chosen:
            if path == "cyclonedx":
                lines = bench_cyclonedx(tmp, args.runs, args.million)
            elif path == "spdx":
                lines = bench_spdx(tmp, args.runs)
            elif path == "requirements":
                lines = bench_requirements(tmp, args.runs)
            elif path == "startup":
                lines = bench_startup(tmp, args.runs)
            else:
                lines = bench_tree(tmp, args.runs)
            print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
