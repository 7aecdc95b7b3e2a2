"""YAML the gate is configured with (policy, register, ADR front matter), with lines.

Policy and register files are reviewed by people; an error has to point at
the line to fix. They are loaded by the one safe loader
(:mod:`checker.yamldocs`) under its tighter :data:`~checker.yamldocs.CONFIG`
limits (size, alias expansion, nesting, one document), and a path -> line
map is built from what it returns. Every refusal and every duplicate key
becomes a :class:`~checker.errors.Problem`: the caller reports them all at
once and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker import yamldocs
from checker.errors import InputError, Problem
from checker.inputs import read_bytes

Key = tuple[str | int, ...]

#: Largest configuration file read, in bytes (the loader's cap in characters, too).
MAX_CONFIG_BYTES = yamldocs.MAX_CONFIG_SIZE


@dataclass(slots=True)
class Located:
    """A loaded YAML document with the line of every mapping key and item."""

    path: str
    data: Any
    lines: dict[Key, int] = field(default_factory=dict)

    def line(self, key: Key) -> int:
        """Line of the nearest located ancestor of ``key`` (1-based)."""
        probe = key
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def where(self, key: Key) -> str:
        return f"line {self.line(key)}"

    def problem(self, key: Key, message: str) -> Problem:
        return Problem(self.path, self.where(key), message)


def load_yaml(text: str | bytes, path: str) -> tuple[Located | None, list[Problem]]:
    """Load one configuration document safely; return it with its positions, or problems.

    Duplicate keys are problems (YAML would keep only the last one: in a
    policy, a silently overridden decision); the document is still returned
    so the rest of it can be validated in the same run.
    """
    try:
        loaded = yamldocs.load(text, path, limits=yamldocs.CONFIG, collect_duplicates=True)
    except InputError as exc:
        return None, [exc.problem]
    if loaded.template:
        return None, [Problem(path, "line 1", "is a template, not YAML")]
    root = loaded.documents[0].root if loaded.documents else None
    located = Located(path, root)
    _index(root, located)
    return located, list(loaded.duplicates)


def read_yaml_file(
    path: Path, *, missing: str = "not found"
) -> tuple[Located | None, list[Problem]]:
    """Read and load a configuration file: a regular file under the size cap, UTF-8.

    ``missing`` is the message for a file that does not exist. A FIFO, a
    device or a file over :data:`MAX_CONFIG_BYTES` is a problem, never a
    hang or an out-of-memory.
    """
    try:
        data = read_bytes(path, MAX_CONFIG_BYTES, what="a policy or register file")
    except InputError as exc:
        message = exc.problem.message
        if message == "file not found":
            message = missing
        elif message.startswith("is empty"):
            return Located(str(path), None), []
        return None, [Problem(exc.problem.path, exc.problem.location, message)]
    return load_yaml(data, str(path))


def _index(root: Any, located: Located) -> None:
    """Fill ``located.lines`` from the positions the loader kept.

    Shared (aliased) values appear under every path that reaches them; the
    loader has already bounded the expanded size, so this walk is bounded too.
    """
    if isinstance(root, (yamldocs.YMap, yamldocs.YSeq)):
        located.lines[()] = root.line
    stack: list[tuple[Any, Key]] = [(root, ())]
    while stack:
        value, here = stack.pop()
        if isinstance(value, yamldocs.YMap):
            for name, item in value.items():
                child = (*here, name)
                located.lines[child] = value.key_line(name)
                stack.append((item, child))
        elif isinstance(value, yamldocs.YSeq):
            for index, item in enumerate(value):
                child = (*here, index)
                located.lines[child] = value.item_line(index)
                stack.append((item, child))


def describe(value: Any) -> str:
    """A loaded YAML value as a reviewer reads it in an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Collector:
    """Collects problems with file and line while walking a loaded document.

    The policy and the VEX register are both reviewed YAML validated in one
    pass: each check records a problem at the offending key and carries on,
    so the user sees every mistake at once. Validators extend this with the
    checks their own format needs.
    """

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, key: Key, message: str) -> None:
        self.problems.append(self.doc.problem(key, message))

    def mapping(self, value: Any, key: Key, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(key, f"{what} must be a mapping, found {describe(value)}")
        return None

    def sequence(self, value: Any, key: Key, what: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.add(key, f"{what} must be a list, found {describe(value)}")
        return []

    def string(self, mapping: dict[str, Any], name: str, key: Key, *, required: bool) -> str | None:
        value = mapping.get(name)
        if value is None:
            if required:
                self.add(key, f"missing required key {name!r}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add((*key, name), f"{name!r} must be a non-empty string, found {describe(value)}")
            return None
        return value.strip()

    def unknown_keys(self, mapping: dict[str, Any], allowed: tuple[str, ...], key: Key) -> None:
        for name in mapping:
            if name not in allowed:
                self.add(
                    (*key, str(name)),
                    f"unknown key {name!r}{self.key_hint(str(name))} "
                    f"(expected one of: {', '.join(allowed)})",
                )

    def key_hint(self, name: str) -> str:
        """Extra words for an unknown key (e.g. which entry kind it belongs to)."""
        return ""
