-- A reporter who asked for erasure (P9) differs from one whose contact data merely expired
-- (P7): only the first has their photos deleted as soon as each report closes.
ALTER TABLE reporters ADD COLUMN erasure_requested_at INTEGER;
-- The language a web-form citizen used, for the e-mail updates (P12).
ALTER TABLE reports ADD COLUMN contact_lang TEXT;
-- Erasures done before this column existed were all requests (retention did not erase yet).
UPDATE reporters SET erasure_requested_at = erased_at
WHERE id IN (SELECT reporter_id FROM audit_log WHERE kind = 'reporter.erased');
