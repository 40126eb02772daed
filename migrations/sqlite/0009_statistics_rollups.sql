-- Statistics from roll-ups (issue 7): per week-long bucket (604,800,000 ms of UTC time) and per
-- combination of the figures' groups and filters, the bucket's reports and work-order events
-- packed as text (each entry its hour in the bucket and the values the figures need). The
-- roll-ups are rebuilt from the raw rows for every bucket in stat_dirty, which the triggers
-- below fill in the same transaction as any change that could alter a figure; the statistics
-- rebuild those buckets before they read, so the figures always equal the raw rows.

-- The covering indexes of migration 0007 are no longer read; narrow ones serve the rebuild.
DROP INDEX reports_statistics;
DROP INDEX work_orders_created;
DROP INDEX work_orders_accepted;
DROP INDEX work_orders_done;
DROP INDEX work_orders_closed;
CREATE INDEX work_orders_created ON work_orders (created_at);
CREATE INDEX work_orders_accepted ON work_orders (accepted_at);
CREATE INDEX work_orders_done ON work_orders (done_at);
CREATE INDEX work_orders_closed ON work_orders (closed_at);
-- The backlog: orders never closed.
CREATE INDEX work_orders_open ON work_orders (created_at) WHERE closed_at IS NULL;

-- Reports received: entries "hour.cell_lat.cell_lon". Missing values are ''.
CREATE TABLE stat_reports (
    bucket   INTEGER NOT NULL,
    category TEXT    NOT NULL,
    district TEXT    NOT NULL,
    channel  TEXT    NOT NULL,
    priority TEXT    NOT NULL,
    depot    TEXT    NOT NULL,
    link     TEXT    NOT NULL,
    entries  TEXT    NOT NULL
);
CREATE INDEX stat_reports_bucket ON stat_reports (bucket);
CREATE INDEX stat_reports_groups ON stat_reports (category, district, link, bucket);

-- Work-order events by the time they happened: opened ("hour"), accepted ("hour.duration"),
-- done ("hour.duration.on_time"), rejected and forwarded ("hour"). channel is the channel of
-- the report that opened the order.
CREATE TABLE stat_orders (
    bucket   INTEGER NOT NULL,
    event    TEXT    NOT NULL,
    category TEXT    NOT NULL,
    district TEXT    NOT NULL,
    depot    TEXT    NOT NULL,
    priority TEXT    NOT NULL,
    channel  TEXT    NOT NULL,
    entries  TEXT    NOT NULL
);
CREATE INDEX stat_orders_bucket ON stat_orders (bucket);
CREATE INDEX stat_orders_groups ON stat_orders (event, category, district, priority, bucket);

CREATE TABLE stat_dirty (bucket INTEGER PRIMARY KEY);
-- One row: locked by each rebuild so two never rebuild the same bucket at once.
CREATE TABLE stat_state (id INTEGER PRIMARY KEY CHECK (id = 1), rebuilt_at INTEGER);
INSERT INTO stat_state (id, rebuilt_at) VALUES (1, NULL);

-- Every event time of every work order, for marking the buckets of an order.
CREATE VIEW stat_order_times (id, t) AS
    SELECT id, created_at FROM work_orders
    UNION ALL SELECT id, accepted_at FROM work_orders WHERE accepted_at IS NOT NULL
    UNION ALL SELECT id, done_at FROM work_orders WHERE done_at IS NOT NULL
    UNION ALL SELECT id, closed_at FROM work_orders WHERE closed_at IS NOT NULL;

-- A report's bucket, and its order's (the order's figures carry the channel of the report
-- that opened it).
CREATE TRIGGER stat_reports_inserted AFTER INSERT ON reports BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket) VALUES (NEW.created_at / 604800000);
    INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times WHERE id = NEW.work_order_id;
END;

CREATE TRIGGER stat_reports_updated
AFTER UPDATE OF created_at, category, district, channel, priority, lat, lon, work_order_id, order_link ON reports BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket) VALUES (OLD.created_at / 604800000), (NEW.created_at / 604800000);
    INSERT OR IGNORE INTO stat_dirty (bucket)
        SELECT t / 604800000 FROM stat_order_times WHERE id IN (OLD.work_order_id, NEW.work_order_id);
END;

CREATE TRIGGER stat_reports_deleted AFTER DELETE ON reports BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket) VALUES (OLD.created_at / 604800000);
    INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times WHERE id = OLD.work_order_id;
END;

CREATE TRIGGER stat_orders_inserted AFTER INSERT ON work_orders BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times WHERE id = NEW.id;
END;

CREATE TRIGGER stat_orders_updated
AFTER UPDATE OF created_at, status, category, district, depot, priority, due_at, accepted_at, done_at, closed_at
ON work_orders BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket)
        SELECT t / 604800000 FROM (
            SELECT OLD.created_at AS t UNION SELECT OLD.accepted_at UNION SELECT OLD.done_at UNION SELECT OLD.closed_at)
        WHERE t IS NOT NULL;
    INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times WHERE id = NEW.id;
    -- A report's depot is its order's.
    INSERT OR IGNORE INTO stat_dirty (bucket)
        SELECT created_at / 604800000 FROM reports WHERE work_order_id = NEW.id AND OLD.depot IS NOT NEW.depot;
END;

CREATE TRIGGER stat_orders_deleted AFTER DELETE ON work_orders BEGIN
    INSERT OR IGNORE INTO stat_dirty (bucket)
        SELECT t / 604800000 FROM (
            SELECT OLD.created_at AS t UNION SELECT OLD.accepted_at UNION SELECT OLD.done_at UNION SELECT OLD.closed_at)
        WHERE t IS NOT NULL;
END;

-- Everything recorded so far is rolled up on the first rebuild.
INSERT OR IGNORE INTO stat_dirty (bucket) SELECT created_at / 604800000 FROM reports;
INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times;
