-- The Bauhof side: staff accounts, their sessions and API tokens, failed logins (for rate
-- limiting), the events of every work order, and the work-order lifecycle columns.
--
-- Passwords are argon2id hashes; session ids and API tokens are stored only as SHA-256 hashes,
-- so a copy of the database cannot be used to log in. Failed logins keep keyed hashes of the
-- account and the address, never the address itself.
CREATE TABLE staff_users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    depot         TEXT,
    lang          TEXT    NOT NULL DEFAULT 'de',
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL
);

CREATE TABLE staff_sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES staff_users (id),
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES staff_users (id),
    token_hash   TEXT    NOT NULL UNIQUE,
    label        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    account TEXT    NOT NULL,
    client  TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

-- What happened to a work order, who did it and when: opened, duplicate_linked, accepted,
-- started, done, rejected, forwarded, reopened, comment, rerouted, merged, absorbed.
-- actor_id is NULL for Meldeweg itself. Append-only.
CREATE TABLE order_events (
    id            INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders (id),
    report_id     INTEGER REFERENCES reports (id),
    kind          TEXT    NOT NULL,
    actor_id      INTEGER REFERENCES staff_users (id),
    from_status   TEXT,
    to_status     TEXT,
    detail        TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (work_order_id, id);

ALTER TABLE work_orders ADD COLUMN due_at INTEGER;
ALTER TABLE work_orders ADD COLUMN accepted_at INTEGER;
ALTER TABLE work_orders ADD COLUMN done_at INTEGER;
ALTER TABLE work_orders ADD COLUMN closed_at INTEGER;
ALTER TABLE work_orders ADD COLUMN reason TEXT;
ALTER TABLE work_orders ADD COLUMN forwarded_to TEXT;
ALTER TABLE work_orders ADD COLUMN merged_into INTEGER REFERENCES work_orders (id);
ALTER TABLE work_orders ADD COLUMN after_photo TEXT;
CREATE INDEX work_orders_depot ON work_orders (depot, status);
-- Orders opened before due dates existed get the default SLA (config [sla]) from their start.
UPDATE work_orders SET due_at = created_at + CASE priority WHEN 'urgent' THEN 14400000
                                                          WHEN 'high' THEN 86400000
                                                          ELSE 432000000 END;

-- The unguessable token of a report's public status page (/m/<token>).
ALTER TABLE reports ADD COLUMN public_token TEXT;
UPDATE reports SET public_token = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX reports_public_token ON reports (public_token);
