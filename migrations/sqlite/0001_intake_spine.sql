-- The intake spine: reporters and their conversations, inbound events, reports, photos,
-- the outbox and the job queue. Times are Unix milliseconds, UTC.

-- A citizen who wrote to us. Identity is stored sealed (AEAD) and found by a keyed hash
-- (PRIVACY.md P6): the business-scoped user id when WhatsApp sends one, else the number.
CREATE TABLE reporters (
    id              INTEGER PRIMARY KEY,
    key_hash        TEXT    NOT NULL UNIQUE,
    phone_enc       BLOB,
    user_id_enc     BLOB,
    lang            TEXT    NOT NULL DEFAULT 'de',
    notice_version  TEXT,
    notice_sent_at  INTEGER,
    opted_out_at    INTEGER,
    last_inbound_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

-- One conversation per reporter: the report being put together, as JSON.
CREATE TABLE conversations (
    reporter_id INTEGER PRIMARY KEY REFERENCES reporters (id),
    draft       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Every message received, once (providers redeliver), sealed because it carries the sender's
-- number. kind 'invalid' keeps what could not be read, with the reason, so nothing is lost.
CREATE TABLE inbound_events (
    id           INTEGER PRIMARY KEY,
    channel      TEXT    NOT NULL,
    provider_id  TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload_enc  BLOB    NOT NULL,
    error        TEXT,
    reporter_id  INTEGER REFERENCES reporters (id),
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    UNIQUE (channel, provider_id)
);
CREATE INDEX inbound_events_reporter ON inbound_events (reporter_id, id);

-- Reference numbers M-<year>-<number> count per year.
CREATE TABLE reference_counters (
    year        INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);

CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    reference       TEXT    NOT NULL UNIQUE,
    reporter_id     INTEGER REFERENCES reporters (id),
    channel         TEXT    NOT NULL,
    description     TEXT,
    lat             REAL    NOT NULL,
    lon             REAL    NOT NULL,
    location_source TEXT    NOT NULL,
    location_label  TEXT,
    status          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX reports_reporter ON reports (reporter_id, created_at);
CREATE INDEX reports_created ON reports (created_at);

-- Photos as announced by the channel (media id, type, checksum). Cleaning comes later; the
-- original bytes are never stored (PRIVACY.md P5).
CREATE TABLE photos (
    id          INTEGER PRIMARY KEY,
    reporter_id INTEGER NOT NULL REFERENCES reporters (id),
    report_id   INTEGER REFERENCES reports (id),
    media_id    TEXT    NOT NULL,
    mime_type   TEXT    NOT NULL,
    sha256      TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX photos_report ON photos (report_id);

-- Messages to reporters. body is the message without its recipient (resolved at send time,
-- so numbers never sit here); template is what to send instead outside the 24-hour window.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    reporter_id         INTEGER NOT NULL REFERENCES reporters (id),
    report_id           INTEGER REFERENCES reports (id),
    name                TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    template            TEXT,
    state               TEXT    NOT NULL,
    provider_message_id TEXT    UNIQUE,
    error_code          INTEGER,
    error_detail        TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    delivered_at        INTEGER,
    read_at             INTEGER,
    failed_at           INTEGER
);
CREATE INDEX outbox_reporter ON outbox (reporter_id, id);

-- The durable job queue (src/queue): claimed with a lease, retried with backoff,
-- dead-lettered after max_attempts.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_until INTEGER,
    locked_by    TEXT,
    lease_token  TEXT,
    last_error   TEXT,
    dead_at      INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE dead_at IS NULL;
