"""The one safe YAML loader: every YAML file the gate reads goes through here.

Policy files, the VEX register, ADR front matter, charts, values files,
manifests and compose files all arrive in pull requests, so every one is
hostile input until read. One loading path gives them the same defences:

* **Safe tags only.** Documents are parsed into events by libyaml (PyYAML's
  safe parser where libyaml is missing), composed here with an explicit
  stack (no recursion, at most :attr:`Limits.max_nesting` levels) and turned
  into plain values; no tag can construct an object. Timestamps stay the
  text that was written (the register checks dates itself, with the line).
* **Alias bombs are refused.** Aliases share nodes, so composing a "billion
  laughs" document is cheap but walking it is not. Before anything is
  converted, the size of every document *after alias expansion* is counted
  (each distinct node once, memoized) and a stream over
  :attr:`Limits.max_nodes`, or an alias that contains itself, is refused.
  Text over :attr:`Limits.max_chars` is refused before parsing.
* **Duplicate keys are refused.** YAML says keys are unique; PyYAML keeps
  the last, Helm, kubectl and Compose refuse the file. A silently
  overridden key can hide an image or flip a decision, so every duplicate
  is reported with both lines.
* **Positions.** Mappings and sequences come back as :class:`YMap` and
  :class:`YSeq`, ordinary ``dict``/``list`` subclasses that also know the
  1-based line of each key and item and the raw text of each scalar, so a
  reader can give every component ``Origin(path, "line N")`` and keep a tag
  written as ``17.10`` from becoming the float ``17.1``.
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
from typing import Any, NamedTuple

import yaml

from checker.errors import InputError, Problem
from checker.inputs import decode_text, excerpt, line_col
from checker.model import Note, Origin

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
#: YAML's own tags, the only ones :data:`CONFIG` files may write.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)
#: The message for YAML that exhausts the stack while it is read.
YAML_TOO_DEEP = "nests YAML too deeply to read"

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_TRUE = frozenset({"yes", "true", "on"})

_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")

TEMPLATE_NOTE = (
    "template, not YAML; skipped (a Helm template names its images through values: "
    "scan the chart's values.yaml, or the output of `helm template`)"
)


class ScalarInfo(NamedTuple):
    """How a scalar was written: its raw text, line and style."""

    raw: str
    line: int
    style: str | None  # None (plain), "'", '"', "|" or ">"


class YMap(dict[str, Any]):
    """A YAML mapping that knows where its keys are and how its scalars were written."""

    __slots__ = ("info", "line", "lines", "source", "sources")

    def __init__(self, line: int, source: str = "") -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}
        self.info: dict[str, ScalarInfo] = {}
        #: The file the mapping was read from; ``sources`` overrides it per key
        #: in mappings merged from several files (Helm values overrides).
        self.source = source
        self.sources: dict[str, str] | None = None

    def key_line(self, key: str) -> int:
        """1-based line of ``key``, or of the mapping when the key is absent."""
        return self.lines.get(key, self.line)

    def source_of(self, key: str) -> str:
        """The file ``key`` was read from."""
        if self.sources is not None:
            return self.sources.get(key, self.source)
        return self.source

    def text(self, key: str) -> str | None:
        """The value of ``key`` as written, if it is a non-null scalar."""
        return scalar_text(self.get(key), self.info.get(key))


class YSeq(list[Any]):
    """A YAML sequence that knows the line of each item."""

    __slots__ = ("info", "line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []
        self.info: dict[int, ScalarInfo] = {}

    def item_line(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line

    def text(self, index: int) -> str | None:
        value = self[index] if 0 <= index < len(self) else None
        return scalar_text(value, self.info.get(index))


def scalar_text(value: Any, info: ScalarInfo | None) -> str | None:
    """A scalar as its text: strings as they are, numbers and booleans as written."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        return value
    if info is not None:
        return info.raw
    return str(value)


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


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


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
    try:
        nodes = _compose(text, path, line_offset, limits)
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
    except _Refused as exc:
        raise InputError(path, f"line {exc.line}", exc.message) from None

    result = Loaded()
    converter = _Converter(path, line_offset, result.notes, result.duplicates)
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


