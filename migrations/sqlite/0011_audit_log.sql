-- The audit log (PRIVACY P4, P8): every processing step of a report and its work order, and
-- every change of a reporter's consent (notice sent, STOP, START), in one hash chain. Each
-- event's hash covers its fields, the hash of its detail and the hash of the event before it,
-- so changing, inserting or removing an event breaks the chain from there on
-- (`meldeweg audit verify`). Rows are only added; the one change allowed is redaction:
-- emptying an event's `detail` (personal data), while `detail_hash` keeps the chain verifiable.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    report_id   INTEGER,
    order_id    INTEGER,
    reporter_id INTEGER,
    actor       TEXT,
    detail      TEXT,
    detail_hash TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_log_report ON audit_log (report_id, id);
CREATE INDEX audit_log_order ON audit_log (order_id, id);
CREATE INDEX audit_log_reporter ON audit_log (reporter_id, id);

-- The chain's end: locked by every append, so events are numbered and chained in one order.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_append_only BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_redaction_only BEFORE UPDATE ON audit_log
WHEN NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.kind IS NOT OLD.kind
  OR NEW.report_id IS NOT OLD.report_id OR NEW.order_id IS NOT OLD.order_id OR NEW.reporter_id IS NOT OLD.reporter_id
  OR NEW.actor IS NOT OLD.actor
  OR NEW.detail_hash IS NOT OLD.detail_hash OR NEW.prev_hash IS NOT OLD.prev_hash OR NEW.hash IS NOT OLD.hash
  OR NEW.detail IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only an event''s detail may be redacted');
END;

-- The head only moves forward.
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.last_id < OLD.last_id OR NEW.id IS NOT OLD.id
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its head only moves forward');
END;

CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_head BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
