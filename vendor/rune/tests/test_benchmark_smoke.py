"""The benchmark script runs (its ratio is reported by running it for real)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env, pg_admin_url

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_create_job.py"
BENCH_PG = BENCH.with_name("bench_migrate_to_postgres.py")


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


def test_migrate_to_postgres_benchmark_runs() -> None:
    """Needs the PostgreSQL server and pgloader; the real numbers come from a full run."""
    if shutil.which("pgloader") is None:
        pytest.skip("pgloader is not installed")
    result = subprocess.run(
        [sys.executable, str(BENCH_PG), "--quick", "--pg-url", pg_admin_url()],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "(verified)" in result.stdout and result.stdout.count("ratio") == 1


CLAIM_BENCH = BENCH.parent / "bench_claim.py"


def test_claim_benchmark_runs() -> None:
    """Both backends, 1 and 2 processes; the real numbers come from a full run."""
    env = clean_env(RUNE_TEST_PG_URL=pg_admin_url())
    result = subprocess.run(
        [sys.executable, str(CLAIM_BENCH), "--quick", "--procs", "1,2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "claims/s" in line]
    expected = [[b, p] for b in ("sqlite", "postgresql") for p in "12"]
    assert [line.split()[:2] for line in lines] == expected, result.stdout
    assert all("ratio" in line for line in lines)
