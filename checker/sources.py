"""Finding and reading inputs: SBOMs, lockfiles and deployment artifacts.

A rejected database rarely arrives in an SBOM first; it arrives as a line in
a lockfile, a Helm dependency or an ``image:`` in a manifest. This module
decides what each path is (lockfiles and artifacts by their well-known names,
SBOMs by content, since a ``.spdx`` file may hold JSON) and walks directory
trees failing closed: a folder is passed over only when it can be shown not
to hold inputs, and every folder passed over is in the report.

* Passed over: version-control metadata (``.git``, ``.hg``, ``.svn``); a
  real virtual environment (``pyvenv.cfg`` *and* its interpreter; scan it
  with ``--env``); ``node_modules`` beside a ``package.json`` (its lockfile
  is what is checked); a cache folder marked with a ``CACHEDIR.TAG``.
  Anything else is walked, whatever its name.
* Content is sniffed from the first 64 KiB, and a JSON or XML file whose
  marker comes later is searched to the end (within the input limit).
* Only regular files are opened; a link is followed only to a regular file
  inside the tree. A file named like an input that cannot be read (a broken
  link, a link out of the tree, a FIFO) and a folder that cannot be listed
  are input errors (exit 3), never a quiet skip.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, READ_FLAGS, display_path, file_kind, read_bytes
from checker.model import ReadResult
from checker.scope import Scope

#: Version-control metadata: never an input.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
#: The first bytes of a ``CACHEDIR.TAG`` (https://bford.info/cachedir/).
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
#: Interpreters whose presence beside ``pyvenv.cfg`` makes a folder a venv.
_VENV_INTERPRETERS = ("bin/python", "bin/python3", "Scripts/python.exe")

_SBOM_SUFFIXES = (".json", ".xml", ".spdx", ".cdx", ".txt", ".bom", ".sbom")
#: Suffixes whose content must be looked at to know what a file is; every
#: other file is recognised by its name alone, so a walk does not open it.
_SNIFFED = frozenset({*_SBOM_SUFFIXES, ".yaml", ".yml", ".tgz"})
_SBOM_MARKERS = (
    b'"bomFormat"',
    b'"spdxVersion"',
    b'"SPDXID"',
    b"SPDXVersion:",
    b"cyclonedx.org/schema/bom",
)
#: How much of a file decides its format before a streaming search.
SNIFF_BYTES = 64 * 1024
_OVERLAP = max(len(m) for m in _SBOM_MARKERS)


@dataclass(slots=True)
class Discovery:
    """What a directory walk found to read, and what it passed over and why."""

    files: list[Path] = field(default_factory=list)
    #: Every entry passed over, files and folders, with the reason (``--verbose``).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: The folders passed over, which every report lists.
    folders: list[tuple[str, str]] = field(default_factory=list)
    #: Entries that look like inputs but cannot be read, and unlistable folders.
    errors: list[InputError] = field(default_factory=list)


def _format_by_name(path: Path, head: bytes) -> tuple[str, str] | None:
    """(family, format) for lockfiles and artifacts recognised by name."""
    from checker import artifacts, lockfiles

    fmt = lockfiles.detect(path)
    if fmt is not None:
        return "lockfile", fmt
    fmt = artifacts.detect(path, head)
    if fmt is not None:
        return "artifact", fmt
    return None


def _named_like_sbom(name: str) -> bool:
    lowered = name.lower()
    return "sbom" in lowered or "bom." in lowered or ".spdx" in lowered or ".cdx" in lowered


def _looks_like_sbom(path: Path, head: bytes, max_bytes: int) -> bool:
    if _named_like_sbom(path.name):
        return True
    if not path.name.lower().endswith(_SBOM_SUFFIXES):
        return False
    if any(m in head for m in _SBOM_MARKERS):
        return True
    if len(head) < SNIFF_BYTES or not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"<")):
        return False
    return _marker_later(path, max_bytes)


def _open_regular(path: Path) -> int | None:
    """A descriptor on ``path`` if it is a regular file; never blocks on a FIFO."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a regular file; nothing for anything else."""
    fd = _open_regular(path)
    if fd is None:
        return b""
    try:
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _marker_later(path: Path, max_bytes: int) -> bool:
    """Whether an SBOM marker appears past the head (a JSON key order is free).

    The head has been searched already; the search goes on from its end,
    overlapping by a marker's length, up to the input limit.
    """
    fd = _open_regular(path)
    if fd is None:
        return False
    try:
        read = os.lseek(fd, SNIFF_BYTES - _OVERLAP, os.SEEK_SET)
        tail = b""
        while read <= max_bytes:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                return False
            window = tail + chunk
            if any(m in window for m in _SBOM_MARKERS):
                return True
            tail = window[-_OVERLAP:]
            read += len(chunk)
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def _is_venv(folder: str, names: set[str]) -> bool:
    """A real virtual environment: ``pyvenv.cfg`` (a file) and its interpreter."""
    if "pyvenv.cfg" not in names:
        return False
    if not os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
        return False
    return any(os.path.lexists(os.path.join(folder, exe)) for exe in _VENV_INTERPRETERS)


