"""Conformance suite for the storage port: every adapter must pass it unchanged."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rune.storage import (
    ChainStateError,
    IdempotencyConflictError,
    JobNotFoundError,
    StoragePort,
    StoreClosedError,
    WorkflowEvent,
)
from rune.storage.port import DEFAULT_LEASE_SECONDS, RECOVERY_MESSAGE
from tests.conftest import StoreFactory


def new_job(
    store: StoragePort, tenant: str = "t1", kind: str = "benchmark", **payload: object
) -> str:
    job_id, created = store.create_job(tenant_id=tenant, kind=kind, request_payload=dict(payload))
    assert created
    return job_id


def test_implements_port(store: StoragePort) -> None:
    assert isinstance(store, StoragePort)


# jobs ------------------------------------------------------------------------------------
def test_create_and_get_job(store: StoragePort) -> None:
    before = time.time()
    job_id = new_job(store, model="m", n=3)
    job = store.get_job(job_id)
    assert job is not None
    assert (job.tenant_id, job.kind, job.status, job.message) == (
        "t1",
        "benchmark",
        "queued",
        "accepted",
    )
    assert job.request_payload == {"model": "m", "n": 3}
    assert job.result_payload is None and job.error is None
    assert before <= job.created_at == job.updated_at <= time.time()


def test_tenant_scoping(store: StoragePort) -> None:
    job_id = new_job(store, tenant="a")
    assert store.get_job(job_id, tenant_id="a") is not None
    assert store.get_job(job_id, tenant_id="b") is None
    assert [j.job_id for j in store.list_jobs(tenant_id="a")] == [job_id]
    assert store.list_jobs(tenant_id="b") == []


def test_list_jobs_newest_first_with_filter_and_limit(store: StoragePort) -> None:
    ids = [new_job(store, i=i) for i in range(5)]
    assert store.update_job(ids[0], status="running")
    listed = store.list_jobs(tenant_id="t1")
    assert [j.job_id for j in listed] == list(reversed(ids))
    assert [j.job_id for j in store.list_jobs(tenant_id="t1", status="running")] == [ids[0]]
    assert len(store.list_jobs(tenant_id="t1", limit=2)) == 2
    assert len(store.list_jobs(tenant_id="t1", limit=0)) == 1  # clamped to at least one


def test_idempotency_key_returns_first_job(store: StoragePort) -> None:
    first = store.create_job(
        tenant_id="t", kind="benchmark", request_payload={"a": 1}, idempotency_key="k"
    )
    again = store.create_job(
        tenant_id="t", kind="benchmark", request_payload={"a": 1}, idempotency_key="k"
    )
    assert first[1] is True and again == (first[0], False)
    # scoped per tenant and per kind
    other_tenant = store.create_job(
        tenant_id="u", kind="benchmark", request_payload={"a": 1}, idempotency_key="k"
    )
    other_kind = store.create_job(
        tenant_id="t", kind="cost-estimate", request_payload={"a": 1}, idempotency_key="k"
    )
    assert other_tenant[1] and other_kind[1]
    assert len({first[0], other_tenant[0], other_kind[0]}) == 3


def test_empty_idempotency_key_means_none(store: StoragePort) -> None:
    a = store.create_job(tenant_id="t", kind="benchmark", request_payload={}, idempotency_key="")
    b = store.create_job(tenant_id="t", kind="benchmark", request_payload={}, idempotency_key="")
    assert a[0] != b[0] and a[1] and b[1]


def test_idempotency_key_with_other_payload_conflicts(store: StoragePort) -> None:
    store.create_job(tenant_id="t", kind="benchmark", request_payload={"a": 1}, idempotency_key="k")
    with pytest.raises(IdempotencyConflictError):
        store.create_job(
            tenant_id="t", kind="benchmark", request_payload={"a": 2}, idempotency_key="k"
        )
    # key order does not matter: payloads are compared canonically
    store.create_job(
        tenant_id="t", kind="benchmark", request_payload={"x": 1, "y": 2}, idempotency_key="k2"
    )
    _, created = store.create_job(
        tenant_id="t", kind="benchmark", request_payload={"y": 2, "x": 1}, idempotency_key="k2"
    )
    assert not created


def test_idempotency_race_yields_one_job(store_factory: StoreFactory) -> None:
    """Upstream defect 14: concurrent requests with one key must not error or duplicate."""
    stores = [store_factory() for _ in range(4)]
    barrier = threading.Barrier(16)

    def submit(i: int) -> tuple[str, bool]:
        barrier.wait()
        return stores[i % 4].create_job(
            tenant_id="t", kind="benchmark", request_payload={"p": 1}, idempotency_key="race"
        )

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(submit, range(16)))
    assert len({job_id for job_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(stores[0].list_jobs(tenant_id="t")) == 1


def test_update_job_fields_and_unknown(store: StoragePort) -> None:
    job_id = new_job(store)
    assert store.update_job(job_id, status="running", message="job is running")
    assert store.update_job(
        job_id, status="succeeded", result_payload={"score": 0.9}, message="done"
    )
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.result_payload, job.message) == ("succeeded", {"score": 0.9}, "done")
    assert job.updated_at >= job.created_at
    assert store.update_job("no-such-job", status="running") is False


def test_invalid_status_rejected(store: StoragePort) -> None:
    job_id = new_job(store)
    with pytest.raises(ValueError):
        store.update_job(job_id, status="success")


@pytest.mark.parametrize("terminal", ["succeeded", "failed", "cancelled"])
def test_terminal_statuses_are_final(store: StoragePort, terminal: str) -> None:
    """Upstream defect 16: a worker's late update must not overwrite ``cancelled``."""
    job_id = new_job(store)
    assert store.update_job(job_id, status="running")
    assert store.update_job(job_id, status=terminal)
    for status in ("running", "succeeded", "failed", "queued", "cancelled"):
        assert store.update_job(job_id, status=status, message="late") is False
    assert store.update_job(job_id, message="late") is False
    job = store.get_job(job_id)
    assert job is not None and job.status == terminal and job.message != "late"


