-- Triage: where a report is, what it is, and the work order it belongs to.
--
-- A work order is one problem for one depot; every report of that problem links to it (the one
-- that opened it and the duplicates attached later). `revision` counts changes to the set of
-- open orders, so each process can keep its in-memory duplicate index current by reading only
-- the orders changed since it last looked.
CREATE TABLE work_orders (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    depot       TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    district    TEXT    NOT NULL,
    lat         REAL    NOT NULL,
    lon         REAL    NOT NULL,
    address     TEXT,
    status      TEXT    NOT NULL,
    priority    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    revision    INTEGER NOT NULL
);
CREATE INDEX work_orders_revision ON work_orders (revision);
CREATE INDEX work_orders_status ON work_orders (status, created_at);

-- Named counters: the work-order revision and the order numbers per year.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('work_orders.revision', 0);

-- What triage found out about a report. category_source: classifier | reporter | staff.
-- order_link: opened (this report opened its order) | duplicate (attached to an open one).
ALTER TABLE reports ADD COLUMN category TEXT;
ALTER TABLE reports ADD COLUMN confidence REAL;
ALTER TABLE reports ADD COLUMN category_source TEXT;
ALTER TABLE reports ADD COLUMN priority TEXT;
ALTER TABLE reports ADD COLUMN danger TEXT;
ALTER TABLE reports ADD COLUMN district TEXT;
ALTER TABLE reports ADD COLUMN address TEXT;
ALTER TABLE reports ADD COLUMN forwarded_to TEXT;
ALTER TABLE reports ADD COLUMN work_order_id INTEGER REFERENCES work_orders (id);
ALTER TABLE reports ADD COLUMN order_link TEXT;
ALTER TABLE reports ADD COLUMN triaged_at INTEGER;
CREATE INDEX reports_work_order ON reports (work_order_id);
