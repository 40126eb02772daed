-- The statistics' channel filter asks, per work order, for the report that opened it.
CREATE INDEX reports_opening ON reports (work_order_id, order_link, channel);
