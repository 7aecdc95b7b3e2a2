"""``vex add``: append one validated entry to a register file, as text, atomically.

The file is never re-dumped: comments, key order, quoting and the other
entries stay byte for byte; the new entry is a text block appended to the
``entries:`` list (which must be the file's last top-level key, written as a
block list or as ``entries: []``). Before the file is replaced, the result
is parsed back and must hold exactly the old entries plus the new one, and
the whole register is validated again: any problem the new entry brings
(bad date, unknown status, a reference that does not resolve, an overlap
with a current entry, an expiry in the past) refuses the addition with the
reason, and the file is left as it was.

Concurrency. Two writers that both read the file, both pick ``LIC-0001``
and both rename their version into place lose one entry (and each prints
its id). So an addition runs under an exclusive lock: ``fcntl.flock`` on a
lock file beside the register file, ``.NAME.lock`` (``vex/.register.yaml.lock``
for ``vex/register.yaml``), and everything that decides the new text --
reading the file and the rest of the folder, picking the id, validating --
happens inside it. What is guaranteed:

* ``vex add`` runs on the *same file* (any number of processes, on one host
  or on a file system with working ``flock``, which NFS emulates with POSIX
  locks) are serialized: each sees the entries of those before it, so N
  concurrent additions give N entries with N distinct ids, and each process
  prints the id it wrote.
* A writer that cannot get the lock within :data:`LOCK_TIMEOUT` seconds
  gives up with one line and exit 2; the file is untouched.
* The lock is released by the kernel when its holder dies, even by
  ``SIGKILL``; the holder deletes the lock file while it still holds it, so
  normally none is left, and one left by a killed process is harmless (the
  next writer locks and removes it). A writer only trusts a lock taken on
  the file that is still at the lock path, so deleting it cannot let two
  writers in at once.
* Additions to *different* files of one register folder are not serialized
  with each other: two of them may pick the same id, which ``vex validate``
  (and ``check``) then refuse as a duplicate. Add to one file per folder
  when several writers run at once.
* Editors and tools that do not take the lock are not excluded; the file
  is compared again just before the rename, which catches most of them.

The write goes through a temporary file, ``fsync`` and a rename
(:func:`checker.output.write_atomic`): the file is always the old or the
new version, never half of one, and it keeps its mode and owner. Only
after the new file and its folder are on disk does the command say
``added``. A temporary file left by a writer killed mid-write is removed by
the next writer, under the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import re
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from checker.errors import InputError, PolicyError, Problem, UsageError
from checker.inputs import display_path, read_bytes
from checker.output import stale_temporaries, write_atomic
from checker.vex.fields import DATE_WRITTEN
from checker.vex.register import RegisterCheck, load_register, read_register_file, register_files
from checker.vex.vocabulary import EntryKind
from checker.yamldocs import YSeq
from checker.yamlio import MAX_CONFIG_BYTES, ConfigDoc, load_yaml

#: What a new register file starts with.
NEW_FILE = "# VEX register: see checker/vex/schema.py for the schema.\nversion: 1\nentries:\n"
PREFIXES = {EntryKind.LICENSE: "LIC", EntryKind.VULNERABILITY: "VULN"}
_EMPTY_FLOW = re.compile(r"^(?P<key>entries:)\s*\[\s*\]\s*(?P<comment>#.*)?$")
#: Seconds a writer waits for another one's lock before giving up (exit 2).
LOCK_TIMEOUT = 10.0
#: How long a waiting writer sleeps between attempts (a little jitter is added).
_LOCK_POLL = 0.02

Fields = list[tuple[str, Any]]


@dataclass(slots=True)
class Added:
    id: str
    path: Path
    text: str
    warnings: list[Problem] = field(default_factory=list)


def _prose(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


def license_fields(
    *,
    component: str | None,
    image: str | None,
    versions: str | None,
    license: str,
    reason: str,
) -> Fields:
    """The keys of a new license entry, in the order they are written (without governance)."""
    fields: Fields = [("kind", EntryKind.LICENSE)]
    if component is not None:
        fields.append(("component", component.strip()))
    if image is not None:
        fields.append(("image", image.strip()))
    if versions is not None:
        fields.append(("versions", versions.strip()))
    fields.append(("license", license.strip()))
    fields.append(("reason", _prose(reason)))
    return fields


def vulnerability_fields(
    *,
    vulnerability: str,
    aliases: Sequence[str],
    products: Sequence[str],
    versions: str | None,
    status: str,
    justification: str | None,
    impact: str | None,
    action: str | None,
    cvss: float | None,
    response: Sequence[str],
    patch_sla: str | None,
) -> Fields:
    """The keys of a new vulnerability entry, in the order they are written."""
    fields: Fields = [
        ("kind", EntryKind.VULNERABILITY),
        ("vulnerability", vulnerability.strip()),
    ]
    if aliases:
        fields.append(("aliases", [a.strip() for a in aliases]))
    if cvss is not None:
        fields.append(("cvss", cvss))
    items: list[Any] = [
        {"purl": p.strip(), "versions": versions.strip()} if versions else p.strip()
        for p in products
    ]
    fields.append(("products", items))
    fields.append(("status", status.strip()))
    for name, value in (
        ("justification", justification),
        ("impact_statement", _prose(impact)),
        ("action_statement", _prose(action)),
    ):
        if value is not None:
            fields.append((name, value.strip()))
    if response:
        fields.append(("response", [r.strip() for r in response]))
    if patch_sla is not None:
        fields.append(("patch_sla", patch_sla.strip()))
    return fields


def scalar(value: Any) -> str:
    """One YAML scalar, quoted only where YAML would otherwise read something else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if DATE_WRITTEN.fullmatch(text):
        return text  # the register reads dates as the text written
    dumped = yaml.safe_dump(text, allow_unicode=True, width=2**31 - 1)
    return dumped.removesuffix("\n...\n").removesuffix("\n")


