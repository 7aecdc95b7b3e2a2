"""The long fuzz campaign over every input reader (the short one is tests/test_fuzz.py).

For each reader (cyclonedx-json, cyclonedx-xml, spdx-json, spdx-tag-value,
pip-licenses) it mutates small seeds (real corpus documents, cut down, plus
generated pip-licenses JSON) and feeds each mutant to
``checker.sbom.parse_input``. Every input must either be read or refused with
an ``InputError`` naming the file; anything else is a crash. Accepted results
are also run through the gate with the real policy, and its JSON and text
reports and an ``explain`` trace are rendered (``--no-gate`` skips all that).

Four more targets cover what arrives in pull requests besides SBOMs:

* ``yaml-config``: mutated policy and register files through the one YAML
  loader and the policy and register validators, which must return
  problems naming the file, never raise;
* ``yaml-artifact``: mutated values, compose, manifest and chart files
  through every artifact reader (only ``InputError`` may leave them);
* ``dockerfile``: mutated Dockerfiles (FROM lines, build arguments, RUN
  scripts with package installs, heredocs, substitutions) through the
  Dockerfile reader (only ``InputError`` may leave it), then the gate;
* ``walk``: random trees (FIFOs, links out of the tree and in loops,
  includes of ``/proc/self/environ`` and of a canary file outside the tree,
  venv look-alikes, odd file names) scanned by ``read_paths`` under an alarm,
  then gated and rendered in every format; a hang, an escaped exception,
  or the canary or a secret of the environment in any report is a crash.

Each crash is minimized (byte chunks removed while the same exception at the
same place persists) and written to ``--crash-dir`` with its traceback.

    .venv/bin/python benchmarks/fuzz_readers.py --count 100000 --seed 1

prints ``reader: N inputs, A accepted, R rejected, C crashes`` per reader and
exits 1 if any reader crashed.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.artifacts import compose, dockerfile, helm, kubernetes, read_artifact, values  # noqa: E402
from checker.errors import InputError  # noqa: E402
from checker.evaluation import Evaluator  # noqa: E402
from checker.gate import evaluate_results  # noqa: E402
from checker.licenses import Normalizer  # noqa: E402
from checker.model import ReadResult  # noqa: E402
from checker.policy import Policy, _decisions, _license_policy, load_policy  # noqa: E402
from checker.report import json as json_report  # noqa: E402
from checker.report import junit, markdown, sarif  # noqa: E402
from checker.report import text as text_report  # noqa: E402
from checker.report.text import render_trace  # noqa: E402
from checker.results import RunResult  # noqa: E402
from checker.sbom import parse_input  # noqa: E402
from checker.sources import read_paths  # noqa: E402
from checker.vex.register import parse_register_file  # noqa: E402
from checker.yamlio import load_yaml  # noqa: E402
from tests.fuzzing import (  # noqa: E402
    CATCH_ALL,
    KEYS,
    RAW_JSON,
    STRINGS,
    build_tree,
    cut_xml,
    invalid,
    license_finder_seed,
    mutate_bytes,
    mutate_dockerfile,
    mutate_json,
    mutate_tag_value,
    mutate_xml,
    mutate_yaml,
    pip_licenses_seed,
    walk_spec,
)

CORPUS = ROOT.parent / "shared" / "corpus"
ARTIFACT_FIXTURES = ROOT / "tests" / "data" / "artifacts"
NAME = "fuzz"
READERS = (
    "cyclonedx-json",
    "cyclonedx-xml",
    "spdx-json",
    "spdx-tag-value",
    "pip-licenses",
    "yaml-config",
    "yaml-artifact",
    "dockerfile",
    "walk",
)
#: A value the campaign puts into its own environment; no report may show it.
ENV_CANARY = "HOSTILE_FUZZ_SECRET"
ENV_CANARY_VALUE = "ghs_FUZZcanaryValue0123456789"
#: What the file outside every fuzzed tree holds; no report may show it.
FILE_CANARY = "CANARY-OUTSIDE-THE-TREE-2f9c"
#: A tree scan slower than this is a hang.
WALK_ALARM_SECONDS = 10

#: An input slower than this is reported (and saved) even when it is read correctly.
SLOW_SECONDS = 1.0

T = TypeVar("T")

# --------------------------------------------------------------------------- seeds


def _cut_json(rel: str, key: str, keep: int) -> bytes:
    doc = orjson.loads((CORPUS / rel).read_bytes())
    doc[key] = doc[key][:keep]
    if "relationships" in doc:
        doc["relationships"] = doc["relationships"][:keep]
    if "dependencies" in doc:
        doc["dependencies"] = doc["dependencies"][:keep]
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _cut_lines(rel: str, lines: int) -> bytes:
    return b"\n".join((CORPUS / rel).read_bytes().split(b"\n")[:lines])


def load_seeds() -> dict[str, list[bytes]]:
    """Small seeds per reader: a few ms per input at most keeps 100k inputs practical."""
    if not CORPUS.is_dir():
        raise SystemExit(f"fuzz_readers: the shared corpus is not at {CORPUS}")

    def read(rel: str) -> bytes:
        return (CORPUS / rel).read_bytes()

    return {
        "cyclonedx-json": [
            read("cyclonedx/trivy_license-cyclonedx-1.5.json"),
            read("cyclonedx/cyclonedx-python-lib_valid-license-expression-1.6.json"),
            read("cyclonedx/cyclonedx-python-lib_bom_with_mixed_licenses-1.4.json"),
            read("cyclonedx/cyclonedx-python-lib_valid-saasbom-1.6.json"),
            _cut_json("cyclonedx/bom-examples_laravel-7.12.0_bom.1.3.json", "components", 4),
        ],
        "cyclonedx-xml": [
            cut_xml(read("cyclonedx/cyclonedx-python-lib_webgoat-6.1.xml"), 5),
            cut_xml(read("cyclonedx/bom-examples_dropwizard-1.3.15_bom.xml"), 4),
        ],
        "spdx-json": [
            read("spdx/trivy_bitnami-postgresql-15.3.0.spdx.json"),
            _cut_json(
                "spdx/bom-shelter_trivy_bitnami-postgresql_8bbeb1f9.spdx.json", "packages", 6
            ),
            _cut_json("spdx/tools-python_SPDXJSONExample-v2.3.spdx.json", "packages", 4),
        ],
        "spdx-tag-value": [
            read("spdx/trivy_centos-7-spdx.txt"),
            read("spdx/tools-python_SPDXTagExample-v2.2.spdx"),
            _cut_lines("spdx/bom-shelter_flux_0.26.3_sbom.spdx", 120),
        ],
        "pip-licenses": [pip_licenses_seed(), license_finder_seed()],
        "yaml-config": [
            (ROOT / "policy" / "licenses.yaml").read_bytes()[:6000],
            (ROOT / "policy" / "dependencies.yaml").read_bytes()[:6000],
            REGISTER_SEED,
        ],
        "yaml-artifact": [
            read("helm/bitnami-keycloak-16.1.6/Chart.yaml"),
            read("helm/bitnami-keycloak-16.1.6/Chart.lock"),
            read("images/awesome-compose-wordpress-mysql/compose.yaml"),
            read("images/cnpg-samples/postgis-example.yaml"),
            _cut_lines("images/bitnami-postgresql-17.1.0/values.yaml", 150),
        ],
        "dockerfile": [
            (ARTIFACT_FIXTURES / name).read_bytes()
            for name in (
                "Dockerfile.postgis",
                "Dockerfile.installs",
                "Dockerfile.multistage",
                "Dockerfile.args",
                "Containerfile",
            )
        ],
        "walk": [
            b"psycopg==3.3.9\nflask==3.1.0\n",
            read("cyclonedx/trivy_license-cyclonedx-1.5.json"),
            read("images/awesome-compose-wordpress-mysql/compose.yaml"),
            b"FROM docker.io/library/postgres:17-alpine\n",
            b"",
        ],
    }


REGISTER_SEED = b"""version: 1
entries:
  - id: LIC-0001
    kind: license
    component: pkg:pypi/psycopg
    versions: ">=3,<4"
    license: LGPL-3.0-only
    reason: dynamically linked, unmodified
    approver: Jane Doe
    reference: ADR-0006
    created: 2026-11-01
    expires: 2027-11-01
  - id: VULN-0001
    kind: vulnerability
    vulnerability: CVE-2024-3094
    products:
      - purl: pkg:deb/debian/xz-utils
        versions: "<5.6.0"
    status: not_affected
    justification: vulnerable_code_not_present
    approver: Jane Doe
    reference: ADR-0006
    created: 2026-11-01
    expires: 2027-11-01
