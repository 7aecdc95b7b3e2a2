"""One exception root whose messages a user can act on.

Every error names the file and the place in it (line, JSON path or XML path),
what was expected, and maps to one documented exit code, so the CLI never has
to guess and never shows a traceback.
"""

from __future__ import annotations

from checker.model import Origin

EXIT_PASS = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3


class Problem:
    """One thing wrong with a file: where it is (an :class:`Origin`) and what was expected.

    Built on the same :class:`Origin` a finding or a reader's note carries, so
    "where" is spelt and printed one way everywhere.
    """

    __slots__ = ("message", "origin")

    def __init__(self, path: str, location: str, message: str) -> None:
        self.origin = Origin(path, location)
        self.message = message

    @classmethod
    def at(cls, origin: Origin, message: str) -> Problem:
        return cls(origin.path, origin.location, message)

    @property
    def path(self) -> str:
        return self.origin.path

    @property
    def location(self) -> str:
        return self.origin.location

    @property
    def line(self) -> int | None:
        """The line a ``line N`` (or ``line N column M``) location names; None for others."""
        first = self.location.removeprefix("line ").split(" ", 1)[0]
        return int(first) if first.isdigit() else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.origin.path, self.origin.location, self.message) == (
            other.origin.path,
            other.origin.location,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.origin.path, self.origin.location, self.message))

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.location!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class CheckerError(Exception):
    """Root of every error the gate reports to a user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class UsageError(CheckerError):
    """The command line asked for something that cannot be done (exit 2)."""

    exit_code = EXIT_USAGE


class PolicyError(CheckerError):
    """The policy, the ADR folder or the VEX register is broken (exit 2).

    Validation collects every problem before raising, so a user fixes a broken
    policy in one pass instead of one error per run.
    """

    exit_code = EXIT_USAGE


class InputError(CheckerError):
    """An input (SBOM, lockfile, artifact) could not be read or parsed (exit 3)."""

    exit_code = EXIT_INPUT

    def __init__(self, path: str, location: str, message: str) -> None:
        problem = Problem(path, location, message)
        super().__init__(str(problem), [])
        self.problem = problem
