"""The RUNE tables the copy moves, as both schemas define them.

The copy does not ask either database which columns to move: it names them here, with
the kind each one holds, because the same list has to drive the source query, the binary
``COPY`` types, the Python checksum and the SQL checksum. A schema changed by hand on
either side is refused by comparing it with this list, never followed.
"""

from __future__ import annotations

from dataclasses import dataclass

# The column kinds: they pick the checksum encoding and the binary COPY type.
TEXT = "text"
FLOAT = "float"
INT = "int"
BYTES = "bytes"


@dataclass(frozen=True)
class TableSpec:
    """A table as both schemas define it; ``columns`` in table order with their kind."""

    name: str
    columns: tuple[tuple[str, str], ...]
    pk: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _kind in self.columns)


# Parents before children; the order of the copy, the plan and the verification table.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "jobs",
        (
            ("job_id", TEXT),
            ("tenant_id", TEXT),
            ("kind", TEXT),
            ("status", TEXT),
            ("request_json", TEXT),
            ("result_json", TEXT),
            ("error", TEXT),
            ("message", TEXT),
            ("created_at", FLOAT),
            ("updated_at", FLOAT),
            ("owner", TEXT),
            ("lease_expires_at", FLOAT),
        ),
        ("job_id",),
    ),
    TableSpec(
        "idempotency_keys",
        (
            ("tenant_id", TEXT),
            ("operation", TEXT),
            ("idempotency_key", TEXT),
            ("job_id", TEXT),
            ("created_at", FLOAT),
            ("request_sha256", TEXT),
        ),
        ("tenant_id", "operation", "idempotency_key"),
    ),
    TableSpec(
        "workflow_events",
        (
            ("id", INT),
            ("job_id", TEXT),
            ("event", TEXT),
            ("status", TEXT),
            ("duration_ms", FLOAT),
            ("error_type", TEXT),
            ("labels_json", TEXT),
            ("recorded_at", FLOAT),
            ("tenant_id", TEXT),
        ),
        ("id",),
    ),
    TableSpec(
        "chain_state",
        (
            ("job_id", TEXT),
            ("state_json", TEXT),
            ("overall_status", TEXT),
            ("updated_at", FLOAT),
        ),
        ("job_id",),
    ),
    TableSpec(
        "audit_artifact",
        (
            ("artifact_id", TEXT),
            ("job_id", TEXT),
            ("kind", TEXT),
            ("name", TEXT),
            ("size_bytes", INT),
            ("sha256", TEXT),
            ("content", BYTES),
            ("created_at", FLOAT),
        ),
        ("artifact_id",),
    ),
    TableSpec(
        "settings",
        (("key", TEXT), ("value_json", TEXT), ("updated_at", FLOAT)),
        ("key",),
    ),
)
SPECS: dict[str, TableSpec] = {spec.name: spec for spec in TABLES}
