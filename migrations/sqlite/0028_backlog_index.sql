-- The statistics' backlog (orders never closed) is read from its index alone (issue 25): the
-- partial index of open orders holds what the backlog groups and filters by.
DROP INDEX work_orders_open;
CREATE INDEX work_orders_open ON work_orders (created_at, status, category, district, depot, priority, channel, address)
    WHERE closed_at IS NULL;
