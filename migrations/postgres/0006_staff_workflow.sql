-- The Bauhof side: staff accounts, their sessions and API tokens, failed logins (for rate
-- limiting), the events of every work order, and the work-order lifecycle columns.
--
-- Passwords are argon2id hashes; session ids and API tokens are stored only as SHA-256 hashes,
-- so a copy of the database cannot be used to log in. Failed logins keep keyed hashes of the
-- account and the address, never the address itself.
CREATE TABLE staff_users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    depot         TEXT,
    lang          TEXT    NOT NULL DEFAULT 'de',
    disabled_at   BIGINT,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE staff_sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES staff_users (id),
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES staff_users (id),
    token_hash   TEXT    NOT NULL UNIQUE,
    label        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE login_failures (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT    NOT NULL,
    client  TEXT    NOT NULL,
    at      BIGINT  NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

-- What happened to a work order, who did it and when: opened, duplicate_linked, accepted,
-- started, done, rejected, forwarded, reopened, comment, rerouted, merged, absorbed.
-- actor_id is NULL for Meldeweg itself. Append-only.
CREATE TABLE order_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id BIGINT  NOT NULL REFERENCES work_orders (id),
    report_id     BIGINT REFERENCES reports (id),
    kind          TEXT    NOT NULL,
    actor_id      BIGINT REFERENCES staff_users (id),
    from_status   TEXT,
    to_status     TEXT,
    detail        TEXT,
    at            BIGINT  NOT NULL
);
CREATE INDEX order_events_order ON order_events (work_order_id, id);

ALTER TABLE work_orders ADD COLUMN due_at BIGINT;
ALTER TABLE work_orders ADD COLUMN accepted_at BIGINT;
ALTER TABLE work_orders ADD COLUMN done_at BIGINT;
ALTER TABLE work_orders ADD COLUMN closed_at BIGINT;
ALTER TABLE work_orders ADD COLUMN reason TEXT;
ALTER TABLE work_orders ADD COLUMN forwarded_to TEXT;
ALTER TABLE work_orders ADD COLUMN merged_into BIGINT REFERENCES work_orders (id);
ALTER TABLE work_orders ADD COLUMN after_photo TEXT;
CREATE INDEX work_orders_depot ON work_orders (depot, status);
-- Orders opened before due dates existed get the default SLA (config [sla]) from their start.
UPDATE work_orders SET due_at = created_at + CASE priority WHEN 'urgent' THEN 14400000
                                                          WHEN 'high' THEN 86400000
                                                          ELSE 432000000 END;

-- The unguessable token of a report's public status page (/m/<token>).
ALTER TABLE reports ADD COLUMN public_token TEXT;
UPDATE reports SET public_token = replace(gen_random_uuid()::text, '-', '');
CREATE UNIQUE INDEX reports_public_token ON reports (public_token);
