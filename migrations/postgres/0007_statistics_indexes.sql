-- The statistics read a period's reports and work orders by their timestamps. The indexes
-- carry the columns the figures group by, so a period is read from the index alone.
CREATE INDEX reports_statistics ON reports (created_at, category, district, order_link, channel, priority, work_order_id, lat, lon);
CREATE INDEX work_orders_created ON work_orders (created_at, category, district, status, depot, priority);
CREATE INDEX work_orders_accepted ON work_orders (accepted_at, created_at, status, category, district, depot, priority);
CREATE INDEX work_orders_done ON work_orders (done_at, status, category, district, priority, depot, created_at, due_at);
CREATE INDEX work_orders_closed ON work_orders (closed_at, status, category, district, depot, priority);
