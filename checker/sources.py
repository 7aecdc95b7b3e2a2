"""Walking the paths a run is given, and reading every input found.

A rejected database rarely arrives in an SBOM first; it arrives as a line in
a lockfile, a Helm dependency or an ``image:`` in a manifest. This module
walks directory trees failing closed (a folder is passed over only when it
can be shown not to hold inputs, and every folder passed over is in the
report) and reads each file it finds or is given. What a file is, and how it
is read, is the registry's to say (:mod:`checker.readers`); which files a
walk looks at, :mod:`checker.readers.sniff`'s.

* Passed over: version-control metadata (``.git``, ``.hg``, ``.svn``); a
  real virtual environment (``pyvenv.cfg`` *and* its interpreter; scan it
  with ``--env``); ``node_modules`` beside a ``package.json`` (its lockfile
  is what is checked); a cache folder marked with a ``CACHEDIR.TAG``.
  Anything else is walked, whatever its name.
* A JSON file that is a JSON Schema (a CycloneDX ``bom-1.6.schema.json``
  vendored in site-packages) is passed over with that reason: it is named
  and worded like an SBOM but lists no components.
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

from checker import readers
from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, display_path, file_kind, read_bytes
from checker.model import ReadResult
from checker.readers.sniff import NOT_INPUT, may_be_input, not_input_reason, read_head
from checker.scope import Scope

__all__ = [
    "CACHEDIR_SIGNATURE",
    "VCS_DIRS",
    "Discovery",
    "Inputs",
    "discover",
    "read_file",
    "read_paths",
]

#: Version-control metadata: never an input.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
#: The first bytes of a ``CACHEDIR.TAG`` (https://bford.info/cachedir/).
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
#: Interpreters whose presence beside ``pyvenv.cfg`` makes a folder a venv.
_VENV_INTERPRETERS = ("bin/python", "bin/python3", "Scripts/python.exe")


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


def _is_venv(folder: str, names: set[str]) -> bool:
    """A real virtual environment: ``pyvenv.cfg`` (a file) and its interpreter."""
    if "pyvenv.cfg" not in names:
        return False
    if not os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
        return False
    return any(os.path.lexists(os.path.join(folder, exe)) for exe in _VENV_INTERPRETERS)


def _is_cache(folder: str) -> bool:
    """A folder marked as a cache: a regular ``CACHEDIR.TAG`` that starts with the signature."""
    marker = read_head(Path(folder, "CACHEDIR.TAG"), len(CACHEDIR_SIGNATURE))  # a FIFO: b""
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
            if may_be_input(name, folder):
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
    if may_be_input(os.path.basename(path), folder):
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
    looks_like_input = may_be_input(entry.name, folder)
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


_NOT_INPUT = NOT_INPUT


def _consider(path: Path, found: Discovery, max_bytes: int) -> None:
    reason = not_input_reason(path, max_bytes)
    if reason is None:
        found.files.append(path)
    else:
        found.skipped.append((display_path(path), reason))


def read_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, scope: Scope | None = None
) -> ReadResult:
    """Read one file, in the format the registry recognises it as.

    ``scope`` is the folder the file's own references may reach into
    (default: the file's folder).
    """
    try:
        data = read_bytes(path, max_bytes)
    except InputError as exc:
        # a format whose empty file lists nothing (a requirements file) reads it as such
        named = readers.detect(path)
        if named is None or not named.empty or not exc.problem.message.startswith("is empty"):
            raise
        data = b""
    return readers.read(path, data, scope, max_bytes, name=display_path(path))


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
            if not targets and not found.errors:
                out.errors.append(nothing_recognised(path, found))
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


def nothing_recognised(path: Path, found: Discovery, shown: int = 3) -> InputError:
    """A folder given to check that holds no input: an input error, never a pass.

    A CI job whose SBOM step failed leaves an empty folder behind; judging
    "0 components" as a pass would turn that failure green.
    """
    skipped = [f"{name} ({reason})" for name, reason in found.skipped[:shown]]
    more = len(found.skipped) - shown
    if more > 0:
        skipped.append(f"{more} more")
    what = (
        f"{len(found.skipped)} entr{'y' if len(found.skipped) == 1 else 'ies'} passed over: "
        + "; ".join(skipped)
        if found.skipped
        else "the folder is empty"
    )
    return InputError(
        display_path(path),
        "",
        f"holds nothing recognisable: no SBOM, lockfile or deployment artifact ({what}); "
        "give the path of the SBOM or lockfile to check (did the step that writes it fail?)",
    )


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