"""


# --------------------------------------------------------------------------- mutators

RAW_KEYS = tuple(sorted(RAW_JSON))


class RandomChooser:
    """The shared mutators' choices (tests/fuzzing.py), all from one ``random.Random``.

    Values are drawn here rather than by Hypothesis: huge strings and long
    component lists are cheap to make, and a seed replays a whole campaign.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def binary(self, low: int, high: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(low, high))

    def text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(STRINGS)
        if roll < 0.9:
            alphabet = "aZ09 -._:/@()<>&;\"'\\\t\n\x00é€😀\ud800"
            chars = [rng.choice(alphabet) for _ in range(rng.randint(0, 20))]
            return "".join(chars)
        if roll < 0.95:
            return "A" * rng.choice((2001, 100_000, 1_000_000))
        if roll < 0.98:
            return "MIT OR " * rng.choice((300, 5_000)) + "MIT"
        return "(" * rng.choice((100, 1_500)) + "MIT" + ")" * 3

    def json_value(self, depth: int = 0) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return self.text()
        if roll < 0.45:
            return rng.choice((None, True, False, 0, -1, 1.5, 2**63, -(2**63), 1e308, 3))
        if roll < 0.55:
            return rng.choice(RAW_KEYS)
        if roll < 0.6:
            return [
                {"name": f"c{i}", "licenses": [{"expression": "MIT"}]}
                for i in range(rng.randint(0, 300))
            ]
        if depth > 3:
            return None
        if roll < 0.8:
            return [self.json_value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            rng.choice(KEYS) if rng.random() < 0.8 else self.text()[:8]: self.json_value(depth + 1)
            for _ in range(rng.randint(0, 4))
        }


