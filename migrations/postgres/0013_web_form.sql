-- The web form (PRIVACY P12): a report and its photo may come without a reporter (no chat, no
-- number), so a photo's reporter becomes optional.
ALTER TABLE photos ALTER COLUMN reporter_id DROP NOT NULL;