def test_running_cannot_go_back_to_queued(store: StoragePort) -> None:
    job_id = new_job(store)
    assert store.update_job(job_id, status="running")
    assert store.update_job(job_id, status="queued") is False


# workers: claims, leases, recovery ---------------------------------------------------------
def claim_one(store: StoragePort, worker: str, lease: float = 60.0) -> str:
    job = store.claim_job(worker_id=worker, lease_seconds=lease)
    assert job is not None
    return job.job_id


def test_recovery_fails_only_expired_or_unleased_running_jobs(store: StoragePort) -> None:
    """A restarting replica must not fail work another replica is still doing."""
    expired = new_job(store)
    assert claim_one(store, "w-dead", lease=0.2) == expired
    live = new_job(store)
    assert claim_one(store, "w-live", lease=60) == live
    unleased = new_job(store)
    assert store.update_job(unleased, status="running")
    done = new_job(store)
    assert store.update_job(done, status="succeeded")
    cancelled = new_job(store)
    assert store.update_job(cancelled, status="cancelled")
    queued = new_job(store)
    live_before = store.get_job(live)
    time.sleep(0.4)

    assert store.recover_expired_jobs() == 2
    for job_id, owner in ((expired, "w-dead"), (unleased, None)):
        job = store.get_job(job_id)
        assert job is not None
        assert (job.status, job.error, job.message, job.owner, job.lease_expires_at) == (
            "failed",
            RECOVERY_MESSAGE,
            RECOVERY_MESSAGE,
            owner,
            None,
        )
    assert store.get_job(live) == live_before
    for job_id, status in ((done, "succeeded"), (cancelled, "cancelled"), (queued, "queued")):
        job = store.get_job(job_id)
        assert job is not None and job.status == status and job.error is None
    # The dead worker, had it only stalled, can no longer touch its job.
    assert not store.renew_lease(expired, worker_id="w-dead")
    assert not store.finish_job(expired, worker_id="w-dead", status="succeeded")
    assert store.recover_expired_jobs("again") == 0


def test_recovery_message_is_configurable(store: StoragePort) -> None:
    job_id = new_job(store)
    store.update_job(job_id, status="running")
    assert store.recover_expired_jobs("worker lost its lease") == 1
    job = store.get_job(job_id)
    assert job is not None and (job.error, job.message) == ("worker lost its lease",) * 2


