"""`vex add` under concurrency and crashes: serialized by a lock, never half-written.

Issue #11: eight concurrent `vex add` runs on one file printed `added
LIC-0001` several times and left one entry. These tests run real processes
at once, kill writers at random moments, and hold the lock to see a waiting
writer give up with one line.
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from checker.cli import main
from checker.errors import UsageError
from checker.vex import edit
from checker.vex.edit import Added, add_entry, license_fields, lock_path
from checker.yamlio import load_yaml
from tests.vex.vex_helpers import ROOT, TODAY, TODAY_ARG, repository, run

ADD = [
    "vex",
    "add",
    "--kind",
    "license",
    "--license",
    "AGPL-3.0-only",
    "--reason",
    "Reviewed for the concurrency test.",
    "--approver",
    "Jane Doe",
    "--ref",
    "ADR-0007",
    "--expires",
    "2026-12-31",
    *TODAY_ARG,
]


def add_args(component: str) -> list[str]:
    return [*ADD, "--component", component]


def entries(register: Path) -> list[dict[str, object]]:
    doc, problems = load_yaml(register.read_text(encoding="utf-8"), str(register))
    assert problems == [] and doc is not None
    return list(doc.data["entries"] or [])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "register.yaml")


def validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = run(capsys, "vex", "validate", *TODAY_ARG)
    return code, out + err


def test_concurrent_adds_each_get_their_own_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 real `python -m checker vex add` processes at once: 8 entries, 8 ids, each printed once."""
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    register = repo / "vex" / "register.yaml"
    shipped = register.read_text(encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    components = [f"pkg:pypi/concurrent-{i}@1" for i in range(8)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "checker", *add_args(c)],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in components
    ]
    printed: dict[str, str] = {}
    for component, process in zip(components, processes, strict=True):
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.startswith("added LIC-") and out.endswith(
            " to vex/register.yaml (expires 2026-12-31, 213 days left)\n"
        ), out
        printed[out.split()[1]] = component
    assert sorted(printed) == [f"LIC-{n:04d}" for n in range(1, 9)]  # 8 distinct ids
    written = entries(register)
    assert {str(e["id"]): e["component"] for e in written} == printed  # each wrote what it said
    assert [e["id"] for e in written] == sorted(printed)  # appended in id order
    assert register.read_text(encoding="utf-8").startswith(shipped)
    assert leftovers(register.parent) == []  # no lock file, no temporary file
    code, said = validate(capsys)
    assert code == 0, said
    assert "8 license exceptions" in said


def _child_add(component: str) -> None:
    """In a forked child: the CLI's `vex add`, then exit without running pytest's cleanup."""
    code = 70
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        code = main(add_args(component))
    finally:
        os._exit(code)


