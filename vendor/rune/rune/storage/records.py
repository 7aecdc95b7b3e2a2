"""The dialect-independent half of every adapter: the domain values (job, node and event
statuses), argument checks, chain state rules and the shapes of the records the port
returns.

Why one module: the conformance suite requires SQLite and PostgreSQL to behave alike.
Validation, the chain-state read-modify-write and the mapping from selected columns to
records do not depend on the SQL dialect, so both adapters (through
:mod:`rune.storage.sqlbase`) call these functions and stay identical by construction;
only the SQL and the locking around it differ per adapter. Every row mapper expects the
columns in the order its docstring gives.

The statuses are :class:`~enum.StrEnum` members: each equals, hashes, formats and
serialises (JSON, SQL parameters) as its value, so what is stored and sent is the plain
string it always was, and a plain string from a caller or a row compares equal to the
member. A record read back keeps the stored text (``JobRecord.status`` is a ``str``), so
a row written by another version with an unknown status still loads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any

from rune.storage.errors import ChainStateError
from rune.storage.port import JobRecord, JSONDict


class JobStatus(StrEnum):
    """A job's ``status``: ``queued`` until claimed, then ``running``, then an outcome."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeStatus(StrEnum):
    """The status of one node of a job's chain (and the chain's overall status)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"


class EventStatus(StrEnum):
    """The outcome a workflow event records."""

    OK = "ok"
    ERROR = "error"


JOB_STATUSES = frozenset(JobStatus)
TERMINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
# The non-terminal statuses, and the outcomes a worker may record with finish_job.
ACTIVE_STATUSES = tuple(sorted(JOB_STATUSES - TERMINAL_JOB_STATUSES))
FINISH_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)
# For each target status, the statuses a job may be in to move there.
JOB_TRANSITIONS: dict[str, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.QUEUED}),
    **{status: frozenset(ACTIVE_STATUSES) for status in JOB_STATUSES - {JobStatus.QUEUED}},
}
NODE_STATUSES = frozenset(NodeStatus)
EVENT_STATUSES = frozenset(EventStatus)

JOB_COLUMNS = (
    "job_id, tenant_id, kind, status, request_json, result_json, error, message, "
    "created_at, updated_at, owner, lease_expires_at"
)


def plain(values: Iterable[str]) -> list[str]:
    """``values`` as plain strings, for messages (a list of members would show reprs)."""
    return [str(v) for v in values]


# arguments ---------------------------------------------------------------------------------
# The longest job kind the store accepts (create_job, and the kinds a worker claims).
MAX_KIND_LENGTH = 64


def require_text(name: str, value: object, max_len: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ValueError(f"{name} must be a non-empty string of at most {max_len} characters")
    return value


def require_dict(name: str, value: object) -> JSONDict:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object (dict)")
    return value


def require_lease(lease_seconds: object) -> float:
    # bool is an int; NaN and inf would make a lease that never (or always) expires.
    if (
        isinstance(lease_seconds, bool)
        or not isinstance(lease_seconds, int | float)
        or not math.isfinite(lease_seconds)
        or lease_seconds <= 0
    ):
        raise ValueError("lease_seconds must be a finite number of seconds greater than 0")
    return float(lease_seconds)


def require_kinds(kinds: Collection[str] | None) -> list[str] | None:
    if kinds is None:
        return None
    # A bare string is a Collection[str] of characters: almost certainly a caller's slip.
    if isinstance(kinds, str | bytes):
        raise ValueError("kinds must be a collection of kind names, not a single string")
    return sorted({require_text("kind", k, MAX_KIND_LENGTH) for k in kinds})


def require_job_status(status: object) -> JobStatus:
    if status not in JOB_STATUSES:
        raise ValueError(f"unknown job status {status!r}; use {plain(sorted(JOB_STATUSES))}")
    return JobStatus(str(status))


def require_finish_status(status: object) -> JobStatus:
    if status not in FINISH_STATUSES:
        raise ValueError(f"a worker finishes a job as one of {plain(FINISH_STATUSES)}")
    return JobStatus(str(status))


def require_node_status(status: object) -> NodeStatus:
    if status not in NODE_STATUSES:
        raise ValueError(f"node status must be one of {plain(sorted(NODE_STATUSES))}")
    return NodeStatus(str(status))


def require_event_status(status: object) -> EventStatus:
    if status not in EVENT_STATUSES:
        raise ValueError(f"event status must be one of {plain(sorted(EVENT_STATUSES))}")
    return EventStatus(str(status))


# chain state --------------------------------------------------------------------------------
def normalize_chain(nodes: list[JSONDict], edges: list[JSONDict]) -> JSONDict:
    """The stored form of a DAG: known node fields only, ids unique, edges checked."""
    norm_nodes: list[JSONDict] = []
    seen: set[str] = set()
    for node in nodes:
        node_id = require_text("node id", require_dict("node", node).get("id"))
        if node_id in seen:
            raise ValueError(f"duplicate chain node id {node_id!r}")
        seen.add(node_id)
        norm_nodes.append(
            {
                "id": node_id,
                "agent_name": str(node.get("agent_name") or ""),
                "status": require_node_status(node.get("status") or NodeStatus.PENDING),
                "started_at": node.get("started_at"),
                "finished_at": node.get("finished_at"),
                "error": node.get("error"),
            }
        )
    norm_edges = [
        {
            "from": require_text("edge from", require_dict("edge", e).get("from")),
            "to": require_text("edge to", e.get("to")),
        }
        for e in edges
    ]
    return {"nodes": norm_nodes, "edges": norm_edges}


def apply_node_transition(
    state: JSONDict,
    *,
    job_id: str,
    node_id: str,
    status: str,
    started_at: float | None,
    finished_at: float | None,
    error: str | None,
) -> None:
    """Update one node of a stored chain in place; the caller holds the row's lock."""
    for node in state["nodes"]:
        if node["id"] == node_id:
            node["status"] = status
            if started_at is not None:
                node["started_at"] = started_at
            if finished_at is not None:
                node["finished_at"] = finished_at
            if error is not None:
                node["error"] = error
            return
    raise ChainStateError(f"chain of job {job_id} has no node {node_id!r}")


