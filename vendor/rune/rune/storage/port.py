"""The storage port: what the API (and later workers) may ask of any job store.

The contract is upstream RUNE's R1 port plus its later additions (``close()``, settings,
``after_id`` on events, artifact kinds ``log``/``screenshot``), with the semantic fixes that
upstream lacked spelled out here so every adapter implements the same thing:

* ``create_job`` is atomic per idempotency key: concurrent calls with one key return one
  job; reusing a key with a different payload raises :class:`IdempotencyConflictError`.
* Job statuses are validated and ``succeeded``/``failed``/``cancelled`` are terminal: once
  there, ``update_job`` changes nothing and returns False.
* Chain node transitions are serialised, so parallel transitions never lose each other.
* Workflow events carry a tenant; summaries are always per tenant.
* ``list_settings`` matches the prefix literally and case-sensitively.
* Workers take jobs with ``claim_job``, which hands each queued job to exactly one caller
  and records the owner and a lease deadline; only the owner may finish the job, and
  crash recovery fails only ``running`` jobs whose lease has expired (or that never had
  one), so a restarting replica never fails a job another replica is still running.

Timestamps are float epoch seconds; JSON payloads are stored with sorted keys. The status
values (:class:`~rune.storage.records.JobStatus` and friends) live in
:mod:`rune.storage.records`; the port takes and returns them as the plain strings they are.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

JSONDict = dict[str, Any]

ARTIFACT_KINDS = frozenset(
    {
        "slsa_provenance",
        "sbom",
        "tla_report",
        "sigstore_bundle",
        "rekor_entry",
        "tpm_attestation",
        "log",
        "screenshot",
    }
)
FINOPS_KINDS = ("benchmark", "agentic-agent")
RECOVERY_MESSAGE = "server restarted before job completion"
DEFAULT_LEASE_SECONDS = 60.0


def dump_json(value: JSONDict) -> str:
    """Serialise with sorted keys so equal payloads give equal text (and equal hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class JobRecord:
    """One job as stored; ``request_payload``/``result_payload`` are decoded JSON.

    ``status`` is the stored text, which equals a :class:`~rune.storage.records.JobStatus`.
    """

    job_id: str
    tenant_id: str
    kind: str
    status: str
    request_payload: JSONDict
    result_payload: JSONDict | None
    error: str | None
    message: str | None
    created_at: float
    updated_at: float
    owner: str | None = None
    lease_expires_at: float | None = None

    def to_dict(self) -> JSONDict:
        return {
            "job_id": self.job_id,
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "status": self.status,
            "request_payload": self.request_payload,
            "result_payload": self.result_payload,
            "error": self.error,
            "message": self.message,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "owner": self.owner,
            "lease_expires_at": self.lease_expires_at,
        }


@dataclass(frozen=True)
class WorkflowEvent:
    """A metrics event. ``tenant_id`` defaults to the job's tenant when ``job_id`` is set."""

    event: str
    status: str
    recorded_at: float
    duration_ms: float | None = None
    labels: JSONDict = field(default_factory=dict)
    job_id: str | None = None
    error_type: str | None = None
    tenant_id: str | None = None


@runtime_checkable
class StoragePort(Protocol):
    """Everything the job API needs from a store.

    Implementations must be safe to call from many threads at once (the API serves each
    request on its own thread) and from several processes on one database.
    """

    # lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Release connections; the store is unusable afterwards (idempotent)."""

    def recover_expired_jobs(self, message: str = RECOVERY_MESSAGE) -> int:
        """Crash recovery: fail every ``running`` job whose lease has expired; return count.

        A running job without a lease (set running through ``update_job``, or left by a
        version without leases) counts as expired. ``queued`` jobs stay queued for the
        next claim, and a job whose lease is still live is never touched, so any replica
        may call this at start (and workers call it periodically) without harming work
        another replica is doing. ``error`` and ``message`` are set to ``message``.
        """

    # workers -------------------------------------------------------------------------
    def claim_job(
        self,
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        kinds: Collection[str] | None = None,
    ) -> JobRecord | None:
        """Take the oldest ``queued`` job (``created_at``, then ``job_id``) for ``worker_id``.

        Exactly one caller gets each job, across threads, processes and hosts: the job
        becomes ``running`` with ``owner = worker_id`` and ``lease_expires_at = now +
        lease_seconds``, and is returned as stored. None when nothing is queued (of the
        given ``kinds``, when set).
        """

    def renew_lease(
        self, job_id: str, *, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        """Move the lease deadline to ``now + lease_seconds``.

        False when the job is no longer ``running`` under ``worker_id`` (cancelled, or
        failed by recovery after the lease ran out): the worker should stop working on it.
        """

    def finish_job(
        self,
        job_id: str,
        *,
        worker_id: str,
        status: str,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Record the outcome (``succeeded`` or ``failed``) of a job the worker owns.

        Only a ``running`` job owned by ``worker_id`` changes; otherwise False and nothing
        is written, so a worker whose lease expired (or whose job was cancelled meanwhile)
        cannot overwrite the final state. The lease is cleared; the owner is kept as a
        record of who ran the job.
        """

    # jobs ----------------------------------------------------------------------------
    def create_job(
        self,
        *,
        tenant_id: str,
        kind: str,
        request_payload: JSONDict,
        idempotency_key: str | None = None,
    ) -> tuple[str, bool]:
        """Insert a ``queued`` job; return ``(job_id, created)``.

        With a non-empty key scoped by ``(tenant_id, kind)``, a repeat returns the first
        job with ``created=False``; a different payload raises IdempotencyConflictError.
        """

    def update_job(
        self,
        job_id: str,
        *,
        status: str | None = None,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Set the given fields; False if the job is unknown or the transition not allowed."""

    def get_job(self, job_id: str, *, tenant_id: str | None = None) -> JobRecord | None:
        """Return the job; with ``tenant_id`` a job of another tenant is None."""

    def list_jobs(
        self, *, tenant_id: str, status: str | None = None, limit: int = 100
    ) -> list[JobRecord]:
        """The tenant's jobs, newest first (``limit`` clamped to 1..1000)."""

    def list_jobs_for_finops(self, *, tenant_id: str, limit: int = 2000) -> list[JSONDict]:
        """Succeeded ``benchmark``/``agentic-agent`` jobs with ``duration_seconds``."""

    def purge_idempotency_keys(self, *, older_than: float) -> int:
        """Forget idempotency keys created before ``older_than``; return count."""

    # workflow events -------------------------------------------------------------------
    def record_workflow_event(self, event: WorkflowEvent) -> int:
        """Store one event; return its id (monotonic, usable as an ``after_id`` cursor)."""

    def get_events_summary(self, *, tenant_id: str, job_id: str | None = None) -> list[JSONDict]:
        """Per event name: total, ok, error, avg/min/max ms (1 decimal); one tenant only."""

    def get_events_for_job(self, job_id: str, *, after_id: int = 0) -> list[JSONDict]:
        """The job's events with ``id > after_id``, in id order."""

    # chain state -------------------------------------------------------------------------
    def record_chain_initialized(
        self, *, job_id: str, nodes: list[JSONDict], edges: list[JSONDict]
    ) -> None:
        """Store (or replace) the job's DAG with normalised nodes and edges."""

    def record_chain_node_transition(
        self,
        *,
        job_id: str,
        node_id: str,
        status: str,
        started_at: float | None = None,
        finished_at: float | None = None,
        error: str | None = None,
    ) -> None:
        """Atomically update one node and the overall status (no lost updates)."""

    def get_chain_state(self, job_id: str) -> JSONDict | None:
        """``{"nodes", "edges", "overall_status"}`` or None."""

    # audit artifacts ---------------------------------------------------------------------
    def record_audit_artifact(self, *, job_id: str, kind: str, name: str, content: bytes) -> str:
        """Store bytes; the store computes sha256 and size. Return the artifact id."""

    def list_audit_artifacts(self, job_id: str) -> list[JSONDict]:
        """Metadata only (no bytes), ordered by ``created_at`` then id."""

    def get_audit_artifact(self, *, job_id: str, artifact_id: str) -> tuple[bytes, str, str] | None:
        """``(content, name, kind)`` when the artifact belongs to that job, else None."""

    # settings ------------------------------------------------------------------------------
    def set_setting(self, key: str, value: JSONDict) -> None:
        """Upsert a JSON setting."""

    def get_setting(self, key: str) -> JSONDict | None:
        """The setting or None."""

    def delete_setting(self, key: str) -> bool:
        """Delete; True if it existed."""

    def list_settings(self, prefix: str | None = None) -> dict[str, JSONDict]:
        """Settings whose key starts with ``prefix`` (literal, case-sensitive)."""
