-- Jobs submitted through the API. Times are DOUBLE PRECISION epoch seconds (8-byte, the
-- same value the port and SQLite carry; REAL would be a 4-byte float that rounds today's
-- epoch to 128-second steps). Identifier columns use the "C" collation so ordering and
-- prefix comparisons are byte-wise, as in SQLite.
CREATE TABLE jobs (
    job_id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    request_json TEXT NOT NULL,
    result_json TEXT,
    error TEXT,
    message TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
