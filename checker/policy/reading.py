"""What reading either policy file shares: the file as a mapping, and checks with lines.

Both policy files are reviewed YAML validated in one pass, every problem
collected at its key's line (:class:`~checker.yamlio.Collector`); a
severity or a version range is checked the same way in either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checker.errors import Problem
from checker.model import Severity
from checker.versions import VersionRange, parse_range
from checker.yamlio import Collector, Key, Located, describe, read_yaml_file


class PolicyReader(Collector):
    """The policy's checks on top of the shared YAML problem collector."""

    def version_range(self, value: Any, key: Key) -> VersionRange | None:
        if value is None:
            return None
        if not isinstance(value, (str, int, float)):
            self.add(key, f"'versions' must be a string like '>=1.0,<2', found {describe(value)}")
            return None
        try:
            return parse_range(str(value))
        except ValueError as exc:
            self.add(key, str(exc))
            return None

    def severity(self, value: Any, key: Key) -> Severity:
        """``error`` or ``warning``; an error (fail closed) with a problem for anything else."""
        try:
            return Severity(value)
        except ValueError:
            self.add(key, f"severity must be 'error' or 'warning', found {describe(value)}")
            return Severity.ERROR


def read_policy_file(path: Path, problems: list[Problem]) -> Located | None:
    """One policy file, which must be a mapping; its problems are added to ``problems``."""
    doc, yaml_problems = read_yaml_file(
        path, missing="not found; the policy directory needs this file"
    )
    problems.extend(yaml_problems)
    if doc is not None and not isinstance(doc.data, dict):
        problems.append(Problem(str(path), "line 1", "must be a YAML mapping at the top level"))
        return None
    return doc
