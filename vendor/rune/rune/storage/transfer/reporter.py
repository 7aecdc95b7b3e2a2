"""The progress interface: what a run tells its caller while it works.

The copy itself prints nothing, so the CLI (or a test) decides what to show; the base
class ignores everything, so a caller overrides only what it needs.
"""

from __future__ import annotations

from rune.storage.transfer.plan import Plan


class Reporter:
    """Receives progress; the CLI prints it. Called from several threads (serialise!)."""

    def plan(self, plan: Plan) -> None:
        """Both sides were checked; nothing was written yet."""

    def message(self, text: str) -> None:
        """A one-line note (schema created, resume, ...)."""

    def progress(self, table: str, copied: int, total: int) -> None:
        """After every committed batch: rows of ``table`` now in the target."""

    def table_done(self, table: str, copied: int, total: int, resumed: int, seconds: float) -> None:
        """``table`` is complete: ``copied`` rows this run, ``resumed`` from before."""
