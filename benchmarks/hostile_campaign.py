"""The hostile-input campaign: issue #11's attacks at full size, each in a capped process.

``tests/test_hostile.py`` runs the same attacks small enough for CI; this
runs them as the adversarial review did: the 478-byte alias bombs, a 10 MB
register and a 66 MB policy, a 262 MB CycloneDX document under a 4 GiB
address-space limit, eight concurrent ``vex add`` processes for several
rounds and SIGKILLs at random moments of an add. Every gate run gets
secret-shaped values in its environment (``tests/hostile.py``).

    .venv/bin/python benchmarks/hostile_campaign.py [--rounds 5] [--kills 50] [--seed N]

prints one line per attack (expected and actual exit code, seconds, peak
memory, whether the message names the file and place, leaks) and a count
of attacks held; exits 1 if any attack was not held.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import (  # noqa: E402
    AGPL_COMPONENT,
    FORMATS,
    MEMORY,
    SECRETS,
    alias_bomb,
    cyclonedx,
    gate,
    policy_args,
    policy_copy,
    write,
)

GiB = 1024**3


@dataclass(frozen=True)
class Attack:
    name: str
    #: Builds the inputs in a fresh folder and returns the command line.
    setup: Callable[[Path], list[str]]
    codes: tuple[int, ...]
    #: What the message must say (file and place), as a regular expression.
    message: str
    memory: int = MEMORY
    timeout: float = 120.0


def _includes(fmt: str) -> Attack:
    def setup(d: Path) -> list[str]:
        write(d / "d" / "requirements.txt", "-r /proc/self/environ\n")
        return [*policy_args("d/requirements.txt"), "--format", fmt]

    return Attack(
        f"requirements -r /proc/self/environ ({fmt})",
        setup,
        (3,),
        r"d/requirements\.txt:line 1: includes requirements file '/proc/self/environ'",
    )


def _shadow(d: Path) -> list[str]:
    write(d / "d" / "requirements.txt", "-c /etc/shadow\n")
    return policy_args("d/requirements.txt")


def _policy_bomb(d: Path) -> list[str]:
    policy = policy_copy(d)
    licenses = policy / "licenses.yaml"
    licenses.write_text(licenses.read_text(encoding="utf-8") + alias_bomb(), encoding="utf-8")
    write(d / "bom.json", cyclonedx("[]"))
    return ["check", "--no-vex", "--policy", str(policy), "bom.json"]


def _register_bomb(d: Path) -> list[str]:
    write(d / "vex" / "register.yaml", "version: 1\n" + alias_bomb() + "entries: []\n")
    write(d / "bom.json", cyclonedx("[]"))
    return ["check", "--policy", str(ROOT / "policy"), "bom.json"]


def _values_bomb(d: Path) -> list[str]:
    write(d / "values.yaml", alias_bomb())
    return policy_args("values.yaml")


_PAD = "  # padding " + "x" * 100 + "\n"


def _big_register(d: Path) -> list[str]:
    write(d / "vex" / "register.yaml", "version: 1\nentries:\n" + _PAD * (10 * 2**20 // len(_PAD)))
    write(d / "bom.json", cyclonedx("[]"))
    return ["check", "--policy", str(ROOT / "policy"), "bom.json"]


def _big_policy(d: Path) -> list[str]:
    policy = policy_copy(d)
    with (policy / "dependencies.yaml").open("a", encoding="utf-8") as handle:
        handle.write(_PAD * (66 * 2**20 // len(_PAD)))
    write(d / "bom.json", cyclonedx("[]"))
    return ["check", "--no-vex", "--policy", str(policy), "bom.json"]


def _huge_sbom(d: Path) -> list[str]:
    item = AGPL_COMPONENT.replace("agpl-thing", "c" * 400)
    count = 262_000_000 // (len(item) + 2)  # 262 MB: under the default 256 MiB limit
    with (d / "huge.cdx.json").open("w", encoding="utf-8") as handle:
        handle.write(cyclonedx("[]")[:-3] + "[")  # the header, then the list
        for i in range(count):
            handle.write(item if i == 0 else ", " + item)
        handle.write("]}")
    return policy_args("huge.cdx.json")


def _fifo(d: Path) -> list[str]:
    os.mkfifo(d / "given.cdx.json")
    (d / "repo").mkdir()
    os.mkfifo(d / "repo" / "pipe")
    os.symlink(d / "repo" / "pipe", d / "repo" / "bom.cdx.json")
    return policy_args("given.cdx.json", "repo")


def _dup_json(d: Path) -> list[str]:
    twice = AGPL_COMPONENT.replace('"licenses"', '"licenses": [], "licenses"', 1)
    write(d / "bom.cdx.json", cyclonedx(f"[{twice}]"))
    return policy_args("bom.cdx.json")


def _xml_foreign(d: Path) -> list[str]:
    write(
        d / "bom.cdx.xml",
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
        '<component type="library" xmlns="">'
        "<name>agpl-thing</name><version>1.0</version>"
        "<licenses><license><id>AGPL-3.0-only</id></license></licenses>"
        "</component></components></bom>",
    )
    return policy_args("bom.cdx.xml")


def _tag_value(d: Path) -> list[str]:
    write(
        d / "x.spdx",
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
        "DocumentName: x\nDocumentNamespace: https://example.com/x\n"
        "PackageVersion: 1.0\nPackageLicenseDeclared: AGPL-3.0-only\n",
    )
    return policy_args("x.spdx")


def _nameless(d: Path) -> list[str]:
    nameless = AGPL_COMPONENT.replace('"name": "agpl-thing", ', "")
    write(d / "bom.cdx.json", cyclonedx(f"[{nameless}]"))
    return policy_args("bom.cdx.json")


def _fake_os(d: Path) -> list[str]:
    fake = (
        '{"type": "library", "name": "gpl-lib", "version": "1", "purl": "pkg:deb/", '
        '"licenses": [{"license": {"id": "GPL-3.0-only"}}]}'
    )
    write(d / "bom.cdx.json", cyclonedx(f"[{fake}]"))
    return policy_args("bom.cdx.json")


def _components(value: str) -> Callable[[Path], list[str]]:
    def setup(d: Path) -> list[str]:
        write(d / "bom.cdx.json", cyclonedx(value))
        return policy_args("bom.cdx.json")

    return setup


def _walk(d: Path) -> list[str]:
    repo = d / "repo"
    write(repo / "env" / "pyvenv.cfg", "")
    write(repo / "env" / "a.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    write(repo / "x" / "node_modules" / "b.cdx.json", cyclonedx(f"[{AGPL_COMPONENT}]"))
    write(
        repo / "late.json",
        '{"metadata": {"component": {"name": "a", "type": "application", "description": "'
        + "x" * 5_000_000
        + '"}}, "components": ['
        + AGPL_COMPONENT
        + '], "specVersion": "1.5", "bomFormat": "CycloneDX"}',
    )
    return policy_args("repo")


def _non_utf8(d: Path) -> list[str]:
    (d / "repo").mkdir()
    with open(os.fsencode(d / "repo") + b"/bom-\xff.cdx.json", "w", encoding="utf-8") as handle:
        handle.write(cyclonedx(f"[{AGPL_COMPONENT}]"))
    return [*policy_args("repo"), "--format", "json", "--output", os.fsdecode(b"r\xff.json")]


def _size(value: str) -> Callable[[Path], list[str]]:
    def setup(d: Path) -> list[str]:
        write(d / "bom.json", cyclonedx("[]"))
        return [*policy_args("bom.json"), "--max-input-size", value]

    return setup


def _unwritable(d: Path) -> list[str]:
    write(d / "bom.json", cyclonedx("[]"))
    write(d / "file", "")
    return [*policy_args("bom.json"), "--output", "file/report.txt"]


ATTACKS: list[Attack] = [
    *(_includes(fmt) for fmt in FORMATS),
    Attack("requirements -c /etc/shadow", _shadow, (3,), r"line 1: includes constraints file"),
    Attack("alias bomb in the policy", _policy_bomb, (2,), r"licenses\.yaml:line \d+: expands"),
    Attack("alias bomb in the register", _register_bomb, (2,), r"register\.yaml:line \d+: expands"),
    Attack("alias bomb in values.yaml", _values_bomb, (3,), r"values\.yaml:line \d+: expands"),
    Attack("10 MB register", _big_register, (2,), r"register\.yaml: is [\d,]+ bytes, over"),
    Attack("66 MB policy", _big_policy, (2,), r"dependencies\.yaml: is [\d,]+ bytes, over"),
    Attack(
        "262 MB CycloneDX under a 4 GiB limit",
        _huge_sbom,
        (3,),
        r"huge\.cdx\.json: is [\d,]+ bytes of JSON; reading it needs about",
        memory=4 * GiB,
        timeout=300.0,
    ),
    Attack("FIFO given and linked", _fifo, (3,), r"given\.cdx\.json: is a named pipe"),
    Attack("duplicate JSON key", _dup_json, (3,), r"\$\.components\[0\]: has the key 'licenses'"),
    Attack('XML component with xmlns=""', _xml_foreign, (1, 3), r"bom\.cdx\.xml"),
    Attack("tag-value fields before PackageName", _tag_value, (1, 3), r"x\.spdx:line \d+"),
    Attack("nameless component with a purl", _nameless, (1,), r"bom\.cdx\.json:\$\.components"),
    Attack("library with purl pkg:deb/", _fake_os, (1, 3), r"bom\.cdx\.json:\$\.components"),
    *(
        Attack(f"components is {label}", _components(value), (1, 3), r"\$\.components")
        for label, value in (("a string", '"x"'), ("a number", "4"), ("an object", "{}"))
    ),
    Attack("components is null", _components("null"), (1, 3), r"\$\.components"),
    Attack("walk: venv look-alikes and a late marker", _walk, (1,), r"denied-license"),
    Attack("non-UTF-8 names in report and --output", _non_utf8, (1,), r"report written to r\\xff"),
    *(
        Attack(f"--max-input-size {v}", _size(v), (2,), r"--max-input-size")
        for v in ("inf", "1e400", "1e30", "nan")
    ),
    Attack("--max-input-size 30G on a small file", _size("30G"), (0,), r"^"),
    Attack("--output under a file", _unwritable, (2,), r"cannot write file/report\.txt"),
]


def run_attack(attack: Attack) -> bool:
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        folder = Path(scratch)
        args = attack.setup(folder)
        run = gate(args, folder, timeout=attack.timeout, memory=attack.memory)
        temporaries = [p.name for p in folder.rglob("*.tmp")]
    named = re.search(attack.message, run.both) is not None
    held = (
        not run.crashed
        and not run.leaks
        and not run.timed_out
        and run.code in attack.codes
        and named
        and not temporaries
    )
    print(
        f"{'held  ' if held else 'BROKEN'} {attack.name:46} exit {run.code} "
        f"(want {'/'.join(map(str, attack.codes))}) {run.seconds:6.2f} s "
        f"peak {run.peak / 2**20:7.0f} MiB  named={'yes' if named else 'NO'}"
        f"  leaks={len(run.leaks)}{'  temp files left' if temporaries else ''}",
        flush=True,
    )
    if not held:
        print("      " + (run.err or run.out)[-600:].replace("\n", "\n      "))
    return held


# --------------------------------------------------------------------------- the register


def _register(folder: Path) -> Path:
    write(folder / "adr" / "0006-x.md", "---\nstatus: accepted\n---\n")
    return write(folder / "vex" / "register.yaml", "version: 1\nentries: []\n")


def _add(folder: Path, n: int) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "checker",
        "vex",
        "add",
        "--kind",
        "license",
        "--component",
        f"pkg:pypi/pkg{n}@1.0",
        "--license",
        "AGPL-3.0-only",
        "--reason",
        "campaign",
        "--approver",
        "Jane Doe",
        "--ref",
        "ADR-0006",
        "--expires",
        "2027-06-01",
        "--today",
        "2026-12-03",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **SECRETS}
    return subprocess.Popen(
        args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _validate(folder: Path) -> tuple[int, int]:
    """(exit code of ``vex validate``, entries in the register)."""
    proc = subprocess.run(
        [sys.executable, "-m", "checker", "vex", "validate", "--today", "2026-12-03"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
    )
    text = (folder / "vex" / "register.yaml").read_text(encoding="utf-8")
    return proc.returncode, len(re.findall(r"^\s*- id: LIC-\d{4}$", text, re.MULTILINE))


def concurrent_adds(rounds: int) -> bool:
    held = True
    for number in range(rounds):
        with tempfile.TemporaryDirectory(prefix="hostile-vex-") as scratch:
            folder = Path(scratch)
            _register(folder)
            started = time.monotonic()
            procs = [_add(folder, n) for n in range(8)]
            outputs = [p.communicate() for p in procs]
            seconds = time.monotonic() - started
            ok = sum(1 for p in procs if p.returncode == 0)
            ids = {m for out, _ in outputs for m in re.findall(rb"added (LIC-\d{4})", out)}
            code, entries = _validate(folder)
            good = ok == entries == len(ids) == 8 and code == 0
            held = held and good
            print(
                f"{'held  ' if good else 'BROKEN'} 8 concurrent vex add, round {number + 1}: "
                f"{ok} succeeded, {len(ids)} ids printed, {entries} entries, validate exit "
                f"{code}, {seconds:.1f} s",
                flush=True,
            )
    return held


def killed_adds(kills: int, seed: int) -> bool:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="hostile-kill-") as scratch:
        folder = Path(scratch)
        _register(folder)
        probe = _add(folder, 10_000)
        started = time.monotonic()
        probe.communicate()
        span = time.monotonic() - started
        invalid = 0
        landed = 0
        for n in range(kills):
            proc = _add(folder, n)
            time.sleep(rng.uniform(0.0, span))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            code, entries = _validate(folder)
            invalid += code != 0
            landed = entries
        temporaries = len(list((folder / "vex").glob("*.tmp")))
        after = _add(folder, 99_999)
        after.communicate()
        code, final = _validate(folder)
    good = invalid == 0 and after.returncode == 0 and code == 0 and final == landed + 1
    print(
        f"{'held  ' if good else 'BROKEN'} {kills} SIGKILLs during vex add (one add takes "
        f"{span:.2f} s): register invalid after {invalid}, {landed - 1} kills landed after the "
        f"write, {temporaries} temp files left, the next add "
        f"{'succeeded' if after.returncode == 0 else 'FAILED'}",
        flush=True,
    )
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of 8 concurrent adds")
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs during vex add")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--only", default=None, help="run the attacks whose name holds this")
    args = parser.parse_args(argv)
    attacks = [a for a in ATTACKS if args.only is None or args.only in a.name]
    results = [run_attack(attack) for attack in attacks]
    if args.only is None:
        results.append(concurrent_adds(args.rounds))
        results.append(killed_adds(args.kills, args.seed))
    held = sum(results)
    print(f"hostile_campaign: {held} of {len(results)} attacks held")
    return 0 if held == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
