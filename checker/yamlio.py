"""YAML the gate is configured with (policy, register, ADR front matter), with lines.

Policy and register files are reviewed by people; an error has to point at
the line to fix. They are loaded by the one safe loader
(:mod:`checker.yamldocs`) under its tighter :data:`~checker.yamldocs.CONFIG`
limits (size, alias expansion, nesting, one document); this module is only
the configuration side's adapter to it. Lines come from the loader's own
:class:`~checker.yamldocs.YMap` and :class:`~checker.yamldocs.YSeq`, looked
up by key path when a problem is reported, so there is one record of
positions, not a second index. Every refusal and every duplicate key
becomes a :class:`~checker.errors.Problem`: the caller reports them all at
once and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from checker import yamldocs
from checker.errors import InputError, Problem
from checker.inputs import read_bytes

Key = tuple[str | int, ...]

#: Largest configuration file read, in bytes (the loader's cap in characters, too).
MAX_CONFIG_BYTES = yamldocs.MAX_CONFIG_SIZE


@dataclass(slots=True)
class Located:
    """A loaded YAML document, which knows the line of every mapping key and item."""

    path: str
    data: Any

    def line(self, key: Key) -> int:
        """Line of ``key``, or of its nearest ancestor that is in the document (1-based).

        ``key`` is a path of mapping keys and item indexes from the root,
        e.g. ``("entries", 3, "license")``.
        """
        value = self.data
        if not isinstance(value, (yamldocs.YMap, yamldocs.YSeq)):
            return 1
        line = value.line
        for part in key:
            if isinstance(value, yamldocs.YMap) and isinstance(part, str) and part in value:
                line = value.key_line(part)
                value = value[part]
            elif isinstance(value, yamldocs.YSeq) and type(part) is int and 0 <= part < len(value):
                line = value.item_line(part)
                value = value[part]
            else:
                break
        return line

    def where(self, key: Key) -> str:
        return f"line {self.line(key)}"

    def problem(self, key: Key, message: str) -> Problem:
        return Problem(self.path, self.where(key), message)


class ConfigDoc(NamedTuple):
    """A configuration file as loaded: the document (None if it could not be) and its problems.

    A document with problems (duplicate keys) is still returned, so the rest
    of it can be validated in the same run.
    """

    doc: Located | None
    problems: list[Problem]


def load_yaml(text: str | bytes, path: str) -> ConfigDoc:
    """Load one configuration document safely; return it with its positions, or problems.

    Duplicate keys are problems (YAML would keep only the last one: in a
    policy, a silently overridden decision); the document is still returned
    so the rest of it can be validated in the same run.
    """
    try:
        loaded = yamldocs.load(text, path, limits=yamldocs.CONFIG, collect_duplicates=True)
    except InputError as exc:
        return ConfigDoc(None, [exc.problem])
    if loaded.template:
        return ConfigDoc(None, [Problem(path, "line 1", "is a template, not YAML")])
    root = loaded.documents[0].root if loaded.documents else None
    return ConfigDoc(Located(path, root), list(loaded.duplicates))


def read_yaml_file(path: Path, *, missing: str = "not found") -> ConfigDoc:
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
            return ConfigDoc(Located(str(path), None), [])
        return ConfigDoc(None, [Problem.at(exc.problem.origin, message)])
    return load_yaml(data, str(path))


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

    def records(
        self, value: Any, key: Key, what: str, item: str, allowed: tuple[str, ...]
    ) -> Iterator[tuple[Key, dict[str, Any]]]:
        """Each mapping of the list ``value`` (at ``key``), with its own key.

        The walk every list-of-rules section makes: a list that is not one, an
        item that is not a mapping (``item`` names what it should be) and keys
        outside ``allowed`` are recorded, and only the mappings are yielded.
        """
        for i, row in enumerate(self.sequence(value, key, what)):
            here: Key = (*key, i)
            mapping = self.mapping(row, here, item)
            if mapping is None:
                continue
            self.unknown_keys(mapping, allowed, here)
            yield here, mapping

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