def mutate(choose: RandomChooser, reader: str, seeds: list[bytes], others: list[bytes]) -> bytes:
    """One input for ``reader``: a structural mutation, byte damage, or both."""
    if reader == "walk":
        return walk_spec(choose, seeds)
    seed = choose.pick(seeds)
    structural: Callable[[RandomChooser, bytes], bytes] = {
        "cyclonedx-json": mutate_json,
        "spdx-json": mutate_json,
        "pip-licenses": mutate_json,
        "cyclonedx-xml": mutate_xml,
        "spdx-tag-value": mutate_tag_value,
        "yaml-config": mutate_yaml,
        "yaml-artifact": mutate_yaml,
        "dockerfile": mutate_dockerfile,
    }[reader]
    roll = choose.rng.random()
    if roll < 0.55:
        return structural(choose, seed)
    if roll < 0.85:
        return mutate_bytes(choose, seed, others)
    return mutate_bytes(choose, structural(choose, seed), others)


# --------------------------------------------------------------------------- the campaign


@dataclass
class Crash:
    signature: str
    data: bytes
    trace: str
    count: int = 1


@dataclass
class Stats:
    reader: str
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: int = 0
    slow: int = 0
    mutator_errors: int = 0
    slowest: float = 0.0
    seconds: float = 0.0
    formats: dict[str, int] = field(default_factory=dict)
    safety_net: int = 0
    found: dict[str, Crash] = field(default_factory=dict)
    caught: dict[str, Crash] = field(default_factory=dict)
    slow_inputs: list[tuple[float, bytes]] = field(default_factory=list)


class Failure(Exception):
    """A broken promise: an escaped exception or an invalid result."""


class SafetyNet(Exception):
    """An internal error that only a reader's catch-all turned into an InputError.

    The user still gets exit 3, so this is no crash; but the message is a
    Python exception, not a located explanation, and it usually hides a bug.
    """