def test_claim_takes_oldest_queued_first(store: StoragePort) -> None:
    ids = []
    for i in range(4):
        ids.append(new_job(store, i=i))
        time.sleep(0.002)  # distinct created_at
    assert store.update_job(ids[0], status="running")  # not queued: never claimed
    store.update_job(ids[2], status="cancelled")
    before = time.time()
    first = store.claim_job(worker_id="w1", lease_seconds=30)
    assert first is not None and first.job_id == ids[1]
    assert (first.status, first.owner, first.request_payload) == ("running", "w1", {"i": 1})
    assert first.lease_expires_at is not None
    assert before + 29 <= first.lease_expires_at <= time.time() + 31
    assert store.get_job(first.job_id) == first  # returned as stored
    second = store.claim_job(worker_id="w2")
    assert second is not None and second.job_id == ids[3] and second.owner == "w2"
    assert second.lease_expires_at is not None
    assert second.lease_expires_at >= time.time() + DEFAULT_LEASE_SECONDS - 5
    assert store.claim_job(worker_id="w1") is None


def test_claim_on_empty_store_is_none(store: StoragePort) -> None:
    assert store.claim_job(worker_id="w1", lease_seconds=5) is None


def test_claim_filters_by_kind(store: StoragePort) -> None:
    bench = new_job(store, kind="benchmark")
    time.sleep(0.002)
    cost = new_job(store, kind="cost-estimate")
    time.sleep(0.002)
    agent = new_job(store, kind="agentic-agent")
    assert store.claim_job(worker_id="w", kinds=["llm-instance"]) is None
    job = store.claim_job(worker_id="w", kinds=("cost-estimate",))
    assert job is not None and job.job_id == cost
    job = store.claim_job(worker_id="w", kinds={"agentic-agent", "benchmark"})
    assert job is not None and job.job_id == bench
    assert store.claim_job(worker_id="w", kinds=["benchmark", "cost-estimate"]) is None
    job = store.claim_job(worker_id="w")
    assert job is not None and job.job_id == agent


@pytest.mark.parametrize(
    ("worker_id", "lease"),
    [
        ("", 10.0),
        (None, 10.0),
        (7, 10.0),
        ("w", 0.0),
        ("w", -1.0),
        ("w", float("nan")),
        ("w", float("inf")),
    ],
)
def test_claim_validates_worker_and_lease(store: StoragePort, worker_id: Any, lease: float) -> None:
    job_id = new_job(store)
    with pytest.raises(ValueError):
        store.claim_job(worker_id=worker_id, lease_seconds=lease)
    job = store.get_job(job_id)
    assert job is not None and job.status == "queued" and job.owner is None


def test_each_job_goes_to_exactly_one_of_many_claimers(store_factory: StoreFactory) -> None:
    """Several stores on one database stand in for worker processes or replicas."""
    stores = [store_factory() for _ in range(4)]
    created = {new_job(stores[0], i=i) for i in range(80)}
    barrier = threading.Barrier(8)

    def drain(n: int) -> list[tuple[str, str | None]]:
        store, me, got = stores[n % 4], f"worker-{n}", []
        barrier.wait()
        while (job := store.claim_job(worker_id=me, lease_seconds=30)) is not None:
            got.append((job.job_id, job.owner))
            assert job.owner == me and job.status == "running"
        return got

    with ThreadPoolExecutor(8) as pool:
        claims = [c for got in pool.map(drain, range(8)) for c in got]
    claimed = [job_id for job_id, _ in claims]
    assert len(claimed) == len(set(claimed)) == 80 and set(claimed) == created
    for job_id, owner in claims:
        stored = stores[1].get_job(job_id)
        assert stored is not None and stored.owner == owner and stored.status == "running"