def render_entry(fields: Fields, indent: int) -> str:
    """The entry as a block-list item, indented like the file's other items."""
    lines: list[str] = []
    for i, (key, value) in enumerate(fields):
        lead = "- " if i == 0 else "  "
        if isinstance(value, list):
            lines.append(f"{lead}{key}:")
            for item in value:
                if isinstance(item, dict):
                    for j, (k, v) in enumerate(item.items()):
                        lines.append(f"{'    - ' if j == 0 else '      '}{k}: {scalar(v)}")
                else:
                    lines.append(f"    - {scalar(item)}")
        else:
            lines.append(f"{lead}{key}: {scalar(value)}")
    pad = " " * indent
    return "".join(f"{pad}{line}\n" for line in lines)


def next_id(ids: Collection[str], kind: EntryKind) -> str:
    """``LIC-NNNN`` / ``VULN-NNNN``, one past the highest of its kind."""
    prefix = PREFIXES[kind]
    numbers = [
        int(m.group(1)) for i in ids if (m := re.fullmatch(rf"{prefix}-(\d+)", i)) is not None
    ]
    return f"{prefix}-{max(numbers, default=0) + 1:04d}"


def append_text(original: str, loaded: ConfigDoc, block_for: Any, path: str) -> tuple[str, int]:
    """The file with the entry appended, and the first line of the new block.

    ``loaded`` is ``original`` as loaded. ``block_for(indent)`` renders the
    block. Raises :class:`UsageError` when the file's shape does not allow
    appending without re-writing it.
    """
    doc, problems = loaded
    if doc is None or problems:
        raise PolicyError(
            f"{path} cannot be appended to until it is fixed", problems or [Problem(path, "", "")]
        )
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict) or "entries" not in data:
        raise UsageError(
            f"{path} has no top-level 'entries:' list; add 'version: 1' and 'entries:' first"
        )
    lines = original.splitlines(keepends=True)
    entries_line = doc.line(("entries",))
    later = [name for name in data if name != "entries" and doc.line((str(name),)) > entries_line]
    if later:
        raise UsageError(
            f"{path}: 'entries' must be the last top-level key so an entry can be appended "
            f"without re-writing the file (move {', '.join(map(repr, later))} above it)"
        )
    entries = data["entries"]
    indent = 2
    if entries == []:
        match = _EMPTY_FLOW.match(lines[entries_line - 1].rstrip("\r\n"))
        if match is not None:
            comment = f"  {match.group('comment')}" if match.group("comment") else ""
            lines[entries_line - 1] = f"{match.group('key')}{comment}\n"
        else:
            raise UsageError(f"{path}: write the empty list as 'entries: []' or 'entries:'")
    elif isinstance(entries, YSeq):
        if entries.flow:
            raise UsageError(f"{path}: 'entries' must be a block list ('- id: ...' items)")
        first = lines[entries.item_line(0) - 1]
        indent = len(first) - len(first.lstrip(" "))
        if not first.lstrip(" ").startswith("-"):
            raise UsageError(f"{path}: cannot tell how the entries are indented")
    elif entries is not None:
        raise UsageError(f"{path}: 'entries' must be a list")
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = len(lines) + 1
    return "".join(lines) + block_for(indent), start


