-- Staff search (issue 23): the words of each report, for finding an order by street or by
-- what a citizen wrote. kind 'p' (place): the words of the address triage gave the report;
-- kind 't' (text): the words of the citizen's description and shared place name, deleted with
-- those texts (retention, erasure). A word is looked up by prefix on the primary key, which
-- compares bytes (COLLATE "C") so that a prefix range is exact.
CREATE TABLE search_terms (
    term      TEXT COLLATE "C" NOT NULL,
    report_id BIGINT NOT NULL REFERENCES reports (id),
    kind      TEXT   NOT NULL,
    PRIMARY KEY (term, report_id)
);
CREATE INDEX search_terms_report ON search_terms (report_id);
-- Reports before this migration are indexed by the service at start, up to this id.
INSERT INTO counters (name, value) SELECT 'search.backfill_to', COALESCE(MAX(id), 0) FROM reports;
INSERT INTO counters (name, value) VALUES ('search.backfilled', 0);