def test_renew_and_finish_only_by_owner_while_running(store: StoragePort) -> None:
    job_id = new_job(store)
    assert not store.renew_lease(job_id, worker_id="w1")  # queued: nobody owns it
    assert not store.finish_job(job_id, worker_id="w1", status="succeeded")
    assert claim_one(store, "w1", lease=10) == job_id
    claimed = store.get_job(job_id)
    assert claimed is not None and claimed.lease_expires_at is not None

    assert not store.renew_lease(job_id, worker_id="w2", lease_seconds=100)
    assert store.renew_lease(job_id, worker_id="w1", lease_seconds=100)
    renewed = store.get_job(job_id)
    assert renewed is not None and renewed.lease_expires_at is not None
    assert renewed.lease_expires_at >= claimed.lease_expires_at + 80
    with pytest.raises(ValueError):
        store.renew_lease(job_id, worker_id="w1", lease_seconds=0)

    assert not store.finish_job(job_id, worker_id="w2", status="succeeded", result_payload={})
    still = store.get_job(job_id)
    assert still is not None and still.status == "running" and still.owner == "w1"

    assert store.finish_job(
        job_id, worker_id="w1", status="succeeded", result_payload={"score": 1}, message="done"
    )
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.result_payload, job.message, job.owner, job.lease_expires_at) == (
        "succeeded",
        {"score": 1},
        "done",
        "w1",
        None,
    )
    assert job.updated_at >= still.updated_at
    # Finished: no more renewals, no second outcome, no reclaim.
    assert not store.renew_lease(job_id, worker_id="w1")
    assert not store.finish_job(job_id, worker_id="w1", status="failed", error="late")
    assert store.claim_job(worker_id="w2") is None
    assert not store.finish_job("no-such-job", worker_id="w1", status="succeeded")


def test_finish_as_failed_records_the_error(store: StoragePort) -> None:
    job_id = new_job(store)
    claim_one(store, "w1")
    assert store.finish_job(job_id, worker_id="w1", status="failed", error="ValueError: bad")
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.error, job.result_payload, job.owner, job.lease_expires_at) == (
        "failed",
        "ValueError: bad",
        None,
        "w1",
        None,
    )


def test_cancelled_job_cannot_be_finished(store: StoragePort) -> None:
    job_id = new_job(store)
    claim_one(store, "w1")
    assert store.update_job(job_id, status="cancelled", message="cancelled by request")
    assert not store.renew_lease(job_id, worker_id="w1")
    assert not store.finish_job(job_id, worker_id="w1", status="succeeded", result_payload={})
    job = store.get_job(job_id)
    assert job is not None and job.status == "cancelled" and job.result_payload is None
    assert store.recover_expired_jobs() == 0


@pytest.mark.parametrize("status", ["running", "queued", "cancelled", "done", ""])
def test_finish_accepts_only_succeeded_or_failed(store: StoragePort, status: str) -> None:
    job_id = new_job(store)
    claim_one(store, "w1")
    with pytest.raises(ValueError):
        store.finish_job(job_id, worker_id="w1", status=status)
    job = store.get_job(job_id)
    assert job is not None and job.status == "running" and job.owner == "w1"


def test_finops_listing(store: StoragePort) -> None:
    a = new_job(store, kind="benchmark")
    b = new_job(store, kind="agentic-agent")
    c = new_job(store, kind="cost-estimate")
    d = new_job(store, kind="benchmark", tenant="other")
    for job_id in (a, b, c, d):
        store.update_job(job_id, status="succeeded", result_payload={"ok": True})
    rows = store.list_jobs_for_finops(tenant_id="t1")
    assert sorted(r["kind"] for r in rows) == ["agentic-agent", "benchmark"]
    assert all(r["duration_seconds"] >= 0.001 and r["result_payload"] == {"ok": True} for r in rows)


def test_purge_idempotency_keys(store: StoragePort) -> None:
    job_id, _ = store.create_job(
        tenant_id="t", kind="benchmark", request_payload={}, idempotency_key="k"
    )
    assert store.purge_idempotency_keys(older_than=time.time() - 3600) == 0
    assert store.purge_idempotency_keys(older_than=time.time() + 1) == 1
    again, created = store.create_job(
        tenant_id="t", kind="benchmark", request_payload={}, idempotency_key="k"
    )
    assert created and again != job_id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=5,
    )
)
def test_payload_round_trip(store: StoragePort, payload: dict[str, object]) -> None:
    job_id, _ = store.create_job(tenant_id="prop", kind="benchmark", request_payload=payload)
    job = store.get_job(job_id)
    assert job is not None and job.request_payload == payload


