-- Deletion concept (PRIVACY P7), data-subject rights (P9) and the web form (P12).
-- Erasing a reporter keeps the row as an anonymous stand-in (their reports stay linked to it,
-- so photos still open for the Bauhof can be deleted once the order closes) without anything
-- that identifies them: key_hash becomes 'erased:<id>', the sealed number and user id go.
-- The keyed hash of the number also when the user id is the key, so staff can find a reporter
-- by the number a letter names.
ALTER TABLE reporters ADD COLUMN phone_hash TEXT;
CREATE INDEX reporters_phone_hash ON reporters (phone_hash);
ALTER TABLE reporters ADD COLUMN erased_at BIGINT;
-- A closed report past its retention period keeps what the statistics count, nothing else.
ALTER TABLE reports ADD COLUMN anonymised_at BIGINT;
-- A report from the web form may carry an e-mail address for updates, sealed like a number.
ALTER TABLE reports ADD COLUMN contact_email_enc BYTEA;
-- A raw inbound payload past its period is emptied; the row stays so a redelivery is still
-- recognised as one.
ALTER TABLE inbound_events ADD COLUMN redacted_at BIGINT;
CREATE INDEX inbound_events_unredacted ON inbound_events (received_at) WHERE redacted_at IS NULL;

-- Every retention run: when, who or what started it, and how many items of each class it deleted or
-- (dry run) would delete. Counts only, never the data.
CREATE TABLE retention_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    started_by  TEXT    NOT NULL,
    counts      TEXT    NOT NULL
);
