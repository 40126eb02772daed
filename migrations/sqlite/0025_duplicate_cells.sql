-- The duplicate search reads the open orders near a report from the database, under locks on
-- the squares around it (issue 25), instead of a copy in every process kept current by a
-- revision counter that every triage had to lock. The revision goes; the open orders of a
-- category are found by place.
DROP INDEX work_orders_revision;
ALTER TABLE work_orders DROP COLUMN revision;
DELETE FROM counters WHERE name = 'work_orders.revision';
CREATE INDEX work_orders_open_place ON work_orders (category, lat, lon)
    WHERE status IN ('open', 'accepted', 'in_progress');
