"""What the SQLite and PostgreSQL adapters share: every port method, written once.

Why a base class: the adapters must behave alike (the conformance suite runs the same
assertions against both), and two copies of a method that differ only in placeholders
drift apart. Here each port method is written once -- argument checks, the SQL, its
parameters and the mapping of rows to records -- on the hooks of
:class:`~rune.storage.sqldialect.SQLDialect`, through which an adapter supplies only what
really differs between the two databases (connections, placeholders, locking clauses, the
clock, error mapping; the dialect module lists them).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Collection
from typing import Any

from rune.storage.errors import ChainStateError, JobNotFoundError
from rune.storage.port import (
    ARTIFACT_KINDS,
    DEFAULT_LEASE_SECONDS,
    FINOPS_KINDS,
    RECOVERY_MESSAGE,
    JobRecord,
    JSONDict,
    WorkflowEvent,
    dump_json,
)
from rune.storage.records import (
    ACTIVE_STATUSES,
    ARTIFACT_COLUMNS,
    EVENT_COLUMNS,
    JOB_COLUMNS,
    JOB_TRANSITIONS,
    MAX_KIND_LENGTH,
    EventStatus,
    JobStatus,
    apply_node_transition,
    artifact_record,
    chain_record,
    event_record,
    finops_record,
    job_record,
    normalize_chain,
    overall_chain_status,
    require_dict,
    require_event_status,
    require_finish_status,
    require_job_status,
    require_kinds,
    require_lease,
    require_node_status,
    require_text,
    summary_record,
)
from rune.storage.sqldialect import INSERT_JOB, JobRow, SQLDialect

_QUEUED = f"'{JobStatus.QUEUED}'"
_RUNNING = f"'{JobStatus.RUNNING}'"


class SQLStorage(SQLDialect):
    """The port on a SQL database; subclasses add the dialect (:mod:`rune.storage.sqldialect`)."""

    def _outcome(
        self, result_payload: JSONDict | None, error: str | None, message: str | None
    ) -> tuple[list[str], list[Any]]:
        """The SET clauses and parameters for the given result fields of a job."""
        sets: list[str] = []
        params: list[Any] = []
        if result_payload is not None:
            sets.append("result_json = ?")
            params.append(dump_json(require_dict("result_payload", result_payload)))
        if error is not None:
            sets.append("error = ?")
            params.append(self._stored("error", error))
        if message is not None:
            sets.append("message = ?")
            params.append(self._stored("message", message))
        return sets, params

    # lifecycle ----------------------------------------------------------------------------
    def recover_expired_jobs(self, message: str = RECOVERY_MESSAGE) -> int:
        self._stored("message", message)
        now = time.time()
        clock, clock_params = self._clock(now)
        return self._count(
            f"UPDATE jobs SET status = '{JobStatus.FAILED}', error = ?, message = ?, "
            f"updated_at = ?, lease_expires_at = NULL WHERE status = {_RUNNING} "
            f"AND (lease_expires_at IS NULL OR lease_expires_at <= {clock})",
            (message, message, now, *clock_params),
        )

    # workers ------------------------------------------------------------------------------
    def claim_job(
        self,
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        kinds: Collection[str] | None = None,
    ) -> JobRecord | None:
        self._required("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        wanted = require_kinds(kinds)
        if wanted is not None:
            wanted = [k for k in wanted if not self._unmatchable(k)]
            if not wanted:
                return None  # no kind accepted: nothing can match
        where = f"status = {_QUEUED}"
        where_params: list[Any] = []
        if wanted is not None:
            kind_in, where_params = self._in("kind", wanted)
            where += f" AND {kind_in}"
        now = time.time()
        deadline, deadline_params = self._deadline(now, lease)
        # One UPDATE of the oldest queued job: the dialect's clauses make sure that two
        # claimers never get the same row. fetchall() steps the statement to completion.
        rows = self._rows(
            f"UPDATE jobs SET status = {_RUNNING}, owner = ?, lease_expires_at = {deadline}, "
            f"updated_at = ? WHERE {self._CLAIM_RECHECK}job_id = (SELECT job_id FROM "
            f"{self._CLAIM_FROM} WHERE {where} ORDER BY created_at, job_id LIMIT 1"
            f"{self._CLAIM_LOCK}) RETURNING {JOB_COLUMNS}",
            (worker_id, *deadline_params, now, *where_params),
        )
        return job_record(rows[0]) if rows else None

    def renew_lease(
        self, job_id: str, *, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        require_text("worker_id", worker_id)
        lease = require_lease(lease_seconds)
        if self._unmatchable(job_id, worker_id):
            return False
        deadline, deadline_params = self._deadline(time.time(), lease)
        changed = self._count(
            f"UPDATE jobs SET lease_expires_at = {deadline} "
            f"WHERE job_id = ? AND status = {_RUNNING} AND owner = ?",
            (*deadline_params, job_id, worker_id),
        )
        return changed > 0

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
        require_text("worker_id", worker_id)
        sets = ["status = ?", "lease_expires_at = NULL", "updated_at = ?"]
        params: list[Any] = [require_finish_status(status), time.time()]
        more_sets, more_params = self._outcome(result_payload, error, message)
        if self._unmatchable(job_id, worker_id):
            return False
        changed = self._count(
            f"UPDATE jobs SET {', '.join([*sets, *more_sets])} "
            f"WHERE job_id = ? AND status = {_RUNNING} AND owner = ?",
            (*params, *more_params, job_id, worker_id),
        )
        return changed > 0

    # jobs ---------------------------------------------------------------------------------
    def create_job(
        self,
        *,
        tenant_id: str,
        kind: str,
        request_payload: JSONDict,
        idempotency_key: str | None = None,
    ) -> tuple[str, bool]:
        self._required("tenant_id", tenant_id)
        self._required("kind", kind, MAX_KIND_LENGTH)
        request_json = dump_json(require_dict("request_payload", request_payload))
        job_id = str(uuid.uuid4())
        now = time.time()
        job = JobRow(job_id, tenant_id, kind, JobStatus.QUEUED, request_json, "accepted", now, now)
        if not idempotency_key:
            self._count(INSERT_JOB, job)  # one statement: its own atomic transaction
            return job_id, True
        self._required("idempotency_key", idempotency_key)
        digest = hashlib.sha256(request_json.encode("utf-8")).hexdigest()
        return self._create_keyed(job, (tenant_id, kind, idempotency_key), digest)

    def update_job(
        self,
        job_id: str,
        *,
        status: str | None = None,
        result_payload: JSONDict | None = None,
        error: str | None = None,
        message: str | None = None,
    ) -> bool:
        sets = ["updated_at = ?"]
        params: list[Any] = [time.time()]
        if status is not None:
            sets.append("status = ?")
            params.append(require_job_status(status))
        more_sets, more_params = self._outcome(result_payload, error, message)
        if self._unmatchable(job_id):
            return False
        allowed = sorted(JOB_TRANSITIONS[status] if status is not None else ACTIVE_STATUSES)
        status_in, allowed_params = self._in("status", allowed)
        changed = self._count(
            f"UPDATE jobs SET {', '.join([*sets, *more_sets])} WHERE job_id = ? AND {status_in}",
            (*params, *more_params, job_id, *allowed_params),
        )
        return changed > 0

    def get_job(self, job_id: str, *, tenant_id: str | None = None) -> JobRecord | None:
        if self._unmatchable(job_id, tenant_id):
            return None
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?"
        params: tuple[str, ...] = (job_id,)
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params = (job_id, tenant_id)
        row = self._row(sql, params)
        return job_record(row) if row is not None else None

    def list_jobs(
        self, *, tenant_id: str, status: str | None = None, limit: int = 100
    ) -> list[JobRecord]:
        limit = max(1, min(int(limit), 1000))
        if self._unmatchable(tenant_id, status):
            return []
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT ?"
        params.append(limit)
        return [job_record(r) for r in self._rows(sql, params)]

    def list_jobs_for_finops(self, *, tenant_id: str, limit: int = 2000) -> list[JSONDict]:
        limit = max(1, min(int(limit), 5000))
        if self._unmatchable(tenant_id):
            return []
        kind_in, kind_params = self._in("kind", FINOPS_KINDS)
        rows = self._rows(
            "SELECT kind, request_json, result_json, created_at, updated_at FROM jobs "
            f"WHERE tenant_id = ? AND status = '{JobStatus.SUCCEEDED}' AND {kind_in} "
            "ORDER BY updated_at DESC LIMIT ?",
            (tenant_id, *kind_params, limit),
        )
        return [finops_record(r) for r in rows]

    def purge_idempotency_keys(self, *, older_than: float) -> int:
        return self._count(
            "DELETE FROM idempotency_keys WHERE created_at < ?", (self._epoch(older_than),)
        )

    # workflow events ----------------------------------------------------------------------
    def record_workflow_event(self, event: WorkflowEvent) -> int:
        self._required("event", event.event, 128)
        require_event_status(event.status)
        self._stored("error_type", event.error_type)
        self._stored("tenant_id", event.tenant_id)
        labels = dump_json(require_dict("labels", event.labels)) if event.labels else None
        if event.job_id is not None and self._unmatchable(event.job_id):
            raise JobNotFoundError(f"job {event.job_id!r} does not exist")
        with self._transaction() as conn:
            tenant = event.tenant_id
            if event.job_id is not None:
                row = self._execute(
                    conn,
                    f"SELECT tenant_id FROM jobs WHERE job_id = ?{self._LOCK_JOB_ROW}",
                    (event.job_id,),
                ).fetchone()
                if row is None:
                    raise JobNotFoundError(f"job {event.job_id} does not exist")
                if tenant is not None and tenant != row[0]:
                    raise ValueError("event tenant_id does not match the job's tenant")
                tenant = str(row[0])
            return self._insert_event(
                conn,
                "INSERT INTO workflow_events (job_id, event, status, duration_ms, error_type, "
                "labels_json, recorded_at, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.job_id,
                    event.event,
                    event.status,
                    event.duration_ms,
                    event.error_type,
                    labels,
                    event.recorded_at,
                    tenant,
                ),
            )

    def get_events_summary(self, *, tenant_id: str, job_id: str | None = None) -> list[JSONDict]:
        if self._unmatchable(tenant_id, job_id):
            return []
        ok = self._count_if(f"status = '{EventStatus.OK}'")
        failed = self._count_if(f"status = '{EventStatus.ERROR}'")
        sql = (
            f"SELECT event, COUNT(*), {ok}, {failed}, "
            "AVG(duration_ms), MIN(duration_ms), MAX(duration_ms) FROM workflow_events "
            "WHERE tenant_id = ?"
        )
        params: list[Any] = [tenant_id]
        if job_id is not None:
            sql += " AND job_id = ?"
            params.append(job_id)
        sql += " GROUP BY event ORDER BY event"
        rows = self._rows(sql, params)
        # The averages are floats on both databases (PostgreSQL: AVG of double precision),
        # so rounding happens on the same type, in Python.
        return [summary_record(r) for r in rows]

    def get_events_for_job(self, job_id: str, *, after_id: int = 0) -> list[JSONDict]:
        if self._unmatchable(job_id):
            return []
        rows = self._rows(
            f"SELECT {EVENT_COLUMNS} FROM workflow_events WHERE job_id = ? AND id > ? ORDER BY id",
            (job_id, int(after_id)),
        )
        return [event_record(r) for r in rows]

    # chain state --------------------------------------------------------------------------
    def record_chain_initialized(
        self, *, job_id: str, nodes: list[JSONDict], edges: list[JSONDict]
    ) -> None:
        chain = normalize_chain(nodes, edges)
        state = dump_json(chain)
        with self._job_write(job_id) as conn:
            self._execute(
                conn,
                "INSERT INTO chain_state (job_id, state_json, overall_status, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
                "state_json = excluded.state_json, overall_status = excluded.overall_status, "
                "updated_at = excluded.updated_at",
                (job_id, state, overall_chain_status(chain["nodes"]), time.time()),
            )

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
        require_node_status(status)
        if self._unmatchable(job_id):
            raise ChainStateError(f"chain state for job {job_id!r} was never initialised")
        # The write transaction (and the row lock) make the read-modify-write atomic: a
        # parallel transition waits and then reads this one's result.
        with self._transaction() as conn:
            row = self._execute(
                conn,
                f"SELECT state_json FROM chain_state WHERE job_id = ?{self._LOCK_CHAIN_ROW}",
                (job_id,),
            ).fetchone()
            if row is None:
                raise ChainStateError(f"chain state for job {job_id} was never initialised")
            state = json.loads(row[0])
            apply_node_transition(
                state,
                job_id=job_id,
                node_id=node_id,
                status=status,
                started_at=started_at,
                finished_at=finished_at,
                error=error,
            )
            self._execute(
                conn,
                "UPDATE chain_state SET state_json = ?, overall_status = ?, updated_at = ? "
                "WHERE job_id = ?",
                (dump_json(state), overall_chain_status(state["nodes"]), time.time(), job_id),
            )

    def get_chain_state(self, job_id: str) -> JSONDict | None:
        if self._unmatchable(job_id):
            return None
        row = self._row(
            "SELECT state_json, overall_status FROM chain_state WHERE job_id = ?", (job_id,)
        )
        return chain_record(row[0], row[1]) if row is not None else None

    # audit artifacts ----------------------------------------------------------------------
    def record_audit_artifact(self, *, job_id: str, kind: str, name: str, content: bytes) -> str:
        if kind not in ARTIFACT_KINDS:
            raise ValueError(f"artifact kind must be one of {sorted(ARTIFACT_KINDS)}")
        self._required("name", name, 512)
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ValueError("content must be bytes")
        data = bytes(content)
        artifact_id = str(uuid.uuid4())
        with self._job_write(job_id) as conn:
            self._execute(
                conn,
                "INSERT INTO audit_artifact (artifact_id, job_id, kind, name, size_bytes, "
                "sha256, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    artifact_id,
                    job_id,
                    kind,
                    name,
                    len(data),
                    hashlib.sha256(data).hexdigest(),
                    data,
                    time.time(),
                ),
            )
        return artifact_id

    def list_audit_artifacts(self, job_id: str) -> list[JSONDict]:
        if self._unmatchable(job_id):
            return []
        rows = self._rows(
            f"SELECT {ARTIFACT_COLUMNS} FROM audit_artifact WHERE job_id = ? "
            "ORDER BY created_at, artifact_id",
            (job_id,),
        )
        return [artifact_record(r) for r in rows]

    def get_audit_artifact(self, *, job_id: str, artifact_id: str) -> tuple[bytes, str, str] | None:
        if self._unmatchable(job_id, artifact_id):
            return None
        row = self._row(
            "SELECT content, name, kind FROM audit_artifact WHERE job_id = ? AND artifact_id = ?",
            (job_id, artifact_id),
        )
        return (bytes(row[0]), str(row[1]), str(row[2])) if row is not None else None

    # settings -----------------------------------------------------------------------------
    def set_setting(self, key: str, value: JSONDict) -> None:
        self._required("key", key)
        value_json = dump_json(require_dict("value", value))
        self._count(
            "INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, "
            "updated_at = excluded.updated_at",
            (key, value_json, time.time()),
        )

    def get_setting(self, key: str) -> JSONDict | None:
        if self._unmatchable(key):
            return None
        row = self._row("SELECT value_json FROM settings WHERE key = ?", (key,))
        return json.loads(row[0]) if row is not None else None

    def delete_setting(self, key: str) -> bool:
        if self._unmatchable(key):
            return False
        return self._count("DELETE FROM settings WHERE key = ?", (key,)) > 0

    def list_settings(self, prefix: str | None = None) -> dict[str, JSONDict]:
        # ``key >= prefix`` lets the primary key index start the scan at the prefix; LIKE
        # would treat _ and % as wildcards (and ignore ASCII case on SQLite).
        sql = "SELECT key, value_json FROM settings"
        params: list[Any] = []
        if prefix:
            if self._unmatchable(prefix):
                return {}
            starts, starts_params = self._prefix_match(prefix)
            sql += f" WHERE key >= ? AND {starts}"
            params = [prefix, *starts_params]
        rows = self._rows(sql + " ORDER BY key", params)
        return {str(r[0]): json.loads(r[1]) for r in rows}
