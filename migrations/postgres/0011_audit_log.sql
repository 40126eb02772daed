-- The audit log (PRIVACY P4, P8): every processing step of a report and its work order, and
-- every change of a reporter's consent (notice sent, STOP, START), in one hash chain. Each
-- event's hash covers its fields, the hash of its detail and the hash of the event before it,
-- so changing, inserting or removing an event breaks the chain from there on
-- (`meldeweg audit verify`). Rows are only added; the one change allowed is redaction:
-- emptying an event's `detail` (personal data), while `detail_hash` keeps the chain verifiable.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    report_id   BIGINT,
    order_id    BIGINT,
    reporter_id BIGINT,
    actor       TEXT,
    detail      TEXT,
    detail_hash TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL
);
CREATE INDEX audit_log_report ON audit_log (report_id, id);
CREATE INDEX audit_log_order ON audit_log (order_id, id);
CREATE INDEX audit_log_reporter ON audit_log (reporter_id, id);

-- The chain's end: locked by every append, so events are numbered and chained in one order.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   BIGINT NOT NULL,
    last_hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.at IS DISTINCT FROM OLD.at OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.report_id IS DISTINCT FROM OLD.report_id OR NEW.order_id IS DISTINCT FROM OLD.order_id
       OR NEW.reporter_id IS DISTINCT FROM OLD.reporter_id
       OR NEW.actor IS DISTINCT FROM OLD.actor OR NEW.detail_hash IS DISTINCT FROM OLD.detail_hash
       OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash OR NEW.hash IS DISTINCT FROM OLD.hash
       OR NEW.detail IS NOT NULL THEN
        RAISE EXCEPTION 'the audit log is append-only: only an event''s detail may be redacted';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

-- The head only moves forward.
CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    IF NEW.last_id < OLD.last_id OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'the audit log is append-only: its head only moves forward';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head
FOR EACH ROW EXECUTE FUNCTION audit_head_guard();

CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard();
