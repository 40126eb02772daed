-- Open311 GeoReport v2 (issue 24): the API keys of the systems that report in (a town app, a
-- FixMyStreet installation). A key is shown once and kept as its SHA-256 only; its name is
-- what the statistics and the audit log show.
CREATE TABLE open311_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
