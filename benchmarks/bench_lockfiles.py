"""Lockfile and tree-scan speed, as ratios over bare parsing in the same process.

1. A 2,000-package ``uv.lock`` built from the real FastAPI template lock:
   the gate (read + evaluate) over ``tomllib.loads`` of the same bytes.
2. A tree of 10,000 files of which a few hundred are manifests (compose
   files, values.yaml, Chart.yaml, requirements.txt, Dockerfiles): the gate's
   ``check DIR`` (walk, detect, read, evaluate) over bare ``yaml.safe_load``
   / ``tomllib`` / line reading of just the manifests.

Target for both: at most 2x. Run: ``.venv/bin/python benchmarks/bench_lockfiles.py``.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.gate import check, evaluate_results  # noqa: E402
from checker.lockfiles import read_lockfile  # noqa: E402
from checker.policy import load_policy  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
UV_LOCK = CORPUS / "lockfiles" / "full-stack-fastapi-template_2026" / "uv.lock"


def best_of(runs: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def build_uv_lock(packages: int) -> str:
    """Replicate the real lock's [[package]] blocks under distinct names."""
    text = UV_LOCK.read_text(encoding="utf-8")
    head, _, rest = text.partition("[[package]]")
    blocks = ["[[package]]" + b for b in ("[[package]]" + rest).split("[[package]]")[1:]]
    out = [head]
    for i in range(packages):
        block = blocks[i % len(blocks)]
        out.append(re.sub(r'^name = "([^"]+)"', rf'name = "\1-x{i}"', block, count=1, flags=re.M))
    return "".join(out)


def build_tree(root: Path, files: int, manifests: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    kinds = {
        "compose.yaml": "services:\n  db:\n    image: postgres:17-alpine\n  cache:\n"
        "    image: redis:7.4\n",
        "values.yaml": "image:\n  registry: docker.io\n  repository: library/postgres\n"
        "  tag: 17-alpine\nreplicaCount: 1\n",
        "Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
        "  - name: postgres\n    version: 1.0.0\n    repository: file://../postgres\n",
        "requirements.txt": "psycopg==3.3.9\nPyYAML==6.0.3\npackaging==26.4\n",
        "Dockerfile": "ARG BASE=python:3.12-slim\nFROM ${BASE} AS build\nRUN true\nFROM build\n",
    }
    names = list(kinds)
    made: list[Path] = []
    for i in range(files):
        folder = root / f"pkg{i % 97}" / f"mod{i % 13}"
        folder.mkdir(parents=True, exist_ok=True)
        if i < manifests:
            kind = names[i % len(names)]
            sub = folder / f"m{i}"
            sub.mkdir(exist_ok=True)
            path = sub / kind
            path.write_text(kinds[kind], encoding="utf-8")
            made.append(path)
        else:
            path = folder / f"file{i}.{rng.choice(['py', 'md', 'txt', 'cfg'])}"
            path.write_text(f"# filler {i}\n" * 5, encoding="utf-8")
    return made


def bare_parse(paths: list[Path]) -> None:
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml" or path.name.endswith(".lock"):
            tomllib.loads(text)
        else:
            text.splitlines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--manifests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not UV_LOCK.is_file():
        print(f"the shared corpus is absent ({UV_LOCK}); nothing to measure")
        return 2
    policy = load_policy(ROOT / "policy")
    with tempfile.TemporaryDirectory() as tmp:
        lock = Path(tmp) / "uv.lock"
        lock.write_text(build_uv_lock(args.packages), encoding="utf-8")
        data = lock.read_bytes()
        floor = best_of(5, lambda: tomllib.loads(data.decode("utf-8")))
        result = read_lockfile("uv-lock", lock, data, len(data) + 1)
        count = len(result.components)

        def gate_lock() -> None:
            evaluate_results([read_lockfile("uv-lock", lock, data, len(data) + 1)], policy)

        gate = best_of(5, gate_lock)
        print(f"uv.lock with {count} packages ({len(data):,} bytes)")
        print(f"  tomllib.loads floor: {floor * 1000:8.1f} ms")
        print(f"  gate read+evaluate : {gate * 1000:8.1f} ms")
        print(f"  ratio gate/floor   : {gate / floor:8.2f}x  (target <= 2.0x)")

        tree = Path(tmp) / "tree"
        manifests = build_tree(tree, args.files, args.manifests, args.seed)
        floor = best_of(3, lambda: bare_parse(manifests))
        run = check([tree], policy)
        gate = best_of(3, lambda: check([tree], policy))
        print(f"tree of {args.files:,} files, {len(manifests)} manifests")
        print(f"  files read by the gate: {len(run.inputs)}, skipped: {len(run.skipped)}")
        print(f"  bare parse of manifests: {floor * 1000:8.1f} ms")
        print(f"  gate check DIR         : {gate * 1000:8.1f} ms")
        print(f"  ratio gate/floor       : {gate / floor:8.2f}x  (target <= 2.0x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