def _parser(text: str) -> Any:
    """An event parser: libyaml's when available (fast, no recursion), else PyYAML's."""
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader(text)
    return yaml.SafeLoader(text)


def _compose(text: str, path: str, line_offset: int, limits: Limits) -> list[yaml.Node]:
    """Compose every document from parser events, iteratively and with limits.

    Written here rather than taken from PyYAML: its composers recurse once
    per nesting level, while this one keeps an explicit stack, refuses
    nesting deeper than the limits allow and checks each document's
    expanded size as soon as it is complete.
    """
    max_documents = limits.max_documents or MAX_DOCUMENTS
    max_nodes = limits.max_nodes or MAX_NODES
    nesting = limits.max_nesting or MAX_NESTING
    loader = _parser(text)
    nodes: list[yaml.Node] = []
    total = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                node = _compose_document(loader, line_offset, nesting, limits.plain_tags_only)
                if len(nodes) >= max_documents:
                    many = f"{max_documents:,} YAML documents"
                    if max_documents == 1:
                        many = "one YAML document"
                    raise _Refused(
                        node.start_mark.line + 1 + line_offset,
                        f"holds more than {many}; refusing to read further",
                    )
                total += _expanded_size(node, max_nodes - total, max_nodes, line_offset)
                nodes.append(node)
    finally:
        loader.dispose()
    return nodes


