-- The web form (PRIVACY P12): a report and its photo may come without a reporter (no chat, no
-- number), so a photo's reporter becomes optional. SQLite cannot drop NOT NULL in place: the
-- table is rebuilt with the same rows and indexes.
CREATE TABLE photos_rebuilt (
    id           INTEGER PRIMARY KEY,
    reporter_id  INTEGER REFERENCES reporters (id),
    report_id    INTEGER REFERENCES reports (id),
    media_id     TEXT    NOT NULL,
    mime_type    TEXT    NOT NULL,
    sha256       TEXT,
    received_at  INTEGER NOT NULL,
    token        TEXT,
    width        INTEGER,
    height       INTEGER,
    clean_sha256 TEXT,
    gps_lat      REAL,
    gps_lon      REAL,
    taken_at     TEXT
);
INSERT INTO photos_rebuilt (id, reporter_id, report_id, media_id, mime_type, sha256, received_at, token, width,
                            height, clean_sha256, gps_lat, gps_lon, taken_at)
SELECT id, reporter_id, report_id, media_id, mime_type, sha256, received_at, token, width, height, clean_sha256,
       gps_lat, gps_lon, taken_at
FROM photos;
DROP TABLE photos;
ALTER TABLE photos_rebuilt RENAME TO photos;
CREATE INDEX photos_report ON photos (report_id);
CREATE UNIQUE INDEX photos_token ON photos (token);