def lock_path(path: Path) -> Path:
    """The lock file of register file ``path``: ``.NAME.lock`` in the same folder."""
    return path.with_name(f".{path.name}.lock")


def _lock_error(path: Path, exc: OSError) -> UsageError:
    reason = exc.strerror or os.strerror(exc.errno or errno.EIO)
    return UsageError(
        f"cannot lock {display_path(lock_path(path))} to add to {display_path(path)}: {reason}"
    )


def _open_lock(lock: Path) -> int:
    flags = os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(lock, os.O_RDWR | flags, 0o666)
    except PermissionError:  # someone else's lock file: flock works on a read-only one too
        return os.open(lock, os.O_RDONLY | flags)


@contextlib.contextmanager
def register_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of register file ``path``; see the module doc.

    Polls ``flock(LOCK_NB)`` rather than blocking so the wait has a
    deadline. After locking, the lock file must still be the one at the
    lock path: a previous holder deletes it before unlocking, and a lock on
    a deleted file excludes nobody. Raises :class:`UsageError` on timeout.
    """
    limit = LOCK_TIMEOUT if timeout is None else timeout
    lock = lock_path(path)
    deadline = time.monotonic() + limit
    while True:
        try:
            fd = _open_lock(lock)
        except OSError as exc:
            raise _lock_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise UsageError(
                    f"{display_path(path)} is being changed by another process: its lock "
                    f"{display_path(lock)} was not free within {limit:g} s; try again when "
                    "that process is done"
                ) from None
            time.sleep(_LOCK_POLL * (1 + random.random()))  # jitter: waiters do not retry in step
            continue
        except OSError as exc:
            os.close(fd)
            raise _lock_error(path, exc) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        except OSError as exc:
            os.close(fd)
            raise _lock_error(path, exc) from None
        if same:
            break
        os.close(fd)  # the holder before us deleted it: lock the file now at the path
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it; see the docstring
        os.close(fd)


def add_entry(
    path: Path,
    fields: Fields,
    *,
    approver: str,
    reference: str,
    expires: str,
    adr_ids: Collection[str] | None,
    today: date,
    adr_dir: str = "adr",
    lock_timeout: float | None = None,
) -> Added:
    """Validate and append one entry to ``path`` under its lock; see the module doc.

    ``lock_timeout`` (seconds, default :data:`LOCK_TIMEOUT`) bounds the wait
    for another writer.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"cannot add to {display_path(path)}: {display_path(folder)} {what}")
    with register_lock(path, lock_timeout):
        # Everything that decides the new text happens here, under the lock.
        for leftover in stale_temporaries(path):  # a writer killed mid-write; none runs now
            with contextlib.suppress(OSError):
                leftover.unlink()
        kind = EntryKind(dict(fields)["kind"])
        original = _read(path)
        folder_files = register_files(folder)
        files = sorted({*folder_files, path})
        # Each file is loaded once: the others as they are, this one before and after.
        loaded = {f: read_register_file(f) for f in files if f != path}
        old = loaded[path] = load_yaml(original, str(path))
        before = load_register(files, adr_ids=adr_ids, today=today, loaded=loaded, adr_dir=adr_dir)
        entry_id = next_id(before.register.ids(), kind)
        full: Fields = [
            ("id", entry_id),
            *fields,
            ("approver", " ".join(approver.split())),
            ("reference", reference.strip()),
            ("created", today.isoformat()),
            ("expires", expires.strip()),
        ]
        text, start = append_text(
            original, old, lambda indent: render_entry(full, indent), str(path)
        )
        new = loaded[path] = load_yaml(text, str(path))
        after = load_register(files, adr_ids=adr_ids, today=today, loaded=loaded, adr_dir=adr_dir)
        _refuse_new_problems(before, after, path, start, entry_id)
        _check_round_trip(old, new, full, str(path))
        if _read(path) != original:  # an editor that ignores the lock saved meanwhile
            raise UsageError(
                f"{display_path(path)} changed while the entry was prepared; run the command again"
            )
        write_atomic(path, text)  # keeps the mode and owner; on disk when it returns
        known = set(before.warnings)
        new_warnings = [w for w in after.warnings if w not in known]
        return Added(entry_id, path, text, new_warnings)


