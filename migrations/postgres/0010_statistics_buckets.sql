-- Statistics roll-ups packed by the service (issue 7): one row per week-long bucket holding
-- that bucket's reports and work-order events, grouped by the figures' groups and filters and
-- packed in a compact binary form (src/stats/entries.rs). A year is read as about 53 rows, with
-- no grouping or concatenation in SQL. The triggers of migration 0009 still mark the buckets a
-- change touches in stat_dirty; the statistics rebuild those before they read.
DROP TABLE stat_reports;
DROP TABLE stat_orders;
CREATE TABLE stat_buckets (
    bucket  BIGINT PRIMARY KEY,
    reports BYTEA  NOT NULL,
    orders  BYTEA  NOT NULL
);

-- Everything recorded so far is rolled up again on the first rebuild.
INSERT INTO stat_dirty (bucket)
SELECT DISTINCT t / 604800000 FROM (
    SELECT created_at AS t FROM reports UNION SELECT created_at FROM work_orders
    UNION SELECT accepted_at FROM work_orders UNION SELECT done_at FROM work_orders
    UNION SELECT closed_at FROM work_orders) AS times
WHERE t IS NOT NULL
ON CONFLICT DO NOTHING;
