"""The one safe YAML loader: every YAML file the gate reads goes through here.

Policy files, the VEX register, ADR front matter, charts, values files,
manifests and compose files all arrive in pull requests, so every one is
hostile input until read. One loading path gives them the same defences:

* **Safe tags only.** Documents are parsed into events by libyaml (PyYAML's
  safe parser where libyaml is missing), once, and composed with an
  explicit stack (:mod:`checker.yamlcompose`: no recursion, at most
  :attr:`Limits.max_nesting` levels) into plain values; no tag can construct
  an object. Timestamps stay the text that was written (the register checks
  dates itself, with the line).
* **Alias bombs are refused.** Aliases share nodes, so composing a "billion
  laughs" document is cheap but walking it is not. Before anything is
  converted, the size of every document *after alias expansion* is counted
  (each distinct node once, while composing) and a stream over
  :attr:`Limits.max_nodes`, or an alias that contains itself, is refused.
  Text over :attr:`Limits.max_chars` is refused before parsing.
* **Duplicate keys are refused.** YAML says keys are unique; PyYAML keeps
  the last, Helm, kubectl and Compose refuse the file. A silently
  overridden key can hide an image or flip a decision, so every duplicate
  is reported with both lines.
* **Positions.** Mappings and sequences come back as :class:`YMap` and
  :class:`YSeq` (:mod:`checker.yamlvalues`), ordinary ``dict``/``list``
  subclasses that also know the 1-based line of each key and item and the
  raw text of each scalar, so a reader can give every component
  ``Origin(path, "line N")`` and keep a tag written as ``17.10`` from
  becoming the float ``17.1``. They are the only record of positions.
* **Merge keys** (``<<: *defaults``, common in compose files) are applied the
  YAML 1.1 way: explicit keys win, then earlier merged mappings.
* **Helm templates are not YAML.** A file with ``{{ ... }}`` outside quotes
  that does not parse as YAML is a template; it is reported with a note
  ("template, not YAML; skipped") instead of failing the run. Broken YAML
  that is not a template is an :class:`~checker.errors.InputError` naming
  the file, line and column.

Every refusal is an :class:`~checker.errors.InputError` with the file and
line; :mod:`checker.yamlio` turns them into policy problems (exit 2) for the
files that configure the gate, the readers let them through as unreadable
inputs (exit 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from checker.errors import InputError, Problem
from checker.inputs import decode_text, line_col
from checker.model import Note, Origin
from checker.yamlcompose import Bounds, Refused, compose
from checker.yamlvalues import Converter, ScalarInfo, YMap, YSeq, scalar_text

__all__ = [
    "ARTIFACTS",
    "CONFIG",
    "MAX_CHARS",
    "MAX_CONFIG_SIZE",
    "MAX_DOCUMENTS",
    "MAX_NESTING",
    "MAX_NODES",
    "TEMPLATE_NOTE",
    "YAML_TOO_DEEP",
    "Document",
    "Limits",
    "Loaded",
    "ScalarInfo",
    "YMap",
    "YSeq",
    "load",
    "looks_like_template",
    "mapping_roots",
    "scalar_text",
]

#: Largest YAML text read, in characters. Rendered manifests of large
#: platforms reach a few MB; the pure-Python parser reads about 1 MB/s.
MAX_CHARS = 16 * 1024 * 1024
#: Largest number of nodes a stream may have once aliases are expanded.
MAX_NODES = 1_000_000
#: Largest number of documents in one stream.
MAX_DOCUMENTS = 10_000
#: Deepest nesting of mappings and sequences (real artifacts stay under 30).
MAX_NESTING = 128


@dataclass(frozen=True, slots=True)
class Limits:
    """What one kind of YAML file may hold before it is refused unread.

    ``None`` means the module default at call time (so a test can lower the
    defaults for artifacts without building its own limits).
    """

    max_chars: int | None = None
    max_nodes: int | None = None
    max_documents: int | None = None
    max_nesting: int | None = None
    #: What the file is, for the size message ("deployment artifacts").
    what: str = "deployment artifacts"
    #: What to do about it, for the size message.
    advice: str = "split the manifest"
    #: Refuse explicit tags other than YAML's own (``!!python/object``, ``!Ref``).
    #: Artifacts keep them as plain values: Compose has ``!reset`` and ``!override``.
    plain_tags_only: bool = False


#: Largest configuration file (policy, register, ADR front matter), in bytes and characters.
MAX_CONFIG_SIZE = 4 * 1024 * 1024

#: Deployment artifacts: charts, values, manifests, compose files.
ARTIFACTS = Limits()
#: Files that configure the gate (policy, VEX register, ADR front matter):
#: a few hundred entries at most, reviewed by people, so far tighter caps.
CONFIG = Limits(
    max_chars=MAX_CONFIG_SIZE,
    max_nodes=200_000,
    max_documents=1,
    max_nesting=64,
    what="a policy or register file",
    advice="a real one is a few hundred KB at most; split it into several files",
    plain_tags_only=True,
)
#: The message for YAML that exhausts the stack while it is read.
YAML_TOO_DEEP = "nests YAML too deeply to read"

_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")

TEMPLATE_NOTE = (
    "template, not YAML; skipped (a Helm template names its images through values: "
    "scan the chart's values.yaml, or the output of `helm template`)"
)


@dataclass(slots=True)
class Document:
    """One document of a stream: its root value, position in the stream and line."""

    index: int
    line: int
    root: Any


@dataclass(slots=True)
class Loaded:
    """What a YAML stream held, and what was odd about it."""

    documents: list[Document] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: True when the file is a template that is not YAML (skipped, with a note).
    template: bool = False
    #: Every duplicate key, in order (see :func:`load`'s ``collect_duplicates``).
    duplicates: list[Problem] = field(default_factory=list)


def looks_like_template(text: str) -> bool:
    """Whether some line has ``{{ ... }}`` outside quotes and outside comments."""
    if "{{" not in text:
        return False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "{{" not in stripped:
            continue
        if _TEMPLATE.search(_QUOTED.sub("", stripped)):
            return True
    return False


def load(
    data: bytes | str,
    path: str,
    *,
    line_offset: int = 0,
    limits: Limits = ARTIFACTS,
    collect_duplicates: bool = False,
) -> Loaded:
    """Load every document of a YAML stream safely; see the module notes.

    ``line_offset`` is added to every line: YAML embedded in a block scalar
    of another file (Helm's ``annotations.images``) reports lines of the
    outer file. A duplicate key raises, unless ``collect_duplicates`` asks
    for all of them in :attr:`Loaded.duplicates` (policy validation reports
    every problem at once). Raises :class:`InputError` only.
    """
    text = decode_text(data, path) if isinstance(data, bytes) else data
    max_chars = limits.max_chars or MAX_CHARS
    if len(text) > max_chars:
        raise InputError(
            path,
            "",
            f"is {len(text):,} characters of YAML, over the {max_chars:,}-character limit "
            f"for {limits.what}; {limits.advice}",
        )
    template = looks_like_template(text)
    bounds = Bounds(
        max_documents=limits.max_documents or MAX_DOCUMENTS,
        max_nodes=limits.max_nodes or MAX_NODES,
        max_nesting=limits.max_nesting or MAX_NESTING,
        plain_tags_only=limits.plain_tags_only,
    )
    try:
        nodes = compose(text, line_offset, bounds)
    except yaml.MarkedYAMLError as exc:
        if template:
            return _skipped(path, line_offset)
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1 + line_offset} column {mark.column + 1}" if mark else ""
        reason = exc.problem or exc.context or "malformed YAML"
        raise InputError(path, where, f"is not valid YAML: {reason}") from None
    except yaml.YAMLError as exc:  # ReaderError: control characters and the like
        if template:
            return _skipped(path, line_offset)
        position = getattr(exc, "position", None)
        where = ""
        if isinstance(position, int) and 0 <= position <= len(text):
            where = f"line {line_col(text, position)[0] + line_offset}"
        reason = getattr(exc, "reason", None) or "unreadable YAML"
        raise InputError(path, where, f"is not valid YAML: {reason}") from None
    except RecursionError:
        raise InputError(path, "", YAML_TOO_DEEP) from None
    except Refused as exc:
        raise InputError(path, f"line {exc.line}", exc.message) from None

    result = Loaded()
    converter = Converter(path, line_offset, result.notes, result.duplicates)
    try:
        for index, node in enumerate(nodes):
            root = converter.value(node)
            result.documents.append(Document(index, node.start_mark.line + 1 + line_offset, root))
    except RecursionError:
        raise InputError(path, "", YAML_TOO_DEEP) from None
    if converter.complex_keys and template:
        return _skipped(path, line_offset)
    if result.duplicates and not collect_duplicates:
        first = result.duplicates[0]
        more = len(result.duplicates) - 1
        others = f" ({more} more duplicate key{'s' if more != 1 else ''} after it)" if more else ""
        raise InputError(path, first.location, first.message + others)
    return result


def mapping_roots(data: bytes, path: str, notes: list[Note], refusal: str) -> Iterator[YMap]:
    """The root mapping of every non-empty document, in order; the loader's notes go to ``notes``.

    For files whose every document must be a mapping: any other root means
    the file is not what its name says, so it is refused with ``refusal``
    rather than read as nothing.
    """
    loaded = load(data, path)
    notes.extend(loaded.notes)
    for document in loaded.documents:
        root = document.root
        if root is None:
            continue
        if not isinstance(root, YMap):
            raise InputError(path, f"line {document.line}", refusal)
        yield root


def _skipped(path: str, line_offset: int) -> Loaded:
    note = Note(Origin(path, f"line {1 + line_offset}"), TEMPLATE_NOTE)
    return Loaded([], [note], template=True)
