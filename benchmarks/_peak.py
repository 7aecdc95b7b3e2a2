"""Run one side of a benchmark in this fresh process; record its time and peak RSS.

``_peak.py REPORT -c CODE ARGS`` runs CODE as ``python -c`` would;
``_peak.py REPORT --cli ARGS`` imports the gate's CLI, then calls
``checker.cli.main(ARGS)``; ``_peak.py REPORT --read PATHS`` times the
readers alone (``checker.sources.read_paths``). REPORT receives ``SECONDS PEAK``: the wall time
of the work (the code, or ``main`` without the import of the CLI, which is
start-up and measured on its own) and the process's resident high-water mark
(``VmHWM``, bytes). The process reads its own peak: the rusage a parent
collects inherits the parent's high-water mark across fork and exec, which
made two unlike workloads print the same number.
"""

from __future__ import annotations

import sys
import time


def _hwm() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    report, mode, *rest = sys.argv[1:]
    code = 0
    elapsed = 0.0
    try:
        if mode == "--cli":
            from checker.cli import main as cli_main

            started = time.perf_counter()
            try:
                code = cli_main(rest)
            finally:
                elapsed = time.perf_counter() - started
        elif mode == "--read":
            from pathlib import Path

            from checker.sources import read_paths

            started = time.perf_counter()
            try:
                inputs = read_paths([Path(p) for p in rest])
                code = 3 if inputs.errors else 0
            finally:
                elapsed = time.perf_counter() - started
        elif mode == "-c":
            source, *args = rest
            sys.argv = ["-c", *args]
            started = time.perf_counter()
            try:
                exec(compile(source, "<bench>", "exec"), {"__name__": "__main__"})
            finally:
                elapsed = time.perf_counter() - started
        else:
            raise SystemExit(f"_peak: expected -c, --cli or --read, got {mode!r}")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout.flush()
        with open(report, "w", encoding="ascii") as out:
            out.write(f"{elapsed} {_hwm()}")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
