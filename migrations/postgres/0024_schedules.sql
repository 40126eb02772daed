-- Scheduled work that runs once across all instances sharing the database (issue 25): each
-- schedule is a row; an instance takes its turn by setting holder and held_until in one UPDATE,
-- renews the hold while it works, and sets the next turn when done. An instance that dies
-- mid-run leaves a hold that expires, and another instance takes the turn over.
CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    holder      TEXT,
    held_until  BIGINT NOT NULL DEFAULT 0,
    runs        BIGINT NOT NULL DEFAULT 0,
    last_run_at BIGINT
);
