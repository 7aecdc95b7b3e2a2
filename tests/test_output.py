"""Writing reports: atomic, one-line errors, modes kept, odd targets and odd names.

The tests run as root, where a 0555 folder does not stop a write, so
"cannot write" is produced by means root cannot get around: a parent that
is a regular file, a missing folder, a target that is a folder, /proc (no
files can be created there) and a full disk (/dev/full through a symbolic
link, or ``os.write`` failing with ENOSPC).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.cli import main
from checker.errors import UsageError
from checker.inputs import display_path
from checker.output import stale_temporaries, write_atomic

ROOT = Path(__file__).resolve().parents[1]
SBOM = ROOT / "tests" / "data" / "gate" / "psycopg-lgpl.cdx.json"
POLICY = ["--policy", str(ROOT / "policy")]
VALID = ROOT / "tests" / "data" / "vex" / "registers" / "valid"
REGISTER = ["--vex", str(VALID), "--adr", str(ROOT / "adr"), "--today", "2026-06-01"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name.endswith(".tmp"))


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# --------------------------------------------------------------------------- failures


def test_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    target = tmp_path / "afile" / "report.json"
    with pytest.raises(UsageError) as caught:
        write_atomic(target, "{}")
    assert str(caught.value) == f"cannot write {target}: Not a directory"
    assert temporaries(tmp_path) == []


def test_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.json"
    with pytest.raises(UsageError) as caught:
        write_atomic(target, "{}")
    message = str(caught.value)
    assert message.startswith(f"cannot write {target}: No such file or directory")
    assert f"folder {tmp_path / 'missing'} does not exist" in message and "\n" not in message
    assert not (tmp_path / "missing").exists()


def test_target_that_is_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.mkdir()
    with pytest.raises(UsageError) as caught:
        write_atomic(target, "{}")
    assert str(caught.value) == f"cannot write {target}: Is a directory"
    assert list(target.iterdir()) == [] and temporaries(tmp_path) == []


def test_full_disk_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(UsageError) as caught:
        write_atomic(target, "new report")
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert target.read_text(encoding="utf-8") == "previous"
    assert temporaries(tmp_path) == []


@pytest.mark.skipif(
    not (Path("/dev/full").exists() and stat.S_ISCHR(os.stat("/dev/full").st_mode)),
    reason="needs the /dev/full character device",
)
def test_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    """--output /dev/full (or /dev/stdout) must write to the device, not rename over it.

    Through a link in tmp_path, so a regression replaces the link, never the
    system's /dev/full.
    """
    link = tmp_path / "report.json"
    link.symlink_to("/dev/full")
    with pytest.raises(UsageError) as caught:
        write_atomic(link, "report")
    assert str(caught.value) == f"cannot write {link}: No space left on device"
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert temporaries(tmp_path) == []


def test_named_pipe_stays_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer's open does not block
    try:
        write_atomic(fifo, "through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert temporaries(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_folder_where_no_file_can_be_created_is_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """/proc refuses new files even to root: what a read-only folder does to others."""
    target = "/proc/rune-policy-report.json"
    code, out, err = run(capsys, "check", str(SBOM), *POLICY, "--output", target)
    assert code == 2 and out == ""
    assert err == f"rune-policy: error: cannot write {target}: No such file or directory\n"


@pytest.mark.parametrize("command", ["check", "export"])
def test_cli_output_failures_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    args = (
        ["check", str(SBOM), *POLICY]
        if command == "check"
        else ["vex", "export", "--format", "openvex", *REGISTER]
    )
    for target, reason in (
        (tmp_path / "afile" / "out.json", "Not a directory"),
        (tmp_path, "Is a directory"),
        (tmp_path / "missing" / "out.json", "No such file or directory"),
    ):
        code, out, err = run(capsys, *args, "--output", str(target))
        assert code == 2 and out == ""
        error = err.splitlines()[-1]  # after export's notes on stderr
        assert error.startswith(f"rune-policy: error: cannot write {target}: {reason}")
        assert "internal error" not in err and "Traceback" not in err
        assert command == "export" or err.count("\n") == 1
    assert temporaries(tmp_path) == []


# --------------------------------------------------------------------------- modes


def test_rewritten_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    for mode in (0o644, 0o640, 0o604):
        os.chmod(target, mode)
        write_atomic(target, "new")
        assert oct(stat.S_IMODE(target.stat().st_mode)) == oct(mode)
    assert target.read_text(encoding="utf-8") == "new"


@pytest.mark.usefixtures("umask_022")
def test_new_file_gets_the_umask_default(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.json", "x")
    assert oct(stat.S_IMODE((tmp_path / "a.json").stat().st_mode)) == oct(0o644)
    os.umask(0o027)
    write_atomic(tmp_path / "b.json", "x")
    assert oct(stat.S_IMODE((tmp_path / "b.json").stat().st_mode)) == oct(0o640)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_rewritten_file_keeps_its_owner(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    os.chown(target, 4242, 4343)
    write_atomic(target, "new")
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (4242, 4343)


def test_cli_rewrite_keeps_0644(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")
    os.chmod(target, 0o644)
    code, _, err = run(capsys, "check", str(SBOM), *POLICY, "--output", str(target))
    assert code == 0, err
    assert oct(stat.S_IMODE(target.stat().st_mode)) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_link_to_a_file_replaces_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


# --------------------------------------------------------------------------- names


def test_display_path_escapes_what_cannot_be_printed() -> None:
    undecodable = os.fsdecode(b"out/r\xff.json")
    assert display_path(Path(undecodable)) == "out/r\\xff.json"
    assert display_path("two\nlines.json") == "two\\nlines.json"
    assert display_path("esc\x1b[31m.json") == "esc\\x1b[31m.json"
    assert display_path("отчёт 2026.json") == "отчёт 2026.json"  # any script stays as it is


def test_non_utf8_name_is_written_and_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / os.fsdecode(b"report-\xff.json")
    code, out, err = run(capsys, "check", str(SBOM), *POLICY, "--output", str(target))
    assert code == 0 and out == ""
    assert err == f"rune-policy: report written to {tmp_path}/report-\\xff.json (pass)\n"
    assert os.listdir(os.fsencode(tmp_path)) == [b"report-\xff.json"]


def test_longest_file_name_is_writable(tmp_path: Path) -> None:
    """The temporary name is cut so a 255-byte target name still works."""
    target = tmp_path / ("r" * 250 + ".json")
    write_atomic(target, "x")
    assert target.read_text(encoding="utf-8") == "x" and temporaries(tmp_path) == []


def test_stale_temporaries_match_only_write_atomic_names(tmp_path: Path) -> None:
    target = tmp_path / "register.yaml"
    left = tmp_path / ".register.yaml.k2x_9ab0.tmp"
    for name in (left.name, ".register.yaml.lock", ".register.yaml.notes.tmp", "other.tmp"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert stale_temporaries(target) == [left]
