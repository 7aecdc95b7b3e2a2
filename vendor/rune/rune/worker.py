"""The job worker: takes queued jobs from the store and runs them (``rune worker``).

Why it looks like this: several workers (on several hosts, or next to several API
replicas) share one database, so a job must run once and a crashed worker's job must not
stay ``running`` forever. The store provides the primitives -- ``claim_job`` hands a job to
exactly one worker together with a lease, ``renew_lease`` keeps it, ``finish_job`` records
the outcome only while the lease is still ours, and ``recover_expired_jobs`` fails jobs
whose lease ran out. The loop here is the policy around them:

* a heartbeat thread renews the lease every third of its length, so one missed renewal
  (a slow query, a brief outage) does not lose the job;
* when a renewal is refused (the job was cancelled, or recovered after the lease ran
  out) the handler cannot be interrupted -- Python has no safe way to kill a thread -- so
  its result is discarded: ``finish_job`` refuses it and the job counts as ``lost``;
* every worker calls ``recover_expired_jobs`` at start and at most once per lease period
  afterwards, so the jobs of a crashed worker are failed without restarting anything;
* a StorageError while polling (database restarting, failover) is logged as one line and
  retried with exponential backoff: a worker is a long-running service and should outlive
  a short database outage.

Handlers are plain functions ``handler(job: JobRecord) -> dict`` named ``module:function``;
the dict becomes the job's ``result_payload``. An exception fails the job with
``error = "<ExceptionType>: <message>"``.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from rune.storage.errors import StorageError, StoreClosedError
from rune.storage.port import DEFAULT_LEASE_SECONDS, JobRecord, JSONDict, StoragePort, dump_json
from rune.storage.records import MAX_KIND_LENGTH, JobStatus

Handler = Callable[[JobRecord], JSONDict]

DEFAULT_HANDLER = "rune.worker:echo"
# Recorded on jobs failed by a worker's periodic recovery (the API uses the port's default).
RECOVERY_MESSAGE = "worker lost: the job's lease expired before it completed"
DEFAULT_POLL_INTERVAL = 0.5
# The store keeps owners of at most this many characters.
MAX_WORKER_ID = 256
MAX_BACKOFF = 30.0
LOG = logging.getLogger("rune.worker")


class HandlerSpecError(ValueError):
    """A ``module:function`` handler spec that cannot be loaded (a usage error)."""


def echo(job: JobRecord) -> JSONDict:
    """Smoke-test handler: returns the request payload, so a deployment can be checked end
    to end (submit a job, see it succeed with its own payload) before real handlers exist."""
    return {"echo": job.request_payload}


def load_handler(spec: str) -> Handler:
    """Resolve ``package.module:function``; every failure names the spec and what is wrong."""
    module_name, sep, attr = spec.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not sep or not module_name or not attr:
        raise HandlerSpecError(
            f"handler {spec!r} is not of the form module:function (e.g. {DEFAULT_HANDLER})"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerSpecError(f"handler {spec!r}: cannot import {module_name!r} ({exc})") from exc
    except Exception as exc:  # an import-time crash in the user's module
        raise HandlerSpecError(
            f"handler {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise HandlerSpecError(
                f"handler {spec!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not callable(target):
        raise HandlerSpecError(f"handler {spec!r}: {attr!r} is not callable")
    handler: Handler = target
    return handler


def default_worker_id() -> str:
    """``<hostname>:<pid>:<4 hex>``: unique per process, and says where the worker runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def valid_worker_id(worker_id: str) -> bool:
    """Not blank and at most :data:`MAX_WORKER_ID` characters (what the store records)."""
    return bool(worker_id.strip()) and len(worker_id) <= MAX_WORKER_ID


