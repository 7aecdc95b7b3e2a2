-- Jobs submitted through the API. Upstream column set; indexes for the hot queries are
-- added in 0007 so that legacy databases (bootstrapped past this file) get them too.
CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    request_json TEXT NOT NULL,
    result_json TEXT,
    error TEXT,
    message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
