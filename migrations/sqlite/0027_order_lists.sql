-- Lists of work orders read their page from indexes (issue 25): the board of active orders
-- from a partial index holding what it sorts and filters by, the closed orders and all
-- orders newest first by status and time. An order keeps the channel of the report that
-- opened it, so statistics filter by channel without looking up a report per order.
ALTER TABLE work_orders ADD COLUMN channel TEXT NOT NULL DEFAULT '';
UPDATE work_orders SET channel = COALESCE(
    (SELECT f.channel FROM reports f WHERE f.work_order_id = work_orders.id AND f.order_link = 'opened' LIMIT 1), '');
DROP INDEX work_orders_status;
CREATE INDEX work_orders_active ON work_orders (status, priority, created_at, id, due_at, depot, category, district)
    WHERE status IN ('open', 'accepted', 'in_progress');
CREATE INDEX work_orders_archive ON work_orders (status, created_at, id, depot, category, district);