def _read(path: Path) -> str:
    """The register file's text, or what a new one starts with.

    Read like every configuration file: a regular file under the size cap
    (a FIFO named ``register.yaml`` must not hang ``vex add``).
    """
    try:
        data = read_bytes(path, MAX_CONFIG_BYTES, what="a register file")
    except InputError as exc:
        if exc.problem.message == "file not found":
            return NEW_FILE
        if exc.problem.message.startswith("is empty"):
            return ""
        raise UsageError(f"cannot read {exc.problem.path}: {exc.problem.message}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{display_path(path)} is not UTF-8 text ({exc.reason})") from None


def _refuse_new_problems(
    before: RegisterCheck, after: RegisterCheck, path: Path, start: int, entry_id: str
) -> None:
    old = {*before.errors, *before.expired}
    new = [p for p in (*after.errors, *after.expired) if p not in old]
    if not new:
        return
    shown: list[Problem] = []
    for problem in new:
        line = problem.line
        if problem.path == str(path) and line is not None and line >= start:
            shown.append(Problem(f"new entry {entry_id}", "", problem.message))
        else:
            shown.append(problem)
    count = len(shown)
    raise PolicyError(
        f"the entry was not added to {path}: {count} problem{'s' if count != 1 else ''}",
        shown,
    )


def _check_round_trip(old: ConfigDoc, new: ConfigDoc, fields: Fields, path: str) -> None:
    """The new text must hold the old data plus exactly the new entry."""
    assert old.doc is not None and new.doc is not None
    old_data = old.doc.data if isinstance(old.doc.data, dict) else {}
    new_data = new.doc.data if isinstance(new.doc.data, dict) else {}
    old_entries = old_data.get("entries") or []
    new_entries = new_data.get("entries") or []
    expected = dict(fields)
    same_rest = {k: v for k, v in old_data.items() if k != "entries"} == {
        k: v for k, v in new_data.items() if k != "entries"
    }
    if not same_rest or new_entries[:-1] != old_entries or new_entries[-1:] != [expected]:
        raise UsageError(
            f"{path}: appending would not give the old entries plus the new one; the file "
            "was left as it was (is 'entries' the last key, written as a block list?)"
        )