def test_writers_killed_at_random_moments_never_corrupt_the_register(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 SIGKILLs at random points of an addition: the file is always the old or the new one.

    Each writer is a forked process running the CLI (a fresh interpreter
    would spend its first 0.3 s importing, far from the write); the delays
    spread over the time one addition takes, so kills land while it reads,
    validates, writes the temporary file and renames it.
    """
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    register = repo / "vex" / "register.yaml"
    code, _, err = run(capsys, *add_args("pkg:pypi/warm-up@1"))  # first-call costs
    assert code == 0, err
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        _child_add("pkg:pypi/calibrate@1")
    assert os.waitpid(pid, 0)[1] == 0
    duration = time.monotonic() - started  # what one child takes, start to exit
    rng = random.Random(11)
    previous = register.read_text(encoding="utf-8")
    killed = completed = 0
    for attempt in range(20):
        delay = rng.uniform(0, 1.1 * duration)
        component = f"pkg:pypi/killed-{attempt}@1"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child_add(component)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)  # no-op for a child that already finished
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            killed += 1
        else:
            assert os.WEXITSTATUS(status) == 0, f"attempt {attempt} exited {status}"
            completed += 1
        where = f"attempt {attempt}, killed after {delay * 1000:.1f} ms"
        text = register.read_text(encoding="utf-8")
        assert text.startswith(previous), where  # nothing before the end ever changes
        now, before = entries(register), entries_of(previous, register)
        assert now[: len(before)] == before, where
        assert len(now) - len(before) in (0, 1), where
        if len(now) > len(before):  # all of this attempt's entry, never part of it
            assert now[-1]["component"] == component, where
        assert [e["id"] for e in now] == [f"LIC-{n:04d}" for n in range(1, len(now) + 1)], where
        code, said = validate(capsys)
        assert code == 0, f"{where}: {said}"
        stray = [n for n in leftovers(register.parent) if n != ".register.yaml.lock"]
        assert len(stray) <= 1, f"{where}: {stray}"  # at most the one a killed write left
        previous = text
    assert killed >= 1, f"no attempt was killed (one addition takes {duration:.3f} s)"
    code, _, err = run(capsys, *add_args("pkg:pypi/after-the-kills@1"))
    assert code == 0, err  # a lock a killed writer held is free again
    assert leftovers(register.parent) == []  # its temporary file removed, the lock file too
    code, said = validate(capsys)
    assert code == 0, said


def entries_of(text: str, register: Path) -> list[dict[str, object]]:
    doc, problems = load_yaml(text, str(register))
    assert problems == [] and doc is not None
    return list(doc.data["entries"] or [])


def hold_lock(register: Path) -> int:
    fd = os.open(lock_path(register), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_writer_that_cannot_get_the_lock_gives_up_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    register = repo / "vex" / "register.yaml"
    before = register.read_bytes()
    monkeypatch.setattr(edit, "LOCK_TIMEOUT", 0.3)
    fd = hold_lock(register)
    try:
        started = time.monotonic()
        code, out, err = run(capsys, *add_args("pkg:pypi/waits@1"))
        waited = time.monotonic() - started
    finally:
        os.close(fd)
    assert code == 2 and out == ""
    assert err == (
        "rune-policy: error: vex/register.yaml is being changed by another process: its lock "
        "vex/.register.yaml.lock was not free within 0.3 s; try again when that process is "
        "done\n"
    )
    assert 0.3 <= waited < 5
    assert register.read_bytes() == before
    code, out, err = run(capsys, *add_args("pkg:pypi/waits@1"))  # the lock is free now
    assert code == 0 and out.startswith("added LIC-0001 "), err
    assert leftovers(register.parent) == []


def test_the_timeout_is_a_parameter_and_a_released_lock_is_waited_for(tmp_path: Path) -> None:
    register = repository(tmp_path) / "vex" / "register.yaml"
    fields = license_fields(
        component="pkg:pypi/x@1", image=None, versions=None, license="MIT", reason="test"
    )

    def add(timeout: float) -> Added:
        return add_entry(
            register,
            fields,
            approver="Jane Doe",
            reference="ADR-0007",
            expires="2026-12-31",
            adr_ids={"ADR-0007"},
            today=TODAY,
            lock_timeout=timeout,
        )

    fd = hold_lock(register)
    with pytest.raises(UsageError, match=r"was not free within 0\.05 s"):
        add(0.05)
    releaser = threading.Timer(0.2, os.close, args=(fd,))
    releaser.start()
    assert add(5).id == "LIC-0001"  # waited for the holder instead of failing
    releaser.join()


def test_a_temporary_file_left_by_a_killed_writer_is_removed_under_the_lock(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    folder = repo / "vex"
    (folder / ".register.yaml.ab12cd_9.tmp").write_text("version: 1\nentr", encoding="utf-8")
    (folder / ".other.yaml.ab12cd_9.tmp").write_text("", encoding="utf-8")  # not this file's
    code, _, err = run(capsys, *add_args("pkg:pypi/x@1"))
    assert code == 0, err
    assert leftovers(folder) == [".other.yaml.ab12cd_9.tmp"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_add_keeps_the_owner_and_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    register = repo / "vex" / "register.yaml"
    os.chown(register, 4242, 4343)
    os.chmod(register, 0o664)
    code, _, err = run(capsys, *add_args("pkg:pypi/x@1"))
    assert code == 0, err
    info = register.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (4242, 4343, 0o664)


def test_add_to_a_non_utf8_file_name_prints_it_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    name = os.fsdecode(b"vex/extra-\xff.yaml")
    code, out, err = run(capsys, *add_args("pkg:pypi/x@1"), "--file", name)
    assert code == 0, err
    assert out == "added LIC-0001 to vex/extra-\\xff.yaml (expires 2026-12-31, 213 days left)\n"
    assert b"extra-\xff.yaml" in os.listdir(os.fsencode(repo / "vex"))


def test_add_into_a_missing_folder_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repository(tmp_path)
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, *add_args("pkg:pypi/x@1"), "--file", "nope/register.yaml")
    assert code == 2 and out == ""
    assert err == "rune-policy: error: cannot add to nope/register.yaml: nope does not exist\n"
