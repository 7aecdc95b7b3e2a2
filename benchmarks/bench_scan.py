"""How fast and how lean the gate is on a big SBOM, against two yardsticks.

Builds a CycloneDX 1.4 JSON with ``--components`` components (default 100,000)
from the real juice-shop SBOM of the shared corpus: its components are
replicated with distinct names, versions, purls and bom-refs, keeping their
real license fields (and the dependency graph, re-pointed per copy). Then, in
one process:

(a) the bare parse floor: ``orjson.loads`` on the file bytes (best of 3);
(b) the gate: ``parse_input`` + ``evaluate_results`` with the real policy,
    license evidence (joining) included, as ``check`` runs them short of the
    report (best of 3; every run loads the policy afresh and clears the
    checker's module-level caches, so nothing learnt in one run helps the
    next); ``bench_paths.py`` times the whole CLI, report included;
(c) cyclonedx-python-lib: ``Bom.from_json(json.loads(data))``, once (slow;
    ``--lib-components N`` runs it, and the gate again, on an N-component
    document instead, and says so);
(d) peak traced memory (tracemalloc) of the bare parse and of the gate, in
    separate runs.

It prints the ratios against their targets (gate <= 2.0x the parse floor,
>= 10x faster than the library, peak memory <= 1.5x the parse's), the same
gate/parse ratio on the large SPDX corpus document, and a cProfile of the gate
whenever its time target is missed (or with ``--profile``).

    .venv/bin/python benchmarks/bench_scan.py [--components 100000] [--lib-components N]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.gate import evaluate_results  # noqa: E402
from checker.model import Finding, ReadResult  # noqa: E402
from checker.policy import Policy, load_policy  # noqa: E402
from checker.sbom import parse_input  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
JUICE_SHOP = CORPUS / "cyclonedx" / "bom-examples_juice-shop_via-npm_bare_bom.1.4.json"
LARGE_SPDX = (
    CORPUS / "spdx" / "LARGE_bom-shelter_trivy_newrelic-synthetics-minion-runner_cbfa244c.spdx.json"
)

TARGET_GATE_VS_PARSE = 2.0
TARGET_LIBRARY_VS_GATE = 10.0
TARGET_PEAK_VS_PARSE = 1.5

# --------------------------------------------------------------------------- the document


def _count(component: dict[str, Any]) -> int:
    return 1 + sum(_count(child) for child in component.get("components") or ())


def _renamed(component: dict[str, Any], copy: int, refs: dict[str, str]) -> dict[str, Any]:
    """A deep copy of ``component`` (and its children) made distinct for copy number ``copy``.

    The name and version change, and with them every place that spells them:
    the purl and the bom-ref. ``refs`` collects old bom-ref -> new bom-ref.
    """
    out = dict(component)
    name = str(component.get("name", ""))
    version = str(component.get("version", ""))
    new_name = f"{name}-r{copy}"
    new_version = f"{version}-r{copy}" if version else f"0.0.0-r{copy}"
    out["name"] = new_name
    out["version"] = new_version
    old_spelling = f"{name}@{version}"
    new_spelling = f"{new_name}@{new_version}"
    purl = component.get("purl")
    if isinstance(purl, str):
        replaced = purl.replace(old_spelling, new_spelling, 1)
        out["purl"] = replaced if replaced != purl else f"{purl}?copy={copy}"
    ref = component.get("bom-ref")
    if isinstance(ref, str):
        new_ref = ref.replace(old_spelling, new_spelling, 1)
        new_ref = new_ref if new_ref != ref else f"{ref}#r{copy}"
        refs[ref] = new_ref
        out["bom-ref"] = new_ref
    children = component.get("components")
    if children:
        out["components"] = [_renamed(child, copy, refs) for child in children]
    return out


def _leaf(component: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in component.items() if key != "components"}


def build_document(source: dict[str, Any], count: int) -> tuple[dict[str, Any], int]:
    """A copy of ``source`` with exactly ``count`` components (nested ones included).

    Whole top-level entries (with their children) are copied while they fit;
    the last one is cut to the component alone if its children would overshoot.
    """
    components: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    originals = source.get("components") or []
    graph = source.get("dependencies") or []
    total = 0
    copy = 0
    while total < count:
        copy += 1
        refs: dict[str, str] = {}
        for entry in originals:
            if total >= count:
                break
            size = _count(entry)
            if total + size > count:
                entry = _leaf(entry)
                size = 1
            components.append(_renamed(entry, copy, refs))
            total += size
        for dependency in graph:
            ref = dependency.get("ref")
            if ref in refs:
                depends = [refs[d] for d in dependency.get("dependsOn") or () if d in refs]
                dependencies.append({"ref": refs[ref], "dependsOn": depends})
    document = {
        key: value for key, value in source.items() if key not in ("components", "dependencies")
    }
    document["components"] = components
    document["dependencies"] = dependencies
    return document, total


# --------------------------------------------------------------------------- measurement


POLICY_DIR = ROOT / "policy"


def fresh_policy() -> Policy:
    """The real policy loaded anew, with every module-level cache of the checker cleared."""
    for name, module in list(sys.modules.items()):
        if name == "checker" or name.startswith("checker."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()
    return load_policy(POLICY_DIR)


def gate_run(data: bytes, name: str, policy: Policy) -> tuple[ReadResult, list[Finding]]:
    """What the CLI does with one input, short of rendering: read, then judge."""
    result = parse_input(data, name)
    return result, evaluate_results([result], policy)


def best_of(runs: int, setup: Callable[[], Any], work: Callable[[Any], Any]) -> float:
    """Best wall time of ``work(setup())`` over ``runs`` runs; setup is not timed."""
    best = float("inf")
    for _ in range(runs):
        prepared = setup()
        gc.collect()
        started = time.perf_counter()
        work(prepared)
        best = min(best, time.perf_counter() - started)
        del prepared
    return best


def peak_memory(setup: Callable[[], Any], work: Callable[[Any], Any]) -> tuple[int, int]:
    """Peak bytes traced while ``work`` runs, and bytes still held by what it returned.

    What existed before (the input bytes, a policy made by ``setup``) is not counted.
    """
    prepared = setup()
    gc.collect()
    tracemalloc.start()
    try:
        kept = work(prepared)
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept, prepared
    return peak, retained


def _loads_gc_paused(data: bytes) -> Any:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(data)
    finally:
        if enabled:
            gc.enable()


def parse_time(data: bytes, *, gc_paused: bool) -> float:
    """``orjson.loads``, best of 3, with the cyclic GC as it is or paused.

    ``parse_input`` pauses the GC while it reads (millions of new objects and no
    cycles), so the paused time is the floor the gate must be compared with;
    with the GC running, the bare parse is several times slower.
    """
    loads = _loads_gc_paused if gc_paused else orjson.loads
    return best_of(3, lambda: None, lambda _: loads(data))


def gate_time(data: bytes, name: str) -> tuple[float, float, float]:
    """Best of 3 gate runs: (total, reading, evaluating) of the fastest run."""
    best = (float("inf"), 0.0, 0.0)
    for _ in range(3):
        policy = fresh_policy()
        gc.collect()
        started = time.perf_counter()
        result = parse_input(data, name)
        read = time.perf_counter()
        evaluate_results([result], policy)
        done = time.perf_counter()
        if done - started < best[0]:
            best = (done - started, read - started, done - read)
        del result, policy
    return best


def rss_growth(mode: str, path: Path) -> int:
    """Resident high-water mark minus the resident size before the work, fresh process.

    tracemalloc counts what orjson reserves for its worst case, most of which
    is never touched; the kernel's high-water mark is what a CI runner pays.
    """
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), "--policy", str(POLICY_DIR)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.split()[-1])


def child(mode: str, path: Path) -> None:
    data = path.read_bytes()
    policy = fresh_policy()
    gc.collect()
    before = _resident_now()
    if mode == "parse":
        kept: Any = orjson.loads(data)
    else:
        kept = gate_run(data, str(path), policy)
    after = _high_water()
    del kept
    print(max(after - before, 0))


def _high_water() -> int:
    """This process's resident high-water mark (Linux ``VmHWM``).

    Not ``getrusage``: its ``ru_maxrss`` keeps the high-water mark of the
    process image before ``exec``, which for a child of this driver is the
    driver's own (several GiB once cyclonedx-python-lib has run), so both
    sides printed the same ~3.9 GB.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _resident_now() -> int:
    """Resident set size now (Linux /proc), else the high-water mark so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def library_time(data: bytes) -> tuple[float, int]:
    from cyclonedx.model.bom import Bom

    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation chatter is not what is measured
        started = time.perf_counter()
        bom = Bom.from_json(json.loads(data))  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
    return elapsed, len(bom.components)


def profile_gate(data: bytes, name: str, top: int) -> str:
    policy = fresh_policy()
    profiler = cProfile.Profile()
    profiler.enable()
    gate_run(data, name, policy)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    global POLICY_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--components",
        type=int,
        default=100_000,
        help="components in the generated CycloneDX document",
    )
    parser.add_argument(
        "--lib-components",
        type=int,
        default=None,
        metavar="N",
        help="run cyclonedx-python-lib on an N-component document instead "
        "(the gate is timed again on that same document for the ratio)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of the gate even when its target is met",
    )
    parser.add_argument("--top", type=int, default=25, help="profile rows to print")
    parser.add_argument(
        "--policy",
        type=Path,
        default=POLICY_DIR,
        help="policy directory (default: the repository's policy/)",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    POLICY_DIR = args.policy
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    if not JUICE_SHOP.is_file():
        print(f"bench_scan: the corpus file {JUICE_SHOP} is missing", file=sys.stderr)
        return 2
    fresh_policy()  # fail early, with the policy's own message

    source = orjson.loads(JUICE_SHOP.read_bytes())
    document, count = build_document(source, args.components)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        path = Path(tmp) / f"bom-{count}.cdx.json"
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        del document
        data = path.read_bytes()
        name = str(path)
        print(
            f"document: {count:,} components (+1 metadata subject) from {JUICE_SHOP.name}, "
            f"CycloneDX {source.get('specVersion')} JSON, {mib(len(data))}, written to {path}"
        )
        gate_components = len(gate_run(data, name, fresh_policy())[0].components)
        assert gate_components == count + 1, (gate_components, count)

        floor = parse_time(data, gc_paused=True)
        floor_gc = parse_time(data, gc_paused=False)
        gate, read, judge = gate_time(data, name)
        print(
            f"(a) parse floor  orjson.loads, GC paused            best of 3: {floor:8.3f} s"
            f"   (with the GC running: {floor_gc:.3f} s)"
        )
        print(
            f"(b) gate         parse_input + evaluate_results     best of 3: {gate:8.3f} s"
            f"   ({gate / count * 1e6:.1f} us/component: reading {read:.3f} s, "
            f"evaluating {judge:.3f} s)"
        )

        lib_data, lib_count, lib_gate = data, count, gate
        if args.lib_components is not None and args.lib_components < count:
            small, lib_count = build_document(source, args.lib_components)
            lib_data = orjson.dumps(small, option=orjson.OPT_INDENT_2)
            lib_gate = gate_time(lib_data, f"bom-{lib_count}.cdx.json")[0]
            print(
                f"    the library is run on a {lib_count:,}-component document, NOT on the "
                f"{count:,}-component one (--lib-components); the gate takes {lib_gate:.3f} s "
                "on that same document, and the library/gate ratio below compares those two"
            )
        library, library_count = library_time(lib_data)
        print(
            f"(c) library      Bom.from_json(json.loads(data))     once:      {library:8.3f} s"
            f"   on {lib_count:,} components ({library_count:,} top-level ones in bom.components)"
        )

        parse_peak, parse_held = peak_memory(lambda: None, lambda _: orjson.loads(data))
        gate_peak, gate_held = peak_memory(
            fresh_policy, lambda policy: gate_run(data, name, policy)
        )
        parse_rss, gate_rss = rss_growth("parse", path), rss_growth("gate", path)
        print(
            f"(d) peak memory  tracemalloc, separate runs: parse {mib(parse_peak)}, gate "
            f"{mib(gate_peak)} (input bytes and policy not counted)"
        )
        print(
            f"    still held after: parse {mib(parse_held)} (the document), gate "
            f"{mib(gate_held)} (components and findings; the document is freed)"
        )
        print(
            f"    resident high-water growth, fresh process each: parse {mib(parse_rss)}, "
            f"gate {mib(gate_rss)}"
        )

        ratio_parse = gate / floor
        ratio_library = library / lib_gate
        ratio_peak = gate_peak / parse_peak
        on = f"   (on {lib_count:,} components)" if lib_count != count else ""
        print("ratios:")
        print(
            f"  gate / parse floor      {ratio_parse:6.2f}x   target <= {TARGET_GATE_VS_PARSE}x"
            f"   {verdict(ratio_parse <= TARGET_GATE_VS_PARSE)}"
            f"   (against the GC-running parse: {gate / floor_gc:.2f}x; reading alone: "
            f"{read / floor:.2f}x)"
        )
        print(
            f"  library / gate          {ratio_library:6.2f}x   target >= "
            f"{TARGET_LIBRARY_VS_GATE:.0f}x    {verdict(ratio_library >= TARGET_LIBRARY_VS_GATE)}"
            f"{on}"
        )
        print(
            f"  gate peak / parse peak  {ratio_peak:6.2f}x   target <= {TARGET_PEAK_VS_PARSE}x"
            f"   {verdict(ratio_peak <= TARGET_PEAK_VS_PARSE)}"
            f"   (resident high-water: {gate_rss / max(parse_rss, 1):.2f}x)"
        )

        missed = ratio_parse > TARGET_GATE_VS_PARSE
        if LARGE_SPDX.is_file():
            spdx = LARGE_SPDX.read_bytes()
            spdx_floor = parse_time(spdx, gc_paused=True)
            spdx_floor_gc = parse_time(spdx, gc_paused=False)
            spdx_gate, spdx_read, spdx_judge = gate_time(spdx, str(LARGE_SPDX))
            spdx_count = len(parse_input(spdx, str(LARGE_SPDX)).components)
            spdx_ratio = spdx_gate / spdx_floor
            missed = missed or spdx_ratio > TARGET_GATE_VS_PARSE
            print(f"SPDX {LARGE_SPDX.name} ({spdx_count:,} components, {mib(len(spdx))}):")
            print(
                f"  parse floor {spdx_floor:.4f} s (GC running: {spdx_floor_gc:.4f} s), gate "
                f"{spdx_gate:.4f} s (reading {spdx_read:.4f} s, evaluating {spdx_judge:.4f} s)"
            )
            print(
                f"  gate / parse floor      {spdx_ratio:6.2f}x   target <= {TARGET_GATE_VS_PARSE}x"
                f"   {verdict(spdx_ratio <= TARGET_GATE_VS_PARSE)}"
                f"   (reading alone: {spdx_read / spdx_floor:.2f}x)"
            )
        else:
            print(f"SPDX: {LARGE_SPDX} is missing; skipped")

        if missed or args.profile:
            print(
                f"\ncProfile of one gate run on the {count:,}-component document "
                f"(top {args.top} by own time, then by cumulative time):"
            )
            print(profile_gate(data, name, args.top))
            if LARGE_SPDX.is_file():
                print(f"\ncProfile of one gate run on {LARGE_SPDX.name}:")
                print(profile_gate(LARGE_SPDX.read_bytes(), str(LARGE_SPDX), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