def check_worker_id(worker_id: object) -> str:
    """``worker_id``, or ValueError saying why the store would refuse it.

    Checked when the worker is built because the store checks it only on the first claim,
    inside the polling loop, where a ValueError is no outage to retry but a crash.
    """
    if not isinstance(worker_id, str) or not worker_id.strip():
        raise ValueError("worker_id must be a non-empty string")
    if len(worker_id) > MAX_WORKER_ID:
        raise ValueError(
            f"worker_id is {len(worker_id)} characters long; the store records at most "
            f"{MAX_WORKER_ID}"
        )
    return worker_id


def check_kinds(kinds: Collection[str] | None) -> list[str] | None:
    """The kinds filter as the worker keeps it (sorted, without repeats; None: any kind),
    or ValueError naming the kind the store would refuse and the limit.

    Up front for the same reason as :func:`check_worker_id`: ``rune worker --kinds`` with
    a kind of 65 characters used to get past every check and end in "unexpected error:
    ValueError" at the first claim.
    """
    if kinds is None:
        return None
    # A bare string is a Collection[str] of characters: almost certainly a caller's slip.
    wanted = [] if isinstance(kinds, str | bytes) else list(kinds)
    if not wanted:
        raise ValueError("kinds must be None (any kind) or a non-empty collection of kinds")
    for kind in wanted:
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"every kind must be a non-empty string, not {kind!r}")
        if len(kind) > MAX_KIND_LENGTH:
            raise ValueError(
                f"kind {kind[:24]!r}... is {len(kind)} characters long; a job kind has at "
                f"most {MAX_KIND_LENGTH} characters"
            )
    return sorted(set(wanted))


