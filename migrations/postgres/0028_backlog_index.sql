-- Read from indexes alone (issue 25): the statistics' backlog (orders never closed) from the
-- partial index of open orders, which now holds what the backlog groups and filters by; the
-- list of all orders, newest first, from the index by creation time, which now holds the id
-- and what the list filters by (SQLite's indexes hold the row id already).
DROP INDEX work_orders_open;
CREATE INDEX work_orders_open ON work_orders (created_at)
    INCLUDE (status, category, district, depot, priority, channel, address) WHERE closed_at IS NULL;
DROP INDEX work_orders_created;
CREATE INDEX work_orders_created ON work_orders (created_at, id) INCLUDE (status, depot, category, district);
