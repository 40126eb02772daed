-- A core that no channel owns. Every reporter belongs to the channel they wrote on (all so far
-- on WhatsApp). The outbox holds reply intents, which that channel renders when it sends them,
-- for a reporter or, with no reporter, for the contact given with a report (a web-form e-mail
-- address); `window_closed_at` marks a message the channel reported outside the citizen's reply
-- window, to be sent in the channel's form for that. A place shared in a chat is a
-- 'shared_location', whatever the messenger; the report's contact is `contact_enc`.
ALTER TABLE reporters ADD COLUMN channel TEXT NOT NULL DEFAULT 'whatsapp';
UPDATE reports SET location_source = 'shared_location' WHERE location_source = 'whatsapp_location';
ALTER TABLE reports RENAME COLUMN contact_email_enc TO contact_enc;

ALTER TABLE outbox ALTER COLUMN reporter_id DROP NOT NULL;
ALTER TABLE outbox DROP COLUMN template;
ALTER TABLE outbox ADD COLUMN window_closed_at BIGINT;
CREATE INDEX outbox_report ON outbox (report_id, id);