def check_one(data: bytes, policy: Policy | None, reader: str = "") -> ReadResult | None:
    """Read one input; raise :class:`Failure` (chained) if any promise is broken.

    Raises :class:`SafetyNet` (chained to the internal error) for an input
    refused only by a catch-all.
    """
    if reader == "yaml-config":
        return check_config(data)
    if reader == "yaml-artifact":
        return check_artifact(data, policy)
    if reader == "dockerfile":
        return check_dockerfile(data, policy)
    if reader == "walk":
        return check_walk(data, policy)
    try:
        result = parse_input(data, NAME)
    except InputError as exc:
        if exc.problem.path != NAME:
            raise Failure(f"InputError names {exc.problem.path!r}, not {NAME!r}") from exc
        if CATCH_ALL.search(exc.problem.message):
            inner = exc.__cause__ or exc.__context__
            raise SafetyNet(exc.problem.message[:120]) from (inner or exc)
        return None
    except Exception as exc:
        raise Failure(f"parse_input raised {type(exc).__name__}") from exc
    problems = invalid(result, NAME)
    if problems:
        raise Failure(f"invalid ReadResult: {problems}")
    if policy is not None:
        try:
            findings = evaluate_results([result], policy)
        except Exception as exc:
            raise Failure(f"the gate raised {type(exc).__name__} on an accepted input") from exc
        try:
            run = RunResult([result], findings)
            json_report.render(run)
            text_report.render(run)
            if result.components:
                render_trace(Evaluator(policy).trace(result.components[-1]))
        except Exception as exc:
            raise Failure(f"a report raised {type(exc).__name__} on an accepted input") from exc
    return result


def check_config(data: bytes) -> ReadResult | None:
    """A policy or register file: problems naming the file, or a document; never an exception."""
    try:
        doc, problems = load_yaml(data, NAME)
        if doc is not None and isinstance(doc.data, dict):  # as policy._read demands
            _, more = _license_policy(doc)
            problems = [*problems, *more]
            *_, more = _decisions(doc, Normalizer([]), {"ADR-0006"})
            problems.extend(more)
        if doc is not None:
            _, more = parse_register_file(doc, {"ADR-0006"}, date(2026, 12, 3))
            problems.extend(more)
    except Exception as exc:
        raise Failure(f"loading or validating raised {type(exc).__name__}") from exc
    wrong = [p for p in problems if p.path != NAME]
    if wrong:
        raise Failure(f"a problem names {wrong[0].path!r}, not {NAME!r}")
    return None if doc is None else ReadResult(NAME, "yaml-config")


def check_artifact(data: bytes, policy: Policy | None) -> ReadResult | None:
    """The bytes through every YAML artifact reader; only InputError may leave them."""
    accepted: ReadResult | None = None
    for fmt in (
        values.FORMAT,
        compose.FORMAT,
        kubernetes.FORMAT,
        helm.FORMAT_CHART,
        helm.FORMAT_LOCK,
    ):
        try:
            result = read_artifact(fmt, Path(NAME), data)
        except InputError as exc:
            if exc.problem.path != NAME:
                raise Failure(f"InputError names {exc.problem.path!r}, not {NAME!r}") from exc
            continue
        except Exception as exc:
            raise Failure(f"{fmt} raised {type(exc).__name__}") from exc
        accepted = accepted or result
        if policy is not None:
            try:
                text_report.render(RunResult([result], evaluate_results([result], policy)))
            except Exception as exc:
                raise Failure(f"the gate raised {type(exc).__name__} on {fmt}") from exc
    return accepted


def check_dockerfile(data: bytes, policy: Policy | None) -> ReadResult | None:
    """The bytes through the Dockerfile reader; only InputError may leave it."""
    try:
        result = read_artifact(dockerfile.FORMAT, Path(NAME), data)
    except InputError as exc:
        if exc.problem.path != NAME:
            raise Failure(f"InputError names {exc.problem.path!r}, not {NAME!r}") from exc
        return None
    except Exception as exc:
        raise Failure(f"dockerfile raised {type(exc).__name__}") from exc
    problems = invalid(result, NAME)
    if problems:
        raise Failure(f"invalid ReadResult: {problems}")
    if policy is not None:
        try:
            text_report.render(RunResult([result], evaluate_results([result], policy)))
        except Exception as exc:
            raise Failure(f"the gate raised {type(exc).__name__} on a Dockerfile") from exc
    return result