def _compose_document(
    loader: Any, line_offset: int, max_nesting: int, plain_tags_only: bool
) -> yaml.Node:
    anchors: dict[str, yaml.Node] = {}
    # Open collections, each with the key node waiting for its value (mappings).
    stack: list[list[Any]] = []
    root: yaml.Node | None = None
    while True:
        event = loader.get_event()
        if isinstance(event, yaml.DocumentEndEvent):
            break
        node: yaml.Node | None = None
        tag = getattr(event, "tag", None)
        if plain_tags_only and tag not in (None, "!") and tag not in _PLAIN_TAGS:
            raise _Refused(
                _line(event.start_mark) + line_offset,
                f"has the YAML tag {excerpt(str(tag), 60)}; this file is plain YAML, tags that "
                "construct objects or change types are refused",
            )
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _undefined_alias(event.anchor, event.start_mark)
            node = anchors[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = _scalar_node(tag, event.value, event.start_mark, event.end_mark, event.style)
            if event.anchor is not None:
                anchors[event.anchor] = node
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= max_nesting:
                raise _Refused(
                    _line(event.start_mark) + line_offset,
                    f"nests YAML more than {max_nesting} levels deep; refusing to read it",
                )
            sequence = isinstance(event, yaml.SequenceStartEvent)
            kind = yaml.SequenceNode if sequence else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(kind, None, event.implicit)
            collection = _collection_node(
                sequence, tag, event.start_mark, event.end_mark, event.flow_style
            )
            if event.anchor is not None:
                anchors[event.anchor] = collection
            stack.append([collection, None])
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node = stack.pop()[0]
            node.end_mark = event.end_mark
        else:
            continue
        if not stack:
            root = node
            continue
        parent = stack[-1]
        if isinstance(parent[0], yaml.SequenceNode):
            parent[0].value.append(node)
        elif parent[1] is None:
            parent[1] = node
        else:
            parent[0].value.append((parent[1], node))
            parent[1] = None
    if root is None:  # an empty document: a null
        root = _scalar_node(_NULL, "", event.start_mark, event.start_mark, None)
    return root


# libyaml's marks are another class than PyYAML's; nodes take either.
def _scalar_node(tag: str, value: str, start: Any, end: Any, style: Any) -> yaml.ScalarNode:
    return yaml.ScalarNode(tag, value, start, end, style=style)


def _collection_node(
    sequence: bool, tag: str, start: Any, end: Any, flow_style: Any
) -> yaml.SequenceNode | yaml.MappingNode:
    if sequence:
        return yaml.SequenceNode(tag, [], start, end, flow_style=flow_style)
    return yaml.MappingNode(tag, [], start, end, flow_style=flow_style)


def _undefined_alias(anchor: str | None, mark: Any) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(None, None, f"found undefined alias {anchor!r}", mark)


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        out: list[yaml.Node] = []
        for key, value in node.value:
            out.append(key)
            out.append(value)
        return out
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: yaml.Node, budget: int, limit: int, line_offset: int) -> int:
    """Nodes in ``root`` with every alias expanded; refuses cycles and over-budget.

    Each distinct node is visited once (sizes are memoized), so the check is
    linear in the composed document even when the expansion is exponential.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            active.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > budget:
                raise _Refused(
                    node.start_mark.line + 1 + line_offset,
                    f"expands to more than {limit:,} YAML nodes through aliases "
                    "(an alias bomb?); refusing to read it",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise _Refused(
                node.start_mark.line + 1 + line_offset,
                "holds an alias that refers to itself (a recursive YAML structure); "
                "refusing to read it",
            )
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            child_key = id(child)
            if child_key in active:
                raise _Refused(
                    child.start_mark.line + 1 + line_offset,
                    "holds an alias that refers to itself (a recursive YAML structure); "
                    "refusing to read it",
                )
            if child_key not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


class _Converter:
    """Nodes to YMap/YSeq/scalars; shared (aliased) nodes convert once."""

    def __init__(
        self, path: str, line_offset: int, notes: list[Note], duplicates: list[Problem]
    ) -> None:
        self.path = path
        self.offset = line_offset
        self.notes = notes
        self.duplicates = duplicates
        self.memo: dict[int, Any] = {}
        self.complex_keys = 0
        self._constructor = yaml.SafeLoader("")

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1 + self.offset

    def value(self, node: yaml.Node) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if isinstance(node, yaml.MappingNode):
            mapping = YMap(self.line(node), self.path)
            self.memo[key] = mapping
            self._fill(mapping, node)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            sequence = YSeq(self.line(node))
            self.memo[key] = sequence
            for item in node.value:
                if isinstance(item, yaml.ScalarNode):
                    sequence.info[len(sequence)] = self.info(item)
                sequence.lines.append(self.line(item))
                sequence.append(self.value(item))
            return sequence
        result = self.scalar(node)
        self.memo[key] = result
        return result

    def info(self, node: yaml.ScalarNode) -> ScalarInfo:
        return ScalarInfo(str(node.value), self.line(node), node.style or None)

    def scalar(self, node: yaml.Node) -> Any:
        text = str(node.value)
        tag = node.tag
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() in _TRUE
        if tag in (_INT, _FLOAT) and isinstance(node, yaml.ScalarNode) and len(text) <= 64:
            try:
                if tag == _INT:
                    return self._constructor.construct_yaml_int(node)
                return self._constructor.construct_yaml_float(node)
            except Exception:  # odd spellings stay text
                return text
        return text

    def _fill(self, mapping: YMap, node: yaml.MappingNode) -> None:
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.complex_keys += 1
                if self.complex_keys == 1:
                    self.notes.append(
                        Note(
                            Origin(self.path, f"line {self.line(key_node)}"),
                            "a mapping key that is itself a mapping or a list was ignored",
                        )
                    )
                continue
            name = str(key_node.value)
            if name in mapping.lines:
                self.duplicates.append(
                    Problem(
                        self.path,
                        f"line {self.line(key_node)}",
                        f"duplicate key {excerpt(name, 60)} (first at line {mapping.lines[name]}); "
                        "YAML keys must be unique and tools disagree on which one wins: "
                        "remove one",
                    )
                )
            mapping.lines[name] = self.line(key_node)
            if isinstance(value_node, yaml.ScalarNode):
                mapping.info[name] = self.info(value_node)
            else:
                mapping.info.pop(name, None)
            mapping[name] = self.value(value_node)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                merged = self.value(source)
                if not isinstance(merged, YMap):
                    self.notes.append(
                        Note(
                            Origin(self.path, f"line {self.line(merge)}"),
                            "a merge key (<<) that does not name a mapping was ignored",
                        )
                    )
                    continue
                for name, item in merged.items():
                    if name in mapping.lines:
                        continue
                    mapping.lines[name] = merged.key_line(name)
                    if name in merged.info:
                        mapping.info[name] = merged.info[name]
                    mapping[name] = item
