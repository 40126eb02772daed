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
    bucket   BIGINT NOT NULL,
    category TEXT   NOT NULL,
    district TEXT   NOT NULL,
    channel  TEXT   NOT NULL,
    priority TEXT   NOT NULL,
    depot    TEXT   NOT NULL,
    link     TEXT   NOT NULL,
    entries  TEXT   NOT NULL
);
CREATE INDEX stat_reports_bucket ON stat_reports (bucket);
CREATE INDEX stat_reports_groups ON stat_reports (category, district, link, bucket);

-- Work-order events by the time they happened: opened ("hour"), accepted ("hour.duration"),
-- done ("hour.duration.on_time"), rejected and forwarded ("hour"). channel is the channel of
-- the report that opened the order.
CREATE TABLE stat_orders (
    bucket   BIGINT NOT NULL,
    event    TEXT   NOT NULL,
    category TEXT   NOT NULL,
    district TEXT   NOT NULL,
    depot    TEXT   NOT NULL,
    priority TEXT   NOT NULL,
    channel  TEXT   NOT NULL,
    entries  TEXT   NOT NULL
);
CREATE INDEX stat_orders_bucket ON stat_orders (bucket);
CREATE INDEX stat_orders_groups ON stat_orders (event, category, district, priority, bucket);

CREATE TABLE stat_dirty (bucket BIGINT PRIMARY KEY);
-- One row: locked by each rebuild so two never rebuild the same bucket at once.
CREATE TABLE stat_state (id INTEGER PRIMARY KEY CHECK (id = 1), rebuilt_at BIGINT);
INSERT INTO stat_state (id, rebuilt_at) VALUES (1, NULL);

-- The buckets of every event of one work order.
CREATE FUNCTION stat_mark_order(order_id BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO stat_dirty (bucket)
    SELECT DISTINCT v.t / 604800000
    FROM work_orders o, LATERAL (VALUES (o.created_at), (o.accepted_at), (o.done_at), (o.closed_at)) AS v (t)
    WHERE o.id = order_id AND v.t IS NOT NULL
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION stat_mark(moment BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO stat_dirty (bucket) SELECT moment / 604800000 WHERE moment IS NOT NULL ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION stat_reports_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stat_mark(OLD.created_at);
        PERFORM stat_mark_order(OLD.work_order_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM stat_mark(NEW.created_at);
        PERFORM stat_mark_order(NEW.work_order_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER stat_reports_changed
AFTER INSERT OR DELETE OR UPDATE OF created_at, category, district, channel, priority, lat, lon, work_order_id, order_link
ON reports FOR EACH ROW EXECUTE FUNCTION stat_reports_changed();

CREATE FUNCTION stat_orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stat_mark(OLD.created_at);
        PERFORM stat_mark(OLD.accepted_at);
        PERFORM stat_mark(OLD.done_at);
        PERFORM stat_mark(OLD.closed_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM stat_mark_order(NEW.id);
    END IF;
    -- A report's depot is its order's.
    IF TG_OP = 'UPDATE' AND OLD.depot IS DISTINCT FROM NEW.depot THEN
        INSERT INTO stat_dirty (bucket)
        SELECT DISTINCT created_at / 604800000 FROM reports WHERE work_order_id = NEW.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER stat_orders_changed
AFTER INSERT OR DELETE OR UPDATE OF created_at, status, category, district, depot, priority, due_at, accepted_at, done_at,
    closed_at
ON work_orders FOR EACH ROW EXECUTE FUNCTION stat_orders_changed();

-- Everything recorded so far is rolled up on the first rebuild.
INSERT INTO stat_dirty (bucket)
SELECT DISTINCT t / 604800000 FROM (
    SELECT created_at AS t FROM reports UNION SELECT created_at FROM work_orders
    UNION SELECT accepted_at FROM work_orders UNION SELECT done_at FROM work_orders
    UNION SELECT closed_at FROM work_orders) AS times
WHERE t IS NOT NULL;
