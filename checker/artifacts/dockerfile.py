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

Every image component has ``Origin(file, "line N")`` of its instruction. No
``FROM`` at all is an :class:`~checker.errors.InputError`: the file is not a
Dockerfile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checker.errors import InputError
from checker.images import image_component, interpolate, parse_image, unresolved_message
from checker.inputs import decode_text, only_input_errors
from checker.model import Origin, ReadResult
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
        seen_from = False
        for instruction in found:
            keyword = instruction.keyword
            if keyword == "ARG":
                scope = stage_args if seen_from else global_args
                for name, value in _arg_pairs(instruction.rest):
                    if value is not None:
                        value, _ = interpolate(value, {**global_args, **scope})
                    scope[name] = value
            elif keyword == "FROM":
                seen_from = True
                stage_args = {}
                self.from_(instruction, global_args, stages)
            elif keyword == "COPY" and seen_from:
                self.copy_from(instruction, {**global_args, **stage_args}, stages)
        if not seen_from:
            raise InputError(self.path, "line 1", "has no FROM instruction; not a Dockerfile")
        return self.result

    def from_(
        self, instruction: Instruction, args: dict[str, str | None], stages: list[str]
    ) -> None:
        tokens = instruction.rest.split()
        words = [t for t in tokens if not t.startswith("--")]
        stage = ""
        if len(words) >= 3 and words[1].lower() == "as":
            stage = words[2].lower()
        if not words:
            self.notes.warn(f"line {instruction.line}", "FROM without an image; skipped")
            stages.append(stage)
            return
        reference = words[0]
        resolved, missing = interpolate(reference, args)
        self.image(instruction.line, "FROM", reference, resolved, missing, stages)
        stages.append(stage)

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
