"""The benchmark script runs (its ratio is reported by running it for real)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import clean_env

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_create_job.py"


def test_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--jobs", "300", "--rounds", "1"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ratio") == 2