# workflow events ---------------------------------------------------------------------------
def test_events_summary_is_per_tenant(store: StoragePort) -> None:
    """Upstream defect 17: the summary without a job filter mixed tenants."""
    a = new_job(store, tenant="a")
    b = new_job(store, tenant="b")
    now = time.time()
    store.record_workflow_event(WorkflowEvent("llm.call", "ok", now, 10.04, job_id=a))
    store.record_workflow_event(
        WorkflowEvent("llm.call", "error", now, 30.0, job_id=a, error_type="Timeout")
    )
    store.record_workflow_event(WorkflowEvent("llm.call", "ok", now, 999.0, job_id=b))
    store.record_workflow_event(WorkflowEvent("boot", "ok", now, None, tenant_id="a"))
    summary = store.get_events_summary(tenant_id="a")
    assert summary == [
        {
            "event": "boot",
            "total": 1,
            "ok": 1,
            "error": 0,
            "avg_ms": 0.0,
            "min_ms": 0.0,
            "max_ms": 0.0,
        },
        {
            "event": "llm.call",
            "total": 2,
            "ok": 1,
            "error": 1,
            "avg_ms": 20.0,
            "min_ms": 10.0,
            "max_ms": 30.0,
        },
    ]
    assert store.get_events_summary(tenant_id="b", job_id=b)[0]["max_ms"] == 999.0
    assert store.get_events_summary(tenant_id="b", job_id=a) == []


def test_events_for_job_with_cursor(store: StoragePort) -> None:
    job_id = new_job(store)
    ids = [
        store.record_workflow_event(
            WorkflowEvent(f"e{i}", "ok", time.time(), float(i), {"i": i}, job_id)
        )
        for i in range(3)
    ]
    assert ids == sorted(ids)
    events = store.get_events_for_job(job_id)
    assert [e["event"] for e in events] == ["e0", "e1", "e2"]
    assert events[1]["labels"] == {"i": 1} and events[1]["tenant_id"] == "t1"
    assert [e["id"] for e in store.get_events_for_job(job_id, after_id=ids[0])] == ids[1:]


def test_event_validation(store: StoragePort) -> None:
    job_id = new_job(store, tenant="a")
    with pytest.raises(ValueError):
        store.record_workflow_event(WorkflowEvent("x", "maybe", time.time()))
    with pytest.raises(JobNotFoundError):
        store.record_workflow_event(WorkflowEvent("x", "ok", time.time(), job_id="missing"))
    with pytest.raises(ValueError):
        store.record_workflow_event(
            WorkflowEvent("x", "ok", time.time(), job_id=job_id, tenant_id="b")
        )


# chain state ---------------------------------------------------------------------------------
def test_chain_state_lifecycle(store: StoragePort) -> None:
    job_id = new_job(store)
    assert store.get_chain_state(job_id) is None
    store.record_chain_initialized(
        job_id=job_id,
        nodes=[{"id": "a", "agent_name": "planner"}, {"id": "b"}],
        edges=[{"from": "a", "to": "b"}],
    )
    state = store.get_chain_state(job_id)
    assert state is not None and state["overall_status"] == "pending"
    assert state["nodes"][0] == {
        "id": "a",
        "agent_name": "planner",
        "status": "pending",
        "started_at": None,
        "finished_at": None,
        "error": None,
    }
    assert state["edges"] == [{"from": "a", "to": "b"}]
    store.record_chain_node_transition(job_id=job_id, node_id="a", status="running", started_at=1.0)
    assert store.get_chain_state(job_id)["overall_status"] == "running"  # type: ignore[index]
    store.record_chain_node_transition(
        job_id=job_id, node_id="a", status="success", finished_at=2.0
    )
    store.record_chain_node_transition(job_id=job_id, node_id="b", status="skipped")
    state = store.get_chain_state(job_id)
    assert state is not None and state["overall_status"] == "success"
    assert state["nodes"][0]["started_at"] == 1.0 and state["nodes"][0]["finished_at"] == 2.0
    store.record_chain_node_transition(job_id=job_id, node_id="b", status="failed", error="boom")
    assert store.get_chain_state(job_id)["overall_status"] == "failed"  # type: ignore[index]


