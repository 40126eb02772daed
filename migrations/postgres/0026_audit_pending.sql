-- On PostgreSQL audit events are appended unchained by the transaction that takes the step, without waiting
-- for any other, and chained shortly after their commit by one sealer at a time, in the order
-- it finds them (issue 25). Until then they wait here; `audit verify`, the export of a report's
-- history and redaction seal first.
CREATE TABLE audit_pending (
    seq         BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    report_id   BIGINT,
    order_id    BIGINT,
    reporter_id BIGINT,
    actor       TEXT,
    detail      TEXT   NOT NULL
);
