-- Reports handed over to another body's system (Open311, issue 24): the body's id for the
-- report once it took it, and how it stood when last looked at. A row exists only for reports
-- routed to a body that has a system configured.
CREATE TABLE forwarded_requests (
    report_id     INTEGER PRIMARY KEY REFERENCES reports (id),
    body          TEXT    NOT NULL,
    remote_id     TEXT,
    closed        INTEGER NOT NULL DEFAULT 0,
    notes         TEXT,
    forwarded_at  INTEGER NOT NULL,
    checked_at    INTEGER,
    closed_at     INTEGER
);
