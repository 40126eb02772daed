-- Staff corrections of a report's category: training data for the classifier. The text is not
-- copied; training reads the report's description, so deleting a description (retention,
-- erasure) also takes it out of the next model. `meldeweg classify retrain` moves the counter
-- `classifier.corrections_upto` to the newest correction; the model uses those up to it.
CREATE TABLE category_corrections (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    from_category TEXT    NOT NULL,
    to_category   TEXT    NOT NULL,
    corrected_by  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX category_corrections_report ON category_corrections (report_id);
INSERT INTO counters (name, value) VALUES ('classifier.corrections_upto', 0);
