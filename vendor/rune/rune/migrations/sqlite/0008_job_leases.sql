-- Several workers (and API replicas) on one database: a claimed job records its owner
-- and a lease deadline (epoch seconds). Crash recovery fails only running jobs whose
-- lease has expired, never a job another live worker still holds. The partial index
-- serves the claim query (oldest queued job first); the second one serves recovery.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at REAL;
CREATE INDEX idx_jobs_queue ON jobs (created_at, job_id) WHERE status = 'queued';
CREATE INDEX idx_jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
