-- A core that no channel owns. Every reporter belongs to the channel they wrote on (all so far
-- on WhatsApp). The outbox holds reply intents, which that channel renders when it sends them,
-- for a reporter or, with no reporter, for the contact given with a report (a web-form e-mail
-- address); `window_closed_at` marks a message the channel reported outside the citizen's reply
-- window, to be sent in the channel's form for that. A place shared in a chat is a
-- 'shared_location', whatever the messenger; the report's contact is `contact_enc`.
ALTER TABLE reporters ADD COLUMN channel TEXT NOT NULL DEFAULT 'whatsapp';
UPDATE reports SET location_source = 'shared_location' WHERE location_source = 'whatsapp_location';
ALTER TABLE reports RENAME COLUMN contact_email_enc TO contact_enc;

CREATE TABLE outbox_rebuilt (
    id                  INTEGER PRIMARY KEY,
    reporter_id         INTEGER REFERENCES reporters (id),
    report_id           INTEGER REFERENCES reports (id),
    name                TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    provider_message_id TEXT    UNIQUE,
    error_code          INTEGER,
    error_detail        TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    delivered_at        INTEGER,
    read_at             INTEGER,
    failed_at           INTEGER,
    window_closed_at    INTEGER
);
INSERT INTO outbox_rebuilt (id, reporter_id, report_id, name, body, state, provider_message_id, error_code,
                            error_detail, created_at, sent_at, delivered_at, read_at, failed_at)
SELECT id, reporter_id, report_id, name, body, state, provider_message_id, error_code, error_detail, created_at,
       sent_at, delivered_at, read_at, failed_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_reporter ON outbox (reporter_id, id);
CREATE INDEX outbox_report ON outbox (report_id, id);
