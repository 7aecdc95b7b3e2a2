"""Report writers: each turns a run (:class:`checker.results.RunResult`) into text.

One module per format, each with a ``report(result, options)`` function;
:data:`FORMATS` names them, one line each, and everything that lists
formats reads it: the CLI's ``--format`` choices and help, its dispatch, the
tests. Adding a format is one module, its tests and one line here.

A format's module is imported only when that format is asked for, so
``--help`` and a text report never load the XML or SARIF writers; this
module itself imports nothing the command line's start-up would pay for.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from checker.model import Finding
    from checker.results import RunResult

#: How many other places a human-readable report lists before "and N more".
MAX_ALSO = 5


class ReportOptions(NamedTuple):
    """What a writer may need beyond the run itself."""

    #: The folder SARIF locations are relative to (None: the current directory).
    base: Path | None = None


class Reporter(Protocol):
    """A report format: the name ``--format`` takes, and the text it writes for a run."""

    @property
    def name(self) -> str: ...

    def render(self, result: RunResult, options: ReportOptions) -> str: ...


class Format(NamedTuple):
    """One registry line: the format's name, the module that writes it, what it is for."""

    name: str
    #: The module holding ``report(result, options) -> str``, imported on first use.
    module: str
    #: What the format is for, as ``--help`` says it (empty: nothing to add).
    summary: str

    def render(self, result: RunResult, options: ReportOptions) -> str:
        write: Callable[[RunResult, ReportOptions], str] = importlib.import_module(
            self.module
        ).report
        return write(result, options)


#: Every report format, in the order ``--help`` lists them.
FORMATS: tuple[Format, ...] = (
    Format("text", "checker.report.text", ""),
    Format("json", "checker.report.json", "the report contract"),
    Format("sarif", "checker.report.sarif", "code scanning"),
    Format("junit", "checker.report.junit", "CI test UIs"),
    Format("markdown", "checker.report.markdown", "step summary or PR comment"),
)
#: The format a run writes unless asked for another.
DEFAULT_FORMAT = "text"


def format_names() -> tuple[str, ...]:
    """The names ``--format`` accepts."""
    return tuple(f.name for f in FORMATS)


def reporter(name: str) -> Reporter:
    """The registered format called ``name``; ``KeyError`` for one nobody registered."""
    for entry in FORMATS:
        if entry.name == name:
            return entry
    raise KeyError(f"no report format {name!r} (formats: {', '.join(format_names())})")


def also_text(finding: Finding, limit: int = MAX_ALSO) -> str | None:
    """The other places a finding's release appears, for the human formats (None: none)."""
    if not finding.also:
        return None
    shown = ", ".join(str(origin) for origin in finding.also[:limit])
    rest = len(finding.also) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def summary_text(result: RunResult) -> str:
    """``N components in M inputs``, and the entries when repeats were merged."""
    inputs = len(result.inputs)
    text = f"{result.components} component{'s' if result.components != 1 else ''}"
    text += f" in {inputs} input{'s' if inputs != 1 else ''}"
    if result.entries != result.components:
        text += f" ({result.entries} entries)"
    return text
