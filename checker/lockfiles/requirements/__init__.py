"""Reader for pip requirements files (``pip-compile`` output and hand-written).

The line syntax follows pip's own parser (``pip/_internal/req/req_file.py``):

* a line ending in ``\\`` continues on the next one (a whole-line comment
  never does), then everything from ``#`` at the start of the line or after
  whitespace is a comment, so ``git+https://host/x#egg=name`` keeps its
  fragment and the ``# via`` lines of pip-compile disappear;
* the requirement is every space-separated token before the first token that
  starts with ``-``; the rest are options (``--hash``, ``-r``, ``-c``,
  ``-e``, ``--index-url`` ...), split with shell quoting rules;
* ``-r``/``--requirement`` and ``-c``/``--constraint`` paths are joined to the
  directory of the file that names them, and read with the same size limit,
  only when they resolve to a regular file inside the folder scanned (the
  folder of the file, when a file is given): an include is input text, and
  ``-r /proc/self/environ`` must not read the CI job's secrets into a report.

What each line becomes:

* ``name==1.2`` (with extras, markers and hashes) is a pinned component; the
  name is kept as written, the purl uses the PEP 503 name and no extras;
* an unpinned line (``>=``, ``~=``, ``==1.*``, no version) is a component
  without version and a note, unless a constraints file pins that name;
* ``name @ url``, URL/VCS lines and ``-e`` editables become a component named
  from ``name @``, ``#egg=``, the wheel/sdist file name or the repository URL,
  with a note: nothing but the source says what version (or license) it is;
  a local path without a name is a note only;
* lines of a constraints file only constrain: their packages are not
  components unless a requirement names them too, and a constraint's ``==``
  gives the version of an unpinned requirement of the same name (a ``-r``
  inside a constraints file still includes requirements, as in pip).

Everything that cannot be read is an :class:`~checker.errors.InputError`
naming the file and line: a requirement pip would reject, an include that
cannot be read (reported at the line that includes it) and include cycles
(reported with the chain of files). Environment variables (``${VAR}``) are not
expanded: the gate's result must not depend on the environment it runs in.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, display_path, excerpt
from checker.lockfiles._common import OFF_INDEX, digest, guarded, pypi_library, redact_url
from checker.lockfiles.requirements.locations import (
    ARCHIVES,
    EXTRAS_SUFFIX,
    NAME,
    NAME_AT,
    URL,
    VCS,
    basename,
    egg,
    is_url_or_path,
    pinned,
)
from checker.lockfiles.requirements.syntax import (
    FLAG_OPTIONS,
    VALUE_OPTIONS,
    decode,
    logical_lines,
    shell_tokens,
    split_args,
    split_option,
)
from checker.model import Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.sbom.piplicenses import normalize_pypi_name
from checker.scope import Scope

__all__ = [
    "FORMAT",
    "MAX_INCLUDE_DEPTH",
    "UNPINNED_HINT",
    "Parsed",
    "RequirementLine",
    "logical_lines",
    "read",
    "read_requirements",
    "read_source",
]

FORMAT = "requirements"

#: Includes nested deeper than this are refused (cycles are caught earlier;
#: a real project nests two or three files).
MAX_INCLUDE_DEPTH = 32

UNPINNED_HINT = "(pin it with == and hashes)"


@dataclass(slots=True)
class RequirementLine:
    """One requirement (or constraint) as a requirements file states it."""

    path: str
    line: int
    text: str
    name: str | None = None
    version: str | None = None
    url: str | None = None
    editable: bool = False
    constraint: bool = False
    hashes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> bool:
        return self.version is not None


@dataclass(slots=True)
class Parsed:
    """A requirements file with its includes: the result and every line read."""

    result: ReadResult
    lines: list[RequirementLine]


def read_source(source: Source) -> ReadResult:
    return read(source.path, source.data, source.max_bytes, source.scope)


def read(
    path: Path, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, scope: Scope | None = None
) -> ReadResult:
    """Read a requirements file (and what it includes) into components.

    Includes are read only inside ``scope`` (default: the file's folder).
    """
    return read_requirements(path, data, max_bytes, scope).result


def read_requirements(
    path: Path, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, scope: Scope | None = None
) -> Parsed:
    """Like :func:`read`, also returning every requirement and constraint line."""
    reader = _Reader(path, max_bytes, scope or Scope.around(path))
    return guarded(str(path), "a requirements file", lambda: reader.read(data))


class _Reader:
    def __init__(self, root: Path, max_bytes: int, scope: Scope) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.scope = scope
        self.result = ReadResult(path=display_path(root), format=FORMAT)
        self.notes = Notes(self.result.path, self.result.notes)
        self.lines: list[RequirementLine] = []
        #: Files being read, outermost first: (resolved path, as shown).
        self.stack: list[tuple[Path, str]] = []
        self.seen: set[tuple[Path, bool]] = set()

    # ------------------------------------------------------------------ files

    def read(self, data: bytes) -> Parsed:
        key = _key(self.root)
        self.seen.add((key, False))
        self.read_file(self.root, key, data, constraint=False)
        self.emit()
        return Parsed(self.result, self.lines)

    def read_file(self, path: Path, key: Path, data: bytes, constraint: bool) -> None:
        name = display_path(path)
        self.stack.append((key, name))
        try:
            for number, content in logical_lines(decode(data, name)):
                self.parse_line(path, number, content, constraint)
        finally:
            self.stack.pop()

    def include(self, parent: Path, line: int, target: str, constraint: bool) -> None:
        where = display_path(parent)
        kind = "constraints" if constraint else "requirements"
        if URL.match(target):
            self.notes.about(where).warn(
                f"line {line}",
                f"includes {kind} from {excerpt(redact_url(target))} by URL; it is not fetched, so "
                "its packages are not checked (vendor the file and include it by path)",
            )
            return
        shown = excerpt(target)
        if "\x00" in target:
            raise InputError(where, f"line {line}", f"includes {shown}, not a valid path")
        child = Path(os.path.join(os.path.dirname(parent), target))
        key = _key(child)
        keys = [k for k, _ in self.stack]
        if key in keys:
            chain = [shown for _, shown in self.stack[keys.index(key) :]] + [display_path(child)]
            raise InputError(
                where, f"line {line}", "include cycle: " + " -> ".join(chain) + " (remove one)"
            )
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            raise InputError(
                where,
                f"line {line}",
                f"includes nest more than {MAX_INCLUDE_DEPTH} files deep; refusing to read on",
            )
        if (key, constraint) in self.seen:
            return
        self.seen.add((key, constraint))
        try:
            # Only a regular file inside the scope: a folder, a FIFO or a device
            # (-r /dev/stdin) would hang or mislead, a file outside could leak.
            data = self.scope.read(child, self.max_bytes, what=f"{kind} includes")
        except InputError as exc:
            message = exc.problem.message
            if message.startswith("is empty"):
                return  # an empty requirements file is valid: it requires nothing
            if message == "file not found":
                message = "which does not exist"
            elif message.startswith("is a directory"):
                message = f"which is a directory, not a {kind} file"
            elif message.startswith("is "):
                message = "which " + message
            raise InputError(
                where, f"line {line}", f"includes {kind} file {shown} {message}"
            ) from None
        self.read_file(child, key, data, constraint)

    # ------------------------------------------------------------------ lines

    def parse_line(self, path: Path, number: int, content: str, constraint: bool) -> None:
        where = display_path(path)
        args, options = split_args(content)
        editable: str | None = None
        hashes: list[str] = []
        includes: list[tuple[str, bool]] = []
        if options:
            try:
                tokens = shell_tokens(options)
            except ValueError as exc:
                raise InputError(where, f"line {number}", f"has broken quoting ({exc})") from None
            i = 0
            while i < len(tokens):
                token = tokens[i]
                i += 1
                option, value = split_option(token)
                if option in FLAG_OPTIONS:
                    continue
                action = VALUE_OPTIONS.get(option)
                if action is None:
                    self.notes.about(where).warn(
                        f"line {number}",
                        f"unknown option {excerpt(option, 40)} ignored with the rest of the "
                        "line's options (pip would refuse it)",
                    )
                    break
                if value is None:
                    if i >= len(tokens):
                        raise InputError(where, f"line {number}", f"option {option} needs a value")
                    value = tokens[i]
                    i += 1
                if action == "hash":
                    hashes.append(value)
                elif action == "requirement":
                    # as pip does: -r means requirements even inside a constraints file
                    includes.append((value, False))
                elif action == "constraint":
                    includes.append((value, True))
                elif action == "editable":
                    editable = value
        if args:
            self.requirement(where, number, args, False, constraint, hashes)
        if editable is not None:
            self.requirement(where, number, editable, True, constraint, hashes)
        for target, as_constraint in includes:
            self.include(path, number, target, as_constraint)

    def requirement(
        self,
        where: str,
        number: int,
        text: str,
        editable: bool,
        constraint: bool,
        hashes: list[str],
    ) -> None:
        req = RequirementLine(
            where, number, text, editable=editable, constraint=constraint, hashes=hashes
        )
        if editable or (not NAME_AT.match(text) and is_url_or_path(text)):
            self.url_requirement(req)
        else:
            try:
                parsed = Requirement(text)
            except InvalidRequirement as exc:
                reason = str(exc).splitlines()[0] if str(exc) else "invalid"
                raise InputError(
                    where,
                    f"line {number}",
                    f"{excerpt(text)} is not a valid requirement ({excerpt(reason, 120)[1:-1]})",
                ) from None
            req.name = parsed.name
            if parsed.url:
                req.url = parsed.url
                source = excerpt(redact_url(parsed.url))
                req.notes.append(
                    f"{parsed.name} is installed from {source}, {OFF_INDEX}: "
                    "no version to match, check its license at the source"
                )
            else:
                req.version = pinned(parsed.specifier)
        self.lines.append(req)

    def url_requirement(self, req: RequirementLine) -> None:
        """Name (and where possible version) of a URL, VCS or local path line."""
        text = req.text
        is_url = bool(URL.match(text)) or text.startswith((*VCS, "file:"))
        location = re.split(r";\s" if is_url else r";", text, maxsplit=1)[0].strip()
        if not is_url:
            location = EXTRAS_SUFFIX.sub("", location)
        what = "editable " if req.editable else ""
        shown = excerpt(redact_url(location))
        name = egg(location)
        guessed = ""
        if name is None:
            base = basename(location)
            version: str | None = None
            try:
                # packaging validates the file name; the name is kept as written
                if base.endswith(".whl"):
                    version = str(parse_wheel_filename(base)[1])
                    name = base.split("-", 1)[0]
                elif base.lower().endswith(ARCHIVES):
                    version = str(parse_sdist_filename(base)[1])
                    name = base[: base.rfind("-")]
            except ValueError:  # InvalidWheelFilename, InvalidSdistFilename, InvalidVersion
                name, version = None, None
            if name is not None:
                req.name, req.version = name, version
                req.url = location
                req.notes.append(
                    f"{name} is installed from the {what}archive {shown}, {OFF_INDEX}; its "
                    "identity is taken from the file name"
                )
                return
            if location.startswith(VCS):
                repo = base.split("@", 1)[0].removesuffix(".git")
                if NAME.match(repo):
                    name, guessed = repo, " (name taken from the repository URL: add #egg=)"
        if name is None:
            req.notes.append(
                f"{what}requirement {shown} names no package (add #egg=name or use "
                "'name @ url'); it is not checked"
            )
            return
        req.name = name
        req.url = location
        req.notes.append(
            f"{name} is installed from the {what}source {shown}, {OFF_INDEX}"
            f"{guessed}: no version to match, check its license at the source"
        )

    # ------------------------------------------------------------------ output

    def emit(self) -> None:
        pins: dict[str, str] = {}
        for req in self.lines:
            if req.constraint and req.name and req.version and req.url is None:
                pins.setdefault(normalize_pypi_name(req.name), req.version)
        emitted: set[tuple[str, str | None, str | None]] = set()
        for req in self.lines:
            if req.constraint:
                continue
            for message in req.notes:
                self.notes.about(req.path).warn(f"line {req.line}", message)
            if req.name is None:
                continue
            version = req.version
            normalized = normalize_pypi_name(req.name)
            if version is None and req.url is None:
                version = pins.get(normalized)
                if version is None:
                    self.notes.about(req.path).warn(
                        f"line {req.line}",
                        f"unpinned requirement {excerpt(req.text)} {UNPINNED_HINT}; the version "
                        "installed, and so its license, can change",
                    )
            key = (normalized, version, req.url)
            if key in emitted:
                continue
            emitted.add(key)
            component = pypi_library(req.name, Origin(req.path, f"line {req.line}"), version)
            pinned_hashes = (digest(h) for h in req.hashes)
            component.digests = tuple(sorted({h for h in pinned_hashes if h is not None}))
            self.result.components.append(component)


def _key(path: Path) -> Path:
    """The identity of a file for cycle detection: resolved where possible."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))
