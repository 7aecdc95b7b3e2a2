-- One row per job: the whole DAG as JSON text so a node update is a single-row write.
CREATE TABLE chain_state (
    job_id TEXT COLLATE "C" PRIMARY KEY REFERENCES jobs (job_id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    overall_status TEXT COLLATE "C" NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
