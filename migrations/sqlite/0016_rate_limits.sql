-- Rate limits that survive a restart and hold across instances: how often a bucket (a keyed
-- hash of what is limited, such as one client's web-form reports) was charged in a fixed window.
-- A charge is one atomic upsert; nothing is ever given back. Rows whose window is over are
-- dropped (`expires_at`).
CREATE TABLE rate_limits (
    bucket       TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);

-- Login failures are counted per account and client address together (the delay grows for
-- that pair); an index for that.
CREATE INDEX login_failures_pair ON login_failures (account, client, at);
