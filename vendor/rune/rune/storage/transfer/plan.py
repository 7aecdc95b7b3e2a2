"""Deciding what to do with the target: create, copy into, resume, replace or refuse.

Both sides are checked before the first write (see :mod:`.target` and :mod:`.source`),
and the decision is made once, here, from what they hold: an empty database gets the
schema from :class:`~rune.storage.pg_migrator.PgMigrator`; an unfinished copy of the same
source is resumed when both sides still hold exactly what its progress table recorded
(see :mod:`.progress`), with or without ``--force``; when it can no longer be resumed,
``--force`` starts over. ``--force`` also allows replacing a target that holds rows that
are not a resumable copy of this source: the RUNE tables are emptied (``TRUNCATE``) in
the same transaction as the first batch, so anything that fails before that commit leaves
the old contents. Without ``--force`` such a target is refused, never mixed with the copy.
A dry run stops after the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rune.storage.transfer.checksums import MOD, target_checksum
from rune.storage.transfer.errors import one_line_errors
from rune.storage.transfer.progress import PROGRESS_TABLE
from rune.storage.transfer.source import Source
from rune.storage.transfer.tables import SPECS, TABLES
from rune.storage.transfer.target import TargetState, inspect, lock
from rune.storage.urls import PostgresTarget

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class TablePlan:
    """What happens to one table. ``done_rows``: rows an unfinished copy already holds."""

    table: str
    source_rows: int
    target_rows: int
    done_rows: int
    action: str


@dataclass(frozen=True)
class Plan:
    """The checked situation on both sides, before anything is written."""

    source: str
    target: str
    schema_version: int
    server_version: int
    target_state: str  # "empty", "ready", "resume", "replace", "refuse"
    summary: str
    refusal: str | None
    tables: tuple[TablePlan, ...]

    @property
    def rows_to_copy(self) -> int:
        """Rows the copy still has to write: every source row, less those an unfinished
        copy already holds (``done_rows``). Here, not in the CLI, because it is a fact of
        the plan that every caller of a dry run wants, not a way of printing it."""
        return sum(t.source_rows - t.done_rows for t in self.tables)


def resume_problem(conn: psycopg.Connection[Any], source: Source, state: TargetState) -> str | None:
    """Why the unfinished copy cannot be continued (None: it can)."""
    progress = state.progress or {}
    if set(progress) != set(SPECS):
        return f"its {PROGRESS_TABLE} table is incomplete"
    for spec in TABLES:
        entry = progress[spec.name]
        if entry.source_id != source.source_id:
            return f"it is a copy of another database ({entry.source})"
    for spec in TABLES:
        entry = progress[spec.name]
        rows, checksum = target_checksum(conn, spec)
        if rows != entry.rows or checksum != entry.checksum % MOD:
            return (
                f"the target table {spec.name} no longer holds what the copy wrote "
                f"({rows} rows, {entry.rows} recorded); something else wrote to it"
            )
        if entry.last_key is None:
            if entry.rows:
                return f"its progress row for {spec.name} is inconsistent"
            continue
        rows, checksum = source.scan(spec, entry.last_key)
        if rows != entry.rows or checksum != entry.checksum % MOD:
            return (
                f"the source table {spec.name} changed since the copy started (the "
                f"{entry.rows} rows copied so far no longer match; is the API still "
                "writing to it?)"
            )
    return None


def make_plan(
    conn: psycopg.Connection[Any],
    source: Source,
    target: PostgresTarget,
    *,
    force: bool,
    timeout: float,
) -> tuple[Plan, TargetState]:
    """Check both sides (read-only) and decide what to do with the target."""
    with one_line_errors(source.path, target, "checking the target"):
        lock(conn, target, timeout)
        state = inspect(conn, target, source.schema_version)
        source_counts = {spec.name: source.count(spec) for spec in TABLES}
        refusal = None
        done = dict.fromkeys(SPECS, 0)
        total_target = sum(state.counts.values())
        if not state.schema_exists:
            kind, summary = "empty", "empty database: the RUNE schema will be created"
        elif state.progress is not None:
            problem = resume_problem(conn, source, state)
            if problem is None:
                kind = "resume"
                done = {name: p.rows for name, p in state.progress.items()}
                summary = (
                    f"holds an unfinished copy of this source ({sum(done.values())} rows): "
                    "resuming it"
                )
            elif force:
                kind = "replace"
                summary = (
                    f"holds an unfinished copy that cannot be resumed ({problem}); --force: "
                    f"its {total_target} rows will be removed and the copy starts over"
                )
            else:
                kind = "refuse"
                summary = f"holds an unfinished copy that cannot be resumed: {problem}"
                refusal = (
                    f"the target {target.masked} holds an unfinished copy that cannot "
                    f"be resumed: {problem}; run again with --force to remove it and start over"
                )
        elif total_target:
            nonempty = ", ".join(f"{n}: {c}" for n, c in state.counts.items() if c)
            if force:
                kind = "replace"
                summary = f"holds RUNE rows ({nonempty}); --force: they will be replaced"
            else:
                kind = "refuse"
                summary = f"holds RUNE rows ({nonempty})"
                refusal = (
                    f"the target {target.masked} already holds RUNE rows ({nonempty}); "
                    "refusing to mix them with the copy. Use an empty database, or --force "
                    "to replace them"
                )
        else:
            kind, summary = "ready", "RUNE schema in place and empty: copying into it"
        tables = []
        for spec in TABLES:
            rows = source_counts[spec.name]
            target_rows = state.counts[spec.name]
            if kind == "refuse":
                action = "refuse" if target_rows or state.progress else "-"
            elif kind == "resume":
                left = rows - done[spec.name]
                action = f"resume: {left} rows left" if left else "complete"
            elif kind == "replace":
                action = f"replace {target_rows} rows" if target_rows else "copy"
            else:
                action = "copy"
            tables.append(TablePlan(spec.name, rows, target_rows, done[spec.name], action))
        if refusal is None:
            source.check_artifacts()
        plan = Plan(
            source=str(source.path),
            target=target.masked,
            schema_version=source.schema_version,
            server_version=state.server_version,
            target_state=kind,
            summary=summary,
            refusal=refusal,
            tables=tuple(tables),
        )
        return plan, state
