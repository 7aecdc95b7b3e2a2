"""Dockerfiles (and Containerfiles): the images a build starts from or copies out of.

``FROM [--platform=...] IMAGE[:TAG|@DIGEST] [AS NAME]`` names a base image,
read the way BuildKit reads it:

* parser directives at the top (``# escape=`` changes the continuation
  character, ``# syntax=`` is ignored), comments and line continuations;
* ``ARG NAME=default`` lines before the first ``FROM`` are the build
  arguments a ``FROM`` may use: ``$NAME``, ``${NAME}``, ``${NAME:-default}``
  (and ``-``, ``:+``, ``+``); a reference that stays unresolved (an ``ARG``
  without default, set only by ``--build-arg``) is noted and not guessed;
* a ``FROM`` naming an earlier stage (``FROM builder``) is not an image,
  nor is ``FROM scratch``;
* ``COPY --from=IMAGE`` copies files out of an image into this one, so that
  image is a dependency too (unless it names a stage or a stage number);
* heredoc bodies (``RUN <<EOF ... EOF``) are skipped, so a ``FROM`` inside a
  script is not read as an instruction.

``RUN`` lines add what they install (:mod:`checker.artifacts.shell_installs`
reads the script): ``apt-get install postgresql-16-postgis-3`` on a
digest-pinned official base still ships PostGIS, and the gate must see it.
Each package is a component with its purl and the pinned version where the
script gives one (``pkg=1.2-3``, ``pkg==1.2``, ``name@1.2``): OS packages
(kind ``os-package``) as ``pkg:deb/<distro>/...``, ``pkg:apk/alpine/...``
and ``pkg:rpm/<vendor>/...``, pip and npm packages (kind ``library``) as
``pkg:pypi/...`` and ``pkg:npm/...``. The distribution comes from the
stage's base image where its name says it (``ubuntu``, a Ubuntu codename in
the tag; ``fedora``, ``rockylinux``, ``almalinux``, ``centos``, ``ubi``,
``amazonlinux``, ``oraclelinux``; ``wolfi``); a Debian package on any other
base is ``pkg:deb/debian/...`` (the official images are Debian unless they
are Alpine), an RPM on an unrecognised base has no vendor namespace. The
script sees the stage's ``ENV`` and ``ARG`` values, as the build does: a
global ``ARG`` only where the stage declares it again. ``ENV`` and build
arguments carry over to a stage built ``FROM`` an earlier one.

``LABEL org.opencontainers.image.licenses`` of the final stage (or a stage
it is built from) is the declared license of the image the Dockerfile
builds: a subject component of kind ``image`` (named by the
``org.opencontainers.image.title`` label, else the file), judged like any
other declared license.

Every component has ``Origin(file, "line N")`` of its instruction. No
``FROM`` at all is an :class:`~checker.errors.InputError`: the file is not a
Dockerfile.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from packageurl import PackageURL

from checker.artifacts.shell_installs import Install, read_script
from checker.errors import InputError
from checker.images import image_component, interpolate, parse_image, unresolved_message
from checker.inputs import decode_text, only_input_errors
from checker.model import (
    Component,
    EvidenceForm,
    ImageRef,
    Kind,
    LicenseEvidence,
    Origin,
    ReadResult,
)
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT = "dockerfile"

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_INSTRUCTION = 1024 * 1024


@dataclass(slots=True)
class Instruction:
    line: int
    keyword: str
    rest: str


def _directives(lines: list[str]) -> tuple[str, int]:
    """The escape character and the index of the first line after the directives."""
    escape = "\\"
    seen: set[str] = set()
    index = 0
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line.strip())
        if match is None:
            return escape, index
        name = match[1].lower()
        if name in seen:
            return escape, index
        seen.add(name)
        if name == "escape" and match[2] in ("`", "\\"):
            escape = match[2]
    return escape, len(lines)


def instructions(text: str, path: str) -> list[Instruction]:
    """Logical instructions: continuations joined, comments and heredocs dropped."""
    lines = text.splitlines()
    escape, start = _directives(lines)
    found: list[Instruction] = []
    parts: list[str] = []
    size = 0
    first = 0
    index = start
    while index < len(lines) or parts:
        if index >= len(lines):
            continued = False  # a continuation at the end of the file ends there
        else:
            raw = lines[index]
            index += 1
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue  # comments and empty lines, also inside a continuation
            if not parts:
                first = index
            body = raw.rstrip()
            continued = body.endswith(escape)
            if continued:
                body = body[: -len(escape)]
            parts.append(body)
            size += len(body)
            if size > _MAX_INSTRUCTION:
                raise InputError(path, f"line {first}", "has an instruction over 1 MiB long")
        if continued:
            continue
        # BuildKit joins continuation lines as they are, without a separator.
        joined = "".join(parts).strip()
        parts = []
        size = 0
        if not joined:
            continue
        keyword, *rest = joined.split(None, 1)
        instruction = Instruction(first, keyword.upper(), rest[0].strip() if rest else "")
        found.append(instruction)
        index = _skip_heredocs(instruction, lines, index)
    return found


def _skip_heredocs(instruction: Instruction, lines: list[str], index: int) -> int:
    if instruction.keyword not in ("RUN", "COPY", "ADD"):
        return index
    for match in _HEREDOC.finditer(instruction.rest):
        strip_tabs, word = match[1] == "-", match[3]
        while index < len(lines):
            line = lines[index]
            index += 1
            if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == word:
                break
    return index


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _arg_pairs(rest: str) -> list[tuple[str, str | None]]:
    """``ARG A=1 B="two words" C`` as (name, value or None) pairs."""
    pairs: list[tuple[str, str | None]] = []
    for token in re.findall(r"(?:[^\s\"']+|\"(?:[^\"\\]|\\.)*\"|'[^']*')+", rest):
        name, eq, value = token.partition("=")
        if not _ARG_NAME.fullmatch(name):
            continue
        pairs.append((name, _unquote(value) if eq else None))
    return pairs


#: The OCI label an image's own license is declared in, and the ones naming it.
LICENSE_LABEL = "org.opencontainers.image.licenses"
_TITLE_LABEL = "org.opencontainers.image.title"
_VERSION_LABEL = "org.opencontainers.image.version"

_UBUNTU_CODENAMES = ("xenial", "bionic", "focal", "jammy", "noble", "oracular", "plucky")
#: The last part of an RPM-based base image's repository -> the purl vendor namespace.
_RPM_VENDORS = (
    ("fedora", "fedora"),
    ("centos", "centos"),
    ("rockylinux", "rocky"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("ubi", "redhat"),
    ("rhel", "redhat"),
    ("amazonlinux", "amzn"),
    ("oraclelinux", "oracle"),
)


@dataclass(slots=True)
class _Stage:
    """What a build stage has so far: its name, variables, labels and base distribution."""

    name: str = ""
    #: ``ENV`` and in-stage ``ARG`` values a ``RUN`` script sees.
    variables: dict[str, str | None] = field(default_factory=dict)
    #: label key -> (value, line).
    labels: dict[str, tuple[str, int]] = field(default_factory=dict)
    base: ImageRef | None = None


def _distro(base: ImageRef | None, ecosystem: str) -> str | None:
    """The purl namespace of an OS package installed on ``base``."""
    repository = base.repository.lower() if base is not None else ""
    last = repository.rsplit("/", 1)[-1]
    tag = (base.tag or "").lower() if base is not None else ""
    if ecosystem == "deb":
        if "ubuntu" in last or any(code in tag for code in _UBUNTU_CODENAMES):
            return "ubuntu"
        return "debian"
    if ecosystem == "apk":
        return "wolfi" if "wolfi" in repository or "chainguard" in repository else "alpine"
    for prefix, vendor in _RPM_VENDORS:
        if last.startswith(prefix):
            return vendor
    return None


def _label_pairs(rest: str) -> list[tuple[str, str]]:
    """``LABEL a=1 "b.c"="two words"`` (or the old ``LABEL key value``) as pairs."""
    tokens = re.findall(r"(?:[^\s\"']+|\"(?:[^\"\\]|\\.)*\"|'[^']*')+", rest)
    if tokens and "=" not in tokens[0]:
        key, _, value = rest.partition(" ")
        return [(_unquote(key), _unquote(value.strip()))]
    pairs: list[tuple[str, str]] = []
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq:
            pairs.append((_unquote(key), _unquote(value)))
    return pairs


def _env_pairs(rest: str) -> list[tuple[str, str]]:
    """``ENV A=1 B="x y"`` (or the old ``ENV KEY value``) as pairs."""
    tokens = re.findall(r"(?:[^\s\"']+|\"(?:[^\"\\]|\\.)*\"|'[^']*')+", rest)
    if tokens and "=" not in tokens[0]:
        key, _, value = rest.partition(" ")
        return [(key, value.strip())] if _ARG_NAME.fullmatch(key) else []
    pairs: list[tuple[str, str]] = []
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq and _ARG_NAME.fullmatch(key):
            pairs.append((key, _unquote(value)))
    return pairs


def _run_script(rest: str) -> str | None:
    """The shell script of a ``RUN``'s arguments (its ``--mount`` and other flags dropped).

    The exec form ``RUN ["sh", "-c", "script"]`` gives its script; any other
    exec form runs without a shell, so its words are quoted as they are (no
    expansion happens). None when the JSON is not a list of strings.
    """
    while rest.startswith("--"):
        _, _, rest = rest.partition(" ")
        rest = rest.lstrip()
    if not rest.startswith("["):
        return rest
    try:
        argv = json.loads(rest)
    except ValueError:
        return rest  # not JSON: Docker runs it with the shell, as written
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    shells = ("sh", "bash", "ash", "dash", "/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash")
    if len(argv) >= 3 and argv[0] in shells and argv[1] in ("-c", "-ec", "-exc", "-eux", "-xc"):
        return str(argv[2])
    return shlex.join(argv)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=FORMAT)
        self.notes = Notes(path, self.result.notes)

    def read(self, data: bytes) -> ReadResult:
        text = decode_text(data, self.path)
        found = instructions(text, self.path)
        global_args: dict[str, str | None] = {}
        stage_args: dict[str, str | None] = {}
        stages: list[str] = []
        built: list[_Stage] = []
        seen_from = False
        for instruction in found:
            keyword = instruction.keyword
            if keyword == "ARG":
                scope = stage_args if seen_from else global_args
                for name, value in _arg_pairs(instruction.rest):
                    if value is not None:
                        value, _ = interpolate(value, {**global_args, **scope})
                    elif seen_from:
                        value = global_args.get(name)  # a global ARG declared again
                    scope[name] = value
                    if seen_from:
                        built[-1].variables[name] = value
            elif keyword == "FROM":
                seen_from = True
                stage_args = {}
                built.append(self.from_(instruction, global_args, stages, built))
            elif not seen_from:
                continue
            elif keyword == "COPY":
                self.copy_from(instruction, {**global_args, **stage_args}, stages)
            elif keyword == "ENV":
                stage = built[-1]
                for name, value in _env_pairs(instruction.rest):
                    stage.variables[name], _ = interpolate(value, stage.variables)
            elif keyword == "LABEL":
                stage = built[-1]
                for key, value in _label_pairs(instruction.rest):
                    expanded, _ = interpolate(value, stage.variables)
                    stage.labels[key] = (expanded, instruction.line)
            elif keyword == "RUN":
                self.run(instruction, built[-1])
        if not seen_from:
            raise InputError(self.path, "line 1", "has no FROM instruction; not a Dockerfile")
        self.subject(built[-1])
        return self.result

    def from_(
        self,
        instruction: Instruction,
        args: dict[str, str | None],
        stages: list[str],
        built: list[_Stage],
    ) -> _Stage:
        tokens = instruction.rest.split()
        words = [t for t in tokens if not t.startswith("--")]
        stage = ""
        if len(words) >= 3 and words[1].lower() == "as":
            stage = words[2].lower()
        if not words:
            self.notes.warn(f"line {instruction.line}", "FROM without an image; skipped")
            stages.append(stage)
            return _Stage(stage)
        reference = words[0]
        resolved, missing = interpolate(reference, args)
        parent = next((s for s in reversed(built) if s.name and s.name == resolved.lower()), None)
        self.image(instruction.line, "FROM", reference, resolved, missing, stages)
        stages.append(stage)
        if parent is not None:  # a stage built on an earlier one inherits what it set
            return _Stage(stage, dict(parent.variables), dict(parent.labels), parent.base)
        return _Stage(stage, base=None if missing else parse_image(resolved))

    def run(self, instruction: Instruction, stage: _Stage) -> None:
        """The packages a ``RUN`` installs, as components of this Dockerfile."""
        location = f"line {instruction.line}"
        script = _run_script(instruction.rest)
        if script is None:
            self.notes.warn(location, "RUN in exec form is not a list of strings; not read")
            return
        installed = read_script(script, stage.variables)
        for note in installed.notes:
            self.notes.warn(location, f"RUN {note}")
        for install in installed.installs:
            component = self.package(install, stage, Origin(self.path, location))
            if component is None:
                self.notes.warn(
                    location,
                    f"RUN installs {install.written!r}, which is not a valid "
                    f"{install.ecosystem} package name; not checked",
                )
                continue
            if install.unresolved:
                names = ", ".join(install.unresolved)
                self.notes.warn(
                    location,
                    f"RUN installs {install.written!r}, which uses {names} with no value in "
                    "this Dockerfile (set by the base image or --build-arg); checked by the "
                    "name as written",
                )
            self.result.components.append(component)

    def package(self, install: Install, stage: _Stage, origin: Origin) -> Component | None:
        ecosystem = install.ecosystem
        namespace: str | None = None
        name = install.name
        if ecosystem in ("deb", "apk", "rpm"):
            namespace = _distro(stage.base, ecosystem)
        elif ecosystem == "npm" and name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
        try:
            purl = PackageURL(
                type=ecosystem, namespace=namespace, name=name, version=install.version
            ).to_string()
        except ValueError:
            return None
        library = ecosystem in ("pypi", "npm")
        return Component(
            name=install.name,
            origin=origin,
            version=install.version,
            purl=purl,
            kind=Kind.LIBRARY if library else Kind.OS_PACKAGE,
        )

    def subject(self, final: _Stage) -> None:
        """The image this Dockerfile builds, when it declares its license."""
        declared = final.labels.get(LICENSE_LABEL)
        if declared is None or not declared[0].strip():
            return
        text, line = declared
        title = final.labels.get(_TITLE_LABEL, ("", 0))[0].strip()
        version = final.labels.get(_VERSION_LABEL, ("", 0))[0].strip()
        origin = Origin(self.path, f"line {line}")
        self.result.components.append(
            Component(
                name=title or self.path,
                origin=origin,
                version=version or None,
                kind=Kind.IMAGE,
                is_subject=True,
                licenses=[LicenseEvidence(text.strip(), origin, EvidenceForm.EXPRESSION)],
            )
        )

    def copy_from(
        self, instruction: Instruction, args: dict[str, str | None], stages: list[str]
    ) -> None:
        for token in instruction.rest.split():
            if not token.startswith("--"):
                break
            flag, _, value = token.partition("=")
            if flag.lower() != "--from" or not value:
                continue
            resolved, missing = interpolate(_unquote(value), args)
            if resolved.isdigit():
                continue  # a stage number
            self.image(instruction.line, "COPY --from", value, resolved, missing, stages)

    def image(
        self,
        line: int,
        what: str,
        reference: str,
        resolved: str,
        missing: list[str],
        stages: list[str],
    ) -> None:
        if missing:
            names = ", ".join(sorted(set(missing)))
            self.notes.warn(
                f"line {line}",
                f"{what} {reference!r} uses build argument(s) {names} without a default; "
                "the image depends on --build-arg and cannot be checked",
            )
            return
        if resolved.lower() in stages or resolved.lower() == "scratch":
            return
        image = parse_image(resolved)
        if image is None:
            self.notes.warn(f"line {line}", unresolved_message(what, resolved))
            return
        origin = Origin(self.path, f"line {line}")
        self.result.components.append(image_component(image, origin))


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a Dockerfile or Containerfile."""
    return only_input_errors(path, "a Dockerfile", lambda: _Reader(path).read(data))
