-- Idempotency keys are scoped per tenant and per operation (the job kind).
CREATE TABLE idempotency_keys (
    tenant_id TEXT COLLATE "C" NOT NULL,
    operation TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C" NOT NULL,
    job_id TEXT COLLATE "C" NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, operation, idempotency_key)
);
