-- Compliance evidence; sha256 and size_bytes are computed by the store, not the caller.
CREATE TABLE audit_artifact (
    artifact_id TEXT COLLATE "C" PRIMARY KEY,
    job_id TEXT COLLATE "C" NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    kind TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX idx_audit_artifact_job_id ON audit_artifact (job_id);
