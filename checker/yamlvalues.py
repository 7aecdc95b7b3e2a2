"""What a loaded YAML document is made of: mappings and sequences that know their lines.

Readers give every component ``Origin(path, "line N")`` and keep a tag
written as ``17.10`` from becoming the float ``17.1``, so the loader's
mappings and sequences are ordinary ``dict``/``list`` subclasses that also
know the 1-based line of each key and item and how each scalar was written.
They are the one record of where things are: configuration files
(:mod:`checker.yamlio`) and artifact readers read lines from them.

:class:`Converter` turns composed nodes (:mod:`checker.yamlcompose`) into
these values: shared (aliased) nodes convert once, merge keys are applied
the YAML 1.1 way (explicit keys win, then earlier merged mappings), and
duplicate keys are collected with both lines, since YAML says keys are
unique and tools disagree on which one wins.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import yaml

from checker.errors import Problem
from checker.inputs import excerpt
from checker.model import Note, Origin

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_TRUE = frozenset({"yes", "true", "on"})


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
    """A YAML sequence that knows the line of each item.

    ``flow`` says it was written ``[a, b]`` rather than as a block of ``- a``
    items (``vex add`` appends only to a block list).
    """

    __slots__ = ("flow", "info", "line", "lines")

    def __init__(self, line: int, *, flow: bool = False) -> None:
        super().__init__()
        self.line = line
        self.flow = flow
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


class Converter:
    """Nodes to YMap/YSeq/scalars; shared (aliased) nodes convert once.

    Odd but harmless constructs become ``notes``; duplicate keys go to
    ``duplicates`` (the loader decides whether they are fatal).
    """

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
            sequence = YSeq(self.line(node), flow=bool(node.flow_style))
            self.memo[key] = sequence
            offset = self.offset + 1
            for item in node.value:
                line = item.start_mark.line + offset
                if isinstance(item, yaml.ScalarNode):
                    sequence.info[len(sequence)] = ScalarInfo(
                        str(item.value), line, item.style or None
                    )
                sequence.lines.append(line)
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
            line = self.line(key_node)
            if name in mapping.lines:
                self.duplicates.append(
                    Problem(
                        self.path,
                        f"line {line}",
                        f"duplicate key {excerpt(name, 60)} (first at line {mapping.lines[name]}); "
                        "YAML keys must be unique and tools disagree on which one wins: "
                        "remove one",
                    )
                )
            mapping.lines[name] = line
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
