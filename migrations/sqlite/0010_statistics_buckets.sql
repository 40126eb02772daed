-- Statistics roll-ups packed by the service (issue 7): one row per week-long bucket holding
-- that bucket's reports and work-order events, grouped by the figures' groups and filters and
-- packed in a compact binary form (src/stats/entries.rs). A year is read as about 53 rows, with
-- no grouping or concatenation in SQL. The triggers of migration 0009 still mark the buckets a
-- change touches in stat_dirty; the statistics rebuild those before they read.
DROP TABLE stat_reports;
DROP TABLE stat_orders;
CREATE TABLE stat_buckets (
    bucket  INTEGER PRIMARY KEY,
    reports BLOB    NOT NULL,
    orders  BLOB    NOT NULL
);

-- Everything recorded so far is rolled up again on the first rebuild.
INSERT OR IGNORE INTO stat_dirty (bucket) SELECT created_at / 604800000 FROM reports;
INSERT OR IGNORE INTO stat_dirty (bucket) SELECT t / 604800000 FROM stat_order_times;
