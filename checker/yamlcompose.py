"""Composing YAML parser events into nodes, within limits, before anything is converted.

PyYAML's own composers recurse once per nesting level and expand nothing
lazily, so a hostile file can exhaust the stack or, through aliases, the
memory of whatever walks the result. This composer keeps an explicit stack
and refuses, each with the line:

* an explicit tag other than YAML's own, where the caller asks for plain
  YAML (``!!python/object`` in a policy file);
* nesting deeper than the caller's limit;
* more documents than the caller's limit;
* a document whose size *after alias expansion* is over the remaining node
  budget, or an alias that contains itself.

The expanded size is counted while composing (each node's size once, at its
end event), so a document within its budget costs no second walk. Only a
document over it, or one with a self-referring alias, is walked again, to
name the node the refusal is about.

Parser errors (:class:`yaml.YAMLError`) pass through; :mod:`checker.yamldocs`
turns them and :class:`Refused` into input errors with the file's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from checker.inputs import excerpt

#: YAML's own tags, the only ones a plain-YAML file may write.
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)
NULL_TAG = "tag:yaml.org,2002:null"

_SELF_ALIAS = (
    "holds an alias that refers to itself (a recursive YAML structure); refusing to read it"
)


class Refused(Exception):
    """A limit the stream broke, at a line of the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Bounds:
    """The limits one stream is composed under (already resolved to numbers)."""

    max_documents: int
    max_nodes: int
    max_nesting: int
    plain_tags_only: bool


def _parser(text: str) -> Any:
    """An event parser: libyaml's when available (fast, no recursion), else PyYAML's."""
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader(text)
    return yaml.SafeLoader(text)


def compose(text: str, line_offset: int, bounds: Bounds) -> list[yaml.Node]:
    """The root node of every document of ``text``; raises :class:`Refused` or YAMLError."""
    loader = _parser(text)
    nodes: list[yaml.Node] = []
    total = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                composer = _Composer(loader, line_offset, bounds)
                node, size = composer.document()
                if len(nodes) >= bounds.max_documents:
                    many = f"{bounds.max_documents:,} YAML documents"
                    if bounds.max_documents == 1:
                        many = "one YAML document"
                    raise Refused(
                        node.start_mark.line + 1 + line_offset,
                        f"holds more than {many}; refusing to read further",
                    )
                budget = bounds.max_nodes - total
                if composer.self_alias or size > budget:
                    _refuse_expansion(node, budget, bounds.max_nodes, line_offset)
                total += size
                nodes.append(node)
    finally:
        loader.dispose()
    return nodes


class _Composer:
    """One document's events to nodes, counting each node's expanded size at its end."""

    def __init__(self, loader: Any, line_offset: int, bounds: Bounds) -> None:
        self.loader = loader
        self.offset = line_offset
        self.bounds = bounds
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[int, int] = {}
        #: An alias named a collection that was still open (found again by the walk).
        self.self_alias = False

    def document(self) -> tuple[yaml.Node, int]:
        """The document's root node and its size with every alias expanded."""
        loader = self.loader
        anchors = self.anchors
        sizes = self.sizes  # of anchored nodes only: what an alias can name
        plain_only = self.bounds.plain_tags_only
        # Open collections: [node, is a sequence, key node waiting for its value,
        # expanded size so far, anchor].
        stack: list[list[Any]] = []
        root: yaml.Node | None = None
        root_size = 0
        while True:
            event = loader.get_event()
            node: yaml.Node
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                elif plain_only:
                    self._plain(tag, event)
                node = _scalar(tag, event.value, event.start_mark, event.end_mark, event.style)
                size = 1
                if event.anchor is not None:
                    anchors[event.anchor] = node
                    sizes[id(node)] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if plain_only and event.tag not in (None, "!"):
                    self._plain(event.tag, event)
                sequence = isinstance(event, yaml.SequenceStartEvent)
                opened = self._open(event, sequence, len(stack))
                stack.append([opened, sequence, None, 1, event.anchor])
                continue
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node, _, _, size, anchor = stack.pop()
                node.end_mark = event.end_mark
                if anchor is not None:
                    sizes[id(node)] = size
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise _undefined_alias(event.anchor, event.start_mark)
                node = anchors[event.anchor]
                known = sizes.get(id(node))
                if known is None:  # its collection is still open: a cycle
                    self.self_alias = True
                size = known or 0
            elif isinstance(event, yaml.DocumentEndEvent):
                break
            else:
                continue
            if not stack:
                root, root_size = node, size
                continue
            parent = stack[-1]
            parent[3] += size
            if parent[1]:
                parent[0].value.append(node)
            elif parent[2] is None:
                parent[2] = node
            else:
                parent[0].value.append((parent[2], node))
                parent[2] = None
        if root is None:  # an empty document: a null
            root = _scalar(NULL_TAG, "", event.start_mark, event.start_mark, None)
            root_size = 1
        return root, root_size

    def _plain(self, tag: str, event: Any) -> None:
        """Refuse an explicit tag that is not YAML's own (plain-YAML files only)."""
        if tag not in PLAIN_TAGS:
            raise Refused(
                _line(event.start_mark) + self.offset,
                f"has the YAML tag {excerpt(str(tag), 60)}; this file is plain YAML, tags "
                "that construct objects or change types are refused",
            )

    def _open(self, event: Any, sequence: bool, depth: int) -> yaml.Node:
        if depth >= self.bounds.max_nesting:
            raise Refused(
                _line(event.start_mark) + self.offset,
                f"nests YAML more than {self.bounds.max_nesting} levels deep; refusing to read it",
            )
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(
                yaml.SequenceNode if sequence else yaml.MappingNode, None, event.implicit
            )
        node: yaml.Node
        if sequence:
            node = yaml.SequenceNode(
                tag, [], event.start_mark, event.end_mark, flow_style=event.flow_style
            )
        else:
            node = yaml.MappingNode(
                tag, [], event.start_mark, event.end_mark, flow_style=event.flow_style
            )
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        return node


# libyaml's marks are another class than PyYAML's; nodes take either.
def _scalar(tag: str, value: str, start: Any, end: Any, style: Any) -> yaml.ScalarNode:
    return yaml.ScalarNode(tag, value, start, end, style=style)


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


def _refuse_expansion(root: yaml.Node, budget: int, limit: int, line_offset: int) -> None:
    """Raise :class:`Refused` at the node that breaks the budget or refers to itself.

    Walks the document with every alias expanded, each distinct node once
    (sizes are memoized), so the walk is linear in the composed document
    even when the expansion is exponential.
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
                raise Refused(
                    node.start_mark.line + 1 + line_offset,
                    f"expands to more than {limit:,} YAML nodes through aliases "
                    "(an alias bomb?); refusing to read it",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise Refused(node.start_mark.line + 1 + line_offset, _SELF_ALIAS)
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            child_key = id(child)
            if child_key in active:
                raise Refused(child.start_mark.line + 1 + line_offset, _SELF_ALIAS)
            if child_key not in sizes:
                stack.append((child, False))