def describe_exception(exc: BaseException) -> str:
    """``"<ExceptionType>: <message>"`` -- the ``error`` text of a failed job."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class WorkerStats:
    """Counters for the exit summary; ``lost`` = ran, but the result was not recorded
    (cancelled meanwhile, or the lease expired and the job was recovered)."""

    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    storage_errors: int = 0

    def summary(self) -> str:
        return (
            f"claimed {self.claimed}, succeeded {self.succeeded}, failed {self.failed}, "
            f"lost {self.lost}, storage errors {self.storage_errors}"
        )


class _Heartbeat:
    """Renews one job's lease on its own thread while the handler runs."""

    def __init__(self, store: StoragePort, job_id: str, worker_id: str, lease: float) -> None:
        self._store = store
        self._job_id = job_id
        self._worker_id = worker_id
        self._lease = lease
        self._done = threading.Event()
        self.lost = threading.Event()
        # Local estimate of the lease deadline; only ever moved by successful renewals.
        self.deadline = time.monotonic() + lease
        self._thread = threading.Thread(
            target=self._run, name=f"rune-heartbeat-{job_id}", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self._lease / 3
        while not self._done.wait(interval):
            asked = time.monotonic()
            try:
                kept = self._store.renew_lease(
                    self._job_id, worker_id=self._worker_id, lease_seconds=self._lease
                )
            except StoreClosedError:
                return
            except StorageError as exc:
                # Keep trying: the lease is still valid for a while, and the next renewal
                # may succeed. If it never does, recovery fails the job and finish refuses.
                LOG.warning("job %s: lease renewal failed, will retry: %s", self._job_id, exc)
                continue
            if not kept:
                LOG.warning(
                    "job %s: lease lost (cancelled or recovered); its result will be discarded",
                    self._job_id,
                )
                self.lost.set()
                return
            self.deadline = asked + self._lease


class Worker:
    """Claims jobs and runs ``handler`` on them until told to stop."""

    def __init__(
        self,
        store: StoragePort,
        *,
        worker_id: str,
        handler: Handler,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        kinds: Collection[str] | None = None,
    ) -> None:
        check_worker_id(worker_id)
        if not math.isfinite(lease_seconds) or lease_seconds <= 0:
            raise ValueError("lease_seconds must be a finite number greater than 0")
        if not math.isfinite(poll_interval) or poll_interval <= 0:
            # 0 would turn an idle worker into a busy loop of queries against the database.
            raise ValueError("poll_interval must be a finite number of seconds greater than 0")
        wanted = check_kinds(kinds)
        self.store = store
        self.worker_id = worker_id
        self.handler = handler
        self.lease_seconds = float(lease_seconds)
        self.poll_interval = float(poll_interval)
        self.kinds = wanted

    def run(
        self,
        *,
        stop: threading.Event,
        max_jobs: int | None = None,
        exit_when_idle: bool = False,
    ) -> WorkerStats:
        """Loop until ``stop`` is set, ``max_jobs`` were claimed, or (with
        ``exit_when_idle``) the queue is empty. A job already claimed is always finished
        before returning: stopping only stops claiming."""
        stats = WorkerStats()
        backoff = 0.0
        next_recovery = 0.0  # recover at start
        while not stop.is_set():
            if max_jobs is not None and stats.claimed >= max_jobs:
                break
            try:
                if time.monotonic() >= next_recovery:
                    self._recover()
                    next_recovery = time.monotonic() + self.lease_seconds
                job = self.store.claim_job(
                    worker_id=self.worker_id, lease_seconds=self.lease_seconds, kinds=self.kinds
                )
            except StoreClosedError:
                raise  # not an outage: retrying cannot help
            except StorageError as exc:
                stats.storage_errors += 1
                backoff = min(max(backoff * 2, self.poll_interval, 0.1), MAX_BACKOFF)
                LOG.warning("storage error while polling, retrying in %.1fs: %s", backoff, exc)
                stop.wait(backoff)
                continue
            if backoff:
                LOG.warning("storage is reachable again")
                backoff = 0.0
            if job is None:
                if exit_when_idle:
                    break
                stop.wait(self.poll_interval)
                continue
            stats.claimed += 1
            self._execute(job, stats)
        return stats

    def _recover(self) -> None:
        recovered = self.store.recover_expired_jobs(RECOVERY_MESSAGE)
        if recovered:
            LOG.warning("recovery: failed %d job(s) whose lease had expired", recovered)

    def _execute(self, job: JobRecord, stats: WorkerStats) -> None:
        started = time.monotonic()
        with _Heartbeat(self.store, job.job_id, self.worker_id, self.lease_seconds) as beat:
            status, result, error = self._call_handler(job)
        if beat.lost.is_set():
            LOG.info("job %s: discarding its result, the lease is no longer ours", job.job_id)
        recorded = self._finish(job, status, result, error, beat.deadline)
        elapsed = time.monotonic() - started
        if not recorded:
            stats.lost += 1
            LOG.info("job %s (%s): lost after %.3fs", job.job_id, job.kind, elapsed)
            return
        if status is JobStatus.SUCCEEDED:
            stats.succeeded += 1
        else:
            stats.failed += 1
        LOG.info("job %s (%s): %s in %.3fs", job.job_id, job.kind, status, elapsed)

    def _call_handler(self, job: JobRecord) -> tuple[JobStatus, JSONDict | None, str | None]:
        try:
            result = self.handler(job)
            if not isinstance(result, dict):
                raise TypeError(f"handler returned {type(result).__name__}, expected a dict")
            dump_json(result)  # fail the job here, not later inside the store
        except Exception as exc:
            return JobStatus.FAILED, None, describe_exception(exc)
        return JobStatus.SUCCEEDED, result, None

    def _finish(
        self,
        job: JobRecord,
        status: JobStatus,
        result: JSONDict | None,
        error: str | None,
        deadline: float,
    ) -> bool:
        """Record the outcome; on storage errors retry until the lease has surely expired
        (after that, recovery may already have failed the job and the result is lost)."""
        message = "completed" if status is JobStatus.SUCCEEDED else "failed"
        delay = 0.1
        while True:
            try:
                return self.store.finish_job(
                    job.job_id,
                    worker_id=self.worker_id,
                    status=status,
                    result_payload=result,
                    error=error,
                    message=message,
                )
            except StoreClosedError:
                raise
            except StorageError as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    LOG.warning("job %s: could not record its outcome: %s", job.job_id, exc)
                    return False
                LOG.warning("job %s: finishing failed, retrying: %s", job.job_id, exc)
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 5.0)
