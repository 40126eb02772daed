-- On PostgreSQL audit events are appended unchained by the transaction that takes the step,
-- without waiting for any other, and chained shortly after their commit by one sealer at a time
-- (issue 25). SQLite has one writer and chains each event at once, so this table, kept for the
-- same schema on both, stays empty here.
CREATE TABLE audit_pending (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    report_id   INTEGER,
    order_id    INTEGER,
    reporter_id INTEGER,
    actor       TEXT,
    detail      TEXT    NOT NULL
);
