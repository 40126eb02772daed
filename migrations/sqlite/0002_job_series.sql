-- Jobs sharing a serial_key (one citizen's messages, one citizen's replies) run one at a time,
-- in id order. Leased jobs are indexed by lease end, so finding the next lease to expire and
-- the abandoned jobs never scans a long queue.
ALTER TABLE jobs ADD COLUMN serial_key TEXT;
CREATE INDEX jobs_serial ON jobs (serial_key, id) WHERE serial_key IS NOT NULL;
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE dead_at IS NULL AND locked_until IS NOT NULL;
