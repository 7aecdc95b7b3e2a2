-- Same change as the SQLite 0007: events get a tenant (backfilled from their job),
-- idempotency keys remember a request hash, and the hot queries get indexes.
ALTER TABLE workflow_events ADD COLUMN tenant_id TEXT COLLATE "C";
UPDATE workflow_events
   SET tenant_id = (SELECT jobs.tenant_id FROM jobs WHERE jobs.job_id = workflow_events.job_id)
 WHERE job_id IS NOT NULL;
CREATE INDEX idx_workflow_events_tenant_event ON workflow_events (tenant_id, event);
ALTER TABLE idempotency_keys ADD COLUMN request_sha256 TEXT COLLATE "C";
CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at);
CREATE INDEX idx_idempotency_keys_job_id ON idempotency_keys (job_id);
CREATE INDEX idx_jobs_status ON jobs (status);
CREATE INDEX idx_jobs_tenant_created ON jobs (tenant_id, created_at);
CREATE INDEX idx_jobs_finops ON jobs (tenant_id, status, kind, updated_at);
