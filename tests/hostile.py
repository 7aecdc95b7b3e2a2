"""What the hostile-input suite and campaign share: a capped, leak-checked gate run.

:func:`gate` runs ``rune-policy`` in a fresh process under an address-space
cap and a timeout, with secret-shaped values in its environment, and says
whether it crashed (no exit code, a traceback, an internal error) and which
secrets reached its output. ``tests/test_hostile.py`` asserts on it with
small inputs; ``benchmarks/hostile_campaign.py`` counts with full-size ones.
Neither pytest nor Hypothesis is imported here.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]

#: Secret-shaped values every run has in its environment.
SECRETS = {
    "GITHUB_TOKEN": "ghs_FAKEhostileToken0123456789",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY",
    "NPM_TOKEN": "npm_FAKEhostile0123456789abcdef",
    "RUNE_DB_URL": "postgresql://rune:pw-FAKE-hostile-5678@db.internal/rune",
}
#: What must never be printed: each secret, and the password inside the URL.
NEVER = (*SECRETS.values(), "pw-FAKE-hostile-5678")
#: Address-space cap of every run: far below what the attacks would take.
MEMORY = 2 * 1024**3
TIMEOUT = 60.0
FORMATS = ("text", "json", "sarif", "junit", "markdown")
AGPL_PURL = "pkg:pypi/agpl-thing@1.0"
AGPL_COMPONENT = (
    '{"type": "library", "name": "agpl-thing", "version": "1.0", '
    f'"purl": "{AGPL_PURL}", "licenses": [{{"license": {{"id": "AGPL-3.0-only"}}}}]}}'
)


@dataclass(frozen=True)
class Run:
    """One gate process: its exit code, output, time and what went wrong with it."""

    code: int | None
    out: str
    err: str
    seconds: float
    #: Peak resident memory of the process, in bytes (0 where unknown).
    peak: int = 0
    leaks: tuple[str, ...] = field(default=())
    timed_out: bool = False

    @property
    def both(self) -> str:
        return self.out + self.err

    @property
    def crashed(self) -> bool:
        """Killed by a signal, an exit code outside the documented four, or a traceback."""
        return (
            self.code not in (0, 1, 2, 3) or "Traceback" in self.err or "internal error" in self.err
        )


def gate(
    args: Sequence[str],
    cwd: Path,
    *,
    timeout: float = TIMEOUT,
    memory: int = MEMORY,
) -> Run:
    """``rune-policy ARGS`` in a fresh process capped at ``memory`` bytes of address space."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        **SECRETS,
    }

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=cap,
    )
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    readers = [
        threading.Thread(target=_drain, args=(stream, chunks[name]), daemon=True)
        for name, stream in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    status, usage = 0, None
    while True:  # wait4, not wait: it also says how much memory the process used
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    peak = usage.ru_maxrss * 1024 if usage is not None else 0
    out, err = b"".join(chunks["out"]), b"".join(chunks["err"])
    text_out = out.decode("utf-8", "replace")
    text_err = err.decode("utf-8", "replace")
    leaks = tuple(s for s in NEVER if s in text_out or s in text_err)
    code = None if timed_out or proc.returncode < 0 else proc.returncode
    return Run(code, text_out, text_err, seconds, peak, leaks, timed_out)


def _drain(stream: IO[bytes] | None, into: list[bytes]) -> None:
    if stream is None:
        return
    while chunk := stream.read(65536):
        into.append(chunk)
    stream.close()


def policy_args(*paths: str | Path) -> list[str]:
    """``check`` with the repository's policy and no register, on ``paths``."""
    return ["check", "--no-vex", "--policy", str(ROOT / "policy"), *map(str, paths)]


def cyclonedx(components: str, *, head: str = "") -> str:
    """A CycloneDX 1.5 JSON document with the given components text."""
    return (
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, '
        + head
        + '"components": '
        + components
        + "}"
    )


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """YAML whose last anchor expands to ``width ** levels`` nodes (a billion laughs)."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def policy_copy(folder: Path) -> Path:
    """A copy of the repository's policy (and its ADRs) under ``folder``."""
    shutil.copytree(ROOT / "policy", folder / "policy")
    shutil.copytree(ROOT / "adr", folder / "adr")
    return folder / "policy"
