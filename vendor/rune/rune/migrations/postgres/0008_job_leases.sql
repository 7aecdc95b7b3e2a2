-- Same change as the SQLite 0008: a claimed job records its owner and a lease deadline
-- (epoch seconds, taken from the database clock so replicas on skewed hosts agree).
ALTER TABLE jobs ADD COLUMN owner TEXT COLLATE "C";
ALTER TABLE jobs ADD COLUMN lease_expires_at DOUBLE PRECISION;
CREATE INDEX idx_jobs_queue ON jobs (created_at, job_id) WHERE status = 'queued';
CREATE INDEX idx_jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
