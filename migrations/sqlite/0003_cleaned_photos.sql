-- Cleaned photos (PRIVACY.md P5): a photo row now exists only for a cleaned image, stored
-- under an unguessable token. What was read from the original before cleaning is kept here:
-- the GPS position (it may become the report's place) and the capture time.
ALTER TABLE photos ADD COLUMN token TEXT;
ALTER TABLE photos ADD COLUMN width INTEGER;
ALTER TABLE photos ADD COLUMN height INTEGER;
ALTER TABLE photos ADD COLUMN clean_sha256 TEXT;
ALTER TABLE photos ADD COLUMN gps_lat REAL;
ALTER TABLE photos ADD COLUMN gps_lon REAL;
ALTER TABLE photos ADD COLUMN taken_at TEXT;
CREATE UNIQUE INDEX photos_token ON photos (token);
