"""Finding and reading inputs: SBOMs, lockfiles and deployment artifacts.

A rejected database rarely arrives in an SBOM first; it arrives as a line in
a lockfile, a Helm dependency or an ``image:`` in a manifest. This module
decides what each path is (lockfiles and artifacts by their well-known names,
SBOMs by content, since a ``.spdx`` file may hold JSON) and walks directory
trees the way a reviewer would expect: version-control, virtualenv and
``node_modules`` folders are skipped, and no link is followed out of the tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, read_bytes
from checker.model import ReadResult

#: Folders never worth scanning: tool caches, VCS metadata, installed trees
#: (an installed package is scanned through its lockfile or ``--env``).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "site-packages",
    }
)

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


@dataclass(slots=True)
class Discovery:
    """What a directory walk found to read, and what it passed over and why."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


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


def _looks_like_sbom(path: Path, head: bytes) -> bool:
    name = path.name.lower()
    if "sbom" in name or "bom." in name or ".spdx" in name or ".cdx" in name:
        return True
    return name.endswith(_SBOM_SUFFIXES) and any(m in head for m in _SBOM_MARKERS)


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096)
    except OSError:
        return b""


def discover(root: Path) -> Discovery:
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
            found.skipped.append((current, f"cannot be listed: {exc.strerror}"))
            continue
        names = {e.name for e in entries}
        if "pyvenv.cfg" in names and current != str(root):
            found.skipped.append((current, "virtual environment"))
            continue
        folders: list[str] = []
        folder = os.path.basename(current).lower()
        for entry in entries:
            name = entry.name
            if entry.is_symlink():
                _linked(entry, base, found)
                continue
            if entry.is_dir(follow_symlinks=False):
                if name in SKIP_DIRS:
                    found.skipped.append((entry.path, "skipped folder"))
                else:
                    folders.append(entry.path)
                continue
            if not entry.is_file(follow_symlinks=False):
                found.skipped.append((entry.path, "not a regular file"))
                continue
            if _may_be_input(name, folder):
                _consider(Path(entry.path), found)
            else:
                found.skipped.append((entry.path, _NOT_INPUT))
        stack.extend(folders)
    # One sort at the end instead of one per folder: same order every run.
    found.files.sort()
    found.skipped.sort()
    return found


def _linked(entry: os.DirEntry[str], base: Path, found: Discovery) -> None:
    """A link is read only when it is a file that stays inside the tree."""
    path = Path(entry.path)
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        found.skipped.append((entry.path, "broken link"))
        return
    if not target.is_relative_to(base):
        found.skipped.append((entry.path, "link out of the scanned tree"))
    elif target.is_dir():
        found.skipped.append((entry.path, "linked folder not followed"))
    else:
        _consider(path, found)


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


def _consider(path: Path, found: Discovery) -> None:
    head = _head(path) if path.suffix.lower() in _SNIFFED else b""
    if _format_by_name(path, head) is not None or _looks_like_sbom(path, head):
        found.files.append(path)
    else:
        found.skipped.append((str(path), _NOT_INPUT))


def read_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one file, by name for lockfiles and artifacts, else by content."""
    from checker import artifacts, lockfiles
    from checker.sbom import parse_input

    data = read_bytes(path, max_bytes)
    by_name = _format_by_name(path, data[:4096])
    if by_name is None:
        return parse_input(data, str(path))
    family, fmt = by_name
    if family == "lockfile":
        return lockfiles.read_lockfile(fmt, path, data, max_bytes)
    return artifacts.read_artifact(fmt, path, data)


@dataclass(slots=True)
class Inputs:
    results: list[ReadResult] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_paths(paths: list[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Inputs:
    """Read files and directory trees; one unreadable file never hides the others."""
    out = Inputs()
    for path in paths:
        if path.is_dir():
            found = discover(path)
            out.skipped.extend(found.skipped)
            targets = found.files
        else:
            targets = [path]
        for target in targets:
            try:
                out.results.append(read_file(target, max_bytes))
            except InputError as exc:
                out.errors.append(exc)
            except MemoryError:
                out.errors.append(InputError(str(target), "", "too large to read into memory"))
            except RecursionError:
                out.errors.append(InputError(str(target), "", "nested too deeply to read"))
    return out