def test_chain_errors(store: StoragePort) -> None:
    job_id = new_job(store)
    with pytest.raises(ChainStateError):
        store.record_chain_node_transition(job_id=job_id, node_id="a", status="running")
    store.record_chain_initialized(job_id=job_id, nodes=[{"id": "a"}], edges=[])
    with pytest.raises(ChainStateError):
        store.record_chain_node_transition(job_id=job_id, node_id="zz", status="running")
    with pytest.raises(ValueError):
        store.record_chain_node_transition(job_id=job_id, node_id="a", status="succeeded")
    with pytest.raises(JobNotFoundError):
        store.record_chain_initialized(job_id="missing", nodes=[], edges=[])
    empty = new_job(store)
    store.record_chain_initialized(job_id=empty, nodes=[], edges=[])
    assert store.get_chain_state(empty)["overall_status"] == "pending"  # type: ignore[index]


def test_parallel_chain_transitions_lose_nothing(store_factory: StoreFactory) -> None:
    """Upstream defect 15: read-modify-write without a lock lost node updates."""
    stores = [store_factory() for _ in range(4)]
    job_id = new_job(stores[0])
    nodes = [{"id": f"n{i}"} for i in range(24)]
    stores[0].record_chain_initialized(job_id=job_id, nodes=nodes, edges=[])
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(worker, 24, 8):
            stores[worker % 4].record_chain_node_transition(
                job_id=job_id, node_id=f"n{i}", status="success", finished_at=float(i)
            )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    state = stores[0].get_chain_state(job_id)
    assert state is not None
    assert all(n["status"] == "success" for n in state["nodes"])
    assert state["overall_status"] == "success"


# audit artifacts -------------------------------------------------------------------------------
def test_artifacts(store: StoragePort) -> None:
    job_id = new_job(store)
    other = new_job(store)
    content = b"\x00sbom\xff" * 100
    art = store.record_audit_artifact(job_id=job_id, kind="sbom", name="sbom.json", content=content)
    store.record_audit_artifact(job_id=job_id, kind="log", name="run.log", content=b"")
    listed = store.list_audit_artifacts(job_id)
    assert [a["name"] for a in listed] == ["sbom.json", "run.log"]
    assert listed[0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert listed[0]["size_bytes"] == len(content) and listed[1]["size_bytes"] == 0
    assert "content" not in listed[0]
    assert store.get_audit_artifact(job_id=job_id, artifact_id=art) == (
        content,
        "sbom.json",
        "sbom",
    )
    assert store.get_audit_artifact(job_id=other, artifact_id=art) is None
    with pytest.raises(ValueError):
        store.record_audit_artifact(job_id=job_id, kind="unknown", name="x", content=b"x")
    with pytest.raises(JobNotFoundError):
        store.record_audit_artifact(job_id="missing", kind="sbom", name="x", content=b"x")


# settings ------------------------------------------------------------------------------------
def test_settings(store: StoragePort) -> None:
    assert store.get_setting("profile.a") is None
    store.set_setting("profile.a", {"x": 1})
    store.set_setting("profile.a", {"x": 2})
    store.set_setting("profile_b", {"y": 1})
    store.set_setting("PROFILE.c", {"z": 1})
    store.set_setting("profileXa", {"w": 1})
    assert store.get_setting("profile.a") == {"x": 2}
    assert list(store.list_settings()) == ["PROFILE.c", "profile.a", "profileXa", "profile_b"]
    # Upstream defect 19: '_' and '%' are literal and matching is case-sensitive.
    assert list(store.list_settings("profile_")) == ["profile_b"]
    assert list(store.list_settings("profile.")) == ["profile.a"]
    assert store.list_settings("profile%") == {}
    assert store.delete_setting("profile.a") is True
    assert store.delete_setting("profile.a") is False


# lifecycle -----------------------------------------------------------------------------------
def test_close_is_idempotent_and_final(store_factory: StoreFactory) -> None:
    store = store_factory()
    new_job(store)
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.list_jobs(tenant_id="t1")


def test_concurrent_writers_and_readers(store_factory: StoreFactory) -> None:
    stores = [store_factory() for _ in range(4)]

    def work(i: int) -> int:
        s = stores[i % 4]
        for n in range(25):
            job_id, _ = s.create_job(tenant_id="c", kind="benchmark", request_payload={"n": n})
            s.update_job(job_id, status="running")
            s.list_jobs(tenant_id="c", limit=5)
        return i

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert len(stores[0].list_jobs(tenant_id="c", limit=1000)) == 200
