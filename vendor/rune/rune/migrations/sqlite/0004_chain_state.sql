-- One row per job: the whole DAG as JSON so a node update is a single-row write.
CREATE TABLE chain_state (
    job_id TEXT PRIMARY KEY REFERENCES jobs (job_id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    overall_status TEXT NOT NULL,
    updated_at REAL NOT NULL
);
