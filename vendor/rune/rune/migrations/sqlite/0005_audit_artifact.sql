-- Compliance evidence; sha256 and size_bytes are computed by the store, not the caller.
CREATE TABLE audit_artifact (
    artifact_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX idx_audit_artifact_job_id ON audit_artifact (job_id);
