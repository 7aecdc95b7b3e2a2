"""Safe YAML loading that remembers where every value came from.

Policy and register files are reviewed by people; an error has to point at
the line to fix. PyYAML's safe loader gives values without positions, so the
file is composed once into nodes and a path -> line map is built alongside
the values. Duplicate keys, which YAML silently lets the last one win, are
reported instead: in a policy, a silently overridden decision is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from checker.errors import Problem

Key = tuple[str | int, ...]


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


def load_yaml(text: str, path: str) -> tuple[Located | None, list[Problem]]:
    """Load one YAML document safely; return it with its positions, or problems."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        reason = exc.problem or exc.context or "malformed YAML"
        return None, [Problem(path, where, f"is not valid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, "", f"is not valid YAML: {exc}")]
    except RecursionError:
        return None, [Problem(path, "", "is nested too deeply to be a policy file")]
    located = Located(path, data)
    problems: list[Problem] = []
    if node is not None:
        _index(node, (), located, problems)
    return located, problems


def _index(node: yaml.Node, key: Key, located: Located, problems: list[Problem]) -> None:
    stack: list[tuple[yaml.Node, Key]] = [(node, key)]
    while stack:
        current, here = stack.pop()
        located.lines[here] = current.start_mark.line + 1
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                name = str(key_node.value)
                line = key_node.start_mark.line + 1
                if name in seen and name != "<<":
                    problems.append(
                        Problem(
                            located.path,
                            f"line {line}",
                            f"duplicate key {name!r} (first at line {seen[name]}); "
                            "YAML would silently keep only the last one",
                        )
                    )
                seen[name] = line
                child = (*here, name)
                located.lines[child] = line
                stack.append((value_node, child))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                stack.append((item, (*here, index)))


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
