-- DB-stored configuration profiles (upstream 0006).
CREATE TABLE settings (
    key TEXT COLLATE "C" PRIMARY KEY,
    value_json TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