def overall_chain_status(nodes: list[JSONDict]) -> NodeStatus:
    """Upstream's rule, in order: none→pending, any failed, any running, any pending,
    all skipped, else success."""
    statuses = [str(n.get("status")) for n in nodes]
    if not statuses:
        return NodeStatus.PENDING
    for status in (NodeStatus.FAILED, NodeStatus.RUNNING, NodeStatus.PENDING):
        if status in statuses:
            return status
    if all(s == NodeStatus.SKIPPED for s in statuses):
        return NodeStatus.SKIPPED
    return NodeStatus.SUCCESS


def chain_record(state_json: str, overall_status: str) -> JSONDict:
    """``get_chain_state``'s result from the stored JSON and status."""
    state = json.loads(state_json)
    return {"nodes": state["nodes"], "edges": state["edges"], "overall_status": overall_status}


# rows -----------------------------------------------------------------------------------------
def job_record(row: tuple[Any, ...] | Any) -> JobRecord:
    """A job from the columns of :data:`JOB_COLUMNS`, in that order."""
    return JobRecord(
        job_id=str(row[0]),
        tenant_id=str(row[1]),
        kind=str(row[2]),
        status=str(row[3]),
        request_payload=json.loads(row[4]),
        result_payload=json.loads(row[5]) if row[5] is not None else None,
        error=row[6],
        message=row[7],
        created_at=float(row[8]),
        updated_at=float(row[9]),
        owner=row[10],
        lease_expires_at=float(row[11]) if row[11] is not None else None,
    )


def finops_record(row: tuple[Any, ...] | Any) -> JSONDict:
    """From ``kind, request_json, result_json, created_at, updated_at``."""
    return {
        "kind": row[0],
        "request_payload": json.loads(row[1]),
        "result_payload": json.loads(row[2]) if row[2] is not None else None,
        "duration_seconds": max(float(row[4]) - float(row[3]), 0.001),
    }


def summary_record(row: tuple[Any, ...] | Any) -> JSONDict:
    """From ``event, total, ok, error, avg, min, max`` (durations rounded to 0.1 ms)."""
    return {
        "event": row[0],
        "total": int(row[1]),
        "ok": int(row[2] or 0),
        "error": int(row[3] or 0),
        "avg_ms": round(float(row[4]), 1) if row[4] is not None else 0.0,
        "min_ms": round(float(row[5]), 1) if row[5] is not None else 0.0,
        "max_ms": round(float(row[6]), 1) if row[6] is not None else 0.0,
    }


EVENT_COLUMNS = (
    "id, job_id, tenant_id, event, status, duration_ms, error_type, labels_json, recorded_at"
)


def event_record(row: tuple[Any, ...] | Any) -> JSONDict:
    """An event from the columns of :data:`EVENT_COLUMNS`, in that order."""
    return {
        "id": int(row[0]),
        "job_id": row[1],
        "tenant_id": row[2],
        "event": row[3],
        "status": row[4],
        "duration_ms": row[5],
        "error_type": row[6],
        "labels": json.loads(row[7]) if row[7] else {},
        "recorded_at": float(row[8]),
    }


ARTIFACT_COLUMNS = "artifact_id, kind, name, size_bytes, sha256, created_at"


def artifact_record(row: tuple[Any, ...] | Any) -> JSONDict:
    """Artifact metadata (no bytes) from the columns of :data:`ARTIFACT_COLUMNS`."""
    return {
        "artifact_id": row[0],
        "kind": row[1],
        "name": row[2],
        "size_bytes": int(row[3]),
        "sha256": row[4],
        "created_at": float(row[5]),
    }