class _Alarm(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Alarm


def check_walk(spec: bytes, policy: Policy | None) -> ReadResult | None:
    """Build the tree, scan it under an alarm, render every report, look for leaks."""
    base = Path(tempfile.mkdtemp(prefix="fuzz-walk-", dir=_SCRATCH))
    canary = base / "canary.txt"
    canary.write_text(f"{FILE_CANARY}==1.0\n", encoding="utf-8")
    root = base / "tree"
    try:
        try:
            build_tree(spec, root, canary)
        except (ValueError, LookupError, TypeError, AttributeError):  # a spec minimizing broke
            return None
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(WALK_ALARM_SECONDS)
        try:
            inputs = read_paths([root], 1024 * 1024)
        except _Alarm as exc:
            raise Failure(f"the scan took over {WALK_ALARM_SECONDS} s (a hang?)") from exc
        except Exception as exc:
            raise Failure(f"read_paths raised {type(exc).__name__}") from exc
        finally:
            signal.alarm(0)
        findings = evaluate_results(inputs.results, policy) if policy is not None else []
        run = RunResult(inputs.results, findings, inputs.errors, inputs.skipped)
        run.skipped_folders = inputs.folders
        try:
            reports = [json_report.render(run), text_report.render(run), sarif.render(run)]
            reports += [junit.render(run), markdown.render(run, today=run.today)]
        except Exception as exc:
            raise Failure(f"a report raised {type(exc).__name__} on a scanned tree") from exc
        messages = [str(e.problem) for e in inputs.errors]
        for text in [*reports, *messages]:
            if FILE_CANARY in text or FILE_CANARY.lower() in text:
                raise Failure("a file outside the tree reached a report")
            if ENV_CANARY_VALUE in text:
                raise Failure("the environment reached a report")
        return ReadResult(NAME, "walk") if inputs.results else None
    finally:
        shutil.rmtree(base, ignore_errors=True)


#: Scratch space for the walk target: memory-backed where the system has it.
_SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None


def _signature(exc: BaseException) -> str:
    """Where it broke: the exception chain's types and the innermost frame."""
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    frames = traceback.extract_tb(root.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(root).__name__} at {where}: {str(exc)[:80]}"


def _try(data: bytes, policy: Policy | None, reader: str = "") -> str | None:
    try:
        check_one(data, policy, reader)
    except (Failure, SafetyNet) as exc:
        return _signature(exc)
    return None


def minimize(
    data: bytes, signature: str, policy: Policy | None, budget: int = 3000, reader: str = ""
) -> bytes:
    """Remove byte chunks (halves, quarters ... single bytes) while the same failure persists."""
    chunk = max(len(data) // 2, 1)
    tries = 0
    while chunk >= 1 and tries < budget:
        start = 0
        shrunk = False
        while start < len(data) and tries < budget:
            candidate = data[:start] + data[start + chunk :]
            tries += 1
            if candidate and _try(candidate, policy, reader) == signature:
                data = candidate
                shrunk = True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    return data


def run_reader(
    reader: str, count: int, seed: int, gate: bool, policy_dir: Path, crash_dir: Path
) -> Stats:
    policy = load_policy(policy_dir) if gate else None
    all_seeds = load_seeds()
    others = [data for group in all_seeds.values() for data in group]
    rng = random.Random(f"{seed}:{reader}")
    choose = RandomChooser(rng)
    stats = Stats(reader)
    started = time.perf_counter()
    for _ in range(count):
        try:
            data = mutate(choose, reader, all_seeds[reader], others)
        except Exception:  # a mutator bug is not a reader crash; count it and go on
            stats.mutator_errors += 1
            data = rng.choice(all_seeds[reader])
        stats.inputs += 1
        before = time.perf_counter()
        try:
            result = check_one(data, policy, reader)
        except (Failure, SafetyNet) as exc:
            if isinstance(exc, Failure):
                stats.crashes += 1
                found = stats.found
            else:
                stats.rejected += 1
                stats.safety_net += 1
                found = stats.caught
            signature = _signature(exc)
            known = found.get(signature)
            if known is None:
                found[signature] = Crash(signature, data, traceback.format_exc())
            else:
                known.count += 1
                if len(data) < len(known.data):
                    known.data = data
            continue
        finally:
            elapsed = time.perf_counter() - before
            stats.slowest = max(stats.slowest, elapsed)
            if elapsed > SLOW_SECONDS:
                stats.slow += 1
                if len(stats.slow_inputs) < 5:
                    stats.slow_inputs.append((elapsed, data))
        if result is None:
            stats.rejected += 1
        else:
            stats.accepted += 1
            stats.formats[result.format] = stats.formats.get(result.format, 0) + 1
    stats.seconds = time.perf_counter() - started
    crash_dir.mkdir(parents=True, exist_ok=True)
    for label, found in (("crash", stats.found), ("caught", stats.caught)):
        for number, crash in enumerate(found.values(), 1):
            budget = 200 if reader == "walk" else 3000  # each walk try builds a tree
            crash.data = minimize(crash.data, crash.signature, policy, budget, reader)
            stem = crash_dir / f"{reader}-{label}-{number}"
            stem.with_suffix(".bin").write_bytes(crash.data)
            stem.with_suffix(".txt").write_text(
                f"{crash.signature}\nseen {crash.count} times\nminimal input: "
                f"{stem.with_suffix('.bin')} ({len(crash.data)} bytes): {crash.data[:400]!r}\n\n"
                f"{crash.trace}",
                encoding="utf-8",
            )
    for number, (elapsed, data) in enumerate(stats.slow_inputs, 1):
        slow = crash_dir / f"{reader}-slow-{number}-{elapsed:.1f}s-{len(data)}-bytes.bin"
        # A slow input that is simply huge (a mutation repeated a 1 MB string) is not kept.
        slow.write_bytes(data if len(data) <= 16 * 2**20 else data[:4096])
    return stats


def report(stats: Stats, crash_dir: Path) -> None:
    print(
        f"{stats.reader}: {stats.inputs} inputs, {stats.accepted} accepted, "
        f"{stats.rejected} rejected, {stats.crashes} crashes",
        flush=True,
    )
    formats = ", ".join(f"{name} {n}" for name, n in sorted(stats.formats.items()))
    rate = stats.inputs / stats.seconds if stats.seconds else 0.0
    print(
        f"    {stats.seconds:.0f} s ({rate:.0f} inputs/s), slowest input {stats.slowest:.3f} s, "
        f"{stats.slow} over {SLOW_SECONDS:.0f} s; accepted as: {formats or 'nothing'}; "
        f"{stats.mutator_errors} mutator errors"
    )
    if stats.safety_net:
        print(
            f"    {stats.safety_net} of the rejections came from a catch-all wrapper "
            "(an internal error turned into exit 3; usually a reader bug):"
        )
    for label, found in (("crash", stats.found), ("caught", stats.caught)):
        for number, crash in enumerate(found.values(), 1):
            stem = crash_dir / f"{stats.reader}-{label}-{number}"
            print(f"    {label.upper()} x{crash.count}: {crash.signature}")
            print(f"      minimal input ({len(crash.data)} bytes): {crash.data[:300]!r}")
            print(f"      saved to {stem}.bin, traceback in {stem}.txt")
            if label == "crash":
                print("      " + crash.trace.rstrip().replace("\n", "\n      "))


def _worker(args: tuple[str, int, int, bool, Path, Path]) -> Stats:
    return run_reader(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per reader")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    parser.add_argument("--jobs", type=int, default=1, help="readers fuzzed in parallel")
    parser.add_argument(
        "--policy",
        type=Path,
        default=ROOT / "policy",
        help="policy directory for the gate step (default: the repo's)",
    )
    parser.add_argument(
        "--no-gate", action="store_true", help="only read; do not run the gate over accepted inputs"
    )
    parser.add_argument(
        "--crash-dir",
        type=Path,
        default=Path("/tmp/fuzz-readers"),
        help="where crashing and slow inputs are written",
    )
    args = parser.parse_args(argv)
    if os.environ.get(ENV_CANARY) != ENV_CANARY_VALUE and argv is None:
        # /proc/self/environ shows the environment a process started with:
        # start again with the canary in it, so an include of it would show.
        env = {**os.environ, ENV_CANARY: ENV_CANARY_VALUE}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    gate = not args.no_gate
    print(
        f"fuzz_readers: seed {seed}, {args.count} inputs per reader, "
        f"gate {'on (policy ' + str(args.policy) + ')' if gate else 'off'}",
        flush=True,
    )
    if gate:
        load_policy(args.policy)  # fail now, with the policy's own message, not per worker
    jobs = [
        (reader, args.count, seed, gate, args.policy, args.crash_dir) for reader in args.readers
    ]
    crashes = 0
    if args.jobs > 1:
        with multiprocessing.Pool(min(args.jobs, len(jobs))) as pool:
            for stats in pool.imap(_worker, jobs):
                report(stats, args.crash_dir)
                crashes += stats.crashes
    else:
        for job in jobs:
            stats = _worker(job)
            report(stats, args.crash_dir)
            crashes += stats.crashes
    print(f"fuzz_readers: seed {seed}: {'CRASHES FOUND' if crashes else 'no crashes'}")
    return 1 if crashes else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
