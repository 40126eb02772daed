-- Leased jobs by lease end: finding the next lease to expire and the abandoned jobs must not
-- scan a long queue.
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE dead_at IS NULL AND locked_until IS NOT NULL;