def _is_cache(folder: str) -> bool:
    """A folder marked as a cache: a regular ``CACHEDIR.TAG`` that starts with the signature."""
    marker = _head(Path(folder, "CACHEDIR.TAG"), len(CACHEDIR_SIGNATURE))  # a FIFO: b""
    return marker == CACHEDIR_SIGNATURE


def _passed_over(entry: os.DirEntry[str], siblings: set[str]) -> str | None:
    """Why a folder need not be walked, or None: only what can be shown not to be input."""
    name = entry.name
    if name in VCS_DIRS:
        return "version-control metadata"
    if name == "node_modules" and "package.json" in siblings:
        return "installed npm packages beside package.json (its lockfile is what is checked)"
    return None


def discover(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Discovery:
    """Walk ``root`` for files the gate can read, never leaving the tree.

    Uses ``os.scandir`` entries, whose cached file types answer "folder?",
    "link?" without a system call per file: a tree of 10,000 files is walked
    in a fraction of the time ``pathlib`` needs.
    """
    found = Discovery()
    base = root.resolve()
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            found.errors.append(
                InputError(display_path(current), "", f"cannot be listed: {exc.strerror}")
            )
            continue
        names = {e.name for e in entries}
        if current != str(root):
            reason = None
            if _is_venv(current, names):
                reason = (
                    "virtual environment (pyvenv.cfg and its interpreter): check the lockfile "
                    "it was built from, or an SBOM of it"
                )
            elif "CACHEDIR.TAG" in names and _is_cache(current):
                reason = "cache folder (marked by CACHEDIR.TAG)"
            if reason is not None:
                _pass_over(found, current, reason)
                continue
        folders: list[str] = []
        folder = os.path.basename(current).lower()
        for entry in entries:
            name = entry.name
            if entry.is_symlink():
                _linked(entry, base, found, folder, max_bytes)
                continue
            if entry.is_dir(follow_symlinks=False):
                reason = _passed_over(entry, names)
                if reason is not None:
                    _pass_over(found, entry.path, reason)
                else:
                    folders.append(entry.path)
                continue
            if not entry.is_file(follow_symlinks=False):
                _not_regular(entry.path, folder, found)
                continue
            if _may_be_input(name, folder):
                _consider(Path(entry.path), found, max_bytes)
            else:
                found.skipped.append((display_path(entry.path), _NOT_INPUT))
        stack.extend(folders)
    # One sort at the end instead of one per folder: same order every run.
    found.files.sort()
    found.skipped.sort()
    found.folders.sort()
    found.errors.sort(key=lambda e: e.problem.path)
    return found


def _pass_over(found: Discovery, path: str, reason: str) -> None:
    shown = display_path(path)
    found.skipped.append((shown, reason))
    found.folders.append((shown, reason))


def _not_regular(path: str, folder: str, found: Discovery) -> None:
    """A FIFO, socket or device: an error when named like an input, else passed over."""
    try:
        kind = file_kind(os.lstat(path).st_mode) or "not a regular file"
    except OSError:
        kind = "not a regular file"
    if _may_be_input(os.path.basename(path), folder):
        found.errors.append(
            InputError(display_path(path), "", f"is {kind}, not a regular file; it is not read")
        )
    else:
        found.skipped.append((display_path(path), f"{kind}, not a regular file"))


def _linked(
    entry: os.DirEntry[str], base: Path, found: Discovery, folder: str, max_bytes: int
) -> None:
    """A link is read only when it is a regular file that stays inside the tree.

    A link named like an input that leads nowhere, out of the tree or to
    something that is not a regular file is an error: skipping it would
    pass a lockfile the gate never read.
    """
    path = Path(entry.path)
    shown = display_path(entry.path)
    looks_like_input = _may_be_input(entry.name, folder)
    try:
        target = path.resolve(strict=True)
        mode = os.stat(target).st_mode
    except (OSError, RuntimeError):
        _link_problem(found, shown, looks_like_input, "broken link")
        return
    inside = target.is_relative_to(base)
    if stat.S_ISDIR(mode):
        reason = "linked folder not followed" + ("" if inside else " (it leads out of the tree)")
        _pass_over(found, entry.path, reason)
    elif not inside:
        _link_problem(found, shown, looks_like_input, "link out of the scanned tree")
    elif not stat.S_ISREG(mode):
        kind = file_kind(mode) or "not a regular file"
        _link_problem(found, shown, looks_like_input, f"link to {kind}")
    elif looks_like_input:
        _consider(path, found, max_bytes)
    else:
        found.skipped.append((shown, _NOT_INPUT))


def _link_problem(found: Discovery, shown: str, looks_like_input: bool, reason: str) -> None:
    if looks_like_input:
        found.errors.append(
            InputError(shown, "", f"is a {reason}; it is not read (copy the file into the tree)")
        )
    else:
        found.skipped.append((shown, reason))


_NOT_INPUT = "not a recognised SBOM, lockfile or manifest"
#: Suffixes of every file name a reader may accept; a name with none of
#: these (and no Dockerfile/Containerfile in it) is skipped without a look.
_CANDIDATE_SUFFIXES = frozenset(
    {*_SNIFFED, ".lock", ".toml", ".in", ".dockerfile", ".containerfile"}
)


def _may_be_input(name: str, folder: str) -> bool:
    """A cheap look at a name before anything is opened.

    Plain ``.txt`` files are everywhere; one is looked into only when its
    name or folder says requirements, constraints, SPDX or BOM. A tag-value
    SBOM with an uninformative ``.txt`` name is still read when given as a
    path rather than found by a walk.
    """
    lowered = name.lower()
    dot = lowered.rfind(".")
    suffix = lowered[dot:] if dot >= 0 else ""
    if suffix == ".txt":
        return any(hint in lowered for hint in _TXT_HINTS) or folder == "requirements"
    if suffix in _CANDIDATE_SUFFIXES:
        return True
    return "dockerfile" in lowered or "containerfile" in lowered


_TXT_HINTS = ("requirement", "constraint", "spdx", "bom", "cdx")


def _consider(path: Path, found: Discovery, max_bytes: int) -> None:
    head = _head(path) if path.suffix.lower() in _SNIFFED else b""
    if _format_by_name(path, head) is not None or _looks_like_sbom(path, head, max_bytes):
        found.files.append(path)
    else:
        found.skipped.append((display_path(path), _NOT_INPUT))


def read_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, scope: Scope | None = None
) -> ReadResult:
    """Read one file, by name for lockfiles and artifacts, else by content.

    ``scope`` is the folder the file's own references may reach into
    (default: the file's folder).
    """
    from checker import artifacts, lockfiles
    from checker.sbom import parse_input

    data = read_bytes(path, max_bytes)
    name = display_path(path)
    by_name = _format_by_name(path, data[:SNIFF_BYTES])
    if by_name is None:
        return parse_input(data, name)
    family, fmt = by_name
    scope = scope or Scope.around(path)
    if family == "lockfile":
        return lockfiles.read_lockfile(fmt, path, data, max_bytes, scope)
    return artifacts.read_artifact(fmt, path, data, scope)


@dataclass(slots=True)
class Inputs:
    results: list[ReadResult] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Folders a walk passed over, with the reason: every report lists them.
    folders: list[tuple[str, str]] = field(default_factory=list)


def read_paths(paths: list[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Inputs:
    """Read files and directory trees; one unreadable file never hides the others."""
    out = Inputs()
    for path in paths:
        scope = Scope.around(path)
        if path.is_dir():
            found = discover(path, max_bytes)
            out.skipped.extend(found.skipped)
            out.folders.extend(found.folders)
            out.errors.extend(found.errors)
            targets = found.files
        else:
            targets = [path]
        for target in targets:
            try:
                result = read_file(target, max_bytes, scope)
                if not str(target).isprintable():
                    result = _printable(result)
                out.results.append(result)
            except InputError as exc:
                out.errors.append(_printable_error(exc))
            except MemoryError:
                out.errors.append(
                    InputError(display_path(target), "", "too large to read into memory")
                )
            except RecursionError:
                out.errors.append(InputError(display_path(target), "", "nested too deeply to read"))
    return out


def _printable(result: ReadResult) -> ReadResult:
    """The result with every file name printable in every report format.

    Readers name files as Python sees them; a name that is not UTF-8 (or
    holds control characters) is escaped once here rather than in each
    reader and each report. Only results of such names are walked (the
    requirements reader escapes the names of the files it includes).
    """
    origins = [note.origin for note in result.notes]
    for component in result.components:
        origins.append(component.origin)
        origins.extend(evidence.origin for evidence in component.licenses)
    result.path = display_path(result.path)
    for origin in origins:
        origin.path = display_path(origin.path)
    return result


def _printable_error(exc: InputError) -> InputError:
    problem = exc.problem
    if problem.path.isprintable():
        return exc
    return InputError(display_path(problem.path), problem.location, problem.message)
